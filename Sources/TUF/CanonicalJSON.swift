/// OLPC canonical JSON exactly as securesystemslib's `encode_canonical` writes it, which is what TUF signatures
/// cover: no whitespace, object members sorted by code point (UTF-8 byte order is the same order), strings with
/// only `"` and `\` escaped and every other byte (control characters, non-ASCII) written raw, integers in plain
/// decimal. Floats have no canonical form and are refused.
public enum CanonicalJSON {
    public struct Unencodable: Error, CustomStringConvertible, Sendable {
        public let value: String
        public var description: String { "canonical JSON has no form for the number \(value)" }
    }

    public static func encode(_ value: TUFJSON) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4096)
        try write(value, &out)
        return out
    }

    private static func write(_ value: TUFJSON, _ out: inout [UInt8]) throws {
        switch value {
        case .null: out.append(contentsOf: Array("null".utf8))
        case .bool(let b): out.append(contentsOf: Array((b ? "true" : "false").utf8))
        case .int(let n): out.append(contentsOf: Array(String(n).utf8))
        case .number(let text):
            // Only integers beyond 64 bits reach here without a fraction or exponent; Python prints them as is.
            guard isPlainInteger(text) else { throw Unencodable(value: text) }
            out.append(contentsOf: Array(text.utf8))
        case .string(let s): writeString(s, &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (n, v) in a.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                try write(v, &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            // Byte order, not Swift's String ordering (which is not code point order).
            let sorted = o.keys.map { (Array($0.utf8), $0) }.sorted { $0.0.lexicographicallyPrecedes($1.0) }
            for (n, (_, key)) in sorted.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, &out)
                out.append(UInt8(ascii: ":"))
                try write(o[key]!, &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func writeString(_ s: String, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
            out.append(b)
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func isPlainInteger(_ text: String) -> Bool {
        let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }
}

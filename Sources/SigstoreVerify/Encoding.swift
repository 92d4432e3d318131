import Foundation
import SealgateCore

/// Small encoding helpers shared by the parsers (base64, hex, PEM, RFC 3339).
public enum Encoding {
    /// Standard base64; tolerates missing padding and the URL-safe alphabet (bundles in the wild use both).
    static func base64(_ s: String) -> Data? {
        if let d = Data(base64Encoded: s) { return d }  // fast path: canonical standard base64
        var t = s.trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        t = t.filter { !$0.isWhitespace }
        let rem = t.count % 4
        if rem == 1 { return nil }
        if rem > 0 { t += String(repeating: "=", count: 4 - rem) }
        return Data(base64Encoded: t)
    }

    public static func hex(_ bytes: some Sequence<UInt8>) -> String { Hex.lowercase(bytes) }

    static func fromHex(_ s: String) -> Data? {
        let chars = Array(s.utf8)
        guard chars.count % 2 == 0 else { return nil }
        // Into an array, then one Data: appending to a Data byte by byte cost more than the decoding.
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return Data(out)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        case 65...70: return c - 55
        default: return nil
        }
    }

    /// All PEM blocks of the given label (or any label when nil) as DER.
    static func pemBlocks(_ text: String, label: String? = nil) -> [(label: String, der: Data)] {
        var text = text
        return text.withUTF8 { bytes in
            bytes.allSatisfy { $0 < 0x80 } ? asciiPEMBlocks(bytes, label: label) : unicodePEMBlocks(String(decoding: bytes, as: UTF8.self), label: label)
        }
    }

    /// `unicodePEMBlocks` on ASCII text, read as bytes: lines end at \n, \v, \f or \r and are trimmed of spaces and
    /// tabs, as there. Foundation's trimming per line was most of the cost of reading a certificate annotation.
    private static func asciiPEMBlocks(_ text: UnsafeBufferPointer<UInt8>, label: String?) -> [(label: String, der: Data)] {
        let begin = Array("-----BEGIN ".utf8), end = Array("-----END ".utf8), dashes = Array("-----".utf8)
        var out: [(String, Data)] = []
        var current: String?
        var body: [UInt8] = []
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { (0x0A...0x0D).contains($0) }) {
            var line = raw[...]
            while let c = line.first, c == 0x20 || c == 0x09 { line = line.dropFirst() }
            while let c = line.last, c == 0x20 || c == 0x09 { line = line.dropLast() }
            if line.starts(with: begin), line.reversed().starts(with: dashes) {
                current = String(decoding: line.dropFirst(begin.count).dropLast(dashes.count), as: UTF8.self); body = []
            } else if line.starts(with: end), let cur = current {
                if label == nil || label == cur, let der = Data(base64Encoded: String(decoding: body, as: UTF8.self)) { out.append((cur, der)) }
                current = nil
            } else if current != nil {
                body.append(contentsOf: line)
            }
        }
        return out
    }

    static func unicodePEMBlocks(_ text: String, label: String?) -> [(label: String, der: Data)] {
        var out: [(String, Data)] = []
        var current: String?
        var body = ""
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("-----BEGIN "), line.hasSuffix("-----") {
                current = String(line.dropFirst(11).dropLast(5)); body = ""
            } else if line.hasPrefix("-----END "), let cur = current {
                if label == nil || label == cur, let der = Data(base64Encoded: body) { out.append((cur, der)) }
                current = nil
            } else if current != nil {
                body += line
            }
        }
        return out
    }

    /// RFC 3339 timestamps as used in trusted_root.json (optional fractional seconds).
    static func rfc3339(_ s: String) -> Date? { RFC3339.parse(s) }

    /// `ISO8601DateFormatter`'s default text (`YYYY-MM-DDTHH:MM:SSZ`, UTC, seconds rounded down), written from the civil
    /// date: a formatter per verdict cost more than an ECDSA check, and `Date.ISO8601FormatStyle` grew the resident
    /// memory by 5 MB on first use. Years outside 1583...9999 (the Julian calendar before, five digits after) take the format style.
    public static func iso8601(_ d: Date) -> String {
        let year = RFC3339.civilFromDays(Int((d.timeIntervalSince1970 / 86400).rounded(.down))).0
        return (1583...9999).contains(year) ? RFC3339.format(d) : Date.ISO8601FormatStyle().format(d)
    }
}

/// JSON helpers for the protobuf-JSON encodings Sigstore uses (int64 as string or number).
enum JSON {
    static func object(_ data: Data) throws -> [String: Any] {
        guard let obj = try? JSONSerialization.jsonObject(with: data), let dict = obj as? [String: Any] else {
            throw SigstoreError.malformedBundle("not a JSON object")
        }
        return dict
    }

    static func int64(_ v: Any?) -> Int64? {
        if let s = v as? String { return Int64(s) }
        if let n = v as? NSNumber {
            // Reject non-integral numbers.
            let d = n.doubleValue
            guard d == d.rounded(), abs(d) < 9.0e18 else { return nil }
            return n.int64Value
        }
        return nil
    }
}

extension Encoding {
    /// Public hex decoder for CLI digests (sha256:<hex>).
    public static func hexDigest(_ s: String) -> Data? { fromHex(s) }
}

import SealgateCore

/// TUF metadata as `TUFJSON`, read with the strict `JSONScanner`: metadata is attacker-supplied until its signatures
/// check out, and the bytes we canonicalize must mean exactly one thing, so a duplicate member name is an error too.
public enum JSONParser {
    public typealias Failure = JSONScanner.Failure

    public static let maxDepth = 100

    public static func parse(_ data: some Sequence<UInt8>) throws -> TUFJSON {
        var scanner = try JSONScanner(Array(data), maxDepth: maxDepth)
        let value = try self.value(&scanner)
        try scanner.finish()
        return value
    }

    private static func value(_ s: inout JSONScanner) throws -> TUFJSON {
        switch try s.peek() {
        case .object:
            var o = JSONObject()
            try s.readObject { s, key in
                guard o[key] == nil else { throw s.fail("duplicate member name \"\(key)\"") }
                o[key] = try value(&s)
            }
            return .object(o)
        case .array:
            var a: [TUFJSON] = []
            try s.readArray { s in a.append(try value(&s)) }
            return .array(a)
        case .string: return .string(try s.readString())
        case .number:
            let (text, integral) = try s.readNumber()
            if integral, let n = Int64(text) { return .int(n) }
            return .number(String(text))
        case .bool: return .bool(try s.readBool())
        case .null: try s.readNull(); return .null
        }
    }
}

/// cel-go's strings extension: charAt, indexOf, lastIndexOf, lowerAscii, upperAscii, replace, split,
/// substring, trim, join, reverse, strings.quote and format (StringFormat.swift). Indexes count code points.
enum StringsExtension {
    static var functions: [CELFunction] {
        var f: [CELFunction] = []
        f.append(receiver("charAt", 2) { call in
            guard case .string(let s) = call.args[0], case .int(let i) = call.args[1] else { return nil }
            let chars = Array(s.unicodeScalars)
            guard i >= 0, i <= Int64(chars.count) else { throw CELError.eval("index out of range: \(i)") }
            return .string(i == Int64(chars.count) ? "" : String(chars[Int(i)]))
        })
        for name in ["indexOf", "lastIndexOf"] {
            for arity in [2, 3] {
                f.append(receiver(name, arity) { call in
                    guard case .string(let s) = call.args[0], case .string(let sub) = call.args[1] else { return nil }
                    let hay = Array(s.unicodeScalars), needle = Array(sub.unicodeScalars)
                    var offset: Int64 = name == "indexOf" ? 0 : Int64(hay.count)
                    if arity == 3 {
                        guard case .int(let o) = call.args[2] else { return nil }
                        guard o >= 0, o <= Int64(hay.count) else { throw CELError.eval("index out of range: \(o)") }
                        offset = o
                    }
                    if name == "indexOf" { return .int(Int64(index(of: needle, in: hay, from: Int(offset)) ?? -1)) }
                    return .int(Int64(lastIndex(of: needle, in: hay, atOrBefore: Int(offset)) ?? -1))
                })
            }
        }
        f.append(receiver("lowerAscii", 1) { call in
            guard case .string(let s) = call.args[0] else { return nil }
            return .string(String(String.UnicodeScalarView(s.unicodeScalars.map { ($0 >= "A" && $0 <= "Z") ? Unicode.Scalar(UInt8($0.value + 32)) : $0 })))
        })
        f.append(receiver("upperAscii", 1) { call in
            guard case .string(let s) = call.args[0] else { return nil }
            return .string(String(String.UnicodeScalarView(s.unicodeScalars.map { ($0 >= "a" && $0 <= "z") ? Unicode.Scalar(UInt8($0.value - 32)) : $0 })))
        })
        for arity in [3, 4] {
            f.append(receiver("replace", arity) { call in
                guard case .string(let s) = call.args[0], case .string(let old) = call.args[1], case .string(let new) = call.args[2] else { return nil }
                var limit: Int64 = -1
                if arity == 4 { guard case .int(let n) = call.args[3] else { return nil }; limit = n }
                return .string(try replace(s, old, new, limit: limit, limits: call.limits))
            })
        }
        for arity in [2, 3] {
            f.append(receiver("split", arity) { call in
                guard case .string(let s) = call.args[0], case .string(let sep) = call.args[1] else { return nil }
                var limit: Int64 = -1
                if arity == 3 { guard case .int(let n) = call.args[2] else { return nil }; limit = n }
                return .list(split(s, sep, limit: limit).map { .string($0) })
            })
        }
        for arity in [2, 3] {
            f.append(receiver("substring", arity) { call in
                guard case .string(let s) = call.args[0], case .int(let start) = call.args[1] else { return nil }
                let chars = Array(s.unicodeScalars)
                var end = Int64(chars.count)
                if arity == 3 { guard case .int(let e) = call.args[2] else { return nil }; end = e }
                guard start >= 0, start <= Int64(chars.count) else { throw CELError.eval("index out of range: \(start)") }
                guard end >= 0, end <= Int64(chars.count) else { throw CELError.eval("index out of range: \(end)") }
                guard start <= end else { throw CELError.eval("invalid substring range. start: \(start), end: \(end)") }
                return .string(String(String.UnicodeScalarView(chars[Int(start)..<Int(end)])))
            })
        }
        f.append(receiver("trim", 1) { call in
            guard case .string(let s) = call.args[0] else { return nil }
            let chars = Array(s.unicodeScalars)
            guard let first = chars.firstIndex(where: { !isSpace($0) }), let last = chars.lastIndex(where: { !isSpace($0) }) else {
                return .string("")
            }
            return .string(String(String.UnicodeScalarView(chars[first...last])))
        })
        for arity in [1, 2] {
            f.append(receiver("join", arity) { call in
                guard case .list(let l) = call.args[0] else { return nil }
                var sep = ""
                if arity == 2 { guard case .string(let s) = call.args[1] else { return nil }; sep = s }
                var parts: [String] = []
                for v in l {
                    guard case .string(let s) = v else { throw CELError.eval("join: list element of type \(v.type.name) is not a string") }
                    parts.append(s)
                }
                return .string(parts.joined(separator: sep))
            })
        }
        f.append(receiver("reverse", 1) { call in
            guard case .string(let s) = call.args[0] else { return nil }
            return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed())))
        })
        f.append(CELFunction("strings.quote", arity: 1) { call in
            guard case .string(let s) = call.args[0] else { return nil }
            return .string(quote(s))
        })
        f.append(receiver("format", 2) { call in
            guard case .string(let s) = call.args[0], case .list(let args) = call.args[1] else { return nil }
            return .string(try StringFormat.format(s, args))
        })
        return f
    }

    private static func receiver(_ name: String, _ arity: Int, _ body: @escaping CELFunction.Implementation) -> CELFunction {
        CELFunction(name, receiver: true, arity: arity, body)
    }

    static func index(of needle: [Unicode.Scalar], in hay: [Unicode.Scalar], from start: Int) -> Int? {
        if needle.isEmpty { return start }
        guard hay.count >= needle.count, start <= hay.count - needle.count else { return nil }
        for i in start...(hay.count - needle.count) where hay[i] == needle[0] {
            if hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
        }
        return nil
    }

    static func lastIndex(of needle: [Unicode.Scalar], in hay: [Unicode.Scalar], atOrBefore start: Int) -> Int? {
        if needle.isEmpty { return start }
        guard hay.count >= needle.count else { return nil }
        var i = min(start, hay.count - needle.count)
        while i >= 0 {
            if hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i -= 1
        }
        return nil
    }

    /// Go's unicode.IsSpace, which strings.TrimSpace uses.
    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    static func replace(_ s: String, _ old: String, _ new: String, limit: Int64, limits: CELLimits) throws -> String {
        let hay = Array(s.unicodeScalars), needle = Array(old.unicodeScalars), replacement = Array(new.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0, done: Int64 = 0, bytes = 0
        let newBytes = new.utf8.count
        while i <= hay.count {
            if limit >= 0, done >= limit { break }
            guard let at = index(of: needle, in: hay, from: i) else { break }
            out.append(contentsOf: hay[i..<at])
            out.append(contentsOf: replacement)
            bytes += (at - i) * 4 + newBytes
            try limits.checkString(bytes)
            done += 1
            if needle.isEmpty {
                // An empty pattern matches before every code point (and at the end), as Go's strings.Replace.
                if at < hay.count { out.append(hay[at]) }
                i = at + 1
            } else {
                i = at + needle.count
            }
        }
        if i < hay.count { out.append(contentsOf: hay[i...]) }
        return String(out)
    }

    /// Go's strings.SplitN: limit 0 → none, negative → all, else at most `limit` parts.
    static func split(_ s: String, _ sep: String, limit: Int64) -> [String] {
        if limit == 0 { return [] }
        var parts: [String] = []
        if sep.isEmpty {
            let hay = Array(s.unicodeScalars)
            for (n, c) in hay.enumerated() {
                if limit > 0, Int64(parts.count) == limit - 1 {
                    parts.append(String(String.UnicodeScalarView(hay[n...])))
                    return parts
                }
                parts.append(String(c))
            }
            return parts
        }
        // A non-empty separator splits the same on UTF-8 bytes as on code points, without re-encoding.
        let bytes = Array(s.utf8), sepBytes = Array(sep.utf8)
        var i = 0
        while limit < 0 || Int64(parts.count) < limit - 1, let at = byteIndex(of: sepBytes, in: bytes, from: i) {
            parts.append(String(decoding: bytes[i..<at], as: UTF8.self))
            i = at + sepBytes.count
        }
        parts.append(String(decoding: bytes[i...], as: UTF8.self))
        return parts
    }

    private static func byteIndex(of needle: [UInt8], in hay: [UInt8], from start: Int) -> Int? {
        guard hay.count >= needle.count, start <= hay.count - needle.count else { return nil }
        for i in start...(hay.count - needle.count) where hay[i] == needle[0] {
            if hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
        }
        return nil
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\u{07}": out += "\\a"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{0B}": out += "\\v"
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}

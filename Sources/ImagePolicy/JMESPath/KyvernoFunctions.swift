import Foundation

/// Kyverno's JMESPath extensions (kyverno pkg/engine/jmespath); time, semver, YAML and the rest in KyvernoMoreFunctions.
enum KyvernoFunctions {
    typealias F = JMESFunctionTable.Function
    typealias A = JMESArgs

    static func regex(_ fn: String, _ pattern: String) throws(JMESPathError) -> Regex<AnyRegexOutput> {
        do { return try Regex(pattern) } catch {
            throw JMESPathError(kind: .invalidValue, message: "\(fn)(): invalid regular expression \"\(pattern)\"")
        }
    }

    /// Kyverno accepts numbers where a string is expected in regex functions.
    static func stringish(_ fn: String, _ a: [JMESArg], _ i: Int) throws(JMESPathError) -> String {
        switch try A.value(fn, a, i) {
        case .string(let s): return s
        case .number(let n): return JSONValue.format(n)
        default: throw A.typeError(fn, i, "a string or number", a[i])
        }
    }

    static func arithmetic(_ fn: String, _ op: @escaping @Sendable (Double, Double) throws(JMESPathError) -> Double) -> F {
        F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            .number(try op(try A.number(fn, a, 0), try A.number(fn, a, 1)))
        }
    }

    static let all: [String: F] = [
        "compare": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            let x = try A.string("compare", a, 0), y = try A.string("compare", a, 1)
            return .number(x == y ? 0 : (x < y ? -1 : 1))
        },
        "equal_fold": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            .bool((try A.string("equal_fold", a, 0)).lowercased() == (try A.string("equal_fold", a, 1)).lowercased())
        },
        "replace": F(minArgs: 4, maxArgs: 4) { a, _ throws(JMESPathError) in
            let s = try A.string("replace", a, 0), old = try A.string("replace", a, 1), new = try A.string("replace", a, 2)
            var n = Int(try A.number("replace", a, 3))
            if n < 0 { return .string(s.replacingOccurrences(of: old, with: new)) }
            var out = s[...], result = ""
            while n > 0, let r = out.range(of: old) {
                result += out[..<r.lowerBound] + new
                out = out[r.upperBound...]
                n -= 1
            }
            return .string(result + out)
        },
        "replace_all": F(minArgs: 3, maxArgs: 3) { a, _ throws(JMESPathError) in
            .string((try A.string("replace_all", a, 0)).replacingOccurrences(of: try A.string("replace_all", a, 1), with: try A.string("replace_all", a, 2)))
        },
        "to_upper": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in .string((try A.string("to_upper", a, 0)).uppercased()) },
        "to_lower": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in .string((try A.string("to_lower", a, 0)).lowercased()) },
        "trim": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            let cut = Set(try A.string("trim", a, 1))
            return .string(String((try A.string("trim", a, 0)).drop(while: { cut.contains($0) }).reversed().drop(while: { cut.contains($0) }).reversed()))
        },
        "trim_prefix": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            let s = try A.string("trim_prefix", a, 0), p = try A.string("trim_prefix", a, 1)
            return .string(s.hasPrefix(p) ? String(s.dropFirst(p.count)) : s)
        },
        "regex_match": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            let re = try regex("regex_match", try A.string("regex_match", a, 0))
            return .bool((try stringish("regex_match", a, 1)).contains(re))
        },
        "regex_replace_all": F(minArgs: 3, maxArgs: 3) { a, _ throws(JMESPathError) in
            let pattern = try A.string("regex_replace_all", a, 0)
            let src = try stringish("regex_replace_all", a, 1), rep = try stringish("regex_replace_all", a, 2)
            guard let ns = try? NSRegularExpression(pattern: pattern) else {
                throw JMESPathError(kind: .invalidValue, message: "regex_replace_all(): invalid regular expression \"\(pattern)\"")
            }
            // Go's $1 / ${1} expansion maps to NSRegularExpression's $1.
            let template = rep.replacingOccurrences(of: "${", with: "$").replacingOccurrences(of: "}", with: "")
            return .string(ns.stringByReplacingMatches(in: src, range: NSRange(src.startIndex..., in: src), withTemplate: template))
        },
        "regex_replace_all_literal": F(minArgs: 3, maxArgs: 3) { a, _ throws(JMESPathError) in
            let re = try regex("regex_replace_all_literal", try A.string("regex_replace_all_literal", a, 0))
            let src = try stringish("regex_replace_all_literal", a, 1), rep = try stringish("regex_replace_all_literal", a, 2)
            return .string(src.replacing(re, with: rep))
        },
        "label_match": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            let sel = try A.object("label_match", a, 0), labels = try A.object("label_match", a, 1)
            return .bool(sel.allSatisfy { labels[$0.key] == $0.value })
        },
        "base64_decode": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in
            guard let d = Data(base64Encoded: try A.string("base64_decode", a, 0)), let s = String(data: d, encoding: .utf8) else {
                throw JMESPathError(kind: .invalidValue, message: "base64_decode(): invalid base64 text")
            }
            return .string(s)
        },
        "base64_encode": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in
            .string(Data((try A.string("base64_encode", a, 0)).utf8).base64EncodedString())
        },
        "parse_json": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in
            guard let v = try? JSONValue.parse(try A.string("parse_json", a, 0)) else {
                throw JMESPathError(kind: .invalidValue, message: "parse_json(): invalid JSON")
            }
            return v
        },
        "lookup": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            switch (try A.value("lookup", a, 0), try A.value("lookup", a, 1)) {
            case (.object(let o), .string(let k)): return o[k] ?? .null
            case (.array(let arr), .number(let n)):
                let i = Int(n)
                return i >= 0 && i < arr.count ? arr[i] : .null
            default: throw A.typeError("lookup", 0, "an object with a string key or an array with an index", a[0])
            }
        },
        "items": F(minArgs: 3, maxArgs: 3) { a, _ throws(JMESPathError) in
            let kn = try A.string("items", a, 1), vn = try A.string("items", a, 2)
            switch try A.value("items", a, 0) {
            case .object(let o): return .array(o.keys.sorted().map { .object([kn: .string($0), vn: o[$0]!]) })
            case .array(let arr): return .array(arr.enumerated().map { .object([kn: .number(Double($0.offset)), vn: $0.element]) })
            default: throw A.typeError("items", 0, "an object or array", a[0])
            }
        },
        "add": arithmetic("add") { x, y throws(JMESPathError) in x + y },
        "subtract": arithmetic("subtract") { x, y throws(JMESPathError) in x - y },
        "multiply": arithmetic("multiply") { x, y throws(JMESPathError) in x * y },
        "divide": arithmetic("divide") { x, y throws(JMESPathError) in
            guard y != 0 else { throw JMESPathError(kind: .invalidValue, message: "divide(): division by zero") }
            return x / y
        },
    ]
}

/// RFC 3339 timestamps (with optional fractional seconds).
enum RFC3339 {
    static func parse(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: s)
    }
    static func format(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: d)
    }
}

/// Go `time.Duration` parsing and formatting (`1h2m3.5s`).
public enum GoDuration {
    static let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("μs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]

    /// Seconds, or nil if `s` is not a Go duration.
    public static func parse(_ s: String) -> Double? {
        var rest = Substring(s)
        var sign = 1.0
        if rest.hasPrefix("-") { sign = -1; rest = rest.dropFirst() } else if rest.hasPrefix("+") { rest = rest.dropFirst() }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        while !rest.isEmpty {
            let num = rest.prefix { $0.isNumber || $0 == "." }
            guard !num.isEmpty, let n = Double(num) else { return nil }
            rest = rest.dropFirst(num.count)
            let unitText = rest.prefix { !$0.isNumber && $0 != "." }
            guard let unit = units.first(where: { $0.0 == unitText }) else { return nil }
            rest = rest.dropFirst(unitText.count)
            total += n * unit.1
        }
        return sign * total
    }

    public static func format(_ seconds: Double) -> String {
        if seconds == 0 { return "0s" }
        let neg = seconds < 0
        var s = abs(seconds)
        var out = ""
        if s < 1 {
            let ms = s * 1000
            out = ms >= 1 ? "\(trim(ms))ms" : "\(trim(ms * 1000))µs"
            return (neg ? "-" : "") + out
        }
        let h = Int(s / 3600); s -= Double(h) * 3600
        let m = Int(s / 60); s -= Double(m) * 60
        if h > 0 { out += "\(h)h" }
        if h > 0 || m > 0 { out += "\(m)m" }
        out += "\(trim(s))s"
        return (neg ? "-" : "") + out
    }

    static func trim(_ v: Double) -> String {
        var s = String(format: "%.9f", v)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }
}

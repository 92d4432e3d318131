import Foundation

/// Text forms of values: Go's shortest `%g` for doubles (what cel-go's string(double) prints),
/// and the plain rendering used by error messages and the strings extension's `%s`.
enum Format {
    /// Shortest round-trip digits and decimal exponent of a finite, non-zero double's magnitude:
    /// value = 0.d1d2d3... × 10^point.
    static func shortestDigits(_ d: Double) -> (digits: [UInt8], point: Int) {
        let text = "\(d.magnitude)"   // Swift prints the shortest round-trip form
        let parts = text.split(separator: "e")
        let mantissa = parts[0]
        let exponent = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        let intPart = mantissa.split(separator: ".", omittingEmptySubsequences: false)[0]
        var digits = Array(mantissa.utf8.filter { $0 != 46 }).map { $0 - 48 }
        var point = intPart.count + exponent
        while let f = digits.first, f == 0, digits.count > 1 { digits.removeFirst(); point -= 1 }
        while let l = digits.last, l == 0, digits.count > 1 { digits.removeLast() }
        return (digits, point)
    }

    static func goShortest(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Inf" : "+Inf" }
        if d == 0 { return d.sign == .minus ? "-0" : "0" }
        let (digits, point) = shortestDigits(d)
        let sign = d < 0 ? "-" : ""
        let exp = point - 1
        let text = digits.map { String($0) }
        // Go's %g with the shortest precision switches to an exponent from 1e+06 (and below 1e-04).
        if exp < -4 || exp >= 6 {
            var m = text[0]
            if text.count > 1 { m += "." + text[1...].joined() }
            let e = abs(exp)
            return sign + m + "e" + (exp < 0 ? "-" : "+") + (e < 10 ? "0" : "") + String(e)
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + text.joined() }
        if point >= text.count { return sign + text.joined() + String(repeating: "0", count: point - text.count) }
        return sign + text[..<point].joined() + "." + text[point...].joined()
    }

    /// Values as text with strings unquoted; map keys sorted by their text.
    static func plain(_ v: CELValue) -> String {
        switch v {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .double(let d): return goShortest(d)
        case .string(let s): return s
        case .bytes(let b): return String(decoding: b, as: UTF8.self)
        case .list(let l): return "[" + l.map(plain).joined(separator: ", ") + "]"
        case .map(let m):
            let items = m.entries.map { (plain($0.key), plain($0.value)) }.sorted { $0.0 < $1.0 }
            return "{" + items.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}"
        case .timestamp(let t): return TimeMath.format(t)
        case .duration(let d): return TimeMath.format(d)
        case .type(let t): return t.name
        case .optional(let o): return o.map { "optional(\(plain($0)))" } ?? "optional.none()"
        case .opaque(let o): return o.description
        }
    }
}

import Foundation

/// `"...".format([args])` from cel-go's strings extension: %s %d %f %e %x %X %o %b and %%,
/// with an optional precision (`%.3f`).
enum StringFormat {
    static func format(_ template: String, _ args: [CELValue]) throws -> String {
        var out = ""
        let chars = Array(template.unicodeScalars)
        var i = 0, next = 0
        while i < chars.count {
            let c = chars[i]
            i += 1
            guard c == "%" else { out.unicodeScalars.append(c); continue }
            guard i < chars.count else { throw CELError.eval("could not parse formatting clause: unexpected end of string") }
            if chars[i] == "%" { out += "%"; i += 1; continue }
            var precision: Int?
            if chars[i] == "." {
                i += 1
                var p = 0
                var any = false
                while i < chars.count, chars[i] >= "0", chars[i] <= "9", p < 1000 {
                    p = p * 10 + Int(chars[i].value - 48)
                    i += 1
                    any = true
                }
                guard any else { throw CELError.eval("could not parse formatting clause: missing precision") }
                precision = p
            }
            guard i < chars.count else { throw CELError.eval("could not parse formatting clause: unexpected end of string") }
            let verb = chars[i]
            i += 1
            guard "sdfexXob".unicodeScalars.contains(verb) else {
                throw CELError.eval("could not parse formatting clause: unrecognized formatting clause \"\(verb)\"")
            }
            guard next < args.count else { throw CELError.eval("index \(next) out of range") }
            let arg = args[next]
            next += 1
            out += try clause(verb, precision, arg)
        }
        return out
    }

    private static func fail(_ message: String, _ v: CELValue) -> CELError {
        CELError.eval("error during formatting: \(message), was given \(v.type.name)")
    }

    private static func clause(_ verb: Unicode.Scalar, _ precision: Int?, _ v: CELValue) throws -> String {
        switch verb {
        case "s":
            return try text(v)
        case "d":
            switch v {
            case .int(let i): return String(i)
            case .uint(let u): return String(u)
            case .double(let d) where !d.isFinite: return special(d)
            default: throw fail("decimal clause can only be used on integers", v)
            }
        case "f", "e":
            let name = verb == "f" ? "fixed-point clause" : "scientific clause"
            let d: Double
            switch v {
            case .double(let x): d = x
            case .int(let x): d = Double(x)
            case .uint(let x): d = Double(x)
            default: throw fail("\(name) can only be used on doubles", v)
            }
            if !d.isFinite { return special(d) }
            return String(format: "%.\(precision ?? 6)\(verb)", d)
        case "x", "X":
            let hex: String
            switch v {
            case .int(let i): hex = (i < 0 ? "-" : "") + String(i.magnitude, radix: 16)
            case .uint(let u): hex = String(u, radix: 16)
            case .string(let s): hex = Array(s.utf8).map { byteHex($0) }.joined()
            case .bytes(let b): hex = b.map { byteHex($0) }.joined()
            default: throw fail("only integers, byte buffers, and strings can be formatted as hex", v)
            }
            return verb == "X" ? hex.uppercased() : hex
        case "o":
            switch v {
            case .int(let i): return (i < 0 ? "-" : "") + String(i.magnitude, radix: 8)
            case .uint(let u): return String(u, radix: 8)
            default: throw fail("octal clause can only be used on integers", v)
            }
        default:  // "b"
            switch v {
            case .int(let i): return (i < 0 ? "-" : "") + String(i.magnitude, radix: 2)
            case .uint(let u): return String(u, radix: 2)
            case .bool(let b): return b ? "1" : "0"
            default: throw fail("only integers and bools can be formatted as binary", v)
            }
        }
    }

    private static func byteHex(_ b: UInt8) -> String {
        let s = String(b, radix: 16)
        return s.count == 1 ? "0" + s : s
    }

    private static func special(_ d: Double) -> String {
        d.isNaN ? "NaN" : (d < 0 ? "-Infinity" : "Infinity")
    }

    /// The %s rendering: strings bare, doubles shortest, containers recursively, map keys sorted.
    static func text(_ v: CELValue) throws -> String {
        switch v {
        case .double(let d) where !d.isFinite: return special(d)
        case .list(let l): return "[" + (try l.map(text)).joined(separator: ", ") + "]"
        case .map(let m):
            let items = try m.entries.map { (try text($0.key), try text($0.value)) }.sorted { $0.0 < $1.0 }
            return "{" + items.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}"
        case .optional:
            throw fail("string clause can only be used on strings, bools, bytes, ints, doubles, maps, lists, types, durations, and timestamps", v)
        default:
            return Format.plain(v)
        }
    }
}

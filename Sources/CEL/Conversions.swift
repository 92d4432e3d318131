import Foundation

/// The type-conversion functions: int, uint, double, string, bytes, bool, timestamp, duration, type, dyn.
enum Conversions {
    static let functions: [CELFunction] = [
        CELFunction("int", arity: 1) { try toInt($0.args[0]) },
        CELFunction("uint", arity: 1) { try toUint($0.args[0]) },
        CELFunction("double", arity: 1) { try toDouble($0.args[0]) },
        CELFunction("string", arity: 1) { try toString($0.args[0]) },
        CELFunction("bytes", arity: 1) { call in
            switch call.args[0] {
            case .bytes: return call.args[0]
            case .string(let s): return .bytes(Array(s.utf8))
            default: return nil
            }
        },
        CELFunction("bool", arity: 1) { call in
            switch call.args[0] {
            case .bool: return call.args[0]
            case .string(let s):
                switch s {
                case "1", "t", "true", "TRUE", "True": return .bool(true)
                case "0", "f", "false", "FALSE", "False": return .bool(false)
                default: throw CELError.eval("Type conversion error: cannot convert \"\(s)\" to bool")
                }
            default: return nil
            }
        },
        CELFunction("timestamp", arity: 1) { call in
            switch call.args[0] {
            case .timestamp: return call.args[0]
            case .string(let s): return .timestamp(try TimeMath.parseTimestamp(s))
            case .int(let i):
                guard let t = CELTimestamp(seconds: i) else { throw CELError.eval("timestamp \(i) out of range") }
                return .timestamp(t)
            default: return nil
            }
        },
        CELFunction("duration", arity: 1) { call in
            switch call.args[0] {
            case .duration: return call.args[0]
            case .string(let s): return .duration(try TimeMath.parseDuration(s))
            case .int(let i): return .duration(CELDuration(nanoseconds: i))
            default: return nil
            }
        },
        CELFunction("type", arity: 1) { .type($0.args[0].type) },
        CELFunction("dyn", arity: 1) { $0.args[0] },
    ]

    static func toInt(_ v: CELValue) throws -> CELValue? {
        switch v {
        case .int: return v
        case .uint(let u):
            guard u <= UInt64(Int64.max) else { throw CELError.eval("range error: \(u) does not fit in int") }
            return .int(Int64(u))
        case .double(let d):
            // Strictly inside (-2^63, 2^63), as cel-go: the double nearest Int64.max is 2^63 itself.
            guard d.isFinite, d > -9223372036854775808.0, d < 9223372036854775808.0 else {
                throw CELError.eval("range error: \(d) does not fit in int")
            }
            return .int(Int64(d.rounded(.towardZero)))
        case .string(let s):
            guard let i = Int64(s) else { throw CELError.eval("Type conversion error: cannot convert \"\(s)\" to int") }
            return .int(i)
        case .timestamp(let t): return .int(t.seconds)
        case .duration(let d): return .int(d.nanoseconds)
        default: return nil
        }
    }

    static func toUint(_ v: CELValue) throws -> CELValue? {
        switch v {
        case .uint: return v
        case .int(let i):
            guard i >= 0 else { throw CELError.eval("range error: \(i) does not fit in uint") }
            return .uint(UInt64(i))
        case .double(let d):
            guard d.isFinite, d > -1, d < 18446744073709551616.0 else { throw CELError.eval("range error: \(d) does not fit in uint") }
            return .uint(UInt64(d.rounded(.towardZero)))
        case .string(let s):
            guard let u = UInt64(s) else { throw CELError.eval("Type conversion error: cannot convert \"\(s)\" to uint") }
            return .uint(u)
        default: return nil
        }
    }

    static func toDouble(_ v: CELValue) throws -> CELValue? {
        switch v {
        case .double: return v
        case .int(let i): return .double(Double(i))
        case .uint(let u): return .double(Double(u))
        case .string(let s):
            guard let d = parseDouble(s) else { throw CELError.eval("Type conversion error: cannot convert \"\(s)\" to double") }
            return .double(d)
        default: return nil
        }
    }

    /// Go's ParseFloat spellings: decimal and exponent forms, inf/infinity/nan in any case.
    static func parseDouble(_ s: String) -> Double? {
        var body = Substring(s)
        var sign = 1.0
        if body.first == "+" || body.first == "-" { sign = body.first == "-" ? -1 : 1; body = body.dropFirst() }
        switch body.lowercased() {
        case "inf", "infinity": return sign * .infinity
        case "nan": return .nan
        default: break
        }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && ($0.isNumber || "eE.+-_".contains($0)) }) else { return nil }
        return Double(body).map { sign * $0 }
    }

    static func toString(_ v: CELValue) throws -> CELValue? {
        switch v {
        case .string: return v
        case .int(let i): return .string(String(i))
        case .uint(let u): return .string(String(u))
        case .double(let d): return .string(Format.goShortest(d))
        case .bool(let b): return .string(b ? "true" : "false")
        case .bytes(let b):
            guard let s = String(validating: b, as: UTF8.self) else { throw CELError.eval("invalid UTF-8 in bytes") }
            return .string(s)
        case .timestamp(let t): return .string(TimeMath.format(t))
        case .duration(let d): return .string(TimeMath.format(d))
        case .opaque(let o): return .string(o.description)
        default: return nil
        }
    }
}

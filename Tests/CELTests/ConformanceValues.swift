import CEL
import Foundation

/// cel.expr.Value in protobuf JSON form (as the conformance files hold it) to CELValue, and the strict
/// comparison the conformance runner needs (int 1 and uint 1 are different results).
enum ConformanceValues {
    struct Unsupported: Error, CustomStringConvertible { let description: String }

    static func value(_ json: Any) throws -> CELValue {
        guard let v = json as? [String: Any], let (kind, payload) = v.first, v.count == 1 else {
            throw Unsupported(description: "malformed value \(json)")
        }
        switch kind {
        case "int64_value":
            guard let i = Int64("\(payload)") else { throw Unsupported(description: "bad int64 \(payload)") }
            return .int(i)
        case "uint64_value":
            guard let u = UInt64("\(payload)") else { throw Unsupported(description: "bad uint64 \(payload)") }
            return .uint(u)
        case "double_value":
            if let n = payload as? NSNumber { return .double(n.doubleValue) }
            switch "\(payload)" {
            case "NaN": return .double(.nan)
            case "Infinity": return .double(.infinity)
            case "-Infinity": return .double(-.infinity)
            default: throw Unsupported(description: "bad double \(payload)")
            }
        case "string_value": return .string("\(payload)")
        case "bytes_value":
            guard let d = Data(base64Encoded: "\(payload)") else { throw Unsupported(description: "bad bytes \(payload)") }
            return .bytes(Array(d))
        case "bool_value": return .bool((payload as? Bool) ?? false)
        case "null_value": return .null
        case "type_value": return .type(CELType("\(payload)"))
        case "list_value":
            let values = ((payload as? [String: Any])?["values"] as? [Any]) ?? []
            return .list(try values.map(value))
        case "map_value":
            let entries = ((payload as? [String: Any])?["entries"] as? [[String: Any]]) ?? []
            return .map(try CELMap(entries.map { (try value($0["key"] ?? [:]), try value($0["value"] ?? [:])) }))
        default:
            throw Unsupported(description: "value kind \(kind) is not supported")
        }
    }

    /// Same kind and same content, recursively; NaN matches NaN.
    static func same(_ a: CELValue, _ b: CELValue) -> Bool {
        switch (a, b) {
        case (.double(let x), .double(let y)): return (x.isNaN && y.isNaN) || (x == y && x.sign == y.sign) || (x == 0 && y == 0)
        case (.list(let x), .list(let y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.map(let x), .map(let y)):
            guard x.count == y.count else { return false }
            for (k, v) in x.entries {
                guard let other = y.entries.first(where: { same($0.key, k) }), same(v, other.value) else { return false }
            }
            return true
        case (.optional(let x), .optional(let y)):
            switch (x, y) {
            case (nil, nil): return true
            case (let l?, let r?): return same(l, r)
            default: return false
            }
        case (.opaque, .opaque), (.int, .int), (.uint, .uint), (.string, .string), (.bytes, .bytes), (.bool, .bool), (.null, .null),
             (.type, .type), (.timestamp, .timestamp), (.duration, .duration):
            return CELValue.celEquals(a, b)
        default:
            return false
        }
    }
}

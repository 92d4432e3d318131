import Foundation

/// CEL values from and to JSON, so Kubernetes objects can be fed in and results printed.
extension CELValue {
    /// From a JSONSerialization result: numbers that are whole and fit become int, others double;
    /// NSNull is null. Throws on anything JSON cannot hold.
    public init(json: Any) throws {
        switch json {
        case is NSNull: self = .null
        case let s as String: self = .string(s)
        case let n as NSNumber where Swift.type(of: json) is NSNumber.Type:
            // JSONSerialization's numbers: the storage type tells booleans, integers and doubles apart.
            switch String(cString: n.objCType) {
            case "c", "B": self = .bool(n.boolValue)
            case "d", "f": self = .double(n.doubleValue)
            case "Q", "L", "I", "S", "C": self = n.uint64Value <= UInt64(Int64.max) ? .int(n.int64Value) : .uint(n.uint64Value)
            default: self = .int(n.int64Value)
            }
        // Values built in Swift rather than parsed.
        case let b as Bool: self = .bool(b)
        case let i as Int: self = .int(Int64(i))
        case let i as Int64: self = .int(i)
        case let u as UInt64: self = .uint(u)
        case let d as Double: self = .double(d)
        case let a as [Any]: self = .list(try a.map { try CELValue(json: $0) })
        case let d as [String: Any]:
            self = .map(try CELMap(d.sorted { $0.key < $1.key }.map { (.string($0.key), try CELValue(json: $0.value)) }))
        default:
            throw CELError.eval("unsupported JSON value of type \(Swift.type(of: json))")
        }
    }

    /// From JSON text (any JSON value at the top level).
    public init(jsonData: Data) throws {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: jsonData, options: [.fragmentsAllowed]) } catch {
            throw CELError.eval("invalid JSON: \(error.localizedDescription)")
        }
        try self.init(json: object)
    }

    /// A JSON-compatible rendering: timestamps RFC 3339, durations "1.5s", bytes base64, types by name,
    /// optionals as their value or null; map keys as strings. NaN and infinities become strings.
    public var jsonObject: Any {
        switch self {
        case .null: return NSNull()
        case .bool(let b): return b
        case .int(let i): return i
        case .uint(let u): return u
        case .double(let d): return d.isFinite ? d : Format.goShortest(d) as Any
        case .string(let s): return s
        case .bytes(let b): return Data(b).base64EncodedString()
        case .list(let l): return l.map(\.jsonObject)
        case .map(let m):
            var out: [String: Any] = [:]
            for (k, v) in m.entries { out[Format.plain(k)] = v.jsonObject }
            return out
        case .timestamp(let t): return TimeMath.format(t)
        case .duration(let d): return TimeMath.format(d)
        case .type(let t): return t.name
        case .optional(let o): return o?.jsonObject ?? NSNull()
        case .opaque(let o): return o.description
        }
    }

    /// JSON text of `jsonObject` (sorted keys, fragments allowed).
    public func jsonText() throws -> String {
        let data = try JSONSerialization.data(withJSONObject: jsonObject, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}

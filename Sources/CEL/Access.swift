/// Field selection, presence tests and indexing, including their optional forms.
extension Evaluator {
    func select(_ operand: CELValue, _ field: String, optional: Bool) throws -> CELValue {
        switch operand {
        case .map(let m):
            if let v = m.value(for: .string(field)) { return optional ? .optional(v) : v }
            if optional { return .optional(nil) }
            throw CELError.eval("no such key: \(field)")
        case .optional(let inner):
            // Selection through an optional stays optional: none propagates.
            guard let inner else { return .optional(nil) }
            let v = try select(inner, field, optional: true)
            return v
        default:
            throw CELError.eval("type '\(operand.type.name)' does not support field selection")
        }
    }

    func presence(_ operand: CELValue, _ field: String) throws -> CELValue {
        switch operand {
        case .map(let m): return .bool(m.value(for: .string(field)) != nil)
        case .optional(let inner):
            guard let inner else { return .bool(false) }
            return try presence(inner, field)
        default:
            throw CELError.eval("type '\(operand.type.name)' does not support field selection")
        }
    }

    func index(_ container: CELValue, _ key: CELValue, optional: Bool) throws -> CELValue {
        switch container {
        case .list(let l):
            let i: Int64
            switch key {
            case .int(let v): i = v
            case .uint(let u):
                guard u <= UInt64(Int64.max) else { throw CELError.eval("index out of range: \(u)") }
                i = Int64(u)
            case .double(let d):
                guard d.rounded() == d, d > -9.2e18, d < 9.2e18 else { throw CELError.eval("unsupported index value \(d)") }
                i = Int64(d)
            default:
                throw CELError.noOverload("_[_]", [container, key])
            }
            guard i >= 0, i < Int64(l.count) else {
                if optional { return .optional(nil) }
                throw CELError.eval("index out of range: \(i)")
            }
            return optional ? .optional(l[Int(i)]) : l[Int(i)]
        case .map(let m):
            switch key {
            case .int, .uint, .bool, .string, .double: break
            default: throw CELError.noOverload("_[_]", [container, key])
            }
            if let v = m.value(for: key) { return optional ? .optional(v) : v }
            if optional { return .optional(nil) }
            throw CELError.eval("no such key: \(Format.plain(key))")
        case .optional(let inner):
            guard let inner else { return .optional(nil) }
            return try index(inner, key, optional: true)
        default:
            throw CELError.noOverload(optional ? "_[?_]" : "_[_]", [container, key])
        }
    }
}

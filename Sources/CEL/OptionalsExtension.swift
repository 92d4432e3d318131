/// Optional values: optional.of, optional.none, optional.ofNonZeroValue, hasValue, value, orValue, or.
/// (`.?field`, `[?index]` and the optional literal entries are in the evaluator.)
enum OptionalsExtension {
    static let functions: [CELFunction] = [
        CELFunction("optional.of", arity: 1) { .optional($0.args[0]) },
        CELFunction("optional.none", arity: 0) { _ in .optional(nil) },
        CELFunction("optional.ofNonZeroValue", arity: 1) { call in
            .optional(isZero(call.args[0]) ? nil : call.args[0])
        },
        CELFunction("hasValue", receiver: true, arity: 1) { call in
            guard case .optional(let o) = call.args[0] else { return nil }
            return .bool(o != nil)
        },
        CELFunction("value", receiver: true, arity: 1) { call in
            guard case .optional(let o) = call.args[0] else { return nil }
            guard let o else { throw CELError.eval("optional.none() dereference") }
            return o
        },
        CELFunction("orValue", receiver: true, arity: 2) { call in
            guard case .optional(let o) = call.args[0] else { return nil }
            return o ?? call.args[1]
        },
        CELFunction("or", receiver: true, arity: 2) { call in
            guard case .optional(let o) = call.args[0], case .optional = call.args[1] else { return nil }
            return o != nil ? call.args[0] : call.args[1]
        },
    ]

    static func isZero(_ v: CELValue) -> Bool {
        switch v {
        case .null: return true
        case .bool(let b): return !b
        case .int(let i): return i == 0
        case .uint(let u): return u == 0
        case .double(let d): return d == 0
        case .string(let s): return s.isEmpty
        case .bytes(let b): return b.isEmpty
        case .list(let l): return l.isEmpty
        case .map(let m): return m.count == 0
        case .timestamp(let t): return t.seconds == 0 && t.nanos == 0
        case .duration(let d): return d.nanoseconds == 0
        case .type, .opaque: return false
        case .optional(let o): return o == nil
        }
    }
}

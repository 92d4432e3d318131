/// cel-go's lists extension: lists.range, slice, flatten, distinct, reverse, sort, sortBy (a macro,
/// see Macros.swift), first and last (as optionals).
enum ListsExtension {
    static var functions: [CELFunction] {
        var f: [CELFunction] = []
        f.append(CELFunction("lists.range", arity: 1) { call in
            guard case .int(let n) = call.args[0] else { return nil }
            guard n >= 0 else { throw CELError.eval("lists.range: negative size \(n)") }
            try call.limits.checkList(Int(clamping: n))
            return .list((0..<n).map { .int($0) })
        })
        f.append(CELFunction("slice", receiver: true, arity: 3) { call in
            guard case .list(let l) = call.args[0], case .int(let start) = call.args[1], case .int(let end) = call.args[2] else { return nil }
            guard start >= 0, end >= 0 else { throw CELError.eval("cannot slice(\(start), \(end)), negative indexes not supported") }
            guard start <= end else { throw CELError.eval("cannot slice(\(start), \(end)), start index must be less than or equal to end index") }
            guard end <= Int64(l.count) else { throw CELError.eval("cannot slice(\(start), \(end)), list is length \(l.count)") }
            return .list(Array(l[Int(start)..<Int(end)]))
        })
        for arity in [1, 2] {
            f.append(CELFunction("flatten", receiver: true, arity: arity) { call in
                guard case .list(let l) = call.args[0] else { return nil }
                var depth: Int64 = 1
                if arity == 2 { guard case .int(let d) = call.args[1] else { return nil }; depth = d }
                guard depth >= 0 else { throw CELError.eval("level must be non-negative") }
                return .list(try flatten(l, depth: depth, limits: call.limits))
            })
        }
        f.append(CELFunction("distinct", receiver: true, arity: 1) { call in
            guard case .list(let l) = call.args[0] else { return nil }
            var out: [CELValue] = []
            for v in l where !out.contains(where: { CELValue.celEquals($0, v) }) { out.append(v) }
            return .list(out)
        })
        f.append(CELFunction("reverse", receiver: true, arity: 1) { call in
            guard case .list(let l) = call.args[0] else { return nil }
            return .list(l.reversed())
        })
        f.append(CELFunction("sort", receiver: true, arity: 1) { call in
            guard case .list(let l) = call.args[0] else { return nil }
            return .list(try sorted(l, keys: l))
        })
        f.append(CELFunction("@sortByAssociatedKeys", receiver: false, arity: 2) { call in
            guard case .list(let l) = call.args[0], case .list(let keys) = call.args[1] else { return nil }
            return .list(try sorted(l, keys: keys))
        })
        f.append(CELFunction("first", receiver: true, arity: 1) { call in
            guard case .list(let l) = call.args[0] else { return nil }
            return .optional(l.first)
        })
        f.append(CELFunction("last", receiver: true, arity: 1) { call in
            guard case .list(let l) = call.args[0] else { return nil }
            return .optional(l.last)
        })
        return f
    }

    static func flatten(_ l: [CELValue], depth: Int64, limits: CELLimits) throws -> [CELValue] {
        var out: [CELValue] = []
        for v in l {
            if case .list(let inner) = v, depth > 0 {
                out += try flatten(inner, depth: depth - 1, limits: limits)
            } else {
                out.append(v)
            }
            try limits.checkList(out.count)
        }
        return out
    }

    /// Stable sort of `values` by `keys` (same length); keys must be mutually comparable.
    static func sorted(_ values: [CELValue], keys: [CELValue]) throws -> [CELValue] {
        guard values.count == keys.count else { throw CELError.eval("sortBy: key list has a different length") }
        if let first = keys.first {
            for k in keys {
                switch CELValue.celCompare(first, k) {
                case nil: throw CELError.noOverload("sort", [first, k])
                default: break
                }
                switch k {
                case .int, .uint, .double, .string, .bytes, .bool, .timestamp, .duration: break
                default: throw CELError.noOverload("sort", [k])
                }
            }
        }
        let order = keys.indices.sorted { a, b in
            let c = (CELValue.celCompare(keys[a], keys[b]) ?? nil) ?? 0
            return c != 0 ? c < 0 : a < b
        }
        return order.map { values[$0] }
    }
}

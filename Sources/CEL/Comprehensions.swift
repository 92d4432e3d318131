/// The comprehension macros: all, exists, exists_one, map, filter and the two-variable forms.
/// Every iteration is charged to the cost budget.
extension Evaluator {
    func comprehension(_ c: Comprehension, _ scope: Scope?) throws -> CELValue {
        let range = try eval(c.range, scope)
        // (first variable, second variable) per iteration: list → (element) or (index, element),
        // map → (key) or (key, value).
        let pairs: Pairs
        switch range {
        case .list(let l): pairs = Pairs(list: l, indexed: c.variable2 != nil)
        case .map(let m): pairs = Pairs(map: m)
        default:
            throw CELError.eval("expression of type '\(range.type.name)' cannot be range of a comprehension")
        }
        func bind(_ pair: (CELValue, CELValue)) -> Scope {
            let first = Scope(c.variable, pair.0, parent: scope)
            guard let second = c.variable2 else { return first }
            return Scope(second, pair.1, parent: first)
        }
        func predicate(_ s: Scope, _ name: String) throws -> Bool {
            let v = try eval(c.predicate, s)
            guard case .bool(let b) = v else { throw CELError.noOverload(name, [v]) }
            return b
        }
        switch c.kind {
        case .all, .exists:
            let decisive: Bool
            if case .all = c.kind { decisive = false } else { decisive = true }
            var firstError: CELError?
            for pair in pairs {
                try charge(1)
                do {
                    if try predicate(bind(pair), decisive ? "exists" : "all") == decisive { return .bool(decisive) }
                } catch let error as CELError where error.kind != .limit {
                    if firstError == nil { firstError = error }
                }
            }
            if let firstError { throw firstError }
            return .bool(!decisive)
        case .existsOne:
            var count = 0
            for pair in pairs {
                try charge(1)
                if try predicate(bind(pair), "exists_one") { count += 1 }
            }
            return .bool(count == 1)
        case .filter:
            var out: [CELValue] = []
            for pair in pairs {
                try charge(1)
                if try predicate(bind(pair), "filter") { out.append(pair.0) }
            }
            return .list(out)
        case .map(let filter, let transform):
            var out: [CELValue] = []
            for pair in pairs {
                try charge(1)
                let s = bind(pair)
                if let filter, try !condition(filter, s) { continue }
                out.append(try eval(transform, s))
                if out.count > options.maxListSize { try checkSize(.list(out)) }
            }
            try charge(out.count / 8)
            return .list(out)
        case .transformMap(let filter, let transform):
            var out = CELMap()
            for pair in pairs {
                try charge(1)
                let s = bind(pair)
                if let filter, try !condition(filter, s) { continue }
                try out.insertNew(pair.0, try eval(transform, s))
            }
            return .map(out)
        case .transformMapEntry(let filter, let transform):
            var out = CELMap()
            for pair in pairs {
                try charge(1)
                let s = bind(pair)
                if let filter, try !condition(filter, s) { continue }
                let entry = try eval(transform, s)
                guard case .map(let m) = entry else { throw CELError.noOverload("transformMapEntry", [entry]) }
                for (k, v) in m.entries { try out.insertNew(k, v) }
            }
            return .map(out)
        }
    }

    /// The iteration values without copying the range into a new array.
    struct Pairs: Sequence {
        private let list: [CELValue]
        private let entries: [(key: CELValue, value: CELValue)]
        private let indexed: Bool
        private let isMap: Bool

        init(list: [CELValue], indexed: Bool) { self.list = list; entries = []; self.indexed = indexed; isMap = false }
        init(map: CELMap) { list = []; entries = map.entries; indexed = false; isMap = true }

        func makeIterator() -> AnyIterator<(CELValue, CELValue)> {
            var i = 0
            return AnyIterator {
                if isMap {
                    guard i < entries.count else { return nil }
                    defer { i += 1 }
                    return (entries[i].key, entries[i].value)
                }
                guard i < list.count else { return nil }
                defer { i += 1 }
                return indexed ? (.int(Int64(i)), list[i]) : (list[i], .null)
            }
        }
    }

    private func condition(_ e: Expr, _ s: Scope) throws -> Bool {
        let v = try eval(e, s)
        guard case .bool(let b) = v else { throw CELError.noOverload("filter", [v]) }
        return b
    }
}

/// The comprehension macros: all, exists, exists_one, map, filter and the two-variable forms.
/// Every iteration is charged to the cost budget.
extension Evaluator {
    func comprehension(_ c: Comprehension, _ scope: Scope?) throws -> CELValue {
        let range = try eval(c.range, scope)
        // (first variable, second variable) per iteration: list → (element) or (index, element),
        // map → (key) or (key, value).
        let pairs: [(CELValue, CELValue)]
        switch range {
        case .list(let l):
            pairs = c.variable2 == nil ? l.map { ($0, .null) } : l.enumerated().map { (.int(Int64($0.offset)), $0.element) }
        case .map(let m):
            pairs = m.entries.map { ($0.key, $0.value) }
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

    private func condition(_ e: Expr, _ s: Scope) throws -> Bool {
        let v = try eval(e, s)
        guard case .bool(let b) = v else { throw CELError.noOverload("filter", [v]) }
        return b
    }
}

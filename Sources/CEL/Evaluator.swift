/// Tree-walking evaluation of one expression against one set of variables. A fresh Evaluator per
/// evaluation holds the running cost, so a compiled program is shared safely between threads.
final class Evaluator {
    let variables: [String: CELValue]
    let functions: FunctionTable
    let containerPrefixes: [String]
    let container: String
    let options: CELOptions
    let budget: CELCostBudget
    /// First segments of the dotted names (variables, types) that `a.b.c` could mean as a whole;
    /// a selection whose root is not among them skips the qualified-name lookups.
    private let dottedRoots: Set<String>

    init(variables: [String: CELValue], functions: FunctionTable, options: CELOptions) {
        self.variables = variables
        self.functions = functions
        self.options = options
        self.budget = CELCostBudget(limit: options.costLimit)
        self.container = options.container
        // Container "a.b" resolves name n as a.b.n, then a.n, then n.
        var prefixes: [String] = []
        var parts = options.container.split(separator: ".").map(String.init)
        while !parts.isEmpty { prefixes.append(parts.joined(separator: ".") + "."); parts.removeLast() }
        prefixes.append("")
        self.containerPrefixes = prefixes
        var roots = Self.builtinTypeRoots
        for name in variables.keys where name.utf8.contains(UInt8(ascii: ".")) { roots.insert(Self.root(name)) }
        for type in options.types where type.name.utf8.contains(UInt8(ascii: ".")) { roots.insert(Self.root(type.name)) }
        self.dottedRoots = roots
    }

    private static func root(_ name: String) -> String { String(name.prefix { $0 != "." }) }
    private static let builtinTypeRoots = Set(CELType.named.keys.filter { $0.utf8.contains(UInt8(ascii: ".")) }.map(root))

    /// Whether `e` is an identifier chain whose whole dotted name may be a variable or type.
    private func mayBeQualified(_ e: Expr) -> Bool {
        var current = e
        while true {
            switch current {
            case .ident(let name, _): return !containerPrefixes.dropLast().isEmpty || dottedRoots.contains(name)
            case .select(let operand, _, false): current = operand
            default: return false
            }
        }
    }

    /// Counts work against the cost budget; the one place the budget is enforced.
    func charge(_ amount: Int) throws {
        try budget.charge(amount)
    }

    /// Charges for a value just built and refuses one over the size caps.
    func checkSize(_ v: CELValue) throws {
        switch v {
        case .string(let s):
            let n = s.utf8.count
            if n > options.maxStringSize { throw CELError.limit("string of \(n) bytes exceeds the limit of \(options.maxStringSize)") }
            try charge(n / 64)
        case .bytes(let b):
            if b.count > options.maxStringSize { throw CELError.limit("bytes of \(b.count) exceeds the limit of \(options.maxStringSize)") }
            try charge(b.count / 64)
        case .list(let l):
            if l.count > options.maxListSize { throw CELError.limit("list of \(l.count) elements exceeds the limit of \(options.maxListSize)") }
            try charge(l.count / 8)
        case .map(let m):
            if m.count > options.maxListSize { throw CELError.limit("map of \(m.count) entries exceeds the limit of \(options.maxListSize)") }
            try charge(m.count / 8)
        default:
            break
        }
    }

    /// Charges for work proportional to an argument's size (scanning a string, a list's elements),
    /// so a loop over big values runs out of budget as fast as it does real work.
    func chargeShallow(_ v: CELValue) throws {
        switch v {
        case .string(let s): try charge(s.utf8.count / 16)
        case .bytes(let b): try charge(b.count / 16)
        case .list(let l): try charge(l.count / 4)
        case .map(let m): try charge(m.count / 4)
        default: break
        }
    }

    /// Charges for a comparison that may visit every nested element (equality, `in`), walking no
    /// further than the remaining budget allows.
    func chargeDeep(_ v: CELValue) throws {
        var pending = [v]
        var visited = 0
        while let next = pending.popLast() {
            switch next {
            case .list(let l):
                visited += l.count
                for case let inner in l where inner.isContainer { pending.append(inner) }
            case .map(let m):
                visited += m.count
                for (_, inner) in m.entries where inner.isContainer { pending.append(inner) }
            case .optional(let inner?):
                pending.append(inner)
            default:
                try chargeShallow(next)
            }
            if visited / 4 > budget.remaining { try charge(visited / 4) }
        }
        try charge(visited / 4)
    }

    func eval(_ e: Expr, _ scope: Scope?) throws -> CELValue {
        try charge(1)
        switch e {
        case .literal(let v):
            return v
        case .ident(let name, let absolute):
            if !absolute, let local = scope?.find(name) { return try local.value(eval) }
            if let v = resolveGlobal(name, absolute: absolute) { return v }
            throw CELError.eval("undeclared reference to '\(name)' (in container '\(container)')")
        case .select(let operand, let field, let optional):
            if !optional, mayBeQualified(operand), let qualified = Parser.qualifiedName(operand) {
                // The longest dotted name that is a variable wins (`a.b.c` may be one variable);
                // a leading dot skips local names and the container.
                let absolute = qualified.hasPrefix(".")
                if absolute || !isLocal(qualified, scope), let v = resolveGlobal(qualified + "." + field, absolute: absolute) {
                    return v
                }
            }
            return try select(try eval(operand, scope), field, optional: optional)
        case .presence(let operand, let field):
            return try presence(try eval(operand, scope), field)
        case .index(let operand, let index, let optional):
            let container = try eval(operand, scope)
            return try self.index(container, try eval(index, scope), optional: optional)
        case .call(let function, let target, let args):
            return try call(function, target, args, scope)
        case .binary(let op, let left, let right):
            let a = try eval(left, scope)
            let b = try eval(right, scope)
            switch op {
            case .equal, .notEqual, .inside:
                try chargeDeep(a)
                try chargeDeep(b)
            default:
                try chargeShallow(a)
                try chargeShallow(b)
            }
            let result = try Operators.apply(op, a, b)
            if op == .add { try checkSize(result) }
            return result
        case .and(let terms):
            return try logical(terms, scope, absorbing: false, name: "_&&_")
        case .or(let terms):
            return try logical(terms, scope, absorbing: true, name: "_||_")
        case .not(let operand):
            let v = try eval(operand, scope)
            guard case .bool(let b) = v else { throw CELError.noOverload("!_", [v]) }
            return .bool(!b)
        case .negate(let operand):
            return try Operators.negate(try eval(operand, scope))
        case .conditional(let condition, let then, let otherwise):
            let c = try eval(condition, scope)
            guard case .bool(let b) = c else { throw CELError.noOverload("_?_:_", [c]) }
            return try eval(b ? then : otherwise, scope)
        case .list(let elements):
            var out: [CELValue] = []
            out.reserveCapacity(elements.count)
            for element in elements {
                let v = try eval(element.value, scope)
                if element.optional {
                    guard case .optional(let inner) = v else { throw CELError.noOverload("[?_]", [v]) }
                    if let inner { out.append(inner) }
                } else {
                    out.append(v)
                }
            }
            return .list(out)
        case .map(let entries):
            var map = CELMap()
            for entry in entries {
                let k = try eval(entry.key, scope)
                let v = try eval(entry.value, scope)
                if entry.optional {
                    guard case .optional(let inner) = v else { throw CELError.noOverload("{?_:_}", [v]) }
                    if let inner { try map.insertNew(k, inner) }
                } else {
                    try map.insertNew(k, v)
                }
            }
            return .map(map)
        case .message(let typeName, _):
            throw CELError.eval("message types are not supported: \(typeName)")
        case .comprehension(let c):
            return try comprehension(c, scope)
        case .bind(let name, let value, let body):
            return try eval(body, Scope(name, try eval(value, scope), parent: scope))
        case .block(let slots, let body):
            var inner = scope
            for (i, slot) in slots.enumerated() { inner = Scope(lazy: "@index\(i)", slot, parent: inner) }
            return try eval(body, inner)
        case .optionalMap(let target, let variable, let body, let flat):
            let t = try eval(target, scope)
            guard case .optional(let inner) = t else { throw CELError.noOverload(flat ? "optFlatMap" : "optMap", [t]) }
            guard let inner else { return .optional(nil) }
            let result = try eval(body, Scope(variable, inner, parent: scope))
            if !flat { return .optional(result) }
            guard case .optional = result else { throw CELError.noOverload("optFlatMap", [result]) }
            return result
        }
    }

    private func isLocal(_ qualified: String, _ scope: Scope?) -> Bool {
        guard let scope else { return false }
        return scope.find(Self.root(qualified)) != nil
    }

    /// A variable or type name, tried in each of the container's scopes, innermost first.
    func resolveGlobal(_ name: String, absolute: Bool) -> CELValue? {
        let n = absolute && name.hasPrefix(".") ? String(name.dropFirst()) : name
        for prefix in absolute ? [""] : containerPrefixes {
            if let v = variables[prefix + n] { return v }
        }
        if let t = CELType.named[n] { return .type(t) }
        if let t = options.types.first(where: { $0.name == n }) { return .type(t) }
        return nil
    }

    /// `&&` and `||` over any number of terms: a deciding value (false for &&, true for ||) wins over
    /// errors in other terms, whichever side they are on.
    private func logical(_ terms: [Expr], _ scope: Scope?, absorbing decisive: Bool, name: String) throws -> CELValue {
        var firstError: CELError?
        for term in terms {
            do {
                let v = try eval(term, scope)
                guard case .bool(let b) = v else {
                    if firstError == nil { firstError = CELError.noOverload(name, [v]) }
                    continue
                }
                if b == decisive { return .bool(decisive) }
            } catch let error as CELError where error.kind != .limit {
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { throw firstError }
        return .bool(!decisive)
    }

    private func call(_ function: String, _ target: Expr?, _ argExprs: [Expr], _ scope: Scope?) throws -> CELValue {
        var args: [CELValue] = []
        args.reserveCapacity(argExprs.count + 1)
        let receiver = target != nil
        if let target {
            // `math.greatest(...)`: a namespaced global function, unless the name is a variable.
            if functions.namespaces.contains(function), let namespace = Parser.qualifiedName(target),
               functions.hasGlobal(namespace + "." + function),
               !isLocal(namespace, scope), resolveGlobal(namespace, absolute: false) == nil {
                return try dispatch(namespace + "." + function, receiver: false, try argExprs.map { try eval($0, scope) })
            }
            args.append(try eval(target, scope))
        }
        for a in argExprs { args.append(try eval(a, scope)) }
        // `_+_(1, 2)` spelled as a call still means the operator.
        if !receiver, args.count == 2, let op = BinaryOperator(rawValue: function) {
            let result = try Operators.apply(op, args[0], args[1])
            try checkSize(result)
            return result
        }
        return try dispatch(function, receiver: receiver, args)
    }

    private func dispatch(_ function: String, receiver: Bool, _ args: [CELValue]) throws -> CELValue {
        for a in args { try chargeShallow(a) }
        let result = try functions.call(function, receiver: receiver, args, limits: options.limits, budget: budget)
        try checkSize(result)
        return result
    }
}

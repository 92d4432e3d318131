/// Macro expansion: calls whose name and shape match a CEL macro become dedicated nodes.
/// Anything else stays an ordinary call, resolved against the function library at evaluation.
extension Parser {
    mutating func expandCall(function: String, target: Expr?, args: [Expr]) throws -> Expr {
        guard let target else {
            if function == "has", args.count == 1 {
                guard case .select(let operand, let field, false) = args[0] else {
                    throw fail("invalid argument to has() macro")
                }
                return try node(.presence(operand, field: field))
            }
            return try node(.call(function: function, target: nil, args: args))
        }
        if case .ident("cel", false) = target, let expanded = try expandCelNamespace(function, args) {
            return expanded
        }
        switch (function, args.count) {
        case ("all", 2), ("exists", 2), ("exists_one", 2), ("existsOne", 2), ("filter", 2),
             ("all", 3), ("exists", 3), ("exists_one", 3), ("existsOne", 3):
            let twoVariables = args.count == 3
            let kind: Comprehension.Kind
            switch function {
            case "all": kind = .all
            case "exists": kind = .exists
            case "filter": kind = .filter
            default: kind = .existsOne
            }
            return try comprehension(kind, target, args, twoVariables: twoVariables, predicate: args[args.count - 1])
        case ("map", 2):
            return try comprehension(.map(filter: nil, transform: args[1]), target, args, twoVariables: false)
        case ("map", 3):
            return try comprehension(.map(filter: args[1], transform: args[2]), target, args, twoVariables: false)
        case ("transformList", 3), ("transformList", 4):
            let filter = args.count == 4 ? args[2] : nil
            return try comprehension(.map(filter: filter, transform: args[args.count - 1]), target, args, twoVariables: true)
        case ("transformMap", 3), ("transformMap", 4):
            let filter = args.count == 4 ? args[2] : nil
            return try comprehension(.transformMap(filter: filter, transform: args[args.count - 1]), target, args, twoVariables: true)
        case ("transformMapEntry", 3), ("transformMapEntry", 4):
            let filter = args.count == 4 ? args[2] : nil
            return try comprehension(.transformMapEntry(filter: filter, transform: args[args.count - 1]), target, args, twoVariables: true)
        case ("sortBy", 2):
            // lists extension: sort the target by a key computed per element.
            let keys = try comprehension(.map(filter: nil, transform: args[1]), target, args, twoVariables: false)
            return try node(.call(function: "@sortByAssociatedKeys", target: nil, args: [target, keys]))
        case ("optMap", 2), ("optFlatMap", 2):
            guard case .ident(let variable, false) = args[0] else { throw fail("\(function)() variable must be a simple name") }
            return try node(.optionalMap(target, variable: variable, body: args[1], flat: function == "optFlatMap"))
        default:
            return try node(.call(function: function, target: target, args: args))
        }
    }

    private mutating func comprehension(_ kind: Comprehension.Kind, _ range: Expr, _ args: [Expr], twoVariables: Bool,
                                        predicate: Expr = .literal(.null)) throws -> Expr {
        guard case .ident(let first, false) = args[0] else { throw fail("argument must be a simple name") }
        var second: String?
        if twoVariables {
            guard case .ident(let name, false) = args[1] else { throw fail("argument must be a simple name") }
            if name == first { throw fail("duplicate variable name '\(name)'") }
            second = name
        }
        return try node(.comprehension(Comprehension(kind: kind, range: range, variable: first, variable2: second, predicate: predicate)))
    }

    /// `cel.bind`, `cel.block` and the names `cel.block` uses for its slots and loop variables.
    private mutating func expandCelNamespace(_ function: String, _ args: [Expr]) throws -> Expr? {
        switch (function, args.count) {
        case ("bind", 3):
            guard case .ident(let name, false) = args[0] else { throw fail("cel.bind() variable must be a simple name") }
            return try node(.bind(name: name, value: args[1], body: args[2]))
        case ("block", 2):
            guard case .list(let elements) = args[0], !elements.contains(where: { $0.optional }) else {
                throw fail("cel.block() needs a list of expressions")
            }
            return try node(.block(slots: elements.map(\.value), body: args[1]))
        case ("index", 1):
            guard case .literal(.int(let i)) = args[0], i >= 0 else { throw fail("cel.index() needs a constant index") }
            return try node(.ident("@index\(i)", absolute: false))
        case ("iterVar", 2), ("accuVar", 2):
            guard case .literal(.int(let i)) = args[0], case .literal(.int(let j)) = args[1] else {
                throw fail("cel.\(function)() needs constant indexes")
            }
            return try node(.ident("@\(function):\(i):\(j)", absolute: false))
        default:
            return nil
        }
    }
}

/// Local variables of one evaluation (comprehension variables, cel.bind names, cel.block slots)
/// as a chain from the innermost binding outwards.
final class Scope {
    let name: String
    private let parent: Scope?
    private var slot: Slot

    enum Slot {
        case value(CELValue)
        /// A cel.block slot, evaluated on first use in the scope it was declared in.
        case lazy(Expr, Scope?)
        case failed(CELError)
        case evaluating
    }

    init(_ name: String, _ value: CELValue, parent: Scope?) {
        self.name = name
        self.slot = .value(value)
        self.parent = parent
    }

    init(lazy name: String, _ expr: Expr, parent: Scope?) {
        self.name = name
        self.slot = .lazy(expr, parent)
        self.parent = parent
    }

    func find(_ name: String) -> Scope? {
        var s: Scope? = self
        while let current = s {
            if current.name == name { return current }
            s = current.parent
        }
        return nil
    }

    /// The bound value, evaluating a lazy slot once with `evaluate`.
    func value(_ evaluate: (Expr, Scope?) throws -> CELValue) throws -> CELValue {
        switch slot {
        case .value(let v): return v
        case .failed(let e): throw e
        case .evaluating: throw CELError.eval("cel.block slot \(name) refers to itself")
        case .lazy(let expr, let scope):
            slot = .evaluating
            do {
                let v = try evaluate(expr, scope)
                slot = .value(v)
                return v
            } catch let error as CELError {
                slot = error.kind == .limit ? .lazy(expr, scope) : .failed(error)
                throw error
            }
        }
    }
}

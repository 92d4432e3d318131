/// The parsed expression tree. Macros are expanded by the parser into their own node kinds,
/// so the evaluator never sees `has(...)` or `.all(...)` as ordinary calls.
indirect enum Expr: Sendable {
    case literal(CELValue)
    /// An identifier; `absolute` for a leading dot (`.a.b`), which skips the container.
    case ident(String, absolute: Bool)
    /// `operand.field`; `optional` for `operand.?field`.
    case select(Expr, field: String, optional: Bool)
    /// `has(operand.field)`.
    case presence(Expr, field: String)
    /// `operand[index]`; `optional` for `operand[?index]`.
    case index(Expr, Expr, optional: Bool)
    /// A function or operator call; `target` is the receiver of `target.function(args)`.
    case call(function: String, target: Expr?, args: [Expr])
    /// A binary operator, resolved at parse time so evaluation does not look it up by name.
    case binary(BinaryOperator, Expr, Expr)
    case and([Expr])
    case or([Expr])
    case not(Expr)
    case negate(Expr)
    case conditional(Expr, Expr, Expr)
    case list([ListElement])
    case map([MapEntry])
    /// `Type{field: value}`: parsed so the error is clear, but message types are not supported.
    case message(typeName: String, fields: [MapEntry])
    case comprehension(Comprehension)
    /// `cel.bind(name, value, body)`.
    case bind(name: String, value: Expr, body: Expr)
    /// `cel.block([slots], body)`: slot i is visible as `cel.index(i)` to later slots and the body.
    case block(slots: [Expr], body: Expr)
    /// `opt.optMap(v, expr)` / `opt.optFlatMap(v, expr)`.
    case optionalMap(Expr, variable: String, body: Expr, flat: Bool)
}

enum BinaryOperator: String, Sendable {
    case add = "_+_", subtract = "_-_", multiply = "_*_", divide = "_/_", modulo = "_%_"
    case equal = "_==_", notEqual = "_!=_", less = "_<_", lessOrEqual = "_<=_", greater = "_>_", greaterOrEqual = "_>=_"
    case inside = "@in"
}

struct ListElement: Sendable {
    let value: Expr
    /// `[?e]`: the element is an optional, included only when it has a value.
    let optional: Bool
}

struct MapEntry: Sendable {
    let key: Expr
    let value: Expr
    /// `{?k: v}`: the value is an optional, the entry included only when it has a value.
    let optional: Bool
}

/// One comprehension macro over a list or map. `variable2` is set for the two-variable forms
/// (index/key and value).
struct Comprehension: Sendable {
    enum Kind: Sendable {
        case all, exists, existsOne
        /// `map(x, transform)` / `map(x, filter, transform)`; the two-variable form is `transformList`.
        case map(filter: Expr?, transform: Expr)
        case filter
        /// `transformMap(k, v, [filter,] transform)`: a map with the same keys.
        case transformMap(filter: Expr?, transform: Expr)
        /// `transformMapEntry(k, v, [filter,] entry)`: the entry is a one-key map merged into the result.
        case transformMapEntry(filter: Expr?, transform: Expr)
    }
    let kind: Kind
    let range: Expr
    let variable: String
    let variable2: String?
    /// The predicate for all/exists/existsOne/filter; unused (`.literal(.null)`) for the map kinds.
    let predicate: Expr
}

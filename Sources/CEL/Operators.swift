/// The operators: arithmetic with CEL's overflow and division errors, comparisons, `in`.
enum Operators {
    static func apply(_ op: BinaryOperator, _ a: CELValue, _ b: CELValue) throws -> CELValue {
        switch op {
        case .add: return try add(a, b)
        case .subtract: return try subtract(a, b)
        case .multiply: return try multiply(a, b)
        case .divide: return try divide(a, b)
        case .modulo: return try modulo(a, b)
        case .equal: return .bool(CELValue.celEquals(a, b))
        case .notEqual: return .bool(!CELValue.celEquals(a, b))
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            guard let ordered = CELValue.celCompare(a, b) else { throw CELError.noOverload(op.rawValue, [a, b]) }
            guard let order = ordered else { return .bool(false) }  // NaN
            switch op {
            case .less: return .bool(order < 0)
            case .lessOrEqual: return .bool(order <= 0)
            case .greater: return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        case .inside:
            switch b {
            case .list(let l): return .bool(l.contains { CELValue.celEquals(a, $0) })
            case .map(let m): return .bool(m.value(for: a) != nil)
            default: throw CELError.noOverload("@in", [a, b])
            }
        }
    }

    static func negate(_ v: CELValue) throws -> CELValue {
        switch v {
        case .int(let i):
            guard i != Int64.min else { throw CELError.overflow }
            return .int(-i)
        case .double(let d): return .double(-d)
        case .duration(let d):
            guard d.nanoseconds != Int64.min else { throw CELError.eval("duration out of range") }
            return .duration(CELDuration(nanoseconds: -d.nanoseconds))
        default: throw CELError.noOverload("-_", [v])
        }
    }

    static func add(_ a: CELValue, _ b: CELValue) throws -> CELValue {
        switch (a, b) {
        case (.int(let x), .int(let y)): return .int(try checked(x.addingReportingOverflow(y)))
        case (.uint(let x), .uint(let y)): return .uint(try checked(x.addingReportingOverflow(y)))
        case (.double(let x), .double(let y)): return .double(x + y)
        case (.string(let x), .string(let y)): return .string(x + y)
        case (.bytes(let x), .bytes(let y)): return .bytes(x + y)
        case (.list(let x), .list(let y)): return .list(x + y)
        case (.duration(let x), .duration(let y)):
            return .duration(CELDuration(nanoseconds: try durationChecked(x.nanoseconds.addingReportingOverflow(y.nanoseconds))))
        case (.timestamp(let t), .duration(let d)), (.duration(let d), .timestamp(let t)):
            return .timestamp(try TimeMath.add(t, d.nanoseconds))
        default: throw CELError.noOverload("_+_", [a, b])
        }
    }

    static func subtract(_ a: CELValue, _ b: CELValue) throws -> CELValue {
        switch (a, b) {
        case (.int(let x), .int(let y)): return .int(try checked(x.subtractingReportingOverflow(y)))
        case (.uint(let x), .uint(let y)): return .uint(try checked(x.subtractingReportingOverflow(y)))
        case (.double(let x), .double(let y)): return .double(x - y)
        case (.duration(let x), .duration(let y)):
            return .duration(CELDuration(nanoseconds: try durationChecked(x.nanoseconds.subtractingReportingOverflow(y.nanoseconds))))
        case (.timestamp(let t), .duration(let d)):
            guard d.nanoseconds != Int64.min else { throw CELError.eval("timestamp out of range") }
            return .timestamp(try TimeMath.add(t, -d.nanoseconds))
        case (.timestamp(let x), .timestamp(let y)):
            return .duration(try TimeMath.difference(x, y))
        default: throw CELError.noOverload("_-_", [a, b])
        }
    }

    static func multiply(_ a: CELValue, _ b: CELValue) throws -> CELValue {
        switch (a, b) {
        case (.int(let x), .int(let y)): return .int(try checked(x.multipliedReportingOverflow(by: y)))
        case (.uint(let x), .uint(let y)): return .uint(try checked(x.multipliedReportingOverflow(by: y)))
        case (.double(let x), .double(let y)): return .double(x * y)
        default: throw CELError.noOverload("_*_", [a, b])
        }
    }

    static func divide(_ a: CELValue, _ b: CELValue) throws -> CELValue {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            guard y != 0 else { throw CELError.eval("divide by zero") }
            return .int(try checked(x.dividedReportingOverflow(by: y)))
        case (.uint(let x), .uint(let y)):
            guard y != 0 else { throw CELError.eval("divide by zero") }
            return .uint(x / y)
        case (.double(let x), .double(let y)): return .double(x / y)
        default: throw CELError.noOverload("_/_", [a, b])
        }
    }

    static func modulo(_ a: CELValue, _ b: CELValue) throws -> CELValue {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            guard y != 0 else { throw CELError.eval("modulus by zero") }
            return .int(try checked(x.remainderReportingOverflow(dividingBy: y)))
        case (.uint(let x), .uint(let y)):
            guard y != 0 else { throw CELError.eval("modulus by zero") }
            return .uint(x % y)
        default: throw CELError.noOverload("_%_", [a, b])
        }
    }

    static func checked<T>(_ r: (partialValue: T, overflow: Bool)) throws -> T {
        if r.overflow { throw CELError.overflow }
        return r.partialValue
    }

    private static func durationChecked(_ r: (partialValue: Int64, overflow: Bool)) throws -> Int64 {
        if r.overflow { throw CELError.eval("duration out of range") }
        return r.partialValue
    }
}

/// CEL equality and ordering. Numbers compare across int, uint and double by value (as cel-go);
/// values of different kinds are unequal rather than an error.
extension CELValue {
    public static func celEquals(_ a: CELValue, _ b: CELValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.string(let x), .string(let y)): return x.unicodeScalars.elementsEqual(y.unicodeScalars)  // no normalization
        case (.bytes(let x), .bytes(let y)): return x == y
        case (.timestamp(let x), .timestamp(let y)): return x == y
        case (.duration(let x), .duration(let y)): return x == y
        case (.type(let x), .type(let y)): return x == y
        case (.list(let x), .list(let y)):
            guard x.count == y.count else { return false }
            for (l, r) in zip(x, y) where !celEquals(l, r) { return false }
            return true
        case (.map(let x), .map(let y)):
            guard x.count == y.count else { return false }
            for (k, v) in x.entries {
                guard let other = y.value(for: k), celEquals(v, other) else { return false }
            }
            return true
        case (.opaque(let x), .opaque(let y)): return x.isEqual(to: y)
        case (.optional(let x), .optional(let y)):
            switch (x, y) {
            case (nil, nil): return true
            case (let l?, let r?): return celEquals(l, r)
            default: return false
            }
        default:
            if let order = numericOrder(a, b) { return order == 0 }
            return false
        }
    }

    /// -1, 0, 1 for two numbers of any numeric kinds; nil if either is not a number or a NaN is involved.
    static func numericOrder(_ a: CELValue, _ b: CELValue) -> Int? {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        case (.uint(let x), .uint(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        case (.double(let x), .double(let y)):
            if x.isNaN || y.isNaN { return nil }
            return x < y ? -1 : (x == y ? 0 : 1)
        case (.int(let x), .uint(let y)):
            if x < 0 { return -1 }
            let ux = UInt64(x)
            return ux < y ? -1 : (ux == y ? 0 : 1)
        case (.uint, .int): return numericOrder(b, a).map { -$0 }
        case (.int(let x), .double(let y)): return compareInt(x, y)
        case (.double, .int): return numericOrder(b, a).map { -$0 }
        case (.uint(let x), .double(let y)): return compareUint(x, y)
        case (.double, .uint): return numericOrder(b, a).map { -$0 }
        default: return nil
        }
    }

    /// int and uint against double compare as doubles (cel-go's rule, lossy above 2^53).
    private static func compareInt(_ x: Int64, _ y: Double) -> Int? {
        numericOrder(.double(Double(x)), .double(y))
    }

    private static func compareUint(_ x: UInt64, _ y: Double) -> Int? {
        numericOrder(.double(Double(x)), .double(y))
    }

    /// The ordering of `<` and friends: nil when the pair is not comparable (no matching overload),
    /// `.some(nil)` when comparable but unordered (a NaN).
    static func celCompare(_ a: CELValue, _ b: CELValue) -> Int?? {
        switch (a, b) {
        case (.bool(let x), .bool(let y)): return x == y ? 0 : (!x ? -1 : 1)
        case (.string(let x), .string(let y)):
            // Code-point order (Swift's String < compares by Unicode canonical ordering).
            return lexicographic(Array(x.unicodeScalars).map(\.value), Array(y.unicodeScalars).map(\.value))
        case (.bytes(let x), .bytes(let y)): return lexicographic(x, y)
        case (.timestamp(let x), .timestamp(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        case (.duration(let x), .duration(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        default:
            switch (a, b) {
            case (.int, .int), (.int, .uint), (.int, .double), (.uint, .int), (.uint, .uint), (.uint, .double),
                 (.double, .int), (.double, .uint), (.double, .double):
                return .some(numericOrder(a, b))
            default:
                return nil
            }
        }
    }

    private static func lexicographic<T: Comparable>(_ x: [T], _ y: [T]) -> Int {
        for (l, r) in zip(x, y) where l != r { return l < r ? -1 : 1 }
        return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
    }
}

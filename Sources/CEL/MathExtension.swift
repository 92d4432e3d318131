import Foundation

/// cel-go's math extension: greatest, least, ceil, floor, round, trunc, abs, sign, isNaN, isInf,
/// isFinite, sqrt and the bit operations.
enum MathExtension {
    static var functions: [CELFunction] {
        var f: [CELFunction] = []
        for (name, wantLess) in [("math.greatest", false), ("math.least", true)] {
            f.append(CELFunction(name, arity: nil) { call in
                var values = call.args
                if values.count == 1, case .list(let l) = values[0] { values = l }
                guard let first = values.first else { throw CELError.eval("\(name)() requires at least one argument") }
                var best = first
                for v in values {
                    guard let order = CELValue.numericOrder(v, best) ?? nanOrder(v, best) else { throw call.noOverload }
                    if wantLess ? order < 0 : order > 0 { best = v }
                }
                return best
            })
        }
        f.append(double("math.ceil") { $0.rounded(.up) })
        f.append(double("math.floor") { $0.rounded(.down) })
        f.append(double("math.round") { $0.rounded(.toNearestOrAwayFromZero) })
        f.append(double("math.trunc") { $0.rounded(.towardZero) })
        f.append(CELFunction("math.sqrt", arity: 1) { call in
            switch call.args[0] {
            case .double(let d): return .double(d.squareRoot())
            case .int(let i): return .double(Double(i).squareRoot())
            case .uint(let u): return .double(Double(u).squareRoot())
            default: return nil
            }
        })
        f.append(CELFunction("math.abs", arity: 1) { call in
            switch call.args[0] {
            case .int(let i):
                guard i != Int64.min else { throw CELError.overflow }
                return .int(abs(i))
            case .uint: return call.args[0]
            case .double(let d): return .double(d.magnitude)
            default: return nil
            }
        })
        f.append(CELFunction("math.sign", arity: 1) { call in
            switch call.args[0] {
            case .int(let i): return .int(i.signum())
            case .uint(let u): return .uint(u == 0 ? 0 : 1)
            case .double(let d): return .double(d.isNaN ? d : (d > 0 ? 1 : (d < 0 ? -1 : 0)))
            default: return nil
            }
        })
        let tests: [(String, @Sendable (Double) -> Bool)] = [("math.isNaN", { $0.isNaN }), ("math.isInf", { $0.isInfinite }), ("math.isFinite", { $0.isFinite })]
        for (name, test) in tests {
            f.append(CELFunction(name, arity: 1) { call in
                guard case .double(let d) = call.args[0] else { return nil }
                return .bool(test(d))
            })
        }
        f += bitFunctions
        return f
    }

    /// NaN is never greater or less: it keeps the current choice.
    private static func nanOrder(_ a: CELValue, _ b: CELValue) -> Int? {
        switch (a, b) {
        case (.double, .double), (.double, .int), (.double, .uint), (.int, .double), (.uint, .double): return 0
        default: return nil
        }
    }

    private static func double(_ name: String, _ op: @escaping @Sendable (Double) -> Double) -> CELFunction {
        CELFunction(name, arity: 1) { call in
            guard case .double(let d) = call.args[0] else { return nil }
            return .double(op(d))
        }
    }

    private static var bitFunctions: [CELFunction] {
        var f: [CELFunction] = []
        let binary: [(String, @Sendable (UInt64, UInt64) -> UInt64)] = [("math.bitAnd", { $0 & $1 }), ("math.bitOr", { $0 | $1 }), ("math.bitXor", { $0 ^ $1 })]
        for (name, op) in binary {
            f.append(CELFunction(name, arity: 2) { call in
                switch (call.args[0], call.args[1]) {
                case (.int(let a), .int(let b)): return .int(Int64(bitPattern: op(UInt64(bitPattern: a), UInt64(bitPattern: b))))
                case (.uint(let a), .uint(let b)): return .uint(op(a, b))
                default: return nil
                }
            })
        }
        f.append(CELFunction("math.bitNot", arity: 1) { call in
            switch call.args[0] {
            case .int(let a): return .int(~a)
            case .uint(let a): return .uint(~a)
            default: return nil
            }
        })
        for (name, left) in [("math.bitShiftLeft", true), ("math.bitShiftRight", false)] {
            f.append(CELFunction(name, arity: 2) { call in
                guard case .int(let shift) = call.args[1] else { return nil }
                guard shift >= 0 else { throw CELError.eval("\(name)() negative offset: \(shift)") }
                let bits: UInt64
                switch call.args[0] {
                case .int(let a): bits = UInt64(bitPattern: a)
                case .uint(let a): bits = a
                default: return nil
                }
                // Shifts of 64 or more clear every bit; right shifts of ints are logical.
                let r = shift >= 64 ? 0 : (left ? bits << UInt64(shift) : bits >> UInt64(shift))
                if case .int = call.args[0] { return .int(Int64(bitPattern: r)) }
                return .uint(r)
            })
        }
        return f
    }
}

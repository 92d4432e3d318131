import Foundation

/// Built-in function registry. `.standard` has the spec's functions; `.kyverno` adds the
/// Kyverno extensions policies commonly use in attestation conditions.
public struct JMESFunctionTable: Sendable {
    struct Function: Sendable {
        let minArgs: Int
        let maxArgs: Int?      // nil = variadic
        let impl: @Sendable ([JMESArg], JMESInterpreter) throws(JMESPathError) -> JSONValue
    }
    var functions: [String: Function]

    public static let standard = JMESFunctionTable(functions: JMESStandardFunctions.all)
    public static let kyverno = JMESFunctionTable(functions: JMESStandardFunctions.all.merging(KyvernoFunctions.all) { $1 }.merging(KyvernoMoreFunctions.all) { $1 })

    public var names: [String] { functions.keys.sorted() }

    func checkArity(_ name: String, _ count: Int) throws(JMESPathError) {
        guard let f = functions[name] else {
            throw JMESPathError(kind: .unknownFunction, message: "unknown function \(name)()")
        }
        if count < f.minArgs || (f.maxArgs != nil && count > f.maxArgs!) {
            let expected = f.maxArgs == f.minArgs ? "\(f.minArgs)" : (f.maxArgs == nil ? "at least \(f.minArgs)" : "\(f.minArgs)-\(f.maxArgs!)")
            throw JMESPathError(kind: .invalidArity, message: "\(name)() takes \(expected) arguments, got \(count)")
        }
    }

    func call(_ name: String, _ args: [JMESArg], interpreter: JMESInterpreter) throws(JMESPathError) -> JSONValue {
        try checkArity(name, args.count)
        return try functions[name]!.impl(args, interpreter)
    }
}

/// Argument helpers shared by the function implementations.
enum JMESArgs {
    static func typeError(_ fn: String, _ i: Int, _ want: String, _ got: JMESArg) -> JMESPathError {
        let gotName: String
        switch got {
        case .value(let v): gotName = v.typeName
        case .expref: gotName = "expref"
        }
        return JMESPathError(kind: .invalidType, message: "\(fn)() argument \(i + 1) must be \(want), got \(gotName)")
    }
    static func value(_ fn: String, _ a: [JMESArg], _ i: Int) throws(JMESPathError) -> JSONValue {
        guard case .value(let v) = a[i] else { throw typeError(fn, i, "a value", a[i]) }
        return v
    }
    static func number(_ fn: String, _ a: [JMESArg], _ i: Int) throws(JMESPathError) -> Double {
        guard case .value(.number(let n)) = a[i] else { throw typeError(fn, i, "a number", a[i]) }
        return n
    }
    static func string(_ fn: String, _ a: [JMESArg], _ i: Int) throws(JMESPathError) -> String {
        guard case .value(.string(let s)) = a[i] else { throw typeError(fn, i, "a string", a[i]) }
        return s
    }
    static func array(_ fn: String, _ a: [JMESArg], _ i: Int) throws(JMESPathError) -> [JSONValue] {
        guard case .value(.array(let x)) = a[i] else { throw typeError(fn, i, "an array", a[i]) }
        return x
    }
    static func object(_ fn: String, _ a: [JMESArg], _ i: Int) throws(JMESPathError) -> [String: JSONValue] {
        guard case .value(.object(let x)) = a[i] else { throw typeError(fn, i, "an object", a[i]) }
        return x
    }
    static func expref(_ fn: String, _ a: [JMESArg], _ i: Int) throws(JMESPathError) -> JMESNode {
        guard case .expref(let n) = a[i] else { throw typeError(fn, i, "an expression (&expr)", a[i]) }
        return n
    }
    static func numbers(_ fn: String, _ a: [JMESArg], _ i: Int) throws(JMESPathError) -> [Double] {
        var out: [Double] = []
        for e in try array(fn, a, i) {
            guard case .number(let n) = e else { throw typeError(fn, i, "an array of numbers", a[i]) }
            out.append(n)
        }
        return out
    }
    static func strings(_ fn: String, _ a: [JMESArg], _ i: Int) throws(JMESPathError) -> [String] {
        var out: [String] = []
        for e in try array(fn, a, i) {
            guard case .string(let s) = e else { throw typeError(fn, i, "an array of strings", a[i]) }
            out.append(s)
        }
        return out
    }
}

enum JMESStandardFunctions {
    typealias F = JMESFunctionTable.Function
    typealias A = JMESArgs

    /// Orders numbers or strings; mixed or other types are an error.
    static func sortKey(_ fn: String, _ values: [JSONValue]) throws(JMESPathError) -> Bool? {
        if values.allSatisfy({ if case .number = $0 { return true }; return false }) { return true }
        if values.allSatisfy({ if case .string = $0 { return true }; return false }) { return false }
        throw JMESPathError(kind: .invalidType, message: "\(fn)() requires all numbers or all strings")
    }
    static func less(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): return x < y
        case (.string(let x), .string(let y)): return Array(x.unicodeScalars.map(\.value)).lexicographicallyPrecedes(y.unicodeScalars.map(\.value))
        default: return false
        }
    }

    static func byExpr(_ fn: String, _ a: [JMESArg], _ it: JMESInterpreter) throws(JMESPathError) -> [(JSONValue, JSONValue)] {
        let arr = try A.array(fn, a, 0)
        let e = try A.expref(fn, a, 1)
        var keyed: [(JSONValue, JSONValue)] = []
        for x in arr { keyed.append((try it.eval(e, x), x)) }
        if !keyed.isEmpty { _ = try sortKey(fn, keyed.map(\.0)) }
        return keyed
    }

    static let all: [String: F] = [
        "abs": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in .number(abs(try A.number("abs", a, 0))) },
        "avg": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in
            let n = try A.numbers("avg", a, 0)
            return n.isEmpty ? .null : .number(n.reduce(0, +) / Double(n.count))
        },
        "ceil": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in .number((try A.number("ceil", a, 0)).rounded(.up)) },
        "floor": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in .number((try A.number("floor", a, 0)).rounded(.down)) },
        "contains": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            let needle = try A.value("contains", a, 1)
            switch try A.value("contains", a, 0) {
            case .array(let arr): return .bool(arr.contains(needle))
            case .string(let s):
                guard case .string(let n) = needle else { return .bool(false) }
                return .bool(n.isEmpty || s.contains(n))
            default: throw A.typeError("contains", 0, "an array or string", a[0])
            }
        },
        "ends_with": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            .bool((try A.string("ends_with", a, 0)).hasSuffix(try A.string("ends_with", a, 1)))
        },
        "starts_with": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            .bool((try A.string("starts_with", a, 0)).hasPrefix(try A.string("starts_with", a, 1)))
        },
        "join": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            .string((try A.strings("join", a, 1)).joined(separator: try A.string("join", a, 0)))
        },
        "keys": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in
            .array((try A.object("keys", a, 0)).keys.sorted().map { .string($0) })
        },
        "values": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in
            let o = try A.object("values", a, 0)
            return .array(o.keys.sorted().map { o[$0]! })
        },
        "length": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in
            switch try A.value("length", a, 0) {
            case .string(let s): return .number(Double(s.unicodeScalars.count))
            case .array(let x): return .number(Double(x.count))
            case .object(let o): return .number(Double(o.count))
            default: throw A.typeError("length", 0, "a string, array or object", a[0])
            }
        },
        "map": F(minArgs: 2, maxArgs: 2) { a, it throws(JMESPathError) in
            let e = try A.expref("map", a, 0)
            var out: [JSONValue] = []
            for x in try A.array("map", a, 1) { out.append(try it.eval(e, x)) }
            return .array(out)
        },
        "max": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in
            let arr = try A.array("max", a, 0)
            if arr.isEmpty { return .null }
            _ = try sortKey("max", arr)
            return arr.max(by: less)!
        },
        "min": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in
            let arr = try A.array("min", a, 0)
            if arr.isEmpty { return .null }
            _ = try sortKey("min", arr)
            return arr.min(by: less)!
        },
        "max_by": F(minArgs: 2, maxArgs: 2) { a, it throws(JMESPathError) in
            let keyed = try byExpr("max_by", a, it)
            return keyed.max(by: { less($0.0, $1.0) })?.1 ?? .null
        },
        "min_by": F(minArgs: 2, maxArgs: 2) { a, it throws(JMESPathError) in
            let keyed = try byExpr("min_by", a, it)
            return keyed.min(by: { less($0.0, $1.0) })?.1 ?? .null
        },
        "sort_by": F(minArgs: 2, maxArgs: 2) { a, it throws(JMESPathError) in
            let keyed = try byExpr("sort_by", a, it)
            // Stable sort: keep original order for equal keys.
            let sorted = keyed.enumerated().sorted { l, r in
                less(l.element.0, r.element.0) || (!less(r.element.0, l.element.0) && l.offset < r.offset)
            }
            return .array(sorted.map { $0.element.1 })
        },
        "merge": F(minArgs: 1, maxArgs: nil) { a, _ throws(JMESPathError) in
            var out: [String: JSONValue] = [:]
            for i in a.indices { out.merge(try A.object("merge", a, i)) { $1 } }
            return .object(out)
        },
        "not_null": F(minArgs: 1, maxArgs: nil) { a, _ throws(JMESPathError) in
            for i in a.indices { let v = try A.value("not_null", a, i); if !v.isNull { return v } }
            return .null
        },
        "reverse": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in
            switch try A.value("reverse", a, 0) {
            case .string(let s): return .string(String(s.reversed()))
            case .array(let x): return .array(x.reversed())
            default: throw A.typeError("reverse", 0, "a string or array", a[0])
            }
        },
        "sort": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in
            let arr = try A.array("sort", a, 0)
            if arr.isEmpty { return .array([]) }
            _ = try sortKey("sort", arr)
            return .array(arr.sorted(by: less))
        },
        "sum": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in .number((try A.numbers("sum", a, 0)).reduce(0, +)) },
        "to_array": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in
            let v = try A.value("to_array", a, 0)
            if case .array = v { return v }
            return .array([v])
        },
        "to_string": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in
            let v = try A.value("to_string", a, 0)
            if case .string = v { return v }
            return .string(v.jsonString)
        },
        "to_number": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in
            switch try A.value("to_number", a, 0) {
            case .number(let n): return .number(n)
            case .string(let s):
                guard case .number(let n)? = try? JSONValue.parse(s) else { return .null }
                return .number(n)
            default: return .null
            }
        },
        "type": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in .string((try A.value("type", a, 0)).typeName) },
    ]
}

/// A compiled JMESPath expression. Syntax errors, unknown functions and wrong argument counts
/// are reported by `compile` (i.e. at policy load time); type errors at `search` time.
public struct JMESPath: Sendable {
    public let expression: String
    let root: JMESNode
    let functions: JMESFunctionTable

    /// `functions: .kyverno` adds Kyverno's extra functions (regex_match, truncate, ...).
    public static func compile(_ expression: String, functions: JMESFunctionTable = .standard) throws(JMESPathError) -> JMESPath {
        var p = try JMESParser(expression, functions: functions)
        return JMESPath(expression: expression, root: try p.parse(), functions: functions)
    }

    public func search(_ data: JSONValue) throws(JMESPathError) -> JSONValue {
        try JMESInterpreter(functions: functions).eval(root, data)
    }
}

/// Truthiness per the spec: false, null, "", [], {} are false.
extension JSONValue {
    var isTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let b): b
        case .string(let s): !s.isEmpty
        case .array(let a): !a.isEmpty
        case .object(let o): !o.isEmpty
        case .number: true
        }
    }
}

enum JMESArg {
    case value(JSONValue)
    case expref(JMESNode)
}

struct JMESInterpreter {
    let functions: JMESFunctionTable

    func eval(_ node: JMESNode, _ v: JSONValue) throws(JMESPathError) -> JSONValue {
        switch node {
        case .identity, .current: return v
        case .field(let name): return v[name] ?? .null
        case .literal(let l): return l
        case .subexpression(let l, let r): return try eval(r, try eval(l, v))
        case .index(let i):
            guard case .array(let a) = v else { return .null }
            let idx = i < 0 ? a.count + i : i
            return idx >= 0 && idx < a.count ? a[idx] : .null
        case .slice(let start, let stop, let step):
            guard case .array(let a) = v else { return .null }
            return .array(Self.slice(a, start, stop, step ?? 1))
        case .indexExpression(let l, let r): return try eval(r, try eval(l, v))
        case .projection(let l, let r):
            guard case .array(let a) = try eval(l, v) else { return .null }
            var out: [JSONValue] = []
            for e in a {
                let x = try eval(r, e)
                if !x.isNull { out.append(x) }
            }
            return .array(out)
        case .valueProjection(let l, let r):
            guard case .object(let o) = try eval(l, v) else { return .null }
            var out: [JSONValue] = []
            for key in o.keys.sorted() {
                let x = try eval(r, o[key]!)
                if !x.isNull { out.append(x) }
            }
            return .array(out)
        case .filterProjection(let l, let r, let cond):
            guard case .array(let a) = try eval(l, v) else { return .null }
            var out: [JSONValue] = []
            for e in a where try eval(cond, e).isTruthy {
                let x = try eval(r, e)
                if !x.isNull { out.append(x) }
            }
            return .array(out)
        case .flatten(let l):
            guard case .array(let a) = try eval(l, v) else { return .null }
            var out: [JSONValue] = []
            for e in a {
                if case .array(let inner) = e { out += inner } else { out.append(e) }
            }
            return .array(out)
        case .pipe(let l, let r): return try eval(r, try eval(l, v))
        case .or(let l, let r):
            let x = try eval(l, v)
            return x.isTruthy ? x : try eval(r, v)
        case .and(let l, let r):
            let x = try eval(l, v)
            return x.isTruthy ? try eval(r, v) : x
        case .not(let e): return .bool(!(try eval(e, v)).isTruthy)
        case .comparator(let op, let l, let r):
            return Self.compare(op, try eval(l, v), try eval(r, v))
        case .multiSelectList(let items):
            if v.isNull { return .null }
            var out: [JSONValue] = []
            for i in items { out.append(try eval(i, v)) }
            return .array(out)
        case .multiSelectHash(let pairs):
            if v.isNull { return .null }
            var out: [String: JSONValue] = [:]
            for (k, e) in pairs { out[k] = try eval(e, v) }
            return .object(out)
        case .function(let name, let argNodes):
            var args: [JMESArg] = []
            for a in argNodes {
                if case .expref(let inner) = a { args.append(.expref(inner)) } else { args.append(.value(try eval(a, v))) }
            }
            return try functions.call(name, args, interpreter: self)
        case .expref:
            throw JMESPathError(kind: .invalidType, message: "expression reference used outside a function argument")
        }
    }

    static func compare(_ op: JMESToken, _ a: JSONValue, _ b: JSONValue) -> JSONValue {
        switch op {
        case .eq: return .bool(a == b)
        case .ne: return .bool(a != b)
        default:
            guard case .number(let x) = a, case .number(let y) = b else { return .null }
            switch op {
            case .lt: return .bool(x < y)
            case .lte: return .bool(x <= y)
            case .gt: return .bool(x > y)
            case .gte: return .bool(x >= y)
            default: return .null
            }
        }
    }

    /// Python-style slicing.
    static func slice(_ a: [JSONValue], _ start: Int?, _ stop: Int?, _ step: Int) -> [JSONValue] {
        let n = a.count
        func clamp(_ v: Int?, _ def: Int, _ lo: Int, _ hi: Int) -> Int {
            guard var v else { return def }
            if v < 0 { v += n; return max(v, lo) }
            return min(v, hi)
        }
        var out: [JSONValue] = []
        if step > 0 {
            let s = clamp(start, 0, 0, n), e = clamp(stop, n, 0, n)
            var i = s
            while i < e { out.append(a[i]); i += step }
        } else {
            let s = clamp(start, n - 1, -1, n - 1), e = clamp(stop, -1, -1, n - 1)
            var i = s
            while i > e { out.append(a[i]); i += step }
        }
        return out
    }
}

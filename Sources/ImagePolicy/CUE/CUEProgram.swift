import Foundation
import SealgateCore

/// Evaluated constraint of the CUE subset.
indirect enum CUEValue: Sendable {
    case top
    case bottom(String)
    case concrete(JSONValue)          // string, number, bool or null
    case kind(CUEKind)
    case bound(CUEBoundOp, JSONValue)
    case all([CUEValue])              // conjunction (&, repeated fields)
    case any([CUEValue])              // disjunction (|)
    case structV([(label: String, optional: Bool, value: CUEValue)], closed: Bool)
    case list([CUEValue], rest: CUEValue?)
}

/// A compiled policy in sealgate's CUE subset: fields, concrete values, `string`/`int`/`number`/
/// `float`/`bool`/`_`, unary bounds (`<` `<=` `>` `>=` `!=` `=~` `!~`), `&`, `|`, structs, lists
/// (with `...T`), optional fields `?`, `close()`, references to fields, and `import "time"`
/// (`time.Parse`, `time.RFC3339`, `time.RFC3339Nano`, `time.Now()`). Anything else fails to compile.
///
/// Evaluation unifies the policy with a JSON document and requires every field to end up
/// concrete, like policy-controller's `Unify(...).Validate(cue.Concrete(true))`.
public struct CUEProgram: Sendable {
    public let source: String
    let value: CUEValue

    public init(compiling source: String) throws(CUEError) {
        var p = try CUEParser(source)
        let fields = try p.parseFile()
        var ev = CUEEvaluator(imports: p.imports)
        self.source = source
        self.value = try ev.evaluate(.structLit(fields), scopes: [fields])
    }

    /// Violations of the policy by `document` (empty = passes), each prefixed by its field path.
    public func violations(of document: JSONValue) -> [String] {
        CUEChecker.check(value, document, path: "")
    }

    public func passes(_ document: JSONValue) -> Bool { violations(of: document).isEmpty }
}

/// Resolves references and built-ins, producing a `CUEValue`.
struct CUEEvaluator {
    let imports: Set<String>
    var depth = 0

    static let timeConstants: [String: String] = [
        "RFC3339": "2006-01-02T15:04:05Z07:00",
        "RFC3339Nano": "2006-01-02T15:04:05.999999999Z07:00",
    ]

    mutating func evaluate(_ e: CUEExpr, scopes: [[CUEField]]) throws(CUEError) -> CUEValue {
        depth += 1
        defer { depth -= 1 }
        if depth > 200 { throw CUEError(line: 0, column: 0, message: "reference cycle or nesting too deep") }
        switch e {
        case .string(let s): return .concrete(.string(s))
        case .number(let n, _): return .concrete(.number(n))
        case .bool(let b): return .concrete(.bool(b))
        case .null: return .concrete(.null)
        case .top: return .top
        case .bottom: return .bottom("explicit error (_|_)")
        case .kind(let k): return .kind(k)
        case .and(let l, let r): return .all([try evaluate(l, scopes: scopes), try evaluate(r, scopes: scopes)])
        case .or(let l, let r): return .any([try evaluate(l, scopes: scopes), try evaluate(r, scopes: scopes)])
        case .bound(let op, let operand):
            let v = try evaluate(operand, scopes: scopes)
            guard case .concrete(let c) = v else {
                throw CUEError(line: 0, column: 0, message: "the operand of \(op.rawValue) must be a concrete value")
            }
            if op == .match || op == .notMatch {
                guard case .string(let re) = c else { throw CUEError(line: 0, column: 0, message: "\(op.rawValue) needs a string regular expression") }
                guard (try? Regex(re)) != nil else { throw CUEError(line: 0, column: 0, message: "invalid regular expression \"\(re)\"") }
            }
            if op == .eq { return .concrete(c) }
            return .bound(op, c)
        case .structLit(let fields):
            let inner = scopes + [fields]
            var out: [(label: String, optional: Bool, value: CUEValue)] = []
            for f in fields {
                let v = try evaluate(f.value, scopes: inner)
                if let i = out.firstIndex(where: { $0.label == f.label }) {
                    out[i] = (f.label, out[i].optional && f.optional, .all([out[i].value, v]))
                } else {
                    out.append((f.label, f.optional, v))
                }
            }
            return .structV(out, closed: false)
        case .list(let items, let rest):
            var vs: [CUEValue] = []
            for i in items { vs.append(try evaluate(i, scopes: scopes)) }
            return .list(vs, rest: try rest.map { (r) throws(CUEError) in try evaluate(r, scopes: scopes) })
        case .ref(let name, let line, let column):
            for (i, scope) in scopes.enumerated().reversed() {
                let matches = scope.filter { $0.label == name }
                if matches.isEmpty { continue }
                let outer = Array(scopes[...i])
                var vs: [CUEValue] = []
                for m in matches { vs.append(try evaluate(m.value, scopes: outer)) }
                return vs.count == 1 ? vs[0] : .all(vs)
            }
            if imports.contains(name) {
                throw CUEError(line: line, column: column, message: "package \(name) cannot be used as a value")
            }
            throw CUEError(line: line, column: column, message: "reference \"\(name)\" not found")
        case .selector(let base, let sel, let line, let column):
            if case .ref("time", _, _) = base, imports.contains("time") {
                if let c = Self.timeConstants[sel] { return .concrete(.string(c)) }
                throw CUEError(line: line, column: column, message: "time.\(sel) is not supported (only RFC3339, RFC3339Nano, Parse, Now)")
            }
            let v = try evaluate(base, scopes: scopes)
            guard case .structV(let fields, _) = v, let f = fields.first(where: { $0.label == sel }) else {
                throw CUEError(line: line, column: column, message: "field \(sel) not found")
            }
            return f.value
        case .call(let fn, let args, let line, let column):
            var vals: [CUEValue] = []
            for a in args { vals.append(try evaluate(a, scopes: scopes)) }
            func fail(_ m: String) -> CUEError { CUEError(line: line, column: column, message: m) }
            switch fn {
            case .ref("close", _, _):
                guard vals.count == 1, case .structV(let fields, _) = vals[0] else { throw fail("close() takes one struct") }
                return .structV(fields, closed: true)
            case .selector(.ref("time", _, _), "Parse", _, _) where imports.contains("time"):
                guard vals.count == 2, case .concrete(.string(let layout)) = vals[0], case .concrete(.string(let text)) = vals[1] else {
                    throw fail("time.Parse(layout, value) takes two concrete strings")
                }
                guard Self.timeConstants.values.contains(layout) else { throw fail("time.Parse supports only the RFC 3339 layouts") }
                guard let date = RFC3339.parse(text) else { throw fail("time.Parse: cannot parse \"\(text)\" as RFC 3339") }
                return .concrete(.string(text.hasSuffix("Z") ? text : RFC3339.format(date)))
            case .selector(.ref("time", _, _), "Now", _, _) where imports.contains("time"):
                guard vals.isEmpty else { throw fail("time.Now() takes no arguments") }
                return .concrete(.string(RFC3339.format(Date())))
            case .ref(let name, _, _):
                throw fail("function \(name)() is not supported in sealgate's CUE subset")
            case .selector(let b, let name, _, _):
                if case .ref(let pkg, _, _) = b, !imports.contains(pkg) {
                    throw fail("package \(pkg) is not imported")
                }
                throw fail("function \(name)() is not supported in sealgate's CUE subset")
            default:
                throw fail("only built-in functions can be called")
            }
        }
    }
}

/// Unifies a `CUEValue` with concrete JSON and reports conflicts and incomplete values.
enum CUEChecker {
    static func show(_ v: JSONValue) -> String { v.jsonString }

    static func join(_ path: String, _ label: String) -> String { path.isEmpty ? label : "\(path).\(label)" }

    static func check(_ c: CUEValue, _ data: JSONValue?, path: String) -> [String] {
        let at = path.isEmpty ? "" : "\(path): "
        switch c {
        case .top:
            return data == nil ? ["\(at)incomplete value _"] : []
        case .bottom(let why):
            return ["\(at)\(why)"]
        case .concrete(let v):
            guard let data else { return [] }
            return equal(v, data) ? [] : ["\(at)conflicting values \(show(v)) and \(show(data))"]
        case .kind(let k):
            guard let data else { return ["\(at)incomplete value \(k.rawValue)"] }
            return kindMatches(k, data) ? [] : ["\(at)conflicting values \(k.rawValue) and \(show(data)) (mismatched types)"]
        case .bound(let op, let operand):
            guard let data else { return ["\(at)incomplete value \(op.rawValue)\(show(operand))"] }
            return bound(op, operand, data) ? [] : ["\(at)invalid value \(show(data)) (out of bound \(op.rawValue)\(show(operand)))"]
        case .all(let parts):
            var effective = data
            if effective == nil {
                for p in parts { if case .concrete(let v) = p { effective = v; break } }
            }
            return parts.flatMap { check($0, effective, path: path) }
        case .any(let alts):
            let results = alts.map { check($0, data, path: path) }
            let ok = results.filter(\.isEmpty).count
            if data == nil {
                if ok == 1 && alts.contains(where: { if case .concrete = $0 { return true }; return false }) { return [] }
                return ok == 0 ? results[0] : ["\(at)incomplete value (unresolved disjunction)"]
            }
            return ok > 0 ? [] : ["\(at)empty disjunction: \(show(data!)) matches none of the alternatives (\(results.compactMap(\.first).joined(separator: "; ")))"]
        case .structV(let fields, let closed):
            var object: [String: JSONValue] = [:]
            if let data {
                guard case .object(let o) = data else { return ["\(at)conflicting values struct and \(show(data)) (mismatched types)"] }
                object = o
            }
            var errs: [String] = []
            for f in fields {
                let value = object[f.label]
                if value == nil && f.optional { continue }
                errs += check(f.value, value, path: join(path, f.label))
            }
            if closed {
                for key in object.keys.sorted() where !fields.contains(where: { $0.label == key }) {
                    errs.append("\(join(path, key)): field not allowed (closed struct)")
                }
            }
            return errs
        case .list(let items, let rest):
            guard let data else {
                return items.enumerated().flatMap { check($0.element, nil, path: "\(path)[\($0.offset)]") }
            }
            guard case .array(let arr) = data else { return ["\(at)conflicting values list and \(show(data)) (mismatched types)"] }
            if arr.count < items.count || (rest == nil && arr.count > items.count) {
                return ["\(at)incompatible list lengths (\(items.count) and \(arr.count))"]
            }
            var errs: [String] = []
            for (i, e) in arr.enumerated() {
                let constraint = i < items.count ? items[i] : rest!
                errs += check(constraint, e, path: "\(path)[\(i)]")
            }
            return errs
        }
    }

    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if case .number(let x) = a, case .number(let y) = b { return x == y }
        return a == b
    }

    static func kindMatches(_ k: CUEKind, _ v: JSONValue) -> Bool {
        switch (k, v) {
        case (.string, .string): return true
        case (.bool, .bool): return true
        case (.number, .number), (.float, .number): return true
        case (.int, .number(let n)): return n == n.rounded()
        default: return false
        }
    }

    static func bound(_ op: CUEBoundOp, _ operand: JSONValue, _ data: JSONValue) -> Bool {
        switch op {
        case .ne: return !equal(operand, data)
        case .eq: return equal(operand, data)
        case .match, .notMatch:
            guard case .string(let re) = operand, case .string(let s) = data, let r = try? Regex(re) else { return false }
            return s.contains(r) == (op == .match)
        default:
            let order: Int
            switch (data, operand) {
            case (.number(let x), .number(let y)): order = x == y ? 0 : (x < y ? -1 : 1)
            case (.string(let x), .string(let y)): order = x == y ? 0 : (x < y ? -1 : 1)
            default: return false
            }
            switch op {
            case .lt: return order < 0
            case .lte: return order <= 0
            case .gt: return order > 0
            case .gte: return order >= 0
            default: return false
            }
        }
    }
}

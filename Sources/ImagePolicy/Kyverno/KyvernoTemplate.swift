/// A Kyverno value that may contain `{{ jmespath }}` variables (possibly nested:
/// `{{ regex_match('x', '{{ scanner.uri }}') }}`). All expressions are compiled at load time.
public struct KyvernoTemplate: Sendable {
    public let raw: JSONValue

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public init(_ raw: JSONValue) throws(Failure) {
        self.raw = raw
        try Self.validate(raw)
    }

    static func validate(_ v: JSONValue) throws(Failure) {
        switch v {
        case .string(let s): try validate(string: s)
        case .array(let a): for e in a { try validate(e) }
        case .object(let o): for (_, e) in o { try validate(e) }
        default: break
        }
    }

    /// Compiles innermost variables first, substituting a placeholder, as resolution would.
    static func validate(string: String) throws(Failure) {
        var s = string
        while let (range, expr) = innermost(s) {
            do { _ = try JMESPath.compile(expr, functions: .kyverno) } catch {
                throw Failure(description: "invalid JMESPath expression \"\(expr)\": \(error)")
            }
            s.replaceSubrange(range, with: "placeholder")
        }
        if s.contains("{{") || s.contains("}}") {
            throw Failure(description: "unbalanced {{ }} in \"\(string)\"")
        }
    }

    /// The first `{{ ... }}` that contains no other `{{`.
    static func innermost(_ s: String) -> (Range<String.Index>, String)? {
        guard let close = s.range(of: "}}") else { return nil }
        guard let open = s[..<close.lowerBound].range(of: "{{", options: .backwards) else { return nil }
        let expr = s[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
        return (open.lowerBound..<close.upperBound, expr)
    }

    /// Substitutes variables against `context`. A string that is exactly one variable becomes
    /// the variable's JSON value; otherwise values are spliced in as text. Unresolvable
    /// variables (null results) are errors, as in Kyverno.
    public func resolve(_ context: JSONValue) throws(Failure) -> JSONValue {
        try Self.resolve(raw, context)
    }

    static func resolve(_ v: JSONValue, _ ctx: JSONValue) throws(Failure) -> JSONValue {
        switch v {
        case .string(let s): return try resolve(string: s, ctx)
        case .array(let a):
            var out: [JSONValue] = []
            for e in a { out.append(try resolve(e, ctx)) }
            return .array(out)
        case .object(let o):
            var out: [String: JSONValue] = [:]
            for (k, e) in o { out[k] = try resolve(e, ctx) }
            return .object(out)
        default: return v
        }
    }

    static func resolve(string: String, _ ctx: JSONValue) throws(Failure) -> JSONValue {
        var s = string
        while let (range, expr) = innermost(s) {
            let value: JSONValue
            do { value = try JMESPath.compile(expr, functions: .kyverno).search(ctx) } catch {
                throw Failure(description: "failed to evaluate {{ \(expr) }}: \(error)")
            }
            if value.isNull { throw Failure(description: "variable {{ \(expr) }} could not be resolved") }
            if range == s.startIndex..<s.endIndex { return value }
            let text: String
            if case .string(let str) = value { text = str } else { text = value.jsonString }
            s.replaceSubrange(range, with: text)
        }
        return .string(s)
    }
}

import Foundation

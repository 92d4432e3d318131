/// Kubernetes `metav1.LabelSelector`.
public struct LabelSelector: Sendable, Hashable {
    public struct Requirement: Sendable, Hashable {
        public enum Operator: String, Sendable { case `in` = "In", notIn = "NotIn", exists = "Exists", doesNotExist = "DoesNotExist" }
        public var key: String
        public var op: Operator
        public var values: [String]
    }
    public var matchLabels: [String: String]
    public var matchExpressions: [Requirement]
    /// Kyverno allows wildcards in `matchLabels` values (and keys).
    public var wildcardValues: Bool

    /// Empty selector matches everything (Kubernetes semantics).
    public func matches(_ labels: [String: String]) -> Bool {
        for (k, v) in matchLabels {
            if wildcardValues {
                let hit = labels.contains { Wildcard.match(pattern: k, $0.key) && Wildcard.match(pattern: v, $0.value) }
                if !hit { return false }
            } else if labels[k] != v {
                return false
            }
        }
        for r in matchExpressions {
            let value = labels[r.key]
            switch r.op {
            case .in: guard let value, r.values.contains(value) else { return false }
            case .notIn: if let value, r.values.contains(value) { return false }
            case .exists: if value == nil { return false }
            case .doesNotExist: if value != nil { return false }
            }
        }
        return true
    }

    static func parse(_ r: FieldReader, wildcardValues: Bool) -> LabelSelector {
        var sel = LabelSelector(matchLabels: r.stringMap("matchLabels") ?? [:], matchExpressions: [], wildcardValues: wildcardValues)
        for e in r.objects("matchExpressions") ?? [] {
            let key = e.string("key") ?? ""
            if key.isEmpty { e.diags.error(e.at("key"), "missing field(s): \(e.at("key"))") }
            let opText = e.string("operator") ?? ""
            let values = e.strings("values") ?? []
            guard let op = Requirement.Operator(rawValue: opText) else {
                e.diags.error(e.at("operator"), "invalid value \"\(opText)\": must be one of In, NotIn, Exists, DoesNotExist")
                e.finish()
                continue
            }
            let needsValues = op == .in || op == .notIn
            if needsValues && values.isEmpty {
                e.diags.error(e.at("values"), "values must be non-empty for operator \(op.rawValue)")
            } else if !needsValues && !values.isEmpty {
                e.diags.error(e.at("values"), "values must be empty for operator \(op.rawValue)")
            }
            sel.matchExpressions.append(Requirement(key: key, op: op, values: values))
            e.finish()
        }
        r.finish()
        return sel
    }
}

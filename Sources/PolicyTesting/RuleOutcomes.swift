import Admission
import Foundation
import SealgateCore

/// A resource as policy results name it.
public struct ResourceID: Hashable, Sendable, Codable, CustomStringConvertible {
    public var apiVersion: String
    public var kind: String
    public var namespace: String?
    public var name: String
    public var uid: String?

    public init(apiVersion: String, kind: String, namespace: String?, name: String, uid: String? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
    }

    /// From a manifest; resources of namespaced kinds without a namespace are in `default`, as Kyverno assumes.
    public init(object: JSONValue?) {
        let meta = object?["metadata"]
        let kind = object?["kind"]?.stringValue ?? ""
        self.init(apiVersion: object?["apiVersion"]?.stringValue ?? "", kind: kind,
                  namespace: meta?["namespace"]?.stringValue ?? (Self.clusterScoped.contains(kind) ? nil : "default"),
                  name: meta?["name"]?.stringValue ?? "", uid: meta?["uid"]?.stringValue)
    }

    static let clusterScoped: Set<String> = ["Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "StorageClass",
                                             "CustomResourceDefinition", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
                                             "PriorityClass", "RuntimeClass", "IngressClass", "CSIDriver"]

    /// `v1/Pod/default/signed`, as `kyverno test` prints resources.
    public var description: String { [apiVersion, kind, namespace ?? "", name].filter { !$0.isEmpty }.joined(separator: "/") }
}

/// One image's part in a rule result: which authority/attestor passed or which check failed and why.
public struct ImageOutcome: Sendable, Codable {
    public var image: String
    public var digest: String?
    public var result: RuleResult
    public var checks: [Check]

    public struct Check: Sendable, Codable {
        public var check: String
        public var kind: String
        public var passed: Bool
        public var transient: Bool
        public var detail: String
    }
}

/// The result of one policy rule (or one ClusterImagePolicy) for one resource, over all its images.
public struct RuleOutcome: Sendable, Codable {
    public var resource: ResourceID
    /// `ClusterPolicy`, `Policy`, `ClusterImagePolicy`, or `-` for admission-level failures (unresolvable tag, bad reference).
    public var policyKind: String
    /// Policy name as Kyverno tests name it: `name`, or `namespace/name` for a namespaced Policy.
    public var policy: String
    /// Kyverno rule name; empty for ClusterImagePolicy.
    public var rule: String
    public var result: RuleResult
    public var message: String
    public var images: [ImageOutcome]
}

public enum RuleOutcomes {
    /// Per (policy, rule): the worst image result, with every image's checks. `auditWarn` reports failures
    /// of Audit/warn-mode policies as `warn` (as `kyverno --audit-warn`); by default they are `fail`.
    public static func outcomes(resource: ResourceID, images: [ImageDecision], auditWarn: Bool = false) -> [RuleOutcome] {
        var order: [String] = []
        var byKey: [String: RuleOutcome] = [:]
        func add(kind: String, policy: String, rule: String, image: ImageOutcome) {
            let key = "\(kind)\u{0}\(policy)\u{0}\(rule)"
            if byKey[key] == nil {
                order.append(key)
                byKey[key] = RuleOutcome(resource: resource, policyKind: kind, policy: policy, rule: rule, result: .skip, message: "", images: [])
            }
            byKey[key]!.images.append(image)
            byKey[key]!.result = max(byKey[key]!.result, image.result)
        }
        for decision in images {
            if decision.verdicts.isEmpty {
                // Decided before any policy ran: a failure here (tag not resolvable, bad reference, deadline) fails the resource.
                let failed = decision.checks.filter { $0.result == "fail" }
                guard !failed.isEmpty else { continue }
                let result: RuleResult = failed.contains { $0.transient } ? .error : .fail
                add(kind: "-", policy: "-", rule: "", image: ImageOutcome(image: decision.image, digest: decision.digest, result: result, checks: failed.map {
                    ImageOutcome.Check(check: $0.check, kind: $0.check, passed: false, transient: $0.transient, detail: $0.detail)
                }))
                continue
            }
            for verdict in decision.verdicts {
                let (kind, name) = split(verdict.policy)
                let result: RuleResult
                switch verdict.decision {
                case .pass: result = .pass
                case .skip: result = .skip
                case .fail: result = verdict.transient ? .error : .fail
                case .warn: result = verdict.transient ? .error : (auditWarn ? .warn : .fail)
                }
                add(kind: kind, policy: name, rule: ruleName(verdict.rule), image: ImageOutcome(image: decision.image, digest: decision.digest, result: result, checks: verdict.reasons.map {
                    ImageOutcome.Check(check: $0.check, kind: $0.kind.rawValue, passed: $0.passed, transient: $0.transient, detail: $0.detail)
                }))
            }
        }
        return order.map { key in
            var o = byKey[key]!
            o.message = message(o)
            return o
        }
    }

    /// `ClusterPolicy/name` → (ClusterPolicy, name); `Policy/ns/name` → (Policy, ns/name).
    static func split(_ label: String) -> (String, String) {
        guard let slash = label.firstIndex(of: "/") else { return ("-", label) }
        return (String(label[..<slash]), String(label[label.index(after: slash)...]))
    }

    /// The engine names the n-th verifyImages entry of a rule `rule verifyImages[n]`; results are per rule.
    static func ruleName(_ rule: String?) -> String {
        guard let rule else { return "" }
        if let r = rule.range(of: " verifyImages[") { return String(rule[..<r.lowerBound]) }
        return rule
    }

    /// Per image: the failed checks of a failing image, else what passed.
    static func message(_ o: RuleOutcome) -> String {
        o.images.map { image in
            let failing = image.checks.filter { !$0.passed }
            let shown = image.result == .pass || image.result == .skip || failing.isEmpty ? image.checks : failing
            let what = shown.map { "\($0.check): \($0.detail)" }.joined(separator: "; ")
            return "\(image.image): \(image.result.rawValue)\(what.isEmpty ? "" : " (\(what))")"
        }.joined(separator: "\n")
    }
}

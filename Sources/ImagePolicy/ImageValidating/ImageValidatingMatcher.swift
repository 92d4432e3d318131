import Foundation

/// Whether an ImageValidatingPolicy applies to a request (`matchConstraints`, with autogen for pod controllers)
/// and which of its images it covers (`matchImageReferences`). CEL `matchConditions` come after, in the evaluator.
enum ImageValidatingMatcher {
    /// Pod controllers Kyverno's autogen rewrites pod policies for, by kind, with their plural resource.
    static let podControllers: [String: (group: String, resource: String)] = [
        "Deployment": ("apps", "deployments"), "StatefulSet": ("apps", "statefulsets"), "DaemonSet": ("apps", "daemonsets"),
        "ReplicaSet": ("apps", "replicasets"), "Job": ("batch", "jobs"), "CronJob": ("batch", "cronjobs"),
        "ReplicationController": ("", "replicationcontrollers"),
    ]

    static func applies(_ p: ImageValidatingPolicy, _ c: AdmissionContext) -> Bool {
        guard p.admissionEnabled else { return false }
        if let ns = p.namespace, c.namespace != ns { return false }
        let m = p.matchConstraints
        let direct = m.resourceRules.contains { matches($0, c, resource: c.resource, group: c.group) }
        // Autogen: a policy written for pods also covers the pod templates of the listed controllers.
        let autogen = p.autogenControllers.contains(c.kind) && m.resourceRules.contains { rule in
            matches(rule, c, resource: "pods", group: "")
        }
        guard direct || autogen else { return false }
        if m.excludeResourceRules.contains(where: { matches($0, c, resource: c.resource, group: c.group) }) { return false }
        if let sel = m.namespaceSelector, c.namespace != nil, !sel.matches(c.namespaceLabels) { return false }
        if let sel = m.objectSelector, !sel.matches(c.labels) { return false }
        return true
    }

    static func matches(_ r: ImageValidatingPolicy.ResourceRule, _ c: AdmissionContext, resource: String, group: String) -> Bool {
        func any(_ values: [String], _ value: String) -> Bool { values.contains("*") || values.contains(value) }
        guard any(r.apiGroups, group), any(r.operations, c.operation) else { return false }
        // For autogen the controller's own version is irrelevant: pods are v1.
        if resource == c.resource, !any(r.apiVersions, c.version) { return false }
        let resourceMatch = r.resources.contains { pattern in
            pattern == "*" || pattern == resource || pattern == "*/*" || pattern.hasPrefix(resource + "/") && pattern.hasSuffix("*")
        }
        guard resourceMatch else { return false }
        if !r.resourceNames.isEmpty, !r.resourceNames.contains(c.name) { return false }
        switch r.scope {
        case "Cluster": return c.namespace == nil
        case "Namespaced": return c.namespace != nil
        default: return true
        }
    }

    /// `matchImageReferences` globs (expressions are the evaluator's); no entries: every image.
    static func globMatches(_ p: ImageValidatingPolicy, _ image: String) -> Bool? {
        if p.matchImageReferences.isEmpty { return true }
        var undecided = false
        for m in p.matchImageReferences {
            switch m {
            case .glob(let g): if Wildcard.match(pattern: g, image) { return true }
            case .expression: undecided = true
            }
        }
        return undecided ? nil : false
    }
}

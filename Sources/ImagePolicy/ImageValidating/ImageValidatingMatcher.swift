import Foundation

/// Whether an ImageValidatingPolicy applies to a request (`matchConstraints`, with autogen for pod controllers).
/// CEL `matchConditions` and `matchImageReferences` come after, in the evaluator.
enum ImageValidatingMatcher {
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
}

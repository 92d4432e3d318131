/// Kyverno match/exclude against the admission context (kyverno pkg/engine/utils/match.go): inside a filter
/// every given attribute must hold (kinds, names, namespaces, annotations, selectors, operations, subjects).
enum KyvernoMatcher {
    /// `match`: `any` filters ORed, `all` ANDed. Without user info (background, `test` without a userinfo file)
    /// Kyverno drops the filters' user part, so `subjects` do not restrict a match.
    static func matches(_ m: KyvernoMatch, policy: KyvernoPolicy, context: AdmissionContext) -> Bool {
        holds(m, policy: policy, context: context, ignoreUser: context.user == nil)
    }

    /// `exclude`: the same test, but user conditions always count (no user info: a subject never excludes).
    static func excludes(_ m: KyvernoMatch, policy: KyvernoPolicy, context: AdmissionContext) -> Bool {
        holds(m, policy: policy, context: context, ignoreUser: false)
    }

    static func holds(_ m: KyvernoMatch, policy: KyvernoPolicy, context: AdmissionContext, ignoreUser: Bool) -> Bool {
        let f = { (rf: KyvernoResourceFilter) in filter(rf, policy: policy, context: context, ignoreUser: ignoreUser) }
        if !m.any.isEmpty, !m.any.contains(where: f) { return false }
        if !m.all.isEmpty, !m.all.allSatisfy(f) { return false }
        return !(m.any.isEmpty && m.all.isEmpty)
    }

    static func filter(_ f: KyvernoResourceFilter, policy: KyvernoPolicy, context: AdmissionContext, ignoreUser: Bool = false) -> Bool {
        if !f.kinds.isEmpty, !f.kinds.contains(where: { kindMatches($0, policy: policy, context: context) }) { return false }
        if !f.names.isEmpty, !f.names.contains(where: { Wildcard.match(pattern: $0, context.name) }) { return false }
        if !f.namespaces.isEmpty {
            // A Namespace is matched by its own name.
            guard let ns = context.kind == "Namespace" ? context.name : context.namespace,
                  f.namespaces.contains(where: { Wildcard.match(pattern: $0, ns) }) else { return false }
        }
        for (k, v) in f.annotations {
            guard context.annotations.contains(where: { Wildcard.match(pattern: k, $0.key) && Wildcard.match(pattern: v, $0.value) }) else { return false }
        }
        if let s = f.selector, !s.matches(context.labels) { return false }
        // Not applied to Namespace objects themselves; cluster-scoped objects have no namespace labels (empty set).
        if let s = f.namespaceSelector, context.kind != "Namespace", !s.matches(context.namespaceLabels) { return false }
        if !f.operations.isEmpty, !f.operations.contains(context.operation) { return false }
        if !ignoreUser, !f.subjects.isEmpty {
            guard let user = context.user, f.subjects.contains(where: { $0.matches(user) }) else { return false }
        }
        return true
    }

    /// `Pod`, `v1/Pod`, `apps/v1/Deployment`, `*`; Pod rules also cover autogen controllers.
    static func kindMatches(_ spec: String, policy: KyvernoPolicy, context: AdmissionContext) -> Bool {
        var parts = spec.split(separator: "/").map(String.init)
        // `Kind/subresource` (e.g. Pod/ephemeralcontainers): sealgate admits whole objects, match on the kind.
        if let last = parts.last, parts.count >= 2, last.first?.isLowercase == true { parts.removeLast() }
        let kind = parts.last ?? spec
        if parts.count == 3 {
            guard Wildcard.match(pattern: parts[0], context.group), Wildcard.match(pattern: parts[1], context.version) else { return false }
        } else if parts.count == 2 {
            guard Wildcard.match(pattern: parts[0], context.version) || Wildcard.match(pattern: parts[0], context.group) else { return false }
        }
        if Wildcard.match(pattern: kind, context.kind) { return true }
        return kind == "Pod" && policy.autogenControllers.contains(context.kind)
    }
}

extension KyvernoSubject {
    /// kyverno pkg/utils/match/subjects.go: wildcards in names; a ServiceAccount is its `system:serviceaccount:` user.
    func matches(_ user: RequestUser) -> Bool {
        switch kind {
        case .serviceAccount: Wildcard.match(pattern: "system:serviceaccount:\(namespace):\(name)", user.username)
        case .group: user.groups.contains { Wildcard.match(pattern: name, $0) }
        case .user: Wildcard.match(pattern: name, user.username)
        }
    }
}

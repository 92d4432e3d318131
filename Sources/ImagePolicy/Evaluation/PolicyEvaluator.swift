import ImageReference

/// Evaluates every loaded policy for one image. Pure: all I/O goes through the verifier.
public struct PolicyEvaluator: Sendable {
    public let policies: PolicySet

    public init(policies: PolicySet) { self.policies = policies }

    /// Verdicts of every ClusterImagePolicy and Kyverno rule that applies to `image`
    /// (whose resolved digest is `digest`) in `context`, with `decided`: verdicts reached for the whole request
    /// (ImageValidatingPolicies). Every matching policy must pass (AND).
    nonisolated(nonsending)
    public func evaluate(image: ImageRef, digest: String, context: AdmissionContext,
                         verifier: some AuthorityVerifier, decided: [PolicyVerdict] = []) async -> ImageVerdict {
        var verdicts: [PolicyVerdict] = []
        for p in policies.clusterImagePolicies where ClusterImagePolicyEvaluator.applies(p, image: image, context: context) {
            verdicts.append(await ClusterImagePolicyEvaluator.evaluate(p, image: image, digest: digest, context: context, verifier: verifier))
        }
        for p in policies.kyvernoPolicies {
            for rule in p.rules {
                switch KyvernoEvaluator.applicability(p, rule, context: context) {
                case .no: continue
                case .error(let why):
                    let name = KyvernoEvaluator.policyLabel(p)
                    verdicts.append(PolicyVerdict(policy: name, rule: rule.name, decision: .fail,
                                                  reasons: [VerdictReason(policy: name, check: rule.name, detail: why, passed: false)],
                                                  transient: false, pinsDigest: false))
                    continue
                case .yes: break
                }
                for (i, v) in rule.verifyImages.enumerated() {
                    if let verdict = await KyvernoEvaluator.evaluate(p, rule: rule, index: i, verification: v, image: image,
                                                                     digest: digest, context: context, verifier: verifier) {
                        verdicts.append(verdict)
                    }
                }
            }
        }
        for c in policies.connaisseurConfigs where ConnaisseurEvaluator.applies(c, context: context) {
            verdicts.append(await ConnaisseurEvaluator.evaluate(c, image: image, digest: digest, verifier: verifier))
        }
        verdicts += decided
        let decision = verdicts.lazy.map(\.decision).max() ?? .skip
        var pinned: String?
        if decision != .fail, image.digest == nil, !digest.isEmpty, verdicts.contains(where: { $0.pinsDigest && $0.decision != .skip }) {
            pinned = Self.pin(image, digest)
        }
        return ImageVerdict(image: image, digest: digest, decision: decision, policies: verdicts, pinnedReference: pinned)
    }

    /// Whether any policy could apply to `image` in `context`, decided without a digest, so callers
    /// skip registry I/O for images no policy covers. Errs towards true (a rule whose preconditions
    /// cannot be evaluated counts), so `evaluate` still gives the verdict.
    public func applies(image: ImageRef, context: AdmissionContext) -> Bool {
        if policies.clusterImagePolicies.contains(where: { ClusterImagePolicyEvaluator.applies($0, image: image, context: context) }) {
            return true
        }
        // A Connaisseur configuration covers every image: one no rule matches is denied.
        if policies.connaisseurConfigs.contains(where: { ConnaisseurEvaluator.applies($0, context: context) }) { return true }
        return kyvernoRuleCovers(image, context: context)
    }

    /// Whether deciding about `image` needs its digest (and so the registry). False when every
    /// applicable policy decides with `static` authorities alone: those never look at the image.
    public func needsDigest(image: ImageRef, context: AdmissionContext) -> Bool {
        for p in policies.clusterImagePolicies where ClusterImagePolicyEvaluator.applies(p, image: image, context: context) {
            for authority in p.authorities {
                guard case .staticAction = authority.kind, authority.attestations.isEmpty else { return true }
            }
        }
        for c in policies.connaisseurConfigs where ConnaisseurEvaluator.applies(c, context: context) && ConnaisseurEvaluator.needsDigest(c, image: image) {
            return true
        }
        return kyvernoRuleCovers(image, context: context)
    }

    /// Some applicable Kyverno rule lists `image` in its `imageReferences` (Kyverno rules always verify).
    private func kyvernoRuleCovers(_ image: ImageRef, context: AdmissionContext) -> Bool {
        guard !policies.kyvernoPolicies.isEmpty else { return false }
        let imageString = image.kyvernoMatchString
        return policies.kyvernoPolicies.contains { p in
            p.rules.contains { rule in
                if case .no = KyvernoEvaluator.applicability(p, rule, context: context) { return false }
                guard KyvernoEvaluator.sees(rule, image: image, context: context) else { return false }
                return rule.verifyImages.contains { v in v.imageReferences.contains { Wildcard.match(pattern: $0, imageString) } }
            }
        }
    }

    /// The image as written with `@digest` appended (the tag is kept, as Kyverno and policy-controller do).
    static func pin(_ image: ImageRef, _ digest: String) -> String {
        let base = image.original.split(separator: "@", maxSplits: 1).first.map(String.init) ?? image.original
        return "\(base)@\(digest)"
    }
}

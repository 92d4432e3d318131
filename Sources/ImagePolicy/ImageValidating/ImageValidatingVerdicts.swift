/// One ImageValidatingPolicy's result as per-image verdicts the engine merges with the other dialects': failed
/// validations deny (`Deny`), warn (`Warn`) or are only recorded (`Audit`); an evaluation error fails closed
/// unless `failurePolicy: Ignore`; each verification the validations could call is listed for `explain`.
public enum ImageValidatingVerdicts {
    static func make(_ p: ImageValidatingPolicy, covered: [String], failures: [String], errors: [String],
                     results: ImageValidatingVerifications, verified: Set<String>) -> ImageValidatingEvaluator.Outcome {
        let policy = p.reference
        var decision = Decision.pass
        var reasons: [VerdictReason] = []
        if !errors.isEmpty {
            let ignored = p.failurePolicy == .ignore
            decision = ignored ? .pass : .fail
            reasons += errors.map {
                VerdictReason(policy: policy, check: "spec.validations", detail: ignored ? "evaluation error ignored (failurePolicy: Ignore): \($0)" : "evaluation error: \($0)",
                              passed: ignored, kind: .condition)
            }
        }
        if !failures.isEmpty {
            if p.validationActions.contains(.deny) { decision = .fail } else if p.validationActions.contains(.warn), decision != .fail { decision = .warn }
            reasons += failures.map { VerdictReason(policy: policy, check: "spec.validations", detail: $0, passed: false, kind: .condition) }
        } else if errors.isEmpty {
            reasons.append(VerdictReason(policy: policy, check: "spec.validations", detail: "\(p.validations.count) validation(s) passed", passed: true, kind: .condition))
        }
        var verdicts: [String: PolicyVerdict] = [:]
        for image in covered {
            var mine = reasons
            for (attestor, outcome) in (results.signatures[image] ?? [:]).sorted(by: { $0.key < $1.key }) {
                mine.append(VerdictReason(policy: policy, check: "attestors[\(attestor)]", detail: outcome.passed ? "signature verified" : outcome.reason,
                                          passed: outcome.passed, kind: .signature, transient: outcome.transient, step: outcome.failedStep))
            }
            for (attestation, byAttestor) in (results.attestations[image] ?? [:]).sorted(by: { $0.key < $1.key }) {
                for (attestor, outcome) in byAttestor.sorted(by: { $0.key < $1.key }) {
                    mine.append(VerdictReason(policy: policy, check: "attestations[\(attestation)] attestors[\(attestor)]",
                                              detail: outcome.passed ? "attestation verified" : outcome.reason, passed: outcome.passed,
                                              kind: .attestation, transient: outcome.transient, step: outcome.failedStep))
                }
            }
            // A failure that rests on an unreachable registry may clear up: say so (fail-open and retries use it).
            let transient = decision == .fail && errors.isEmpty && mine.contains { !$0.passed && $0.transient }
            verdicts[image] = PolicyVerdict(policy: policy, rule: nil, decision: decision, reasons: mine, transient: transient,
                                            pinsDigest: p.mutateDigest)
        }
        return .init(verdicts: verdicts, verifiedImages: verified)
    }

    /// A match condition or image expression that could not be evaluated, under `failurePolicy: Fail`.
    public static func scopeError(_ p: ImageValidatingPolicy, _ why: String) -> PolicyVerdict {
        let reason = VerdictReason(policy: p.reference, check: "spec", detail: why, passed: false, kind: .condition)
        return PolicyVerdict(policy: p.reference, rule: nil, decision: .fail, reasons: [reason], transient: false, pinsDigest: false)
    }

    /// `validationConfigurations.required`: a passing verdict for an image no verification of the request proved fails.
    public static func requireVerified(_ verdict: inout PolicyVerdict, image: String) {
        guard verdict.decision == .pass else { return }
        verdict.decision = .fail
        verdict.reasons.append(VerdictReason(policy: verdict.policy, check: "validationConfigurations.required",
                                             detail: "image \(image) is not verified: no policy performed a signature or attestation check on it",
                                             passed: false, kind: .summary))
    }
}

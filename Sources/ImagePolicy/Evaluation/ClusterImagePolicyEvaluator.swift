import ImageReference

/// policy-controller semantics: a CIP applies if a glob matches the image and its `match`
/// (if any) matches the resource; authorities are ORed; static authorities decide without
/// verification; an authority with attestations passes only if every attestation has at
/// least one verified statement and every such statement satisfies its CUE policy.
enum ClusterImagePolicyEvaluator {
    static func applies(_ p: ClusterImagePolicy, image: ImageRef, context: AdmissionContext) -> Bool {
        guard p.images.contains(where: { $0.matches(image) }) else { return false }
        if p.match.isEmpty { return true }
        return p.match.contains { m in
            (m.resource.isEmpty || m.resource == context.resource)
                && (m.version.isEmpty || m.version == context.version)
                && (m.group.isEmpty || m.group == context.group)
                && (m.selector?.matches(context.labels) ?? true)
        }
    }

    nonisolated(nonsending)
    static func evaluate(_ p: ClusterImagePolicy, image: ImageRef, digest: String, context: AdmissionContext,
                         verifier: some AuthorityVerifier) async -> PolicyVerdict {
        let policyName = p.verdictName
        var reasons: [VerdictReason] = []
        var passedAny = false
        var transient = false
        var matches: [String: JSONValue] = [:]

        for authority in p.authorities {
            let check = authority.checkLabel
            let (ok, detail, isTransient, match, step) = await evaluateAuthority(authority, image: image, digest: digest, verifier: verifier)
            let kind: VerdictReason.Kind
            switch authority.kind {
            case .staticAction: kind = .static
            case .signature: kind = authority.attestations.isEmpty ? .signature : .attestation
            }
            reasons.append(VerdictReason(policy: policyName, check: check, detail: detail, passed: ok, kind: kind, transient: !ok && isTransient,
                                         step: ok ? nil : step))
            if ok {
                passedAny = true
                guard p.policy != nil else { break }  // OR: the first passing authority decides
                matches[authority.name] = match  // only a spec-level policy reads them
            } else if isTransient {
                transient = true
            }
        }

        var decision: Decision = passedAny ? .pass : .fail
        if passedAny, let specPolicy = p.policy {
            let input = specPolicyInput(specPolicy, matches: matches, context: context)
            let violations = specPolicy.cue.violations(of: input)
            if !violations.isEmpty {
                decision = .fail
                reasons.append(VerdictReason(policy: policyName, check: "spec.policy", detail: "CUE policy failed: \(violations.joined(separator: "; "))", passed: false, kind: .condition))
            } else {
                reasons.append(VerdictReason(policy: policyName, check: "spec.policy", detail: "CUE policy passed", passed: true, kind: .condition))
            }
        }
        if decision == .pass { transient = false }
        if decision == .fail && !passedAny {
            reasons.append(VerdictReason(policy: policyName, check: "authorities", detail: "no authority passed for \(image.policyMatchString)", passed: false))
        }
        if decision == .fail && p.mode == .warn { decision = .warn }
        return PolicyVerdict(policy: policyName, rule: nil, decision: decision, reasons: reasons, transient: transient, pinsDigest: true)
    }

    /// What a static authority adds to `authorityMatches` (one shared value, not a dictionary per image).
    static let staticMatch: JSONValue = .object(["static": .bool(true)])

    /// (passed, detail, transient, authorityMatches entry for the spec-level policy, the verification step that rejected)
    nonisolated(nonsending)
    static func evaluateAuthority(_ a: CIPAuthority, image: ImageRef, digest: String,
                                  verifier: some AuthorityVerifier) async -> (Bool, String, Bool, JSONValue, VerificationStep?) {
        switch a.kind {
        case .staticAction(let pass, let message):
            let detail = pass ? "static pass" : "static fail\(message.map { ": \($0)" } ?? "")"
            return (pass, detail, false, staticMatch, nil)
        case .signature(let sig):
            if let unsupported = Unsupported.reason(sig) { return (false, unsupported, false, .null, .configuration) }
            if a.attestations.isEmpty {
                let o = await verifier.verifySignature(image: image, digest: digest, authority: sig)
                return (o.passed, o.passed ? "signature verified" : "signature verification failed: \(o.reason)", o.transient,
                        .object(["signatures": .array(o.signatures)]), o.failedStep)
            }
            var attested: [String: JSONValue] = [:]
            for att in a.attestations {
                let o = await verifier.verifyAttestations(image: image, digest: digest, authority: sig, predicateType: att.predicateTypeURI)
                guard o.passed else {
                    return (false, "attestation \(att.name): verification failed: \(o.reason)", o.transient, .null, o.failedStep)
                }
                let statements = o.statements.filter { ($0["predicateType"]?.stringValue ?? att.predicateTypeURI) == att.predicateTypeURI }
                if statements.isEmpty {
                    return (false, "attestation \(att.name): no matching attestations with type \(att.predicateTypeURI)", false, .null, .subject)
                }
                if let policy = att.policy {
                    for (i, s) in statements.enumerated() {
                        let v = policy.cue.violations(of: s)
                        if !v.isEmpty {
                            return (false, "attestation \(att.name): statement \(i) fails CUE policy: \(v.joined(separator: "; "))", false, .null, nil)
                        }
                    }
                }
                attested[att.name] = .array(statements.map { $0["predicate"] ?? .null })
            }
            return (true, "attestations verified: \(a.attestations.map(\.name).joined(separator: ", "))", false,
                    .object(["attestations": .object(attested)]), nil)
        }
    }

    /// Input of a spec-level CUE policy: authority matches plus the requested parts of the resource.
    static func specPolicyInput(_ p: CIPPolicy, matches: [String: JSONValue], context: AdmissionContext) -> JSONValue {
        var input: [String: JSONValue] = ["authorityMatches": .object(matches)]
        if p.includeTypeMeta {
            let apiVersion = context.group.isEmpty ? context.version : "\(context.group)/\(context.version)"
            input["typemeta"] = ["kind": .string(context.kind), "apiVersion": .string(apiVersion)]
        }
        if p.includeObjectMeta {
            input["metadata"] = context.object?["metadata"] ?? .object([
                "name": .string(context.name),
                "namespace": context.namespace.map { .string($0) } ?? .null,
                "labels": .object(context.labels.mapValues { .string($0) }),
            ])
        }
        if p.includeSpec, let spec = context.object?["spec"] { input["spec"] = spec }
        return .object(input)
    }
}

/// Authorities sealgate cannot verify, rejected with a clear reason instead of reaching the verifier.
enum Unsupported {
    static func reason(_ a: SignatureAuthority) -> String? {
        switch a.trust {
        case .kms(let uri): return "KMS not supported: cannot verify with \(uri)"
        case .keyless(let k) where k.rootsKMS != nil: return "KMS not supported: cannot load CA from \(k.rootsKMS!)"
        default: return nil
        }
    }
}

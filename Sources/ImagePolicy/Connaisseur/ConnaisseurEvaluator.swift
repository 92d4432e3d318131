import ImageReference

/// Connaisseur semantics on the verifier port: the most specific rule's validator decides. `cosign` trust roots
/// become the same `SignatureAuthority` a ClusterImagePolicy `key` authority is (so the same verifier code gives
/// the same answer); `notaryv1` becomes a `notary` trust source; `static` needs no verifier.
enum ConnaisseurEvaluator {
    static func applies(_ c: ConnaisseurConfig, context: AdmissionContext) -> Bool {
        let label = context.namespaceLabels[ConnaisseurConfig.namespaceLabel]
        switch c.namespaces {
        case .all: return true
        case .ignoreLabelled: return label != "ignore"
        case .onlyLabelled: return label == "validate"
        }
    }

    /// Whether deciding needs the image's digest (false when a static validator decides).
    static func needsDigest(_ c: ConnaisseurConfig, image: ImageRef) -> Bool {
        guard let rule = ConnaisseurPattern.bestRule(c.rules, for: image), let v = c.validators[rule.validator] else { return false }
        if case .staticApproval = v.kind { return false }
        return true
    }

    static func evaluate(_ c: ConnaisseurConfig, image: ImageRef, digest: String, verifier: some AuthorityVerifier) async -> PolicyVerdict {
        guard let rule = ConnaisseurPattern.bestRule(c.rules, for: image), let validator = c.validators[rule.validator] else {
            let reason = VerdictReason(policy: c.name, check: "policy", detail: "no rule's pattern matches \(ConnaisseurPattern.imageName(image))", passed: false)
            return verdict(c, rule: nil, decision: .fail, reasons: [reason], transient: false, pins: false)
        }
        // The rule goes into the check's name: a verdict's `rule` means a Kyverno rule to the rest of the engine.
        let check = "policy[\(rule.index)] (\(rule.pattern)) validator \(validator.name)"
        switch validator.kind {
        case .staticApproval(let approve):
            let reason = VerdictReason(policy: c.name, check: check, detail: approve ? "static approve" : "static deny", passed: approve, kind: .static)
            return verdict(c, rule: nil, decision: approve ? .pass : .fail, reasons: [reason], transient: false, pins: rule.mutate)
        case .cosign, .notary:
            let authorities = self.authorities(validator, rule)
            var reasons: [VerdictReason] = []
            var passed: [String] = []
            var transient = false
            for (root, authority) in authorities {
                let o = await verifier.verifySignature(image: image, digest: digest, authority: authority)
                reasons.append(VerdictReason(policy: c.name, check: "\(check) trustRoot \(root)", detail: o.passed ? o.reason : "signature verification failed: \(o.reason)",
                                             passed: o.passed, kind: .signature, transient: !o.passed && o.transient, step: o.passed ? nil : o.failedStep))
                if o.passed { passed.append(root) } else if o.transient { transient = true }
            }
            let (ok, summary) = enough(rule, validator, passed: passed, of: authorities.map(\.0))
            if let summary { reasons.append(VerdictReason(policy: c.name, check: check, detail: summary, passed: ok)) }
            return verdict(c, rule: nil, decision: ok ? .pass : .fail, reasons: reasons, transient: !ok && transient, pins: rule.mutate)
        }
    }

    /// The trust roots the rule selects, each as the authority that checks it.
    static func authorities(_ v: ConnaisseurValidator, _ rule: ConnaisseurRule) -> [(String, SignatureAuthority)] {
        let names = rule.trustRoot == "*" ? v.trustRootOrder : [rule.trustRoot]
        switch v.kind {
        case .staticApproval: return []
        case .cosign(let roots):
            return names.compactMap { name in
                roots[name].map { pem in
                    (name, SignatureAuthority(label: "validator \(v.name) trustRoot \(name)", trust: .publicKey(pem: pem),
                                              tlog: TransparencyLogSettings(ignore: !rule.verifyInTransparencyLog), signatureFormat: "legacy"))
                }
            }
        case .notary(let host, let roots, let ca, let username, let password):
            return names.compactMap { name in
                roots[name].map { pem in
                    (name, SignatureAuthority(label: "validator \(v.name) trustRoot \(name)",
                                              trust: .notary(NotaryTrust(server: host, rootKeysPEM: [pem], caPEM: ca, username: username, password: password,
                                                                         delegations: rule.delegations, threshold: rule.threshold))))
                }
            }
        }
    }

    /// cosign with `trustRoot: "*"`: `threshold` signatures (default: as many as `required` names, else all) and
    /// every `required` root among them. Otherwise the one selected root must pass.
    static func enough(_ rule: ConnaisseurRule, _ v: ConnaisseurValidator, passed: [String], of all: [String]) -> (Bool, String?) {
        guard rule.trustRoot == "*", case .cosign = v.kind else { return (!passed.isEmpty, nil) }
        let needed = rule.threshold ?? (rule.required.isEmpty ? all.count : rule.required.count)
        let missing = rule.required.filter { !passed.contains($0) }
        let ok = passed.count >= needed && missing.isEmpty
        var detail = "\(passed.count) of \(all.count) trust roots signed (\(needed) needed)"
        if !missing.isEmpty { detail += "; required \(missing.joined(separator: ", ")) did not" }
        return (ok, detail)
    }

    static func verdict(_ c: ConnaisseurConfig, rule: String?, decision: Decision, reasons: [VerdictReason], transient: Bool, pins: Bool) -> PolicyVerdict {
        var d = decision
        if d == .fail && c.detectionMode { d = .warn }
        return PolicyVerdict(policy: c.name, rule: rule, decision: d, reasons: reasons, transient: transient, pinsDigest: pins)
    }
}

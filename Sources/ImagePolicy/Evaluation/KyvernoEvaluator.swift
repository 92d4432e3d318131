import ImageReference

/// Kyverno verifyImages semantics: attestor sets are ANDed, `count` entries of a set must
/// verify (default all); attestations each need statements that all satisfy the conditions;
/// `verifyDigest` and `required` are checked afterwards; Audit turns failures into warnings.
enum KyvernoEvaluator {
    enum Applicability { case no, yes, error(String) }

    /// Match/exclude, namespaced Policy scope, then preconditions. A precondition whose
    /// variables cannot be resolved is an error (Kyverno reports a rule error), not a skip.
    static func applicability(_ policy: KyvernoPolicy, _ rule: KyvernoRule, context: AdmissionContext) -> Applicability {
        if let ns = policy.namespace, context.namespace != ns { return .no }
        guard KyvernoMatcher.matches(rule.match, policy: policy, context: context) else { return .no }
        if let ex = rule.exclude, KyvernoMatcher.excludes(ex, policy: policy, context: context) { return .no }
        if case .failure(let f) = ruleImages(rule, context: context) { return .error(f.description) }
        if let pre = rule.preconditions {
            let root = KyvernoConditions.requestContext(context, policy: policy, rule: rule.name)
            if case .failure(let f) = KyvernoConditions.resolvable(pre, root: root) { return .error(f.description) }
            if KyvernoConditions.failure([pre], root: root) != nil { return .no }
        }
        return .yes
    }

    static func policyLabel(_ p: KyvernoPolicy) -> String { "\(p.kind)/\(p.qualifiedName)" }

    /// The images `rule` verifies in this resource: what its `imageExtractors` for the kind find, else the
    /// standard pod-spec images (nil: every image the caller checks).
    static func ruleImages(_ rule: KyvernoRule, context: AdmissionContext) -> Result<Set<String>?, KyvernoImageExtraction.Failure> {
        guard let extractors = rule.imageExtractors[context.kind] else { return .success(context.standardImages) }
        guard let object = context.object else { return .success([]) }
        do { return .success(Set(try KyvernoImageExtraction.images(extractors, in: object).map(\.image))) } catch {
            return .failure(error)
        }
    }

    /// Whether `rule` verifies `image` (as written in the resource).
    static func sees(_ rule: KyvernoRule, image: ImageRef, context: AdmissionContext) -> Bool {
        guard case .success(let images) = ruleImages(rule, context: context) else { return true }
        return images?.contains(image.original) ?? true
    }

    static func evaluate(_ policy: KyvernoPolicy, rule: KyvernoRule, index: Int, verification v: KyvernoImageVerification,
                         image: ImageRef, digest: String, context: AdmissionContext,
                         verifier: some AuthorityVerifier) async -> PolicyVerdict? {
        let name = policyLabel(policy)
        let ruleName = rule.verifyImages.count > 1 ? "\(rule.name) verifyImages[\(index)]" : rule.name
        let imageString = image.kyvernoMatchString
        guard sees(rule, image: image, context: context) else { return nil }
        guard v.imageReferences.contains(where: { Wildcard.match(pattern: $0, imageString) }) else { return nil }
        if let skip = v.skipImageReferences.first(where: { Wildcard.match(pattern: $0, imageString) }) {
            return PolicyVerdict(policy: name, rule: ruleName, decision: .skip,
                                 reasons: [VerdictReason(policy: name, check: "skipImageReferences", detail: "image \(imageString) matches \(skip): skipped", passed: true, kind: .skip)],
                                 transient: false, pinsDigest: false)
        }
        var reasons: [VerdictReason] = []
        var failed = false, transient = false
        func add(_ check: String, _ kind: VerdictReason.Kind, _ ok: Bool, _ detail: String, _ t: Bool = false, step: VerificationStep? = nil) {
            reasons.append(VerdictReason(policy: name, check: "\(ruleName): \(check)", detail: detail, passed: ok, kind: kind, transient: !ok && t,
                                         step: ok ? nil : step))
            if !ok { failed = true; if t { transient = true } }
        }

        for (i, set) in v.attestors.enumerated() {
            let r = await verifySet(set, label: "attestors[\(i)]", image: image, digest: digest, verifier: verifier) { a async in
                if let u = Unsupported.reason(a) { return .fail(u) }
                return await verifier.verifySignature(image: image, digest: digest, authority: a)
            }
            add("attestors[\(i)]", .signature, r.ok, r.detail, r.transient, step: r.step)
            if !r.ok { break }
        }
        var named: [String: JSONValue] = [:]
        if !failed {
            for (i, att) in v.attestations.enumerated() {
                let r = await verifyAttestation(att, index: i, image: image, digest: digest, context: context, policy: policy, rule: rule.name, verifier: verifier)
                add("attestations[\(i)]", .attestation, r.ok, r.detail, r.transient, step: r.step)
                if !r.ok { break }
                if let n = att.name, let p = r.predicate { named[n] = p }
            }
        }
        if !failed, let validate = v.validate {
            var root = KyvernoConditions.requestContext(context, policy: policy, rule: rule.name)
            for (k, p) in named { root[k] = p }
            switch KyvernoConditions.denies(validate.deny, root: root) {
            case .success(true): add("validate", .condition, false, validate.message ?? "denied by validate.deny conditions")
            case .success(false): add("validate", .condition, true, "deny conditions not met")
            case .failure(let why): add("validate", .condition, false, why.description)
            }
        }
        let verified = !failed && !(v.attestors.isEmpty && v.attestations.isEmpty)
        if !failed && v.required && !verified {
            add("required", .summary, false, "unverified image \(imageString)")
        }
        let pinned = v.mutateDigest && verified
        if !failed && v.verifyDigest && !pinned && image.digest == nil {
            add("verifyDigest", .digest, false, "missing digest for \(imageString)")
        }
        var decision: Decision = failed ? .fail : .pass
        if decision == .pass && reasons.isEmpty {
            reasons.append(VerdictReason(policy: name, check: ruleName, detail: "image \(imageString) checks passed", passed: true))
        }
        if failed && transient && policy.failurePolicy == .ignore {
            decision = .warn
            reasons.append(VerdictReason(policy: name, check: ruleName, detail: "error ignored (failurePolicy: Ignore)", passed: false))
        } else if failed && v.failureAction == .audit {
            decision = .warn
        }
        return PolicyVerdict(policy: name, rule: ruleName, decision: decision, reasons: reasons, transient: transient, pinsDigest: pinned)
    }

    struct SetResult {
        var ok: Bool
        var detail: String
        var transient: Bool
        /// Predicate of the first verified statement (for `validate.deny`).
        var predicate: JSONValue? = nil
        /// The furthest verification step an entry reached before it was rejected.
        var step: VerificationStep? = nil
    }

    final class FirstPredicate: @unchecked Sendable { var value: JSONValue? }

    /// Tries entries in order until `requiredCount` have verified.
    static func verifySet(_ set: KyvernoAttestorSet, label: String, image: ImageRef, digest: String, verifier: some AuthorityVerifier,
                          check: (SignatureAuthority) async -> AuthorityOutcome) async -> SetResult {
        let required = set.requiredCount
        var verified = 0
        var failures: [String] = []
        var transient = false
        var step: VerificationStep?
        func reached(_ s: VerificationStep?) {
            let order = VerificationStep.allCases
            if let s, step.map({ order.firstIndex(of: $0)! < order.firstIndex(of: s)! }) ?? true { step = s }
        }
        for entry in set.entries {
            if verified >= required { break }
            switch entry {
            case .authority(let a):
                let o = await check(a)
                if o.passed { verified += 1 } else {
                    failures.append("\(a.label): \(o.reason)")
                    if o.transient { transient = true }
                    reached(o.failedStep)
                }
            case .nested(let inner):
                let r = await verifySet(inner, label: "\(label).attestor", image: image, digest: digest, verifier: verifier, check: check)
                if r.ok { verified += 1 } else {
                    failures.append(r.detail)
                    if r.transient { transient = true }
                    reached(r.step)
                }
            }
        }
        if verified >= required {
            return SetResult(ok: true, detail: "verified \(verified) of \(required) required", transient: false)
        }
        return SetResult(ok: false, detail: "verifiedCount: \(verified), requiredCount: \(required), errors: \(failures.joined(separator: "; "))", transient: transient,
                         step: step)
    }

    static func verifyAttestation(_ att: KyvernoAttestation, index: Int, image: ImageRef, digest: String, context: AdmissionContext,
                                  policy: KyvernoPolicy? = nil, rule: String? = nil, verifier: some AuthorityVerifier) async -> SetResult {
        // One attestor entry passes when statements exist and every statement meets every condition.
        let first = FirstPredicate()
        let check: (SignatureAuthority?) async -> AuthorityOutcome = { a in
            if let a, let u = Unsupported.reason(a) { return .fail(u) }
            let o = await verifier.verifyAttestations(image: image, digest: digest, authority: a, predicateType: att.type)
            guard o.passed else { return o }
            let statements = o.statements.filter { ($0["predicateType"]?.stringValue ?? att.type) == att.type }
            if statements.isEmpty { return .fail("attestions not found for predicate type \(att.type)") }
            for (i, s) in statements.enumerated() {
                if let why = KyvernoConditions.failure(att.conditions, statement: s, context: context, policy: policy, rule: rule) {
                    return .fail("statement \(i): \(why)")
                }
            }
            if first.value == nil { first.value = statements[0]["predicate"] }
            return .pass("\(statements.count) statement(s) satisfy the conditions")
        }
        if att.attestors.isEmpty {
            let o = await check(nil)
            return SetResult(ok: o.passed, detail: "\(att.type): \(o.reason)", transient: o.transient, predicate: first.value, step: o.failedStep)
        }
        for (i, set) in att.attestors.enumerated() {
            let r = await verifySet(set, label: "attestations[\(index)].attestors[\(i)]", image: image, digest: digest, verifier: verifier) { a in
                await check(a)
            }
            if !r.ok { return SetResult(ok: false, detail: "image attestations verification failed, \(r.detail)", transient: r.transient, step: r.step) }
        }
        return SetResult(ok: true, detail: "\(att.type): attestations verified", transient: false, predicate: first.value)
    }
}

/// Condition evaluation over an attestation statement.
enum KyvernoConditions {
    /// Standard variables: `request.object`, `request.operation`, `request.namespace`, `request.name`, `request.kind`,
    /// `request.userInfo` and `serviceAccountName`/`serviceAccountNamespace` (when the user is a service account),
    /// then `kyverno test` values (global, then the policy's for this resource) by dotted name.
    static func requestContext(_ context: AdmissionContext, policy: KyvernoPolicy? = nil, rule: String? = nil) -> [String: JSONValue] {
        var request: [String: JSONValue] = ["operation": .string(context.operation), "name": .string(context.name),
                                            "kind": ["kind": .string(context.kind), "group": .string(context.group), "version": .string(context.version)]]
        if let obj = context.object { request["object"] = obj }
        if let ns = context.namespace { request["namespace"] = .string(ns) }
        var root: [String: JSONValue] = [:]
        if let user = context.user {
            request["userInfo"] = user.json
            if let roles = user.roles { request["roles"] = .array(roles.map { .string($0) }) }
            if let roles = user.clusterRoles { request["clusterRoles"] = .array(roles.map { .string($0) }) }
            let parts = user.username.split(separator: ":", omittingEmptySubsequences: false)
            if parts.count == 4, parts[0] == "system", parts[1] == "serviceaccount" {
                root["serviceAccountNamespace"] = .string(String(parts[2]))
                root["serviceAccountName"] = .string(String(parts[3]))
            }
        }
        root["request"] = .object(request)
        var variables = context.variables
        if let policy, let own = context.policyVariables[policy.name] { variables.merge(own) { $1 } }
        if let policy, let rule, let own = context.policyVariables["\(policy.name)/\(rule)"] { variables.merge(own) { $1 } }
        for (name, value) in variables.sorted(by: { $0.key < $1.key }) {
            root = KyvernoVariables.set(root, path: name.split(separator: ".").map(String.init), value)
        }
        return root
    }

    /// Attestation conditions: Kyverno merges the statement's predicate into the context root.
    static func failure(_ blocks: [KyvernoAnyAllConditions], statement: JSONValue, context: AdmissionContext, policy: KyvernoPolicy? = nil,
                        rule: String? = nil) -> String? {
        var root = requestContext(context, policy: policy, rule: rule)
        for (k, v) in statement["predicate"]?.objectValue ?? [:] { root[k] = v }
        return failure(blocks, root: root)
    }

    /// nil when every block holds (all of `all`, and one of `any` if present); else the first failure.
    static func failure(_ blocks: [KyvernoAnyAllConditions], root: [String: JSONValue]) -> String? {
        let ctx = JSONValue.object(root)
        for block in blocks {
            for c in block.all {
                if let why = evaluate(c, ctx) { return why }
            }
            if !block.any.isEmpty {
                var whys: [String] = []
                for c in block.any {
                    if let why = evaluate(c, ctx) { whys.append(why) } else { whys = []; break }
                }
                if !whys.isEmpty { return "none of the any conditions passed: \(whys.joined(separator: "; "))" }
            }
        }
        return nil
    }

    /// `validate.deny`: true when the conditions hold; unresolvable variables are errors.
    static func denies(_ block: KyvernoAnyAllConditions, root: [String: JSONValue]) -> Result<Bool, Failure> {
        let ctx = JSONValue.object(root)
        func holds(_ c: KyvernoCondition) -> Result<Bool, Failure> {
            do {
                return .success(c.op.evaluate(key: try c.key.resolve(ctx), value: try c.value.resolve(ctx)))
            } catch {
                return .failure(Failure(description: "validate.deny: \(error.description)"))
            }
        }
        for c in block.all {
            switch holds(c) {
            case .success(false): return .success(false)
            case .failure(let f): return .failure(f)
            default: continue
            }
        }
        if block.any.isEmpty { return .success(!block.all.isEmpty) }
        for c in block.any {
            switch holds(c) {
            case .success(true): return .success(true)
            case .failure(let f): return .failure(f)
            default: continue
            }
        }
        return .success(false)
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Fails when a key or value of `block` has a variable that cannot be resolved.
    static func resolvable(_ block: KyvernoAnyAllConditions, root: [String: JSONValue]) -> Result<Void, Failure> {
        let ctx = JSONValue.object(root)
        for c in block.all + block.any {
            do {
                _ = try c.key.resolve(ctx)
                _ = try c.value.resolve(ctx)
            } catch {
                return .failure(Failure(description: "preconditions: \(error.description)"))
            }
        }
        return .success(())
    }

    static func evaluate(_ c: KyvernoCondition, _ ctx: JSONValue) -> String? {
        let key: JSONValue, value: JSONValue
        do {
            key = try c.key.resolve(ctx)
            value = try c.value.resolve(ctx)
        } catch {
            return "condition failed: \(error.description)"
        }
        if c.op.evaluate(key: key, value: value) { return nil }
        return c.message ?? "condition failed: key \(key.jsonString) \(c.op.rawValue) value \(value.jsonString) is false"
    }
}

/// Parses and validates Kyverno policies with `verifyImages` rules. Applies the CRD defaults
/// (validationFailureAction Audit, mutateDigest/verifyDigest/required/useCache true,
/// background true) and enforces Kyverno's validation with its messages where known.
enum KyvernoPolicyParser {
    static let controllerKinds: Set<String> = ["DaemonSet", "Deployment", "Job", "StatefulSet", "ReplicaSet", "ReplicationController", "CronJob"]
    static let signatureAlgorithms: Set<String> = ["sha224", "sha256", "sha384", "sha512"]

    static func parse(_ root: FieldReader, apiVersion: String, kind: String, metadata: Metadata, source: DocumentSource) -> KyvernoPolicy? {
        let d = root.diags
        guard let spec = root.documentSpec() else { return nil }
        let isV1 = apiVersion == "kyverno.io/v1"

        var action = KyvernoPolicy.FailureAction.audit
        if let a = spec.string("validationFailureAction") {
            switch a {
            case "Enforce", "enforce": action = .enforce
            case "Audit", "audit": action = .audit
            default: d.error(spec.at("validationFailureAction"), "invalid value \"\(a)\": must be one of audit, enforce, Audit, Enforce")
            }
        }
        let background = spec.bool("background") ?? true
        let admission = spec.bool("admission") ?? true
        if !admission {
            d.error(spec.at("admission"), "disabling admission processing is only allowed with validation policies")
        }
        var failurePolicy = KyvernoPolicy.FailurePolicy.fail
        var timeout: Int?
        if let f = spec.string("failurePolicy") {
            if let fp = KyvernoPolicy.FailurePolicy(rawValue: f) { failurePolicy = fp } else {
                d.error(spec.at("failurePolicy"), "invalid value \"\(f)\": must be Ignore or Fail")
            }
        }
        if let t = spec.int("webhookTimeoutSeconds") {
            timeout = t
            if !(1...30).contains(t) { d.error(spec.at("webhookTimeoutSeconds"), "the timeout value must be between 1 and 30 seconds") }
        }
        if let w = spec.object("webhookConfiguration") {
            if let f = w.string("failurePolicy") {
                if spec.has("failurePolicy") {
                    d.error(spec.at("failurePolicy"), "remove the deprecated field and use spec.webhookConfiguration.failurePolicy instead")
                }
                if let fp = KyvernoPolicy.FailurePolicy(rawValue: f) { failurePolicy = fp } else {
                    d.error(w.at("failurePolicy"), "invalid value \"\(f)\": must be Ignore or Fail")
                }
            }
            if let t = w.int("timeoutSeconds") {
                if spec.has("webhookTimeoutSeconds") {
                    d.error(spec.at("webhookTimeoutSeconds"), "remove the deprecated field and use spec.webhookConfiguration.timeoutSeconds instead")
                }
                timeout = t
                if !(1...30).contains(t) { d.error(w.at("timeoutSeconds"), "the timeout value must be between 1 and 30 seconds") }
            }
            if let mc = w.array("matchConditions"), !mc.isEmpty {
                d.error(w.at("matchConditions"), "matchConditions (CEL) are not supported")
            }
            w.finish()
        }
        if let applyRules = spec.string("applyRules"), applyRules != "All" {
            d.error(spec.at("applyRules"), "applyRules \"\(applyRules)\" is not supported (only All)")
        }
        if spec.has("validationFailureActionOverrides") {
            d.error(spec.at("validationFailureActionOverrides"), "validationFailureActionOverrides is not supported")
        }
        spec.ignore("validationFailureActionOverrides")
        // Valid fields that do not affect image verification.
        spec.ignore("schemaValidation", "emitWarning", "mutateExistingOnPolicyUpdate", "generateExisting",
                    "generateExistingOnPolicyUpdate", "useServerSideApply")

        var autogen = controllerKinds
        if let a = metadata.annotations["pod-policies.kyverno.io/autogen-controllers"] {
            autogen = a == "none" ? [] : Set(a.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
        }

        var rules: [KyvernoRule] = []
        var names: Set<String> = []
        let ruleReaders = spec.objects("rules") ?? []
        if ruleReaders.isEmpty { d.error(spec.at("rules"), "missing field(s): \(spec.at("rules"))") }
        for r in ruleReaders {
            if let rule = parseRule(r, isV1: isV1, namespaced: kind == "Policy", specAction: action) {
                if !names.insert(rule.name).inserted {
                    d.error(r.at("name"), "duplicate rule name: '\(rule.name)'")
                }
                rules.append(rule)
            }
        }
        spec.finish()
        guard !d.hasErrors else { return nil }
        return KyvernoPolicy(name: metadata.name, namespace: kind == "Policy" ? (metadata.namespace ?? "default") : nil,
                             kind: kind, apiVersion: apiVersion, source: source, background: background,
                             failurePolicy: failurePolicy, webhookTimeoutSeconds: timeout, validationFailureAction: action,
                             autogenControllers: autogen, rules: rules)
    }

    static func parseRule(_ r: FieldReader, isV1: Bool, namespaced: Bool, specAction: KyvernoPolicy.FailureAction) -> KyvernoRule? {
        let d = r.diags
        let name = r.string("name") ?? ""
        if name.isEmpty { d.error(r.at("name"), "missing field(s): \(r.at("name"))") }
        if name.count > 63 { d.error(r.at("name"), "rule name must be at most 63 characters") }

        var match = KyvernoMatch(any: [], all: [])
        if let m = r.object("match") { match = parseMatch(m, namespaced: namespaced) } else {
            d.error(r.at("match"), "missing field(s): \(r.at("match"))")
        }
        let exclude = r.object("exclude").map { parseMatch($0, namespaced: namespaced) }

        for unsupported in ["validate", "mutate", "generate"] where r.has(unsupported) {
            d.error(r.at(unsupported), "\(unsupported) is not supported: sealgate only runs verifyImages rules")
        }
        for unsupported in ["context", "celPreconditions"] where r.has(unsupported) {
            d.error(r.at(unsupported), "\(unsupported) is not supported (sealgate has no API or ConfigMap lookups)")
        }
        r.ignore("context", "validate", "mutate", "generate", "celPreconditions")
        var preconditions: KyvernoAnyAllConditions?
        if let raw = r.raw("preconditions") {
            // `{any, all}`, or the legacy plain list meaning `all`.
            switch raw {
            case .array:
                preconditions = KyvernoAnyAllConditions(any: [], all: parseConditions(r, "preconditions"))
            case .object:
                if let c = r.object("preconditions") {
                    preconditions = KyvernoAnyAllConditions(any: parseConditions(c, "any"), all: parseConditions(c, "all"))
                    c.finish()
                }
            default:
                d.error(r.at("preconditions"), "expected {any, all} or a list of conditions, got \(raw.typeName)")
            }
        }
        r.ignore("skipBackgroundRequests", "reportProperties")

        var extractors: [String: [KyvernoImageExtractor]] = [:]
        var extractorsUseJMESPath = false
        if let ex = r.object("imageExtractors") {
            for (kind, _) in ex.object {
                for e in ex.objects(kind) ?? [] {
                    let path = e.string("path") ?? ""
                    if path.isEmpty { d.error(e.at("path"), "missing field(s): \(e.at("path"))") }
                    let jp = e.string("jmesPath")
                    if let jp {
                        extractorsUseJMESPath = true
                        do { _ = try JMESPath.compile(jp, functions: .kyverno) } catch {
                            d.error(e.at("jmesPath"), "invalid JMESPath expression \"\(jp)\": \(error)")
                        }
                    }
                    extractors[kind, default: []].append(KyvernoImageExtractor(
                        path: path, value: e.string("value"), name: e.string("name"), key: e.string("key"), jmesPath: jp))
                    e.finish()
                }
            }
            ex.finish()
        }

        var verifications: [KyvernoImageVerification] = []
        let list = r.objects("verifyImages") ?? []
        if list.isEmpty {
            d.error(r.at("verifyImages"), "missing field(s): \(r.at("verifyImages")) (sealgate only runs verifyImages rules)")
        }
        for v in list {
            if let iv = parseVerification(v, isV1: isV1, specAction: specAction, extractorsUseJMESPath: extractorsUseJMESPath) {
                verifications.append(iv)
            }
        }
        r.finish()
        return KyvernoRule(name: name, match: match, exclude: exclude, imageExtractors: extractors, verifyImages: verifications,
                           preconditions: preconditions)
    }

    static func parseMatch(_ m: FieldReader, namespaced: Bool) -> KyvernoMatch {
        let d = m.diags
        var result = KyvernoMatch(any: [], all: [])
        if m.has("any") && m.has("all") {
            d.error(m.path, "can't specify any and all together")
        }
        for f in m.objects("any") ?? [] { if let rf = parseFilter(f, namespaced: namespaced) { result.any.append(rf) } }
        for f in m.objects("all") ?? [] { if let rf = parseFilter(f, namespaced: namespaced) { result.all.append(rf) } }
        // Legacy form: `match: {resources: ..., subjects: ...}` is one filter.
        if m.has("resources") || m.has("subjects") || m.has("roles") || m.has("clusterRoles") {
            if m.has("any") || m.has("all") {
                d.error(m.path, "can't combine the deprecated resources/subjects form with any/all")
            }
            if let rf = parseFilter(m, namespaced: namespaced, finish: false) { result.any.append(rf) }
        }
        m.finish()
        if result.any.isEmpty && result.all.isEmpty {
            d.error(m.path, "at least one resource filter is required in \(m.path) (any, all or resources)")
        }
        return result
    }

    static func parseFilter(_ f: FieldReader, namespaced: Bool, finish: Bool = true) -> KyvernoResourceFilter? {
        let d = f.diags
        for unsupported in ["roles", "clusterRoles"] where f.has(unsupported) {
            d.error(f.at(unsupported), "\(unsupported) matching is not supported: Kyverno resolves the user's Roles/ClusterRoles from RoleBindings and ClusterRoleBindings, which sealgate does not read; match the user with subjects (User, Group, ServiceAccount) instead")
        }
        f.ignore("roles", "clusterRoles")
        var filter = KyvernoResourceFilter(kinds: [], names: [], namespaces: [], annotations: [:], selector: nil, namespaceSelector: nil, operations: [])
        filter.subjects = parseSubjects(f)
        if let res = f.object("resources") {
            filter.kinds = res.strings("kinds") ?? []
            filter.names = res.strings("names") ?? []
            if let n = res.string("name") {
                if res.has("names") { d.error(res.path, "expected exactly one, got both: \(res.at("name")), \(res.at("names"))") }
                filter.names.append(n)
            }
            filter.namespaces = res.strings("namespaces") ?? []
            if namespaced && !filter.namespaces.isEmpty {
                d.error(res.at("namespaces"), "namespaces is not allowed in a namespaced Policy")
            }
            filter.annotations = res.stringMap("annotations") ?? [:]
            if let s = res.object("selector") { filter.selector = LabelSelector.parse(s, wildcardValues: true) }
            if let s = res.object("namespaceSelector") { filter.namespaceSelector = LabelSelector.parse(s, wildcardValues: true) }
            if namespaced && filter.namespaceSelector != nil {
                d.error(res.at("namespaceSelector"), "namespaceSelector is not allowed in a namespaced Policy")
            }
            for (i, op) in (res.strings("operations") ?? []).enumerated() {
                if !["CREATE", "CONNECT", "UPDATE", "DELETE"].contains(op) {
                    d.error(FieldPath.index(res.at("operations"), i), "invalid value \"\(op)\": must be one of CREATE, CONNECT, UPDATE, DELETE")
                }
                filter.operations.append(op)
            }
            res.finish()
        } else {
            d.error(f.at("resources"), "missing field(s): \(f.at("resources"))")
        }
        if finish { f.finish() }
        return filter
    }

    static func parseVerification(_ v: FieldReader, isV1: Bool, specAction: KyvernoPolicy.FailureAction, extractorsUseJMESPath: Bool) -> KyvernoImageVerification? {
        let d = v.diags
        var action = specAction
        if let a = v.string("failureAction") {
            if let fa = KyvernoPolicy.FailureAction(rawValue: a) { action = fa } else {
                d.error(v.at("failureAction"), "invalid value \"\(a)\": must be Audit or Enforce")
            }
        }
        var type = KyvernoImageVerification.SignatureType.cosign
        if let t = v.string("type") {
            switch t {
            case "Cosign": type = .cosign
            case "SigstoreBundle": type = .sigstoreBundle
            case "Notary":
                d.error(v.at("type"), "Notary is not supported")
            default: d.error(v.at("type"), "invalid value \"\(t)\": must be one of Cosign, SigstoreBundle, Notary")
            }
        }
        var refs = v.strings("imageReferences") ?? []
        if isV1, let image = v.string("image") { refs.append(image) }
        if refs.isEmpty { d.error(v.at("imageReferences"), "An image reference is required") }
        for (i, ref) in refs.enumerated() where ref.contains("{{") {
            d.error(FieldPath.index(v.at("imageReferences"), i), "variables are not allowed in image reference")
        }
        let skip = v.strings("skipImageReferences") ?? []
        for (i, ref) in skip.enumerated() where ref.contains("{{") {
            d.error(FieldPath.index(v.at("skipImageReferences"), i), "variables are not allowed in image reference")
        }
        let repository = v.string("repository")
        let mutateDigest = v.bool("mutateDigest") ?? true
        let verifyDigest = v.bool("verifyDigest") ?? true
        let required = v.bool("required") ?? true
        let useCache = v.bool("useCache") ?? true
        if mutateDigest && action == .audit {
            d.error(v.at("mutateDigest"), "mutateDigest must be set to false for \u{2018}Audit\u{2019} failure action")
        }
        if mutateDigest && extractorsUseJMESPath {
            d.error(v.at("mutateDigest"), "mutateDigest must be set to false when imageExtractors use jmesPath")
        }
        refuseUnsupportedValues(v, isV1: isV1)
        let registryCredentials = v.object("imageRegistryCredentials").map(parseRegistryCredentials) ?? ([], [])
        var validate: KyvernoValidate?
        if let val = v.object("validate") {
            let message = val.string("message")
            if let deny = val.object("deny") {
                if let c = deny.object("conditions") {
                    validate = KyvernoValidate(message: message, deny: KyvernoAnyAllConditions(any: parseConditions(c, "any"), all: parseConditions(c, "all")))
                    c.finish()
                } else {
                    d.error(deny.at("conditions"), "missing field(s): \(deny.at("conditions"))")
                }
                deny.finish()
            } else {
                d.error(val.at("deny"), "missing field(s): \(val.at("deny"))")
            }
            for unsupported in ["pattern", "anyPattern", "foreach", "podSecurity", "cel", "manifests", "assert"] where val.has(unsupported) {
                d.error(val.at(unsupported), "verifyImages.validate.\(unsupported) is not supported (only deny conditions)")
            }
            val.ignore("pattern", "anyPattern", "foreach", "podSecurity", "cel", "manifests", "assert")
            val.finish()
        }

        var attestors: [KyvernoAttestorSet] = []
        for (i, s) in (v.objects("attestors") ?? []).enumerated() {
            if let set = parseAttestorSet(s, label: "attestors[\(i)]", type: type, repository: repository) { attestors.append(set) }
        }
        // Deprecated single-signer fields (kyverno.io/v1 only), converted like Kyverno's Convert().
        if isV1 {
            if let key = v.string("key") {
                if let p = PEM.publicKeyProblem(key) { d.error(v.at("key"), "invalid public key: \(p)") }
                attestors.append(KyvernoAttestorSet(count: nil, entries: [.authority(SignatureAuthority(
                    label: "key", trust: .publicKey(pem: key), signatureRepository: repository, tlog: .init(url: "https://rekor.sigstore.dev")))]))
            }
            let subject = v.string("subject"), issuer = v.string("issuer"), roots = v.string("roots")
            let ext = v.stringMap("additionalExtensions") ?? [:]
            if subject != nil || issuer != nil || roots != nil {
                let trust = KeylessTrust(rootsPEM: roots, identities: [KeylessIdentity(issuer: issuer.map { .wildcard($0) }, subject: subject.map { .wildcard($0) })], additionalExtensions: ext)
                attestors.append(KyvernoAttestorSet(count: nil, entries: [.authority(SignatureAuthority(
                    label: "keyless", trust: .keyless(trust), signatureRepository: repository, tlog: .init(url: "https://rekor.sigstore.dev")))]))
            }
            if let ann = v.stringMap("annotations"), !ann.isEmpty {
                d.error(v.at("annotations"), "deprecated verifyImages.annotations is not supported; use attestors[].entries[].annotations")
            }
        }

        var attestations: [KyvernoAttestation] = []
        for (i, a) in (v.objects("attestations") ?? []).enumerated() {
            if let att = parseAttestation(a, index: i, type: type, repository: repository) { attestations.append(att) }
        }
        v.finish()
        var verification = KyvernoImageVerification(failureAction: action, type: type, imageReferences: refs, skipImageReferences: skip,
                                                    attestors: attestors, attestations: attestations, repository: repository,
                                                    mutateDigest: mutateDigest, verifyDigest: verifyDigest, required: required, useCache: useCache,
                                                    validate: validate)
        (verification.registrySecrets, verification.registryProviders) = registryCredentials
        return verification
    }
}

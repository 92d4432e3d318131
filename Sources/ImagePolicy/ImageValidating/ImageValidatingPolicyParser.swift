/// Parses ImageValidatingPolicy / NamespacedImageValidatingPolicy like Kyverno's CRD and admission validation:
/// every field is read into the model or refused here with the reason, never parsed and ignored. Expressions are
/// compiled at load, so a syntax error (or one over the size limits) is a load error naming the field.
enum ImageValidatingPolicyParser {
    static let versions = ["policies.kyverno.io/v1alpha1", "policies.kyverno.io/v1beta1", "policies.kyverno.io/v1"]

    static func parse(_ root: FieldReader, kind: String, metadata: Metadata, source: DocumentSource) -> ImageValidatingPolicy? {
        let d = root.diags
        guard let spec = root.documentSpec() else { return nil }
        var p = ImageValidatingPolicy(name: metadata.name, namespace: kind == "NamespacedImageValidatingPolicy" ? (metadata.namespace ?? "default") : nil,
                                      source: source, kind: kind)
        if let text = spec.string("failurePolicy") {
            guard let value = ImageValidatingPolicy.FailurePolicy(rawValue: text) else {
                d.error(spec.at("failurePolicy"), "Unsupported value: \"\(text)\": supported values: \"Ignore\", \"Fail\""); return nil
            }
            p.failurePolicy = value
        }
        for (i, text) in (spec.strings("validationActions") ?? []).enumerated() {
            guard let action = ImageValidatingPolicy.Action(rawValue: text) else {
                d.error("\(spec.at("validationActions"))[\(i)]", "Unsupported value: \"\(text)\": supported values: \"Deny\", \"Warn\", \"Audit\"")
                continue
            }
            p.validationActions.append(action)
        }
        if p.validationActions.isEmpty { p.validationActions = [.deny] }
        if p.validationActions.contains(.deny), p.validationActions.contains(.warn) {
            d.error(spec.at("validationActions"), "Deny and Warn cannot be used together")
        }
        if let m = spec.object("matchConstraints") { p.matchConstraints = parseMatchConstraints(m) }
        p.matchConditions = namedExpressions(spec, "matchConditions")
        p.variables = namedExpressions(spec, "variables")
        p.images = namedExpressions(spec, "images")
        for m in spec.objects("matchImageReferences") ?? [] {
            if let glob = m.string("glob") { p.matchImageReferences.append(.glob(glob)) }
            if let e = m.string("expression") { checkExpression(m, "expression", e); p.matchImageReferences.append(.expression(e)) }
            if m.has("glob") == m.has("expression") { d.error(m.path, "exactly one of glob, expression is required") }
            m.finish()
        }
        p.attestors = (spec.objects("attestors") ?? []).compactMap(ImageValidatingAttestorParser.parseAttestor)
        p.attestations = (spec.objects("attestations") ?? []).compactMap(parseAttestation)
        for v in spec.objects("validations") ?? [] {
            let expression = v.string("expression") ?? ""
            if expression.isEmpty { d.error(v.at("expression"), "Required value: \(v.at("expression"))") } else { checkExpression(v, "expression", expression) }
            let messageExpression = v.string("messageExpression")
            if let m = messageExpression { checkExpression(v, "messageExpression", m) }
            p.validations.append(.init(expression: expression, message: v.string("message"), messageExpression: messageExpression, reason: v.string("reason")))
            v.finish()
        }
        if p.validations.isEmpty { d.error(spec.at("validations"), "Required value: at least one validation") }
        if let c = spec.object("validationConfigurations") {
            p.mutateDigest = c.bool("mutateDigest") ?? true
            p.verifyDigest = c.bool("verifyDigest") ?? true
            p.required = c.bool("required") ?? true
            c.finish()
        }
        if let c = spec.object("credentials") {
            p.pullSecrets = (c.objects("secrets") ?? []).compactMap { s in defer { s.finish() }; return s.string("name") }
            p.credentialProviders = KyvernoPolicyParser.parseCredentialProviders(c)
            if c.bool("allowInsecureRegistry") == true {
                d.error(c.at("allowInsecureRegistry"), "not supported: plain-HTTP registries are configured with --insecure-registry")
            }
            c.finish()
        }
        // credentials.secrets are read for every registry access of the policy's verifications.
        for i in p.attestors.indices { p.attestors[i].authority.pullSecrets += p.pullSecrets }
        parseEvaluation(spec, into: &p)
        if let a = spec.object("autogen") {
            if let pc = a.object("podControllers") {
                p.autogenControllers = pc.strings("controllers") ?? []
                pc.finish()
            }
            a.finish()
        }
        if spec.has("auditAnnotations") { d.error(spec.at("auditAnnotations"), "not supported yet: auditAnnotations of ImageValidatingPolicy") }
        if let w = spec.object("webhookConfiguration") {
            _ = w.int("timeoutSeconds")  // the API server's per-webhook timeout: set on sealgate's webhook configuration
            w.finish()
        }
        spec.finish()
        return d.hasErrors ? nil : p
    }

    static func checkExpression(_ r: FieldReader, _ key: String, _ expression: String) {
        if let error = ImageValidatingEvaluator.compileError(expression) { r.diags.error(r.at(key), "compilation failed: \(error)") }
    }

    static func namedExpressions(_ spec: FieldReader, _ key: String) -> [ImageValidatingPolicy.NamedExpression] {
        var seen = Set<String>()
        return (spec.objects(key) ?? []).compactMap { e in
            defer { e.finish() }
            let name = e.string("name") ?? "", expression = e.string("expression") ?? ""
            if name.isEmpty { e.diags.error(e.at("name"), "Required value: \(e.at("name"))") }
            if expression.isEmpty { e.diags.error(e.at("expression"), "Required value: \(e.at("expression"))"); return nil }
            if !seen.insert(name).inserted { e.diags.error(e.at("name"), "Duplicate value: \"\(name)\"") }
            checkExpression(e, "expression", expression)
            return .init(name: name, expression: expression)
        }
    }

    static func parseMatchConstraints(_ m: FieldReader) -> ImageValidatingPolicy.MatchConstraints {
        var c = ImageValidatingPolicy.MatchConstraints()
        c.resourceRules = (m.objects("resourceRules") ?? []).map(parseRule)
        c.excludeResourceRules = (m.objects("excludeResourceRules") ?? []).map(parseRule)
        c.namespaceSelector = m.object("namespaceSelector").map { LabelSelector.parse($0, wildcardValues: false) }
        c.objectSelector = m.object("objectSelector").map { LabelSelector.parse($0, wildcardValues: false) }
        if let policy = m.string("matchPolicy"), policy != "Equivalent" {
            m.diags.error(m.at("matchPolicy"), "matchPolicy \(policy) is not supported: only Equivalent (the default; requests are matched by resource, whatever API version they use)")
        }
        m.finish()
        return c
    }

    static func parseRule(_ r: FieldReader) -> ImageValidatingPolicy.ResourceRule {
        defer { r.finish() }
        let scope = r.string("scope") ?? "*"
        if !["*", "Cluster", "Namespaced"].contains(scope) {
            r.diags.error(r.at("scope"), "Unsupported value: \"\(scope)\": supported values: \"*\", \"Cluster\", \"Namespaced\"")
        }
        let rule = ImageValidatingPolicy.ResourceRule(apiGroups: r.strings("apiGroups") ?? [], apiVersions: r.strings("apiVersions") ?? [],
                                                      operations: r.strings("operations") ?? [], resources: r.strings("resources") ?? [],
                                                      resourceNames: r.strings("resourceNames") ?? [], scope: scope)
        if rule.resources.isEmpty { r.diags.error(r.at("resources"), "Required value: \(r.at("resources"))") }
        return rule
    }

    static func parseAttestation(_ a: FieldReader) -> ImageValidatingPolicy.Attestation? {
        defer { a.finish() }
        let name = a.string("name") ?? ""
        if name.isEmpty { a.diags.error(a.at("name"), "Required value: \(a.at("name"))") }
        if a.has("referrer") {
            a.diags.error(a.at("referrer"), "OCI referrer attestations are Notation's (notary) and not supported yet: use intoto")
            return nil
        }
        guard let intoto = a.object("intoto") else { a.diags.error(a.path, "one of intoto, referrer is required"); return nil }
        defer { intoto.finish() }
        guard let type = intoto.string("type"), !type.isEmpty else { intoto.diags.error(intoto.at("type"), "Required value: \(intoto.at("type"))"); return nil }
        return .init(name: name, predicateType: type)
    }

    static func parseEvaluation(_ spec: FieldReader, into p: inout ImageValidatingPolicy) {
        guard let e = spec.object("evaluation") else { return }
        if let mode = e.string("mode"), mode != "Kubernetes" {
            e.diags.error(e.at("mode"), "evaluation mode \(mode) is not supported: sealgate evaluates Kubernetes admission requests (mode Kubernetes)")
        }
        if let a = e.object("admission") { p.admissionEnabled = a.bool("enabled") ?? true; a.finish() }
        if let b = e.object("background") { _ = b.bool("enabled"); b.finish() }  // sealgate has no background scans (yet): nothing to switch
        e.finish()
    }
}

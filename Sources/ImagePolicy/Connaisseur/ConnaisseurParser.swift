/// Reads a Connaisseur configuration: a YAML/JSON document whose top level has `application:` with `validators`
/// and `policy` (Connaisseur's helm values, or just that section). Every field is read and checked, or refused with
/// an error naming it; deployment settings that are not policy (`kubernetes`, `application.logLevel`, …) load with a
/// warning saying they have no effect here.
enum ConnaisseurParser {
    /// A document is Connaisseur's when it is not a Kubernetes object and has `application.validators`/`policy`.
    static func recognises(_ doc: JSONValue) -> Bool {
        guard case .object(let o) = doc, o["apiVersion"] == nil, o["kind"] == nil, case .object(let app)? = o["application"] else { return false }
        return app["validators"] != nil || app["policy"] != nil
    }

    static func parse(_ root: FieldReader, source: DocumentSource) -> ConnaisseurConfig? {
        let d = root.diags
        if root.has("kubernetes") { d.warning(root.at("kubernetes"), "Connaisseur deployment settings are not policy: not used by sealgate (its own chart deploys it)") }
        root.ignore("kubernetes")
        if root.has("alerting") { d.error(root.at("alerting"), "Connaisseur alerting is not supported") }
        root.ignore("alerting")
        guard let app = root.object("application") else { return nil }
        root.finish()

        var validators: [String: ConnaisseurValidator] = [:]
        guard let vs = app.objects("validators"), !vs.isEmpty else {
            d.error(app.at("validators"), "missing field(s): \(app.at("validators"))")
            return nil
        }
        for v in vs {
            guard let validator = validator(v) else { continue }
            if validators[validator.name] != nil { d.error(v.at("name"), "validator \"\(validator.name)\" is defined twice") }
            validators[validator.name] = validator
        }
        guard let ps = app.objects("policy"), !ps.isEmpty else {
            d.error(app.at("policy"), "missing field(s): \(app.at("policy"))")
            return nil
        }
        let rules = ps.enumerated().compactMap { rule($1, index: $0, validators: validators) }
        var detection = false
        var namespaces = ConnaisseurConfig.NamespaceFilter.all
        if let f = app.object("features") { (detection, namespaces) = features(f) }
        for key in ["logLevel", "logFormat"] where app.has(key) {
            d.warning(app.at(key), "Connaisseur logging setting: not used by sealgate (see serve --log-level)")
        }
        app.ignore("logLevel", "logFormat")
        app.finish()
        let file = source.file.map { String($0.split(separator: "/").last ?? Substring($0)) } ?? "config"
        return ConnaisseurConfig(name: "Connaisseur/\(file)", source: source, validators: validators, rules: rules,
                                 detectionMode: detection, namespaces: namespaces)
    }

    static func validator(_ v: FieldReader) -> ConnaisseurValidator? {
        let d = v.diags
        let name = v.string("name") ?? ""
        if name.isEmpty { d.error(v.at("name"), "missing field(s): \(v.at("name"))") }
        let type = v.string("type") ?? ""
        var kind: ConnaisseurValidator.Kind?
        var order: [String] = []
        switch type {
        case "static":
            if let approve = v.bool("approve") { kind = .staticApproval(approve) } else { d.error(v.at("approve"), "missing field(s): \(v.at("approve"))") }
        case "cosign":
            let roots = trustRoots(v, cosign: true)
            order = roots.map(\.0)
            kind = .cosign(trustRoots: Dictionary(roots, uniquingKeysWith: { a, _ in a }))
            for field in ["host", "auth", "cert"] where v.has(field) {
                d.error(v.at(field), "cosign validator field \"\(field)\" is not supported (registry access uses sealgate's registry credentials)")
            }
            v.ignore("host", "auth", "cert")
        case "notaryv1":
            // Connaisseur's own chart leaves it out for Docker Hub: notary.docker.io is its default.
            let host = v.string("host") ?? "notary.docker.io"
            if host.isEmpty { d.error(v.at("host"), "must not be empty") }
            let roots = trustRoots(v, cosign: false)
            order = roots.map(\.0)
            let cert = v.string("cert")
            if let cert, PEM.certificatesProblem(cert) != nil { d.error(v.at("cert"), "\(PEM.certificatesProblem(cert)!)") }
            var username: String?, password: String?
            if let a = v.object("auth") {
                if a.has("secretName") { d.error(a.at("secretName"), "auth.secretName is not supported: give username and password") }
                a.ignore("secretName")
                username = a.string("username")
                password = a.string("password")
                if (username == nil) != (password == nil) { d.error(a.path, "auth needs both username and password") }
                a.finish()
            }
            kind = .notary(host: host, trustRoots: Dictionary(roots, uniquingKeysWith: { a, _ in a }), caPEM: cert, username: username, password: password)
        case "":
            d.error(v.at("type"), "missing field(s): \(v.at("type"))")
        default:
            d.error(v.at("type"), "unsupported validator type \"\(type)\" (sealgate supports static, cosign and notaryv1)")
        }
        v.finish()
        guard let kind, !name.isEmpty else { return nil }
        return ConnaisseurValidator(name: name, kind: kind, trustRootOrder: order)
    }

    static func trustRoots(_ v: FieldReader, cosign: Bool) -> [(String, String)] {
        let d = v.diags
        guard let list = v.objects("trustRoots"), !list.isEmpty else {
            d.error(v.at("trustRoots"), "missing field(s): \(v.at("trustRoots"))")
            return []
        }
        var out: [(String, String)] = []
        for t in list {
            let name = t.string("name") ?? ""
            if name.isEmpty { d.error(t.at("name"), "missing field(s): \(t.at("name"))") }
            if name == "*" { d.error(t.at("name"), "\"*\" is not a trust root name (it selects all of them in a rule's with.trustRoot)") }
            if out.contains(where: { $0.0 == name }) { d.error(t.at("name"), "trust root \"\(name)\" is defined twice") }
            if t.has("keyless") { d.error(t.at("keyless"), "keyless trust roots are not supported in Connaisseur configurations (use a ClusterImagePolicy keyless authority)") }
            t.ignore("keyless")
            if let key = t.string("key") {
                if !key.hasPrefix("-----BEGIN") {
                    d.error(t.at("key"), cosign ? "KMS keys are not supported (a PEM public key is)" : "expected a PEM public key")
                } else if let problem = PEM.publicKeyProblem(key) {
                    d.error(t.at("key"), problem)
                } else if !name.isEmpty {
                    out.append((name, key))
                }
            } else if !t.has("keyless") {
                d.error(t.at("key"), "missing field(s): \(t.at("key"))")
            }
            t.finish()
        }
        return out
    }

    static func rule(_ r: FieldReader, index: Int, validators: [String: ConnaisseurValidator]) -> ConnaisseurRule? {
        let d = r.diags
        let pattern = r.string("pattern") ?? ""
        if pattern.isEmpty { d.error(r.at("pattern"), "missing field(s): \(r.at("pattern"))") }
        let validatorName = r.string("validator") ?? "default"
        let validator = validators[validatorName]
        if validator == nil {
            d.error(r.at("validator"), r.has("validator") ? "no validator named \"\(validatorName)\"" : "no validator given and none is named \"default\"")
        }
        var rule = ConnaisseurRule(index: index, pattern: pattern, validator: validatorName, trustRoot: "default", delegations: [],
                                   threshold: nil, required: [], verifyInTransparencyLog: true, mutate: true)
        if let w = r.object("with") {
            let at = { (f: String) in w.at(f) }
            if let t = w.string("trustRoot") { rule.trustRoot = t }
            if w.has("key") { d.error(at("key"), "with.key is Connaisseur's old name: use with.trustRoot") }
            w.ignore("key")
            switch w.string("mode") {
            case nil, "mutate": break
            case "insecureValidateOnly": rule.mutate = false
            case let m?: d.error(at("mode"), "unsupported mode \"\(m)\" (want mutate or insecureValidateOnly)")
            }
            rule.delegations = w.strings("delegations") ?? []
            rule.threshold = w.int("threshold")
            rule.required = w.strings("required") ?? []
            rule.verifyInTransparencyLog = w.bool("verifyInTransparencyLog") ?? true
            if w.has("verifySCT") { d.error(at("verifySCT"), "with.verifySCT applies to keyless trust roots, which are not supported") }
            w.ignore("verifySCT")
            w.finish()
            checkWith(rule, validator, w)
        } else if let validator {
            checkTrustRoot(rule, validator, r)
        }
        r.finish()
        guard !pattern.isEmpty, validator != nil else { return nil }
        return rule
    }

    /// The `with` fields must suit the validator's type: each one is used by that type, or refused.
    static func checkWith(_ rule: ConnaisseurRule, _ validator: ConnaisseurValidator?, _ w: FieldReader) {
        guard let validator else { return }
        let d = w.diags
        checkTrustRoot(rule, validator, w)
        switch validator.kind {
        case .staticApproval:
            for f in ["trustRoot", "delegations", "threshold", "required", "verifyInTransparencyLog"] where w.has(f) {
                d.error(w.at(f), "a static validator takes no \(f)")
            }
        case .cosign:
            if w.has("delegations") { d.error(w.at("delegations"), "delegations apply to notaryv1 validators only") }
            if rule.trustRoot != "*" {
                for f in ["threshold", "required"] where w.has(f) { d.error(w.at(f), "\(f) needs trustRoot: \"*\"") }
            }
            let count = validator.trustRootOrder.count
            if let t = rule.threshold, !(1...max(1, count)).contains(t) { d.error(w.at("threshold"), "threshold \(t) must be between 1 and the \(count) trust roots") }
            for name in rule.required where !validator.trustRootOrder.contains(name) {
                d.error(w.at("required"), "no trust root named \"\(name)\" in validator \(validator.name)")
            }
        case .notary:
            for f in ["required", "verifyInTransparencyLog"] where w.has(f) { d.error(w.at(f), "\(f) applies to cosign validators only") }
            if let t = rule.threshold {
                if rule.delegations.isEmpty { d.error(w.at("threshold"), "threshold needs delegations for a notaryv1 validator") }
                else if !(1...rule.delegations.count).contains(t) { d.error(w.at("threshold"), "threshold \(t) must be between 1 and the \(rule.delegations.count) delegations") }
            }
            for name in rule.delegations where name.isEmpty || name == "targets" || name.contains(" ") {
                d.error(w.at("delegations"), "\"\(name)\" is not a delegation role name")
            }
        }
    }

    static func checkTrustRoot(_ rule: ConnaisseurRule, _ validator: ConnaisseurValidator, _ r: FieldReader) {
        if case .staticApproval = validator.kind { return }
        if rule.trustRoot == "*" {
            if case .notary = validator.kind { r.diags.error(r.at("trustRoot"), "trustRoot \"*\" is supported for cosign validators only") }
            return
        }
        if !validator.trustRootOrder.contains(rule.trustRoot) {
            r.diags.error(r.at("trustRoot"), "validator \(validator.name) has no trust root named \"\(rule.trustRoot)\"")
        }
    }

    static func features(_ f: FieldReader) -> (Bool, ConnaisseurConfig.NamespaceFilter) {
        let d = f.diags
        let detection = f.bool("detectionMode") ?? false
        if f.bool("automaticUnchangedApproval") == true {
            d.error(f.at("automaticUnchangedApproval"), "automaticUnchangedApproval: true is not supported (sealgate validates every request)")
        }
        if f.has("automaticChildApproval") {
            d.warning(f.at("automaticChildApproval"), "sealgate validates child resources too (their images carry the parent's pinned digests); automaticChildApproval has no effect")
        }
        f.ignore("automaticChildApproval")
        var filter = ConnaisseurConfig.NamespaceFilter.all
        if let n = f.object("namespacedValidation") {
            let enabled = n.bool("enabled") ?? true
            switch n.string("mode") ?? "ignore" {
            case "ignore": filter = .ignoreLabelled
            case "validate": filter = .onlyLabelled
            case let m: d.error(n.at("mode"), "unsupported mode \"\(m)\" (want ignore or validate)")
            }
            if !enabled { filter = .all }
            n.finish()
        }
        if let mode = f.string("resourceValidationMode"), mode != "all" {
            d.error(f.at("resourceValidationMode"), "resourceValidationMode \"\(mode)\" is not supported (sealgate validates all resources)")
        }
        if f.has("cache") {
            d.warning(f.at("cache"), "Connaisseur's cache settings have no effect: sealgate's verification cache is set by serve flags")
        }
        f.ignore("cache")
        f.finish()
        return (detection, filter)
    }
}

/// Kyverno attestor sets, attestors (keys, keyless, certificates) and attestations with their conditions.
extension KyvernoPolicyParser {
    static func parseAttestorSet(_ s: FieldReader, label: String, type: KyvernoImageVerification.SignatureType, repository: String?) -> KyvernoAttestorSet? {
        let d = s.diags
        let count = s.int("count")
        let entries = s.objects("entries") ?? []
        if entries.isEmpty { d.error(s.at("entries"), "An entry is required") }
        if let count {
            if count < 0 { d.error(s.at("count"), "count must be at least 1") }
            if count > entries.count { d.error(s.at("count"), "Count cannot exceed length of entries") }
        }
        var result: [KyvernoAttestor] = []
        for (i, e) in entries.enumerated() {
            result += parseAttestor(e, label: "\(label).entries[\(i)]", type: type, repository: repository)
        }
        s.finish()
        return KyvernoAttestorSet(count: count, entries: result)
    }

    /// One entry; a multi-key `publicKeys` PEM expands into one attestor per key (as Kyverno does).
    static func parseAttestor(_ e: FieldReader, label: String, type: KyvernoImageVerification.SignatureType, repository: String?) -> [KyvernoAttestor] {
        let d = e.diags
        let kinds = ["keys", "certificates", "keyless", "attestor"].filter { e.has($0) }
        if kinds.count != 1 {
            d.error(e.path, "keys, certificates, keyless, or a nested attestor is required")
        }
        var algorithm = "sha256"
        if let a = e.string("signatureAlgorithm") {
            if signatureAlgorithms.contains(a) { algorithm = a } else if !a.isEmpty {
                d.error(e.at("signatureAlgorithm"), "Invalid signature algorithm provided")
            }
        }
        let annotations = e.stringMap("annotations") ?? [:]
        let repo = e.string("repository") ?? repository
        func authority(_ trust: TrustSource, rekor: FieldReader?, ctlog: FieldReader?) -> SignatureAuthority {
            var tlog = TransparencyLogSettings(url: "https://rekor.sigstore.dev")
            if let rekor {
                tlog.url = rekor.string("url")
                tlog.publicKey = rekor.string("pubkey")
                tlog.ignore = rekor.bool("ignoreTlog") ?? false
            }
            var ignoreSCT = false, ctKey: String?, tsa: String?
            if let ctlog {
                ignoreSCT = ctlog.bool("ignoreSCT") ?? false
                ctKey = ctlog.string("pubkey")
                tsa = ctlog.string("tsaCertChain")
            }
            return SignatureAuthority(label: label, trust: trust, hashAlgorithm: algorithm, signatureRepository: repo,
                                      tlog: tlog, ignoreSCT: ignoreSCT, ctlogPublicKey: ctKey, timestampAuthority: tsa,
                                      requiredAnnotations: annotations, signatureFormat: type.rawValue)
        }
        var out: [KyvernoAttestor] = []
        if let k = e.object("keys") {
            if let a = k.string("signatureAlgorithm"), !a.isEmpty {
                if signatureAlgorithms.contains(a) { algorithm = a } else {
                    d.error(k.at("signatureAlgorithm"), "Invalid signature algorithm provided")
                }
            }
            let pem = k.string("publicKeys") ?? ""
            let kms = k.string("kms") ?? ""
            var secret: SecretReference?
            if let s = k.object("secret") {
                let n = s.string("name") ?? "", ns = s.string("namespace") ?? ""
                if n.isEmpty { d.error(s.at("name"), "missing field(s): \(s.at("name"))") }
                if ns.isEmpty { d.error(s.at("namespace"), "missing field(s): \(s.at("namespace"))") }
                secret = SecretReference(namespace: ns, name: n)
                s.finish()
            }
            let rekor = k.object("rekor"), ctlog = k.object("ctlog")
            let set = [!pem.isEmpty, !kms.isEmpty, secret != nil].filter { $0 }.count
            if set == 0 { d.error(k.path, "A public key, kms key or secret is required") }
            if set > 1 { d.error(k.path, "expected exactly one of publicKeys, kms, secret") }
            if !pem.isEmpty {
                if pem.hasPrefix("k8s://") {
                    let parts = pem.dropFirst(6).split(separator: "/")
                    if parts.count != 2 { d.error(k.at("publicKeys"), "invalid secret reference \"\(pem)\": want k8s://<namespace>/<name>") }
                    out.append(.authority(authority(.secret(namespace: parts.first.map(String.init), name: parts.last.map(String.init) ?? ""), rekor: rekor, ctlog: ctlog)))
                } else if pem.contains("{{") {
                    d.error(k.at("publicKeys"), "variables in publicKeys are not supported; inline the PEM key")
                } else if let p = PEM.publicKeyProblem(pem) {
                    d.error(k.at("publicKeys"), "invalid public key: \(p)")
                } else {
                    // Expand multi-key PEM: one attestor per key, `count` applies across them.
                    let keys = splitPEMKeys(pem)
                    let rekorR = rekor, ctlogR = ctlog
                    for (i, key) in keys.enumerated() {
                        var a = authority(.publicKey(pem: key), rekor: i == 0 ? rekorR : nil, ctlog: i == 0 ? ctlogR : nil)
                        if i > 0, case .authority(let first)? = out.first {
                            a.tlog = first.tlog; a.ignoreSCT = first.ignoreSCT; a.ctlogPublicKey = first.ctlogPublicKey
                        }
                        if keys.count > 1 { a.label = "\(label).keys[\(i)]" }
                        out.append(.authority(a))
                    }
                }
            } else if !kms.isEmpty {
                d.warning(k.at("kms"), "KMS not supported: sealgate has no KMS client, so this attestor can never verify (\(kms))")
                out.append(.authority(authority(.kms(uri: kms), rekor: rekor, ctlog: ctlog)))
            } else if let secret {
                out.append(.authority(authority(.secret(namespace: secret.namespace, name: secret.name), rekor: rekor, ctlog: ctlog)))
            }
            rekor?.finish(); ctlog?.finish()
            k.finish()
        }
        if let c = e.object("certificates") {
            let cert = c.string("cert"), chain = c.string("certChain")
            if (cert ?? "").isEmpty && (chain ?? "").isEmpty { d.error(c.path, "cert or certChain required") }
            for (f, v) in [("cert", cert), ("certChain", chain)] {
                if let v, !v.isEmpty, let p = PEM.certificatesProblem(v) { d.error(c.at(f), "invalid certificate: \(p)") }
            }
            let rekor = c.object("rekor"), ctlog = c.object("ctlog")
            out.append(.authority(authority(.certificates(cert: cert, chain: chain), rekor: rekor, ctlog: ctlog)))
            rekor?.finish(); ctlog?.finish()
            c.finish()
        }
        if let k = e.object("keyless") {
            var trust = KeylessTrust()
            let issuer = k.string("issuer"), issuerRE = k.string("issuerRegExp")
            let subject = k.string("subject"), subjectRE = k.string("subjectRegExp")
            for (f, re) in [("issuerRegExp", issuerRE), ("subjectRegExp", subjectRE)] {
                if let re, let p = RegexCheck.problem(re) { d.error(k.at(f), "invalid regular expression \"\(re)\": \(p)") }
            }
            if issuer != nil && issuerRE != nil { d.error(k.path, "expected exactly one, got both: \(k.at("issuer")), \(k.at("issuerRegExp"))") }
            if subject != nil && subjectRE != nil { d.error(k.path, "expected exactly one, got both: \(k.at("subject")), \(k.at("subjectRegExp"))") }
            trust.identities = [KeylessIdentity(issuer: issuerRE.map { .regex($0) } ?? issuer.map { .wildcard($0) },
                                                subject: subjectRE.map { .regex($0) } ?? subject.map { .wildcard($0) })]
            trust.rootsPEM = k.string("roots")
            if let roots = trust.rootsPEM, let p = PEM.certificatesProblem(roots) { d.error(k.at("roots"), "invalid roots: \(p)") }
            trust.additionalExtensions = k.stringMap("additionalExtensions") ?? [:]
            let rekor = k.object("rekor")
            if rekor == nil && (trust.rootsPEM ?? "").isEmpty {
                d.error(k.path, "Either Rekor URL or roots are required")
            }
            if let rekor, (rekor.object["url"]?.stringValue ?? "").isEmpty {
                d.error(rekor.at("url"), "An URL is required")
            }
            let ctlog = k.object("ctlog")
            out.append(.authority(authority(.keyless(trust), rekor: rekor, ctlog: ctlog)))
            rekor?.finish(); ctlog?.finish()
            k.finish()
        }
        if let n = e.object("attestor") {
            if let set = parseAttestorSet(n, label: "\(label).attestor", type: type, repository: repo) { out.append(.nested(set)) }
        }
        e.finish()
        return out
    }

    static func splitPEMKeys(_ pem: String) -> [String] {
        let marker = "-----END PUBLIC KEY-----"
        return pem.components(separatedBy: marker)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
            .map { $0 + "\n" + marker }
    }

    static func parseAttestation(_ a: FieldReader, index: Int, type: KyvernoImageVerification.SignatureType, repository: String?) -> KyvernoAttestation? {
        let d = a.diags
        let name = a.string("name")
        var predicate = a.string("type") ?? ""
        if let p = a.string("predicateType") {
            if !predicate.isEmpty { d.error(a.path, "expected exactly one, got both: \(a.at("type")), \(a.at("predicateType"))") }
            predicate = p
            d.warning(a.at("predicateType"), "predicateType has been deprecated use 'type: \(p)' instead of 'predicateType: \(p)'")
        }
        if predicate.isEmpty { d.error(a.path, "missing type") }
        var attestors: [KyvernoAttestorSet] = []
        for (i, s) in (a.objects("attestors") ?? []).enumerated() {
            if let set = parseAttestorSet(s, label: "attestations[\(index)].attestors[\(i)]", type: type, repository: repository) {
                attestors.append(set)
            }
        }
        var conditions: [KyvernoAnyAllConditions] = []
        for c in a.objects("conditions") ?? [] {
            conditions.append(KyvernoAnyAllConditions(any: parseConditions(c, "any"), all: parseConditions(c, "all")))
            c.finish()
        }
        a.finish()
        return KyvernoAttestation(name: name, type: predicate, attestors: attestors, conditions: conditions)
    }

    static func parseConditions(_ c: FieldReader, _ key: String) -> [KyvernoCondition] {
        let d = c.diags
        var out: [KyvernoCondition] = []
        for cond in c.objects(key) ?? [] {
            let opText = cond.string("operator") ?? ""
            let op = KyvernoOperator(rawValue: opText)
            if opText.isEmpty {
                d.error(cond.at("operator"), "missing field(s): \(cond.at("operator"))")
            } else if op == nil {
                d.error(cond.at("operator"), "invalid value \"\(opText)\": unknown operator (want one of \(KyvernoOperator.crdNames.joined(separator: ", ")))")
            } else if op == .in || op == .notIn {
                d.warning(cond.at("operator"), "operator \(opText) is deprecated; use AllIn/AnyIn or AllNotIn/AnyNotIn")
            }
            let keyRaw = cond.raw("key") ?? .null
            let valueRaw = cond.raw("value") ?? .null
            var key: KyvernoTemplate?, value: KyvernoTemplate?
            do { key = try KyvernoTemplate(keyRaw) } catch { d.error(cond.at("key"), error.description) }
            do { value = try KyvernoTemplate(valueRaw) } catch { d.error(cond.at("value"), error.description) }
            let message = cond.string("message")
            cond.finish()
            if let op, let key, let value { out.append(KyvernoCondition(key: key, op: op, value: value, message: message)) }
        }
        return out
    }
}

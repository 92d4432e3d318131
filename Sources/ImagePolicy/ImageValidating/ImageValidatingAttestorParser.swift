/// `spec.attestors[]` of an ImageValidatingPolicy into dialect-neutral authorities, as Kyverno's cosign verifier
/// reads them: a key, keyless identities (with `roots`) or a certificate; `ctlog` says which Rekor and CT log to
/// trust and whether to skip them; `source` an alternative signature repository. Notary attestors, KMS keys,
/// CEL-valued keys and per-attestor trusted roots or TUF repositories are refused with the reason.
enum ImageValidatingAttestorParser {
    static func parseAttestor(_ a: FieldReader) -> ImageValidatingPolicy.Attestor? {
        let d = a.diags
        defer { a.finish() }
        let name = a.string("name") ?? ""
        if name.isEmpty { d.error(a.at("name"), "Required value: \(a.at("name"))") }
        if a.has("notary") {
            d.error(a.at("notary"), "notary attestors are not supported until Notation verification lands: use cosign")
            return nil
        }
        guard let c = a.object("cosign") else { d.error(a.path, "one of cosign, notary is required"); return nil }
        defer { c.finish() }
        for refused in ["trustedRoot", "tuf"] where c.has(refused) {
            d.error(c.at(refused), "a per-attestor \(refused) is not supported: give the trusted root with --trusted-root or --tuf-mirror")
        }
        let label = "attestors[\(name)]"
        if ["key", "keyless", "certificate"].filter({ c.has($0) }).count != 1 { d.error(c.path, "exactly one of key, keyless, certificate is required") }
        var algorithm = "sha256"
        var trust: TrustSource?
        if let k = c.object("key") {
            defer { k.finish() }
            if k.has("kms") { d.error(k.at("kms"), "KMS keys are not supported: inline the PEM public key in data") }
            if k.has("expression") { d.error(k.at("expression"), "CEL-valued keys are not supported yet: inline the PEM public key in data") }
            if let h = k.string("hashAlgorithm"), !h.isEmpty {
                if ["sha224", "sha256", "sha384", "sha512"].contains(h) { algorithm = h } else { d.error(k.at("hashAlgorithm"), "Unsupported value: \"\(h)\"") }
            }
            let pem = k.string("data") ?? ""
            if pem.isEmpty { d.error(k.at("data"), "Required value: \(k.at("data"))") } else if let problem = PEM.publicKeyProblem(pem) { d.error(k.at("data"), problem) }
            trust = .publicKey(pem: pem)
        }
        if let k = c.object("keyless") {
            defer { k.finish() }
            var identities: [KeylessIdentity] = []
            for i in k.objects("identities") ?? [] {
                defer { i.finish() }
                if i.has("subjectExpression") { d.error(i.at("subjectExpression"), "CEL-valued subjects are not supported yet: use subject or subjectRegExp") }
                let (issuerText, issuerRegExp) = (i.string("issuer"), i.string("issuerRegExp"))
                let (subjectText, subjectRegExp) = (i.string("subject"), i.string("subjectRegExp"))
                let issuer = issuerText.map(StringMatcher.exact) ?? issuerRegExp.map(StringMatcher.regex)
                let subject = subjectText.map(StringMatcher.exact) ?? subjectRegExp.map(StringMatcher.regex)
                if issuer == nil && subject == nil { d.error(i.path, "one of issuer, issuerRegExp, subject, subjectRegExp is required") }
                identities.append(KeylessIdentity(issuer: issuer, subject: subject))
            }
            if identities.isEmpty { d.error(k.at("identities"), "Required value: at least one identity") }
            trust = .keyless(KeylessTrust(rootsPEM: k.string("roots"), identities: identities, additionalExtensions: k.stringMap("additionalExtensions") ?? [:]))
        }
        if let k = c.object("certificate") {
            defer { k.finish() }
            func value(_ key: String) -> String? {
                guard let v = k.object(key) else { return nil }
                defer { v.finish() }
                if v.has("expression") { d.error(v.at("expression"), "CEL-valued certificates are not supported yet: use value") }
                return v.string("value")
            }
            let cert = value("cert"), chain = value("certChain")
            if cert == nil && chain == nil { d.error(k.path, "one of cert, certChain is required") }
            trust = .certificates(cert: cert, chain: chain)
        }
        guard let trust else { return nil }
        var authority = SignatureAuthority(label: label, trust: trust, hashAlgorithm: algorithm,
                                           tlog: TransparencyLogSettings(url: "https://rekor.sigstore.dev"),
                                           requiredAnnotations: c.stringMap("annotations") ?? [:], signatureFormat: "Cosign")
        if let log = c.object("ctlog") {
            defer { log.finish() }
            if let url = log.string("url") { authority.tlog.url = url }
            authority.tlog.publicKey = log.string("rekorPubKey")
            authority.tlog.ignore = log.bool("insecureIgnoreTlog") ?? false
            authority.ignoreSCT = log.bool("insecureIgnoreSCT") ?? false
            authority.ctlogPublicKey = log.string("ctLogPubKey")
            authority.timestampAuthority = log.string("tsaCertChain")
        }
        if let s = c.object("source") {
            defer { s.finish() }
            authority.signatureRepository = s.string("repository")
            if let prefix = s.string("tagPrefix"), !prefix.isEmpty {
                d.error(s.at("tagPrefix"), "signature tag prefixes are not supported: cosign's sha256-<digest>.sig tags are read")
            }
            authority.pullSecrets = (s.objects("PullSecrets") ?? []).compactMap { p in defer { p.finish() }; return p.string("name") }
        }
        return d.hasErrors ? nil : .init(name: name, authority: authority)
    }
}

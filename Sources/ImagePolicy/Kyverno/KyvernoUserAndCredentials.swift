/// `subjects` of a match/exclude filter and `imageRegistryCredentials` of a verifyImages entry.
extension KyvernoPolicyParser {
    /// rbac/v1 Subjects: kind User, Group or ServiceAccount (with its namespace) and a name (wildcards allowed).
    static func parseSubjects(_ f: FieldReader) -> [KyvernoSubject] {
        let d = f.diags
        var out: [KyvernoSubject] = []
        for s in f.objects("subjects") ?? [] {
            let kindText = s.string("kind") ?? ""
            let name = s.string("name") ?? ""
            let namespace = s.string("namespace") ?? ""
            _ = s.string("apiGroup")
            if name.isEmpty { d.error(s.at("name"), "missing field(s): \(s.at("name"))") }
            guard let kind = KyvernoSubject.Kind(rawValue: kindText) else {
                d.error(s.at("kind"), kindText.isEmpty ? "missing field(s): \(s.at("kind"))"
                        : "invalid value \"\(kindText)\": must be one of User, Group, ServiceAccount")
                s.finish()
                continue
            }
            if kind == .serviceAccount && namespace.isEmpty {
                d.error(s.at("namespace"), "a ServiceAccount subject needs its namespace")
            }
            s.finish()
            out.append(KyvernoSubject(kind: kind, name: name, namespace: namespace))
        }
        return out
    }

    /// `secrets` become registry credentials (pull Secrets in sealgate's namespace, like Kyverno reads them from its
    /// own); `providers` select cloud credential providers. `allowInsecureRegistry: true` has no per-rule equivalent: refused.
    static func parseRegistryCredentials(_ c: FieldReader) -> (secrets: [String], providers: [String]) {
        let d = c.diags
        if c.bool("allowInsecureRegistry") == true {
            d.error(c.at("allowInsecureRegistry"), "allowInsecureRegistry is not supported per rule: sealgate reaches a registry over plain HTTP only when serve/test/apply name it with --insecure-registry HOST:PORT")
        }
        let providers = parseCredentialProviders(c)
        let secrets = c.strings("secrets") ?? []
        for (i, s) in secrets.enumerated() where s.isEmpty {
            d.error(FieldPath.index(c.at("secrets"), i), "empty secret name")
        }
        c.finish()
        return (secrets, providers)
    }

    /// `providers`: `default` (Docker's config.json, which sealgate always uses) or a cloud's (`amazon`, `azure`, `google`,
    /// `github`), which enables that provider for the hosts of its registries. Returns the cloud ones.
    static func parseCredentialProviders(_ c: FieldReader) -> [String] {
        var out: [String] = []
        for (i, p) in (c.strings("providers") ?? []).enumerated() {
            switch p {
            case "default": continue
            case "amazon", "azure", "google", "github": out.append(p)
            default: c.diags.error(FieldPath.index(c.at("providers"), i), "invalid value \"\(p)\": must be one of default, amazon, azure, google, github")
            }
        }
        return out
    }
}

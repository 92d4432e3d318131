import Foundation
import ImageReference

/// Parses and validates a ClusterImagePolicy as strictly as policy-controller's admission
/// webhook (plus: unknown fields, unsupported policy languages and bad CUE are errors).
/// Messages follow knative's style: `expected exactly one, got both: a, b`.
enum ClusterImagePolicyParser {
    static let validModes: Set<String> = ["enforce", "warn"]
    static let validResources: Set<String> = ["replicasets", "deployments", "pods", "cronjobs", "jobs", "statefulsets", "daemonsets"]
    static let validHashAlgorithms: Set<String> = ["sha224", "sha256", "sha384", "sha512"]

    static func parse(_ root: FieldReader, apiVersion: String, name: String, source: DocumentSource) -> ClusterImagePolicy? {
        let d = root.diags
        guard let spec = root.documentSpec() else { return nil }

        var images: [ImageGlob] = []
        if let list = spec.objects("images"), !list.isEmpty {
            for img in list {
                let glob = img.string("glob") ?? ""
                if glob.isEmpty {
                    d.error(img.at("glob"), "missing field(s): \(img.at("glob"))")
                } else {
                    do { images.append(try ImageGlob(glob)) } catch { d.error(img.at("glob"), error.description) }
                }
                img.finish()
            }
        } else {
            d.error(spec.at("images"), "missing field(s): \(spec.at("images"))")
        }

        var authorities: [CIPAuthority] = []
        if let list = spec.objects("authorities"), !list.isEmpty {
            for (i, a) in list.enumerated() {
                if let auth = parseAuthority(a, index: i) { authorities.append(auth) }
            }
        } else {
            d.error(spec.at("authorities"), "missing field(s): \(spec.at("authorities"))")
        }

        var mode = ClusterImagePolicy.Mode.enforce
        if let m = spec.string("mode") {
            if let parsed = ClusterImagePolicy.Mode(rawValue: m) { mode = parsed } else {
                d.error(spec.at("mode"), "invalid value: \(m): \(spec.at("mode")): unsupported mode (want enforce or warn)")
            }
        }

        var match: [CIPMatchResource] = []
        for m in spec.objects("match") ?? [] {
            let resource = m.string("resource") ?? ""
            let group = m.string("group") ?? ""
            let version = m.string("version") ?? ""
            if !resource.isEmpty, !validResources.contains(resource) {
                d.error(m.at("resource"), "invalid value: \(resource): \(m.at("resource")): unsupported resource name (want one of \(validResources.sorted().joined(separator: ", ")))")
            }
            var selector: LabelSelector?
            if let s = m.object("selector") {
                selector = LabelSelector.parse(s, wildcardValues: false)
                if resource.isEmpty, group.isEmpty, version.isEmpty {
                    d.error(m.at("selector"), "invalid value: \(m.at("selector")): selector requires a resource type to match the labels")
                }
            }
            m.finish()
            match.append(CIPMatchResource(group: group, version: version, resource: resource, selector: selector))
        }

        var policy: CIPPolicy?
        if let p = spec.object("policy") { policy = parsePolicy(p, specLevel: true) }
        spec.finish()

        guard !d.hasErrors else { return nil }
        return ClusterImagePolicy(name: name, apiVersion: apiVersion, source: source, images: images,
                                  authorities: authorities, mode: mode, match: match, policy: policy)
    }

    static func parseAuthority(_ a: FieldReader, index: Int) -> CIPAuthority? {
        let d = a.diags
        let name = a.string("name").flatMap { $0.isEmpty ? nil : $0 } ?? "authority-\(index)"
        let present = ["key", "keyless", "static"].filter { a.has($0) }
        if present.isEmpty {
            d.error(a.path, "expected exactly one, got neither: \(["key", "keyless", "static"].map { a.at($0) }.joined(separator: ", "))")
        } else if present.count > 1 {
            d.error(a.path, "expected exactly one, got both: \(["key", "keyless", "static"].map { a.at($0) }.joined(separator: ", "))")
        }

        var sources: [(oci: String?, secrets: [String])] = []
        for s in a.objects("source") ?? [] {
            let oci = s.string("oci")
            if let oci, !oci.isEmpty, OCIRepository.problem(oci) != nil {
                d.error(s.at("oci"), "invalid value: \(oci): \(s.at("oci")): \(OCIRepository.problem(oci)!)")
            }
            var secrets: [String] = []
            for sec in s.objects("signaturePullSecrets") ?? [] {
                let n = sec.string("name") ?? ""
                if n.isEmpty { d.error(sec.at("name"), "missing field(s): \(sec.at("name"))") }
                secrets.append(n)
                sec.finish()
            }
            if s.has("tagPrefix") {
                d.error(s.at("tagPrefix"), "tagPrefix is not supported: sealgate finds signatures at cosign's sha256-<hex>.sig/.att tags (and OCI referrers); remove \(s.at("tagPrefix"))")
            }
            s.ignore("tagPrefix")
            s.finish()
            sources.append((oci, secrets))
        }
        if sources.count > 1 {
            d.error(a.at("source"), "sealgate supports a single signature source per authority, got \(sources.count)")
        }

        // policy-controller (validator.go): a Rekor entry is checked only when `ctlog` names a log (url or
        // trustRootRef); `rfc3161timestamp` replaces the log by the TSA. Keyless without `ctlog` keeps the
        // public Rekor requirement (stricter than upstream, which would then check the certificate at "now").
        var tlog = TransparencyLogSettings(ignore: a.has("key"))
        if let c = a.object("ctlog") {
            tlog.url = c.string("url")
            tlog.trustRootRef = c.string("trustRootRef").flatMap { $0.isEmpty ? nil : $0 }
            tlog.ignore = tlog.url == nil && tlog.trustRootRef == nil
            if let u = tlog.url, URLCheck.problem(u) != nil {
                d.error(c.at("url"), "invalid value: \(u): \(c.at("url")): \(URLCheck.problem(u)!)")
            }
            c.finish()
        }
        var tsaRef: String?
        if let t = a.object("rfc3161timestamp") {
            tsaRef = t.string("trustRootRef").flatMap { $0.isEmpty ? nil : $0 }
            if tsaRef == nil { d.error(t.at("trustRootRef"), "missing field(s): \(t.at("trustRootRef"))") }
            t.finish()
            tlog.ignore = true
        }
        var format = "legacy"
        if let f = a.string("signatureFormat"), !f.isEmpty {
            if f == "legacy" || f == "bundle" { format = f } else {
                d.error(a.at("signatureFormat"), "invalid value: \(f): \(a.at("signatureFormat")): unsupported signature format (want legacy or bundle)")
            }
        }

        var attestations: [CIPAttestation] = []
        for att in a.objects("attestations") ?? [] {
            let aname = att.string("name") ?? ""
            if aname.isEmpty { d.error(att.at("name"), "missing field(s): \(att.at("name"))") }
            let ptype = att.string("predicateType") ?? ""
            if ptype.isEmpty {
                d.error(att.at("predicateType"), "missing field(s): \(att.at("predicateType"))")
            } else if PredicateTypes.shortNames[ptype] == nil, URLCheck.problem(ptype) != nil {
                d.error(att.at("predicateType"), "invalid value: \(ptype): \(att.at("predicateType")): unsupported predicate type (want one of \(PredicateTypes.shortNames.keys.sorted().joined(separator: ", ")) or a URI)")
            }
            var policy: CIPPolicy?
            if let p = att.object("policy") { policy = parsePolicy(p, specLevel: false) }
            att.finish()
            attestations.append(CIPAttestation(name: aname, predicateType: ptype, predicateTypeURI: PredicateTypes.uri(for: ptype), policy: policy))
        }

        var kind: CIPAuthority.Kind?
        var hash = "sha256"
        var trust: TrustSource?
        if let k = a.object("key") {
            (trust, hash) = parseKeyRef(k, role: .signingKey)
        }
        var ignoreSCT = false
        if let k = a.object("keyless") {
            (trust, ignoreSCT) = parseKeyless(k)
        }
        if let s = a.object("static") {
            let action = s.string("action") ?? ""
            let message = s.string("message")
            if action.isEmpty {
                d.error(s.at("action"), "missing field(s): \(s.at("action"))")
            } else if action != "pass" && action != "fail" {
                d.error(s.at("action"), "invalid value: \(action): \(s.at("action")): unsupported action (want pass or fail)")
            }
            s.finish()
            for other in ["attestations", "source", "ctlog", "rfc3161timestamp", "signatureFormat"] where a.has(other) {
                d.error(a.path, "expected exactly one, got both: \(a.at("static")), \(a.at(other))")
            }
            kind = .staticAction(pass: action == "pass", message: message)
        }
        a.finish()
        if kind == nil, let trust {
            let label = "authorities[\(index)] (\(name))"
            kind = .signature(SignatureAuthority(
                label: label, trust: trust, hashAlgorithm: hash,
                signatureRepository: sources.first?.oci.flatMap { $0.isEmpty ? nil : $0 },
                pullSecrets: sources.first?.secrets ?? [], tlog: tlog, ignoreSCT: ignoreSCT,
                signatureFormat: format, timestampTrustRootRef: tsaRef))
        }
        guard let kind, present.count == 1 else { return nil }
        return CIPAuthority(name: name, index: index, kind: kind, attestations: attestations)
    }

    enum KeyRole { case signingKey, caCert }

    /// `key` (and `keyless.ca-cert`): exactly one of data / kms / secretRef.
    static func parseKeyRef(_ k: FieldReader, role: KeyRole) -> (TrustSource?, String) {
        let d = k.diags
        let data = k.string("data") ?? ""
        let kms = k.string("kms") ?? ""
        var secret: SecretReference?
        if let s = k.object("secretRef") {
            let n = s.string("name") ?? ""
            if n.isEmpty { d.error(s.at("name"), "missing field(s): \(s.at("name"))") }
            secret = SecretReference(namespace: s.string("namespace"), name: n)
            s.finish()
        }
        var hash = "sha256"
        if role == .caCert, k.raw("hashAlgorithm") != nil {
            d.error(k.at("hashAlgorithm"), "hashAlgorithm is not supported in ca-cert: it names the digest of signatures made with a key; a CA certificate verifies certificates")
        }
        if role == .signingKey, let h = k.string("hashAlgorithm"), !h.isEmpty {
            if validHashAlgorithms.contains(h) { hash = h } else {
                d.error(k.at("hashAlgorithm"), "validation failed: invalid value: \(h): \(k.at("hashAlgorithm")) (want one of \(validHashAlgorithms.sorted().joined(separator: ", ")))")
            }
        }
        k.finish()
        let options = ["data", "kms", "secretref"].map { k.at($0) }.joined(separator: ", ")
        let count = [!data.isEmpty, !kms.isEmpty, secret != nil].filter { $0 }.count
        if count == 0 {
            d.error(k.path, "expected exactly one, got neither: \(options)")
            return (nil, hash)
        }
        if count > 1 { d.error(k.path, "expected exactly one, got both: \(options)") }
        if !data.isEmpty {
            let problem = role == .signingKey ? PEM.publicKeyProblem(data) : PEM.certificatesProblem(data)
            if let problem {
                d.error(k.at("data"), "validation failed: invalid value: \(data.trimmingCharacters(in: .whitespacesAndNewlines)): \(k.at("data")): \(problem)")
            }
            return (role == .signingKey ? .publicKey(pem: data) : .keyless(KeylessTrust(rootsPEM: data)), hash)
        }
        if !kms.isEmpty {
            if kms.hasPrefix("awskms://"), let problem = AWSKMS.problem(kms) {
                d.error(k.at("kms"), "invalid value: \(kms): \(k.at("kms")): \(problem)")
            }
            d.warning(k.at("kms"), "KMS not supported: sealgate has no KMS client, so this authority can never verify (\(kms))")
            return (role == .signingKey ? .kms(uri: kms) : .keyless(KeylessTrust(rootsKMS: kms)), hash)
        }
        if let secret {
            return (role == .signingKey ? .secret(namespace: secret.namespace, name: secret.name) : .keyless(KeylessTrust(rootsSecret: secret)), hash)
        }
        return (nil, hash)
    }

    /// `keyless`; also returns `insecureIgnoreSCT`, which belongs to the authority's settings.
    static func parseKeyless(_ k: FieldReader) -> (TrustSource?, Bool) {
        let d = k.diags
        var trust = KeylessTrust()
        let url = k.string("url")
        if let url {
            if let p = URLCheck.problem(url) { d.error(k.at("url"), "invalid value: \(url): \(k.at("url")): \(p)") }
            trust.fulcioURL = url
        }
        let hasCA = k.has("ca-cert")
        if let ca = k.object("ca-cert") {
            let (t, _) = parseKeyRef(ca, role: .caCert)
            if case .keyless(let caTrust)? = t {
                trust.rootsPEM = caTrust.rootsPEM
                trust.rootsSecret = caTrust.rootsSecret
                trust.rootsKMS = caTrust.rootsKMS
            }
        }
        if url == nil && !hasCA {
            // policy-controller's defaulting: keyless without a CA means the public Fulcio.
            trust.fulcioURL = "https://fulcio.sigstore.dev"
        } else if url != nil && hasCA {
            d.error(k.path, "expected exactly one, got both: \(k.at("ca-cert")), \(k.at("url"))")
        }
        trust.trustRootRef = k.string("trustRootRef")
        let ignoreSCT = k.bool("insecureIgnoreSCT") ?? false
        let identities = k.objects("identities") ?? []
        if identities.isEmpty {
            d.error(k.at("identities"), "invalid value: \(k.at("identities")): at least one identity must be provided")
        }
        for id in identities {
            let issuer = id.string("issuer") ?? ""
            let issuerRE = id.string("issuerRegExp") ?? ""
            let subject = id.string("subject") ?? ""
            let subjectRE = id.string("subjectRegExp") ?? ""
            id.finish()
            if !issuer.isEmpty && !issuerRE.isEmpty {
                d.error(id.path, "expected exactly one, got both: \(id.at("issuer")), \(id.at("issuerRegExp"))")
            }
            if !subject.isEmpty && !subjectRE.isEmpty {
                d.error(id.path, "expected exactly one, got both: \(id.at("subject")), \(id.at("subjectRegExp"))")
            }
            if !issuerRE.isEmpty, let p = RegexCheck.problem(issuerRE) {
                d.error(id.at("issuerRegExp"), "invalid value: \(issuerRE): \(id.at("issuerRegExp")): regex is invalid: \(p)")
            }
            if !subjectRE.isEmpty, let p = RegexCheck.problem(subjectRE) {
                d.error(id.at("subjectRegExp"), "invalid value: \(subjectRE): \(id.at("subjectRegExp")): regex is invalid: \(p)")
            }
            if subject.isEmpty && subjectRE.isEmpty {
                d.error(id.path, "missing field(s): \(id.at("subject")), \(id.at("subjectRegExp"))")
            }
            if issuer.isEmpty && issuerRE.isEmpty {
                d.error(id.path, "missing field(s): \(id.at("issuer")), \(id.at("issuerRegExp"))")
            }
            trust.identities.append(KeylessIdentity(
                issuer: !issuerRE.isEmpty ? .regex(issuerRE) : (issuer.isEmpty ? nil : .exact(issuer)),
                subject: !subjectRE.isEmpty ? .regex(subjectRE) : (subject.isEmpty ? nil : .exact(subject))))
        }
        k.finish()
        return (.keyless(trust), ignoreSCT)
    }

    /// `policy` blocks: CUE only; rego and remote/configMap sources are rejected.
    static func parsePolicy(_ p: FieldReader, specLevel: Bool) -> CIPPolicy? {
        let d = p.diags
        let type = p.string("type") ?? ""
        let data = p.string("data") ?? ""
        let includeSpec = p.bool("includeSpec") ?? false
        let includeObjectMeta = p.bool("includeObjectMeta") ?? false
        let includeTypeMeta = p.bool("includeTypeMeta") ?? false
        let fetchConfigFile = p.bool("fetchConfigFile") ?? false
        for unsupported in ["configMapRef", "remote", "url"] where p.has(unsupported) {
            d.error(p.at(unsupported), "\(unsupported) policy sources are not supported; put the policy inline in \(p.at("data"))")
        }
        p.ignore("configMapRef", "remote", "url")
        if !specLevel, fetchConfigFile || includeSpec || includeObjectMeta || includeTypeMeta {
            for f in ["fetchConfigFile", "includeSpec", "includeObjectMeta", "includeTypeMeta"] where p.has(f) {
                d.error(p.at(f), "must not set fields: \(p.at(f)) (only allowed in spec.policy)")
            }
        }
        if specLevel && fetchConfigFile {
            d.error(p.at("fetchConfigFile"), "fetchConfigFile is not supported: sealgate does not fetch image config files")
        }
        p.finish()
        switch type {
        case "cue": break
        case "rego":
            d.error(p.at("type"), "rego policies are not supported")
            return nil
        case "":
            d.error(p.at("type"), "missing field(s): \(p.at("type"))")
            return nil
        default:
            d.error(p.at("type"), "invalid value: \(type): \(p.at("type")): only cue is supported")
            return nil
        }
        guard !data.isEmpty else {
            d.error(p.at("data"), "missing field(s): \(p.at("data"))")
            return nil
        }
        do {
            let program = try CUEProgram(compiling: data)
            return CIPPolicy(cue: program, includeSpec: includeSpec, includeObjectMeta: includeObjectMeta,
                             includeTypeMeta: includeTypeMeta, fetchConfigFile: fetchConfigFile)
        } catch {
            d.error(p.at("data"), "invalid CUE policy: \(error)")
            return nil
        }
    }
}

enum URLCheck {
    static func problem(_ s: String) -> String? {
        guard let u = URL(string: s), let scheme = u.scheme, !scheme.isEmpty, u.host != nil || scheme == "file" else {
            return "not an absolute URL"
        }
        return nil
    }
}

enum RegexCheck {
    static func problem(_ s: String) -> String? {
        do { _ = try Regex(s); return nil } catch { return "\(error)" }
    }
}

/// policy-controller accepts only `awskms://[host:port]/<key or alias ARN>`.
enum AWSKMS {
    static func problem(_ kms: String) -> String? {
        let parts = kms.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 4 else { return "malformed AWS KMS format, should be: 'awskms://$ENDPOINT/$KEYID'" }
        let endpoint = parts[2]
        if !endpoint.isEmpty {
            let hp = endpoint.split(separator: ":", omittingEmptySubsequences: false)
            guard hp.count == 2, !hp[1].isEmpty else { return "malformed endpoint: \(endpoint) (want host:port)" }
        }
        let arn = parts[3].split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard arn.count == 6, arn[0] == "arn" else {
            return "failed to parse either key or alias arn: \(parts[3]) is not an ARN"
        }
        guard arn[5] == "key" || arn[5] == "alias" else {
            return "ARN resource \(arn[5]) is neither key nor alias"
        }
        return nil
    }
}

enum OCIRepository {
    static func problem(_ s: String) -> String? {
        // A repository (no tag or digest) in reference grammar.
        if s.contains("@") { return "a signature repository must not have a digest" }
        if let last = s.split(separator: "/").last, last.contains(":") { return "a signature repository must not have a tag" }
        do { _ = try ImageRef(parsing: s); return nil } catch { return "\(error)" }
    }
}

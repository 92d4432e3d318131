import Foundation

/// Validates a TrustRoot like policy-controller's `TrustRootSpec.Validate`: exactly one of `sigstoreKeys`,
/// `remote`, `repository`; `sigstoreKeys` needs a certificate or timestamp authority, each authority a
/// subject (organization, commonName), `uri` and `certChain`, each log a `baseURL`, `hashAlgorithm` and
/// `publicKey`; PEM values must be base64 (Go `[]byte`); `remote` needs `mirror` and `root`, `repository` `mirrorFS`
/// and `root`.
enum TrustRootParser {
    static let kinds = ["sigstoreKeys", "remote", "repository"]

    static func parse(_ root: FieldReader, name: String, source: DocumentSource) -> TrustRoot? {
        let d = root.diags
        guard let spec = root.documentSpec() else { return nil }
        let present = kinds.filter { spec.has($0) }
        let options = kinds.map { spec.at($0) }.joined(separator: ", ")
        guard present.count == 1, let kind = present.first else {
            d.error(spec.path, "expected exactly one, got \(present.isEmpty ? "neither" : "both"): \(options)")
            spec.ignore(kinds[0], kinds[1], kinds[2])
            spec.finish()
            return nil
        }
        let material: TrustRoot.Material
        if kind == "sigstoreKeys", let keys = spec.object(kind) {
            parseSigstoreKeys(keys)
            material = .sigstoreKeys(.object(keys.object))
        } else if let tuf = spec.object(kind), let repository = parseTUF(tuf, remote: kind == "remote") {
            material = .tuf(repository)
        } else {
            return nil
        }
        spec.finish()
        guard !d.hasErrors else { return nil }
        return TrustRoot(name: name, source: source, material: material)
    }

    static func parseSigstoreKeys(_ keys: FieldReader) {
        let d = keys.diags
        let cas = keys.objects("certificateAuthorities") ?? []
        let tsas = keys.objects("timestampAuthorities") ?? []
        if cas.isEmpty && tsas.isEmpty {
            d.error(keys.path, "expected exactly one, got neither: \(keys.at("certificateAuthorities")), \(keys.at("timestampAuthorities"))")
        }
        for ca in cas + tsas { parseAuthority(ca) }
        for log in (keys.objects("tLogs") ?? []) + (keys.objects("ctLogs") ?? []) {
            for field in ["baseURL", "hashAlgorithm"] where (log.string(field) ?? "").isEmpty {
                d.error(log.at(field), "missing field(s): \(log.at(field))")
            }
            requirePEM(log, "publicKey")
            log.finish()
        }
        keys.finish()
    }

    static func parseAuthority(_ ca: FieldReader) {
        let d = ca.diags
        if let subject = ca.object("subject") {
            for field in ["organization", "commonName"] where (subject.string(field) ?? "").isEmpty {
                d.error(subject.at(field), "missing field(s): \(subject.at(field))")
            }
            subject.finish()
        } else {
            d.error(ca.at("subject"), "missing field(s): \(ca.at("subject")).organization, \(ca.at("subject")).commonName")
        }
        if (ca.string("uri") ?? "").isEmpty { d.error(ca.at("uri"), "missing field(s): \(ca.at("uri"))") }
        requirePEM(ca, "certChain")
        ca.finish()
    }

    /// A PEM value stored base64-encoded (Go `[]byte` in JSON).
    static func requirePEM(_ r: FieldReader, _ field: String) {
        guard let text = r.string(field), !text.isEmpty else {
            r.diags.error(r.at(field), "missing field(s): \(r.at(field))")
            return
        }
        guard let data = Data(base64Encoded: text), let pem = String(data: data, encoding: .utf8), pem.contains("-----BEGIN ") else {
            r.diags.error(r.at(field), "invalid value: \(r.at(field)): not base64-encoded PEM")
            return
        }
    }

    /// `remote` (mirror, root, targets, trustedRootTarget) / `repository` (mirrorFS, root, targets, trustedRootTarget).
    /// The root must be base64 JSON; a mirror an http(s) URL; mirrorFS is decoded when first used (it may be large).
    static func parseTUF(_ t: FieldReader, remote: Bool) -> TrustRoot.TUFRepository? {
        let d = t.diags
        let location = remote ? "mirror" : "mirrorFS"
        let place = t.string(location) ?? ""
        if place.isEmpty { d.error(t.at(location), "missing field(s): \(t.at(location))") }
        if remote, !place.isEmpty, !(place.hasPrefix("https://") || place.hasPrefix("http://")) {
            d.error(t.at(location), "invalid value: \(place): \(t.at(location)) must be an http or https URL")
        }
        let root = t.string("root") ?? ""
        let rootJSON = Data(base64Encoded: root.filter { !$0.isWhitespace }).flatMap { try? JSONSerialization.jsonObject(with: $0) }
        if root.isEmpty {
            d.error(t.at("root"), "missing field(s): \(t.at("root")) (the initial TUF root.json, base64)")
        } else if !(rootJSON is [String: Any]) {
            d.error(t.at("root"), "invalid value: \(t.at("root")): not base64-encoded JSON")
        }
        let targets = t.string("targets")
        let trustedRootTarget = t.string("trustedRootTarget")
        t.finish()
        guard !place.isEmpty, !root.isEmpty else { return nil }
        return TrustRoot.TUFRepository(location: remote ? .mirror(place) : .serialized(place), root: root, targets: targets,
                                       trustedRootTarget: trustedRootTarget)
    }
}

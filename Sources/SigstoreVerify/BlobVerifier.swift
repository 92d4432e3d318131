import Foundation

/// Building `SigstoreBundle`s from the other inputs `cosign verify-blob` accepts, so every path goes through
/// `BundleVerifier`: cosign's legacy `--bundle` JSON, and detached `--signature` + `--certificate`.
public enum BlobSignature {
    /// True if `data` is a Sigstore bundle (has a `mediaType`) rather than cosign's legacy bundle.
    public static func isSigstoreBundle(_ data: Data) -> Bool {
        guard let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return o["mediaType"] != nil
    }

    /// cosign's legacy bundle: `{"base64Signature", "cert" (base64 PEM, may be empty), "rekorBundle": {SET, Payload}}`.
    /// `certificate` (from `--certificate`) is used when the bundle carries none.
    public static func legacyBundle(json data: Data, certificate: FulcioCertificate? = nil) throws -> SigstoreBundle {
        guard let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SigstoreError.malformedBundle("not a JSON object")
        }
        guard let sig64 = o["base64Signature"] as? String, let sig = Encoding.base64(sig64), !sig.isEmpty else {
            throw SigstoreError.malformedBundle("cosign bundle has no base64Signature")
        }
        var cert = certificate
        if let c = o["cert"] as? String, !c.isEmpty {
            let fromBundle = try Self.certificate(Data(c.utf8))
            if let given = certificate, given.der != fromBundle.der {
                throw SigstoreError.policyMismatch("--certificate differs from the certificate in the bundle")
            }
            cert = fromBundle
        }
        var entries: [TransparencyLogEntry] = []
        if let rb = o["rekorBundle"], !(rb is NSNull) {
            guard JSONSerialization.isValidJSONObject(rb), let raw = try? JSONSerialization.data(withJSONObject: rb) else {
                throw SigstoreError.malformedBundle("rekorBundle is not an object")
            }
            entries = [try TransparencyLogEntry(cosignBundleJSON: raw)]
        }
        return detached(signature: sig, certificate: cert, tlogEntries: entries)
    }

    /// A message-signature bundle from detached pieces (`--signature`, `--certificate`, `--key`).
    public static func detached(signature: Data, certificate: FulcioCertificate?, tlogEntries: [TransparencyLogEntry] = [],
                                rfc3161Timestamps: [Data] = []) -> SigstoreBundle {
        SigstoreBundle(mediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1", version: .v0_1,
                       signer: certificate.map { .certificate($0) } ?? .publicKey(hint: ""),
                       tlogEntries: tlogEntries, rfc3161Timestamps: rfc3161Timestamps,
                       content: .messageSignature(digest: nil, signature: signature))
    }

    /// cosign `--signature` file: base64 text (cosign's output), else the raw signature bytes.
    public static func signature(_ data: Data) -> Data {
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if !text.isEmpty, let d = Encoding.base64(text) { return d }
        return data
    }

    /// A certificate as PEM, base64 of PEM (cosign bundles), or DER.
    public static func certificate(_ data: Data) throws -> FulcioCertificate {
        var text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if !text.contains("-----BEGIN"), let decoded = Encoding.base64(text) {
            if let t = String(data: decoded, encoding: .utf8), t.contains("-----BEGIN") { text = t } else { return try FulcioCertificate(der: decoded) }
        }
        if let block = Encoding.pemBlocks(text, label: "CERTIFICATE").first { return try FulcioCertificate(der: block.der) }
        if text.contains("-----BEGIN") { throw SigstoreError.malformedCertificate("no PEM CERTIFICATE block") }
        return try FulcioCertificate(der: data)
    }

    /// `--rfc3161-timestamp` file: cosign's `{"SignedRFC3161Timestamp": base64}` or raw DER.
    public static func rfc3161Timestamp(_ data: Data) throws -> Data {
        if let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            guard let b = o["SignedRFC3161Timestamp"] as? String, let der = Encoding.base64(b) else {
                throw SigstoreError.malformedTimestamp("expected {\"SignedRFC3161Timestamp\": base64}")
            }
            return der
        }
        return data
    }
}

/// cosign's `--certificate-github-workflow-*` flags: exact matches on Fulcio's GitHub extensions (OIDs .2 to .6).
public struct GitHubWorkflowMatchers: Sendable, Hashable {
    public var trigger: String?
    public var sha: String?
    public var name: String?
    public var repository: String?
    public var ref: String?
    public init(trigger: String? = nil, sha: String? = nil, name: String? = nil, repository: String? = nil, ref: String? = nil) {
        self.trigger = trigger; self.sha = sha; self.name = name; self.repository = repository; self.ref = ref
    }

    public var isEmpty: Bool { [trigger, sha, name, repository, ref].allSatisfy { $0 == nil } }

    /// Throws naming the flag, the expected and the found value.
    public func check(_ cert: FulcioCertificate) throws {
        let e = cert.extensions
        let rows: [(String, String?, String?)] = [
            ("certificate-github-workflow-trigger", trigger, e.githubWorkflowTrigger),
            ("certificate-github-workflow-sha", sha, e.githubWorkflowSHA),
            ("certificate-github-workflow-name", name, e.githubWorkflowName),
            ("certificate-github-workflow-repository", repository, e.githubWorkflowRepository),
            ("certificate-github-workflow-ref", ref, e.githubWorkflowRef),
        ]
        for (flag, want, found) in rows {
            guard let want else { continue }
            guard found == want else {
                throw SigstoreError.policyMismatch("--\(flag): expected '\(want)', found '\(found ?? "(extension absent)")'")
            }
        }
    }
}

/// Provenance files slsa-verifier reads: a Sigstore bundle, a DSSE envelope, or `.intoto.jsonl` (one per line).
public enum ProvenanceFile {
    public enum Item: Sendable {
        case bundle(SigstoreBundle)
        /// A bare DSSE envelope: signature only, no certificate or log entry.
        case envelope(DSSEEnvelope)
    }

    public static func parse(_ data: Data) throws -> [Item] {
        // One JSON document (possibly pretty-printed), else JSON Lines.
        if (try? JSONSerialization.jsonObject(with: data)) != nil { return [try item(data)] }
        var items: [Item] = []
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) {
            items.append(try item(Data(line)))
        }
        guard !items.isEmpty else { throw SigstoreError.malformedBundle("provenance file is empty") }
        return items
    }

    static func item(_ data: Data) throws -> Item {
        guard let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SigstoreError.malformedBundle("provenance is not JSON (expected a Sigstore bundle, DSSE envelope or .intoto.jsonl)")
        }
        if o["mediaType"] != nil { return .bundle(try SigstoreBundle(json: data)) }
        if o["payloadType"] != nil { return .envelope(try DSSEEnvelope(object: o)) }
        throw SigstoreError.malformedBundle("JSON is neither a Sigstore bundle nor a DSSE envelope")
    }
}

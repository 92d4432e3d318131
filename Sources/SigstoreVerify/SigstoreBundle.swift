import Foundation

/// A Sigstore bundle (v0.1, v0.2, v0.3): verification material plus a message signature or DSSE envelope.
public struct SigstoreBundle: Sendable {
    public enum Version: String, Sendable { case v0_1 = "0.1", v0_2 = "0.2", v0_3 = "0.3" }

    public enum Signer: Sendable {
        /// Leaf certificate (v0.3 `certificate`, or first of a v0.1/0.2 chain).
        case certificate(FulcioCertificate)
        /// A key known out of band; `hint` is informational only.
        case publicKey(hint: String)
    }

    public enum Content: Sendable {
        case messageSignature(digest: (HashAlgorithm, Data)?, signature: Data)
        case dsse(DSSEEnvelope)

        /// The bytes RFC 3161 timestamps and log entries commit to.
        public var signature: Data {
            switch self {
            case .messageSignature(_, let s): return s
            case .dsse(let e): return e.signatures.first?.sig ?? Data()
            }
        }
    }

    public var mediaType: String
    public var version: Version
    public var signer: Signer
    public var tlogEntries: [TransparencyLogEntry]
    /// DER RFC 3161 responses/tokens from `timestampVerificationData.rfc3161Timestamps`.
    public var rfc3161Timestamps: [Data]
    public var content: Content
    /// What the RFC 3161 timestamps are over: the signature, except for cosign attestations (the envelope).
    public var timestampedSignature: Data { timestampedData ?? content.signature }
    public var timestampedData: Data?

    public init(mediaType: String, version: Version, signer: Signer, tlogEntries: [TransparencyLogEntry],
                rfc3161Timestamps: [Data], content: Content) {
        self.mediaType = mediaType; self.version = version; self.signer = signer
        self.tlogEntries = tlogEntries; self.rfc3161Timestamps = rfc3161Timestamps; self.content = content
    }

    static func version(of mediaType: String) -> Version? {
        switch mediaType {
        case "application/vnd.dev.sigstore.bundle+json;version=0.1": .v0_1
        case "application/vnd.dev.sigstore.bundle+json;version=0.2": .v0_2
        case "application/vnd.dev.sigstore.bundle+json;version=0.3", "application/vnd.dev.sigstore.bundle.v0.3+json": .v0_3
        default: nil
        }
    }

    public init(json data: Data) throws {
        guard let obj = try? JSONSerialization.jsonObject(with: data), let o = obj as? [String: Any] else {
            throw SigstoreError.malformedBundle("not a JSON object")
        }
        let mt = o["mediaType"] as? String ?? ""
        guard let v = Self.version(of: mt) else { throw SigstoreError.unsupportedBundleVersion(mt) }
        guard let vm = o["verificationMaterial"] as? [String: Any] else {
            throw SigstoreError.malformedBundle("missing verificationMaterial")
        }

        let signer: Signer
        if let c = vm["certificate"] as? [String: Any] {
            guard v == .v0_3 else { throw SigstoreError.malformedBundle("single certificate requires bundle v0.3") }
            guard let der = (c["rawBytes"] as? String).flatMap(Encoding.base64), !der.isEmpty else {
                throw SigstoreError.malformedBundle("certificate has no rawBytes")
            }
            signer = .certificate(try FulcioCertificate(der: der))
        } else if let chain = vm["x509CertificateChain"] as? [String: Any] {
            let certs = chain["certificates"] as? [[String: Any]] ?? []
            guard !certs.isEmpty else { throw SigstoreError.malformedBundle("empty certificate chain") }
            let ders = try certs.map { c -> Data in
                guard let d = (c["rawBytes"] as? String).flatMap(Encoding.base64), !d.isEmpty else {
                    throw SigstoreError.malformedBundle("chain certificate has no rawBytes")
                }
                return d
            }
            // Only the leaf is used (as sigstore-go): trust comes from the trusted root alone, so intermediates or a
            // root shipped in the bundle (npm provenance before 2024, sigstore-js 1.x) neither help nor hurt.
            signer = .certificate(try FulcioCertificate(der: ders[0]))
        } else if let pk = vm["publicKey"] as? [String: Any] {
            signer = .publicKey(hint: pk["hint"] as? String ?? "")
        } else {
            throw SigstoreError.malformedBundle("verificationMaterial has no certificate or public key")
        }

        let entries = try (vm["tlogEntries"] as? [[String: Any]] ?? []).map(TransparencyLogEntry.init(object:))
        if v != .v0_1 {
            // From v0.2 on every entry must carry an inclusion proof.
            guard entries.allSatisfy({ $0.inclusionProof != nil }) else {
                throw SigstoreError.malformedBundle("bundle \(v.rawValue) tlog entry lacks an inclusion proof")
            }
        } else {
            guard entries.allSatisfy({ $0.signedEntryTimestamp != nil }) else {
                throw SigstoreError.malformedBundle("bundle 0.1 tlog entry lacks an inclusion promise")
            }
        }

        var stamps: [Data] = []
        if let tvd = vm["timestampVerificationData"] as? [String: Any] {
            for t in tvd["rfc3161Timestamps"] as? [[String: Any]] ?? [] {
                guard let d = (t["signedTimestamp"] as? String).flatMap(Encoding.base64), !d.isEmpty else {
                    throw SigstoreError.malformedBundle("invalid rfc3161 timestamp encoding")
                }
                stamps.append(d)
            }
        }

        let content: Content
        if let ms = o["messageSignature"] as? [String: Any] {
            guard let sig = (ms["signature"] as? String).flatMap(Encoding.base64), !sig.isEmpty else {
                throw SigstoreError.malformedBundle("messageSignature has no signature")
            }
            var digest: (HashAlgorithm, Data)?
            if let md = ms["messageDigest"] as? [String: Any] {
                guard let alg = (md["algorithm"] as? String).flatMap(HashAlgorithm.init(name:)),
                      let d = (md["digest"] as? String).flatMap(Encoding.base64), d.count == alg.byteCount else {
                    throw SigstoreError.malformedBundle("invalid messageDigest")
                }
                digest = (alg, d)
            }
            content = .messageSignature(digest: digest, signature: sig)
        } else if let env = o["dsseEnvelope"] as? [String: Any] {
            let e = try DSSEEnvelope(object: env)
            guard e.signatures.count == 1 else { throw SigstoreError.malformedEnvelope("exactly one signature expected, got \(e.signatures.count)") }
            content = .dsse(e)
        } else {
            throw SigstoreError.malformedBundle("bundle has neither messageSignature nor dsseEnvelope")
        }
        self.init(mediaType: mt, version: v, signer: signer, tlogEntries: entries, rfc3161Timestamps: stamps, content: content)
    }
}

import Crypto
import Foundation
import ImagePolicy
import SigstoreVerify

/// A failed cosign pre-check (payload, annotations, layer format); SigstoreVerify's checks throw `SigstoreError`.
public struct ImageCheckFailure: Error, CustomStringConvertible, Sendable {
    public let description: String
    public let step: VerificationStep
    public init(_ description: String, step: VerificationStep = .payload) { self.description = description; self.step = step }
}

/// One cosign tag-scheme signature or attestation layer, checked offline (no registry I/O): cosign's own
/// pre-checks on the payload and annotations, then the layer is adapted into a Sigstore bundle and verified
/// by `BundleVerifier`, the one implementation of the Sigstore check sequence.
public enum CosignLayerVerifier {
    /// What a verified layer yields.
    public struct Verified: Sendable {
        public var certificate: FulcioCertificate?
        public var times: [Date]
        public var logIndex: Int64?
        public var simpleSigning: CosignSimpleSigningPayload?
        public var envelope: DSSEEnvelope?
        public var statement: InTotoStatement?
    }

    /// A simple-signing signature layer: `payload` is the layer blob, `annotations` the layer's.
    public static func verifySignature(payload: Data, annotations: [String: String], digest: String,
                                       options: CosignCheckOptions) throws -> Verified {
        guard let sig64 = annotations[CosignAnnotation.signature], !sig64.isEmpty else {
            throw ImageCheckFailure("layer has no \(CosignAnnotation.signature) annotation", step: .format)
        }
        guard let signature = Encoding.decodeBase64(sig64) else {
            throw ImageCheckFailure("signature annotation is not base64", step: .format)
        }
        let ss = try CosignSimpleSigningPayload(json: payload)
        guard ss.manifestDigest == digest else {
            throw ImageCheckFailure("signed payload is for digest \(ss.manifestDigest), not the image digest \(digest)")
        }
        guard ss.type.lowercased() == CosignSimpleSigningPayload.signatureType else {
            throw ImageCheckFailure("signed payload type '\(ss.type)' is not '\(CosignSimpleSigningPayload.signatureType)'")
        }
        for (k, v) in options.requiredAnnotations.sorted(by: { $0.key < $1.key }) {
            guard let actual = ss.optional[k] else { throw ImageCheckFailure("annotation \(k)=\(v) required but the signed payload has no \(k)") }
            guard actual == v else { throw ImageCheckFailure("annotation \(k) is '\(actual)', required '\(v)'") }
        }
        let bundle = try layerBundle(annotations, content: .messageSignature(digest: nil, signature: signature), options: options)
        var verified = try verify(bundle, artifact: .bytes(payload), options: options, what: "signature over the simple-signing payload")
        verified.simpleSigning = ss
        return verified
    }

    /// An attestation layer (`application/vnd.dsse.envelope.v1+json`): an in-toto statement whose subject
    /// includes `digest`. The predicate type is returned, not checked.
    public static func verifyAttestation(envelopeJSON: Data, annotations: [String: String], digest: String,
                                         options: CosignCheckOptions) throws -> Verified {
        let env = try DSSEEnvelope(json: envelopeJSON)
        guard env.payloadType == InTotoStatement.payloadType else {
            throw ImageCheckFailure("DSSE payload type '\(env.payloadType)' is not an in-toto statement")
        }
        try checkSubject(try InTotoStatement(json: env.payload), digest: digest)
        if !options.requiredAnnotations.isEmpty {
            // Attestations carry no simple-signing annotations; fail closed rather than ignore a policy constraint.
            throw ImageCheckFailure("required annotations cannot be checked on an attestation (no simple-signing payload)")
        }
        var bundle = try layerBundle(annotations, content: .dsse(env), options: options)
        // cosign timestamps attestations over the layer payload (the envelope) unless a signature annotation is given.
        let sig64 = annotations[CosignAnnotation.signature] ?? ""
        bundle.timestampedData = sig64.isEmpty ? envelopeJSON : (Encoding.decodeBase64(sig64) ?? envelopeJSON)
        return try verify(bundle, artifact: nil, options: options, what: "DSSE envelope signature")
    }

    static func checkSubject(_ statement: InTotoStatement, digest: String) throws {
        guard digest.hasPrefix("sha256:"), let raw = Encoding.hexDigest(String(digest.dropFirst(7))) else {
            throw ImageCheckFailure("unsupported image digest \(digest)", step: .subject)
        }
        guard statement.hasSubject(digest: raw, algorithm: .sha256) else {
            let subjects = statement.subjects.compactMap { $0.digest["sha256"].map { "sha256:\($0)" } }
            throw ImageCheckFailure("attestation subject \(subjects.isEmpty ? "(none)" : subjects.joined(separator: ", ")) does not match the image digest \(digest)", step: .subject)
        }
    }

    /// The layer as a Sigstore bundle: signer from the certificate annotation, the Rekor entry from the bundle
    /// annotation, the RFC 3161 timestamp from its annotation.
    static func layerBundle(_ annotations: [String: String], content: SigstoreBundle.Content, options: CosignCheckOptions) throws -> SigstoreBundle {
        let certificate = try annotations[CosignAnnotation.certificate].flatMap { pem -> FulcioCertificate? in
            guard !pem.isEmpty else { return nil }
            guard let der = Encoding.pem(pem, label: "CERTIFICATE").first?.der else {
                throw SigstoreError.malformedCertificate("certificate annotation has no PEM CERTIFICATE")
            }
            return try FulcioCertificate(der: der)
        }
        let signer: SigstoreBundle.Signer
        switch options.signer {
        case .keyless:
            guard let certificate else {
                throw ImageCheckFailure("keyless verification needs a certificate but the layer has no \(CosignAnnotation.certificate) annotation", step: .certificate)
            }
            signer = .certificate(certificate)
        case .publicKey(let key):
            // A certificate holding exactly this key (Kyverno `certificates`) is what its Rekor entry records.
            let same = certificate.flatMap { try? PublicKey(certificate: $0.certificate) }?.sameKey(as: key) == true
            signer = same ? .certificate(certificate!) : .publicKey(hint: "")
        }
        var entries: [TransparencyLogEntry] = []
        if let text = annotations[CosignAnnotation.bundle], !text.isEmpty {
            entries.append(try TransparencyLogEntry(cosignBundleJSON: Data(text.utf8)))
        } else if !options.ignoreTlog {
            throw ImageCheckFailure("no Rekor bundle annotation (\(CosignAnnotation.bundle)) on the signature; transparency log verification required", step: .transparencyLog)
        }
        var stamps: [Data] = []
        if let text = annotations[CosignAnnotation.rfc3161Timestamp], !text.isEmpty {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                  let b64 = obj["SignedRFC3161Timestamp"] as? String, let der = Encoding.decodeBase64(b64) else {
                throw SigstoreError.malformedTimestamp("rfc3161timestamp annotation is not {\"SignedRFC3161Timestamp\": base64}")
            }
            stamps.append(der)
        }
        return SigstoreBundle(mediaType: "cosign tag-scheme layer", version: .v0_1, signer: signer, tlogEntries: entries,
                              rfc3161Timestamps: stamps, content: content)
    }

    /// Verifies through the bundle front door, then puts cosign's wording on the failures its users know.
    static func verify(_ bundle: SigstoreBundle, artifact: Artifact?, options: CosignCheckOptions, what: String) throws -> Verified {
        let keyBased: Bool = { if case .publicKey = options.signer { true } else { false } }()
        let r: VerificationResult
        do {
            r = try BundleVerifier(trustedRoot: options.trustedRoot).verify(bundle: bundle, artifact: artifact, policy: options.verificationPolicy, at: options.now)
        } catch SigstoreError.signatureInvalid {
            throw SigstoreError.signatureInvalid("\(what) does not verify with \(keyBased ? "the given public key" : "the certificate's key")")
        } catch SigstoreError.certificateExpired(let at, let nb, let na) where at == options.now {
            let f = ISO8601DateFormatter()
            throw ImageCheckFailure("certificate is not valid now (valid \(f.string(from: nb)) to \(f.string(from: na))) "
                + "and there is no verified signing time (Rekor SET or RFC 3161 timestamp)", step: .certificate)
        }
        return Verified(certificate: r.certificate, times: r.timestamps.map(\.time), logIndex: r.tlogEntries.first?.logIndex,
                        envelope: r.envelope, statement: r.statement)
    }
}

extension CosignCheckOptions {
    /// The bundle policy these cosign options mean: one log entry and one verified time unless the tlog is
    /// ignored (then the certificate must be valid now), an SCT unless ignored, cosign's signature hashes, and a
    /// verified RFC 3161 timestamp when the authority names timestamp authorities.
    public var verificationPolicy: VerificationPolicy {
        let policySigner: VerificationPolicy.Signer
        var hashes: [HashAlgorithm] = []
        switch signer {
        case .publicKey(let k):
            policySigner = .publicKey(k)
            // cosign hashes with SHA-256 for every key type unless told otherwise; without an explicit
            // choice the key's own default (e.g. SHA-384 for P-384) is accepted too.
            hashes = hashAlgorithm.map { [$0] } ?? (k.hash == .sha256 ? [.sha256] : [.sha256, k.hash])
        case .keyless(let ids): policySigner = .certificateIdentities(ids)
        }
        var policy = VerificationPolicy(signer: policySigner, tlogThreshold: ignoreTlog ? 0 : 1,
                                        timestampThreshold: ignoreTlog ? 0 : nil, sctThreshold: ignoreSCT ? 0 : 1)
        policy.signatureHashes = hashes
        policy.signedTimestampThreshold = requireSignedTimestamp ? 1 : 0
        return policy
    }
}

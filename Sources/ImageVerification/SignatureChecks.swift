import Crypto
import Foundation
import SigstoreVerify

/// A failed image-level check (the SigstoreVerify checks throw `SigstoreError`).
public struct ImageCheckFailure: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Pure, offline checks of one cosign signature or attestation layer (no registry I/O).
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

    /// Verifies a cosign simple-signing signature layer: `payload` is the layer blob, `annotations` the layer's.
    /// Checks, in order: signature annotation, signer (key, or certificate annotation), the signature over the
    /// payload bytes, the payload's digest and type, required annotations, the Rekor bundle (SET + body matches
    /// this signature, signer and payload), RFC 3161 timestamp, then for keyless the certificate chain/SCT at
    /// every verified time (or now) and the identity.
    public static func verifySignature(payload: Data, annotations: [String: String], digest: String,
                                       options: CosignCheckOptions) throws -> Verified {
        guard let sig64 = annotations[CosignAnnotation.signature], !sig64.isEmpty else {
            throw ImageCheckFailure("layer has no \(CosignAnnotation.signature) annotation")
        }
        guard let signature = Encoding.decodeBase64(sig64) else {
            throw ImageCheckFailure("signature annotation is not base64")
        }
        let (key, bodySigner, leaf) = try signer(annotations: annotations, options: options)
        guard verify(key, signature, payload, options) else {
            throw SigstoreError.signatureInvalid(leaf == nil
                ? "signature over the simple-signing payload does not verify with the given public key"
                : "signature over the simple-signing payload does not verify with the certificate's key")
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
        let content = SigstoreBundle.Content.messageSignature(digest: (.sha256, HashAlgorithm.sha256.hash(payload)), signature: signature)
        var result = Verified(certificate: leaf, times: [], simpleSigning: ss)
        try checkTlog(annotations: annotations, content: content, signer: bodySigner, artifact: .bytes(payload), options: options, into: &result)
        try checkTimestampsAndCertificate(annotations: annotations, timestamped: signature, leaf: leaf, options: options, into: &result)
        return result
    }

    /// Verifies a cosign attestation layer (`application/vnd.dsse.envelope.v1+json`): DSSE signature by the
    /// signer, in-toto statement whose subject includes `digest`, Rekor bundle (intoto/dsse entry matching the
    /// envelope), RFC 3161 timestamp over the envelope, and the keyless certificate checks. The predicate type
    /// is returned, not checked.
    public static func verifyAttestation(envelopeJSON: Data, annotations: [String: String], digest: String,
                                         options: CosignCheckOptions) throws -> Verified {
        var env = try DSSEEnvelope(json: envelopeJSON)
        let (key, bodySigner, leaf) = try signer(annotations: annotations, options: options)
        guard let good = env.signatures.first(where: { verify(key, $0.sig, env.pae, options) }) else {
            throw SigstoreError.signatureInvalid(leaf == nil
                ? "DSSE envelope signature does not verify with the given public key"
                : "DSSE envelope signature does not verify with the certificate's key")
        }
        env.signatures = [good] + env.signatures.filter { $0 != good }
        guard env.payloadType == InTotoStatement.payloadType else {
            throw ImageCheckFailure("DSSE payload type '\(env.payloadType)' is not an in-toto statement")
        }
        let statement = try InTotoStatement(json: env.payload)
        try checkSubject(statement, digest: digest)
        if !options.requiredAnnotations.isEmpty {
            // Attestations carry no simple-signing annotations; fail closed rather than ignore a policy constraint.
            throw ImageCheckFailure("required annotations cannot be checked on an attestation (no simple-signing payload)")
        }
        var result = Verified(certificate: leaf, times: [], envelope: env, statement: statement)
        try checkTlog(annotations: annotations, content: .dsse(env), signer: bodySigner, artifact: nil, options: options, into: &result)
        // cosign timestamps attestations over the layer payload (the envelope), as they carry no signature annotation.
        let sig64 = annotations[CosignAnnotation.signature] ?? ""
        let stamped = sig64.isEmpty ? envelopeJSON : (Encoding.decodeBase64(sig64) ?? envelopeJSON)
        try checkTimestampsAndCertificate(annotations: annotations, timestamped: stamped, leaf: leaf, options: options, into: &result)
        return result
    }

    static func verify(_ key: PublicKey, _ signature: Data, _ data: Data, _ options: CosignCheckOptions) -> Bool {
        guard case .publicKey = options.signer else { return key.verify(signature: signature, data: data) }
        // cosign hashes with SHA-256 for every key type unless told otherwise (--signature-digest-algorithm);
        // without an explicit choice the key's own default (e.g. SHA-384 for P-384) is accepted too.
        if key.verify(signature: signature, data: data, hash: options.hashAlgorithm ?? .sha256) { return true }
        return options.hashAlgorithm == nil && key.hash != .sha256 && key.verify(signature: signature, data: data)
    }

    static func checkSubject(_ statement: InTotoStatement, digest: String) throws {
        guard digest.hasPrefix("sha256:"), let raw = Encoding.hexDigest(String(digest.dropFirst(7))) else {
            throw ImageCheckFailure("unsupported image digest \(digest)")
        }
        guard statement.hasSubject(digest: raw, algorithm: .sha256) else {
            let subjects = statement.subjects.compactMap { $0.digest["sha256"].map { "sha256:\($0)" } }
            throw ImageCheckFailure("attestation subject \(subjects.isEmpty ? "(none)" : subjects.joined(separator: ", ")) does not match the image digest \(digest)")
        }
    }

    /// The verification key, what the Rekor body must name, and the leaf certificate (keyless).
    static func signer(annotations: [String: String], options: CosignCheckOptions) throws
        -> (PublicKey, RekorBodyMatcher.Signer, FulcioCertificate?) {
        switch options.signer {
        case .publicKey(let key):
            // A certificate-carrying signature checked against a known key (e.g. Kyverno `certificates`): its
            // Rekor entry records the certificate, which is acceptable when it holds exactly this key.
            if let pem = annotations[CosignAnnotation.certificate], let der = Encoding.pem(pem, label: "CERTIFICATE").first?.der,
               let cert = try? FulcioCertificate(der: der), let certKey = try? PublicKey(certificate: cert.certificate), certKey.sameKey(as: key) {
                return (key, .certificate(der: cert.der), nil)
            }
            return (key, .publicKey(key), nil)
        case .keyless:
            guard let pem = annotations[CosignAnnotation.certificate], !pem.isEmpty else {
                throw ImageCheckFailure("keyless verification needs a certificate but the layer has no \(CosignAnnotation.certificate) annotation")
            }
            guard let der = Encoding.pem(pem, label: "CERTIFICATE").first?.der else {
                throw SigstoreError.malformedCertificate("certificate annotation has no PEM CERTIFICATE")
            }
            let leaf = try FulcioCertificate(der: der)
            let key = try PublicKey(certificate: leaf.certificate)
            return (key, .certificate(der: leaf.der), leaf)
        }
    }

    static func checkTlog(annotations: [String: String], content: SigstoreBundle.Content, signer: RekorBodyMatcher.Signer,
                          artifact: Artifact?, options: CosignCheckOptions, into result: inout Verified) throws {
        guard let text = annotations[CosignAnnotation.bundle], !text.isEmpty else {
            if options.ignoreTlog { return }
            throw ImageCheckFailure("no Rekor bundle annotation (\(CosignAnnotation.bundle)) on the signature; transparency log verification required")
        }
        let entry = try TransparencyLogEntry(cosignBundleJSON: Data(text.utf8))
        // With --insecure-ignore-tlog an entry from a log we do not know is skipped; one from a known log must be right.
        if options.ignoreTlog && options.trustedRoot.tlog(id: entry.logID) == nil { return }
        let r = try RekorEntryVerifier(trustedRoot: options.trustedRoot).verify(entry)
        try RekorBodyMatcher.check(entry, content: content, signer: signer, artifact: artifact)
        if let t = r.integratedTime { result.times.append(t) }
        result.logIndex = entry.logIndex
    }

    static func checkTimestampsAndCertificate(annotations: [String: String], timestamped: Data, leaf: FulcioCertificate?,
                                              options: CosignCheckOptions, into result: inout Verified) throws {
        var tsaTimes: [Date] = []
        if let text = annotations[CosignAnnotation.rfc3161Timestamp], !text.isEmpty {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                  let b64 = obj["SignedRFC3161Timestamp"] as? String, let der = Encoding.decodeBase64(b64) else {
                throw SigstoreError.malformedTimestamp("rfc3161timestamp annotation is not {\"SignedRFC3161Timestamp\": base64}")
            }
            tsaTimes.append(try TimestampVerifier(authorities: options.trustedRoot.timestampAuthorities).verify(der, signature: timestamped))
        }
        result.times = tsaTimes + result.times
        if let future = result.times.first(where: { $0 > options.now.addingTimeInterval(300) }) {
            throw SigstoreError.timestampOutsideValidity("verified time \(future) is in the future")
        }
        guard let leaf, case .keyless(let identities) = options.signer else { return }
        let fulcio = FulcioCertificateVerifier(trustedRoot: options.trustedRoot, sctThreshold: options.ignoreSCT ? 0 : 1)
        // Without a verified time the certificate must be valid now (so an expired one is rejected).
        if result.times.isEmpty {
            do { try fulcio.verify(leaf, at: options.now) } catch SigstoreError.certificateExpired(_, let nb, let na) {
                let f = ISO8601DateFormatter()
                throw ImageCheckFailure("certificate is not valid now (valid \(f.string(from: nb)) to \(f.string(from: na))) "
                    + "and there is no verified signing time (Rekor SET or RFC 3161 timestamp)")
            }
        } else {
            for t in result.times { try fulcio.verify(leaf, at: t) }
        }
        try CertificateIdentity.check(identities, leaf)
    }
}

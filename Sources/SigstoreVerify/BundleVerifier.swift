import Foundation

/// What a bundle must satisfy.
public struct VerificationPolicy: Sendable {
    public enum Signer: Sendable {
        /// Keyless: a Fulcio certificate matching any of these identities.
        case certificateIdentities([CertificateIdentity])
        /// Key-based: a signature by this key (bundle carries only a key hint).
        case publicKey(PublicKey)
    }
    public var signer: Signer
    /// Transparency log entries required (sigstore-go default 1).
    public var tlogThreshold: Int = 1
    /// Verified observer timestamps (SET-backed integrated time or RFC 3161) required; keyless default 1, key-based 0.
    public var timestampThreshold: Int
    /// Of those, RFC 3161 timestamps that must verify (sigstore-go `WithSignedTimestamps`; policy-controller
    /// `rfc3161timestamp`).
    public var signedTimestampThreshold = 0
    /// Embedded SCTs required on keyless certificates.
    public var sctThreshold: Int = 1
    /// Hashes a key-based signer may have used (cosign `--signature-digest-algorithm`), besides the bundle's
    /// message digest algorithm (else the key's own).
    public var signatureHashes: [HashAlgorithm] = []

    public init(signer: Signer, tlogThreshold: Int = 1, timestampThreshold: Int? = nil, sctThreshold: Int = 1) {
        self.signer = signer
        self.tlogThreshold = tlogThreshold
        if case .publicKey = signer { self.timestampThreshold = timestampThreshold ?? 0 } else { self.timestampThreshold = timestampThreshold ?? 1 }
        self.sctThreshold = sctThreshold
    }

    public static func identity(_ id: CertificateIdentity) -> VerificationPolicy { .init(signer: .certificateIdentities([id])) }
    public static func key(_ key: PublicKey) -> VerificationPolicy { .init(signer: .publicKey(key)) }
}

/// A time we trust, and who vouched for it.
public struct VerifiedTimestamp: Sendable, Hashable {
    public enum Source: Sendable, Hashable {
        case transparencyLog(logID: Data)
        case timestampAuthority
    }
    public var source: Source
    public var time: Date
}

public struct VerificationResult: Sendable {
    /// The signing certificate (keyless) or nil (key-based).
    public var certificate: FulcioCertificate?
    public var subjectAlternativeName: String? { certificate?.subjectAlternativeName }
    public var oidcIssuer: String? { certificate?.issuer }
    public var extensions: FulcioExtensions? { certificate?.extensions }
    public var timestamps: [VerifiedTimestamp]
    public var tlogEntries: [TransparencyLogEntry]
    /// For DSSE bundles.
    public var envelope: DSSEEnvelope?
    /// For DSSE bundles with an in-toto payload.
    public var statement: InTotoStatement?
}

/// Verifies a `SigstoreBundle` end to end against a trusted root. Pure: values in, values out.
public struct BundleVerifier: Sendable {
    static let maxTimestamps = 32
    public let trustedRoot: TrustedRoot
    public init(trustedRoot: TrustedRoot) { self.trustedRoot = trustedRoot }

    /// - Parameters:
    ///   - artifact: the signed artifact (bytes or digest); for DSSE bundles it must match an in-toto subject.
    ///     nil skips artifact binding for DSSE (caller inspects `statement`); message signatures require it.
    ///   - now: the verifier's clock; timestamps later than `now` (plus 5 minutes of skew) are rejected.
    public func verify(bundle: SigstoreBundle, artifact: Artifact?, policy: VerificationPolicy, at now: Date) throws -> VerificationResult {
        // 1. Who signed, and is the signature over the content valid?
        let key: PublicKey
        let bodySigner: RekorBodyMatcher.Signer
        var leaf: FulcioCertificate?
        switch (bundle.signer, policy.signer) {
        case (.certificate(let cert), .certificateIdentities):
            key = try PublicKey(certificate: cert.certificate)
            bodySigner = .certificate(der: cert.der)
            leaf = cert
        case (.publicKey, .publicKey(let k)):
            key = k
            bodySigner = .publicKey(k)
        case (.certificate(let cert), .publicKey(let k)) where (try? PublicKey(certificate: cert.certificate))?.sameKey(as: k) == true:
            // A certificate holding exactly the expected key (Kyverno `certificates`): the key is the trust, not Fulcio.
            key = k
            bodySigner = .certificate(der: cert.der)
        case (.certificate, .publicKey):
            throw SigstoreError.policyMismatch("bundle is certificate-signed but a public key was expected")
        case (.publicKey, .certificateIdentities):
            throw SigstoreError.policyMismatch("bundle is key-signed but a certificate identity was expected")
        }
        var bundle = bundle
        // When no log entry is required, one from a log this root does not know proves nothing and is dropped;
        // one from a known log must still be right (cosign --insecure-ignore-tlog).
        if policy.tlogThreshold <= 0 { bundle.tlogEntries.removeAll { trustedRoot.tlog(id: $0.logID) == nil } }
        var result = VerificationResult(certificate: leaf, timestamps: [], tlogEntries: bundle.tlogEntries)
        bundle.content = try verifyContent(bundle.content, key: key, artifact: artifact, policy: policy, result: &result)

        // 2. Transparency log: every entry proven by the log and recording exactly this signature.
        guard bundle.tlogEntries.count >= max(policy.tlogThreshold, 0) else { throw SigstoreError.tlogEntryMissing }
        let rekor = RekorEntryVerifier(trustedRoot: trustedRoot)
        for entry in bundle.tlogEntries {
            let r = try rekor.verify(entry)
            try RekorBodyMatcher.check(entry, content: bundle.content, signer: bodySigner, artifact: artifact)
            if let t = r.integratedTime { result.timestamps.append(.init(source: .transparencyLog(logID: entry.logID), time: t)) }
        }

        // 3. RFC 3161 timestamps over the signature.
        // As sigstore-go and sigstore-python: more than 32 or duplicates are refused; the rest count when they verify.
        let stamps = bundle.rfc3161Timestamps
        guard stamps.count <= Self.maxTimestamps else {
            throw SigstoreError.malformedBundle("\(stamps.count) RFC 3161 timestamps (at most \(Self.maxTimestamps))")
        }
        guard Set(stamps).count == stamps.count else { throw SigstoreError.malformedBundle("duplicate RFC 3161 timestamps") }
        let tsa = TimestampVerifier(authorities: trustedRoot.timestampAuthorities)
        var timestampFailure: Error?
        for der in stamps {
            do {
                result.timestamps.append(.init(source: .timestampAuthority, time: try tsa.verify(der, signature: bundle.timestampedSignature)))
            } catch {
                timestampFailure = timestampFailure ?? error
            }
        }
        let signed = result.timestamps.filter { $0.source == .timestampAuthority }.count
        guard signed >= policy.signedTimestampThreshold else {
            throw timestampFailure ?? SigstoreError.timestampMissing(stamps.isEmpty
                ? "the bundle has no RFC 3161 timestamp; \(policy.signedTimestampThreshold) required"
                : "\(signed) RFC 3161 timestamps verified, \(policy.signedTimestampThreshold) required")
        }
        if let future = result.timestamps.first(where: { $0.time > now.addingTimeInterval(300) }) {
            throw SigstoreError.timestampOutsideValidity("timestamp \(iso(future.time)) is in the future")
        }
        guard result.timestamps.count >= policy.timestampThreshold else {
            // The timestamp that did not verify says more than the count.
            throw timestampFailure ?? SigstoreError.timestampMissing("\(result.timestamps.count) verified, \(policy.timestampThreshold) required")
        }
        // Entries without a SET-backed time (Rekor v2) need their log key valid at the TSA times.
        for entry in bundle.tlogEntries where entry.signedEntryTimestamp == nil {
            guard let log = trustedRoot.tlog(id: entry.logID) else { continue }
            for t in result.timestamps where !log.validFor.contains(t.time) { throw SigstoreError.tlogKeyNotValid(at: t.time) }
        }

        // 4. Keyless: the certificate must chain to Fulcio at every verified time, then match the identity policy.
        if let leaf, case .certificateIdentities(let ids) = policy.signer {
            let fulcio = FulcioCertificateVerifier(trustedRoot: trustedRoot, sctThreshold: policy.sctThreshold)
            // TSA times first: they are the stronger claim and give the more specific error.
            let ordered = result.timestamps.filter { $0.source == .timestampAuthority } + result.timestamps.filter { $0.source != .timestampAuthority }
            for t in ordered { try fulcio.verify(leaf, at: t.time) }
            if result.timestamps.isEmpty { try fulcio.verify(leaf, at: now) }
            try CertificateIdentity.check(ids, leaf)
        }
        return result
    }

    /// Checks the signature over the content; returns the content with a DSSE envelope's verifying signature first.
    private func verifyContent(_ content: SigstoreBundle.Content, key: PublicKey, artifact: Artifact?, policy: VerificationPolicy,
                               result: inout VerificationResult) throws -> SigstoreBundle.Content {
        func verifies(_ signature: Data, _ data: Data, _ defaultHash: HashAlgorithm) -> Bool {
            (policy.signatureHashes + [defaultHash]).contains { key.verify(signature: signature, data: data, hash: $0) }
        }
        switch content {
        case .messageSignature(let digest, let signature):
            guard let artifact else { throw SigstoreError.artifactRequired("message signatures are over the artifact") }
            if let (alg, value) = digest, let actual = artifact.digest(alg), actual != value {
                throw SigstoreError.artifactDigestMismatch
            }
            let ok: Bool
            switch artifact {
            case .bytes(let data):
                let alg = key.scheme == .ed25519 || key.scheme == .rsaPKCS1v15 || key.scheme == .rsaPSS ? key.hash : (digest?.0 ?? key.hash)
                ok = verifies(signature, data, alg)
            case .digest(let alg, let value):
                ok = try key.verify(signature: signature, digest: value, algorithm: alg)
            }
            guard ok else { throw SigstoreError.signatureInvalid("message signature does not verify with the signer's key") }
            return content
        case .dsse(var env):
            guard let good = env.signatures.first(where: { verifies($0.sig, env.pae, key.hash) }) else {
                throw SigstoreError.signatureInvalid("DSSE envelope signature does not verify with the signer's key")
            }
            env.signatures = [good] + env.signatures.filter { $0 != good }
            result.envelope = env
            if env.payloadType == InTotoStatement.payloadType {
                result.statement = try InTotoStatement(json: env.payload)
            }
            if let artifact {
                guard let st = result.statement else {
                    throw SigstoreError.malformedEnvelope("payload type '\(env.payloadType)' is not an in-toto statement")
                }
                let matched = HashAlgorithm.allCases.contains { alg in
                    artifact.digest(alg).map { st.hasSubject(digest: $0, algorithm: alg) } ?? false
                }
                guard matched else { throw SigstoreError.subjectDigestMismatch }
            }
            return .dsse(env)
        }
    }
}

import Foundation
import X509

/// Verifies a signing certificate against the trusted root's Fulcio CAs at a given (verified) time.
/// Trust comes only from the trusted root: chain certificates carried in a bundle are not used as anchors.
public struct FulcioCertificateVerifier: Sendable {
    public let trustedRoot: TrustedRoot
    /// How many valid SCTs from trusted CT logs the leaf must carry (sigstore-go default: 1).
    public var sctThreshold: Int

    public init(trustedRoot: TrustedRoot, sctThreshold: Int = 1) {
        self.trustedRoot = trustedRoot; self.sctThreshold = sctThreshold
    }

    /// Returns the verified chain, leaf first. Checks: path to a CA valid at `time`, every certificate valid
    /// at `time`, CA constraints on issuers, code-signing leaf, and embedded SCTs.
    @discardableResult
    public func verify(_ leaf: FulcioCertificate, at time: Date) throws -> [Certificate] {
        try Self.checkCodeSigningLeaf(leaf.certificate)
        let cert = leaf.certificate
        let authorities = trustedRoot.certificateAuthorities.filter { $0.validFor.contains(time) }
        guard !authorities.isEmpty else { throw SigstoreError.certificateAuthorityNotValid(at: time) }
        var lastError: Error = SigstoreError.certificateChainUntrusted("no path to a trusted certificate authority")
        for ca in authorities {
            guard let path = Self.buildPath(from: cert, pool: ca.chain) else { continue }
            do {
                try Self.checkValidity(leaf: cert, path: path, at: time)
                if sctThreshold > 0 {
                    // The issuer is of the trusted root's chain, so its key hash is cached.
                    let keyHash = try SCTVerifier.trustedIssuerKeyHashes.value(path[0]) { try SCTVerifier.keyHash(path[0]) }
                    try SCTVerifier(ctlogs: trustedRoot.ctlogs).verify(leaf: leaf, issuerKeyHash: keyHash, threshold: sctThreshold)
                }
                return [cert] + path
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// A certificate of a trusted root's chain and the one of the same chain that signed it.
    struct TrustedLink: Hashable, Sendable {
        var issuer: Certificate
        var subject: Certificate
    }

    /// Signature checks between certificates of the trusted roots' chains (never a bundle's leaf).
    static let trustedLinks = BoundedCache<TrustedLink, Bool>(capacity: 64)

    /// Walks issuer links through `pool` (each link signature-checked) until a root or the pool's last cert.
    /// `pool` is always a trusted root's chain: links inside it are cached (`trustedLinks`), the leaf's never.
    static func buildPath(from leaf: Certificate, pool: [Certificate]) -> [Certificate]? {
        var path: [Certificate] = []
        var current = leaf
        for _ in 0...pool.count {
            // Past the leaf, both ends of a link come from the trusted root: its signature is checked once per root.
            let inRoot = !path.isEmpty
            guard let issuer = pool.first(where: { candidate in
                guard candidate.subject == current.issuer else { return false }
                guard inRoot else { return candidate.publicKey.isValidSignature(current.signature, for: current) }
                return trustedLinks.value(TrustedLink(issuer: candidate, subject: current)) {
                    candidate.publicKey.isValidSignature(current.signature, for: current)
                }
            }) else {
                return nil
            }
            guard !path.contains(issuer) else { return nil }
            path.append(issuer)
            // Anchors come from the trusted root, so a root's self-signature adds nothing; stop at it.
            if issuer.subject == issuer.issuer || issuer == pool.last { return path }
            current = issuer
        }
        return nil
    }

    static func checkValidity(leaf: Certificate, path: [Certificate], at time: Date) throws {
        guard leaf.notValidBefore <= time, time <= leaf.notValidAfter else {
            throw SigstoreError.certificateExpired(at: time, notBefore: leaf.notValidBefore, notAfter: leaf.notValidAfter)
        }
        for ca in path {
            guard ca.notValidBefore <= time, time <= ca.notValidAfter else {
                throw SigstoreError.certificateChainUntrusted("CA certificate '\(ca.subject)' not valid at \(iso(time))")
            }
            guard let bc = try? ca.extensions.basicConstraints, case .isCertificateAuthority = bc else {
                throw SigstoreError.certificateChainUntrusted("issuer '\(ca.subject)' is not a CA")
            }
            if let ku = try? ca.extensions.keyUsage, !ku.keyCertSign {
                throw SigstoreError.certificateChainUntrusted("issuer '\(ca.subject)' may not sign certificates")
            }
        }
    }

    /// A Fulcio leaf: not a CA, digitalSignature key usage, codeSigning extended key usage.
    public static func checkCodeSigningLeaf(_ cert: Certificate) throws {
        if let bc = try? cert.extensions.basicConstraints, case .isCertificateAuthority = bc {
            throw SigstoreError.certificateNotCodeSigning("certificate is a CA")
        }
        guard let ku = try? cert.extensions.keyUsage, ku.digitalSignature else {
            throw SigstoreError.certificateNotCodeSigning("missing digitalSignature key usage")
        }
        guard let eku = try? cert.extensions.extendedKeyUsage, eku.contains(.codeSigning) else {
            throw SigstoreError.certificateNotCodeSigning("missing codeSigning extended key usage")
        }
    }
}

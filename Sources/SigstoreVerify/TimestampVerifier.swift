import Foundation
import X509

/// Verifies RFC 3161 timestamps over a signature against the trusted root's timestamp authorities.
public struct TimestampVerifier: Sendable {
    public let authorities: [CertificateAuthority]
    public init(authorities: [CertificateAuthority]) { self.authorities = authorities }

    /// Returns the authenticated generation time. Checks, in order: the imprint covers `signature`, the
    /// signed attributes bind the TSTInfo, a trusted TSA certificate signed them, and the time lies inside
    /// the TSA's validFor and every certificate of its chain.
    public func verify(_ der: Data, signature: Data) throws -> Date {
        let ts = try RFC3161Timestamp(der: der)
        guard ts.imprint == ts.imprintAlgorithm.hash(signature) else { throw SigstoreError.timestampImprintMismatch }
        guard ts.contentTypeAttribute == RFC3161Timestamp.tstInfoOID,
              ts.messageDigest == ts.digestAlgorithm.hash(ts.eContent) else {
            throw SigstoreError.timestampSignatureInvalid
        }
        var failure: SigstoreError = .timestampUntrusted("signer matches no trusted timestamp authority")
        for authority in authorities {
            for path in candidatePaths(ts, authority) {
                guard let key = try? PublicKey(certificate: path[0]),
                      key.verify(signature: ts.signature, data: ts.signedAttributesDER, hash: ts.digestAlgorithm) else {
                    failure = .timestampSignatureInvalid; continue
                }
                guard authority.validFor.contains(ts.genTime) else {
                    failure = .timestampOutsideValidity("time \(iso(ts.genTime)) outside the TSA's trusted-root validity"); continue
                }
                if let bad = path.first(where: { !($0.notValidBefore <= ts.genTime && ts.genTime <= $0.notValidAfter) }) {
                    failure = .timestampOutsideValidity("time \(iso(ts.genTime)) outside TSA certificate '\(bad.subject)' validity"); continue
                }
                if let eku = try? path[0].extensions.extendedKeyUsage, !eku.contains(.timeStamping) {
                    failure = .timestampUntrusted("TSA certificate lacks timeStamping usage"); continue
                }
                return ts.genTime
            }
        }
        throw failure
    }

    /// Chains (leaf first) whose leaf is named by the token: the authority's own leaf, or an embedded
    /// certificate that chains to the authority's certificates.
    func candidatePaths(_ ts: RFC3161Timestamp, _ authority: CertificateAuthority) -> [[Certificate]] {
        var paths: [[Certificate]] = []
        if let leaf = authority.chain.first, ts.matches(leaf) { paths.append(authority.chain) }
        for cert in ts.embeddedCertificates where ts.matches(cert) && !authority.chain.contains(cert) {
            if let rest = FulcioCertificateVerifier.buildPath(from: cert, pool: authority.chain) {
                paths.append([cert] + rest)
            }
        }
        return paths
    }
}

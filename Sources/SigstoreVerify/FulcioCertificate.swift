import Foundation
import SwiftASN1
import X509

/// Fulcio's certificate extensions (OID arc 1.3.6.1.4.1.57264.1), exposed for policies.
public struct FulcioExtensions: Sendable, Hashable {
    /// Every Fulcio extension found, keyed by its last arc (1 = legacy issuer, 8 = issuer, 9...22 = build/source claims).
    public var values: [Int: String] = [:]

    public var issuer: String? { values[8] ?? values[1] }
    public var githubWorkflowTrigger: String? { values[2] }
    public var githubWorkflowSHA: String? { values[3] }
    public var githubWorkflowName: String? { values[4] }
    public var githubWorkflowRepository: String? { values[5] }
    public var githubWorkflowRef: String? { values[6] }
    public var buildSignerURI: String? { values[9] }
    public var buildSignerDigest: String? { values[10] }
    public var runnerEnvironment: String? { values[11] }
    public var sourceRepositoryURI: String? { values[12] }
    public var sourceRepositoryDigest: String? { values[13] }
    public var sourceRepositoryRef: String? { values[14] }
    public var sourceRepositoryIdentifier: String? { values[15] }
    public var sourceRepositoryOwnerURI: String? { values[16] }
    public var sourceRepositoryOwnerIdentifier: String? { values[17] }
    public var buildConfigURI: String? { values[18] }
    public var buildConfigDigest: String? { values[19] }
    public var buildTrigger: String? { values[20] }
    public var runInvocationURI: String? { values[21] }
    public var sourceRepositoryVisibilityAtSigning: String? { values[22] }

    public init(values: [Int: String] = [:]) { self.values = values }

    static let arc: [UInt] = [1, 3, 6, 1, 4, 1, 57264, 1]
    public static func oid(_ n: Int) -> ASN1ObjectIdentifier { try! ASN1ObjectIdentifier(elements: arc + [UInt(n)]) }

    /// Arcs 1...6 hold raw UTF-8 bytes (legacy); 8 and later hold a DER UTF8String.
    init(certificate: Certificate) {
        for ext in certificate.extensions {
            let parts = Array(ext.oid.oidComponents)
            guard parts.count == Self.arc.count + 1, Array(parts.prefix(Self.arc.count)) == Self.arc else { continue }
            let n = Int(parts.last!)
            if n <= 6 {
                if let s = String(bytes: ext.value, encoding: .utf8) { values[n] = s }
            } else if let s = try? ASN1UTF8String(derEncoded: ext.value) {
                values[n] = String(s)
            }
        }
    }
}


/// A signing certificate with the identity facts a policy needs.
public struct FulcioCertificate: Sendable {
    public let certificate: Certificate
    public let der: Data
    /// The first SAN value: email, URI or Fulcio username (otherName).
    public let subjectAlternativeName: String?
    public let extensions: FulcioExtensions
    public var issuer: String? { extensions.issuer }

    static let usernameOID = FulcioExtensions.oid(7)

    public init(der: Data) throws {
        do { certificate = try Certificate(derEncoded: Array(der)) } catch {
            throw SigstoreError.malformedCertificate("\(error)")
        }
        self.der = der
        extensions = FulcioExtensions(certificate: certificate)
        subjectAlternativeName = Self.firstSAN(certificate)
    }

    static func firstSAN(_ cert: Certificate) -> String? {
        guard let names = try? cert.extensions.subjectAlternativeNames else { return nil }
        for name in names {
            switch name {
            case .rfc822Name(let s), .uniformResourceIdentifier(let s): return s
            case .otherName(let other) where other.typeID == usernameOID:
                guard let value = other.value else { continue }
                if let s = try? ASN1UTF8String(asn1Any: value) { return String(s) }
            default: continue
            }
        }
        return nil
    }
}

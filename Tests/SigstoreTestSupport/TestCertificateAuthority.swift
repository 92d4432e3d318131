import Crypto
import Foundation
import SwiftASN1
import X509

/// A root + intermediate CA pair (Fulcio-like or TSA-like) that issues leaf certificates.
public struct TestCertificateAuthority: Sendable {
    public let rootKey: SigningKey
    public let root: Certificate
    public let intermediateKey: SigningKey
    public let intermediate: Certificate
    public let notBefore: Date
    public let notAfter: Date

    public init(name: String, notBefore: Date, notAfter: Date) {
        self.notBefore = notBefore; self.notAfter = notAfter
        rootKey = .newP256()
        intermediateKey = .newP256()
        let rootName = try! DistinguishedName { OrganizationName("sealgate-test"); CommonName("\(name)-root") }
        let interName = try! DistinguishedName { OrganizationName("sealgate-test"); CommonName("\(name)-intermediate") }
        root = try! Certificate(
            version: .v3, serialNumber: .init(), publicKey: rootKey.certificatePublicKey,
            notValidBefore: notBefore, notValidAfter: notAfter, issuer: rootName, subject: rootName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 1))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: rootKey.certificatePrivateKey)
        intermediate = try! Certificate(
            version: .v3, serialNumber: .init(), publicKey: intermediateKey.certificatePublicKey,
            notValidBefore: notBefore, notValidAfter: notAfter, issuer: rootName, subject: interName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: rootKey.certificatePrivateKey)
    }

    /// Chain as the trusted root lists it: intermediate, root.
    public var chain: [Certificate] { [intermediate, root] }

    /// Issues a certificate signed by the intermediate. `extensions` are added in order.
    public func issue(publicKey: Certificate.PublicKey, subject: DistinguishedName = DistinguishedName(),
                      serial: Certificate.SerialNumber = .init(),
                      notBefore: Date, notAfter: Date, extensions: [Certificate.Extension]) -> Certificate {
        try! Certificate(
            version: .v3, serialNumber: serial, publicKey: publicKey,
            notValidBefore: notBefore, notValidAfter: notAfter, issuer: intermediate.subject, subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: Certificate.Extensions(extensions),
            issuerPrivateKey: intermediateKey.certificatePrivateKey)
    }
}

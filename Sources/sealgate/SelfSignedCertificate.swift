import Crypto
import Foundation
import SwiftASN1
import X509

/// A throw-away certificate so `sealgate serve` runs out of the box; real clusters mount their own.
enum SelfSignedCertificate {
    /// Writes `tls.crt` and `tls.key` into a fresh temporary directory and returns their paths.
    static func generate(hosts: [String]) throws -> (certificate: String, key: String) {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("sealgate self-signed") }
        let now = Date()
        var sans: [GeneralName] = []
        for host in hosts {
            if let ip = ipAddressBytes(host) { sans.append(.ipAddress(ASN1OctetString(contentBytes: ip[...]))) }
            else { sans.append(.dnsName(host)) }
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: now.addingTimeInterval(365 * 24 * 3600),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                KeyUsage(digitalSignature: true, keyEncipherment: true)
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(sans)
            },
            issuerPrivateKey: .init(key))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sealgate-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let certPath = directory.appendingPathComponent("tls.crt").path
        let keyPath = directory.appendingPathComponent("tls.key").path
        try certificate.serializeAsPEM().pemString.write(toFile: certPath, atomically: true, encoding: .utf8)
        try key.pemRepresentation.write(toFile: keyPath, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyPath)
        return (certPath, keyPath)
    }

    private static func ipAddressBytes(_ host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}

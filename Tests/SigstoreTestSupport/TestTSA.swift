import Crypto
import Foundation
import SwiftASN1
import X509

/// An RFC 3161 timestamp authority issuing TimeStampResp DER (CMS SignedData over TSTInfo, ECDSA P-256/SHA-256).
public struct TestTSA: Sendable {
    public let ca: TestCertificateAuthority
    public let key: SigningKey
    public let certificate: Certificate

    public init(notBefore: Date, notAfter: Date) {
        ca = TestCertificateAuthority(name: "tsa", notBefore: notBefore, notAfter: notAfter)
        key = .newP256()
        let subject = try! DistinguishedName { OrganizationName("sealgate-test"); CommonName("tsa-leaf") }
        certificate = ca.issue(
            publicKey: key.certificatePublicKey, subject: subject, notBefore: notBefore, notAfter: notAfter,
            extensions: [
                try! Certificate.Extension(KeyUsage(digitalSignature: true), critical: true),
                try! Certificate.Extension(try! ExtendedKeyUsage([.timeStamping]), critical: true),
            ])
    }

    /// Chain for trusted_root.json: leaf, intermediate, root.
    public var chain: [Certificate] { [certificate] + ca.chain }

    static let sha256: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 1]
    static let ecdsaSHA256: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 2]
    static let tstInfo: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 9, 16, 1, 4]
    static let signedData: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 7, 2]

    /// Timestamps `message` (the signature bytes) at `time`.
    public func timestamp(_ message: Data, at time: Date, embedCertificates: Bool = false) -> Data {
        try! build(message, time, embed: embedCertificates)
    }

    private func build(_ message: Data, _ time: Date, embed: Bool = false) throws -> Data {
        func der(_ f: (inout DER.Serializer) throws -> Void) throws -> [UInt8] {
            var s = DER.Serializer(); try f(&s); return s.serializedBytes
        }
        func algID(_ c: inout DER.Serializer, _ oid: ASN1ObjectIdentifier) throws {
            try c.appendConstructedNode(identifier: .sequence) { try $0.serialize(oid) }
        }
        let gen = try GeneralizedTime(Self.components(time))
        let tst = try der { s in
            try s.appendConstructedNode(identifier: .sequence) { c in
                try c.serialize(1)
                try c.serialize(ASN1ObjectIdentifier(elements: [1, 3, 6, 1, 4, 1, 57264, 2] as [UInt]))
                try c.appendConstructedNode(identifier: .sequence) { m in
                    try algID(&m, Self.sha256)
                    try m.serialize(ASN1OctetString(contentBytes: ArraySlice(SHA256.hash(data: message))))
                }
                try c.serialize(42)
                try c.serialize(gen)
            }
        }
        // Signed attributes in DER SET order (contentType encodes shorter, so it sorts first).
        let attrs: [[UInt8]] = try [
            der { s in try s.appendConstructedNode(identifier: .sequence) { a in
                try a.serialize(ASN1ObjectIdentifier(elements: [1, 2, 840, 113549, 1, 9, 3] as [UInt]))
                try a.appendConstructedNode(identifier: .set) { try $0.serialize(Self.tstInfo) }
            } },
            der { s in try s.appendConstructedNode(identifier: .sequence) { a in
                try a.serialize(ASN1ObjectIdentifier(elements: [1, 2, 840, 113549, 1, 9, 4] as [UInt]))
                try a.appendConstructedNode(identifier: .set) { try $0.serialize(ASN1OctetString(contentBytes: ArraySlice(SHA256.hash(data: tst)))) }
            } },
        ].sorted { $0.lexicographicallyPrecedes($1) }
        let signedAttrsSet = try der { s in
            try s.appendConstructedNode(identifier: .set) { c in for a in attrs { try c.serialize(ASN1Any(derEncoded: DER.parse(a))) } }
        }
        let signature = key.sign(Data(signedAttrsSet))

        return Data(try der { s in
            try s.appendConstructedNode(identifier: .sequence) { resp in
                try resp.appendConstructedNode(identifier: .sequence) { try $0.serialize(0) }  // granted
                try resp.appendConstructedNode(identifier: .sequence) { ci in
                    try ci.serialize(Self.signedData)
                    try ci.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) { ex in
                        try ex.appendConstructedNode(identifier: .sequence) { sd in
                            try sd.serialize(3)
                            try sd.appendConstructedNode(identifier: .set) { try algID(&$0, Self.sha256) }
                            try sd.appendConstructedNode(identifier: .sequence) { e in
                                try e.serialize(Self.tstInfo)
                                try e.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) {
                                    try $0.serialize(ASN1OctetString(contentBytes: ArraySlice(tst)))
                                }
                            }
                            if embed {
                                try sd.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) {
                                    try $0.serialize(certificate)
                                }
                            }
                            try sd.appendConstructedNode(identifier: .set) { set in
                                try set.appendConstructedNode(identifier: .sequence) { si in
                                    try si.serialize(1)
                                    try si.appendConstructedNode(identifier: .sequence) { sid in
                                        try sid.serialize(certificate.issuer)
                                        try sid.serialize(certificate.serialNumber.bytes)
                                    }
                                    try algID(&si, Self.sha256)
                                    try si.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) { c in
                                        for a in attrs { try c.serialize(ASN1Any(derEncoded: DER.parse(a))) }
                                    }
                                    try algID(&si, Self.ecdsaSHA256)
                                    try si.serialize(ASN1OctetString(contentBytes: ArraySlice(signature)))
                                }
                            }
                        }
                    }
                }
            }
        })
    }

    static func components(_ d: Date) -> (Int, Int, Int, Int, Int, Int) {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.year, .month, .day, .hour, .minute, .second], from: d)
        return (c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }
}

extension GeneralizedTime {
    init(_ c: (Int, Int, Int, Int, Int, Int)) throws {
        try self.init(year: c.0, month: c.1, day: c.2, hours: c.3, minutes: c.4, seconds: c.5, fractionalSeconds: 0)
    }
}

import Crypto
import Foundation
import SwiftASN1
import X509

/// The signer identity a test leaf certificate carries.
public struct TestIdentity: Sendable {
    public enum SAN: Sendable { case email(String), uri(String), username(String) }
    public var san: SAN
    public var issuer: String
    /// Extra Fulcio extensions by OID last arc: 2...6 raw UTF-8 (legacy GitHub claims), 9...22 DER UTF8String.
    public var extensions: [Int: String]
    public init(san: SAN, issuer: String, extensions: [Int: String] = [:]) {
        self.san = san; self.issuer = issuer; self.extensions = extensions
    }
    public static let githubWorkflow = TestIdentity(
        san: .uri("https://github.com/sealgate/test/.github/workflows/release.yml@refs/heads/main"),
        issuer: "https://token.actions.githubusercontent.com",
        extensions: [12: "https://github.com/sealgate/test", 14: "refs/heads/main"])
}

/// A CT log that signs precertificate SCTs.
public struct TestCTLog: Sendable {
    public let key: SigningKey
    public init(key: SigningKey = .newP256()) { self.key = key }

    /// RFC 6962 SCT over the precertificate TBS; returns the TLS-encoded SCT.
    public func sct(tbs: [UInt8], issuerKeyHash: Data, timestamp: Date, extensions: Data = Data()) -> Data {
        let ms = UInt64(timestamp.timeIntervalSince1970 * 1000)
        var signed = Data([0, 0])
        signed.append(contentsOf: withUnsafeBytes(of: ms.bigEndian, Array.init))
        signed.append(contentsOf: [0, 1])
        signed.append(issuerKeyHash)
        signed.append(contentsOf: [UInt8(tbs.count >> 16 & 0xff), UInt8(tbs.count >> 8 & 0xff), UInt8(tbs.count & 0xff)])
        signed.append(contentsOf: tbs)
        signed.append(contentsOf: [UInt8(extensions.count >> 8), UInt8(extensions.count & 0xff)])
        signed.append(extensions)
        let sig = key.sign(signed)
        var out = Data([0])
        out.append(key.logID)
        out.append(contentsOf: withUnsafeBytes(of: ms.bigEndian, Array.init))
        out.append(contentsOf: [UInt8(extensions.count >> 8), UInt8(extensions.count & 0xff)])
        out.append(extensions)
        out.append(contentsOf: [4, 3])  // sha256, ecdsa
        out.append(contentsOf: [UInt8(sig.count >> 8), UInt8(sig.count & 0xff)])
        out.append(sig)
        return out
    }
}

extension TestCertificateAuthority {
    /// Issues a Fulcio-style code-signing leaf with identity extensions and (if `ctLog` is given) an embedded SCT.
    /// `asCA` makes a (misissued) CA certificate, for negative tests.
    public func issueFulcioLeaf(publicKey: Certificate.PublicKey, identity: TestIdentity, notBefore: Date, notAfter: Date,
                                ctLog: TestCTLog?, asCA: Bool = false) -> Certificate {
        let serial = Certificate.SerialNumber()
        var exts: [Certificate.Extension] = []
        if asCA {
            exts.append(try! Certificate.Extension(BasicConstraints.isCertificateAuthority(maxPathLength: nil), critical: true))
            exts.append(try! Certificate.Extension(KeyUsage(digitalSignature: true, keyCertSign: true), critical: true))
        } else {
            exts.append(try! Certificate.Extension(KeyUsage(digitalSignature: true), critical: true))
        }
        exts.append(try! Certificate.Extension(try! ExtendedKeyUsage([.codeSigning]), critical: false))
        let name: GeneralName
        switch identity.san {
        case .email(let e): name = .rfc822Name(e)
        case .uri(let u): name = .uniformResourceIdentifier(u)
        case .username(let u):
            name = .otherName(.init(typeID: Self.fulcioOID(7), value: try! ASN1Any(erasing: ASN1UTF8String(u))))
        }
        exts.append(try! Certificate.Extension(SubjectAlternativeNames([name]), critical: true))
        exts.append(Certificate.Extension(oid: Self.fulcioOID(1), critical: false, value: ArraySlice(identity.issuer.utf8)))
        exts.append(Certificate.Extension(oid: Self.fulcioOID(8), critical: false, value: Self.utf8DER(identity.issuer)))
        for (arc, v) in identity.extensions.sorted(by: { $0.key < $1.key }) {
            // Like Fulcio: the legacy GitHub arcs 2...6 hold raw UTF-8, later arcs a DER UTF8String.
            exts.append(Certificate.Extension(oid: Self.fulcioOID(UInt(arc)), critical: false, value: arc <= 6 ? ArraySlice(v.utf8) : Self.utf8DER(v)))
        }
        guard let ctLog else {
            return issue(publicKey: publicKey, serial: serial, notBefore: notBefore, notAfter: notAfter, extensions: exts)
        }
        // The CT log signs the TBS without the SCT extension; issue that first, then the final cert with the SCT appended.
        let precert = issue(publicKey: publicKey, serial: serial, notBefore: notBefore, notAfter: notAfter, extensions: exts)
        let issuerKeyHash = Data(SHA256.hash(data: intermediateKey.spkiDER))
        let sct = ctLog.sct(tbs: Array(precert.tbsCertificateBytes), issuerKeyHash: issuerKeyHash, timestamp: notBefore)
        var list = Data([UInt8((sct.count + 2) >> 8), UInt8((sct.count + 2) & 0xff), UInt8(sct.count >> 8), UInt8(sct.count & 0xff)])
        list.append(sct)
        var s = DER.Serializer()
        try! s.serialize(ASN1OctetString(contentBytes: ArraySlice(list)))
        exts.append(Certificate.Extension(oid: [1, 3, 6, 1, 4, 1, 11129, 2, 4, 2], critical: false, value: ArraySlice(s.serializedBytes)))
        return issue(publicKey: publicKey, serial: serial, notBefore: notBefore, notAfter: notAfter, extensions: exts)
    }

    static func fulcioOID(_ n: UInt) -> ASN1ObjectIdentifier { try! ASN1ObjectIdentifier(elements: [1, 3, 6, 1, 4, 1, 57264, 1, n]) }

    static func utf8DER(_ s: String) -> ArraySlice<UInt8> {
        var ser = DER.Serializer()
        try! ser.serialize(ASN1UTF8String(s))
        return ArraySlice(ser.serializedBytes)
    }
}

import Crypto
import _CryptoExtras
import Foundation
import SwiftASN1
import X509

/// A private key the test signer can sign with: ECDSA P-256, Ed25519, RSA PKCS#1 v1.5 or RSA-PSS.
public enum SigningKey: @unchecked Sendable {
    case p256(P256.Signing.PrivateKey)
    case ed25519(Curve25519.Signing.PrivateKey)
    case rsaPKCS1(_RSA.Signing.PrivateKey)
    case rsaPSS(_RSA.Signing.PrivateKey)

    public static func newP256() -> SigningKey { .p256(P256.Signing.PrivateKey()) }
    public static func newEd25519() -> SigningKey { .ed25519(Curve25519.Signing.PrivateKey()) }
    public static func newRSAPSS() -> SigningKey { .rsaPSS(try! _RSA.Signing.PrivateKey(keySize: .bits2048)) }
    public static func newRSAPKCS1() -> SigningKey { .rsaPKCS1(try! _RSA.Signing.PrivateKey(keySize: .bits2048)) }

    /// Signs `data` (ECDSA/RSA hash with SHA-256; Ed25519 signs the message). ECDSA signatures are DER.
    public func sign(_ data: Data) -> Data {
        switch self {
        case .p256(let k): return try! k.signature(for: data).derRepresentation
        case .ed25519(let k): return try! k.signature(for: data)
        case .rsaPKCS1(let k): return try! k.signature(for: data, padding: .insecurePKCS1v1_5).rawRepresentation
        case .rsaPSS(let k): return try! k.signature(for: data, padding: .PSS).rawRepresentation
        }
    }

    public var certificatePublicKey: Certificate.PublicKey {
        switch self {
        case .p256(let k): return Certificate.PublicKey(k.publicKey)
        case .ed25519(let k): return Certificate.PublicKey(k.publicKey)
        case .rsaPKCS1(let k), .rsaPSS(let k): return Certificate.PublicKey(k.publicKey)
        }
    }

    public var certificatePrivateKey: Certificate.PrivateKey {
        switch self {
        case .p256(let k): return Certificate.PrivateKey(k)
        case .ed25519(let k): return Certificate.PrivateKey(k)
        case .rsaPKCS1(let k), .rsaPSS(let k): return Certificate.PrivateKey(k)
        }
    }

    /// DER SubjectPublicKeyInfo.
    public var spkiDER: Data {
        var s = DER.Serializer()
        try! s.serialize(certificatePublicKey)
        return Data(s.serializedBytes)
    }

    public var publicKeyPEM: String { PEM.encode(spkiDER, label: "PUBLIC KEY") }

    /// trusted_root.json / bundle keyDetails value.
    public var keyDetails: String {
        switch self {
        case .p256: "PKIX_ECDSA_P256_SHA_256"
        case .ed25519: "PKIX_ED25519"
        case .rsaPKCS1: "PKIX_RSA_PKCS1V15_2048_SHA256"
        case .rsaPSS: "PKIX_RSA_PSS_2048_SHA256"
        }
    }

    public var signatureAlgorithm: Certificate.SignatureAlgorithm {
        switch self {
        case .p256: .ecdsaWithSHA256
        case .ed25519: .ed25519
        case .rsaPKCS1, .rsaPSS: .sha256WithRSAEncryption
        }
    }

    /// SHA-256 of the SPKI: the Rekor / CT log ID convention.
    public var logID: Data { Data(SHA256.hash(data: spkiDER)) }
}

public enum PEM {
    public static func encode(_ der: Data, label: String) -> String {
        let b64 = der.base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN \(label)-----\n\(b64)\n-----END \(label)-----\n"
    }
    public static func certificate(_ cert: Certificate) -> String { encode(der(cert), label: "CERTIFICATE") }
    public static func der(_ cert: Certificate) -> Data {
        var s = DER.Serializer()
        try! s.serialize(cert)
        return Data(s.serializedBytes)
    }
}

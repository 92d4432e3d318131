import Crypto
import _CryptoExtras
import Foundation
import TUF
import X509

/// A key as Notary v1 writes it in root and targets metadata: `{"keytype": …, "keyval": {"public": base64}}`.
/// `ecdsa`/`rsa` carry a DER SubjectPublicKeyInfo, `ed25519` the raw 32 bytes, and the `-x509` types a PEM
/// certificate whose public key signs (root and delegation keys are certificates in notary). Parsing uses
/// swift-certificates; signatures are checked with swift-crypto.
public struct NotaryKey: ThresholdKey {
    public let keyType: String
    /// The certificate of an `-x509` key (its validity is checked for root keys).
    public let certificate: Certificate?
    /// The public key (nil for an ed25519 key, which X509 does not wrap here).
    public let publicKey: Certificate.PublicKey?
    private let verifier: Verifier

    private enum Verifier: Sendable {
        case p256(P256.Signing.PublicKey)
        case ed25519(Curve25519.Signing.PublicKey)
        case rsaPSS(_RSA.Signing.PublicKey)
    }

    /// Throws a description of what is wrong; callers name the role and key ID.
    public init(keyType: String, publicBytes: [UInt8]) throws {
        self.keyType = keyType
        switch keyType {
        case "ecdsa", "rsa":
            let key: Certificate.PublicKey
            do { key = try Certificate.PublicKey(derEncoded: publicBytes) } catch { throw NotaryKeyError("public key is not a DER SubjectPublicKeyInfo") }
            certificate = nil
            publicKey = key
            verifier = try Self.verifier(key, keyType)
        case "ecdsa-x509", "rsa-x509":
            let cert: Certificate
            do { cert = try Certificate(pemEncoded: String(decoding: publicBytes, as: UTF8.self)) } catch {
                throw NotaryKeyError("certificate is not PEM X.509")
            }
            certificate = cert
            publicKey = cert.publicKey
            verifier = try Self.verifier(cert.publicKey, keyType)
        case "ed25519":
            guard publicBytes.count == 32, let k = try? Curve25519.Signing.PublicKey(rawRepresentation: publicBytes) else {
                throw NotaryKeyError("ed25519 key is not 32 bytes")
            }
            certificate = nil
            publicKey = nil
            verifier = .ed25519(k)
        default:
            throw NotaryKeyError("key type \"\(keyType)\" is not supported (ecdsa, ecdsa-x509, rsa, rsa-x509, ed25519)")
        }
    }

    private static func verifier(_ key: Certificate.PublicKey, _ type: String) throws -> Verifier {
        if type.hasPrefix("ecdsa") {
            guard let k = P256.Signing.PublicKey(key) else { throw NotaryKeyError("\(type) key is not on P-256") }
            return .p256(k)
        }
        guard let k = _RSA.Signing.PublicKey(key) else { throw NotaryKeyError("\(type) key is not RSA") }
        return .rsaPSS(k)
    }

    public var identity: String {
        switch verifier {
        case .p256(let k): "p256:" + k.x963Representation.base64EncodedString()
        case .ed25519(let k): "ed25519:" + k.rawRepresentation.base64EncodedString()
        case .rsaPSS(let k): "rsa:" + k.derRepresentation.base64EncodedString()
        }
    }

    /// Whether this key is `pinned` (a PEM public key, as Connaisseur pins root keys): same key material.
    public func isKey(_ pinned: Certificate.PublicKey) -> Bool {
        guard let publicKey else { return false }
        return publicKey == pinned
    }

    /// Notary signs the canonical JSON of `signed`: ECDSA as raw r‖s over SHA-256, RSA-PSS with SHA-256, Ed25519.
    public func verify(signature: [UInt8], message: [UInt8]) -> Bool {
        switch verifier {
        case .p256(let k):
            guard let sig = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return k.isValidSignature(sig, for: message)
        case .ed25519(let k):
            return k.isValidSignature(signature, for: message)
        case .rsaPSS(let k):
            return k.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: message, padding: .PSS)
        }
    }
}

struct NotaryKeyError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

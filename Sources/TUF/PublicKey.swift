import Crypto
import _CryptoExtras
import Foundation

/// A key from a root or delegating targets role. Verification uses swift-crypto only; a key whose type, scheme
/// or encoding is not understood still loads (other keys may meet the threshold) but verifies nothing.
public struct PublicKey: Sendable {
    public let keyType: String
    public let scheme: String
    public let publicValue: String
    private let verifier: Verifier?

    private enum Verifier: Sendable {
        case p256(P256.Signing.PublicKey)
        case ed25519(Curve25519.Signing.PublicKey)
        case rsaPSS(_RSA.Signing.PublicKey)
    }

    public init(keyType: String, scheme: String, publicValue: String) {
        self.keyType = keyType
        self.scheme = scheme
        self.publicValue = publicValue
        verifier = Self.makeVerifier(keyType: keyType, scheme: scheme, value: publicValue)
    }

    /// Whether this key could ever verify a signature (known scheme, decodable key).
    public var isUsable: Bool { verifier != nil }

    /// The key material itself, so one key listed under two key IDs counts once towards a threshold.
    public var identity: String {
        switch verifier {
        case .p256(let k): "p256:" + Hex.encode(Array(k.x963Representation))
        case .ed25519(let k): "ed25519:" + Hex.encode(Array(k.rawRepresentation))
        case .rsaPSS(let k): "rsa:" + Hex.encode(Array(k.derRepresentation))
        case nil: "unusable:\(keyType):\(scheme):\(publicValue)"
        }
    }

    public func verify(signature: [UInt8], message: [UInt8]) -> Bool {
        switch verifier {
        case .p256(let k):
            // TUF ECDSA signatures are DER; the key hashes the message with SHA-256.
            guard let sig = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return k.isValidSignature(sig, for: message)
        case .ed25519(let k):
            return k.isValidSignature(signature, for: message)
        case .rsaPSS(let k):
            // swift-crypto's PSS uses MGF1-SHA256 with a 32-byte salt, which is how securesystemslib and go-tuf sign.
            return k.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: message, padding: .PSS)
        case nil:
            return false
        }
    }

    private static func makeVerifier(keyType: String, scheme: String, value: String) -> Verifier? {
        let pem = value.hasPrefix("-----BEGIN")
        switch (keyType, scheme) {
        case ("ecdsa", "ecdsa-sha2-nistp256"), ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256"):
            if pem { return (try? P256.Signing.PublicKey(pemRepresentation: value)).map { .p256($0) } }
            // Early Sigstore roots give the point as hex (uncompressed SEC1).
            guard let raw = Hex.decode(value) else { return nil }
            if let k = try? P256.Signing.PublicKey(x963Representation: raw) { return .p256(k) }
            return (try? P256.Signing.PublicKey(compressedRepresentation: raw)).map { .p256($0) }
        case ("ed25519", "ed25519"):
            guard let raw = Hex.decode(value), raw.count == 32 else { return nil }
            return (try? Curve25519.Signing.PublicKey(rawRepresentation: raw)).map { .ed25519($0) }
        case ("rsa", "rsassa-pss-sha256"):
            guard pem else { return nil }
            return (try? _RSA.Signing.PublicKey(pemRepresentation: value)).map { .rsaPSS($0) }
        default:
            return nil
        }
    }
}

enum Hex {
    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        let b = Array(text.utf8)
        guard b.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(b.count / 2)
        var k = 0
        while k < b.count {
            guard let h = nibble(b[k]), let l = nibble(b[k + 1]) else { return nil }
            out.append(h << 4 | l)
            k += 2
        }
        return out
    }
}

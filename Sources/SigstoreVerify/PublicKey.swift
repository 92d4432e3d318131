import Crypto
import _CryptoExtras
import Foundation
import SwiftASN1
import X509

/// A verification key: ECDSA P-256/P-384/P-521, RSA (PKCS#1 v1.5 or PSS) or Ed25519.
public struct PublicKey: Sendable {
    public enum Scheme: String, Sendable {
        case ecdsaP256, ecdsaP384, ecdsaP521, rsaPKCS1v15, rsaPSS, ed25519
    }

    enum Backing: @unchecked Sendable {
        case p256(P256.Signing.PublicKey)
        case p384(P384.Signing.PublicKey)
        case p521(P521.Signing.PublicKey)
        case rsa(_RSA.Signing.PublicKey)
        case ed25519(Curve25519.Signing.PublicKey)
    }

    public let scheme: Scheme
    /// Hash used when signing raw data with this key.
    public let hash: HashAlgorithm
    /// The DER bytes the key was parsed from (SPKI, or PKCS#1 for some RSA CT keys).
    public let der: Data
    let backing: Backing

    /// Parses DER SPKI (or PKCS#1 RSA). `keyDetails` is the trusted-root/bundle hint (e.g. PKIX_RSA_PSS_2048_SHA256).
    public init(der: Data, keyDetails: String? = nil) throws {
        self.der = der
        let details = keyDetails?.uppercased() ?? ""
        let spki = try? SPKI(derEncoded: Array(der))
        let oid = spki?.algorithm
        do {
            switch oid {
            case SPKI.ecPublicKey:
                let curve = spki?.curve
                if curve == SPKI.p256 {
                    backing = .p256(try P256.Signing.PublicKey(derRepresentation: der)); scheme = .ecdsaP256; hash = .sha256
                } else if curve == SPKI.p384 {
                    backing = .p384(try P384.Signing.PublicKey(derRepresentation: der)); scheme = .ecdsaP384; hash = .sha384
                } else if curve == SPKI.p521 {
                    backing = .p521(try P521.Signing.PublicKey(derRepresentation: der)); scheme = .ecdsaP521; hash = .sha512
                } else {
                    throw SigstoreError.unsupportedAlgorithm("elliptic curve \(String(describing: curve))")
                }
            case SPKI.ed25519:
                guard let raw = spki?.key else { throw SigstoreError.malformedKey("Ed25519 key") }
                backing = .ed25519(try Curve25519.Signing.PublicKey(rawRepresentation: raw)); scheme = .ed25519; hash = .sha512
            case SPKI.rsaEncryption, SPKI.rsaPSS, nil:
                // nil: not SPKI; RSA CT log keys are sometimes raw PKCS#1, which we wrap in an SPKI.
                let spkiDER = oid == nil ? try SPKI.wrapPKCS1RSA(der) : der
                let key = try _RSA.Signing.PublicKey(unsafeDERRepresentation: spkiDER)
                backing = .rsa(key)
                scheme = (oid == SPKI.rsaPSS || details.contains("PSS")) ? .rsaPSS : .rsaPKCS1v15
                hash = details.contains("SHA384") || details.contains("SHA_384") ? .sha384
                    : details.contains("SHA512") || details.contains("SHA_512") ? .sha512 : .sha256
            default:
                throw SigstoreError.unsupportedAlgorithm("public key algorithm \(oid!)")
            }
        } catch let e as SigstoreError {
            throw e
        } catch {
            throw SigstoreError.malformedKey("\(error)")
        }
    }

    /// Parses a PEM "PUBLIC KEY" (or "RSA PUBLIC KEY") block.
    public init(certificate: Certificate) throws {
        try self.init(der: try certificate.publicKey.spkiDER())
    }

    public init(pem: String, keyDetails: String? = nil) throws {
        guard let block = Encoding.pemBlocks(pem).first(where: { $0.label.hasSuffix("PUBLIC KEY") }) else {
            throw SigstoreError.malformedKey("no PEM PUBLIC KEY block")
        }
        try self.init(der: block.der, keyDetails: keyDetails)
    }

    /// Verifies `signature` over `data`, hashing with this key's hash algorithm.
    public func verify(signature: Data, data: Data) -> Bool {
        verify(signature: signature, data: data, hash: hash)
    }

    /// Verifies `signature` over `data` hashed with `hash` (ignored for Ed25519).
    public func verify(signature: Data, data: Data, hash: HashAlgorithm) -> Bool {
        switch backing {
        case .ed25519(let k):
            return k.isValidSignature(signature, for: data)
        case .rsa:
            return verifyRSA(signature: signature) { k, sig, padding in
                switch hash {
                case .sha256: k.isValidSignature(sig, for: SHA256.hash(data: data), padding: padding)
                case .sha384: k.isValidSignature(sig, for: SHA384.hash(data: data), padding: padding)
                case .sha512: k.isValidSignature(sig, for: SHA512.hash(data: data), padding: padding)
                }
            }
        default:
            return verifyECDSA(signature: signature, digest: PrehashedDigest(bytes: Array(hash.hash(data))))
        }
    }

    /// Verifies `signature` over an already-computed digest. ECDSA only: Ed25519 signs whole messages, RSA needs typed digests.
    public func verify(signature: Data, digest: Data, algorithm: HashAlgorithm) throws -> Bool {
        guard digest.count == algorithm.byteCount else { return false }
        switch backing {
        case .ed25519:
            throw SigstoreError.artifactRequired("Ed25519 signatures need the artifact bytes, not a digest")
        case .rsa:
            // swift-crypto picks the RSA DigestInfo from the digest's type and has no typed digest from bytes.
            throw SigstoreError.artifactRequired("RSA signatures need the artifact bytes, not a digest")
        default:
            return verifyECDSA(signature: signature, digest: PrehashedDigest(bytes: Array(digest)))
        }
    }

    private func verifyECDSA(signature: Data, digest: PrehashedDigest) -> Bool {
        switch backing {
        case .p256(let k):
            guard let s = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return k.isValidSignature(s, for: digest)
        case .p384(let k):
            guard let s = try? P384.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return k.isValidSignature(s, for: digest)
        case .p521(let k):
            guard let s = try? P521.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return k.isValidSignature(s, for: digest)
        default:
            return false
        }
    }

    private func verifyRSA(signature: Data, _ check: (_RSA.Signing.PublicKey, _RSA.Signing.RSASignature, _RSA.Signing.Padding) -> Bool) -> Bool {
        guard case .rsa(let k) = backing else { return false }
        let sig = _RSA.Signing.RSASignature(rawRepresentation: signature)
        return check(k, sig, scheme == .rsaPSS ? .PSS : .insecurePKCS1v1_5)
    }

    /// SHA-256 of the DER key: the log ID convention of Rekor and CT.
    public var keyID: Data { HashAlgorithm.sha256.hash(der) }

    /// Same key material (compares the parsed key, not the encoding).
    public func sameKey(as other: PublicKey) -> Bool {
        switch (backing, other.backing) {
        case (.p256(let a), .p256(let b)): return a.rawRepresentation == b.rawRepresentation
        case (.p384(let a), .p384(let b)): return a.rawRepresentation == b.rawRepresentation
        case (.p521(let a), .p521(let b)): return a.rawRepresentation == b.rawRepresentation
        case (.ed25519(let a), .ed25519(let b)): return a.rawRepresentation == b.rawRepresentation
        case (.rsa(let a), .rsa(let b)): return a.derRepresentation == b.derRepresentation
        default: return false
        }
    }
}

/// Minimal SubjectPublicKeyInfo reader (SwiftASN1) to learn the key algorithm and curve.
struct SPKI: DERImplicitlyTaggable {
    static let ecPublicKey: ASN1ObjectIdentifier = [1, 2, 840, 10045, 2, 1]
    static let p256: ASN1ObjectIdentifier = [1, 2, 840, 10045, 3, 1, 7]
    static let p384: ASN1ObjectIdentifier = [1, 3, 132, 0, 34]
    static let p521: ASN1ObjectIdentifier = [1, 3, 132, 0, 35]
    static let ed25519: ASN1ObjectIdentifier = [1, 3, 101, 112]
    static let rsaEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 1]
    static let rsaPSS: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 10]

    static var defaultIdentifier: ASN1Identifier { .sequence }
    var algorithm: ASN1ObjectIdentifier
    var curve: ASN1ObjectIdentifier?
    var key: [UInt8]

    init(derEncoded root: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        (algorithm, curve, key) = try DER.sequence(root, identifier: identifier) { nodes in
            let (alg, curve) = try DER.sequence(of: ASN1Any.self, identifier: .sequence, nodes: &nodes).withAlgorithm()
            let bits = try ASN1BitString(derEncoded: &nodes)
            return (alg, curve, Array(bits.bytes))
        }
    }

    func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        throw ASN1Error.invalidASN1Object(reason: "SPKI is read-only")
    }

    /// SubjectPublicKeyInfo { rsaEncryption, NULL } around a PKCS#1 RSAPublicKey.
    static func wrapPKCS1RSA(_ pkcs1: Data) throws -> Data {
        var s = DER.Serializer()
        try s.appendConstructedNode(identifier: .sequence) { c in
            try c.appendConstructedNode(identifier: .sequence) { a in
                try a.serialize(rsaEncryption)
                try a.serialize(ASN1Null())
            }
            try c.serialize(ASN1BitString(bytes: ArraySlice(pkcs1)))
        }
        return Data(s.serializedBytes)
    }
}

extension Array where Element == ASN1Any {
    fileprivate func withAlgorithm() throws -> (ASN1ObjectIdentifier, ASN1ObjectIdentifier?) {
        guard let first else { throw ASN1Error.invalidASN1Object(reason: "empty AlgorithmIdentifier") }
        let alg = try ASN1ObjectIdentifier(asn1Any: first)
        let param = count > 1 ? try? ASN1ObjectIdentifier(asn1Any: self[1]) : nil
        return (alg, param)
    }
}

extension Certificate.PublicKey {
    /// Full DER SubjectPublicKeyInfo (`subjectPublicKeyInfoBytes` is only the key bits).
    func spkiDER() throws -> Data {
        var s = DER.Serializer()
        try s.serialize(self)
        return Data(s.serializedBytes)
    }
}

import Crypto
import Foundation

/// Hash algorithms Sigstore uses for artifacts, keys and logs.
public enum HashAlgorithm: String, Sendable, Hashable, CaseIterable {
    case sha256, sha384, sha512

    /// Accepts the protobuf enum names (SHA2_256) and the lower-case names (sha256).
    public init?(name: String) {
        switch name.uppercased() {
        case "SHA2_256", "SHA256", "SHA-256": self = .sha256
        case "SHA2_384", "SHA384", "SHA-384": self = .sha384
        case "SHA2_512", "SHA512", "SHA-512": self = .sha512
        default: return nil
        }
    }

    public var byteCount: Int {
        switch self { case .sha256: 32; case .sha384: 48; case .sha512: 64 }
    }

    public func hash(_ data: some DataProtocol) -> Data {
        switch self {
        case .sha256: Data(SHA256.hash(data: data))
        case .sha384: Data(SHA384.hash(data: data))
        case .sha512: Data(SHA512.hash(data: data))
        }
    }
}

/// The artifact being verified: its bytes, or only its digest (then Ed25519/RSA message signatures cannot be checked).
public enum Artifact: Sendable {
    case bytes(Data)
    case digest(HashAlgorithm, Data)

    public func digest(_ alg: HashAlgorithm) -> Data? {
        switch self {
        case .bytes(let d): return alg.hash(d)
        case .digest(let a, let v): return a == alg ? v : nil
        }
    }
}

/// A digest computed elsewhere, so ECDSA can verify over it without the original bytes.
struct PrehashedDigest: Digest {
    static var byteCount: Int { 64 }  // upper bound; ECDSA only reads the bytes
    let bytes: [UInt8]

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes(body)
    }
    func makeIterator() -> IndexingIterator<[UInt8]> { bytes.makeIterator() }
    var description: String { Encoding.hex(bytes) }
}

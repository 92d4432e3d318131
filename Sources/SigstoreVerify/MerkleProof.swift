import Crypto
import Foundation

/// RFC 6962 / RFC 9162 Merkle tree hashing and inclusion-proof verification.
public enum MerkleTree {
    public static func leafHash(_ leaf: Data) -> Data {
        var h = SHA256(); h.update(data: [0]); h.update(data: leaf); return Data(h.finalize())
    }

    public static func nodeHash(_ left: Data, _ right: Data) -> Data {
        var h = SHA256(); h.update(data: [1]); h.update(data: left); h.update(data: right); return Data(h.finalize())
    }

    /// Recomputes the root from a leaf hash and its audit path (RFC 9162 §2.1.3.2).
    public static func rootFromInclusionProof(index: Int64, treeSize: Int64, leafHash: Data, proof: [Data]) throws -> Data {
        guard index >= 0, treeSize > 0, index < treeSize else {
            throw SigstoreError.inclusionProofInvalid("index \(index) outside tree of size \(treeSize)")
        }
        guard proof.allSatisfy({ $0.count == 32 }) else { throw SigstoreError.inclusionProofInvalid("proof hash is not 32 bytes") }
        var fn = UInt64(index), sn = UInt64(treeSize - 1)
        var r = leafHash
        for p in proof {
            guard sn != 0 else { throw SigstoreError.inclusionProofInvalid("proof longer than tree height") }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0, fn != 0 { fn >>= 1; sn >>= 1 }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1; sn >>= 1
        }
        guard sn == 0 else { throw SigstoreError.inclusionProofInvalid("proof shorter than tree height") }
        return r
    }
}

import Crypto
import Foundation
import SigstoreVerify

/// An in-memory Rekor v1-style log: RFC 6962 Merkle tree, SETs and signed checkpoints.
public final class TestRekorLog: @unchecked Sendable {
    public let key: SigningKey
    public let origin: String
    public private(set) var leaves: [Data] = []

    public init(key: SigningKey = .newP256(), origin: String = "rekor.sealgate.test - 1") {
        self.key = key; self.origin = origin
    }

    public var logID: Data { key.logID }

    /// Appends `body` and returns a bundle-ready entry with SET, inclusion proof and checkpoint.
    /// `padding` extra leaves are appended first so proofs are non-trivial.
    public func append(body: Data, kind: String, version: String, integratedTime: Date, padding: Int = 5) -> TransparencyLogEntry {
        for i in 0..<padding { leaves.append(Data("filler-\(leaves.count)-\(i)".utf8)) }
        let index = Int64(leaves.count)
        leaves.append(body)
        let size = Int64(leaves.count)
        let hashes = leaves.map(MerkleTree.leafHash)
        let root = Self.root(hashes[...])
        let proof = Self.path(Int(index), hashes[...])
        var entry = TransparencyLogEntry(
            logIndex: index, logID: logID, kind: kind, version: version,
            integratedTime: Int64(integratedTime.timeIntervalSince1970), signedEntryTimestamp: nil,
            inclusionProof: InclusionProof(logIndex: index, treeSize: size, rootHash: root, hashes: proof,
                                           checkpoint: checkpoint(size: size, root: root)),
            canonicalizedBody: body)
        entry.signedEntryTimestamp = key.sign(RekorEntryVerifier.setPayload(entry, integratedTime: entry.integratedTime!))
        return entry
    }

    /// A signed note: origin, size, base64 root, blank line, "— origin base64(keyhint || sig)".
    public func checkpoint(size: Int64, root: Data) -> String {
        let body = "\(origin)\n\(size)\n\(root.base64EncodedString())\n"
        let sig = key.sign(Data(body.utf8))
        // Key names may not contain spaces; like Rekor v1, sign as the origin's host part.
        let name = origin.split(separator: " ").first.map(String.init) ?? origin
        return body + "\n\u{2014} \(name) \((logID.prefix(4) + sig).base64EncodedString())\n"
    }

    /// cosign `dev.sigstore.cosign/bundle` annotation JSON for an entry.
    public static func cosignBundleAnnotation(_ e: TransparencyLogEntry) -> Data {
        let obj: [String: Any] = [
            "SignedEntryTimestamp": e.signedEntryTimestamp?.base64EncodedString() ?? "",
            "Payload": ["body": e.canonicalizedBody.base64EncodedString(), "integratedTime": e.integratedTime ?? 0,
                        "logIndex": e.logIndex, "logID": e.logID.map { String(format: "%02x", $0) }.joined()],
        ]
        return try! JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
    }

    // RFC 6962 §2.1 MTH and PATH.
    static func split(_ n: Int) -> Int { var k = 1; while k << 1 < n { k <<= 1 }; return k }

    static func root(_ h: ArraySlice<Data>) -> Data {
        if h.count == 1 { return h.first! }
        let k = split(h.count)
        return MerkleTree.nodeHash(root(h.prefix(k)), root(h.dropFirst(k)))
    }

    static func path(_ m: Int, _ h: ArraySlice<Data>) -> [Data] {
        if h.count <= 1 { return [] }
        let k = split(h.count)
        if m < k { return path(m, h.prefix(k)) + [root(h.dropFirst(k))] }
        return path(m - k, h.dropFirst(k)) + [root(h.prefix(k))]
    }
}

extension TestRekorLog {
    /// RFC 6962 Merkle tree hash over leaf hashes.
    public static func rootHash(_ leafHashes: [Data]) -> Data { root(leafHashes[...]) }
    /// RFC 6962 audit path for leaf `m`.
    public static func auditPath(_ m: Int, _ leafHashes: [Data]) -> [Data] { path(m, leafHashes[...]) }
}

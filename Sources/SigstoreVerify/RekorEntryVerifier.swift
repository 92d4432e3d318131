import Foundation

/// Verifies a Rekor entry's log-side proofs: SET (inclusion promise), inclusion proof and signed checkpoint.
/// What the entry *says* is checked separately by `RekorBodyMatcher`.
public struct RekorEntryVerifier: Sendable {
    public let trustedRoot: TrustedRoot
    public init(trustedRoot: TrustedRoot) { self.trustedRoot = trustedRoot }

    public struct Result: Sendable, Hashable {
        /// Integrated time authenticated by a valid SET (nil for Rekor v2 / no SET).
        public var integratedTime: Date?
        public var verifiedSET: Bool
        public var verifiedInclusionProof: Bool
    }

    public func verify(_ entry: TransparencyLogEntry) throws -> Result {
        guard entry.logIndex >= 0 else { throw SigstoreError.malformedLogEntry("negative log index") }
        guard let log = trustedRoot.tlog(id: entry.logID) else {
            throw SigstoreError.tlogUnknownLog(entry.logID.base64EncodedString())
        }
        var result = Result(integratedTime: nil, verifiedSET: false, verifiedInclusionProof: false)

        if let set = entry.signedEntryTimestamp {
            guard let t = entry.integratedTime else { throw SigstoreError.malformedLogEntry("SET without integratedTime") }
            guard log.publicKey.verify(signature: set, data: Self.setPayload(entry, integratedTime: t)) else {
                throw SigstoreError.setInvalid
            }
            let time = Date(timeIntervalSince1970: TimeInterval(t))
            guard log.validFor.contains(time) else { throw SigstoreError.tlogKeyNotValid(at: time) }
            result.verifiedSET = true
            result.integratedTime = time
        }

        if let proof = entry.inclusionProof {
            try Self.verifyInclusion(proof, body: entry.canonicalizedBody)
            // A proof's root hash is only worth something if the log signed it (sigstore-go, sigstore-python),
            // even when a SET vouches for the entry.
            guard let text = proof.checkpoint else { throw SigstoreError.checkpointMissing }
            let cp = try Checkpoint(text)
            guard cp.isSigned(by: log) else { throw SigstoreError.checkpointSignatureInvalid }
            guard cp.treeSize == proof.treeSize else {
                throw SigstoreError.checkpointMismatch("tree size \(cp.treeSize) != proof tree size \(proof.treeSize)")
            }
            guard cp.rootHash == proof.rootHash else { throw SigstoreError.checkpointMismatch("root hash differs") }
            result.verifiedInclusionProof = true
        }
        // An unsigned proof root proves nothing; require a signed statement from the log.
        guard result.verifiedSET || result.verifiedInclusionProof else { throw SigstoreError.setMissing }
        return result
    }

    public static func verifyInclusion(_ proof: InclusionProof, body: Data) throws {
        let root = try MerkleTree.rootFromInclusionProof(index: proof.logIndex, treeSize: proof.treeSize,
                                                         leafHash: MerkleTree.leafHash(body), proof: proof.hashes)
        guard root == proof.rootHash else { throw SigstoreError.inclusionProofRootMismatch }
    }

    /// Canonical JSON Rekor signs for a SET: sorted keys, no whitespace.
    public static func setPayload(_ entry: TransparencyLogEntry, integratedTime: Int64) -> Data {
        let body = entry.canonicalizedBody.base64EncodedString()
        let s = #"{"body":"\#(body)","integratedTime":\#(integratedTime),"logID":"\#(Encoding.hex(entry.logID))","logIndex":\#(entry.logIndex)}"#
        return Data(s.utf8)
    }
}

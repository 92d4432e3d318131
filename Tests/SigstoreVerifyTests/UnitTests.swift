import Crypto
import Foundation
import SigstoreTestSupport
@testable import SigstoreVerify
import Testing

@Suite("Building blocks")
struct UnitTests {
    @Test func merkleProofsForEveryLeafOfSmallTrees() throws {
        for size in 1...17 {
            let log = TestRekorLog()
            var entries: [TransparencyLogEntry] = []
            for i in 0..<size {
                entries.append(log.append(body: Data("leaf \(i)".utf8), kind: "k", version: "v", integratedTime: Date(), padding: 0))
            }
            // Re-derive proofs against the final tree for every leaf.
            let hashes = log.leaves.map(MerkleTree.leafHash)
            let root = TestRekorLogAccess.root(hashes)
            for i in 0..<size {
                let proof = TestRekorLogAccess.path(i, hashes)
                let computed = try MerkleTree.rootFromInclusionProof(index: Int64(i), treeSize: Int64(size), leafHash: hashes[i], proof: proof)
                #expect(computed == root)
                if !proof.isEmpty {
                    #expect(throws: SigstoreError.self) {
                        _ = try MerkleTree.rootFromInclusionProof(index: Int64(i), treeSize: Int64(size), leafHash: hashes[i], proof: proof.dropLast())
                    }
                }
            }
        }
    }

    @Test func checkpointParsing() throws {
        let log = TestRekorLog()
        let text = log.checkpoint(size: 12, root: Data(repeating: 7, count: 32))
        let cp = try Checkpoint(text)
        #expect(cp.treeSize == 12 && cp.rootHash == Data(repeating: 7, count: 32))
        let instance = TransparencyLogInstance(baseURL: "", logID: log.logID, publicKey: try PublicKey(der: log.key.spkiDER),
                                               validFor: ValidityPeriod(start: .distantPast))
        #expect(cp.isSigned(by: instance))
        // Unknown witness lines before the log's line are ignored.
        let lines = text.components(separatedBy: "\n\n")
        let witnessed = lines[0] + "\n\n\u{2014} witness.example AAAAAAAAAAAAAAAAAAAA\n" + lines[1]
        #expect(try Checkpoint(witnessed).isSigned(by: instance))
        #expect(throws: SigstoreError.self) { _ = try Checkpoint("origin\n12\n\n\u{2014} x AAAAAAAA\n") }
        #expect(throws: SigstoreError.self) { _ = try Checkpoint(lines[0] + "\n\n") }
    }

    @Test func validityEndIsInclusiveAndStartRequired() throws {
        let end = Date(timeIntervalSince1970: 1000)
        let v = ValidityPeriod(start: Date(timeIntervalSince1970: 0), end: end)
        #expect(v.contains(end))
        #expect(!v.contains(end.addingTimeInterval(1)))
        let sigstore = TestSigstore()
        let broken = editJSON(sigstore.trustedRootJSON()) { root in
            var tlogs = root["tlogs"] as! [[String: Any]]
            var pk = tlogs[0]["publicKey"] as! [String: Any]
            pk["validFor"] = ["end": "2030-01-01T00:00:00Z"]
            tlogs[0]["publicKey"] = pk
            root["tlogs"] = tlogs
        }
        #expect(throws: SigstoreError.malformedTrustedRoot("log https://rekor.sealgate.test: validFor has no start")) {
            _ = try TrustedRoot(json: broken)
        }
        // Without validFor at all (optional in protobuf-specs) the key is valid at all times.
        let open = editJSON(sigstore.trustedRootJSON()) { root in
            var tlogs = root["tlogs"] as! [[String: Any]]
            var pk = tlogs[0]["publicKey"] as! [String: Any]
            pk.removeValue(forKey: "validFor")
            tlogs[0]["publicKey"] = pk
            root["tlogs"] = tlogs
        }
        #expect(try TrustedRoot(json: open).tlogs[0].validFor == ValidityPeriod(start: .distantPast))
    }

    @Test func embeddedPublicGoodRootLoads() throws {
        let root = try TrustedRoot.publicGood()
        #expect(!root.tlogs.isEmpty && !root.ctlogs.isEmpty && !root.certificateAuthorities.isEmpty && !root.timestampAuthorities.isEmpty)
        #expect(root.tlogs.contains { $0.publicKey.scheme == .ed25519 })
    }

    @Test func paeMatchesTheSpecExample() {
        let pae = DSSEEnvelope.pae(payloadType: "http://example.com/HelloWorld", payload: Data("hello world".utf8))
        #expect(String(decoding: pae, as: UTF8.self) == "DSSEv1 29 http://example.com/HelloWorld 11 hello world")
    }

    @Test func keyParsingAndDigestVerification() throws {
        let key = SigningKey.newP256()
        let pub = try PublicKey(pem: key.publicKeyPEM)
        let data = Data("data".utf8)
        let sig = key.sign(data)
        #expect(pub.verify(signature: sig, data: data))
        #expect(try pub.verify(signature: sig, digest: HashAlgorithm.sha256.hash(data), algorithm: .sha256))
        #expect(try !pub.verify(signature: sig, digest: HashAlgorithm.sha256.hash(Data("other".utf8)), algorithm: .sha256))
        #expect(throws: SigstoreError.self) { _ = try PublicKey(pem: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n") }
    }

    @Test func stringMatcherSemantics() throws {
        #expect(StringMatcher.exact("a").matches("a"))
        #expect(!StringMatcher.exact("a").matches("ab"))
        #expect(try StringMatcher.regexp("^https://github\\.com/org/").matches("https://github.com/org/repo"))
        #expect(try !StringMatcher.regexp("^https://github\\.com/org/").matches("https://github.com/organisation"))
        #expect(throws: SigstoreError.self) { _ = try StringMatcher.regexp("(") }
    }
}

/// Access to the test log's RFC 6962 helpers for independent proof checks.
enum TestRekorLogAccess {
    static func root(_ h: [Data]) -> Data { TestRekorLog.rootHash(h) }
    static func path(_ m: Int, _ h: [Data]) -> [Data] { TestRekorLog.auditPath(m, h) }
}

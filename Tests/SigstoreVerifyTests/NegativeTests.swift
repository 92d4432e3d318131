import Crypto
import Foundation
import SigstoreTestSupport
@testable import SigstoreVerify
import Testing

/// Each forged or mismatched bundle must be rejected with the error naming the failed check.
@Suite("Negative cases built by the test signer")
struct NegativeTests {
    let f = Fixture()

    func reject(_ signed: TestSigstore.Signed, artifact: Artifact? = nil, policy: VerificationPolicy = .identity(Fixture.identity),
                root: TrustedRoot? = nil) -> SigstoreError? {
        rejection { _ = try f.verify(signed, artifact: artifact, policy: policy, root: root) }
    }

    func editEntry(_ signed: TestSigstore.Signed, _ edit: (inout [String: Any]) -> Void) -> TestSigstore.Signed {
        var copy = signed
        copy.bundleJSON = editJSON(signed.bundleJSON) { b in
            var vm = b["verificationMaterial"] as! [String: Any]
            var entries = vm["tlogEntries"] as! [[String: Any]]
            edit(&entries[0])
            vm["tlogEntries"] = entries
            b["verificationMaterial"] = vm
        }
        return copy
    }

    @Test func wrongIdentity() {
        let signed = f.sigstore.signBlob(f.payload, f.options())
        let policy = VerificationPolicy.identity(CertificateIdentity(
            issuer: .exact(TestIdentity.githubWorkflow.issuer), subjectAlternativeName: .exact("https://github.com/evil/repo")))
        let err = reject(signed, policy: policy)
        #expect(err == .certificateIdentityMismatch(
            actual: "https://github.com/sealgate/test/.github/workflows/release.yml@refs/heads/main", expected: "https://github.com/evil/repo"))
        #expect(err?.description.contains("certificate identity 'https://github.com/sealgate/test") == true)
    }

    @Test func wrongIssuer() {
        let signed = f.sigstore.signBlob(f.payload, f.options())
        let policy = VerificationPolicy.identity(CertificateIdentity(
            issuer: .exact("https://accounts.google.com"), subjectAlternativeName: Fixture.identity.subjectAlternativeName))
        #expect(reject(signed, policy: policy) == .certificateIssuerMismatch(
            actual: "https://token.actions.githubusercontent.com", expected: "https://accounts.google.com"))
    }

    @Test func regexIdentityMismatch() throws {
        let signed = f.sigstore.signBlob(f.payload, f.options())
        let policy = VerificationPolicy.identity(CertificateIdentity(
            issuer: .exact(TestIdentity.githubWorkflow.issuer), subjectAlternativeName: try .regexp("^https://github\\.com/other/")))
        guard case .certificateIdentityMismatch = reject(signed, policy: policy) else { Issue.record("expected identity mismatch"); return }
    }

    @Test func expiredLeafAtSigningTime() {
        var o = f.options()
        o.certificateNotBefore = f.signingTime.addingTimeInterval(-3600)  // 10-minute cert that ended 50 minutes before signing
        let err = reject(f.sigstore.signBlob(f.payload, o))
        guard case .certificateExpired(let at, _, let notAfter) = err else { Issue.record("got \(String(describing: err))"); return }
        #expect(at > notAfter)
    }

    @Test func certificateFromUntrustedRoot() {
        var o = f.options()
        o.issuingCA = TestCertificateAuthority(name: "rogue", notBefore: Fixture.t0, notAfter: Fixture.t0.addingTimeInterval(1e8))
        guard case .certificateChainUntrusted = reject(f.sigstore.signBlob(f.payload, o)) else {
            Issue.record("expected untrusted chain"); return
        }
    }

    @Test func caCertificateUsedAsLeaf() {
        var o = f.options()
        o.leafIsCA = true
        #expect(reject(f.sigstore.signBlob(f.payload, o)) == .certificateNotCodeSigning("certificate is a CA"))
    }

    @Test func sctFromUnknownLog() {
        var o = f.options()
        o.ctLog = TestCTLog()  // not in the trusted root
        guard case .sctUnknownLog = reject(f.sigstore.signBlob(f.payload, o)) else { Issue.record("expected unknown CT log"); return }
    }

    @Test func missingSCT() {
        var o = f.options()
        o.ctLog = nil
        #expect(reject(f.sigstore.signBlob(f.payload, o)) == .sctMissing)
    }

    @Test func tamperedPayload() {
        let signed = f.sigstore.signBlob(f.payload, f.options())
        let other = Artifact.bytes(Data("hello sealgatE\n".utf8))
        #expect(reject(signed, artifact: other) == .artifactDigestMismatch)
        // Without the (unauthenticated) digest hint the signature check itself must catch it.
        var noHint = signed
        noHint.bundleJSON = editJSON(signed.bundleJSON) { b in
            var ms = b["messageSignature"] as! [String: Any]
            ms.removeValue(forKey: "messageDigest")
            b["messageSignature"] = ms
        }
        #expect(reject(noHint, artifact: other) == .signatureInvalid("message signature does not verify with the signer's key"))
    }

    @Test func tamperedDSSEPayload() {
        let digest = Data(SHA256.hash(data: f.payload))
        let signed = f.sigstore.signDSSE(payload: TestSigstore.inTotoStatement(subjectName: "a", sha256: digest), f.options())
        var forged = signed
        forged.bundleJSON = editJSON(signed.bundleJSON) { b in
            var env = b["dsseEnvelope"] as! [String: Any]
            env["payload"] = TestSigstore.inTotoStatement(subjectName: "b", sha256: digest).base64EncodedString()
            b["dsseEnvelope"] = env
        }
        guard case .signatureInvalid = reject(forged) else { Issue.record("expected DSSE signature failure"); return }
    }

    @Test func tamperedSET() {
        let signed = editEntry(f.sigstore.signBlob(f.payload, f.options())) { e in
            var p = e["inclusionPromise"] as! [String: Any]
            var set = Data(base64Encoded: p["signedEntryTimestamp"] as! String)!
            set[set.count - 3] ^= 0x01
            p["signedEntryTimestamp"] = set.base64EncodedString()
            e["inclusionPromise"] = p
        }
        #expect(reject(signed) == .setInvalid)
    }

    @Test func tamperedIntegratedTime() {
        let signed = editEntry(f.sigstore.signBlob(f.payload, f.options())) { e in
            e["integratedTime"] = String(Int(f.signingTime.timeIntervalSince1970) - 10)
        }
        #expect(reject(signed) == .setInvalid)
    }

    @Test func corruptedInclusionProof() {
        let signed = editEntry(f.sigstore.signBlob(f.payload, f.options())) { e in
            var p = e["inclusionProof"] as! [String: Any]
            var hashes = p["hashes"] as! [String]
            var h = Data(base64Encoded: hashes[0])!
            h[0] ^= 0x80
            hashes[0] = h.base64EncodedString()
            p["hashes"] = hashes
            e["inclusionProof"] = p
        }
        #expect(reject(signed) == .inclusionProofRootMismatch)
    }

    @Test func checkpointSignedByAnotherKey() {
        let signed = f.sigstore.signBlob(f.payload, f.options())
        let proof = signed.tlogEntry!.inclusionProof!
        let rogue = TestRekorLog(origin: f.sigstore.rekor.origin)
        let forged = editEntry(signed) { e in
            var p = e["inclusionProof"] as! [String: Any]
            p["checkpoint"] = ["envelope": rogue.checkpoint(size: proof.treeSize, root: proof.rootHash)]
            e["inclusionProof"] = p
        }
        // The SET still verifies, but a present checkpoint must be valid too.
        #expect(reject(forged) == .checkpointSignatureInvalid)
    }

    @Test func inclusionProofWithoutCheckpoint() {
        let signed = editEntry(f.sigstore.signBlob(f.payload, f.options())) { e in
            var p = e["inclusionProof"] as! [String: Any]
            p.removeValue(forKey: "checkpoint")
            e["inclusionProof"] = p
        }
        // The SET still verifies, but nothing signed the proof's root hash (sigstore-go, sigstore-python).
        #expect(reject(signed) == .checkpointMissing)
    }

    @Test func logEntryForAnotherSignature() {
        let a = f.sigstore.signBlob(f.payload, f.options())
        let b = f.sigstore.signBlob(f.payload, f.options())
        var mixed = a
        mixed.bundleJSON = editJSON(a.bundleJSON) { obj in
            var vm = obj["verificationMaterial"] as! [String: Any]
            vm["tlogEntries"] = [TestSigstore.entryJSON(b.tlogEntry!)]
            obj["verificationMaterial"] = vm
        }
        guard case .tlogBodyMismatch = reject(mixed) else { Issue.record("expected body mismatch"); return }
    }

    @Test func entryFromUnknownLog() {
        let other = TestSigstore(validFrom: Fixture.t0)
        let signed = other.signBlob(f.payload, other.options(at: f.signingTime))
        // Trusted root of `f.sigstore`, bundle from another instance: nothing in it is trusted.
        guard case .tlogUnknownLog = reject(signed) else { Issue.record("expected unknown log"); return }
    }

    @Test func noTransparencyLogEntry() {
        var o = f.options()
        o.tlog = false
        #expect(reject(f.sigstore.signBlob(f.payload, o)) == .tlogEntryMissing)
    }

    @Test func noVerifiedTimestamp() {
        let signed = editEntry(f.sigstore.signBlob(f.payload, f.options())) { e in
            e.removeValue(forKey: "inclusionPromise")
        }
        #expect(reject(signed) == .timestampMissing("0 verified, 1 required"))
    }

    @Test func timestampOverAnotherSignature() {
        var o = f.options()
        o.rfc3161 = true
        let a = f.sigstore.signBlob(f.payload, o)
        let b = f.sigstore.signBlob(f.payload, o)
        var mixed = a
        mixed.bundleJSON = editJSON(a.bundleJSON) { obj in
            var vm = obj["verificationMaterial"] as! [String: Any]
            vm["timestampVerificationData"] = ["rfc3161Timestamps": [["signedTimestamp": b.rfc3161Timestamp!.base64EncodedString()]]]
            obj["verificationMaterial"] = vm
        }
        // The bad timestamp is skipped and the SET's time counts, as in sigstore-go and sigstore-python.
        #expect(reject(mixed) == nil)
        // As the only timestamp it fails the threshold, and the reason is why it did not verify.
        #expect(reject(withoutSET(mixed)) == .timestampImprintMismatch)
        // A policy that requires a verified RFC 3161 timestamp is not satisfied by the SET's time.
        var tsaRequired = VerificationPolicy.identity(Fixture.identity)
        tsaRequired.signedTimestampThreshold = 1
        #expect(reject(mixed, policy: tsaRequired) == .timestampImprintMismatch)
        #expect(reject(a, policy: tsaRequired) == nil)
    }

    /// The bundle with its Rekor entry's SET removed (the inclusion proof stays): its only times are RFC 3161.
    func withoutSET(_ signed: TestSigstore.Signed) -> TestSigstore.Signed {
        editEntry(signed) { e in e.removeValue(forKey: "inclusionPromise") }
    }

    @Test func duplicateAndTooManyTimestampsAreRefused() {
        var o = f.options()
        o.rfc3161 = true
        let a = f.sigstore.signBlob(f.payload, o)
        func with(_ stamps: [Data]) -> TestSigstore.Signed {
            var copy = a
            copy.bundleJSON = editJSON(a.bundleJSON) { obj in
                var vm = obj["verificationMaterial"] as! [String: Any]
                vm["timestampVerificationData"] = ["rfc3161Timestamps": stamps.map { ["signedTimestamp": $0.base64EncodedString()] }]
                obj["verificationMaterial"] = vm
            }
            return copy
        }
        #expect(reject(with([a.rfc3161Timestamp!, a.rfc3161Timestamp!])) == .malformedBundle("duplicate RFC 3161 timestamps"))
        let many = (0..<33).map { i in f.sigstore.tsa.timestamp(a.signature, at: f.signingTime.addingTimeInterval(Double(i))) }
        #expect(reject(with(many)) == .malformedBundle("33 RFC 3161 timestamps (at most 32)"))
        #expect(reject(with(Array(many.prefix(32)))) == nil)
    }

    @Test func timestampFromUntrustedTSA() throws {
        var o = f.options()
        o.rfc3161 = false
        let signed = f.sigstore.signBlob(f.payload, o)
        let rogue = TestTSA(notBefore: Fixture.t0, notAfter: Fixture.t0.addingTimeInterval(1e8))
        let token = rogue.timestamp(signed.signature, at: f.signingTime, embedCertificates: true)
        var withTS = signed
        withTS.bundleJSON = editJSON(signed.bundleJSON) { obj in
            var vm = obj["verificationMaterial"] as! [String: Any]
            vm["timestampVerificationData"] = ["rfc3161Timestamps": [["signedTimestamp": token.base64EncodedString()]]]
            obj["verificationMaterial"] = vm
        }
        #expect(reject(withTS) == nil, "a SET-backed time is enough; the untrusted timestamp is skipped")
        guard case .timestampUntrusted = reject(withoutSET(withTS)) else { Issue.record("expected untrusted TSA"); return }
    }

    @Test func timestampOutsideCertificateValidity() {
        var o = f.options()
        o.rfc3161 = true
        let signed = f.sigstore.signBlob(f.payload, o)
        // Re-stamp the same signature an hour later: the TSA is trusted but the 10-minute leaf has expired.
        let late = f.sigstore.tsa.timestamp(signed.signature, at: f.signingTime.addingTimeInterval(3600))
        var copy = signed
        copy.bundleJSON = editJSON(signed.bundleJSON) { obj in
            var vm = obj["verificationMaterial"] as! [String: Any]
            vm["timestampVerificationData"] = ["rfc3161Timestamps": [["signedTimestamp": late.base64EncodedString()]]]
            obj["verificationMaterial"] = vm
        }
        guard case .certificateExpired = reject(copy) else { Issue.record("expected expired certificate"); return }
    }

    @Test func keyBundleRejectedUnderIdentityPolicy() {
        var o = f.options()
        o.keyless = false
        guard case .policyMismatch = reject(f.sigstore.signBlob(f.payload, o)) else { Issue.record("expected policy mismatch"); return }
    }
}

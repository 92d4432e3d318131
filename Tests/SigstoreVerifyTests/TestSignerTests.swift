import Crypto
import Foundation
import SigstoreTestSupport
@testable import SigstoreVerify
import Testing

@Suite("Positive cases built by the test signer")
struct TestSignerTests {
    let f = Fixture()

    @Test func keylessMessageSignatureVerifies() throws {
        let signed = f.sigstore.signBlob(f.payload, f.options())
        let result = try f.verify(signed)
        #expect(result.subjectAlternativeName == "https://github.com/sealgate/test/.github/workflows/release.yml@refs/heads/main")
        #expect(result.oidcIssuer == "https://token.actions.githubusercontent.com")
        #expect(result.extensions?.sourceRepositoryURI == "https://github.com/sealgate/test")
        #expect(result.timestamps.count == 1)
        #expect(result.timestamps.first?.time == Date(timeIntervalSince1970: (f.signingTime.timeIntervalSince1970).rounded(.down)))
    }

    @Test func keylessWithDigestOnlyAndRFC3161() throws {
        var o = f.options()
        o.rfc3161 = true
        let signed = f.sigstore.signBlob(f.payload, o)
        let result = try f.verify(signed, artifact: .digest(.sha256, Data(SHA256.hash(data: f.payload))))
        #expect(result.timestamps.contains { $0.source == .timestampAuthority })
        #expect(result.timestamps.count == 2)
    }

    @Test func rfc3161AloneSatisfiesTheTimestampThreshold() throws {
        var o = f.options()
        o.rfc3161 = true
        let signed = f.sigstore.signBlob(f.payload, o)
        // Drop the SET (keep the checkpointed inclusion proof): the TSA time is then the only verified time.
        let json = editJSON(signed.bundleJSON) { b in
            var vm = b["verificationMaterial"] as! [String: Any]
            var entries = vm["tlogEntries"] as! [[String: Any]]
            entries[0].removeValue(forKey: "inclusionPromise")
            vm["tlogEntries"] = entries
            b["verificationMaterial"] = vm
        }
        var copy = signed; copy.bundleJSON = json
        let result = try f.verify(copy)
        #expect(result.timestamps.map(\.source) == [.timestampAuthority])
    }

    @Test func dsseInTotoStatementVerifiesAgainstSubject() throws {
        let digest = Data(SHA256.hash(data: f.payload))
        let statement = TestSigstore.inTotoStatement(subjectName: "artifact", sha256: digest)
        let signed = f.sigstore.signDSSE(payload: statement, f.options())
        let result = try f.verify(signed)
        #expect(result.statement?.predicateType == "https://slsa.dev/provenance/v1")
        #expect(result.statement?.subjects.first?.name == "artifact")
        let other = rejection { _ = try f.verify(signed, artifact: .bytes(Data("other".utf8))) }
        #expect(other == .subjectDigestMismatch)
    }

    @Test func emailAndUsernameIdentitiesAndRegex() throws {
        var o = f.options()
        o.identity = TestIdentity(san: .email("dev@sealgate.test"), issuer: "https://accounts.example.com")
        let signed = f.sigstore.signBlob(f.payload, o)
        let policy = VerificationPolicy.identity(CertificateIdentity(
            issuer: try .regexp("^https://accounts\\.example\\.com$"), subjectAlternativeName: try .regexp("@sealgate\\.test$")))
        #expect(try f.verify(signed, policy: policy).subjectAlternativeName == "dev@sealgate.test")

        o.identity = TestIdentity(san: .username("octocat"), issuer: "https://issuer.example")
        let signed2 = f.sigstore.signBlob(f.payload, o)
        let policy2 = VerificationPolicy.identity(CertificateIdentity(issuer: .exact("https://issuer.example"), subjectAlternativeName: .exact("octocat")))
        #expect(try f.verify(signed2, policy: policy2).subjectAlternativeName == "octocat")
    }

    @Test func ed25519KeyBasedBundle() throws {
        var o = f.options()
        o.keyless = false
        o.signingKey = .newEd25519()
        let signed = f.sigstore.signBlob(f.payload, o)
        let key = try PublicKey(pem: o.signingKey.publicKeyPEM)
        #expect(key.scheme == .ed25519)
        _ = try f.verify(signed, policy: .key(key))
        // Ed25519 signs the whole message: a digest alone cannot verify it.
        let digestOnly = rejection { _ = try f.verify(signed, artifact: .digest(.sha256, Data(SHA256.hash(data: f.payload))), policy: .key(key)) }
        #expect(digestOnly != nil)
        let wrong = try PublicKey(pem: SigningKey.newEd25519().publicKeyPEM)
        #expect(rejection { _ = try f.verify(signed, policy: .key(wrong)) } == .signatureInvalid("message signature does not verify with the signer's key"))
    }

    @Test func rsaPSSKeyBasedBundle() throws {
        var o = f.options()
        o.keyless = false
        o.signingKey = .newRSAPSS()
        let signed = f.sigstore.signBlob(f.payload, o)
        let key = try PublicKey(pem: o.signingKey.publicKeyPEM, keyDetails: "PKIX_RSA_PSS_2048_SHA256")
        #expect(key.scheme == .rsaPSS)
        _ = try f.verify(signed, policy: .key(key))
        // Same key declared as PKCS#1 v1.5 must not accept a PSS signature.
        let pkcs1 = try PublicKey(pem: o.signingKey.publicKeyPEM)
        #expect(rejection { _ = try f.verify(signed, policy: .key(pkcs1)) } != nil)
        let wrong = try PublicKey(pem: SigningKey.newRSAPSS().publicKeyPEM, keyDetails: "PKIX_RSA_PSS_2048_SHA256")
        #expect(rejection { _ = try f.verify(signed, policy: .key(wrong)) } == .signatureInvalid("message signature does not verify with the signer's key"))
    }

    @Test func cosignRekorAnnotationRoundTrips() throws {
        let signed = f.sigstore.signBlob(f.payload, f.options())
        let entry = try TransparencyLogEntry(cosignBundleJSON: try #require(signed.cosignRekorBundle))
        let r = try RekorEntryVerifier(trustedRoot: f.sigstore.trustedRoot()).verify(entry)
        #expect(r.verifiedSET)
        #expect(r.integratedTime != nil)
        try RekorBodyMatcher.check(entry, content: .messageSignature(digest: nil, signature: signed.signature),
                                   signer: .certificate(der: PEM.der(try #require(signed.certificate))), artifact: .bytes(f.payload))
    }

    @Test func trustedRootWriterRoundTrips() throws {
        let root = try f.sigstore.trustedRoot()
        #expect(root.tlogs.count == 1 && root.ctlogs.count == 1)
        #expect(root.certificateAuthorities.first?.chain.count == 2)
        #expect(root.timestampAuthorities.first?.chain.count == 3)
    }
}

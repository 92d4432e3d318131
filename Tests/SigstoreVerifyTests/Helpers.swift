import Foundation
import SigstoreTestSupport
import SigstoreVerify
import Testing

/// Runs a verification and returns its typed rejection (nil if it verified). Untyped errors are test failures.
func rejection(_ body: () throws -> Void) -> SigstoreError? {
    do {
        try body()
        return nil
    } catch let e as SigstoreError {
        return e
    } catch {
        Issue.record("untyped error \(type(of: error)): \(error)")
        return nil
    }
}

/// Shared fixture: one test Sigstore instance and helpers to verify what it signs.
struct Fixture {
    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    let sigstore = TestSigstore(validFrom: t0)
    let signingTime = t0.addingTimeInterval(86400)
    var now: Date { signingTime.addingTimeInterval(3600) }
    let payload = Data("hello sealgate\n".utf8)

    static let identity = CertificateIdentity(
        issuer: .exact(TestIdentity.githubWorkflow.issuer),
        subjectAlternativeName: .exact("https://github.com/sealgate/test/.github/workflows/release.yml@refs/heads/main"))

    func options() -> TestSigstore.Options { sigstore.options(at: signingTime) }

    func verify(_ signed: TestSigstore.Signed, artifact: Artifact? = nil, policy: VerificationPolicy = .identity(Fixture.identity),
                root: TrustedRoot? = nil) throws -> VerificationResult {
        let bundle = try SigstoreBundle(json: signed.bundleJSON)
        return try BundleVerifier(trustedRoot: root ?? sigstore.trustedRoot())
            .verify(bundle: bundle, artifact: artifact ?? .bytes(payload), policy: policy, at: now)
    }
}

/// Edits bundle JSON as a dictionary (for tampering tests).
func editJSON(_ data: Data, _ edit: (inout [String: Any]) -> Void) -> Data {
    var obj = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    edit(&obj)
    return try! JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
}

import Foundation
import Registry
import RegistryTestSupport
import SigstoreTestSupport
import Testing
import TestSupport

/// Acceptance: GitHub's artifact-attestation policy (../shared/testdata/github-attestations/trust-policies.yaml)
/// enforced by `sealgate serve --policy`, with only its TrustRoot's TUF `remote` replaced by the `sigstoreKeys` of
/// the test Sigstore (the ClusterImagePolicy is used as written). Images are attested the way
/// `actions/attest-build-provenance` does: a Sigstore bundle (DSSE, SLSA v1) attached as an OCI referrer, signed by
/// Fulcio with an RFC 3161 timestamp, no Rekor entry and no SCT.
@Suite(.serialized)
struct GitHubAttestationPolicyTests {
    static let acme = TestIdentity(san: .uri("https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main"),
                                   issuer: "https://token.actions.githubusercontent.com")

    /// trust-policies.yaml with the TrustRoot document replaced by one holding `sigstore`'s keys.
    static func policies(sigstore: TestSigstore) throws -> String {
        let file = TestPaths.sharedTestdata.appendingPathComponent("github-attestations/trust-policies.yaml")
        try #require(FileManager.default.fileExists(atPath: file.path), "missing upstream test data \(file.path)")
        let documents = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n---\n")
        let kept = documents.filter { !$0.contains("kind: TrustRoot") }
        try #require(kept.count == documents.count - 1 && documents.contains { $0.contains("remote:") })
        return kept.joined(separator: "\n---\n") + "\n---\n" + sigstore.trustRootDocument(name: "github") + "\n"
    }

    @Test func bundleAttestationWithTimestampIsAdmittedOthersDenied() throws {
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let client = try registry.client()
        let sigstore = TestSigstore()
        var github = sigstore.options(at: Date())
        github.identity = Self.acme
        github.tlog = false
        github.rfc3161 = true
        github.ctLog = nil
        var otherOrg = github
        otherOrg.identity = .githubWorkflow

        func push(_ repo: String, attest: ((CosignImageSigner, TestImages.Pushed) throws -> Void)? = nil) throws {
            let image = try TestImages.pushImage(client, registry: registry.host, repository: repo, tag: "v1")
            let sink = TestImages.cosignSink(client, registry: registry.host, repository: repo)
            try attest?(CosignImageSigner(sigstore: sigstore, appendTagLayers: sink.appendTagLayers, pushReferrer: sink.pushReferrer), image)
        }
        func bundle(_ options: TestSigstore.Options, repo: String) -> (CosignImageSigner, TestImages.Pushed) throws -> Void {
            { signer, image in
                try signer.attestBundle(digest: image.digest, reference: "\(registry.host)/\(repo)", manifestMediaType: MediaType.ociManifest,
                                        manifestSize: image.manifestBytes.count, predicateType: "https://slsa.dev/provenance/v1",
                                        predicate: TestSigstore.slsaV1Predicate, options: options)
            }
        }
        try push("acme/attested", attest: bundle(github, repo: "acme/attested"))
        try push("acme/other-org", attest: bundle(otherOrg, repo: "acme/other-org"))
        // The same attestation in cosign's tag scheme: not what signatureFormat: bundle looks at.
        try push("acme/legacy") { signer, image in
            try signer.attest(digest: image.digest, reference: "\(registry.host)/acme/legacy", predicateType: "https://slsa.dev/provenance/v1",
                              predicate: TestSigstore.slsaV1Predicate, options: github)
        }
        try push("acme/unattested")

        let dir = try makeTemporaryDirectory("github-attestations")
        let policyFile = dir.appendingPathComponent("trust-policies.yaml")
        try Self.policies(sigstore: sigstore).write(to: policyFile, atomically: true, encoding: .utf8)
        let lint = try Subprocess.run(TestPaths.sealgateBinary.path, ["lint", policyFile.path])
        #expect(lint.status == 0 && lint.stdout.contains("1 valid policy, 0 error(s), 0 warning(s)"), "\(lint.stdout)")
        // No --trusted-root: the public-good root does not trust the test Sigstore; only TrustRoot "github" does.
        let server = try SealgateServer(arguments: ["--plaintext", "--policy", policyFile.path, "--insecure-registry", registry.host],
                                        environment: ["HOME": dir.path], directory: dir.path)
        defer { server.stop() }

        func admit(_ repo: String) throws -> (allowed: Bool, message: String) { try Self.admit("\(registry.host)/\(repo):v1", server, dir) }
        let attested = try admit("acme/attested")
        #expect(attested.allowed, "\(attested.message)")
        for repo in ["acme/other-org", "acme/legacy", "acme/unattested"] {
            let r = try admit(repo)
            #expect(!r.allowed, "\(repo) was admitted")
            #expect(r.message.contains("ClusterImagePolicy/github-policy"), "\(repo): \(r.message)")
        }
        // Why: the other organisation's identity; the tag-scheme attestation is not even looked at.
        // The step that rejected is named first: the certificate identity.
        #expect(try admit("acme/other-org").message.contains("authorities[0] (github): [identity] attestation require-attestation: verification failed: "
                                                             + "no attestation of type https://slsa.dev/provenance/v1 verified"))
        #expect(try admit("acme/other-org").message.contains("certificate identity 'https://github.com/sealgate/test/"))
        #expect(try admit("acme/legacy").message.contains("authorities[0] (github): attestation require-attestation: verification failed: "
                                                          + "no attestations of type https://slsa.dev/provenance/v1 found"))
    }

    /// `/validate` on a Pod running `image`: allowed, and the denial message.
    static func admit(_ image: String, _ server: SealgateServer, _ dir: URL) throws -> (allowed: Bool, message: String) {
        let review = dir.appendingPathComponent("review-\(UUID().uuidString).json")
        try #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"shop","operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"shop"},"spec":{"containers":[{"name":"c","image":"\#(image)"}]}}}}"#
            .write(to: review, atomically: true, encoding: .utf8)
        let out = try Subprocess.run("curl", ["-s", "-H", "content-type: application/json", "--data-binary", "@\(review.path)",
                                              server.baseURL + "/validate"]).stdout
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "\(out)")
        let response = try #require(object["response"] as? [String: Any])
        return (response["allowed"] as? Bool == true, ((response["status"] as? [String: Any])?["message"] as? String) ?? "")
    }

    @Test("key authority without ctlog admits a key-signed image with no Rekor entry; with ctlog the entry is required")
    func keyAuthorityTlogFollowsCtlog() throws {
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let client = try registry.client()
        let sigstore = TestSigstore()
        let key = SigningKey.newP256()
        var options = sigstore.options(at: Date())
        options.keyless = false
        options.signingKey = key
        options.tlog = false
        for repo in ["no-ctlog/app", "ctlog/app"] {
            let image = try TestImages.pushImage(client, registry: registry.host, repository: repo, tag: "v1")
            let sink = TestImages.cosignSink(client, registry: registry.host, repository: repo)
            try CosignImageSigner(sigstore: sigstore, appendTagLayers: sink.appendTagLayers, pushReferrer: sink.pushReferrer)
                .sign(digest: image.digest, reference: "\(registry.host)/\(repo)", options: options)
        }
        let pem = key.publicKeyPEM.replacingOccurrences(of: "\n", with: "\\n")
        func policy(_ name: String, _ extra: String) -> String {
            """
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata: {name: \(name)}
            spec:
              images: [{glob: "\(registry.host)/\(name)/**"}]
              authorities:
                - key: {data: "\(pem)"}
            \(extra)
            """
        }
        let dir = try makeTemporaryDirectory("key-tlog")
        let file = dir.appendingPathComponent("policies.yaml")
        try (policy("no-ctlog", "") + "\n---\n" + policy("ctlog", "      ctlog: {url: \"https://rekor.sealgate.test\"}"))
            .write(to: file, atomically: true, encoding: .utf8)
        let root = dir.appendingPathComponent("trusted_root.json")
        try sigstore.trustedRootJSON().write(to: root)
        let server = try SealgateServer(arguments: ["--plaintext", "--policy", file.path, "--trusted-root", root.path, "--insecure-registry", registry.host],
                                        environment: ["HOME": dir.path], directory: dir.path)
        defer { server.stop() }
        let noCtlog = try Self.admit("\(registry.host)/no-ctlog/app:v1", server, dir)
        #expect(noCtlog.allowed, "\(noCtlog.message)")
        let ctlog = try Self.admit("\(registry.host)/ctlog/app:v1", server, dir)
        #expect(!ctlog.allowed)
        #expect(ctlog.message.contains("ClusterImagePolicy/ctlog") && ctlog.message.contains("no Rekor bundle annotation"), "\(ctlog.message)")
    }
}

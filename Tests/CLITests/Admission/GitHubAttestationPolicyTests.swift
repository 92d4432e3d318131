import E2ESupport
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
        let world = try E2EWorld("github-attestations")
        defer { world.stop() }
        var github = world.keyless()
        github.identity = Self.acme
        github.tlog = false
        github.rfc3161 = true
        github.ctLog = nil
        var otherOrg = github
        otherOrg.identity = .githubWorkflow

        func push(_ repo: String, attest: ((CosignImageSigner, TestImages.Pushed) throws -> Void)? = nil) throws {
            let image = try world.pushImage(repo)
            try attest?(world.signer(repo), image)
        }
        func bundle(_ options: TestSigstore.Options, repo: String) -> (CosignImageSigner, TestImages.Pushed) throws -> Void {
            { signer, image in
                try signer.attestBundle(digest: image.digest, reference: world.ref(repo), manifestMediaType: MediaType.ociManifest,
                                        manifestSize: image.manifestBytes.count, predicateType: "https://slsa.dev/provenance/v1",
                                        predicate: TestSigstore.slsaV1Predicate, options: options)
            }
        }
        try push("acme/attested", attest: bundle(github, repo: "acme/attested"))
        try push("acme/other-org", attest: bundle(otherOrg, repo: "acme/other-org"))
        // The same attestation in cosign's tag scheme: not what signatureFormat: bundle looks at.
        try push("acme/legacy") { signer, image in
            try signer.attest(digest: image.digest, reference: world.ref("acme/legacy"), predicateType: "https://slsa.dev/provenance/v1",
                              predicate: TestSigstore.slsaV1Predicate, options: github)
        }
        try push("acme/unattested")

        let policyFile = try world.write(try Self.policies(sigstore: world.sigstore), to: "trust-policies.yaml")
        let lint = try world.sealgate(["lint", policyFile.path])
        #expect(lint.status == 0 && lint.stdout.contains("1 valid policy, 0 error(s), 0 warning(s)"), "\(lint.stdout)")
        // No --trusted-root: the public-good root does not trust the test Sigstore; only TrustRoot "github" does.
        let server = try world.serve(["--policy", policyFile.path, "--insecure-registry", world.host])
        defer { server.stop() }

        func admit(_ repo: String) throws -> (allowed: Bool, message: String) { try Self.admit(world.ref(repo, ":v1"), server, world) }
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
    static func admit(_ image: String, _ server: SealgateServer, _ world: E2EWorld) throws -> (allowed: Bool, message: String) {
        let review = AdmissionReviews.review(AdmissionReviews.object(spec: AdmissionReviews.podSpec([("c", image)])), uid: "u1")
        let response = try world.post(try AdmissionReviews.write(review, in: world.dir), to: server)
        return (response["allowed"] as? Bool == true, E2EWorld.message(response))
    }

    @Test("key authority without ctlog admits a key-signed image with no Rekor entry; with ctlog the entry is required")
    func keyAuthorityTlogFollowsCtlog() throws {
        let world = try E2EWorld("key-tlog")
        defer { world.stop() }
        let key = SigningKey.newP256()
        let options = world.keyed(key, tlog: false)
        for repo in ["no-ctlog/app", "ctlog/app"] {
            try world.signer(repo).sign(digest: try world.pushImage(repo).digest, reference: world.ref(repo), options: options)
        }
        let pem = key.publicKeyPEM.replacingOccurrences(of: "\n", with: "\\n")
        func policy(_ name: String, _ extra: String) -> String {
            """
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata: {name: \(name)}
            spec:
              images: [{glob: "\(world.host)/\(name)/**"}]
              authorities:
                - key: {data: "\(pem)"}
            \(extra)
            """
        }
        let file = try world.write(policy("no-ctlog", "") + "\n---\n" + policy("ctlog", "      ctlog: {url: \"https://rekor.sealgate.test\"}"),
                                   to: "policies.yaml")
        let server = try world.serve(["--policy", file.path] + world.trustFlags)
        defer { server.stop() }
        let noCtlog = try Self.admit(world.ref("no-ctlog/app", ":v1"), server, world)
        #expect(noCtlog.allowed, "\(noCtlog.message)")
        let ctlog = try Self.admit(world.ref("ctlog/app", ":v1"), server, world)
        #expect(!ctlog.allowed)
        #expect(ctlog.message.contains("ClusterImagePolicy/ctlog") && ctlog.message.contains("no Rekor bundle annotation"), "\(ctlog.message)")
    }
}

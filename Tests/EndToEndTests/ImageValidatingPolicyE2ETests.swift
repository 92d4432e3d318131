import Foundation
import Registry
import RegistryTestSupport
import SigstoreTestSupport
import Testing
import TestSupport

/// Acceptance of Kyverno ImageValidatingPolicy over the real loopback registry and `sealgate serve`: a cosign key
/// attestor and an SPDX attestation check admit and pin the signed and attested image and deny the others with the
/// failing validation's message; the equivalent ClusterPolicy decides the same; `required` denies a policy that
/// verifies nothing; a runaway expression is stopped by the cost limit and the server keeps answering.
@Suite(.serialized)
struct ImageValidatingPolicyE2ETests {
    static let spdx = "https://spdx.dev/Document"
    static let repos = ["ivp/good", "ivp/unsigned", "ivp/wrong-key", "ivp/no-sbom"]

    final class World {
        let registry: LocalRegistry
        let dir: URL
        let key = SigningKey.newP256()

        init() throws {
            registry = try LocalRegistry()
            dir = try makeTemporaryDirectory("ivp-e2e")
            let client = try registry.client()
            let sigstore = TestSigstore()
            let other = SigningKey.newP256()
            for repo in ImageValidatingPolicyE2ETests.repos {
                let image = try TestImages.pushImage(client, registry: registry.host, repository: repo, tag: "v1")
                let sink = TestImages.cosignSink(client, registry: registry.host, repository: repo)
                let signer = CosignImageSigner(sigstore: sigstore, appendTagLayers: sink.appendTagLayers, pushReferrer: sink.pushReferrer)
                var options = sigstore.options(at: Date())
                options.keyless = false
                options.tlog = false
                options.signingKey = repo == "ivp/wrong-key" ? other : key
                let reference = "\(registry.host)/\(repo)"
                if repo != "ivp/unsigned" { try signer.sign(digest: image.digest, reference: reference, options: options) }
                if repo == "ivp/good" || repo == "ivp/wrong-key" {
                    try signer.attest(digest: image.digest, reference: reference, predicateType: ImageValidatingPolicyE2ETests.spdx,
                                      predicate: ["spdxVersion": "SPDX-2.3", "name": repo], options: options)
                }
            }
        }

        var pem: String { key.publicKeyPEM.replacingOccurrences(of: "\n", with: "\\n") }

        func ivp(validations: String, name: String = "team-signed-with-sbom") -> String {
            """
            apiVersion: policies.kyverno.io/v1
            kind: ImageValidatingPolicy
            metadata: {name: \(name)}
            spec:
              validationActions: [Deny]
              validationConfigurations: {verifyDigest: false}
              matchConstraints:
                resourceRules:
                  - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods]}
              matchImageReferences:
                - glob: "\(registry.host)/ivp/*"
              attestors:
                - name: team
                  cosign:
                    key: {data: "\(pem)"}
                    ctlog: {insecureIgnoreTlog: true}
              attestations:
                - name: sbom
                  intoto: {type: "\(ImageValidatingPolicyE2ETests.spdx)"}
              validations:
            \(validations)
            """
        }

        var teamValidations: String {
            """
                - expression: "images.containers.map(image, verifyImageSignatures(image, [attestors.team])).all(e, e > 0)"
                  message: image is not signed by the team key
                - expression: "images.containers.all(image, verifyAttestationSignatures(image, attestations.sbom, [attestors.team]) > 0)"
                  message: image has no SBOM attestation signed by the team key
                - expression: "images.containers.all(image, extractPayload(image, attestations.sbom).spdxVersion.startsWith('SPDX-'))"
                  message: the SBOM is not an SPDX document
            """
        }

        /// The same requirement as a Kyverno ClusterPolicy.
        var clusterPolicy: String {
            """
            apiVersion: kyverno.io/v1
            kind: ClusterPolicy
            metadata: {name: team-signed-with-sbom}
            spec:
              validationFailureAction: Enforce
              webhookTimeoutSeconds: 30
              rules:
                - name: team
                  match: {any: [{resources: {kinds: [Pod]}}]}
                  verifyImages:
                    - imageReferences: ["\(registry.host)/ivp/*"]
                      verifyDigest: false
                      attestors: [{entries: [{keys: {publicKeys: "\(pem)", rekor: {ignoreTlog: true}}}]}]
                      attestations:
                        - type: "\(ImageValidatingPolicyE2ETests.spdx)"
                          attestors: [{entries: [{keys: {publicKeys: "\(pem)", rekor: {ignoreTlog: true}}}]}]
                          conditions: [{all: [{key: "{{ spdxVersion }}", operator: Equals, value: "SPDX-2.3"}]}]
            """
        }

        func serve(_ policies: String, name: String) throws -> SealgateServer {
            let file = dir.appendingPathComponent("\(name).yaml")
            try policies.write(to: file, atomically: true, encoding: .utf8)
            let lint = try Subprocess.run(TestPaths.sealgateBinary.path, ["lint", file.path])
            #expect(lint.status == 0, "\(lint.stdout)\(lint.stderr)")
            return try SealgateServer(arguments: ["--plaintext", "--policy", file.path, "--insecure-registry", registry.host],
                                      environment: ["HOME": dir.path], directory: dir.path)
        }

        /// POST a Pod review for `repo:v1` to `path`: (allowed, message, patch).
        func review(_ repo: String, _ server: SealgateServer, path: String = "/validate") throws -> (allowed: Bool, message: String, patch: String) {
            let file = dir.appendingPathComponent("review-\(UUID().uuidString).json")
            try #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"shop","operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"shop"},"spec":{"containers":[{"name":"c","image":"\#(registry.host)/\#(repo):v1"}]}}}}"#
                .write(to: file, atomically: true, encoding: .utf8)
            let out = try Subprocess.run("curl", ["-s", "-H", "content-type: application/json", "--data-binary", "@\(file.path)", server.baseURL + path]).stdout
            let object = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "\(out)")
            let response = try #require(object["response"] as? [String: Any])
            let patch = (response["patch"] as? String).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
            return (response["allowed"] as? Bool == true, ((response["status"] as? [String: Any])?["message"] as? String) ?? "", patch)
        }
    }

    @Test func keyAttestorAndSPDXAttestationOverTheRegistry() throws {
        let world = try World()
        defer { world.registry.stop() }
        let server = try world.serve(world.ivp(validations: world.teamValidations), name: "ivp")
        defer { server.stop() }
        let good = try world.review("ivp/good", server)
        #expect(good.allowed, "\(good.message)")
        let pinned = try world.review("ivp/good", server, path: "/mutate")
        #expect(pinned.patch.contains("\(world.registry.host)/ivp/good:v1@sha256:"), "\(pinned.patch)")
        for (repo, message) in [("ivp/unsigned", "image is not signed by the team key"), ("ivp/wrong-key", "image is not signed by the team key"),
                                ("ivp/no-sbom", "image has no SBOM attestation signed by the team key")] {
            let r = try world.review(repo, server)
            #expect(!r.allowed, "\(repo) was admitted")
            #expect(r.message.contains("ImageValidatingPolicy/team-signed-with-sbom: spec.validations: \(message)"), "\(repo): \(r.message)")
        }
        #expect(try world.review("ivp/no-sbom", server).message.contains("the SBOM is not an SPDX document") == false,
                "extractPayload of an unverified attestation is an error, reported as such, not as a false validation")
    }

    /// `sealgate test` on a kyverno-test.yaml whose results name the ImageValidatingPolicy (`isImageValidatingPolicy`),
    /// and `sealgate apply -o policyreport` over the same pods.
    @Test func kyvernoTestAndApplyReadImageValidatingPolicies() throws {
        let world = try World()
        defer { world.registry.stop() }
        let dir = world.dir.appendingPathComponent("kyverno-test")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try world.ivp(validations: world.teamValidations).write(to: dir.appendingPathComponent("policy.yaml"), atomically: true, encoding: .utf8)
        let pods = ["good": "ivp/good", "bad": "ivp/unsigned"].map { name, repo in
            "apiVersion: v1\nkind: Pod\nmetadata: {name: \(name), namespace: shop}\nspec:\n  containers: [{name: c, image: \"\(world.registry.host)/\(repo):v1\"}]\n"
        }.joined(separator: "---\n")
        try pods.write(to: dir.appendingPathComponent("pods.yaml"), atomically: true, encoding: .utf8)
        try """
            apiVersion: cli.kyverno.io/v1alpha1
            kind: Test
            metadata: {name: ivp}
            policies: [policy.yaml]
            resources: [pods.yaml]
            results:
              - {isImageValidatingPolicy: true, kind: Pod, policy: team-signed-with-sbom, resources: [good], result: pass}
              - {isImageValidatingPolicy: true, kind: Pod, policy: team-signed-with-sbom, resources: [bad], result: fail}
            """.write(to: dir.appendingPathComponent("kyverno-test.yaml"), atomically: true, encoding: .utf8)
        let test = try Subprocess.run(TestPaths.sealgateBinary.path, ["test", dir.path, "--insecure-registry", world.registry.host],
                                      environment: ["HOME": world.dir.path], timeout: 120)
        #expect(test.status == 0, "\(test.stdout)\(test.stderr)")
        #expect(test.stdout.contains("2 tests passed and 0 tests failed"), "\(test.stdout)")
        let apply = try Subprocess.run(TestPaths.sealgateBinary.path, ["apply", "--policy", dir.appendingPathComponent("policy.yaml").path,
                                                                        "--resource", dir.appendingPathComponent("pods.yaml").path,
                                                                        "--insecure-registry", world.registry.host, "--audit", "-o", "policyreport"],
                                       environment: ["HOME": world.dir.path], timeout: 120)
        #expect(apply.stdout.contains("policy: team-signed-with-sbom") && apply.stdout.contains("result: fail")
                && apply.stdout.contains("image is not signed by the team key"), "\(apply.stdout)\(apply.stderr)")
    }

    @Test func theEquivalentClusterPolicyDecidesTheSame() throws {
        let world = try World()
        defer { world.registry.stop() }
        let ivp = try world.serve(world.ivp(validations: world.teamValidations), name: "ivp")
        defer { ivp.stop() }
        let kyverno = try world.serve(world.clusterPolicy, name: "clusterpolicy")
        defer { kyverno.stop() }
        for repo in Self.repos {
            let a = try world.review(repo, ivp), b = try world.review(repo, kyverno)
            #expect(a.allowed == b.allowed, "\(repo): ImageValidatingPolicy \(a.allowed) (\(a.message)), ClusterPolicy \(b.allowed) (\(b.message))")
        }
        #expect(try world.review("ivp/good", kyverno).allowed)
    }

    @Test func requiredDeniesPoliciesThatVerifyNothing() throws {
        let world = try World()
        defer { world.registry.stop() }
        let server = try world.serve(world.ivp(validations: "    - expression: \"true\"", name: "verifies-nothing"), name: "nothing")
        defer { server.stop() }
        let r = try world.review("ivp/good", server)
        #expect(!r.allowed && r.message.contains("is not verified: no policy performed a signature or attestation check on it"), "\(r.message)")
    }

    @Test func aRunawayExpressionIsStoppedAndTheServerKeepsAnswering() throws {
        let world = try World()
        defer { world.registry.stop() }
        let runaway = "    - expression: \"lists.range(3000).all(i, lists.range(3000).all(j, lists.range(3000).all(k, i + j + k >= 0)))\""
        let server = try world.serve(world.ivp(validations: runaway, name: "runaway"), name: "runaway")
        defer { server.stop() }
        let started = Date()
        let r = try world.review("ivp/good", server)
        #expect(Date().timeIntervalSince(started) < 8)
        #expect(!r.allowed && r.message.contains("evaluation error: validations[0]:") && r.message.contains("cost"), "\(r.message)")
        #expect(try Subprocess.run("curl", ["-s", server.baseURL + "/healthz"]).stdout.hasPrefix("ok"))
        let again = try world.review("ivp/unsigned", server)
        #expect(!again.allowed && again.message.contains("cost"), "the next review is answered too: \(again.message)")
    }
}

import Foundation
import Registry
import RegistryTestSupport
import SigstoreTestSupport
import Testing
import E2ESupport
import TestSupport

/// Acceptance of Kyverno ImageValidatingPolicy over the real loopback registry and `sealgate serve`: a cosign key
/// attestor and an SPDX attestation check admit and pin the signed and attested image and deny the others with the
/// failing validation's message; the equivalent ClusterPolicy decides the same; `required` denies a policy that
/// verifies nothing; a runaway expression is stopped by the cost limit and the server keeps answering.
@Suite(.serialized)
struct ImageValidatingPolicyE2ETests {
    static let spdx = "https://spdx.dev/Document"
    static let repos = ["ivp/good", "ivp/unsigned", "ivp/wrong-key", "ivp/no-sbom"]

    /// The images of the suite in one `E2EWorld`: signed with the team key (and SPDX-attested), unsigned, signed and
    /// attested with another key, signed without an SBOM; and the policies and requests the tests use.
    final class World {
        let world: E2EWorld
        let key = SigningKey.newP256()
        var registry: LocalRegistry { world.registry }
        var dir: URL { world.dir }

        init() throws {
            world = try E2EWorld("ivp-e2e")
            let other = SigningKey.newP256()
            for repo in ImageValidatingPolicyE2ETests.repos {
                let image = try world.pushImage(repo)
                let signer = world.signer(repo)
                let options = world.keyed(repo == "ivp/wrong-key" ? other : key, tlog: false)
                if repo != "ivp/unsigned" { try signer.sign(digest: image.digest, reference: world.ref(repo), options: options) }
                if repo == "ivp/good" || repo == "ivp/wrong-key" {
                    try signer.attest(digest: image.digest, reference: world.ref(repo), predicateType: ImageValidatingPolicyE2ETests.spdx,
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
            let file = try world.write(policies, to: "\(name).yaml")
            let lint = try world.sealgate(["lint", file.path])
            #expect(lint.status == 0, "\(lint.stdout)\(lint.stderr)")
            return try world.serve(["--policy", file.path] + world.trustFlags)
        }

        /// POST a review of a Pod running `repo:v1` to `path`: (allowed, message, patch).
        func review(_ repo: String, _ server: SealgateServer, path: String = "/validate") throws -> (allowed: Bool, message: String, patch: String) {
            let file = try AdmissionReviews.write(AdmissionReviews.pod([world.ref(repo, ":v1")]), in: dir)
            let response = try world.post(file, to: server, path: path)
            let patch = (response["patch"] as? String).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
            return (response["allowed"] as? Bool == true, E2EWorld.message(response), patch)
        }
    }

    @Test func keyAttestorAndSPDXAttestationOverTheRegistry() throws {
        let world = try World()
        defer { world.world.stop() }
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
        // explain replays it with every check: the failing validation, the attestor's signature check, the attestation.
        let policyFile = world.dir.appendingPathComponent("ivp.yaml").path
        let podFile = try AdmissionReviews.write(AdmissionReviews.pod([world.world.ref("ivp/no-sbom", ":v1")]), in: world.dir)
        let explained = try world.world.sealgate(["explain", podFile, "--policy", policyFile] + world.world.trustFlags)
        #expect(explained.status == 1, "\(explained.stdout)\(explained.stderr)")
        for line in ["ImageValidatingPolicy/team-signed-with-sbom", "image has no SBOM attestation signed by the team key", "attestors[team]",
                     "attestations[sbom] attestors[team]"] {
            #expect(explained.stdout.contains(line), "explain lacks \(line): \(explained.stdout)")
        }
        #expect(try world.review("ivp/no-sbom", server).message.contains("the SBOM is not an SPDX document") == false,
                "extractPayload of an unverified attestation is an error, reported as such, not as a false validation")
    }

    /// `sealgate test` on a kyverno-test.yaml whose results name the ImageValidatingPolicy (`isImageValidatingPolicy`),
    /// and `sealgate apply -o policyreport` over the same pods.
    @Test func kyvernoTestAndApplyReadImageValidatingPolicies() throws {
        let world = try World()
        defer { world.world.stop() }
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
        let test = try world.world.sealgate(["test", dir.path, "--insecure-registry", world.registry.host])
        #expect(test.status == 0, "\(test.stdout)\(test.stderr)")
        #expect(test.stdout.contains("2 tests passed and 0 tests failed"), "\(test.stdout)")
        let apply = try world.world.sealgate(["apply", "--policy", dir.appendingPathComponent("policy.yaml").path, "--resource",
                                              dir.appendingPathComponent("pods.yaml").path, "--insecure-registry", world.registry.host,
                                              "--audit", "-o", "policyreport"])
        #expect(apply.stdout.contains("policy: team-signed-with-sbom") && apply.stdout.contains("result: fail")
                && apply.stdout.contains("image is not signed by the team key"), "\(apply.stdout)\(apply.stderr)")
    }

    /// An `images` expression finds images in any kind: a ConfigMap naming an image is decided like a Pod.
    @Test func imagesExpressionsCoverAnyKind() throws {
        let world = try World()
        defer { world.world.stop() }
        let policy = world.ivp(validations: """
                - expression: "images.configured.all(i, verifyImageSignatures(i, [attestors.team]) > 0)"
                  message: the configured image is not signed by the team key
            """).replacingOccurrences(of: "resources: [pods]}", with: "resources: [configmaps]}\n  images:\n    - {name: configured, expression: \"[object.data.image]\"}")
        let server = try world.serve(policy, name: "configmaps")
        defer { server.stop() }
        func review(_ repo: String) throws -> (Bool, String) {
            let configMap = #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","namespace":"shop"},"data":{"image":"\#(world.world.ref(repo, ":v1"))"}}"#
            let review = #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u2","kind":{"group":"","version":"v1","kind":"ConfigMap"},"resource":{"group":"","version":"v1","resource":"configmaps"},"namespace":"shop","operation":"CREATE","object":\#(configMap)}}"#
            let response = try world.world.post(try AdmissionReviews.write(review, in: world.dir), to: server)
            return (response["allowed"] as? Bool == true, E2EWorld.message(response))
        }
        #expect(try review("ivp/good").0)
        let unsigned = try review("ivp/unsigned")
        #expect(!unsigned.0 && unsigned.1.contains("the configured image is not signed by the team key"), "\(unsigned.1)")
    }

    @Test func theEquivalentClusterPolicyDecidesTheSame() throws {
        let world = try World()
        defer { world.world.stop() }
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
        defer { world.world.stop() }
        let server = try world.serve(world.ivp(validations: "    - expression: \"true\"", name: "verifies-nothing"), name: "nothing")
        defer { server.stop() }
        let r = try world.review("ivp/good", server)
        #expect(!r.allowed && r.message.contains("is not verified: no policy performed a signature or attestation check on it"), "\(r.message)")
    }

    @Test func aRunawayExpressionIsStoppedAndTheServerKeepsAnswering() throws {
        let world = try World()
        defer { world.world.stop() }
        let runaway = "    - expression: \"lists.range(3000).all(i, lists.range(3000).all(j, lists.range(3000).all(k, i + j + k >= 0)))\""
        let server = try world.serve(world.ivp(validations: runaway, name: "runaway"), name: "runaway")
        defer { server.stop() }
        let started = Date()
        let r = try world.review("ivp/good", server)
        #expect(Date().timeIntervalSince(started) < 8)
        #expect(!r.allowed && r.message.contains("evaluation error: validations[0]:") && r.message.contains("cost"), "\(r.message)")
        #expect(try world.world.curl(server, "/healthz").hasPrefix("ok"))
        let again = try world.review("ivp/unsigned", server)
        #expect(!again.allowed && again.message.contains("cost"), "the next review is answered too: \(again.message)")
    }
}

import E2ESupport
import Foundation
import SigstoreTestSupport
import Testing
import TestSupport

/// The seed scenario end to end with the built binary: a Kyverno policy requiring a keyless signature and an
/// SPDX attestation, a signed pod and an unsigned nginx pod in a loopback docker-registry, kyverno-test.yaml
/// files in both formats; then the same test offline from a `sealgate save` layout, and audit PolicyReports.
@Suite(.serialized)
struct SeedScenarioTests {
    final class World: @unchecked Sendable {
        let e2e: E2EWorld
        let tests: URL
        let signedDigest: String
        var registry: LocalRegistry { e2e.registry }
        var dir: URL { e2e.dir }
        var root: URL { e2e.trustedRootFile }

        init() throws {
            e2e = try E2EWorld("policytest", registry: .plain(accessLog: true))
            let host = e2e.host
            signedDigest = try e2e.pushSigned("app/signed", attestations: [("https://spdx.dev/Document", TestSigstore.spdxPredicate)])
            try e2e.pushImage("app/nginx", tag: "1.27")

            // tests/new (cli.kyverno.io/v1alpha1 Test) and tests/old (name/policies/resources/results).
            tests = e2e.dir.appendingPathComponent("tests")
            for sub in ["new", "old"] {
                let d = tests.appendingPathComponent(sub)
                try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
                try Self.policy(host: host).write(to: d.appendingPathComponent("policy.yaml"), atomically: true, encoding: .utf8)
                try Self.resources(host: host).write(to: d.appendingPathComponent("resources.yaml"), atomically: true, encoding: .utf8)
            }
            try Self.newTest(signed: "pass", unsigned: "fail").write(to: tests.appendingPathComponent("new/kyverno-test.yaml"), atomically: true, encoding: .utf8)
            try Self.patched(host: host, digest: signedDigest).write(to: tests.appendingPathComponent("new/patched.yaml"), atomically: true, encoding: .utf8)
            try Self.oldTest.write(to: tests.appendingPathComponent("old/kyverno-test.yaml"), atomically: true, encoding: .utf8)
        }

        static func policy(host: String) -> String {
            let subject = E2EWorld.subject, issuer = E2EWorld.issuer
            return """
            apiVersion: kyverno.io/v1
            kind: ClusterPolicy
            metadata:
              name: verify-image-sbom
            spec:
              validationFailureAction: Enforce
              webhookTimeoutSeconds: 30
              rules:
                - name: keyless-signature-and-spdx
                  match:
                    any:
                      - resources:
                          kinds: [Pod]
                  verifyImages:
                    - imageReferences: ["\(host)/app/*"]
                      mutateDigest: true
                      attestors:
                        - entries:
                            - keyless:
                                subject: "\(subject)"
                                issuer: "\(issuer)"
                                rekor: {url: "https://rekor.example"}
                      attestations:
                        - type: https://spdx.dev/Document
                          attestors:
                            - entries:
                                - keyless:
                                    subject: "\(subject)"
                                    issuer: "\(issuer)"
                                    rekor: {url: "https://rekor.example"}
                          conditions:
                            - all:
                                - key: "{{ spdxVersion }}"
                                  operator: Equals
                                  value: "SPDX-2.3"
            """
        }

        static func resources(host: String) -> String {
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: signed
            spec:
              containers:
                - name: app
                  image: \(host)/app/signed:v1
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: unsigned
            spec:
              containers:
                - name: nginx
                  image: \(host)/app/nginx:1.27
            """
        }

        /// The signed pod after the mutating webhook: pinned to its digest (mutateDigest).
        static func patched(host: String, digest: String) -> String {
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: signed
            spec:
              containers:
                - name: app
                  image: \(host)/app/signed:v1@\(digest)
            """
        }

        static func newTest(signed: String, unsigned: String) -> String {
            """
            apiVersion: cli.kyverno.io/v1alpha1
            kind: Test
            metadata:
              name: seed-scenario
            policies:
              - policy.yaml
            resources:
              - resources.yaml
            results:
              - policy: verify-image-sbom
                rule: keyless-signature-and-spdx
                resources: [signed]
                kind: Pod
                result: \(signed)
                patchedResources: patched.yaml
              - policy: verify-image-sbom
                rule: keyless-signature-and-spdx
                resources: [default/unsigned]
                kind: Pod
                result: \(unsigned)
            """
        }

        static let oldTest = """
            name: seed-scenario-old-format
            policies:
              - policy.yaml
            resources:
              - resources.yaml
            results:
              - policy: verify-image-sbom
                rule: keyless-signature-and-spdx
                resource: signed
                kind: Pod
                status: pass
              - policy: verify-image-sbom
                rule: keyless-signature-and-spdx
                resource: unsigned
                kind: Pod
                status: fail
            """

        var online: [String] { e2e.trustFlags }
    }

    static let world = Result { try World() }

    func sealgate(_ arguments: [String], stdin: Data? = nil) throws -> ProcessOutput {
        try Self.world.get().e2e.sealgate(arguments, stdin: stdin)
    }

    @Test("sealgate test passes both kyverno-test formats against the loopback registry")
    func testOnline() throws {
        let world = try Self.world.get()
        let run = try sealgate(["test", world.tests.path, "--detailed-results"] + world.online)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("Test Summary: 4 tests passed and 0 tests failed"), "\(run.stdout)")
        #expect(run.stdout.contains("v1/Pod/default/signed") && run.stdout.contains("v1/Pod/default/unsigned"), "\(run.stdout)")
        // Per image: the attestor that passed, and why the unsigned image failed.
        #expect(run.stdout.contains("attestations[0]: https://spdx.dev/Document: attestations verified"), "\(run.stdout)")
        #expect(run.stdout.contains("\(world.registry.host)/app/nginx:1.27: fail (keyless-signature-and-spdx: attestors[0]"), "\(run.stdout)")
    }

    @Test("a wrong expected result exits 1 and names the mismatching row")
    func wrongExpectation() throws {
        let world = try Self.world.get()
        let d = world.dir.appendingPathComponent("wrong")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        for f in ["policy.yaml", "resources.yaml", "patched.yaml"] {
            try? FileManager.default.removeItem(at: d.appendingPathComponent(f))
            try FileManager.default.copyItem(at: world.tests.appendingPathComponent("new/\(f)"), to: d.appendingPathComponent(f))
        }
        try World.newTest(signed: "pass", unsigned: "pass").write(to: d.appendingPathComponent("kyverno-test.yaml"), atomically: true, encoding: .utf8)
        let run = try sealgate(["test", d.path] + world.online)
        #expect(run.status == 1, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("Test Summary: 1 tests passed and 1 tests failed"), "\(run.stdout)")
        #expect(run.stdout.contains("Want pass, got fail"), "\(run.stdout)")
        #expect(run.stderr.contains("kyverno-test.yaml results[1]: verify-image-sbom/keyless-signature-and-spdx v1/Pod/default/unsigned: Want pass, got fail"),
                "\(run.stderr)")
        // A patched resource that is not what the mutating webhook makes is a mismatch too.
        try World.newTest(signed: "pass", unsigned: "fail").write(to: d.appendingPathComponent("kyverno-test.yaml"), atomically: true, encoding: .utf8)
        try World.patched(host: world.registry.host, digest: "sha256:" + String(repeating: "0", count: 64))
            .write(to: d.appendingPathComponent("patched.yaml"), atomically: true, encoding: .utf8)
        let patch = try sealgate(["test", d.path] + world.online)
        #expect(patch.status == 1, "\(patch.stdout)")
        #expect(patch.stderr.contains("results[0]: verify-image-sbom/keyless-signature-and-spdx v1/Pod/default/signed: patchedResources: /spec/containers/0/image: want"),
                "\(patch.stderr)")
        try World.patched(host: world.registry.host, digest: world.signedDigest).write(to: d.appendingPathComponent("patched.yaml"), atomically: true, encoding: .utf8)
        try World.newTest(signed: "pass", unsigned: "pass").write(to: d.appendingPathComponent("kyverno-test.yaml"), atomically: true, encoding: .utf8)

        let failOnly = try sealgate(["test", d.path, "--fail-only"] + world.online)
        #expect(failOnly.status == 1 && !failOnly.stdout.contains("v1/Pod/default/signed"), "\(failOnly.stdout)")

        let junit = try sealgate(["test", d.path, "-o", "junit"] + world.online)
        #expect(junit.status == 1)
        #expect(junit.stdout.contains("<testsuites tests=\"2\" failures=\"1\">") && junit.stdout.contains("<failure message=\"Want pass, got fail\">"),
                "\(junit.stdout)")
        let json = try sealgate(["test", d.path, "-o", "json"] + world.online)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]], "\(json.stdout)")
        #expect(rows.count == 2)
        #expect(rows.filter { $0["passed"] as? Bool == false }.map { $0["resource"] as? String } == ["v1/Pod/default/unsigned"])
        #expect(rows.first { $0["passed"] as? Bool == false }?["actual"] as? String == "fail")
    }

    @Test("sealgate save writes an OCI layout; sealgate test --offline passes without a single registry request")
    func offline() throws {
        let world = try Self.world.get()
        let layout = world.dir.appendingPathComponent("layout")
        let host = world.registry.host
        let save = try sealgate(["save", "\(host)/app/signed:v1", "\(host)/app/nginx:1.27", layout.path, "--insecure-registry", host])
        #expect(save.status == 0, "\(save.stdout)\n\(save.stderr)")
        #expect(save.stdout.contains("saved \(world.signedDigest)"), "\(save.stdout)")
        let index = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: layout.appendingPathComponent("index.json"))) as? [String: Any])
        let refs = (index["manifests"] as? [[String: Any]] ?? []).compactMap { ($0["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] }
        let hex = world.signedDigest.replacingOccurrences(of: ":", with: "-")
        #expect(Set(refs).isSuperset(of: ["\(host)/app/signed:v1", "\(host)/app/nginx:1.27", "\(host)/app/signed:\(hex).sig", "\(host)/app/signed:\(hex).att"]),
                "\(refs)")
        #expect(FileManager.default.fileExists(atPath: layout.appendingPathComponent("oci-layout").path))

        let before = world.registry.requests().count
        let run = try sealgate(["test", world.tests.path, "--offline", layout.path, "--trusted-root", world.root.path])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("Test Summary: 4 tests passed and 0 tests failed"), "\(run.stdout)")
        #expect(world.registry.requests().count == before, "offline runs must not reach the registry")

        // A tampered signature blob in the layout fails verification (offline reads are digest-checked).
        let tampered = world.dir.appendingPathComponent("tampered")
        try? FileManager.default.removeItem(at: tampered)
        try FileManager.default.copyItem(at: layout, to: tampered)
        let sigEntry = try #require((index["manifests"] as? [[String: Any]])?.first {
            ($0["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] == "\(host)/app/signed:\(hex).sig" })
        let blobs = tampered.appendingPathComponent("blobs/sha256")
        let sigManifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: blobs.appendingPathComponent(
            String((sigEntry["digest"] as! String).dropFirst(7))))) as? [String: Any])
        let layer = try #require((sigManifest["layers"] as? [[String: Any]])?.first?["digest"] as? String)
        try Data("{}".utf8).write(to: blobs.appendingPathComponent(String(layer.dropFirst(7))))
        let bad = try sealgate(["test", world.tests.appendingPathComponent("new").path, "--offline", tampered.path, "--trusted-root", world.root.path,
                                "--detailed-results"])
        #expect(bad.status == 1 && bad.stdout.contains("digest mismatch"), "\(bad.stdout)")

        // An image missing from the layout fails its row (not found offline), it never passes.
        let empty = world.dir.appendingPathComponent("empty-layout")
        #expect(try sealgate(["save", "\(host)/app/nginx:1.27", empty.path, "--insecure-registry", host]).status == 0)
        let missing = try sealgate(["test", world.tests.appendingPathComponent("new").path, "--offline", empty.path, "--trusted-root", world.root.path])
        #expect(missing.status == 1, "the signed image is not in this layout: its row must fail\n\(missing.stdout)")
        #expect(missing.stdout.contains("Want pass, got fail"), "\(missing.stdout)")
    }

    @Test("apply --audit -o policyreport over kubectl get pods -A -o json: PolicyReports that validate against the CRD")
    func policyReport() throws {
        let world = try Self.world.get()
        let host = world.registry.host
        let template = try String(contentsOf: TestPaths.fixtures.appendingPathComponent("policytest/pods-all-namespaces.json"), encoding: .utf8)
        let pods = world.dir.appendingPathComponent("pods.json")
        try template.replacingOccurrences(of: "REGISTRY", with: host).write(to: pods, atomically: true, encoding: .utf8)
        let policy = world.tests.appendingPathComponent("new/policy.yaml").path

        let report = try sealgate(["apply", "--policy", policy, "--cluster-json", pods.path, "--audit", "-o", "policyreport"] + world.online)
        #expect(report.status == 0, "\(report.stdout)\n\(report.stderr)")
        let validate = try Subprocess.run("python3", [TestPaths.fixtures.appendingPathComponent("policytest/validate_policyreport.py").path],
                                          stdin: Data(report.stdout.utf8))
        #expect(validate.status == 0 && validate.stdout.contains("ok"), "\(validate.stdout)\(validate.stderr)\n\(report.stdout)")
        // The validator is strict: a bad result value or an undeclared field is rejected.
        for broken in [report.stdout.replacingOccurrences(of: "result: fail", with: "result: failed"),
                       report.stdout.replacingOccurrences(of: "scored: true", with: "scored: true\n  verdict: x")] {
            let rejected = try Subprocess.run("python3", [TestPaths.fixtures.appendingPathComponent("policytest/validate_policyreport.py").path],
                                              stdin: Data(broken.utf8))
            #expect(rejected.status == 1, "\(rejected.stdout)")
        }
        #expect(report.stdout.contains("kind: PolicyReport") && report.stdout.contains("namespace: shop") && report.stdout.contains("namespace: billing"),
                "\(report.stdout)")
        #expect(!report.stdout.contains("kube-system"), "pods no policy covers get no result rows")

        // The same report as JSON for exact counts: shop has one pass and one fail, billing one fail (nginx sidecar).
        let json = try sealgate(["apply", "--policy", policy, "--cluster-json", pods.path, "--audit", "-o", "json"] + world.online)
        let outcomes = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]], "\(json.stdout)")
        func result(_ name: String) -> String? {
            outcomes.first { ($0["resource"] as? [String: Any])?["name"] as? String == name }?["result"] as? String
        }
        #expect(result("web-5d8f7c9b4-x2x7k") == "pass" && result("nginx") == "fail" && result("api") == "fail", "\(json.stdout)")

        // Without --audit, something would be denied: exit 1; stdin accepts the same List.
        let enforce = try sealgate(["apply", "--policy", policy, "-f", "-"] + world.online, stdin: Data(contentsOf: pods))
        #expect(enforce.status == 1, "\(enforce.stdout)\n\(enforce.stderr)")
        #expect(enforce.stderr.contains("would be denied") && enforce.stderr.contains("v1/Pod/shop/nginx"), "\(enforce.stderr)")
        #expect(enforce.stdout.contains("ClusterPolicy/verify-image-sbom"), "\(enforce.stdout)")
    }
}

import E2ESupport
import Foundation
import Testing
import TestSupport

/// Admission decisions through the real server, sent by Go's net/http over h2 as the API server does.
/// (Signature-based policies are covered where the test signer is available; these need no signatures.)
@Suite(.serialized)
struct AdmissionE2ETests {
    let world: E2EWorld
    let cert: E2EWorld.CertificateFiles

    init() throws {
        world = try E2EWorld("admission-e2e", registry: .none)
        cert = try world.issueCertificate(serial: 3003)
    }

    func start(policyDir: URL, _ extra: [String] = []) throws -> SealgateServer {
        try world.serve(["--policy", policyDir.path] + extra, tls: cert)
    }

    /// A Pod review whose containers use `images`.
    func review(_ images: [String], operation: String = "CREATE", dryRun: Bool = false) throws -> String {
        try AdmissionReviews.write(AdmissionReviews.pod(images, operation: operation, dryRun: dryRun), in: world.dir)
    }

    func decide(_ server: SealgateServer, _ reviewPath: String, timeout: String = "10s") throws -> [String: Any] {
        try world.decide(reviewPath, by: server, timeout: timeout)
    }

    func writePolicy(_ dir: URL, name: String, _ yaml: String) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(name).path
        let staging = path + ".tmp"
        try yaml.write(toFile: staging, atomically: true, encoding: .utf8)
        _ = rename(staging, path)
    }

    static func staticPolicy(_ name: String, glob: String, pass: Bool, message: String = "") -> String {
        """
        apiVersion: policy.sigstore.dev/v1beta1
        kind: ClusterImagePolicy
        metadata:
          name: \(name)
        spec:
          images:
            - glob: "\(glob)"
          authorities:
            - static:
                action: \(pass ? "pass" : "fail")
        \(message.isEmpty ? "" : "        message: \(message)")
        """
    }

    @Test("static policies: allowed image, denied image with the policy's message; no registry needed")
    func staticDecisions() throws {
        let policies = world.dir.appendingPathComponent("static")
        try writePolicy(policies, name: "allow.yaml", Self.staticPolicy("allow-shop", glob: "ghcr.io/example/**", pass: true))
        try writePolicy(policies, name: "block.yaml", Self.staticPolicy("block-evil", glob: "evil.example/**", pass: false, message: "evil.example is blocked"))
        let server = try start(policyDir: policies)
        defer { server.stop() }
        let ok = try decide(server, try review(["ghcr.io/example/web:v1"]))
        #expect(ok["allowed"] as? Bool == true)
        let denied = try decide(server, try review(["ghcr.io/example/web:v1", "evil.example/miner:latest"]))
        #expect(denied["allowed"] as? Bool == false)
        let status = try #require(denied["status"] as? [String: Any])
        #expect(status["code"] as? Int == 403)
        let message = status["message"] as? String ?? ""
        #expect(message.contains("image evil.example/miner:latest"), "\(message)")
        #expect(message.contains("ClusterImagePolicy/block-evil"), "\(message)")
        #expect(message.contains("evil.example is blocked"), "\(message)")
        #expect(!message.contains("ghcr.io/example/web"), "passing images are not listed: \(message)")
        // dryRun gets the same decision.
        let dry = try decide(server, try review(["evil.example/miner:latest"], dryRun: true))
        #expect(dry["allowed"] as? Bool == false)
        // DELETE is never checked.
        #expect(try decide(server, try review(["evil.example/miner:latest"], operation: "DELETE"))["allowed"] as? Bool == true)
        // Static authorities decide without the registry: not one request was made.
        let metrics = try world.curl(server, "/metrics")
        #expect(metrics.contains("sealgate_admission_decisions_total"), "metrics not served")
        #expect(!metrics.contains("sealgate_registry_requests_total{"), "static policies made registry requests")
    }

    @Test("policy hot reload: a valid change applies without restart; an invalid one is rejected and the old policies stay")
    func hotReload() throws {
        let policies = world.dir.appendingPathComponent("reload")
        try writePolicy(policies, name: "p.yaml", Self.staticPolicy("gate", glob: "ghcr.io/example/**", pass: true))
        let server = try start(policyDir: policies)
        defer { server.stop() }
        let image = try review(["ghcr.io/example/web:v1"])
        #expect(try decide(server, image)["allowed"] as? Bool == true)

        try writePolicy(policies, name: "p.yaml", Self.staticPolicy("gate", glob: "ghcr.io/example/**", pass: false, message: "frozen"))
        var allowed: Bool? = true
        for _ in 0..<50 where allowed == true {
            usleep(200_000)
            allowed = try decide(server, image)["allowed"] as? Bool
        }
        #expect(allowed == false, "the new policy was not picked up")

        try writePolicy(policies, name: "p.yaml", "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: broken}\nspec:\n  images: [{glob: \"[\"}]\n")
        var readyz = ""
        for _ in 0..<50 where !readyz.contains("last reload failed") {
            usleep(200_000)
            readyz = try world.curl(server, "/readyz")
        }
        #expect(readyz.contains("last reload failed"), "\(readyz)")
        #expect(readyz.contains("glob"), "the error names the field: \(readyz)")
        #expect(try decide(server, image)["allowed"] as? Bool == false, "the old policy must stay enforced")
        let metrics = try world.curl(server, "/metrics")
        #expect(metrics.contains("sealgate_policy_reload_errors_total 1"), "\(metrics)")
    }

    @Test("registry down or hanging: an answer before the timeout naming the registry; fail-open allows with a warning")
    func registryFailures() throws {
        let faulty = try FaultyRegistry()
        defer { faulty.stop() }
        let hangingHost = faulty.host
        let downHost = "127.0.0.1:\(try freeLoopbackPort())"
        let policies = world.dir.appendingPathComponent("keyless")
        try writePolicy(policies, name: "keyless.yaml", """
        apiVersion: policy.sigstore.dev/v1beta1
        kind: ClusterImagePolicy
        metadata:
          name: signed-only
        spec:
          images:
            - glob: "127.0.0.1*/**"
          authorities:
            - keyless:
                url: https://fulcio.sigstore.dev
                identities:
                  - issuer: https://token.actions.githubusercontent.com
                    subject: https://github.com/example/shop/.github/workflows/release.yml@refs/heads/main
        """)
        let server = try start(policyDir: policies, ["--insecure-registry", hangingHost, "--insecure-registry", downHost])
        defer { server.stop() }

        let down = try decide(server, try review(["\(downHost)/team/app:v1"]))
        #expect(down["allowed"] as? Bool == false)
        let downMessage = (down["status"] as? [String: Any])?["message"] as? String ?? ""
        #expect(downMessage.contains("registry \(downHost)"), "\(downMessage)")
        #expect(downMessage.contains("transient"), "\(downMessage)")

        let started = Date()
        let hang = try decide(server, try review(["\(hangingHost)/hang/app:v1"]), timeout: "3s")
        let elapsed = Date().timeIntervalSince(started)
        #expect(hang["allowed"] as? Bool == false)
        let hangMessage = (hang["status"] as? [String: Any])?["message"] as? String ?? ""
        #expect(hangMessage.contains(hangingHost) || hangMessage.contains("deadline"), "\(hangMessage)")
        #expect(elapsed < 3 + 2, "answered after \(elapsed) s; the API server would have given up at 3 s")

        let open = try start(policyDir: policies, ["--insecure-registry", downHost, "--fail-open"])
        defer { open.stop() }
        let allowed = try decide(open, try review(["\(downHost)/team/app:v1"]))
        #expect(allowed["allowed"] as? Bool == true)
        #expect((allowed["warnings"] as? [String])?.first?.contains(downHost) == true, "\(allowed)")
    }
}

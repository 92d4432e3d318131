import E2ESupport
import Foundation
import Testing
import TestSupport

/// Faults through the whole webhook: every registry failure mode of `faulty_registry.py`, a refusing port, TLS
/// errors, token failures, a 429 storm, vanished policy files and garbage certificate files. Each case must
/// get a decision before the API server's timeout that names the cause, and afterwards the server must still
/// be ready and answer a normal request at once (no wedged worker).
@Suite(.serialized)
struct FaultMatrixE2ETests {
    let world: E2EWorld

    init() throws {
        world = try E2EWorld("faults", registry: .none)
    }

    func decide(_ server: SealgateServer, _ image: String, count: Int = 1) throws -> (responses: [[String: Any]], seconds: Double) {
        let started = Date()
        let review = try AdmissionReviews.write(AdmissionReviews.review(AdmissionReviews.object(spec: AdmissionReviews.podSpec([("c", image)]))),
                                                in: world.dir)
        let sent = try world.send(review, to: server, count: count, timeout: "3s")
        #expect(sent.responses.count == count, "\(sent.summary)")
        return (sent.responses, Date().timeIntervalSince(started))
    }

    func message(_ r: [String: Any]) -> String { E2EWorld.message(r) }

    func readyz(_ server: SealgateServer) throws -> String { try world.curl(server, "/readyz", ["-w", " %{http_code}"]) }

    static let policy = """
    apiVersion: policy.sigstore.dev/v1beta1
    kind: ClusterImagePolicy
    metadata: {name: signed-only}
    spec:
      images: [{glob: "127.0.0.1*/**"}, {glob: "localhost*/**"}]
      authorities:
        - keyless:
            url: https://fulcio.sigstore.dev
            identities: [{issuer: "https://token.actions.githubusercontent.com", subject: "https://github.com/example/shop/.github/workflows/release.yml@refs/heads/main"}]
    ---
    apiVersion: policy.sigstore.dev/v1beta1
    kind: ClusterImagePolicy
    metadata: {name: static-ok}
    spec:
      images: [{glob: "ghcr.io/example/**"}]
      authorities: [{static: {action: pass}}]
    """

    @Test("registry faults: each denied before the deadline, naming the registry and the cause; the server stays ready")
    func registryFaults() throws {
        let faulty = try FaultyRegistry()
        defer { faulty.stop() }
        let host = faulty.host, tlsHost = "localhost:\(faulty.port)", refusing = "127.0.0.1:\(try freeLoopbackPort())"
        let policies = try world.write(Self.policy, to: "policies/p.yaml").deletingLastPathComponent()
        let server = try world.serve(["--policy", policies.path, "--insecure-registry", host, "--insecure-registry", refusing],
                                     tls: try world.issueCertificate(serial: 6006))
        defer { server.stop() }

        // (image, registry named in the message, words naming the cause — any one of them, transient?)
        let cases: [(String, String, [String], Bool)] = [
            ("\(host)/error500/app:v1", host, ["server error: HTTP 500"], true),
            ("\(host)/wrongdigest/app:v1", host, ["digest mismatch"], false),
            ("\(host)/huge/app:v1", host, ["too large"], false),
            ("\(host)/garbage/app:v1", host, ["not valid JSON"], false),
            ("\(host)/ratelimit/app:v1", host, ["rate limited"], true),
            ("\(host)/trickle/app:v1", host, ["timed out", "deadline"], true),
            ("\(host)/truncated/app:v1", host, ["truncated"], true),
            ("\(host)/tokenfail/app:v1", host, ["token server 127.0.0.1 answered 500"], true),
            ("\(host)/hang/app:v1", host, ["timed out", "deadline"], true),
            ("\(tlsHost)/error500/app:v1", tlsHost, ["TLS handshake"], true),
            ("\(refusing)/app:v1", refusing, ["unreachable", "refused"], true),
        ]
        for (image, registry, causes, transient) in cases {
            let (responses, seconds) = try decide(server, image)
            let r = try #require(responses.first)
            let text = message(r)
            #expect(r["allowed"] as? Bool == false, "\(image) was admitted")
            #expect(seconds < 3 + 1.5, "\(image): answered after \(seconds) s; the API server gives up at 3 s")
            #expect(text.contains(image), "\(image): \(text)")
            #expect(text.contains(registry) || text.contains("deadline"), "\(image): the registry is not named: \(text)")
            #expect(causes.contains { text.contains($0) }, "\(image): cause not named (\(causes)): \(text)")
            #expect(text.contains("transient, retry") == transient, "\(image): transient should be \(transient): \(text)")
            #expect(try readyz(server).hasSuffix(" 200"), "\(image): server not ready afterwards")
            // No wedged worker: a normal request is answered at once.
            let (ok, okSeconds) = try decide(server, "ghcr.io/example/web:v1")
            #expect(ok.first?["allowed"] as? Bool == true && okSeconds < 2, "\(image): normal request after the fault took \(okSeconds) s")
        }

        // A 429 storm: 100 admissions at once against a rate-limiting registry, all answered, quickly.
        let (storm, stormSeconds) = try decide(server, "\(host)/ratelimit/storm:v1", count: 100)
        #expect(storm.allSatisfy { $0["allowed"] as? Bool == false && message($0).contains("rate limited") }, "\(storm.first ?? [:])")
        #expect(stormSeconds < 3 + 1.5)
        #expect(try readyz(server).hasSuffix(" 200"))
    }

    @Test("policy files vanishing keep the last valid set; garbage certificate files keep the old certificate")
    func filesVanishAndTurnToGarbage() throws {
        let file = try world.write(Self.policy, to: "vanish/p.yaml")
        let cert = try world.issueCertificate(serial: 6007)
        let liveCert = world.dir.appendingPathComponent("tls.crt").path, liveKey = world.dir.appendingPathComponent("tls.key").path
        try FileManager.default.copyItem(atPath: cert.certificate, toPath: liveCert)
        try FileManager.default.copyItem(atPath: cert.key, toPath: liveKey)
        let server = try world.serve(["--policy", file.deletingLastPathComponent().path], tls: (liveCert, liveKey))
        defer { server.stop() }
        #expect(try decide(server, "ghcr.io/example/web:v1").responses.first?["allowed"] as? Bool == true)

        try FileManager.default.removeItem(at: file)
        try "garbage, not a certificate".write(toFile: liveCert, atomically: true, encoding: .utf8)
        try "garbage, not a key".write(toFile: liveKey, atomically: true, encoding: .utf8)
        // Give the watchers (2 s policy poll, 1 s certificate poll) time to notice.
        var ready = ""
        let deadline = Date().addingTimeInterval(10)
        repeat {
            usleep(300_000)
            ready = try readyz(server)
        } while !ready.contains("fail") && Date() < deadline
        // The old policies and the old certificate keep serving.
        #expect(try decide(server, "ghcr.io/example/web:v1").responses.first?["allowed"] as? Bool == true)
        #expect(try TestPKI.presentedSerial(port: server.port) == 6007)
        #expect(ready.hasSuffix(" 200") || ready.contains("fail"), "\(ready)")
        #expect(server.process.process.isRunning)
    }

    @Test("no secrets in logs or audit records: registry passwords and bearer tokens never appear, at the most verbose level")
    func noSecretsInLogs() throws {
        let faulty = try FaultyRegistry()
        defer { faulty.stop() }
        let host = faulty.host
        let basic = Data("alice:wonderland".utf8).base64EncodedString()
        try world.write(#"{"auths":{"\#(host)":{"auth":"\#(basic)"}}}"#, to: "home/.docker/config.json")
        let policies = try world.write(Self.policy, to: "secrets-policies/p.yaml").deletingLastPathComponent()
        let audit = world.dir.appendingPathComponent("audit.jsonl").path
        let server = try world.serve(["--policy", policies.path, "--insecure-registry", host, "--log-level", "trace", "--audit-file", audit],
                                     tls: try world.issueCertificate(serial: 6008))
        // The bearer flow runs (token fetched with the password, then used), then verification fails: logged and audited.
        let r = try #require(try decide(server, "\(host)/bearer/img:v1").responses.first)
        #expect(r["allowed"] as? Bool == false)
        #expect(message(r).contains("bearer/img") && !message(r).contains("unauthorized"), "credentials were not used: \(message(r))")
        server.stop()
        let logs = server.process.stderr + server.process.stdout + ((try? String(contentsOfFile: audit, encoding: .utf8)) ?? "")
        #expect(logs.contains("bearer/img"), "the denial was logged")
        for secret in ["wonderland", basic, "tok-123", "Bearer tok", "Basic "] {
            #expect(!logs.contains(secret), "secret '\(secret)' in the logs")
        }

        // The same password from a Docker credential helper (credHelpers), and a helper that fails printing it.
        let helpers = world.dir.appendingPathComponent("secret-helpers")
        try FileManager.default.createDirectory(at: helpers, withIntermediateDirectories: true)
        for (name, body) in [("alice", #"printf '{"Username":"alice","Secret":"wonderland"}'"#), ("broken", "echo wonderland; exit 2")] {
            let path = helpers.appendingPathComponent("docker-credential-\(name)").path
            try "#!/bin/sh\nread url || true\n\(body)\n".write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        for helper in ["alice", "broken"] {
            try world.write(#"{"credHelpers":{"\#(host)":"\#(helper)"}}"#, to: "home/.docker/config.json")
            let cert = try world.issueCertificate(serial: helper == "alice" ? 6009 : 6010)
            let viaHelper = try SealgateServer(arguments: ["--tls-cert", cert.certificate, "--tls-key", cert.key, "--policy", policies.path,
                                                           "--insecure-registry", host, "--log-level", "trace", "--audit-file", audit],
                                               environment: ["HOME": world.home.path, "PATH": helpers.path + ":/usr/bin:/bin"], directory: world.dir.path)
            let answer = try #require(try decide(viaHelper, "\(host)/bearer/img:v1").responses.first)
            #expect(answer["allowed"] as? Bool == false)
            if helper == "broken" { #expect(message(answer).contains("docker-credential-broken"), "\(message(answer))") }
            else { #expect(!message(answer).contains("unauthorized"), "the helper's credentials were not used: \(message(answer))") }
            viaHelper.stop()
            let text = viaHelper.process.stderr + viaHelper.process.stdout + ((try? String(contentsOfFile: audit, encoding: .utf8)) ?? "") + message(answer)
            for secret in ["wonderland", basic, "tok-123", "Bearer tok", "Basic "] {
                #expect(!text.contains(secret), "secret '\(secret)' in the logs or the answer (helper \(helper))")
            }
        }
    }
}

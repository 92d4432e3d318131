import E2ESupport
import Foundation
import Testing
import TestSupport

/// `config.json` `credHelpers` and `credsStore` naming a helper on PATH, against the real docker-registry with
/// htpasswd: `sealgate verify` and `sealgate serve` authenticate through it.
@Suite(.serialized)
struct CredentialHelperCLITests {
    static let password = "helper-s3cret"

    /// `docker-credential-sgtest`: answers for `host` only, and records each call in `calls`.
    static func helper(in world: E2EWorld, host: String) throws -> (dir: String, calls: String) {
        let dir = world.dir.appendingPathComponent("helpers")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let calls = dir.appendingPathComponent("calls").path
        let script = """
            #!/bin/sh
            read url || true
            echo "$1 $url" >> "\(calls)"
            if [ "$url" = "\(host)" ]; then printf '{"ServerURL":"%s","Username":"ci","Secret":"\(password)"}' "$url"; exit 0; fi
            echo "credentials not found in native keychain"; exit 1
            """
        let path = dir.appendingPathComponent("docker-credential-sgtest").path
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return (dir.path, calls)
    }

    static func callCount(_ calls: String) -> Int {
        ((try? String(contentsOfFile: calls, encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    @Test("sealgate verify and serve authenticate through credHelpers and credsStore; without the helper on PATH the error names it")
    func helpersAuthenticate() throws {
        let world = try E2EWorld("cred-helpers", registry: .tls(users: ["ci": Self.password]))
        defer { world.stop() }
        try world.pushSigned("private/app")
        let helper = try Self.helper(in: world, host: world.host)
        let path = helper.dir + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let env = ["HOME": world.home.path, "COSIGN_REPOSITORY": "", "PATH": path]
        let verify = ["verify", "--certificate-identity", E2EWorld.subject, "--certificate-oidc-issuer", E2EWorld.issuer,
                      "--trusted-root", world.trustedRootFile.path, "--registry-ca", world.pki.caCertificate, world.ref("private/app", ":v1")]

        try world.write(#"{"credHelpers":{"\#(world.host)":"sgtest"}}"#, to: "home/.docker/config.json")
        var out = try SealgateCLI.run(verify, environment: env)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(Self.callCount(helper.calls) >= 1)
        out = try SealgateCLI.run(verify, environment: ["HOME": world.home.path, "COSIGN_REPOSITORY": "", "PATH": "/usr/bin:/bin"])
        #expect(out.status == 1 && out.stderr.contains("docker-credential-sgtest") && out.stderr.contains("not on PATH"), "\(out.stderr)")

        try world.write(#"{"credsStore":"sgtest"}"#, to: "home/.docker/config.json")
        out = try SealgateCLI.run(verify, environment: env)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(!(out.stdout + out.stderr).contains(Self.password))

        // The server: the helper is asked once, then its answer is reused.
        try world.write(#"{"credHelpers":{"\#(world.host)":"sgtest"}}"#, to: "home/.docker/config.json")
        let policies = try world.writeKeylessPolicy(glob: "\(world.host)/private/**")
        let cert = try world.issueCertificate(serial: 2402)
        let server = try SealgateServer(arguments: ["--tls-cert", cert.certificate, "--tls-key", cert.key, "--policy", policies.path,
                                                    "--trusted-root", world.trustedRootFile.path, "--registry-ca", world.pki.caCertificate,
                                                    "--log-level", "trace"],
                                        environment: env, directory: world.dir.path)
        defer { server.stop() }
        let before = Self.callCount(helper.calls)
        for uid in ["first", "second"] {
            let review = try AdmissionReviews.write(AdmissionReviews.pod([world.ref("private/app", ":v1")], uid: uid), in: world.dir)
            let response = try world.decide(review, by: server)
            #expect(response["allowed"] as? Bool == true, "\(E2EWorld.message(response)) \(server.process.stderr.suffix(1500))")
        }
        try world.flushCaches(server)
        let review = try AdmissionReviews.write(AdmissionReviews.pod([world.ref("private/app", ":v1")]), in: world.dir)
        #expect(try world.decide(review, by: server)["allowed"] as? Bool == true)
        #expect(Self.callCount(helper.calls) - before == 1, "the helper's answer is cached across requests and registry cache flushes")
        server.stop()
        #expect(!(server.process.stderr + server.process.stdout).contains(Self.password))
    }
}

import Foundation
import KubernetesTestSupport
import Testing
import TestSupport

/// `sealgate serve --kubeconfig … --watch-policies` against the fake apiserver: /readyz waits for the
/// first full sync, then counts the cluster's policies.
@Suite(.serialized)
struct ServeClusterTests {
    func readyz(_ server: SealgateServer) throws -> (code: String, body: String) {
        let out = try Subprocess.run("curl", ["-sS", "--max-time", "5", "-w", "\n%{http_code}", server.baseURL + "/readyz"], timeout: 10)
        let lines = out.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (String(lines.last ?? ""), lines.dropLast().joined(separator: "\n"))
    }

    @Test func serveWatchesPoliciesThroughKubeconfig() async throws {
        let api = try FakeAPIServer()
        try api.put(Objects.cip, Objects.cip("from-cluster", glob: "registry.example/*"))
        // The first lists fail (410), so the server is observably not ready before its first sync.
        try api.control("list410", ["count": 2])
        let dir = try makeTemporaryDirectory("serve-kube")
        let kubeconfig = try api.writeKubeconfig(in: dir)
        let server = try SealgateServer(arguments: ["--plaintext", "--address", "127.0.0.1:0", "--kubeconfig", kubeconfig, "--watch-policies"],
                                        directory: dir.path)   // no ./policies there: cluster policies only
        defer { server.stop() }
        let first = try readyz(server)
        #expect(first.code == "503", "not ready before the first sync: \(first)")
        #expect(try await eventually(timeout: 20) { try readyz(server).code == "200" }, "\(server.process.stderr.suffix(2000))")
        let ready = try readyz(server)
        #expect(ready.body.contains("1 policies"), "\(ready)")
        try api.put(Objects.cip, Objects.cip("second", glob: "other.example/*"))
        #expect(try await eventually { try readyz(server).body.contains("2 policies") })
        // An invalid object is reported, the running set is unchanged.
        try api.put(Objects.cip, Objects.invalidCIP("second"))
        #expect(try await eventually { (try api.state()["events"]?.arrayValue ?? []).contains { $0["reason"] == "InvalidPolicy" } })
        #expect(try readyz(server).body.contains("2 policies"))
        let metrics = try Subprocess.run("curl", ["-sS", "--max-time", "5", server.baseURL + "/metrics"], timeout: 10).stdout
        #expect(metrics.contains("sealgate_policy_invalid_total 1"), "\(metrics.split(separator: "\n").filter { $0.contains("policy") })")
    }

    @Test func serveRejectsClusterFlagsWithoutAConnection() throws {
        let out = try SealgateCLI.run(["serve", "--plaintext", "--address", "127.0.0.1:0", "--watch-policies"], timeout: 30)
        #expect(out.status != 0 && out.stderr.contains("--watch-policies needs --kube"), "\(out.stderr)")
        let bad = try SealgateCLI.run(["serve", "--plaintext", "--address", "127.0.0.1:0", "--kubeconfig", "/nonexistent"], timeout: 30)
        #expect(bad.status != 0 && bad.stderr.contains("--kubeconfig") && bad.stderr.contains("/nonexistent"), "\(bad.stderr)")
    }
}

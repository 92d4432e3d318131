import Foundation
import ImagePolicy
import KubernetesAPI
import Logging
import TestSupport

/// Tests/Fixtures/kube/fake_apiserver.py on 127.0.0.1 with a TLS certificate from a test CA, plus a
/// token file the client reads (so a test can rotate it).
final class FakeAPIServer: @unchecked Sendable {
    let process: BackgroundProcess
    let port: UInt16
    let pki: TestPKI
    let directory: URL
    let tokenFile: String
    private let control: KubeClient

    init(token: String = "token-1", bookmarkInterval: Double = 0) throws {
        pki = try TestPKI()
        let cert = try pki.issueServerCertificate(name: "apiserver", serial: 7)
        directory = try makeTemporaryDirectory("fake-apiserver")
        tokenFile = directory.appendingPathComponent("token").path
        try token.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let script = TestPaths.fixtures.appendingPathComponent("kube/fake_apiserver.py").path
        process = try BackgroundProcess("python3", ["-u", script, "--cert", cert.certificate, "--key", cert.key, "--token", token,
                                                    "--bookmark-interval", String(bookmarkInterval)])
        guard process.waitForOutput(timeout: 20, { $0.contains("listening ") }),
              let line = process.stdout.split(separator: "\n").first(where: { $0.hasPrefix("listening ") }),
              let p = UInt16(line.split(separator: " ")[1]) else {
            process.stop()
            throw KubeError.transport("fake apiserver did not start: \(process.stderr)")
        }
        port = p
        control = try KubeClient(config: KubeConfig(host: "127.0.0.1", port: p, caPEM: FileManager.default.contents(atPath: pki.caCertificate),
                                                    credentials: .none))
    }

    deinit { process.stop() }

    var config: KubeConfig {
        KubeConfig(host: "127.0.0.1", port: port, caPEM: FileManager.default.contents(atPath: pki.caCertificate),
                   credentials: .tokenFile(tokenFile), namespace: "sealgate-system")
    }

    @discardableResult
    func control(_ what: String, _ body: JSONValue = .object([:])) throws -> JSONValue {
        try control.post("/_control/" + what, body)
    }

    /// A kubeconfig for this server (token from `tokenFile`, CA from `pki`) written into `dir`; returns its path.
    func writeKubeconfig(in dir: URL) throws -> String {
        let path = dir.appendingPathComponent("kubeconfig").path
        try """
        apiVersion: v1
        kind: Config
        current-context: test
        contexts: [{name: test, context: {cluster: fake, user: sa}}]
        clusters: [{name: fake, cluster: {server: "https://127.0.0.1:\(port)", certificate-authority: "\(pki.caCertificate)"}}]
        users: [{name: sa, user: {tokenFile: "\(tokenFile)"}}]
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func put(_ resource: String, _ object: JSONValue) throws { try control("put", ["resource": .string(resource), "object": object]) }

    func delete(_ resource: String, name: String) throws { try control("delete", ["resource": .string(resource), "name": .string(name)]) }

    func state() throws -> JSONValue { try control.get("/_control/state") }

    func counter(_ name: String) throws -> Int { Int(try state()[name]?.numberValue ?? -1) }
}

/// Polls `condition` (async sleeps, never blocking the pool for long) until it holds or `timeout` passes.
func eventually(timeout: Double = 15, _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        try? await Task.sleep(nanoseconds: 50_000_000)
    }
    return try condition()
}

enum Objects {
    static let cip = "clusterimagepolicies.policy.sigstore.dev"
    static let trustRoot = "trustroots.policy.sigstore.dev"
    static let kyverno = "clusterpolicies.kyverno.io"

    static func cip(_ name: String, glob: String) -> JSONValue {
        ["apiVersion": "policy.sigstore.dev/v1beta1", "kind": "ClusterImagePolicy", "metadata": ["name": .string(name)],
         "spec": ["images": [["glob": .string(glob)]], "authorities": [["static": ["action": "pass"]]]]]
    }

    /// An authority with none of key/keyless/static: rejected by the loader.
    static func invalidCIP(_ name: String) -> JSONValue {
        ["apiVersion": "policy.sigstore.dev/v1beta1", "kind": "ClusterImagePolicy", "metadata": ["name": .string(name)],
         "spec": ["images": [["glob": "bad.example/*"]], "authorities": [["name": "nothing"]]]]
    }
}

/// Short timings so reconnects and backoff happen within a test's bounded waits.
var fastTiming: Reflector.Timing {
    var t = Reflector.Timing()
    t.watchTimeoutSeconds = 60
    t.idleTimeout = 20
    t.initialBackoff = 0.05
    t.maxBackoff = 0.5
    return t
}

let testLogger: Logger = {
    var l = Logger(label: "kube-test")
    l.logLevel = .critical
    return l
}()

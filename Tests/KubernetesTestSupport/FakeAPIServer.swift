import Foundation
import ImagePolicy
import KubernetesAPI
import TestSupport

/// Tests/Fixtures/kube/fake_apiserver.py on 127.0.0.1 with a TLS certificate from a test CA, plus a
/// token file the client reads (so a test can rotate it). It implements the API server's documented wire format
/// for what sealgate uses: list/watch of any collection (Pods and workload controllers included), and get, create,
/// update (resourceVersion preconditions: 409 Conflict) and delete of namespaced and cluster-scoped objects such as
/// PolicyReports, ClusterPolicyReports and coordination.k8s.io/v1 Leases; the script's header lists its limits.
public final class FakeAPIServer: @unchecked Sendable {
    public let process: BackgroundProcess
    public let port: UInt16
    public let pki: TestPKI
    public let directory: URL
    public let tokenFile: String
    private let control: KubeClient

    public init(token: String = "token-1", bookmarkInterval: Double = 0) throws {
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

    public var config: KubeConfig {
        KubeConfig(host: "127.0.0.1", port: port, caPEM: FileManager.default.contents(atPath: pki.caCertificate),
                   credentials: .tokenFile(tokenFile), namespace: "sealgate-system")
    }

    @discardableResult
    public func control(_ what: String, _ body: JSONValue = .object([:])) throws -> JSONValue {
        try control.post("/_control/" + what, body)
    }

    /// A kubeconfig for this server (token from `tokenFile`, CA from `pki`) written into `dir`; returns its path.
    public func writeKubeconfig(in dir: URL) throws -> String {
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

    public func put(_ resource: String, _ object: JSONValue) throws { try control("put", ["resource": .string(resource), "object": object]) }

    public func delete(_ resource: String, name: String) throws { try control("delete", ["resource": .string(resource), "name": .string(name)]) }

    public func state() throws -> JSONValue { try control.get("/_control/state") }

    /// Every object write so far (method, resource, namespace, name, fieldManager, code, time), oldest first.
    public func writes() throws -> [JSONValue] { try control.get("/_control/writes")["writes"]?.arrayValue ?? [] }

    /// The stored objects of `resource` (`plural.group`, or the plural alone for core types).
    public func objects(_ resource: String) throws -> [JSONValue] {
        try control.get("/_control/objects?resource=" + resource)["items"]?.arrayValue ?? []
    }

    public func delete(_ resource: String, namespace: String, name: String) throws {
        try control("delete", ["resource": .string(resource), "name": .string(name), "namespace": .string(namespace)])
    }

    public func counter(_ name: String) throws -> Int { Int(try state()[name]?.numberValue ?? -1) }
}

public enum Objects {
    public static let cip = "clusterimagepolicies.policy.sigstore.dev"
    public static let trustRoot = "trustroots.policy.sigstore.dev"
    public static let kyverno = "clusterpolicies.kyverno.io"

    public static func cip(_ name: String, glob: String) -> JSONValue {
        ["apiVersion": "policy.sigstore.dev/v1beta1", "kind": "ClusterImagePolicy", "metadata": ["name": .string(name)],
         "spec": ["images": [["glob": .string(glob)]], "authorities": [["static": ["action": "pass"]]]]]
    }

    /// An authority with none of key/keyless/static: rejected by the loader.
    public static func invalidCIP(_ name: String) -> JSONValue {
        ["apiVersion": "policy.sigstore.dev/v1beta1", "kind": "ClusterImagePolicy", "metadata": ["name": .string(name)],
         "spec": ["images": [["glob": "bad.example/*"]], "authorities": [["name": "nothing"]]]]
    }
}

import Foundation
import Registry
import RegistryTestSupport
import SigstoreTestSupport
import Testing
import TestSupport

/// `serve` (over HTTP/2) and `explain -o review` run the same engine with the same options: for every
/// combination of mode, pinning, pin scope and failure policy they must give the same AdmissionReview answers.
@Suite(.serialized)
struct ServeExplainParityTests {
    /// A signed and an unsigned image in a loopback registry, a policy covering them and an unreachable registry.
    final class World: @unchecked Sendable {
        let registry: LocalRegistry
        let sigstore = TestSigstore()
        let pki: TestPKI
        let dir: URL
        let policy: URL
        let root: URL
        let reviews: [(name: String, json: String)]

        init() throws {
            registry = try LocalRegistry()
            let client = try registry.client()
            dir = try makeTemporaryDirectory("parity")
            pki = try TestPKI()
            try TestImages.pushSigned(client, registry: registry.host, repository: "parity/signed", sigstore: sigstore, options: sigstore.options(at: Date()))
            _ = try TestImages.pushImage(client, registry: registry.host, repository: "parity/unsigned", tag: "v1")
            root = dir.appendingPathComponent("trusted_root.json")
            try sigstore.trustedRootJSON().write(to: root)
            policy = dir.appendingPathComponent("policy.yaml")
            // 127.0.0.1:9 refuses connections: a transient failure, where --fail-open matters.
            try """
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata: {name: parity}
            spec:
              images: [{glob: "\(registry.host)/parity/**"}, {glob: "127.0.0.1:9/**"}]
              authorities:
                - keyless:
                    url: https://fulcio.example
                    identities: [{issuer: "\(TestIdentity.githubWorkflow.issuer)", subjectRegExp: "^https://github.com/sealgate/"}]
            """.write(to: policy, atomically: true, encoding: .utf8)
            let signed = "\(registry.host)/parity/signed:v1", unsigned = "\(registry.host)/parity/unsigned:v1"
            func review(_ uid: String, kind: String, _ images: [String], unmatched: Bool = false) -> String {
                let containers = images.enumerated().map { #"{"name":"c\#($0.offset)","image":"\#($0.element)"}"# }.joined(separator: ",")
                let spec = #"{"containers":[\#(containers)]}"#
                let object = kind == "Pod" ? #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"ns"},"spec":\#(spec)}"#
                    : #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"ns"},"spec":{"template":{"spec":\#(spec)}}}"#
                let (group, resource) = kind == "Pod" ? ("", "pods") : ("apps", "deployments")
                return #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"\#(uid)","kind":{"group":"\#(group)","version":"v1","kind":"\#(kind)"},"resource":{"group":"\#(group)","version":"v1","resource":"\#(resource)"},"namespace":"ns","operation":"CREATE","object":\#(object)}}"#
            }
            reviews = [
                ("signed pod", review("u-signed", kind: "Pod", [signed, "docker.io/library/unmatched:1"])),
                ("signed deployment", review("u-deploy", kind: "Deployment", [signed])),
                ("unsigned pod", review("u-unsigned", kind: "Pod", [signed, unsigned])),
                ("unreachable registry", review("u-down", kind: "Pod", [signed, "127.0.0.1:9/app:1"])),
            ]
        }

        deinit { registry.stop() }

        /// The response object of an AdmissionReview answer, keys sorted.
        static func response(_ body: String) throws -> String {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], "not JSON: \(body)")
            let response = try #require(object["response"], "no response: \(body)")
            return String(decoding: try JSONSerialization.data(withJSONObject: response, options: [.sortedKeys]), as: UTF8.self)
        }
    }

    static let world = Result { try World() }

    @Test("serve over HTTP/2 and explain -o review answer alike for every mode × pinning × pin-scope × fail-open")
    func table() throws {
        let world = try Self.world.get()
        let reviewFile = world.dir.appendingPathComponent("reviews.json")
        try world.reviews.map(\.json).joined(separator: "\n---\n").write(to: reviewFile, atomically: true, encoding: .utf8)
        let cert = try world.pki.issueServerCertificate(name: "parity", serial: 7007)
        var combinations = 0
        for mode in ["enforce", "warn", "audit"] {
            for pinning in ["tag-digest", "digest", "none"] {
                for scope in ["all", "pods", "require-digest"] {
                    for failOpen in [false, true] {
                        let flags = ["--policy", world.policy.path, "--trusted-root", world.root.path, "--insecure-registry", world.registry.host,
                                     "--insecure-registry", "127.0.0.1:9", "--mode", mode, "--pinning", pinning, "--pin-scope", scope]
                            + (failOpen ? ["--fail-open"] : [])
                        let label = flags.dropFirst(8).joined(separator: " ")
                        let server = try SealgateServer(arguments: ["--tls-cert", cert.certificate, "--tls-key", cert.key] + flags,
                                                        environment: ["HOME": world.dir.path], directory: world.dir.path)
                        defer { server.stop() }
                        for mutate in [false, true] {
                            let explained = try Subprocess.run(TestPaths.sealgateBinary.path,
                                                               ["explain", reviewFile.path, "-o", "review"] + (mutate ? ["--mutate"] : []) + flags,
                                                               environment: ["HOME": world.dir.path], timeout: 60)
                            let answers = explained.stdout.split(separator: "\n").map(String.init)
                            try #require(answers.count == world.reviews.count, "\(label): explain printed \(answers.count) answers: \(explained.stderr)")
                            for (i, review) in world.reviews.enumerated() {
                                let served = try Subprocess.run("curl", ["-s", "--http2", "--cacert", world.pki.caCertificate,
                                                                         "--connect-to", "localhost::127.0.0.1:", "-H", "content-type: application/json",
                                                                         "--data-binary", review.json,
                                                                         "https://localhost:\(server.port)/\(mutate ? "mutate" : "validate")"], timeout: 30)
                                #expect(try World.response(served.stdout) == World.response(answers[i]),
                                        "\(label) \(mutate ? "/mutate" : "/validate") \(review.name)")
                            }
                        }
                        combinations += 1
                    }
                }
            }
        }
        #expect(combinations == 54)
    }
}

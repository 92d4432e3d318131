import E2ESupport
import Foundation
import Testing
import TestSupport

/// `serve` (over HTTP/2) and `explain -o review` run the same engine with the same options: for every
/// combination of mode, pinning, pin scope and failure policy they must give the same AdmissionReview answers.
@Suite(.serialized)
struct ServeExplainParityTests {
    /// A signed and an unsigned image in a loopback registry, a policy covering them and an unreachable registry.
    final class World: @unchecked Sendable {
        let e2e: E2EWorld
        let policy: URL
        let reviews: [(name: String, json: String)]

        init() throws {
            e2e = try E2EWorld("parity")
            try e2e.pushSigned("parity/signed")
            try e2e.pushImage("parity/unsigned")
            // 127.0.0.1:9 refuses connections: a transient failure, where --fail-open matters.
            policy = try e2e.write("""
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata: {name: parity}
            spec:
              images: [{glob: "\(e2e.host)/parity/**"}, {glob: "127.0.0.1:9/**"}]
              authorities:
                - keyless:
                    url: https://fulcio.example
                    identities: [{issuer: "\(E2EWorld.issuer)", subjectRegExp: "^https://github.com/sealgate/"}]
            """, to: "policy.yaml")
            let signed = e2e.ref("parity/signed", ":v1"), unsigned = e2e.ref("parity/unsigned", ":v1")
            func review(_ uid: String, kind: AdmissionReviews.Kind, _ images: [String]) -> String {
                let object = AdmissionReviews.object(kind, name: kind == .pod ? "p" : "d", namespace: "ns",
                                                     spec: AdmissionReviews.podSpec(AdmissionReviews.numbered(images)))
                return AdmissionReviews.review(object, kind: kind, uid: uid, namespace: "ns")
            }
            reviews = [
                ("signed pod", review("u-signed", kind: .pod, [signed, "docker.io/library/unmatched:1"])),
                ("signed deployment", review("u-deploy", kind: .deployment, [signed])),
                ("unsigned pod", review("u-unsigned", kind: .pod, [signed, unsigned])),
                ("unreachable registry", review("u-down", kind: .pod, [signed, "127.0.0.1:9/app:1"])),
            ]
        }

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
        let e2e = world.e2e
        let reviewFile = try e2e.write(world.reviews.map(\.json).joined(separator: "\n---\n"), to: "reviews.json")
        let cert = try e2e.issueCertificate(serial: 7007, name: "parity")
        var combinations = 0
        for mode in ["enforce", "warn", "audit"] {
            for pinning in ["tag-digest", "digest", "none"] {
                for scope in ["all", "pods", "require-digest"] {
                    for failOpen in [false, true] {
                        let flags = ["--policy", world.policy.path] + e2e.trustFlags
                            + ["--insecure-registry", "127.0.0.1:9", "--mode", mode, "--pinning", pinning, "--pin-scope", scope]
                            + (failOpen ? ["--fail-open"] : [])
                        let label = flags.dropFirst(8).joined(separator: " ")
                        let server = try e2e.serve(flags, tls: cert)
                        defer { server.stop() }
                        for mutate in [false, true] {
                            let explained = try e2e.sealgate(["explain", reviewFile.path, "-o", "review"] + (mutate ? ["--mutate"] : []) + flags,
                                                             timeout: 60)
                            let answers = explained.stdout.split(separator: "\n").map(String.init)
                            try #require(answers.count == world.reviews.count, "\(label): explain printed \(answers.count) answers: \(explained.stderr)")
                            for (i, review) in world.reviews.enumerated() {
                                let served = try e2e.curl(server, mutate ? "/mutate" : "/validate",
                                                          ["--http2", "-H", "content-type: application/json", "--data-binary", review.json])
                                #expect(try World.response(served) == World.response(answers[i]),
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

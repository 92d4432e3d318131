import Foundation
import Registry
import RegistryTestSupport
import SigstoreTestSupport
import Testing
import TestSupport

/// Registry-traffic economy through the real server: a real docker-registry with an access log (every
/// request counted), three keyless-signed images, bursts sent by Go's net/http over h2.
@Suite(.serialized)
struct VerificationCacheE2ETests {
    final class World: @unchecked Sendable {
        let registry: LocalRegistry
        let sigstore = TestSigstore()
        let pki: TestPKI
        let dir: URL
        let policyFile: URL
        var server: SealgateServer!
        let repos = ["cache/a", "cache/b", "cache/c"]

        init() throws {
            registry = try LocalRegistry(accessLog: true)
            let client = try registry.client()
            dir = try makeTemporaryDirectory("cache-e2e")
            pki = try TestPKI()
            let options = sigstore.options(at: Date())
            for repo in repos {
                try TestImages.pushSigned(client, registry: registry.host, repository: repo, sigstore: sigstore, options: options)
            }
            let root = dir.appendingPathComponent("trusted_root.json")
            try sigstore.trustedRootJSON().write(to: root)
            let policies = dir.appendingPathComponent("policies")
            try FileManager.default.createDirectory(at: policies, withIntermediateDirectories: true)
            policyFile = policies.appendingPathComponent("cache.yaml")
            try policy(subjectRegExp: "^https://github.com/sealgate/.*").write(to: policyFile, atomically: true, encoding: .utf8)
            let cert = try pki.issueServerCertificate(name: "server", serial: 5005)
            server = try SealgateServer(arguments: ["--tls-cert", cert.certificate, "--tls-key", cert.key, "--policy", policies.path,
                                                   "--trusted-root", root.path, "--insecure-registry", registry.host],
                                        environment: ["HOME": dir.path], directory: dir.path)
        }

        deinit {
            server?.stop()
            registry.stop()
        }

        func policy(subjectRegExp: String) -> String {
            """
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata: {name: cache-keyless}
            spec:
              images: [{glob: "\(registry.host)/cache/**"}]
              authorities:
                - keyless:
                    url: https://fulcio.example
                    identities: [{issuer: "\(TestIdentity.githubWorkflow.issuer)", subjectRegExp: "\(subjectRegExp)"}]
            """
        }

        /// A Pod review running all three images by tag.
        func review(name: String = "web") throws -> String {
            let containers = repos.enumerated().map { #"{"name":"c\#($0.offset)","image":"\#(registry.host)/\#($0.element):v1"}"# }
                .joined(separator: ",")
            let uid = UUID().uuidString
            let json = #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"\#(uid)","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"shop","operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(name)","namespace":"shop"},"spec":{"containers":[\#(containers)]}}}}"#
            let path = dir.appendingPathComponent("review-\(uid).json").path
            try json.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        /// Sends the review `count` times at once; returns the responses without their uid.
        func send(_ review: String, count: Int = 1, mutate: Bool = false) throws -> [[String: Any]] {
            let summary = try GoClient.send(url: "https://localhost:\(server.port)/\(mutate ? "mutate" : "validate")", caFile: pki.caCertificate,
                                            body: review, count: count, timeout: "10s")
            #expect(summary["failed"] as? Int ?? 0 == 0, "\(summary["errors"] ?? "")")
            return (summary["bodies"] as? [[String: Any]] ?? []).compactMap { body in
                guard var response = body["response"] as? [String: Any] else { return nil }
                response["uid"] = nil
                return response
            }
        }

        /// Empties the server's caches (SIGUSR1) and waits until the flush is logged.
        func flush() throws {
            let before = server.process.stderr.components(separatedBy: "caches flushed").count
            server.process.signal(SIGUSR1)
            let deadline = Date().addingTimeInterval(10)
            while server.process.stderr.components(separatedBy: "caches flushed").count == before {
                guard Date() < deadline else { throw LocalRegistry.Unavailable(description: "SIGUSR1 flush not logged") }
                usleep(20_000)
            }
        }
    }

    static let world = Result { try World() }

    static func canonical(_ response: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: response, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test("a burst of 200 admissions of Pods sharing 3 images verifies each image once; every answer equals the cold one")
    func burst() throws {
        let world = try Self.world.get()
        try world.flush()
        let review = try world.review()
        var mark = world.registry.requests().count
        let cold = try world.send(review)
        let coldRequests = Array(world.registry.requests().dropFirst(mark))
        #expect(cold.first?["allowed"] as? Bool == true, "\(cold)")
        // Each image: tag → digest, then its signatures (referrers and/or the cosign tag, manifest, layers).
        for repo in world.repos {
            #expect(coldRequests.contains { $0.hasPrefix("HEAD /v2/\(repo)/manifests/v1") || $0.hasPrefix("GET /v2/\(repo)/manifests/v1") }, "\(coldRequests)")
            #expect(coldRequests.contains { $0.contains("/v2/\(repo)/") && $0.contains(".sig") }, "\(coldRequests)")
        }

        // Warm: nothing goes to the registry.
        mark = world.registry.requests().count
        let warm = try world.send(review, count: 20)
        #expect(world.registry.requests().count == mark, "warm admissions reached the registry: \(world.registry.requests().dropFirst(mark))")
        #expect(try warm.map(Self.canonical) == Array(repeating: try Self.canonical(cold[0]), count: 20))

        // Cold again, 200 at once: one verification per image, i.e. exactly the cold request set.
        try world.flush()
        mark = world.registry.requests().count
        let burst = try world.send(review, count: 200)
        let burstRequests = Array(world.registry.requests().dropFirst(mark))
        #expect(burst.count == 200)
        #expect(burstRequests.sorted() == coldRequests.sorted(), "burst: \(burstRequests.count) requests, cold: \(coldRequests.count)")
        let expected = try Self.canonical(cold[0])
        #expect(try burst.allSatisfy { try Self.canonical($0) == expected })

        // The mutating webhook pins from the same cached answers, still without registry traffic.
        mark = world.registry.requests().count
        let patched = try world.send(review, count: 50, mutate: true)
        #expect(world.registry.requests().count == mark)
        #expect(Set(try patched.map(Self.canonical)).count == 1 && patched.first?["patch"] != nil)

        // Cache statistics are exported.
        let metrics = try Subprocess.run("curl", ["-s", "--cacert", world.pki.caCertificate, "--connect-to", "localhost::127.0.0.1:",
                                                  "https://localhost:\(world.server.port)/metrics"]).stdout
        func value(_ name: String) -> Double {
            metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0
        }
        #expect(value("sealgate_verification_cache_hits_total") >= 200, "\(metrics)")
        #expect(value("sealgate_verification_cache_misses_total") >= 6)
        #expect(value("sealgate_verification_cache_hits_total") + value("sealgate_verification_cache_coalesced_total") >= 400)
    }

    @Test("registry down: denied as transient, naming the registry; after recovery admitted (nothing stale cached)")
    func transientThenRecovery() throws {
        let world = try Self.world.get()
        try world.flush()
        world.registry.stop()
        let down = try world.send(try world.review())
        let message = ((down.first?["status"] as? [String: Any])?["message"] as? String) ?? ""
        #expect(down.first?["allowed"] as? Bool == false)
        #expect(message.contains("transient"), "\(message)")
        #expect(message.contains(world.registry.host), "the message names the registry: \(message)")
        try world.registry.restart()
        let up = try world.send(try world.review())
        #expect(up.first?["allowed"] as? Bool == true, "\(up)")
    }

    @Test("a policy edit (identity changed) invalidates cached verdicts at once")
    func policyEdit() throws {
        let world = try Self.world.get()
        let review = try world.review()
        #expect(try world.send(review).first?["allowed"] as? Bool == true)
        defer { try? world.policy(subjectRegExp: "^https://github.com/sealgate/.*").write(to: world.policyFile, atomically: true, encoding: .utf8) }
        try world.policy(subjectRegExp: "^https://github.com/someone-else/.*").write(to: world.policyFile, atomically: true, encoding: .utf8)
        var allowed = true
        let deadline = Date().addingTimeInterval(15)
        while allowed && Date() < deadline {
            usleep(200_000)
            allowed = try world.send(review).first?["allowed"] as? Bool ?? true
        }
        #expect(!allowed, "the edited identity was answered from a stale cache")
        try world.policy(subjectRegExp: "^https://github.com/sealgate/.*").write(to: world.policyFile, atomically: true, encoding: .utf8)
        var back = false
        let deadline2 = Date().addingTimeInterval(15)
        while !back && Date() < deadline2 {
            usleep(200_000)
            back = try world.send(review).first?["allowed"] as? Bool ?? false
        }
        #expect(back)
    }
}

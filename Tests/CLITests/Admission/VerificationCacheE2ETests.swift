import E2ESupport
import Foundation
import Testing
import TestSupport

/// Registry-traffic economy through the real server: a real docker-registry with an access log (every
/// request counted), three keyless-signed images, bursts sent by Go's net/http over h2.
@Suite(.serialized)
struct VerificationCacheE2ETests {
    /// Three keyless-signed images in a registry with an access log, and a server whose policy covers them.
    final class World: @unchecked Sendable {
        let e2e: E2EWorld
        let server: SealgateServer
        let policyFile: URL
        let repos = ["cache/a", "cache/b", "cache/c"]
        var registry: LocalRegistry { e2e.registry }
        var dir: URL { e2e.dir }

        init() throws {
            e2e = try E2EWorld("cache-e2e", registry: .plain(accessLog: true))
            for repo in repos { try e2e.pushSigned(repo) }
            policyFile = try e2e.write(Self.policy(host: e2e.host, subjectRegExp: "^https://github.com/sealgate/.*"), to: "policies/cache.yaml")
            server = try e2e.serve(["--policy", policyFile.deletingLastPathComponent().path] + e2e.trustFlags,
                                     tls: try e2e.issueCertificate(serial: 5005))
        }

        deinit { server.stop() }

        static func policy(host: String, subjectRegExp: String) -> String {
            E2EWorld.keylessPolicy(name: "cache-keyless", glob: "\(host)/cache/**", subjectRegExp: subjectRegExp)
        }

        func setPolicy(subjectRegExp: String) throws {
            try Self.policy(host: e2e.host, subjectRegExp: subjectRegExp).write(to: policyFile, atomically: true, encoding: .utf8)
        }

        /// A Pod review running all three images by tag.
        func review(name: String = "web") throws -> String {
            let spec = AdmissionReviews.podSpec(AdmissionReviews.numbered(repos.map { e2e.ref($0, ":v1") }))
            return try AdmissionReviews.write(AdmissionReviews.review(AdmissionReviews.object(name: name, spec: spec)), in: dir)
        }

        /// Sends the review `count` times at once; returns the responses without their uid.
        func send(_ review: String, count: Int = 1, mutate: Bool = false) throws -> [[String: Any]] {
            let sent = try e2e.send(review, to: server, path: mutate ? "/mutate" : "/validate", count: count)
            #expect(sent.summary["failed"] as? Int ?? 0 == 0, "\(sent.summary["errors"] ?? "")")
            return sent.responses.map { response in
                var response = response
                response["uid"] = nil
                return response
            }
        }

        func flush() throws { try e2e.flushCaches(server) }

        func metrics() throws -> String { try e2e.curl(server, "/metrics") }
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
        let metrics = try world.metrics()
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
        defer { try? world.setPolicy(subjectRegExp: "^https://github.com/sealgate/.*") }
        try world.setPolicy(subjectRegExp: "^https://github.com/someone-else/.*")
        var allowed = true
        let deadline = Date().addingTimeInterval(15)
        while allowed && Date() < deadline {
            usleep(200_000)
            allowed = try world.send(review).first?["allowed"] as? Bool ?? true
        }
        #expect(!allowed, "the edited identity was answered from a stale cache")
        try world.setPolicy(subjectRegExp: "^https://github.com/sealgate/.*")
        var back = false
        let deadline2 = Date().addingTimeInterval(15)
        while !back && Date() < deadline2 {
            usleep(200_000)
            back = try world.send(review).first?["allowed"] as? Bool ?? false
        }
        #expect(back)
    }
}

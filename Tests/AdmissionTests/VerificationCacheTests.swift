import Admission
import Foundation
import ImagePolicy
import ImageReference
import Logging
import Testing

/// The verification cache: what is reused, for how long, what never is, and that a hit answers exactly like a miss.
struct VerificationCacheTests {
    /// Answers from a table by repository; counts calls; can be slowed down; material is settable.
    final class CountingVerifier: AuthorityVerifier, @unchecked Sendable {
        private let lock = NSLock()
        private var _calls = 0
        var outcomes: [String: AuthorityOutcome] = [:]
        var delay: UInt64 = 0
        var materialValue = VerificationMaterial(fingerprint: "root-1")

        var calls: Int { lock.lock(); defer { lock.unlock() }; return _calls }
        private func count() { lock.lock(); _calls += 1; lock.unlock() }

        func verifySignature(image: ImageRef, digest: String, authority: SignatureAuthority) async -> AuthorityOutcome {
            count()
            if delay > 0 { try? await Task.sleep(nanoseconds: delay) }
            return outcomes[image.repository] ?? .fail("no signatures found for \(image.repository)")
        }

        func verifyAttestations(image: ImageRef, digest: String, authority: SignatureAuthority?, predicateType: String) async -> AuthorityOutcome {
            count()
            var o = outcomes[image.repository] ?? .fail("no attestations")
            if o.passed { o.statements = [.object(["predicateType": .string(predicateType), "predicate": .object(["n": .number(Double(calls))])])] }
            return o
        }

        func material(for authority: SignatureAuthority?) -> VerificationMaterial { materialValue }
    }

    final class TestClock: @unchecked Sendable {
        private let lock = NSLock()
        private var value = Date(timeIntervalSince1970: 1_800_000_000)
        var now: Date { lock.lock(); defer { lock.unlock() }; return value }
        func advance(_ seconds: Double) { lock.lock(); value += seconds; lock.unlock() }
    }

    static let digest = "sha256:" + String(repeating: "ab", count: 32)

    static func authority(subject: String = "https://github.com/example/app/.github/workflows/release.yml@refs/heads/main") -> SignatureAuthority {
        SignatureAuthority(label: "authorities[0] (keyless)", trust: .keyless(KeylessTrust(identities: [
            KeylessIdentity(issuer: .exact("https://token.actions.githubusercontent.com"), subject: .exact(subject)),
        ])))
    }

    func setup(_ adjust: (inout VerificationCache.Settings) -> Void = { _ in }) -> (CountingVerifier, TestClock, VerificationCache) {
        let inner = CountingVerifier()
        inner.outcomes["example/signed"] = .pass("verified 1 signature", signatures: [.object(["subject": .string("release.yml")])])
        inner.outcomes["example/flaky"] = .fail("registry ghcr.io: GET signatures: timeout: timed out after 2.0 s", transient: true)
        let clock = TestClock()
        var settings = VerificationCache.Settings()
        adjust(&settings)
        return (inner, clock, VerificationCache(wrapping: inner, settings: settings, clock: { clock.now }))
    }

    func image(_ repo: String) throws -> ImageRef { try ImageRef(parsing: "ghcr.io/\(repo):v1") }

    @Test("a hit returns the very outcome of the miss (reason, signatures, attestation statements) without calling the verifier")
    func hitEqualsMiss() async throws {
        let (inner, _, cache) = setup()
        let first = await cache.verifySignature(image: try image("example/signed"), digest: Self.digest, authority: Self.authority())
        let second = await cache.verifySignature(image: try image("example/signed"), digest: Self.digest, authority: Self.authority())
        #expect(inner.calls == 1)
        #expect(first.passed && second.passed && first.reason == second.reason && first.signatures == second.signatures)
        let att1 = await cache.verifyAttestations(image: try image("example/signed"), digest: Self.digest, authority: Self.authority(), predicateType: "https://spdx.dev/Document")
        let att2 = await cache.verifyAttestations(image: try image("example/signed"), digest: Self.digest, authority: Self.authority(), predicateType: "https://spdx.dev/Document")
        #expect(inner.calls == 2, "signatures and attestations are cached separately, each once")
        #expect(!att1.statements.isEmpty && att1.statements == att2.statements)
        // Another predicate type, digest or repository is another question.
        _ = await cache.verifyAttestations(image: try image("example/signed"), digest: Self.digest, authority: Self.authority(), predicateType: "https://slsa.dev/provenance/v1")
        _ = await cache.verifySignature(image: try image("example/signed"), digest: "sha256:" + String(repeating: "cd", count: 32), authority: Self.authority())
        _ = await cache.verifySignature(image: try image("example/other"), digest: Self.digest, authority: Self.authority())
        #expect(inner.calls == 5)
    }

    @Test("passes live the positive TTL; permanent failures the short one; transient failures are never reused")
    func lifetimes() async throws {
        let (inner, clock, cache) = setup { $0.positiveTTL = 600; $0.negativeTTL = 30 }
        let a = Self.authority()
        func run(_ repo: String) async throws -> AuthorityOutcome {
            await cache.verifySignature(image: try image(repo), digest: Self.digest, authority: a)
        }
        _ = try await run("example/signed")
        _ = try await run("example/unsigned")
        _ = try await run("example/flaky")
        #expect(inner.calls == 3)
        clock.advance(29)
        _ = try await run("example/signed")
        _ = try await run("example/unsigned")
        let flaky = try await run("example/flaky")
        #expect(inner.calls == 4, "only the transient failure was verified again")
        #expect(flaky.transient && !flaky.passed)
        clock.advance(2)  // 31 s: the permanent failure has expired, the pass has not
        _ = try await run("example/signed")
        _ = try await run("example/unsigned")
        #expect(inner.calls == 5)
        clock.advance(600)
        _ = try await run("example/signed")
        #expect(inner.calls == 6)
    }

    @Test("a changed authority (policy edit) or trust material misses; the material's expiry caps the TTL")
    func keyedByContent() async throws {
        let (inner, clock, cache) = setup()
        let img = try image("example/signed")
        _ = await cache.verifySignature(image: img, digest: Self.digest, authority: Self.authority())
        _ = await cache.verifySignature(image: img, digest: Self.digest, authority: Self.authority(subject: "https://github.com/other/repo/x.yml@refs/heads/main"))
        #expect(inner.calls == 2, "an identity change is a different question")
        inner.materialValue = VerificationMaterial(fingerprint: "root-2", expires: clock.now.addingTimeInterval(60))
        _ = await cache.verifySignature(image: img, digest: Self.digest, authority: Self.authority())
        #expect(inner.calls == 3, "a new trust root is a different question")
        clock.advance(59)
        _ = await cache.verifySignature(image: img, digest: Self.digest, authority: Self.authority())
        #expect(inner.calls == 3)
        clock.advance(2)
        _ = await cache.verifySignature(image: img, digest: Self.digest, authority: Self.authority())
        #expect(inner.calls == 4, "the pass must not outlive the trust root's validity")
    }

    @Test("concurrent identical lookups share one verification; flush forgets everything")
    func singleFlightAndFlush() async throws {
        let (inner, _, cache) = setup()
        inner.delay = 200_000_000
        let img = try image("example/signed")
        let outcomes = await withTaskGroup(of: AuthorityOutcome.self) { group in
            for _ in 0..<50 { group.addTask { await cache.verifySignature(image: img, digest: Self.digest, authority: Self.authority()) } }
            return await group.reduce(into: [AuthorityOutcome]()) { $0.append($1) }
        }
        #expect(outcomes.count == 50 && outcomes.allSatisfy(\.passed))
        #expect(inner.calls == 1)
        #expect(cache.count == 1)
        cache.flush()
        #expect(cache.count == 0)
        _ = await cache.verifySignature(image: img, digest: Self.digest, authority: Self.authority())
        #expect(inner.calls == 2)
    }

    @Test("bounded: the oldest-expiring entries are evicted past maxEntries")
    func bounded() async throws {
        let (_, _, cache) = setup { $0.maxEntries = 10 }
        for i in 0..<25 {
            _ = await cache.verifySignature(image: try image("example/repo\(i)"), digest: Self.digest, authority: Self.authority())
        }
        #expect(cache.count <= 10)
    }

    @Test("through the decider: the cached decision is identical to the cold one, message and checks included")
    func deciderHitEqualsMiss() async throws {
        let inner = CountingVerifier()
        let cache = VerificationCache(wrapping: inner)
        let policies = try PolicyLoader.load(text: PolicyDeciderTests.policyYAML, file: "test.yaml").get()
        let decider = PolicyDecider(store: PolicyStore(policies: policies), resolver: PolicyDeciderTests.FakeResolver(), verifier: cache,
                                    settings: AdmissionSettings(), logger: Logger(label: "test"))
        let request = try PolicyDeciderTests.podRequest(["ghcr.io/example/unsigned:v1", "ghcr.io/example/app:v2"])
        let cold = await decider.explain(request, mutating: false, timeout: 10)
        let warm = await decider.explain(request, mutating: false, timeout: 10)
        #expect(inner.calls == 2)
        #expect(!cold.response.allowed)
        #expect(cold.response.status?.message == warm.response.status?.message)
        #expect(cold.images.map(\.checks) == warm.images.map(\.checks))
        #expect(cold.images.flatMap(\.checks).contains { $0.policy == "ClusterImagePolicy/shop-keyless" && $0.check == "signature" && $0.result == "fail" })
    }
}

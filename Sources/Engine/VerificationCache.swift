import Foundation
import ImagePolicy
import ImageReference
import Metrics
import Registry

/// Remembers verifier answers so one image deployed a thousand times is verified once.
///
/// Keyed by everything an answer depends on: repository and digest (never a tag), the authority by
/// value (keys, identities, tlog/CT settings — a policy edit changes it), the predicate type, and the
/// content hash of the trust material (trust root, secrets' keys), and the identity of the request's pull secrets
/// (a request without them must not reuse what was read with them). Passes live `positiveTTL`, capped by
/// the material's expiry; permanent failures `negativeTTL` (absorbs storms of a bad image); transient
/// failures are never kept. Concurrent identical lookups share one verification. A hit returns the
/// stored outcome itself, so decisions, messages and attestation data are the same as on a miss.
public final class VerificationCache: AuthorityVerifier, @unchecked Sendable {
    public struct Settings: Sendable {
        public var positiveTTL: Double = 600
        public var negativeTTL: Double = 30
        public var maxEntries = 10_000
        public init() {}
    }

    struct Key: Hashable {
        var attestation: Bool
        var repository: String
        var digest: String
        var authority: SignatureAuthority?
        var predicateType: String
        var material: String
        var credentials: String = RequestCredentials.current?.identity ?? ""
    }

    private struct Entry {
        var outcome: AuthorityOutcome
        var expires: Date
    }

    private let inner: any AuthorityVerifier
    private let settings: Settings
    private let clock: @Sendable () -> Date
    private let lock = NSLock()
    private var entries: [Key: Entry] = [:]
    private var running: [Key: Task<AuthorityOutcome, Never>] = [:]
    /// Bumped by `flush`: answers of verifications started before a flush are not stored.
    private var generation = 0
    private let hits = Counter(label: "sealgate_verification_cache_hits_total")
    private let misses = Counter(label: "sealgate_verification_cache_misses_total")
    private let evictions = Counter(label: "sealgate_verification_cache_evictions_total")
    private let coalesced = Counter(label: "sealgate_verification_cache_coalesced_total")

    public init(wrapping inner: any AuthorityVerifier, settings: Settings = Settings(), clock: @escaping @Sendable () -> Date = { Date() }) {
        self.inner = inner
        self.settings = settings
        self.clock = clock
    }

    public func verifySignature(image: ImageRef, digest: String, authority: SignatureAuthority) async -> AuthorityOutcome {
        let material = inner.material(for: authority)
        let key = Key(attestation: false, repository: image.name, digest: digest, authority: authority, predicateType: "", material: material.fingerprint)
        let inner = self.inner
        return await lookup(key, expires: material.expires) {
            await inner.verifySignature(image: image, digest: digest, authority: authority)
        }
    }

    public func verifyAttestations(image: ImageRef, digest: String, authority: SignatureAuthority?, predicateType: String) async -> AuthorityOutcome {
        let material = inner.material(for: authority)
        let key = Key(attestation: true, repository: image.name, digest: digest, authority: authority, predicateType: predicateType,
                      material: material.fingerprint)
        let inner = self.inner
        return await lookup(key, expires: material.expires) {
            await inner.verifyAttestations(image: image, digest: digest, authority: authority, predicateType: predicateType)
        }
    }

    public func material(for authority: SignatureAuthority?) -> VerificationMaterial { inner.material(for: authority) }

    /// Drops every stored answer (SIGUSR1, or after trust material changed out of band).
    public func flush() {
        lock.lock(); defer { lock.unlock() }
        entries = [:]
        generation += 1
    }

    public var count: Int {
        lock.lock(); defer { lock.unlock() }
        return entries.count
    }

    private enum Start {
        case hit(AuthorityOutcome)
        case wait(Task<AuthorityOutcome, Never>)
        case run(Task<AuthorityOutcome, Never>, generation: Int)
    }

    private func lookup(_ key: Key, expires: Date?, _ verify: @escaping @Sendable () async -> AuthorityOutcome) async -> AuthorityOutcome {
        // An empty digest means "static authorities only" upstream; never cache what was not looked up.
        guard !key.digest.isEmpty else { return await verify() }
        switch start(key, verify) {
        case .hit(let outcome):
            hits.increment()
            return outcome
        case .wait(let task):
            coalesced.increment()
            return await task.value
        case .run(let task, let generation):
            misses.increment()
            let outcome = await task.value
            finish(key, outcome, generation: generation, materialExpires: expires)
            return outcome
        }
    }

    private func start(_ key: Key, _ verify: @escaping @Sendable () async -> AuthorityOutcome) -> Start {
        let now = clock()
        lock.lock(); defer { lock.unlock() }
        if let entry = entries[key] {
            if entry.expires > now { return .hit(entry.outcome) }
            entries[key] = nil
        }
        if let task = running[key] { return .wait(task) }
        let task = Task { await verify() }
        running[key] = task
        return .run(task, generation: generation)
    }

    private func finish(_ key: Key, _ outcome: AuthorityOutcome, generation started: Int, materialExpires: Date?) {
        let now = clock()
        lock.lock(); defer { lock.unlock() }
        running[key] = nil
        guard started == generation, let until = expiry(of: outcome, now: now, materialExpires: materialExpires) else { return }
        entries[key] = Entry(outcome: outcome, expires: until)
        evictIfFull(now: now)
    }

    /// How long an outcome may be reused; nil for never (transient failures).
    private func expiry(of outcome: AuthorityOutcome, now: Date, materialExpires: Date?) -> Date? {
        if !outcome.passed && outcome.transient { return nil }
        let ttl = outcome.passed ? settings.positiveTTL : settings.negativeTTL
        var until = now.addingTimeInterval(ttl)
        if let end = materialExpires, end < until { until = end }
        return until > now ? until : nil
    }

    /// Over capacity: expired entries go first, then those closest to expiry. Called with the lock held.
    private func evictIfFull(now: Date) {
        guard entries.count > settings.maxEntries else { return }
        let before = entries.count
        entries = entries.filter { $0.value.expires > now }
        if entries.count > settings.maxEntries {
            // A tenth at once, so a full cache does not sort on every insert.
            let excess = entries.count - settings.maxEntries * 9 / 10
            for (key, _) in entries.sorted(by: { $0.value.expires < $1.value.expires }).prefix(excess) { entries[key] = nil }
        }
        evictions.increment(by: before - entries.count)
    }
}

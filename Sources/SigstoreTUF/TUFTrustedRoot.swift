import Crypto
import Foundation
import SigstoreVerify
import TUF

/// A Sigstore trusted root kept current over TUF: the `trusted_root.json` target (or another name) of a repository,
/// verified from an initial TUF root, refreshed on a period and when the repository's metadata expires.
///
/// Reads never wait for the network once a root is known: a due refresh runs in the background and the last good
/// root keeps answering meanwhile. Without network at start, the last good root verified into the cache directory
/// is used (however old: `age` says how old); callers decide what to do when there is none at all.
public final class TUFTrustedRoot: @unchecked Sendable {
    public struct Settings: Sendable {
        /// Where the repository's metadata is (a mirror URL, `file://`, or `SerializedRepository.baseURL`).
        public var metadataURL: URL
        /// Where its targets are (policy-controller: the mirror plus `targets`).
        public var targetsURL: URL
        /// The initial trusted TUF root (root.json bytes).
        public var initialRoot: Data
        public var targetName = "trusted_root.json"
        /// Parent of this repository's cache folder (metadata, the verified target, the last-good record).
        public var cacheDirectory: URL
        public var refreshInterval: TimeInterval = 3600
        /// After a failed refresh, the next attempt waits this long (or the interval, when shorter).
        public var retryInterval: TimeInterval = 60
        public var fetcher: any TUFFetcher
        public var clock: @Sendable () -> Date = { Date() }
        /// Names the repository in messages (e.g. `TrustRoot "github"`, `--tuf-mirror https://…`).
        public var label: String

        public init(metadataURL: URL, targetsURL: URL, initialRoot: Data, cacheDirectory: URL, fetcher: any TUFFetcher, label: String) {
            self.metadataURL = metadataURL
            self.targetsURL = targetsURL
            self.initialRoot = initialRoot
            self.cacheDirectory = cacheDirectory
            self.fetcher = fetcher
            self.label = label
        }
    }

    /// One verified trusted root and what is known about it.
    public struct Snapshot: Sendable {
        public let root: TrustedRoot
        /// When the TUF metadata that names it last verified (a refresh, or the cached record's time).
        public let verifiedAt: Date
        /// The earliest expiry of the TUF metadata it was verified with: a refresh is due then at the latest.
        public let metadataExpires: Date
        public let fromCache: Bool
    }

    public let settings: Settings
    private let folder: URL
    private let lock = NSLock()
    /// One update at a time: they share the metadata folder.
    private let updateLock = NSLock()
    private var snapshot: Snapshot?
    private var lastError: String?
    private var nextAttempt = Date.distantPast
    private var refreshing = false

    public init(_ settings: Settings) {
        self.settings = settings
        // One folder per (repository, initial root): a changed --tuf-root never continues another root's chain.
        let key = SHA256.hash(data: Data(settings.metadataURL.absoluteString.utf8) + settings.initialRoot + Data(settings.targetName.utf8))
        folder = settings.cacheDirectory.appendingPathComponent(key.prefix(12).map { String(format: "%02x", $0) }.joined())
    }

    /// The current trusted root. The first call refreshes (or falls back to the cache) synchronously; later calls
    /// start a background refresh when one is due and answer with the last good root at once.
    public func current() throws -> TrustedRoot {
        let now = settings.clock()
        lock.lock()
        if let snapshot {
            let start = now >= nextAttempt && !refreshing
            if start { refreshing = true }
            lock.unlock()
            if start { DispatchQueue.global().async { self.refreshInBackground() } }
            return snapshot.root
        }
        if now < nextAttempt, let lastError {
            lock.unlock()
            throw TUFTrustedRootError(lastError)  // failed moments ago: answer at once, retry when due
        }
        lock.unlock()
        return try refresh().root
    }

    /// Starts a background refresh when one is due and a root is already known (never blocks): /readyz and the
    /// metrics call it, so an idle server keeps its roots current too.
    public func refreshIfDue() {
        guard status.snapshot != nil else { return }
        _ = try? current()
    }

    /// Refreshes now (blocking). On failure the last good root (in memory, else from the cache directory) stays
    /// current and is returned; the error is thrown only when there is none.
    @discardableResult
    public func refresh() throws -> Snapshot {
        do {
            let fresh = try update()
            record(fresh, error: nil)
            return fresh
        } catch {
            let message = "\(settings.label): \(error)"
            let fallback = status.snapshot ?? loadLastGood()
            record(fallback, error: message)
            guard let fallback else { throw TUFTrustedRootError(message) }
            return fallback
        }
    }

    /// What /readyz and the metrics report.
    public var status: (snapshot: Snapshot?, lastError: String?) {
        lock.lock(); defer { lock.unlock() }
        return (snapshot, lastError)
    }

    /// Seconds since the current root's metadata last verified, nil before any.
    public func age(at now: Date? = nil) -> TimeInterval? {
        status.snapshot.map { (now ?? settings.clock()).timeIntervalSince($0.verifiedAt) }
    }

    private func refreshInBackground() {
        _ = try? refresh()
        lock.lock(); refreshing = false; lock.unlock()
    }

    private func record(_ value: Snapshot?, error: String?) {
        let now = settings.clock()
        lock.lock(); defer { lock.unlock() }
        if let value { snapshot = value }
        lastError = error
        // Next refresh: after the period, or when the verified metadata expires if sooner; after a failure, soon
        // (and no sooner, however stale the root: an unreachable mirror is asked once per retry interval).
        if error == nil, let value {
            nextAttempt = min(now.addingTimeInterval(settings.refreshInterval), value.metadataExpires)
        } else {
            nextAttempt = now.addingTimeInterval(min(settings.retryInterval, settings.refreshInterval))
        }
    }

    // MARK: the TUF update

    private var metadataFolder: URL { folder.appendingPathComponent("metadata") }
    private var targetsFolder: URL { folder.appendingPathComponent("targets") }
    private var lastGoodURL: URL { folder.appendingPathComponent("last-good.json") }

    private func update() throws -> Snapshot {
        updateLock.lock(); defer { updateLock.unlock() }
        let store = MetadataStore(directory: metadataFolder)
        if store.load(role: TopLevelRole.root) == nil { try store.save(role: TopLevelRole.root, settings.initialRoot) }
        let now = settings.clock()
        let updater = try Updater(metadataDirectory: metadataFolder, metadataBaseURL: settings.metadataURL, targetBaseURL: settings.targetsURL,
                                  targetDirectory: targetsFolder, fetcher: settings.fetcher, now: now)
        try updater.refresh()
        guard let info = try updater.targetInfo(settings.targetName) else {
            throw TUFTrustedRootError("the repository has no target \"\(settings.targetName)\" (legacy repositories that publish only Fulcio/Rekor/CT keys as separate targets are not supported)")
        }
        let file = try updater.cachedTarget(info) ?? updater.downloadTarget(info)
        let data = try Data(contentsOf: file)
        let root: TrustedRoot
        do { root = try TrustedRoot(json: data) } catch {
            throw TUFTrustedRootError("target \"\(settings.targetName)\" is not a Sigstore trusted root: \(error)")
        }
        let trusted = updater.trusted
        let expiries = [trusted.root.common.expires, trusted.timestamp?.common.expires, trusted.snapshot?.common.expires,
                        trusted.targetsRoles[TopLevelRole.targets]?.common.expires].compactMap { $0 }
        let snapshot = Snapshot(root: root, verifiedAt: now, metadataExpires: expiries.min() ?? now, fromCache: false)
        try saveLastGood(snapshot, target: data)
        return snapshot
    }

    /// The last verified target and when it verified, written after every successful update so a restart without
    /// network still has a root. Bound to the target's bytes by hash so a torn or edited file is not used.
    private struct LastGood: Codable {
        var verifiedAt: Date
        var metadataExpires: Date
        var sha256: String
        var target: String
    }

    private func saveLastGood(_ snapshot: Snapshot, target: Data) throws {
        let record = LastGood(verifiedAt: snapshot.verifiedAt, metadataExpires: snapshot.metadataExpires,
                              sha256: Encoding.hex(SHA256.hash(data: target)), target: target.base64EncodedString())
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        try MetadataStore.writeAtomically(try encoder.encode(record), to: lastGoodURL)
    }

    private func loadLastGood() -> Snapshot? {
        guard let data = FileManager.default.contents(atPath: lastGoodURL.path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let record = try? decoder.decode(LastGood.self, from: data), let target = Data(base64Encoded: record.target),
              Encoding.hex(SHA256.hash(data: target)) == record.sha256, let root = try? TrustedRoot(json: target) else { return nil }
        return Snapshot(root: root, verifiedAt: record.verifiedAt, metadataExpires: record.metadataExpires, fromCache: true)
    }
}

public struct TUFTrustedRootError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension TUFTrustedRoot {
    /// The Sigstore public-good TUF root embedded at build time: the default `--tuf-root`.
    public static func publicGoodTUFRoot() throws -> Data {
        guard let url = Bundle.module.url(forResource: "root", withExtension: "json"), let data = try? Data(contentsOf: url) else {
            throw TUFTrustedRootError("the embedded public-good TUF root.json is missing from the build")
        }
        return data
    }
}

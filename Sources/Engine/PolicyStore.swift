import Crypto
import Foundation
import ImagePolicy
import Logging
import Metrics

/// The active policy set, loaded from files and directories and reloaded when they change.
/// A new set that fails to load never replaces a good one: the old set stays enforced and the
/// error is kept for `/readyz`, logs and the `sealgate_policy_reload_errors_total` metric.
public final class PolicyStore: @unchecked Sendable {
    public struct Status: Sendable {
        public var loaded: Bool
        public var lastError: String?
        public var policyCount: Int
        public var fingerprint: String
    }

    private let paths: [String]
    private let logger: Logger
    private let lock = NSLock()
    private var policies = PolicySet() { didSet { merged = nil } }
    private var status = Status(loaded: false, lastError: nil, policyCount: 0, fingerprint: "")
    private var lastSeenFingerprint = ""
    private var watcher: DispatchSourceTimer?
    private let reloadErrors = Counter(label: "sealgate_policy_reload_errors_total")
    private let reloads = Counter(label: "sealgate_policy_reloads_total")
    private let policyGauge = Gauge(label: "sealgate_policies_loaded")
    private var changes = 0

    /// Counts every new policy set (file reload or cluster change), so a background scan knows when to re-evaluate.
    public var generation: Int {
        lock.lock(); defer { lock.unlock() }
        return changes
    }

    public init(paths: [String], logger: Logger) {
        self.paths = paths
        self.logger = logger
    }

    /// A store holding a fixed set (tests, the CLI).
    public init(policies: PolicySet) {
        paths = []
        logger = Logger(label: "sealgate.policies")
        self.policies = policies
        status = Status(loaded: true, lastError: nil, policyCount: policies.policyCount, fingerprint: "")
    }

    public var current: PolicySet {
        lock.lock(); defer { lock.unlock() }
        guard let clusterPolicies else { return policies }
        // Merged once per change, not per admission.
        if let merged { return merged }
        var set = policies
        set.merge(clusterPolicies)
        merged = set
        return set
    }

    public var currentStatus: Status {
        lock.lock(); defer { lock.unlock() }
        guard expectsCluster else { return status }
        // With cluster policies the store is loaded only once the first full list has arrived.
        var s = status
        s.loaded = s.loaded && clusterPolicies != nil
        if clusterPolicies == nil && s.lastError == nil { s.lastError = "waiting for the first sync of cluster policies" }
        s.policyCount += clusterPolicies.map(\.policyCount) ?? 0
        return s
    }

    // MARK: - Policies from the cluster (added next to the file-based set, never replacing it)

    private var clusterPolicies: PolicySet? { didSet { merged = nil } }
    private var merged: PolicySet?
    private var expectsCluster = false

    /// Marks the store as fed from the cluster: not ready until `installClusterPolicies` is first called.
    public func expectClusterPolicies() {
        lock.lock(); defer { lock.unlock() }
        expectsCluster = true
    }

    /// Replaces the cluster-sourced policies (already validated object by object) after a full sync or a change.
    public func installClusterPolicies(_ set: PolicySet) {
        lock.lock()
        clusterPolicies = set
        changes += 1
        let count = policies.policyCount + set.policyCount
        lock.unlock()
        policyGauge.record(count)
    }

    /// True once cluster policies have been installed at least once.
    public var clusterSynced: Bool {
        lock.lock(); defer { lock.unlock() }
        return clusterPolicies != nil
    }

    /// Loads now; returns the load error, if any (the previous set, if there was one, stays active).
    @discardableResult
    public func reload() -> String? {
        let fingerprint = Self.fingerprint(paths)
        lock.lock()
        lastSeenFingerprint = fingerprint
        lock.unlock()
        let result = PolicyLoader.load(paths: paths)
        let errors = result.errors
        guard errors.isEmpty else {
            let message = errors.prefix(20).map(\.description).joined(separator: "\n")
            lock.lock()
            status.lastError = message
            lock.unlock()
            reloadErrors.increment()
            logger.error("policy load failed; keeping the previous policies", metadata: ["errors": "\(message)"])
            return message
        }
        for warning in result.warnings { logger.warning("\(warning.description)") }
        let set = result.policies
        let count = set.policyCount
        lock.lock()
        policies = set
        changes += 1
        status = Status(loaded: true, lastError: nil, policyCount: count, fingerprint: fingerprint)
        lock.unlock()
        reloads.increment()
        policyGauge.record(count)
        logger.info("policies loaded", metadata: ["count": "\(count)", "paths": "\(paths.joined(separator: ","))"])
        return nil
    }

    /// Polls the files every `interval` seconds and reloads when their content changes.
    public func watch(interval: Double = 2) {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "sealgate.policy-watch"))
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [weak self] in
            guard let self else { return }
            let fingerprint = Self.fingerprint(self.paths)
            self.lock.lock()
            let changed = fingerprint != self.lastSeenFingerprint
            self.lock.unlock()
            if changed { self.reload() }
        }
        timer.resume()
        watcher = timer
    }

    /// Hash over every policy file's path and bytes (ConfigMap updates swap symlinks, so content is what counts).
    static func fingerprint(_ paths: [String]) -> String {
        var hasher = SHA256()
        for file in PolicyFiles.list(paths) {
            hasher.update(data: Data(file.utf8))
            hasher.update(data: FileManager.default.contents(atPath: file) ?? Data("<unreadable>".utf8))
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

/// Policy files under the configured paths, in a stable order.
enum PolicyFiles {
    static func list(_ paths: [String]) -> [String] {
        paths.flatMap { path -> [String] in
            var isDir: ObjCBool = false
            // A missing path is listed too, so its appearance changes the fingerprint.
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else { return [path] }
            return PolicyLoader.policyFiles(in: path)
        }
    }
}

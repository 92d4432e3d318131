import Engine
import Foundation
import Logging
import PolicyTesting
import SealgateCore

/// The in-cluster audit: while this replica holds the lease, evaluates every workload of the inventory with the
/// admission engine (one at a time, admissions first, within the registry budget) and keeps the reports current.
/// A full pass runs on becoming leader, on every policy change and every `interval`; between passes only workloads
/// that changed are evaluated again, and deleted ones lose their results.
public final class BackgroundScanner: @unchecked Sendable {
    public let inventory: WorkloadInventory
    public let elector: LeaderElector
    private let evaluator: WorkloadEvaluator
    private let reconciler: ReportReconciler
    private let store: PolicyStore
    private let budget: ScanBudget
    private let priority: AdmissionPriority
    private let interval: Double
    private let logger: Logger
    /// The content hash of the trust roots in use (TUF-refreshed ones change without a policy change): a new value
    /// re-evaluates everything, since verdicts resting on the old roots no longer hold.
    private let trustFingerprint: @Sendable () -> String
    /// How often the tags of running images are resolved again (the tag cache's TTL: sooner would be answered from it).
    private let tagCheckInterval: Double
    private let metrics = ScanMetrics()
    private let condition = NSCondition()
    private var stopped = false
    private var dirty: Set<WorkloadKey> = []
    private var exited = DispatchSemaphore(value: 0)
    private var started = false
    // Scan thread only:
    private var results: [WorkloadKey: [RuleOutcome]] = [:]
    private var leading = false
    private var lastFull = -Double.infinity
    private var lastGeneration = -1
    private var lastTrust: String?
    private var digests: [WorkloadKey: [String: String]] = [:]
    private var lastTagCheck = MonotonicClock.now()
    private var reportsStale = false

    public init(inventory: WorkloadInventory, elector: LeaderElector, evaluator: WorkloadEvaluator, reconciler: ReportReconciler,
                store: PolicyStore, budget: ScanBudget, priority: AdmissionPriority, interval: Double, tagCheckInterval: Double = 30,
                trustFingerprint: @escaping @Sendable () -> String = { "" }, logger: Logger) {
        self.inventory = inventory
        self.tagCheckInterval = max(1, tagCheckInterval)
        self.trustFingerprint = trustFingerprint
        self.elector = elector
        self.evaluator = evaluator
        self.reconciler = reconciler
        self.store = store
        self.budget = budget
        self.priority = priority
        self.interval = interval
        self.logger = logger
        inventory.onChange = { [weak self] keys in self?.changed(keys) }
        elector.onLeadershipChange = { [weak self] leading in
            guard let self else { return }
            self.metrics.leader(self.elector.identity, leading: leading)
            self.condition.lock(); self.condition.broadcast(); self.condition.unlock()
        }
    }

    public func start() {
        started = true
        metrics.leader(elector.identity, leading: false)
        inventory.start()
        elector.start()
        let t = Thread { [self] in
            run()
            exited.signal()
        }
        t.name = "background-scan"
        t.start()
    }

    /// Stops scanning (waiting for a write in flight, at most 10 s), then gives up the lease and the watches.
    public func stop() {
        condition.lock(); stopped = true; condition.broadcast(); condition.unlock()
        budget.cancel()
        if started, exited.wait(timeout: .now() + 10) == .timedOut {
            logger.warning("background scan did not stop within 10 s")
        }
        elector.stop()
        inventory.stop()
    }

    private func changed(_ keys: [WorkloadKey]) {
        condition.lock()
        dirty.formUnion(keys)
        condition.broadcast()
        condition.unlock()
    }

    private var isStopped: Bool {
        condition.lock(); defer { condition.unlock() }
        return stopped
    }

    private func run() {
        while !isStopped {
            condition.lock()
            _ = condition.wait(until: Date().addingTimeInterval(0.2))
            condition.unlock()
            let leader = elector.isLeader
            if !leader {
                if leading { leading = false; results = [:] }
                continue
            }
            if !leading {
                leading = true
                reconciler.reset()
                lastFull = -Double.infinity
            }
            guard inventory.isSynced, store.currentStatus.loaded else { continue }
            let generation = store.generation
            let trust = trustFingerprint()
            let full = generation != lastGeneration || trust != lastTrust || MonotonicClock.now() - lastFull >= interval
            condition.lock()
            var keys = dirty
            dirty = []
            condition.unlock()
            if full {
                lastGeneration = generation
                lastTrust = trust
                lastFull = MonotonicClock.now()
                let present = Set(inventory.snapshot.keys)
                for key in results.keys where !present.contains(key) {
                    results[key] = nil
                    digests[key] = nil
                    reportsStale = true
                }
                keys = present.union(keys)
            }
            if !keys.isEmpty, scan(keys, full: full) { reportsStale = true }
            if MonotonicClock.now() - lastTagCheck >= tagCheckInterval {
                lastTagCheck = MonotonicClock.now()
                checkTags()
            }
            if reportsStale { writeReports() }
        }
    }

    /// Evaluates `keys` (absent ones lose their results); what is left undone (stop, lost lease, a registry backing
    /// off) stays dirty. True when some result may have changed.
    @discardableResult
    private func scan(_ keys: Set<WorkloadKey>, full: Bool) -> Bool {
        let begun = MonotonicClock.now()
        var seen = Set<String>()
        var retry: Set<WorkloadKey> = []
        var evaluated = 0
        var removed = false
        // Workloads without results first: when a backing-off registry is tried again, the one that waited longest goes.
        let ordered = keys.sorted { (results[$0] == nil ? 0 : 1, $0) < (results[$1] == nil ? 0 : 1, $1) }
        for (i, key) in ordered.enumerated() {
            guard !isStopped, elector.isLeader else {
                changed(Array(ordered[i...]))
                return true
            }
            guard let object = inventory.object(key) else {
                removed = results.removeValue(forKey: key) != nil || removed
                digests[key] = nil
                continue
            }
            let images = evaluator.images(of: object)
            let registries = WorkloadEvaluator.registries(of: images)
            if budget.isPaused(registries) {
                retry.insert(key)  // its last results stay until the registry's backoff is over
                continue
            }
            priority.waitForQuiet()
            guard budget.acquire(images.subtracting(seen).count) else { return true }
            seen.formUnion(images)
            let evaluator = self.evaluator
            let outcome: Result<WorkloadEvaluator.Evaluation, Error> = runBlocking {
                do { return .success(try await evaluator.evaluate(object, key: key)) } catch { return .failure(error) }
            }
            evaluated += 1
            switch outcome {
            case .success(let evaluation):
                results[key] = evaluation.outcomes
                digests[key] = evaluation.digests
                let troubled = WorkloadEvaluator.registries(of: evaluation.transientImages)
                if !troubled.isEmpty { retry.insert(key) }
                for registry in troubled {
                    let pause = budget.backOff(registry)
                    metrics.backoffs.increment()
                    logger.info("registry trouble while scanning; backing off", metadata: ["workload": "\(key)", "registry": "\(registry)", "seconds": "\(pause)"])
                }
                for registry in registries.subtracting(troubled) { budget.succeeded(registry) }
            case .failure(let error):
                results[key] = nil
                logger.warning("workload not evaluated: \(error)")
            }
        }
        metrics.workloads.increment(by: evaluated)
        metrics.images.increment(by: seen.count)
        if full { metrics.duration.recordNanoseconds(Int64((MonotonicClock.now() - begun) * 1e9)) }
        metrics.results(results.values.flatMap { $0 })
        if !retry.isEmpty { changed(Array(retry)) }
        guard evaluated > 0 else { return removed }  // only workloads waiting out a backoff: nothing to say
        logger.info("background scan pass", metadata: ["workloads": "\(evaluated)", "images": "\(seen.count)", "full": "\(full)",
                                                       "seconds": "\(String(format: "%.2f", MonotonicClock.now() - begun))"])
        return true
    }

    /// Resolves each running tagged image again; the workloads of a tag that now names another digest are
    /// re-evaluated at once (a signature check on the old digest says nothing about the new one).
    private func checkTags() {
        var users: [String: (digest: String, keys: [WorkloadKey])] = [:]
        for (key, images) in digests {
            for (image, digest) in images { users[image, default: (digest, [])].keys.append(key) }
        }
        var moved: [WorkloadKey] = []
        for (image, use) in users.sorted(by: { $0.key < $1.key }) {
            guard !isStopped, elector.isLeader else { return }
            guard !budget.isPaused(WorkloadEvaluator.registries(of: [image])), budget.acquire(1) else { continue }
            let evaluator = self.evaluator
            let now: String? = runBlocking { try? await evaluator.currentDigest(of: image) }
            guard let now, now != use.digest else { continue }  // unreachable now: the next pass says so
            logger.info("tag moved; re-evaluating its workloads", metadata: ["image": "\(image)", "was": "\(use.digest)", "now": "\(now)"])
            moved += use.keys
        }
        if !moved.isEmpty { changed(moved) }
    }

    private func writeReports() {
        let outcomes = results.sorted { $0.key < $1.key }.flatMap(\.value)
        do {
            let writes = try reconciler.reconcile(outcomes) { elector.isLeader && !isStopped }
            metrics.writes(writes)
            reportsStale = !elector.isLeader
            if writes != ReportReconciler.Writes(), writes.created + writes.updated + writes.deleted > 0 {
                logger.info("reports written", metadata: ["created": "\(writes.created)", "updated": "\(writes.updated)", "deleted": "\(writes.deleted)"])
            }
        } catch {
            reconciler.reset()  // read the reports again before the next try
            logger.warning("writing reports failed; retrying: \(error)")
            condition.lock()
            _ = condition.wait(until: Date().addingTimeInterval(1))
            condition.unlock()
        }
    }
}

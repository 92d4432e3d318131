import Foundation
import KubernetesAPI
import Logging
import SealgateCore

/// Leader election over a `coordination.k8s.io/v1` Lease, with client-go's semantics: a replica takes the lease
/// when it is free or when the holder has not renewed it for `leaseDuration` as observed on this replica's own
/// clock (no clock agreement needed); every write is a conditional update, so of two replicas racing only one wins
/// (the other gets 409 Conflict). The holder renews every `retryPeriod`; if it cannot renew within
/// `renewDeadline` (< leaseDuration) it stops leading before anyone else may take over. On `stop` it releases the
/// lease (holder cleared, duration 1 s) so another replica takes over at once.
public final class LeaderElector: @unchecked Sendable {
    public struct Timing: Sendable {
        public var leaseDuration: Double = 15
        public var renewDeadline: Double = 10
        public var retryPeriod: Double = 2
        public init() {}
    }

    public let identity: String
    private let client: KubeClient
    private let namespace: String
    private let name: String
    private let timing: Timing
    private let logger: Logger
    private let condition = NSCondition()
    private var stopped = false
    private var thread: Thread?
    private var observed: LeaseRecord?
    private var observedAt = 0.0
    /// Monotonic time until which this replica may act as leader (last successful renewal + renewDeadline).
    private var leadingUntil = 0.0
    private var leading = false
    public var onLeadershipChange: (@Sendable (Bool) -> Void)?

    public init(client: KubeClient, namespace: String, name: String, identity: String, timing: Timing = Timing(), logger: Logger) {
        self.client = client
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.timing = timing
        self.logger = logger
    }

    /// True while the lease is ours and was renewed within the renew deadline: ask before each write.
    public var isLeader: Bool {
        condition.lock(); defer { condition.unlock() }
        return leading && MonotonicClock.now() < leadingUntil
    }

    /// The holder last seen in the Lease (this replica's identity when leading).
    public var observedHolder: String {
        condition.lock(); defer { condition.unlock() }
        return observed?.holderIdentity ?? ""
    }

    public func start() {
        let t = Thread { [self] in run() }
        t.name = "leader-election"
        thread = t
        t.start()
    }

    /// Stops trying; a leader releases the lease first.
    public func stop() {
        condition.lock()
        stopped = true
        let wasLeading = leading
        condition.broadcast()
        condition.unlock()
        setLeading(false)  // no write may start from here on
        if wasLeading { release() }
    }

    private func run() {
        while true {
            condition.lock()
            if stopped { condition.unlock(); return }
            condition.unlock()
            let acquired: Bool
            do { acquired = try tryAcquireOrRenew() } catch {
                logger.warning("lease \(namespace)/\(name): \(error)")
                acquired = false
            }
            condition.lock()
            let stillLeading = leading && MonotonicClock.now() < leadingUntil
            condition.unlock()
            if acquired && !stopped {
                setLeading(true)
            } else if !stillLeading {
                setLeading(false)
            }
            condition.lock()
            let until = Date().addingTimeInterval(timing.retryPeriod * (acquired ? 1 : Double.random(in: 1...1.2)))
            while !stopped && Date() < until { _ = condition.wait(until: until) }
            condition.unlock()
        }
    }

    private func setLeading(_ value: Bool) {
        condition.lock()
        let changed = leading != value
        leading = value
        condition.unlock()
        guard changed else { return }
        logger.notice(value ? "became the background-scan leader" : "stopped leading the background scan",
                      metadata: ["lease": "\(namespace)/\(name)", "identity": "\(identity)"])
        onLeadershipChange?(value)
    }

    /// One round of client-go's tryAcquireOrRenew: true when this replica holds the lease afterwards.
    func tryAcquireOrRenew() throws -> Bool {
        let now = Date()
        let started = MonotonicClock.now()
        let resource = WorkloadResources.leases
        guard let lease = try client.getObject(resource, namespace: namespace, name: name) else {
            let record = LeaseRecord(holderIdentity: identity, leaseDurationSeconds: Int(timing.leaseDuration.rounded(.up)),
                                     acquireTime: now, renewTime: now, leaseTransitions: 0)
            do {
                try client.create(resource, namespace: namespace, record.applied(to: nil, namespace: namespace, name: name), fieldManager: identity)
            } catch let error as KubeError where error.code == 409 {
                return false  // another replica created it first
            }
            renewed(record, at: started)
            return true
        }
        let current = try LeaseRecord(lease: lease)
        condition.lock()
        if observed != current {
            observed = current
            observedAt = started
        }
        let expiresAt = observedAt + Double(current.leaseDurationSeconds)
        condition.unlock()
        if !current.holderIdentity.isEmpty && current.holderIdentity != identity && started < expiresAt {
            return false
        }
        var next = LeaseRecord(holderIdentity: identity, leaseDurationSeconds: Int(timing.leaseDuration.rounded(.up)),
                               acquireTime: now, renewTime: now, leaseTransitions: current.leaseTransitions)
        if current.holderIdentity == identity {
            next.acquireTime = current.acquireTime
        } else {
            next.leaseTransitions += 1
        }
        do {
            try client.update(resource, namespace: namespace, name: name, next.applied(to: lease, namespace: namespace, name: name), fieldManager: identity)
        } catch let error as KubeError where error.code == 409 {
            return false  // someone else wrote the lease since we read it
        }
        renewed(next, at: started)
        return true
    }

    private func renewed(_ record: LeaseRecord, at time: Double) {
        condition.lock()
        observed = record
        observedAt = time
        leadingUntil = time + timing.renewDeadline
        condition.unlock()
    }

    /// Clears the holder so the next replica need not wait out the lease.
    private func release() {
        do {
            guard let lease = try client.getObject(WorkloadResources.leases, namespace: namespace, name: name) else { return }
            let current = try LeaseRecord(lease: lease)
            guard current.holderIdentity == identity else { return }
            let now = Date()
            let released = LeaseRecord(holderIdentity: "", leaseDurationSeconds: 1, acquireTime: now, renewTime: now,
                                       leaseTransitions: current.leaseTransitions)
            try client.update(WorkloadResources.leases, namespace: namespace, name: name,
                              released.applied(to: lease, namespace: namespace, name: name), fieldManager: identity)
            logger.notice("released the background-scan lease", metadata: ["lease": "\(namespace)/\(name)"])
        } catch {
            logger.warning("releasing lease \(namespace)/\(name) failed; another replica takes over when it expires: \(error)")
        }
    }
}

import BackgroundScan
import Foundation
import KubernetesAPI
import KubernetesTestSupport
import Logging
import SealgateCore
import Testing
import TestSupport

let quiet: Logger = {
    var l = Logger(label: "scan-test")
    l.logLevel = .critical
    return l
}()

var fastLease: LeaderElector.Timing {
    var t = LeaderElector.Timing()
    t.leaseDuration = 3
    t.renewDeadline = 2
    t.retryPeriod = 0.2
    return t
}

/// Lease-based election against the API double: one holder, conditional updates, takeover after expiry or release.
@Suite(.serialized)
struct LeaderElectorTests {
    @Test("two electors: exactly one leads; the other takes over after release, and the lease records the transition")
    func oneLeaderThenHandover() async throws {
        let api = try FakeAPIServer()
        let client = try KubeClient(config: api.config)
        let a = LeaderElector(client: client, namespace: "sealgate-system", name: "scan", identity: "a", timing: fastLease, logger: quiet)
        let b = LeaderElector(client: client, namespace: "sealgate-system", name: "scan", identity: "b", timing: fastLease, logger: quiet)
        a.start()
        #expect(try await eventually(timeout: 10) { a.isLeader })
        b.start()
        defer { b.stop() }
        // For longer than a lease duration, b never leads while a renews.
        let until = Date().addingTimeInterval(4)
        var both = false
        while Date() < until {
            if a.isLeader && b.isLeader { both = true }
            #expect(a.isLeader)
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(!both && !b.isLeader)
        let stopped = Date()
        a.stop()
        #expect(!a.isLeader)
        #expect(try await eventually(timeout: 5) { b.isLeader })
        #expect(Date().timeIntervalSince(stopped) < fastLease.leaseDuration, "a released lease is taken at once, not after expiry")
        let lease = try #require(try client.getObject(WorkloadResources.leases, namespace: "sealgate-system", name: "scan"))
        let record = try LeaseRecord(lease: lease)
        #expect(record.holderIdentity == "b" && record.leaseTransitions == 1, "\(lease.jsonString)")
        #expect(record.leaseDurationSeconds == 3 && record.renewTime != nil)
    }

    /// The API double with Lease sealgate-system/scan held by "dead" for 2 s from now.
    static func heldLease(transitions: Int) throws -> (FakeAPIServer, KubeClient, LeaseRecord) {
        let api = try FakeAPIServer()
        let client = try KubeClient(config: api.config)
        let record = LeaseRecord(holderIdentity: "dead", leaseDurationSeconds: 2, acquireTime: Date(), renewTime: Date(), leaseTransitions: transitions)
        try client.create(WorkloadResources.leases, namespace: "sealgate-system", record.applied(to: nil, namespace: "sealgate-system", name: "scan"),
                          fieldManager: "test")
        return (api, client, record)
    }

    @Test("a holder that stops renewing (not released) loses the lease after its duration, seen on the other's clock")
    func takeoverAfterExpiry() async throws {
        // A lease held by a replica that died: renewed "now" but never again.
        let (api, client, _) = try Self.heldLease(transitions: 4)
        defer { withExtendedLifetime(api) {} }   // the API double lives until the test ends
        let b = LeaderElector(client: client, namespace: "sealgate-system", name: "scan", identity: "b", timing: fastLease, logger: quiet)
        let started = Date()
        b.start()
        defer { b.stop() }
        #expect(try await eventually(timeout: 8) { b.isLeader })
        let waited = Date().timeIntervalSince(started)
        #expect(waited >= 1.8 && waited < 2 + 1.5, "taken after the 2 s lease expired, waited \(waited)")
        let record = try LeaseRecord(lease: try #require(try client.getObject(WorkloadResources.leases, namespace: "sealgate-system", name: "scan")))
        #expect(record.holderIdentity == "b" && record.leaseTransitions == 5)
    }

    @Test("a holder that renewed while watched and then died is taken over once its renewals stop for the lease duration")
    func takeoverAfterRenewalsStop() async throws {
        var (api, client, record) = try Self.heldLease(transitions: 0)
        defer { withExtendedLifetime(api) {} }   // the API double lives until the test ends
        let c = LeaderElector(client: client, namespace: "sealgate-system", name: "scan", identity: "c", timing: fastLease, logger: quiet)
        c.start()
        defer { c.stop() }
        // The holder renews for 3 s (longer than its lease), and c must not take over meanwhile.
        let renewUntil = Date().addingTimeInterval(3)
        while Date() < renewUntil {
            let lease = try #require(try client.getObject(WorkloadResources.leases, namespace: "sealgate-system", name: "scan"))
            record.renewTime = Date()
            try client.update(WorkloadResources.leases, namespace: "sealgate-system", name: "scan",
                              record.applied(to: lease, namespace: "sealgate-system", name: "scan"), fieldManager: "test")
            #expect(!c.isLeader)
            try await Task.sleep(nanoseconds: 300_000_000)
        }
        let died = Date()
        #expect(try await eventually(timeout: 8) { c.isLeader })
        let waited = Date().timeIntervalSince(died)
        #expect(waited >= 1.5 && waited < 2 + 1, "waited \(waited)")
    }

    @Test("a holder that cannot renew (API down) stops leading within the renew deadline")
    func losesLeadershipWhenRenewalFails() async throws {
        let api = try FakeAPIServer()
        let client = try KubeClient(config: api.config)
        let a = LeaderElector(client: client, namespace: "sealgate-system", name: "scan", identity: "a", timing: fastLease, logger: quiet)
        a.start()
        defer { a.stop() }
        #expect(try await eventually(timeout: 10) { a.isLeader })
        try api.control("token", ["token": "rotated-away"])   // every renewal now answers 401
        let lost = Date()
        #expect(try await eventually(timeout: 5) { !a.isLeader })
        #expect(Date().timeIntervalSince(lost) <= fastLease.renewDeadline + 0.5)
    }

    @Test("a Lease with a malformed spec is an error naming the field, never a crash")
    func malformedLease() throws {
        #expect(throws: KubeError.self) { try LeaseRecord(lease: ["spec": ["renewTime": "yesterday"]]) }
        do { _ = try LeaseRecord(lease: ["spec": ["renewTime": "yesterday"]]) } catch {
            #expect("\(error)".contains("spec.renewTime"))
        }
        #expect(throws: KubeError.self) { try LeaseRecord(lease: ["spec": "nope"]) }
        let now = Date(timeIntervalSince1970: 1_800_000_000.123456)
        let record = LeaseRecord(holderIdentity: "x", leaseDurationSeconds: 15, acquireTime: now, renewTime: now, leaseTransitions: 2)
        let back = try LeaseRecord(lease: record.applied(to: nil, namespace: "ns", name: "l"))
        #expect(abs((back.renewTime ?? .distantPast).timeIntervalSince(now)) < 1e-5 && back.holderIdentity == "x" && back.leaseTransitions == 2)
        #expect(record.applied(to: nil, namespace: "ns", name: "l")["spec"]?["renewTime"]?.stringValue?.hasSuffix(".123456Z") == true)
    }
}

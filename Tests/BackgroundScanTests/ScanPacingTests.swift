import Admission
import BackgroundScan
import ImagePolicy
import Foundation
import KubernetesAPI
import KubernetesTestSupport
import SealgateCore
import Testing
import TestSupport

/// The registry budget, admissions-first waiting and the workload inventory.
@Suite(.serialized)
struct ScanPacingTests {
    @Test("the budget lets `rate` images per second through after the burst; cached images cost nothing")
    func rateLimit() {
        let budget = ScanBudget(imagesPerSecond: 20, burst: 5)
        let started = MonotonicClock.now()
        for _ in 0..<15 { #expect(budget.acquire(1)) }   // 5 at once, 10 more at 20/s: about 0.5 s
        let took = MonotonicClock.now() - started
        #expect(took >= 0.4 && took < 2, "took \(took)")
        let free = MonotonicClock.now()
        for _ in 0..<100 { #expect(budget.acquire(0)) }
        #expect(MonotonicClock.now() - free < 0.1)
    }

    @Test("trouble at a registry pauses that registry only, doubling up to the bound; a clean evaluation resets it")
    func backoff() {
        let budget = ScanBudget(imagesPerSecond: 1000, initialBackoff: 0.2, maxBackoff: 0.5)
        #expect(budget.backOff("a.example") == 0.2)
        #expect(budget.isPaused(["a.example"]) && budget.isPaused(["b.example", "a.example"]))
        #expect(!budget.isPaused(["b.example"]), "another registry goes on")
        let started = MonotonicClock.now()
        #expect(budget.acquire(1), "tokens are not held up by a paused registry")
        #expect(MonotonicClock.now() - started < 0.1)
        Thread.sleep(forTimeInterval: 0.25)
        #expect(!budget.isPaused(["a.example"]), "the pause is over")
        #expect(budget.backOff("a.example") == 0.4 && budget.backOff("a.example") == 0.5 && budget.backOff("a.example") == 0.5)
        #expect(budget.currentBackoff("b.example") == 0)
        budget.succeeded("a.example")
        #expect(!budget.isPaused(["a.example"]) && budget.backOff("a.example") == 0.2)
        let cancelled = ScanBudget(imagesPerSecond: 0.01, burst: 1)
        #expect(cancelled.acquire(1))
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { cancelled.cancel() }
        let waiting = MonotonicClock.now()
        #expect(!cancelled.acquire(1), "cancel ends a wait for tokens")
        #expect(MonotonicClock.now() - waiting < 5)
    }

    @Test("admissions first: the scan waits while admissions arrive, but never longer than maxWait")
    func admissionPriority() async {
        let priority = AdmissionPriority(quietPeriod: 0.1, maxWait: 0.6)
        #expect(priority.waitForQuiet() < 0.05, "no admissions: no wait")
        let busy = DispatchGroup()
        DispatchQueue.global().async(group: busy) {
            for _ in 0..<20 { priority.admissionStarted(); usleep(30_000) }
        }
        usleep(10_000)
        let waited = priority.waitForQuiet()
        #expect(waited >= 0.55 && waited < 0.9, "steady admissions: waited \(waited)")
        busy.wait()
        usleep(150_000)
        #expect(priority.waitForQuiet() < 0.05)
        var context = AdmissionContextProbe.empty
        await priority.marking(nil)(AdmissionContextProbe.request, &context)
        #expect(priority.count == 21, "the decider's hook marks each admission")
    }

    @Test("the inventory follows list/watch: adds, deletes, opted-in namespaces only; objects without a name are left out")
    func inventory() async throws {
        let api = try FakeAPIServer()
        let client = try KubeClient(config: api.config)
        for (ns, name) in [("shop", "a"), ("shop", "b"), ("other", "c")] {
            try api.put("pods", ["metadata": ["name": .string(name), "namespace": .string(ns)], "spec": ["containers": []]])
        }
        try api.put("pods", ["metadata": ["namespace": "shop"], "spec": [:]])   // no name: ignored
        let inventory = WorkloadInventory(client: client, resources: [WorkloadResources.pods, WorkloadResources.deployments],
                                          namespaces: ["shop"], logger: quiet)
        inventory.start()
        defer { inventory.stop() }
        #expect(try await eventually(timeout: 10) { inventory.isSynced && inventory.snapshot.count == 2 })
        let a = try #require(inventory.object(WorkloadKey(kind: "Pod", namespace: "shop", name: "a")))
        #expect(a["kind"] == "Pod" && a["apiVersion"] == "v1", "kind and apiVersion filled in: \(a.jsonString)")
        try api.delete("pods", namespace: "shop", name: "a")
        try api.put("deployments.apps", ["metadata": ["name": "d", "namespace": "shop"], "spec": [:]])
        #expect(try await eventually(timeout: 10) {
            Set(inventory.snapshot.keys) == [WorkloadKey(kind: "Pod", namespace: "shop", name: "b"), WorkloadKey(kind: "Deployment", namespace: "shop", name: "d")]
        })
        #expect(inventory.object(WorkloadKey(kind: "Deployment", namespace: "shop", name: "d"))?["apiVersion"] == "apps/v1")
    }
}

/// A request and context for calling the decider's context hook directly.
enum AdmissionContextProbe {
    static let request = AdmissionRequest(uid: "u", kind: GroupVersionKind(group: "", version: "v1", kind: "Pod"),
                                          resource: GroupVersionResource(group: "", version: "v1", resource: "pods"), operation: "CREATE")
    static var empty: AdmissionContext { AdmissionContext(kind: "Pod", resource: "pods", name: "p") }
}

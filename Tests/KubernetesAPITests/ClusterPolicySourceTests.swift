import Admission
import Foundation
import ImagePolicy
import KubernetesAPI
import KubernetesTestSupport
import Testing
import TestSupport

/// Policies from the (fake) API server reach the PolicyStore: add/change/delete, invalid objects,
/// dropped watches, expired resourceVersions, token rotation.
@Suite(.serialized)
struct ClusterPolicySourceTests {
    final class Harness: @unchecked Sendable {
        let server: FakeAPIServer
        let store = PolicyStore(paths: [], logger: testLogger)
        let source: ClusterPolicySource

        init(bookmarkInterval: Double = 0) throws {
            server = try FakeAPIServer(bookmarkInterval: bookmarkInterval)
            store.reload()
            let client = try KubeClient(config: server.config)
            source = ClusterPolicySource(client: client, store: store, events: EventRecorder(client: client, logger: testLogger),
                                         timing: fastTiming, logger: testLogger)
        }

        deinit { source.stop() }

        var globs: [String] { store.current.clusterImagePolicies.flatMap { $0.images.map(\.pattern) }.sorted() }
    }

    @Test func notReadyUntilFirstSyncThenAddChangeDelete() async throws {
        let h = try Harness()
        try h.server.put(Objects.cip, Objects.cip("existing", glob: "ghcr.io/existing/*"))
        #expect(h.store.currentStatus.loaded == false, "readyz must be false before the first full sync")
        h.source.start()
        #expect(await eventually { h.store.currentStatus.loaded })
        #expect(h.globs == ["ghcr.io/existing/*"])

        try h.server.put(Objects.cip, Objects.cip("p1", glob: "registry.example/a/*"))
        #expect(await eventually { h.globs == ["ghcr.io/existing/*", "registry.example/a/*"] })
        try h.server.put(Objects.cip, Objects.cip("p1", glob: "registry.example/b/*"))
        #expect(await eventually { h.globs == ["ghcr.io/existing/*", "registry.example/b/*"] })
        try h.server.delete(Objects.cip, name: "p1")
        #expect(await eventually { h.globs == ["ghcr.io/existing/*"] })
    }

    @Test func kyvernoPolicyAndTrustRoot() async throws {
        let h = try Harness()
        h.source.start()
        #expect(await eventually { h.store.currentStatus.loaded })
        let kyverno: JSONValue = [
            "apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": ["name": "check-images"],
            "spec": ["validationFailureAction": "Enforce", "rules": [["name": "verify", "match": ["any": [["resources": ["kinds": ["Pod"]]]]],
                                "verifyImages": [["imageReferences": ["ghcr.io/signed/*"], "attestors": [["entries": [["keys": ["publicKeys": "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEoGSZ0kUE9q2H6N3Q3sEY9GGyJmUTlG0Mk+3V8C8mQz4Ng0Q0HmDgkD5mKcVp0aWbGxKpHkWfV3n2aTSR0pLhTg==\n-----END PUBLIC KEY-----"]]]]]]]]]],
        ]
        try h.server.put(Objects.kyverno, kyverno)
        try h.server.put(Objects.trustRoot, ["apiVersion": "policy.sigstore.dev/v1alpha1", "kind": "TrustRoot", "metadata": ["name": "mirror"],
                                             "spec": ["remote": ["mirror": "https://tuf.example", "root": "e30="]]])
        try h.server.put(Objects.trustRoot, ["apiVersion": "policy.sigstore.dev/v1alpha1", "kind": "TrustRoot", "metadata": ["name": "broken"],
                                             "spec": ["remote": ["mirror": "https://tuf.example"], "repository": ["root": "x"]]])
        #expect(await eventually { h.source.trustRoots.keys.contains("trustroot/mirror") })
        #expect(await eventually { h.source.invalidObjects["trustroot/broken"]?.contains("exactly one") == true })
        let loaded = await eventually { h.store.current.kyvernoPolicies.map(\.name) == ["check-images"] }
        #expect(loaded, "kyverno policy not loaded: \(h.source.invalidObjects)")
    }

    @Test func invalidPolicyKeepsThePreviousVersionAndIsReported() async throws {
        let h = try Harness()
        try h.server.put(Objects.cip, Objects.cip("p1", glob: "registry.example/good/*"))
        h.source.start()
        #expect(await eventually { h.globs == ["registry.example/good/*"] })

        try h.server.put(Objects.cip, Objects.invalidCIP("p1"))
        #expect(await eventually { h.source.invalidObjects["clusterimagepolicy/p1"] != nil })
        #expect(h.globs == ["registry.example/good/*"], "the previous valid version must stay enforced")
        let message = h.source.invalidObjects["clusterimagepolicy/p1"] ?? ""
        #expect(message.contains("clusterimagepolicy/p1") && message.contains("authorities[0]"), "error names object and field: \(message)")
        // Reported as a Kubernetes Event about the object.
        #expect(try await eventually {
            let events = try h.server.state()["events"]?.arrayValue ?? []
            return events.contains { $0["reason"] == "InvalidPolicy" && $0["involvedObject"]?["name"] == "p1" && $0["type"] == "Warning" }
        })
        // A new invalid object contributes nothing; a fix clears the problem.
        try h.server.put(Objects.cip, Objects.invalidCIP("p2"))
        #expect(await eventually { h.source.invalidObjects["clusterimagepolicy/p2"] != nil })
        #expect(h.globs == ["registry.example/good/*"])
        try h.server.put(Objects.cip, Objects.cip("p1", glob: "registry.example/fixed/*"))
        #expect(await eventually { h.globs == ["registry.example/fixed/*"] && h.source.invalidObjects["clusterimagepolicy/p1"] == nil })
    }

    @Test func droppedWatchReconnectsWithoutLosingUpdates() async throws {
        let h = try Harness()
        h.source.start()
        #expect(await eventually { h.store.currentStatus.loaded })
        let watchesBefore = try h.server.counter("watches")
        // Drop and change at once: the change lands while no watch is open and must be replayed.
        try h.server.control("drop")
        try h.server.put(Objects.cip, Objects.cip("during-drop", glob: "registry.example/dropped/*"))
        #expect(await eventually { h.globs == ["registry.example/dropped/*"] })
        #expect(try await eventually { try h.server.counter("watches") > watchesBefore })

        // Expired resourceVersion: the open watch gets ERROR 410, the reflector relists and sees a change
        // made after the compaction.
        let listsBefore = try h.server.counter("lists")
        try h.server.control("drop")
        try h.server.control("expire")
        try h.server.put(Objects.cip, Objects.cip("after-expire", glob: "registry.example/expired/*"))
        #expect(await eventually { h.globs == ["registry.example/dropped/*", "registry.example/expired/*"] })
        #expect(try await eventually { try h.server.counter("lists") > listsBefore }, "410 Gone must trigger a relist")

        // A deletion during an expired watch is seen through the relist too.
        try h.server.control("expire")
        try h.server.delete(Objects.cip, name: "during-drop")
        #expect(await eventually { h.globs == ["registry.example/expired/*"] })
    }

    @Test func garbageEventsAndGoneListsAreSurvived() async throws {
        let h = try Harness()
        try h.server.control("list410", ["count": 2])
        h.source.start()
        #expect(await eventually { h.store.currentStatus.loaded }, "lists answering 410 are retried")
        try h.server.control("garbage")
        try h.server.put(Objects.cip, Objects.cip("after-garbage", glob: "registry.example/g/*"))
        #expect(await eventually { h.globs == ["registry.example/g/*"] })
    }

    @Test func bookmarksAdvanceTheResourceVersion() async throws {
        let server = try FakeAPIServer()
        let client = try KubeClient(config: server.config)
        let seen = Counter()
        let reflector = Reflector(client: client, resource: ClusterPolicySource.clusterImagePolicies, timing: fastTiming, logger: testLogger) { _ in seen.add() }
        defer { reflector.stop() }
        reflector.start()
        #expect(await eventually { seen.value >= 1 })
        // A change elsewhere moves the global resourceVersion; only a bookmark carries it to this watch.
        try server.put(Objects.trustRoot, ["apiVersion": "policy.sigstore.dev/v1alpha1", "kind": "TrustRoot", "metadata": ["name": "t"],
                                           "spec": ["remote": ["mirror": "https://tuf.example"]]])
        let rv = try server.counter("rv")
        #expect(reflector.resourceVersion != String(rv))
        try server.control("bookmark")
        #expect(await eventually { reflector.resourceVersion == String(rv) }, "bookmark not applied: \(reflector.resourceVersion ?? "nil") vs \(rv)")
        #expect(seen.value == 1, "a bookmark is not a change")
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func add() { lock.lock(); n += 1; lock.unlock() }
        var value: Int { lock.lock(); defer { lock.unlock() }; return n }
    }

    @Test func tokenRotationIsHonoured() async throws {
        let h = try Harness()
        h.source.start()
        #expect(await eventually { h.store.currentStatus.loaded })
        // The API server now only accepts the new token; the service account token file is rotated in place.
        try h.server.control("token", ["token": "token-2"])
        try h.server.control("drop")
        #expect(try await eventually { try h.server.counter("unauthorized") > 0 }, "old token must be refused")
        try "token-2\n".write(toFile: h.server.tokenFile, atomically: true, encoding: .utf8)
        try h.server.put(Objects.cip, Objects.cip("rotated", glob: "registry.example/rotated/*"))
        #expect(await eventually { h.globs == ["registry.example/rotated/*"] })
    }
}

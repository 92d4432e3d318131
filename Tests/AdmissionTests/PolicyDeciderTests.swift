import Admission
import Foundation
import ImagePolicy
import ImageReference
import Logging
import Testing

/// Tests call `decideAsync`: the blocking `decide` is for the server's worker threads, not the test's cooperative pool.
/// Decisions with fake registry/verifier: the admission logic itself (extraction, modes, patches, deadlines).
struct PolicyDeciderTests {
    struct FakeError: TransientError, CustomStringConvertible {
        var isTransient: Bool
        var description: String
    }

    /// Tags resolve to digests derived from the name; `unreachable.example` fails transiently.
    struct FakeResolver: DigestResolver {
        func digest(of image: ImageRef, deadline: Deadline) async throws -> String {
            if image.registry == "unreachable.example" { throw FakeError(isTransient: true, description: "registry unreachable.example: connection refused") }
            return Self.digest(for: image.repository + ":" + (image.tag ?? "latest"))
        }
        static func digest(for name: String) -> String {
            "sha256:" + String(repeating: String(format: "%02x", abs(name.hashValue) % 256), count: 32)
        }
    }

    /// Signed = repository contains "signed"; "slow" never answers in time.
    struct FakeVerifier: AuthorityVerifier {
        func verifySignature(image: ImageRef, digest: String, authority: SignatureAuthority) async -> AuthorityOutcome {
            if image.repository.contains("slow") {
                try? await Task.sleep(nanoseconds: 5_000_000_000)
            }
            return image.repository.contains("signed") && !image.repository.contains("unsigned")
                ? .pass() : .fail("no matching signatures for \(image.repository)")
        }
        func verifyAttestations(image: ImageRef, digest: String, authority: SignatureAuthority?, predicateType: String) async -> AuthorityOutcome {
            .fail("no attestations")
        }
    }

    static let policyYAML = """
    apiVersion: policy.sigstore.dev/v1beta1
    kind: ClusterImagePolicy
    metadata:
      name: shop-keyless
    spec:
      images:
        - glob: "ghcr.io/example/**"
        - glob: "unreachable.example/**"
      authorities:
        - keyless:
            url: https://fulcio.sigstore.dev
            identities:
              - issuer: https://token.actions.githubusercontent.com
                subject: https://github.com/example/shop/.github/workflows/release.yml@refs/heads/main
    ---
    apiVersion: policy.sigstore.dev/v1beta1
    kind: ClusterImagePolicy
    metadata:
      name: blocked-registry
    spec:
      images:
        - glob: "evil.example/**"
      authorities:
        - static:
            action: fail
            message: images from evil.example are not allowed
    """

    func decider(_ adjust: (inout AdmissionSettings) -> Void = { _ in }) throws -> PolicyDecider {
        let policies = try PolicyLoader.load(text: Self.policyYAML, file: "test.yaml").get()
        var settings = AdmissionSettings()
        adjust(&settings)
        return PolicyDecider(store: PolicyStore(policies: policies), resolver: FakeResolver(), verifier: FakeVerifier(),
                             settings: settings, logger: Logger(label: "test"))
    }

    static func podRequest(_ images: [String], kind: String = "Pod", operation: String = "CREATE", old: [String]? = nil) throws -> AdmissionRequest {
        func object(_ images: [String]) -> String {
            let containers = images.enumerated().map { #"{"name":"c\#($0.offset)","image":"\#($0.element)"}"# }.joined(separator: ",")
            let spec = #"{"containers":[\#(containers)]}"#
            switch kind {
            case "Pod": return #"{"metadata":{"name":"p","namespace":"ns"},"spec":\#(spec)}"#
            case "CronJob": return #"{"metadata":{"name":"p"},"spec":{"jobTemplate":{"spec":{"template":{"spec":\#(spec)}}}}}"#
            default: return #"{"metadata":{"name":"p"},"spec":{"template":{"spec":\#(spec)}}}"#
            }
        }
        let oldPart = old.map { #","oldObject":\#(object($0))"# } ?? ""
        let json = #"{"uid":"u1","kind":{"group":"","version":"v1","kind":"\#(kind)"},"resource":{"group":"","version":"v1","resource":"x"},"namespace":"ns","operation":"\#(operation)","object":\#(object(images))\#(oldPart)}"#
        return try JSONDecoder().decode(AdmissionRequest.self, from: Data(json.utf8))
    }

    func patch(_ response: AdmissionResponse) throws -> [[String: String]] {
        guard let data = response.patch else { return [] }
        return try JSONSerialization.jsonObject(with: data) as! [[String: String]]
    }

    @Test("signed images pass and are pinned by the mutating webhook; unmatched images are untouched")
    func allowAndPin() async throws {
        let d = try decider()
        let request = try Self.podRequest(["ghcr.io/example/signed-app:v1", "docker.io/library/busybox:1.36"])
        let validate = await d.decideAsync(request, mutating: false, timeout: 10)
        #expect(validate.allowed)
        #expect(validate.auditAnnotations?["decision"] == "allowed")
        let mutate = await d.decideAsync(request, mutating: true, timeout: 10)
        #expect(mutate.patchType == "JSONPatch")
        let digest = FakeResolver.digest(for: "example/signed-app:v1")
        #expect(try patch(mutate) == [["op": "replace", "path": "/spec/containers/0/image", "value": "ghcr.io/example/signed-app:v1@\(digest)"]])
        // Idempotent: the pinned image produces no further patch.
        let again = await d.decideAsync(try Self.podRequest(["ghcr.io/example/signed-app:v1@\(digest)"]), mutating: true, timeout: 10)
        #expect(again.patch == nil)
    }

    @Test("digest-only pinning and validate-only pinning")
    func pinningModes() async throws {
        let request = try Self.podRequest(["ghcr.io/example/signed-app:v1"], kind: "Deployment")
        let digest = FakeResolver.digest(for: "example/signed-app:v1")
        let digestOnly = try await decider { $0.pinning = .digest }.decideAsync(request, mutating: true, timeout: 10)
        #expect(try patch(digestOnly) == [["op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "ghcr.io/example/signed-app@\(digest)"]])
        let none = try await decider { $0.pinning = .none }.decideAsync(request, mutating: true, timeout: 10)
        #expect(none.patch == nil)
    }

    @Test("pin scope: all pins Pods and Deployments; pods pins only Pods; require-digest never patches and denies tags")
    func pinScopes() async throws {
        let digest = FakeResolver.digest(for: "example/signed-app:v1")
        let pod = try Self.podRequest(["ghcr.io/example/signed-app:v1"])
        let deployment = try Self.podRequest(["ghcr.io/example/signed-app:v1"], kind: "Deployment")
        let podPatch = [["op": "replace", "path": "/spec/containers/0/image", "value": "ghcr.io/example/signed-app:v1@\(digest)"]]
        let deploymentPatch = [["op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "ghcr.io/example/signed-app:v1@\(digest)"]]

        let all = try decider { $0.pinScope = .all }
        #expect(try patch(await all.decideAsync(pod, mutating: true, timeout: 10)) == podPatch)
        #expect(try patch(await all.decideAsync(deployment, mutating: true, timeout: 10)) == deploymentPatch)

        let pods = try decider { $0.pinScope = .pods }
        #expect(try patch(await pods.decideAsync(pod, mutating: true, timeout: 10)) == podPatch)
        #expect(await pods.decideAsync(deployment, mutating: true, timeout: 10).patch == nil, "controllers stay as written")
        #expect(await pods.decideAsync(deployment, mutating: false, timeout: 10).allowed)

        let strict = try decider { $0.pinScope = .requireDigest }
        #expect(await strict.decideAsync(pod, mutating: true, timeout: 10).patch == nil)
        #expect(await strict.decideAsync(deployment, mutating: true, timeout: 10).patch == nil)
        let denied = await strict.decideAsync(deployment, mutating: false, timeout: 10)
        #expect(!denied.allowed)
        #expect(denied.status?.message?.contains("must be pinned to a digest") == true, "\(denied.status?.message ?? "")")
        #expect(denied.status?.message?.contains("ghcr.io/example/signed-app:v1@\(digest)") == true, "the message names the reference to use")
        let pinned = try Self.podRequest(["ghcr.io/example/signed-app:v1@\(digest)"], kind: "Deployment")
        #expect(await strict.decideAsync(pinned, mutating: false, timeout: 10).allowed)
        // Images no policy covers are not the pinning mode's business.
        #expect(await strict.decideAsync(try Self.podRequest(["quay.io/other/app:1"]), mutating: false, timeout: 10).allowed)
    }

    @Test("structured reasons: every check recorded with policy, authority, kind, result and transient flag")
    func structuredReasons() async throws {
        let d = try decider()
        let result = await d.explain(try Self.podRequest(["ghcr.io/example/unsigned:v1", "evil.example/x:1", "unreachable.example/app:1", "ghcr.io/example/signed:v1"]),
                                     mutating: false, timeout: 10)
        let checks = result.images.flatMap(\.checks)
        let unsigned = try #require(checks.first { $0.image == "ghcr.io/example/unsigned:v1" && $0.check == "signature" })
        #expect(unsigned.policy == "ClusterImagePolicy/shop-keyless" && unsigned.authority.hasPrefix("authorities[0]") && unsigned.result == "fail" && !unsigned.transient)
        #expect(unsigned.detail.contains("no matching signatures"))
        let blocked = try #require(checks.first { $0.image == "evil.example/x:1" })
        #expect(blocked.check == "static" && blocked.result == "fail" && blocked.detail.contains("not allowed"))
        let unreachable = try #require(checks.first { $0.image == "unreachable.example/app:1" })
        #expect(unreachable.check == "resolve" && unreachable.transient && unreachable.detail.contains("connection refused"))
        #expect(checks.contains { $0.image == "ghcr.io/example/signed:v1" && $0.result == "pass" && $0.check == "signature" })
        // One readable line per failing image in the deny message.
        let lines = (result.response.status?.message ?? "").split(separator: "\n").dropFirst()
        #expect(lines.count == 3, "\(lines)")
        #expect(lines.contains { $0.contains("unreachable.example/app:1") && $0.contains("transient, retry") })
    }

    @Test("a failing image is denied with a message naming image, policy and check")
    func denyMessage() async throws {
        let response = try await decider().decideAsync(try Self.podRequest(["ghcr.io/example/unsigned:v1", "evil.example/x:1"]), mutating: false, timeout: 10)
        #expect(!response.allowed)
        #expect(response.status?.code == 403)
        let message = response.status?.message ?? ""
        #expect(message.hasPrefix("sealgate denied Pod ns/p:"), "\(message)")
        #expect(message.contains("image ghcr.io/example/unsigned:v1"), "\(message)")
        #expect(message.contains("shop-keyless"), "\(message)")
        #expect(message.contains("no matching signatures"), "\(message)")
        #expect(message.contains("images from evil.example are not allowed"), "\(message)")
        // The mutating webhook never pins a failing image.
        #expect(try await decider().decideAsync(try Self.podRequest(["ghcr.io/example/unsigned:v1"]), mutating: true, timeout: 10).patch == nil)
    }

    @Test("warn and audit modes allow; warn tells the client, audit records it")
    func modes() async throws {
        let request = try Self.podRequest(["ghcr.io/example/unsigned:v1"])
        let warn = try await decider { $0.mode = .warn }.decideAsync(request, mutating: false, timeout: 10)
        #expect(warn.allowed)
        #expect(warn.warnings?.first?.hasPrefix("would be denied: image ghcr.io/example/unsigned:v1") == true)
        let auditPath = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString).jsonl").path
        let policies = try PolicyLoader.load(text: Self.policyYAML, file: "test.yaml").get()
        var settings = AdmissionSettings()
        settings.mode = .audit
        let auditing = PolicyDecider(store: PolicyStore(policies: policies), resolver: FakeResolver(), verifier: FakeVerifier(),
                                     settings: settings, logger: Logger(label: "test"), audit: try AuditLog(path: auditPath))
        let audit = await auditing.decideAsync(request, mutating: false, timeout: 10)
        #expect(audit.allowed)
        #expect(audit.warnings == nil)
        #expect(audit.auditAnnotations?["would-deny"]?.contains("ghcr.io/example/unsigned:v1") == true)
        let lines = try String(contentsOfFile: auditPath, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1)
        let record = try JSONDecoder().decode(AuditRecord.self, from: Data(lines[0].utf8))
        #expect(record.mode == "audit" && record.allowed && record.images.first?.image == "ghcr.io/example/unsigned:v1")
    }

    @Test("no-match policy: allow, warn or deny images no policy covers", arguments: AdmissionSettings.NoMatch.allCases)
    func noMatch(_ setting: AdmissionSettings.NoMatch) async throws {
        let response = try await decider { $0.noMatch = setting }.decideAsync(try Self.podRequest(["quay.io/other/app:1"]), mutating: false, timeout: 10)
        #expect(response.allowed == (setting != .deny))
        #expect((response.warnings?.first?.contains("no policy matches") ?? false) == (setting == .warn))
    }

    @Test("UPDATE checks only changed images; DELETE is ignored; every workload kind is read")
    func operationsAndKinds() async throws {
        let d = try decider()
        let unchanged = try Self.podRequest(["ghcr.io/example/unsigned:v1"], operation: "UPDATE", old: ["ghcr.io/example/unsigned:v1"])
        #expect(await d.decideAsync(unchanged, mutating: false, timeout: 10).allowed)
        let changed = try Self.podRequest(["ghcr.io/example/unsigned:v2"], operation: "UPDATE", old: ["ghcr.io/example/unsigned:v1"])
        let changedAllowed = await d.decideAsync(changed, mutating: false, timeout: 10).allowed
        #expect(!changedAllowed)
        #expect(await d.decideAsync(try Self.podRequest(["evil.example/x:1"], operation: "DELETE"), mutating: false, timeout: 10).allowed)
        for kind in ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicationController"] {
            let r = await d.decideAsync(try Self.podRequest(["evil.example/x:1"], kind: kind), mutating: false, timeout: 10)
            #expect(!r.allowed, "\(kind) not checked")
        }
    }

    @Test("ephemeral and init containers are found with their JSON pointers")
    func containerLists() async throws {
        let object = try JSONValue.parse(#"{"spec":{"initContainers":[{"name":"i","image":"a:1"}],"containers":[{"name":"c","image":"b:1"}],"ephemeralContainers":[{"name":"e","image":"c:1"}]}}"#)
        let images = WorkloadImages.images(in: object, kind: "Pod")
        #expect(images.map(\.pointer) == ["/spec/initContainers/0/image", "/spec/containers/0/image", "/spec/ephemeralContainers/0/image"])
        #expect(images.map(\.image) == ["a:1", "b:1", "c:1"])
        #expect(WorkloadImages.images(in: object, kind: "ConfigMap").isEmpty)
    }

    @Test("registry failures: transient deny (fail closed) or warn (fail open); slow verification answers by the deadline")
    func failures() async throws {
        let closed = try await decider().decideAsync(try Self.podRequest(["unreachable.example/app:1"]), mutating: false, timeout: 10)
        #expect(!closed.allowed)
        #expect(closed.status?.message?.contains("connection refused") == true)
        #expect(closed.status?.message?.contains("transient") == true)
        let open = try await decider { $0.failOpen = true }.decideAsync(try Self.podRequest(["unreachable.example/app:1"]), mutating: false, timeout: 10)
        #expect(open.allowed)

        let started = Date()
        let slow = try await decider { $0.deadlineMargin = 0.2 }.decideAsync(try Self.podRequest(["ghcr.io/example/slow-signed:v1", "ghcr.io/example/signed:v1"]), mutating: false, timeout: 1)
        let elapsed = Date().timeIntervalSince(started)
        #expect(!slow.allowed)
        #expect(slow.status?.message?.contains("did not finish before the admission deadline") == true)
        #expect(slow.status?.message?.contains("ghcr.io/example/slow-signed:v1") == true)
        #expect(slow.status?.message?.contains("image ghcr.io/example/signed:v1") == false)
        // The message above proves the deadline path; this is only a loose sanity bound (the slow verifier takes 5 s).
        #expect(elapsed < 10, "answer must come by the deadline, took \(elapsed)")
    }

    @Test("invalid image references are denied with the reason")
    func invalidReference() async throws {
        let response = try await decider().decideAsync(try Self.podRequest(["GHCR.io/Bad Image"]), mutating: false, timeout: 10)
        #expect(!response.allowed)
        #expect(response.status?.message?.contains("invalid image reference") == true)
    }
}

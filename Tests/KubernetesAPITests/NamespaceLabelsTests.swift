import Admission
import Foundation
import ImagePolicy
import ImageReference
import KubernetesAPI
import KubernetesTestSupport
import Testing
import TestSupport

/// Kyverno `namespaceSelector` in serve: the same rule follows a Namespace's labels as they change in the cluster.
@Suite(.serialized)
struct NamespaceLabelsTests {
    struct NoResolver: DigestResolver {
        func digest(of image: ImageRef, deadline: Deadline) async throws -> String { throw KubeError.transport("no registry in this test") }
    }
    struct NoVerifier: AuthorityVerifier {
        func verifySignature(image: ImageRef, digest: String, authority: SignatureAuthority) async -> AuthorityOutcome { .fail("unexpected") }
        func verifyAttestations(image: ImageRef, digest: String, authority: SignatureAuthority?, predicateType: String) async -> AuthorityOutcome { .fail("unexpected") }
    }

    /// Pods in namespaces labelled env=prod must carry a KMS signature, which never verifies here: denied there, allowed elsewhere.
    static let policy = """
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata: {name: prod-signed, annotations: {pod-policies.kyverno.io/autogen-controllers: none}}
    spec:
      rules:
      - name: prod
        match: {any: [{resources: {kinds: [Pod], namespaceSelector: {matchLabels: {env: prod}}}}]}
        verifyImages:
        - imageReferences: ["*"]
          failureAction: Enforce
          attestors: [{entries: [{keys: {kms: "awskms:///alias/never"}}]}]
    """

    static func namespace(_ name: String, _ labels: [String: String]) -> JSONValue {
        ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name), "labels": .object(labels.mapValues { .string($0) })]]
    }

    static func pod(in ns: String) throws -> AdmissionRequest {
        try ResourceRequests.request(for: ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "web", "namespace": .string(ns)],
                                           "spec": ["containers": [["name": "c", "image": .string("ghcr.io/a/b@sha256:" + String(repeating: "a", count: 64))]]]])
    }

    @Test func ruleFollowsNamespaceLabelsAsTheyChange() async throws {
        let api = try FakeAPIServer()
        try api.put("namespaces", Self.namespace("shop", ["env": "dev"]))
        let client = try KubeClient(config: api.config)
        let namespaces = NamespaceLabels(client: client, timing: fastTiming, logger: testLogger)
        namespaces.start()
        defer { namespaces.stop() }

        let dir = try makeTemporaryDirectory("ns-labels")
        let file = dir.appendingPathComponent("policy.yaml")
        try Self.policy.write(to: file, atomically: true, encoding: .utf8)
        let store = PolicyStore(paths: [file.path], logger: testLogger)
        #expect(store.reload() == nil)
        let decider = PolicyDecider(store: store, resolver: NoResolver(), verifier: NoVerifier(), settings: AdmissionSettings(), logger: testLogger,
                                    adjustContext: { request, context in
                                        if let ns = request.namespace, let labels = await namespaces.labels(of: ns) { context.namespaceLabels = labels }
                                    })
        func allowed(_ ns: String) async throws -> Bool { await decider.decideAsync(try Self.pod(in: ns), mutating: false, timeout: 10).allowed }

        #expect(try await allowed("shop"), "env=dev: the rule does not apply")
        try api.put("namespaces", Self.namespace("shop", ["env": "prod"]))
        #expect(try await eventually { namespaces.viewed("shop") == ["env": "prod"] })
        #expect(try await allowed("shop") == false, "relabelled env=prod: the same rule now applies")
        let denied = await decider.decideAsync(try Self.pod(in: "shop"), mutating: false, timeout: 10)
        #expect(denied.status?.message?.contains("ClusterPolicy/prod-signed") == true, "\(denied.status?.message ?? "")")
        try api.put("namespaces", Self.namespace("shop", [:]))
        #expect(try await eventually { namespaces.viewed("shop") == [:] })
        #expect(try await allowed("shop"))
        // A namespace is found whether or not the watch has delivered it yet (a miss is read directly); an absent one has none.
        try api.put("namespaces", Self.namespace("fresh", ["env": "prod"]))
        #expect(await namespaces.labels(of: "fresh") == ["env": "prod"])
        #expect(await namespaces.labels(of: "absent") == nil)
    }
}

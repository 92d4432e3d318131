import Foundation
import Testing
import ImageReference
@testable import ImagePolicy

/// `imageExtractors` (kyverno pkg/utils/api/image.go): path walking, value/key/name/jmesPath, errors.
@Suite struct KyvernoImageExtractorTests {
    static let dataVolume: JSONValue = [
        "kind": "DataVolume", "metadata": ["name": "dv"],
        "spec": ["source": ["registry": ["url": "docker://ghcr.io/kyverno/test-verify-image:signed"]]],
    ]
    static let task: JSONValue = [
        "kind": "Task", "metadata": ["name": "t"],
        "spec": ["steps": [["name": "build", "image": "ghcr.io/a/build:1"], ["name": "empty", "image": "  "], ["name": "test", "image": "ghcr.io/a/test:2"]],
                 "sidecars": ["s1": ["ref": "ghcr.io/a/side:3"]]],
    ]

    func extract(_ e: [KyvernoImageExtractor], _ o: JSONValue) throws -> [KyvernoImageExtraction.Found] {
        try KyvernoImageExtraction.images(e, in: o)
    }

    @Test func pathsValuesAndPointers() throws {
        let steps = try extract([KyvernoImageExtractor(path: "/spec/steps/*/image", key: "name")], Self.task)
        #expect(steps.map(\.image) == ["ghcr.io/a/build:1", "ghcr.io/a/test:2"], "a blank value is no image")
        #expect(steps.map(\.pointer) == ["/spec/steps/0/image", "/spec/steps/2/image"])
        #expect(steps.first?.name == "custom")
        let explicit = try extract([KyvernoImageExtractor(path: "/spec/steps/*", value: "image", name: "steps")], Self.task)
        #expect(explicit.map(\.image) == ["ghcr.io/a/build:1", "ghcr.io/a/test:2"] && explicit.first?.name == "steps")
        let map = try extract([KyvernoImageExtractor(path: "/spec/sidecars/*/ref")], Self.task)
        #expect(map.map(\.pointer) == ["/spec/sidecars/s1/ref"], "* walks map values too")
        #expect(try extract([KyvernoImageExtractor(path: "/spec/missing/*/image")], Self.task).isEmpty, "an absent path has no images")
    }

    @Test func jmesPathTurnsTheValueIntoTheImage() throws {
        let e = KyvernoImageExtractor(path: "/spec/source/registry/url", jmesPath: "trim_prefix(@, 'docker://')")
        let found = try extract([e], Self.dataVolume)
        #expect(found.map(\.image) == ["ghcr.io/kyverno/test-verify-image:signed"])
        #expect(found.map(\.pointer) == ["/spec/source/registry/url"])
    }

    @Test func errorsAsKyvernoReportsThem() {
        func message(_ e: KyvernoImageExtractor, _ o: JSONValue) -> String {
            do { _ = try extract([e], o); return "" } catch { return "\(error)" }
        }
        #expect(message(KyvernoImageExtractor(path: "/spec/steps/image"), Self.task).contains("invalid image config"))
        #expect(message(KyvernoImageExtractor(path: "/metadata/name/*/image"), Self.task).contains("invalid type"))
        #expect(message(KyvernoImageExtractor(path: "/spec/steps/*/image", key: "nope"), Self.task).contains("invalid key"))
        #expect(message(KyvernoImageExtractor(path: "/spec/source/registry/url", jmesPath: "length(@)"), Self.dataVolume).contains("must produce a string"))
        #expect(message(KyvernoImageExtractor(path: "/spec/source/registry/url"), Self.dataVolume).contains("invalid image 'docker://"))
    }

    static let policy = """
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata: {name: dv, annotations: {pod-policies.kyverno.io/autogen-controllers: none}}
    spec:
      rules:
      - name: verify
        match: {any: [{resources: {kinds: [DataVolume, Pod]}}]}
        imageExtractors:
          DataVolume: [{path: /spec/source/registry/url, jmesPath: "trim_prefix(@, 'docker://')"}]
        verifyImages:
        - imageReferences: ["ghcr.io/*"]
          failureAction: Enforce
          mutateDigest: false
          verifyDigest: false
          attestors: [{entries: [{keys: {secret: {name: k, namespace: n}}}]}]
    """

    @Test func aRuleVerifiesOnlyWhatItsExtractorsFind() async throws {
        let r = load(Self.policy)
        #expect(!r.hasErrors, "\(errorText(r))")
        let evaluator = PolicyEvaluator(policies: r.policies)
        let v = FakeVerifier()
        v.signatures["k"] = .pass()
        var dv = AdmissionContext(kind: "DataVolume", group: "cdi.kubevirt.io", version: "v1beta1", resource: "datavolumes", namespace: "default",
                                  name: "dv", object: Self.dataVolume)
        dv.standardImages = []
        let found = try ImageRef(parsing: "ghcr.io/kyverno/test-verify-image:signed")
        #expect(await evaluator.evaluate(image: found, digest: digest, context: dv, verifier: v).decision == .pass)
        // An image the extractors did not find in this object is not the rule's to verify.
        #expect(await evaluator.evaluate(image: try ImageRef(parsing: "ghcr.io/other:1"), digest: digest, context: dv, verifier: v).decision == .skip)
        #expect(!evaluator.applies(image: try ImageRef(parsing: "ghcr.io/other:1"), context: dv))
        // A Pod (no extractors for it) uses the standard images only.
        var pod = AdmissionContext(kind: "Pod", resource: "pods", namespace: "default", name: "p")
        pod.standardImages = ["ghcr.io/a/b:1"]
        #expect(await evaluator.evaluate(image: try ImageRef(parsing: "ghcr.io/a/b:1"), digest: digest, context: pod, verifier: v).decision == .pass)
        #expect(await evaluator.evaluate(image: try ImageRef(parsing: "ghcr.io/a/c:1"), digest: digest, context: pod, verifier: v).decision == .skip)
        // An extractor that fails on this object is a rule error.
        dv.object = ["kind": "DataVolume", "spec": ["source": "flat"]]
        let broken = await evaluator.evaluate(image: found, digest: digest, context: dv, verifier: v)
        #expect(broken.decision == .fail && broken.reasons.contains { $0.detail.contains("invalid image config") }, "\(broken.reasons)")
    }
}

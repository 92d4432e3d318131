import Foundation
import Registry
import Testing
import TestSupport

/// `sealgate test` with a Values file's namespaceSelector (and `apply` with Namespace objects), as the kyverno CLI:
/// a namespace the Values do not list has no labels. Offline: a digest-pinned image passes without the registry,
/// a tag cannot be resolved from an empty layout and fails — but only where the rule applies.
@Suite struct NamespaceValuesTests {
    static let digestImage = "ghcr.io/a/b@sha256:" + String(repeating: "b", count: 64)

    static let policy = """
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata: {name: prod-digests, annotations: {pod-policies.kyverno.io/autogen-controllers: none}}
    spec:
      rules:
      - name: digest
        match: {any: [{resources: {kinds: [Pod], namespaceSelector: {matchLabels: {env: prod}}}}]}
        exclude: {any: [{resources: {kinds: [Pod], namespaceSelector: {matchLabels: {skip: "yes"}}}}]}
        verifyImages:
        - imageReferences: ["*"]
          failureAction: Enforce
          mutateDigest: false
          required: false
          verifyDigest: true
    """

    static func pod(_ name: String, _ ns: String, _ image: String) -> String {
        "---\napiVersion: v1\nkind: Pod\nmetadata: {name: \(name), namespace: \(ns)}\nspec: {containers: [{name: c, image: \"\(image)\"}]}\n"
    }

    static let resources = pod("pinned", "prod-a", digestImage) + pod("tagged", "prod-b", "ghcr.io/a/b:1") + pod("dev", "dev-a", "ghcr.io/a/b:1")
        + pod("skipped", "prod-c", "ghcr.io/a/b:1") + pod("unlisted", "other", "ghcr.io/a/b:1")

    static let values = """
    apiVersion: cli.kyverno.io/v1alpha1
    kind: Values
    namespaceSelector:
    - {name: prod-a, labels: {env: prod}}
    - {name: prod-b, labels: {env: prod}}
    - {name: dev-a, labels: {env: dev}}
    - {name: prod-c, labels: {env: dev}}
    namespaces:
    - {apiVersion: v1, kind: Namespace, metadata: {name: prod-c, labels: {env: prod, skip: "yes"}}}
    """

    static let test = """
    apiVersion: cli.kyverno.io/v1alpha1
    kind: Test
    metadata: {name: ns}
    policies: [policy.yaml]
    resources: [resources.yaml]
    variables: values.yaml
    results:
    - {policy: prod-digests, rule: digest, kind: Pod, resources: [prod-a/pinned], result: pass}
    - {policy: prod-digests, rule: digest, kind: Pod, resources: [prod-b/tagged], result: fail}
    - {policy: prod-digests, rule: digest, kind: Pod, resources: [dev-a/dev, prod-c/skipped, other/unlisted], result: skip}
    """

    func setUp() throws -> (dir: URL, layout: String) {
        let dir = try makeTemporaryDirectory("ns-values")
        for (name, text) in [("policy.yaml", Self.policy), ("resources.yaml", Self.resources), ("values.yaml", Self.values), ("kyverno-test.yaml", Self.test)] {
            try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let layout = dir.appendingPathComponent("layout").path
        try OCILayout.create(directory: layout).writeIndex()
        return (dir, layout)
    }

    @Test("pass / fail / skip per namespace from the Values file's namespaceSelector and namespaces")
    func testFollowsValues() throws {
        let (dir, layout) = try setUp()
        let run = try SealgateCLI.run(["test", dir.path, "--offline", layout], environment: ["HOME": dir.path])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("5 tests passed and 0 tests failed"), "\(run.stdout)")
        // The same expectations without the Values file: nothing is labelled, so the rule applies nowhere.
        let bare = Self.test.replacingOccurrences(of: "variables: values.yaml\n", with: "")
        try bare.write(to: dir.appendingPathComponent("kyverno-test.yaml"), atomically: true, encoding: .utf8)
        let without = try SealgateCLI.run(["test", dir.path, "--offline", layout], environment: ["HOME": dir.path])
        #expect(without.status == 1 && without.stdout.contains("Want pass, got skip") && without.stdout.contains("Want fail, got skip"), "\(without.stdout)")
    }

    @Test("apply: Namespace objects among the resources give their labels; --values-file overrides them")
    func applyReadsNamespaceObjects() throws {
        let (dir, layout) = try setUp()
        let withNamespaces = Self.resources + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: dev-a, labels: {env: prod}}\n"
        let file = dir.appendingPathComponent("cluster.yaml")
        try withNamespaces.write(to: file, atomically: true, encoding: .utf8)
        let policy = dir.appendingPathComponent("policy.yaml").path
        func results(_ extra: [String]) throws -> [String: String] {
            let run = try SealgateCLI.run(["apply", "--policy", policy, "--resource", file.path, "--offline", layout, "--audit", "-o", "json"] + extra,
                                         environment: ["HOME": dir.path])
            #expect(run.status == 0, "\(run.stderr)")
            let rows = (try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8))) as? [[String: Any]] ?? []
            var out: [String: String] = [:]
            for r in rows { if let res = r["resource"] as? [String: Any], let name = res["name"] as? String { out[name] = r["result"] as? String } }
            return out
        }
        let fromObjects = try results([])
        #expect(fromObjects["dev"] == "fail" && fromObjects["tagged"] == nil && fromObjects["pinned"] == nil, "only dev-a is labelled env=prod: \(fromObjects)")
        let fromValues = try results(["--values-file", dir.appendingPathComponent("values.yaml").path])
        #expect(fromValues["pinned"] == "pass" && fromValues["tagged"] == "fail" && fromValues["dev"] == nil, "\(fromValues)")
    }
}

import Foundation
import Testing
import ImageReference
@testable import ImagePolicy

/// Fields whose behaviour had no test of its own: ClusterImagePolicy `match[].selector`, `policy.includeSpec` /
/// `includeObjectMeta`, authority `name` and `key.hashAlgorithm`; Kyverno filter `names`, `annotations`, `selector`
/// and `operations`.
@Suite struct FieldBehaviourTests {
    @Test("CIP match[].selector: only objects whose labels match are checked")
    func matchSelectorFiltersByLabels() async throws {
        let yaml = cip("labelled", authorities: "  - static: {action: fail}", extra: "  match: [{resource: pods, version: v1, selector: {matchLabels: {app: web}}}]")
        #expect(try await evaluate(yaml, image: "ghcr.io/x/y", verifier: FakeVerifier()).decision == .fail)
        let other = AdmissionContext(kind: "Pod", resource: "pods", namespace: "default", name: "db", labels: ["app": "db"])
        #expect(try await evaluate(yaml, image: "ghcr.io/x/y", context: other, verifier: FakeVerifier()).decision == .skip)
    }

    @Test("CIP spec.policy includeSpec and includeObjectMeta hand the object's spec and metadata to CUE")
    func specPolicyIncludesSpecAndObjectMeta() async throws {
        let policy = """
          policy:
            type: cue
            includeSpec: true
            includeObjectMeta: true
            data: |
              spec: serviceAccountName: "builder"
              metadata: name: "web"
        """
        let yaml = cip("object", authorities: "  - static: {action: pass}", extra: policy)
        func context(_ sa: String, _ name: String) -> AdmissionContext {
            AdmissionContext(kind: "Pod", resource: "pods", namespace: "default", name: name,
                             object: ["metadata": ["name": .string(name)], "spec": ["serviceAccountName": .string(sa)]])
        }
        #expect(try await evaluate(yaml, image: "ghcr.io/x/y", context: context("builder", "web"), verifier: FakeVerifier()).decision == .pass)
        #expect(try await evaluate(yaml, image: "ghcr.io/x/y", context: context("default", "web"), verifier: FakeVerifier()).decision == .fail)
        #expect(try await evaluate(yaml, image: "ghcr.io/x/y", context: context("builder", "api"), verifier: FakeVerifier()).decision == .fail)
    }

    @Test("CIP authority name labels its checks; key.hashAlgorithm reaches the authority")
    func authorityNameAndHashAlgorithm() throws {
        let key = AuthorityFieldTests.keyPEM.replacingOccurrences(of: "\n", with: "\\n")
        let r = load(AuthorityFieldTests.policy("name: corp\n      key: {data: \"\(key)\", hashAlgorithm: sha512}"))
        #expect(!r.hasErrors, "\(errorText(r))")
        let a = try #require(r.policies.clusterImagePolicies.first?.authorities.first)
        guard case .signature(let s) = a.kind else { Issue.record("signature authority expected"); return }
        #expect(a.name == "corp" && s.label == "authorities[0] (corp)" && s.hashAlgorithm == "sha512")
    }

    /// Kyverno rule with one filter in `match.any`; the fake verifier fails every image, so a matched image fails.
    func decision(_ filter: String, _ context: AdmissionContext) async throws -> Decision {
        let yaml = kyverno("      attestors: [{entries: [{keys: {secret: {name: nobody, namespace: n}}}]}]")
            .replacingOccurrences(of: "{any: [{resources: {kinds: [Pod]}}]}", with: "{any: [{resources: {kinds: [Pod], \(filter)}}]}")
        return try await evaluate(yaml, image: "ghcr.io/a/b", context: context, verifier: FakeVerifier()).decision
    }

    @Test("Kyverno resources names, annotations, selector and operations decide whether a rule applies")
    func kyvernoFilterAttributes() async throws {
        let web = AdmissionContext(kind: "Pod", resource: "pods", namespace: "default", name: "web-1", labels: ["tier": "front"],
                                   annotations: ["team": "shop"], operation: "CREATE")
        let db = AdmissionContext(kind: "Pod", resource: "pods", namespace: "default", name: "db-1", labels: ["tier": "back"],
                                  annotations: ["team": "data"], operation: "UPDATE")
        for filter in ["names: [\"web-*\"]", "name: \"web-*\"", "annotations: {team: sh*}", "selector: {matchLabels: {tier: front}}",
                       "selector: {matchExpressions: [{key: tier, operator: In, values: [front]}]}", "operations: [CREATE]"] {
            #expect(try await decision(filter, web) == .fail, "\(filter) should match web-1")
            #expect(try await decision(filter, db) == .skip, "\(filter) should not match db-1")
        }
    }
}

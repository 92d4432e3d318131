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

    @Test("CIP keyless.ca-cert.kms loads with a warning and the authority fails without reaching the verifier")
    func caCertKMSFailsClosed() async throws {
        let yaml = cip("kms-ca", authorities: "  - keyless: {ca-cert: {kms: \"gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k\"}, identities: [{issuer: i, subject: s}]}")
        let r = load(yaml)
        #expect(r.warnings.contains { $0.path == "spec.authorities[0].keyless.ca-cert.kms" && $0.message.hasPrefix("KMS not supported") })
        let v = FakeVerifier()
        let verdict = try await evaluate(yaml, image: "ghcr.io/x/y", verifier: v)
        #expect(verdict.decision == .fail && v.calls.isEmpty)
        #expect(verdict.reasons.contains { $0.detail.contains("KMS not supported: cannot load CA") }, "\(verdict.reasons)")
    }

    @Test("Kyverno rule names label the verdict; two rules of one name are an error")
    func ruleNamesLabelVerdicts() async throws {
        let yaml = kyverno("      attestors: [{entries: [{keys: {secret: {name: nobody, namespace: n}}}]}]")
        let verdict = try await evaluate(yaml, image: "ghcr.io/a/b", verifier: FakeVerifier())
        #expect(verdict.policies.map(\.rule) == ["verify"])
        let twice = yaml.replacingOccurrences(of: "  rules:\n", with: "  rules:\n  - name: verify\n    match: {any: [{resources: {kinds: [Pod]}}]}\n    verifyImages: [{imageReferences: [\"*\"], mutateDigest: false, attestors: [{entries: [{keys: {secret: {name: a, namespace: n}}}]}]}]\n")
        #expect(errorText(load(twice)).contains("duplicate rule name: 'verify'"), "\(errorText(load(twice)))")
    }

    /// A Kyverno rule with `filter` in one place (`match.any`, `match.all`, the legacy `match.resources`, or the same
    /// under `exclude`); the fake verifier fails every image, so a rule that applies fails and one that does not skips.
    func decision(_ filter: String, in form: String, _ context: AdmissionContext) async throws -> Decision {
        let pods = "{any: [{resources: {kinds: [Pod]}}]}"
        let (match, exclude): (String, String) = switch form {
        case "match.any": ("{any: [{resources: {kinds: [Pod], \(filter)}}]}", "")
        case "match.all": ("{all: [{resources: {kinds: [Pod], \(filter)}}]}", "")
        case "match.resources": ("{resources: {kinds: [Pod], \(filter)}}", "")
        case "exclude.any": (pods, "    exclude: {any: [{resources: {\(filter)}}]}")
        case "exclude.all": (pods, "    exclude: {all: [{resources: {\(filter)}}]}")
        default: (pods, "    exclude: {resources: {\(filter)}}")
        }
        let yaml = kyverno("      attestors: [{entries: [{keys: {secret: {name: nobody, namespace: n}}}]}]", extra: exclude)
            .replacingOccurrences(of: pods, with: match)
        return try await evaluate(yaml, image: "ghcr.io/a/b", context: context, verifier: FakeVerifier()).decision
    }

    @Test("Kyverno names, annotations, selector and operations decide whether a rule applies, in match any/all/legacy and exclude")
    func kyvernoFilterAttributes() async throws {
        let web = AdmissionContext(kind: "Pod", resource: "pods", namespace: "default", name: "web-1", labels: ["tier": "front"],
                                   annotations: ["team": "shop"], operation: "CREATE")
        let db = AdmissionContext(kind: "Pod", resource: "pods", namespace: "default", name: "db-1", labels: ["tier": "back"],
                                  annotations: ["team": "data"], operation: "UPDATE")
        for filter in ["names: [\"web-*\"]", "name: \"web-*\"", "annotations: {team: sh*}", "selector: {matchLabels: {tier: front}}",
                       "selector: {matchExpressions: [{key: tier, operator: In, values: [front]}]}", "operations: [CREATE]"] {
            for form in ["match.any", "match.all", "match.resources", "exclude.any", "exclude.all", "exclude.resources"] {
                let excluded = form.hasPrefix("exclude")
                #expect(try await decision(filter, in: form, web) == (excluded ? .skip : .fail), "\(form) \(filter) should hold for web-1")
                #expect(try await decision(filter, in: form, db) == (excluded ? .fail : .skip), "\(form) \(filter) should not hold for db-1")
            }
        }
    }
}

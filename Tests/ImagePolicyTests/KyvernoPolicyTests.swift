import Foundation
import Testing
import ImageReference
@testable import ImagePolicy

@Suite struct KyvernoLoading {
    static let exampleDirs = Paths.files(Paths.kyverno.appendingPathComponent("examples")).filter {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: $0.path, isDirectory: &isDir) && isDir.boolValue
    }

    static func policyFiles(_ dir: URL) -> [URL] {
        Paths.files(dir).filter { ["policy.yaml", "policy.yml", "policies.yaml"].contains($0.lastPathComponent) }
    }

    @Test func allExamplesPresent() { #expect(Self.exampleDirs.count == 8) }

    @Test(arguments: exampleDirs)
    func examplePoliciesLoad(_ dir: URL) {
        let files = Self.policyFiles(dir)
        #expect(!files.isEmpty)
        let r = PolicyLoader.load(paths: files.map(\.path))
        #expect(!r.hasErrors, "\(dir.lastPathComponent):\n\(errorText(r))")
        #expect(!r.policies.kyvernoPolicies.isEmpty)
        for p in r.policies.kyvernoPolicies { #expect(p.rules.allSatisfy { !$0.verifyImages.isEmpty }) }
    }

    @Test func nonPolicyDocumentsInExampleDirsAreReportedNotIgnored() {
        let dir = Paths.kyverno.appendingPathComponent("examples/01-cosign-static-key-signatures")
        let r = PolicyLoader.load(paths: [dir.path])
        #expect(r.policies.kyvernoPolicies.count == 1)
        #expect(r.errors.contains { $0.message.contains("unsupported kind \"Test\"") })
        #expect(r.errors.contains { $0.message.contains("unsupported kind \"Pod\"") })
    }

    @Test func crdDefaultsAreApplied() throws {
        let r = PolicyLoader.load(paths: [Paths.kyverno.appendingPathComponent("examples/02-cosign-static-key-old-test-format/policies.yaml").path])
        let p = try #require(r.policies.kyvernoPolicies.first)
        #expect(p.validationFailureAction == .enforce)   // lowercase "enforce" accepted
        #expect(p.background == false)
        #expect(p.failurePolicy == .fail)
        #expect(p.autogenControllers.isEmpty)            // autogen-controllers: none
        let v = try #require(p.rules.first?.verifyImages.first)
        #expect(v.mutateDigest && v.verifyDigest && v.required && v.useCache)
        #expect(v.failureAction == .enforce)
        #expect(v.type == .cosign)
        let set = try #require(v.attestors.first)
        #expect(set.requiredCount == 1)
        guard case .authority(let a) = set.entries[0] else { Issue.record("not an authority"); return }
        #expect(a.hashAlgorithm == "sha256")
        #expect(a.tlog.url == "https://rekor.sigstore.dev")
        #expect(a.ignoreSCT == false)
    }

    @Test func multiKeyPEMExpandsIntoEntries() throws {
        let key = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8nXRh950IZbRj8Ra/N9sbqOPZrfM\n5/KAQN0/KjHcorm/J5yctVd7iEcnessRQjU917hmKO6JWVGHpDguIyakZA==\n-----END PUBLIC KEY-----"
        let yaml = policy(verify: """
              attestors:
              - count: 1
                entries:
                - keys:
                    publicKeys: |-
        \((key + "\n" + key).split(separator: "\n").map { "              " + $0 }.joined(separator: "\n"))
        """)
        let r = load(yaml)
        #expect(!r.hasErrors, "\(errorText(r))")
        let set = try #require(r.policies.kyvernoPolicies.first?.rules.first?.verifyImages.first?.attestors.first)
        #expect(set.entries.count == 2)
        #expect(set.requiredCount == 1)
    }
}

/// A ClusterPolicy with one verifyImages entry; `verify` is indented YAML for the entry's other fields.
func policy(verify: String, spec: String = "", failureAction: String? = "Enforce", refs: String = "[\"ghcr.io/*\"]") -> String {
    """
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata: {name: p}
    spec:
    \(spec.isEmpty ? "" : spec.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
      rules:
      - name: r
        match: {any: [{resources: {kinds: [Pod]}}]}
        verifyImages:
        - imageReferences: \(refs)
    \(failureAction.map { "      failureAction: \($0)" } ?? "")
    \(verify)
    """
}

@Suite struct KyvernoValidation {
    static let key = """
                    publicKeys: |-
                      -----BEGIN PUBLIC KEY-----
                      MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8nXRh950IZbRj8Ra/N9sbqOPZrfM
                      5/KAQN0/KjHcorm/J5yctVd7iEcnessRQjU917hmKO6JWVGHpDguIyakZA==
                      -----END PUBLIC KEY-----
    """

    func expectError(_ yaml: String, _ message: String, path: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        let r = load(yaml)
        #expect(r.policies.kyvernoPolicies.isEmpty, sourceLocation: sourceLocation)
        let hit = r.errors.first { $0.message.contains(message) && (path == nil || $0.path == path) }
        #expect(hit != nil, "want \(path ?? "*"): \(message); got:\n\(errorText(r))", sourceLocation: sourceLocation)
    }

    @Test func mutateDigestWithAuditIsRejected() {
        // No failureAction, and spec.validationFailureAction defaults to Audit.
        expectError(policy(verify: "      attestors: [{entries: [{keys: {kms: \"k8s://ns/key\"}}]}]", failureAction: nil),
                    "mutateDigest must be set to false for \u{2018}Audit\u{2019} failure action",
                    path: "spec.rules[0].verifyImages[0].mutateDigest")
        let ok = load(policy(verify: "      mutateDigest: false\n      attestors: [{entries: [{keys: {secret: {name: k, namespace: n}}}]}]", failureAction: "Audit"))
        #expect(!ok.hasErrors, "\(errorText(ok))")
    }

    @Test func notaryIsNotSupported() {
        expectError(policy(verify: "      type: Notary\n      attestors: [{entries: [{certificates: {cert: x}}]}]"), "Notary is not supported",
                    path: "spec.rules[0].verifyImages[0].type")
    }

    @Test func imageReferenceRules() {
        expectError(policy(verify: "      attestors: [{entries: [{keys: {secret: {name: k, namespace: n}}}]}]", refs: "[]"),
                    "An image reference is required")
        expectError(policy(verify: "      attestors: [{entries: [{keys: {secret: {name: k, namespace: n}}}]}]", refs: "[\"{{ request.object.x }}\"]"),
                    "variables are not allowed in image reference", path: "spec.rules[0].verifyImages[0].imageReferences[0]")
    }

    @Test func attestorSetRules() {
        expectError(policy(verify: "      attestors: [{count: 2, entries: [{keys: {secret: {name: k, namespace: n}}}]}]"),
                    "Count cannot exceed length of entries", path: "spec.rules[0].verifyImages[0].attestors[0].count")
        expectError(policy(verify: "      attestors: [{entries: []}]"), "An entry is required")
        expectError(policy(verify: "      attestors: [{entries: [{repository: x}]}]"),
                    "keys, certificates, keyless, or a nested attestor is required", path: "spec.rules[0].verifyImages[0].attestors[0].entries[0]")
        expectError(policy(verify: "      attestors: [{entries: [{keys: {rekor: {url: x}}}]}]"), "A public key, kms key or secret is required")
        expectError(policy(verify: "      attestors: [{entries: [{keys: {secret: {name: k, namespace: n}, signatureAlgorithm: md5}}]}]"),
                    "Invalid signature algorithm provided")
        expectError(policy(verify: "      attestors: [{entries: [{keys: {publicKeys: \"not a key\"}}]}]"), "invalid public key")
    }

    @Test func keylessAndCertificateRules() {
        expectError(policy(verify: "      attestors: [{entries: [{keyless: {subject: s, issuer: i}}]}]"), "Either Rekor URL or roots are required")
        expectError(policy(verify: "      attestors: [{entries: [{keyless: {subject: s, issuer: i, rekor: {ignoreTlog: true}}}]}]"),
                    "An URL is required", path: "spec.rules[0].verifyImages[0].attestors[0].entries[0].keyless.rekor.url")
        expectError(policy(verify: "      attestors: [{entries: [{keyless: {subjectRegExp: \"(\", rekor: {url: u}}}]}]"), "invalid regular expression")
        expectError(policy(verify: "      attestors: [{entries: [{certificates: {}}]}]"), "cert or certChain required")
    }

    @Test func policyLevelRules() {
        let v = "      attestors: [{entries: [{keys: {secret: {name: k, namespace: n}}}]}]"
        expectError(policy(verify: v, spec: "webhookTimeoutSeconds: 31"), "the timeout value must be between 1 and 30 seconds")
        expectError(policy(verify: v, spec: "admission: false"), "disabling admission processing is only allowed with validation policies")
        expectError(policy(verify: v, spec: "failurePolicy: Sometimes"), "invalid value \"Sometimes\"")
        expectError(policy(verify: v, spec: "validationFailureAction: Block"), "must be one of audit, enforce, Audit, Enforce")
        expectError(policy(verify: v, spec: "failurePolicy: Fail\nwebhookConfiguration: {failurePolicy: Ignore}"),
                    "remove the deprecated field and use spec.webhookConfiguration.failurePolicy instead")
        expectError(policy(verify: v + "\n      unknownField: 1"), "unknown field \"unknownField\"", path: "spec.rules[0].verifyImages[0].unknownField")
    }

    @Test func ruleAndMatchRules() {
        let yaml = """
        apiVersion: kyverno.io/v1
        kind: Policy
        metadata: {name: p, namespace: team}
        spec:
          rules:
          - name: r
            match:
              any: [{resources: {kinds: [Pod], namespaces: [x]}}]
              all: [{resources: {kinds: [Pod]}}]
            validate: {message: m}
            verifyImages:
            - imageReferences: ["*"]
              failureAction: Enforce
              attestors: [{entries: [{keys: {secret: {name: k, namespace: n}}}]}]
        """
        let r = load(yaml)
        let text = errorText(r)
        #expect(text.contains("spec.rules[0].match: can't specify any and all together"))
        #expect(text.contains("spec.rules[0].match.any[0].resources.namespaces: namespaces is not allowed in a namespaced Policy"))
        #expect(text.contains("spec.rules[0].validate: validate is not supported"))
    }

    @Test func attestationConditionsAreCompiledAtLoad() {
        let base = """
              attestations:
              - type: https://slsa.dev/provenance/v0.2
                conditions:
                - all:
                  - key: "%KEY%"
                    operator: %OP%
                    value: x
        """
        let bad = base.replacingOccurrences(of: "%KEY%", with: "{{ builder.id[ }}").replacingOccurrences(of: "%OP%", with: "Equals")
        expectError(policy(verify: bad), "invalid JMESPath expression \"builder.id[\"",
                    path: "spec.rules[0].verifyImages[0].attestations[0].conditions[0].all[0].key")
        let unknownFn = base.replacingOccurrences(of: "%KEY%", with: "{{ nope(builder.id) }}").replacingOccurrences(of: "%OP%", with: "Equals")
        expectError(policy(verify: unknownFn), "unknown function nope()")
        let op = base.replacingOccurrences(of: "%KEY%", with: "{{ builder.id }}").replacingOccurrences(of: "%OP%", with: "Matches")
        expectError(policy(verify: op), "invalid value \"Matches\": unknown operator")
        let missingType = "      attestations:\n      - conditions: []"
        expectError(policy(verify: missingType), "missing type", path: "spec.rules[0].verifyImages[0].attestations[0]")
    }

    @Test func kmsIsAWarning() {
        let r = load(policy(verify: "      attestors: [{entries: [{keys: {kms: \"awskms:///arn:aws:kms:r:1:key/k\"}}]}]"))
        #expect(!r.hasErrors)
        #expect(r.warnings.contains { $0.message.hasPrefix("KMS not supported") })
    }
}

@Test func v2beta1LoadsWithoutDeprecatedFields() throws {
    let base = """
    apiVersion: kyverno.io/v2beta1
    kind: Policy
    metadata: {name: p, namespace: team-a}
    spec:
      rules:
      - name: r
        match: {any: [{resources: {kinds: [Pod]}}]}
        verifyImages:
        - imageReferences: ["ghcr.io/*"]
          failureAction: Enforce
          attestors: [{entries: [{keys: {secret: {name: k, namespace: n}}}]}]
    """
    let ok = load(base)
    #expect(!ok.hasErrors, "\(errorText(ok))")
    let p = try #require(ok.policies.kyvernoPolicies.first)
    #expect(p.qualifiedName == "team-a/p")
    #expect(p.kind == "Policy")
    let deprecated = load(base + "\n      image: ghcr.io/x")
    #expect(errorText(deprecated).contains("spec.rules[0].verifyImages[0].image: unknown field \"image\""))
    let v1Deprecated = load(base.replacingOccurrences(of: "v2beta1", with: "v1") + "\n      image: ghcr.io/x")
    #expect(!v1Deprecated.hasErrors)
    #expect(v1Deprecated.policies.kyvernoPolicies.first?.rules.first?.verifyImages.first?.imageReferences == ["ghcr.io/*", "ghcr.io/x"])
}

@Test func namespacedPolicyOnlyAppliesInItsNamespace() async throws {
    let r = load("""
    apiVersion: kyverno.io/v1
    kind: Policy
    metadata: {name: p, namespace: team-a}
    spec:
      rules:
      - name: r
        match: {any: [{resources: {kinds: [Pod]}}]}
        verifyImages:
        - imageReferences: ["*"]
          failureAction: Enforce
          attestors: [{entries: [{keys: {secret: {name: k, namespace: n}}}]}]
    """)
    let evaluator = PolicyEvaluator(policies: r.policies)
    let image = try ImageRef(parsing: "nginx")
    let other = AdmissionContext(kind: "Pod", resource: "pods", namespace: "team-b", name: "x")
    let mine = AdmissionContext(kind: "Pod", resource: "pods", namespace: "team-a", name: "x")
    #expect(await evaluator.evaluate(image: image, digest: digest, context: other, verifier: FakeVerifier()).decision == .skip)
    let verdict = await evaluator.evaluate(image: image, digest: digest, context: mine, verifier: FakeVerifier())
    #expect(verdict.decision == .fail)
    #expect(verdict.policies.first?.policy == "Policy/team-a/p")
}

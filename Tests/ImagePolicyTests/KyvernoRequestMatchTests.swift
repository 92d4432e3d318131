import Foundation
import Testing
import ImageReference
@testable import ImagePolicy

/// A Kyverno rule (key attestor "k" that the fake verifier passes) whose match/exclude blocks are given.
private func rule(match: String, exclude: String = "", extractors: String = "", mutateDigest: Bool = true) -> String {
    """
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata: {name: kp, annotations: {pod-policies.kyverno.io/autogen-controllers: none}}
    spec:
      rules:
      - name: r
        match: \(match)
    \(exclude.isEmpty ? "" : "    exclude: \(exclude)")
    \(extractors.isEmpty ? "" : "    imageExtractors: \(extractors)")
        verifyImages:
        - imageReferences: ["*"]
          failureAction: Enforce
          mutateDigest: \(mutateDigest)
          attestors: [{entries: [{keys: {secret: {name: k, namespace: n}}}]}]
    """
}

private func decide(_ yaml: String, _ context: AdmissionContext, image: String = "ghcr.io/a/b:1") async throws -> Decision {
    let r = load(yaml)
    #expect(!r.hasErrors, "\(errorText(r))")
    let v = FakeVerifier()
    v.signatures["k"] = .pass()
    return await PolicyEvaluator(policies: r.policies).evaluate(image: try ImageRef(parsing: image), digest: digest, context: context, verifier: v).decision
}

private func pod(ns: String = "apps", labels: [String: String] = [:], user: RequestUser? = nil, kind: String = "Pod") -> AdmissionContext {
    var c = AdmissionContext(kind: kind, resource: "pods", namespace: ns, name: "web", namespaceLabels: labels)
    c.user = user
    return c
}

@Suite struct KyvernoNamespaceSelector {
    static let prodOnly = rule(match: "{any: [{resources: {kinds: [Pod], namespaceSelector: {matchLabels: {env: prod}}}}]}")

    @Test func matchFollowsTheNamespaceLabels() async throws {
        #expect(try await decide(Self.prodOnly, pod(labels: ["env": "prod"])) == .pass)
        #expect(try await decide(Self.prodOnly, pod(labels: ["env": "dev"])) == .skip)
        #expect(try await decide(Self.prodOnly, pod(labels: [:])) == .skip)
    }

    @Test func matchExpressionsAndAllBlocks() async throws {
        let yaml = rule(match: """
        {all: [{resources: {kinds: [Pod]}}, {resources: {namespaceSelector: {matchExpressions: [{key: tier, operator: In, values: [gold, silver]}]}}}]}
        """)
        #expect(try await decide(yaml, pod(labels: ["tier": "silver"])) == .pass)
        #expect(try await decide(yaml, pod(labels: ["tier": "bronze"])) == .skip)
    }

    @Test func excludeByNamespaceLabels() async throws {
        let yaml = rule(match: "{any: [{resources: {kinds: [Pod]}}]}",
                        exclude: "{any: [{resources: {kinds: [Pod], namespaceSelector: {matchLabels: {sealgate.dev/skip: \"true\"}}}}]}")
        #expect(try await decide(yaml, pod(labels: ["sealgate.dev/skip": "true"])) == .skip)
        #expect(try await decide(yaml, pod(labels: ["sealgate.dev/skip": "false"])) == .pass)
    }

    @Test func wildcardLabelValues() async throws {
        let yaml = rule(match: "{any: [{resources: {kinds: [Pod], namespaceSelector: {matchLabels: {env: \"prod-*\"}}}}]}")
        #expect(try await decide(yaml, pod(labels: ["env": "prod-eu"])) == .pass)
        #expect(try await decide(yaml, pod(labels: ["env": "staging"])) == .skip)
    }

    @Test func notAppliedToNamespaceObjects() throws {
        // Kyverno skips namespaceSelector for Namespace resources; a Namespace has no images, so check the matcher.
        let r = load(Self.prodOnly.replacingOccurrences(of: "kinds: [Pod]", with: "kinds: [Namespace]"))
        let p = try #require(r.policies.kyvernoPolicies.first)
        let ns = AdmissionContext(kind: "Namespace", resource: "namespaces", name: "apps")
        #expect(KyvernoMatcher.matches(p.rules[0].match, policy: p, context: ns))
    }
}

@Suite struct KyvernoSubjects {
    static let alice = RequestUser(username: "alice", groups: ["devs", "system:authenticated"])
    static let ci = RequestUser(username: "system:serviceaccount:ci:deployer", groups: ["system:serviceaccounts"])

    @Test func matchBySubject() async throws {
        let yaml = rule(match: "{any: [{resources: {kinds: [Pod]}, subjects: [{kind: User, name: alice}, {kind: Group, name: \"ops*\"}]}]}")
        #expect(try await decide(yaml, pod(user: Self.alice)) == .pass)
        #expect(try await decide(yaml, pod(user: RequestUser(username: "bob", groups: ["opsteam"]))) == .pass)
        #expect(try await decide(yaml, pod(user: RequestUser(username: "bob", groups: ["devs"]))) == .skip)
        // No user info (background scan, kyverno test without userinfo): Kyverno drops the subjects from match.
        #expect(try await decide(yaml, pod(user: nil)) == .pass)
    }

    @Test func excludeByServiceAccount() async throws {
        let yaml = rule(match: "{any: [{resources: {kinds: [Pod]}}]}",
                        exclude: "{any: [{resources: {kinds: [Pod]}, subjects: [{kind: ServiceAccount, name: \"deploy*\", namespace: ci}]}]}")
        #expect(try await decide(yaml, pod(user: Self.ci)) == .skip)
        #expect(try await decide(yaml, pod(user: Self.alice)) == .pass)
        // Without user info an exclude by subject never applies.
        #expect(try await decide(yaml, pod(user: nil)) == .pass)
    }

    @Test func userVariablesInPreconditions() async throws {
        let yaml = rule(match: "{any: [{resources: {kinds: [Pod]}}]}").replacingOccurrences(of: "    verifyImages:", with: """
            preconditions:
              all: [{key: "{{ serviceAccountNamespace }}", operator: Equals, value: ci}, {key: "{{ request.userInfo.username }}", operator: Equals, value: "system:serviceaccount:ci:deployer"}]
            verifyImages:
        """)
        #expect(try await decide(yaml, pod(user: Self.ci)) == .pass)
        // alice has no serviceAccountNamespace: the precondition cannot be resolved, a rule error.
        #expect(try await decide(yaml, pod(user: Self.alice)) == .fail)
    }

    @Test func subjectsAreValidatedAndRolesRefused() {
        let bad = load(rule(match: "{any: [{resources: {kinds: [Pod]}, subjects: [{kind: Robot, name: x}, {kind: ServiceAccount, name: y}], roles: [\"ns:r\"], clusterRoles: [admin]}]}"))
        let text = errorText(bad)
        #expect(text.contains("spec.rules[0].match.any[0].subjects[0].kind: invalid value \"Robot\": must be one of User, Group, ServiceAccount"), "\(text)")
        #expect(text.contains("spec.rules[0].match.any[0].subjects[1].namespace: a ServiceAccount subject needs its namespace"), "\(text)")
        #expect(text.contains("spec.rules[0].match.any[0].roles: roles matching is not supported"), "\(text)")
        #expect(text.contains("spec.rules[0].match.any[0].clusterRoles: clusterRoles matching is not supported"), "\(text)")
    }
}

@Suite struct KyvernoValuesVariables {
    @Test func globalAndPolicyValuesResolveInPreconditions() async throws {
        let yaml = rule(match: "{any: [{resources: {kinds: [Pod]}}]}").replacingOccurrences(of: "    verifyImages:", with: """
            preconditions:
              all: [{key: "{{ team.tier }}", operator: Equals, value: gold}]
            verifyImages:
        """)
        var c = pod()
        c.variables = ["team.tier": "silver"]
        #expect(try await decide(yaml, c) == .skip)
        c.policyVariables = ["kp": ["team.tier": "gold"]]
        #expect(try await decide(yaml, c) == .pass)
        c.policyVariables = ["kp/r": ["team.tier": "bronze"], "kp": ["team.tier": "gold"]]
        #expect(try await decide(yaml, c) == .skip, "rule values win over resource values")
    }
}

@Suite struct KyvernoRegistryCredentials {
    @Test func secretsAndProvidersAreKeptAndTheRestRefused() throws {
        let ok = load(kyverno("      imageRegistryCredentials: {secrets: [regcred, other], providers: [default]}\n      attestors: [{entries: [{keys: {secret: {name: k, namespace: n}}}]}]"))
        #expect(!ok.hasErrors, "\(errorText(ok))")
        #expect(ok.policies.kyvernoPolicies.first?.rules.first?.verifyImages.first?.registrySecrets == ["regcred", "other"])
        let clouds = load(kyverno("      imageRegistryCredentials: {providers: [default, amazon, azure, google, github]}\n      attestors: [{entries: [{keys: {secret: {name: k, namespace: n}}}]}]"))
        #expect(!clouds.hasErrors, "\(errorText(clouds))")
        #expect(clouds.policies.kyvernoPolicies.first?.rules.first?.verifyImages.first?.registryProviders == ["amazon", "azure", "google", "github"])
        let bad = load(kyverno("      imageRegistryCredentials: {allowInsecureRegistry: true, providers: [amazon, nope]}\n      attestors: [{entries: [{keys: {secret: {name: k, namespace: n}}}]}]"))
        let text = errorText(bad)
        #expect(text.contains("imageRegistryCredentials.allowInsecureRegistry: allowInsecureRegistry is not supported per rule"), "\(text)")
        #expect(!text.contains("providers[0]"), "\(text)")
        #expect(text.contains("imageRegistryCredentials.providers[1]: invalid value \"nope\""), "\(text)")
        let off = load(kyverno("      imageRegistryCredentials: {allowInsecureRegistry: false}\n      attestors: [{entries: [{keys: {secret: {name: k, namespace: n}}}]}]"))
        #expect(!off.hasErrors, "\(errorText(off))")
    }
}

import Foundation
import Testing
import ImageReference
@testable import ImagePolicy

/// Test-only verifier: outcomes keyed by the authority's secret name (or keyless subject),
/// attestation statements keyed by "<key>|<predicateType>". Records every call.
final class FakeVerifier: AuthorityVerifier, @unchecked Sendable {
    var signatures: [String: AuthorityOutcome] = [:]
    var attestations: [String: [JSONValue]] = [:]
    var transientKeys: Set<String> = []
    private let lock = NSLock()
    private var _calls: [String] = []
    var calls: [String] { lock.withLock { _calls } }

    static func key(_ a: SignatureAuthority?) -> String {
        guard let a else { return "*" }
        switch a.trust {
        case .secret(_, let name): return name
        case .keyless(let k):
            if case .exact(let s)? = k.identities.first?.subject { return s }
            if case .wildcard(let s)? = k.identities.first?.subject { return s }
            if case .regex(let s)? = k.identities.first?.subject { return s }
            return "keyless"
        case .publicKey(let pem): return String(pem.prefix(40))
        case .kms(let uri): return uri
        case .certificates: return "cert"
        case .notary(let n): return "notary:\(n.server)"
        }
    }

    func verifySignature(image: ImageRef, digest: String, authority: SignatureAuthority) async -> AuthorityOutcome {
        let k = Self.key(authority)
        lock.withLock { _calls.append("sig:\(k)") }
        if transientKeys.contains(k) { return .fail("registry unreachable", transient: true) }
        return signatures[k] ?? .fail("no matching signatures for \(k)")
    }

    func verifyAttestations(image: ImageRef, digest: String, authority: SignatureAuthority?, predicateType: String) async -> AuthorityOutcome {
        let k = Self.key(authority)
        lock.withLock { _calls.append("att:\(k)|\(predicateType)") }
        guard let statements = attestations["\(k)|\(predicateType)"] else { return .fail("no attestations signed by \(k)") }
        return AuthorityOutcome(passed: true, reason: "verified", statements: statements)
    }
}

let digest = "sha256:" + String(repeating: "d", count: 64)
let podContext = AdmissionContext(kind: "Pod", resource: "pods", namespace: "default", name: "web", labels: ["app": "web"])

func evaluate(_ yaml: String, image: String, context: AdmissionContext = podContext, verifier: FakeVerifier) async throws -> ImageVerdict {
    let r = load(yaml)
    #expect(!r.hasErrors, "\(errorText(r))")
    return await PolicyEvaluator(policies: r.policies).evaluate(image: try ImageRef(parsing: image), digest: digest,
                                                                context: context, verifier: verifier)
}

func cip(_ name: String, glob: String = "ghcr.io/**", mode: String = "enforce", authorities: String, extra: String = "") -> String {
    """
    apiVersion: policy.sigstore.dev/v1beta1
    kind: ClusterImagePolicy
    metadata: {name: \(name)}
    spec:
      mode: \(mode)
      images: [{glob: "\(glob)"}]
    \(extra)
      authorities:
    \(authorities)
    """
}

@Suite struct ClusterImagePolicyEvaluation {
    @Test func authoritiesAreORed() async throws {
        let v = FakeVerifier()
        v.signatures["good"] = .pass()
        let yaml = cip("p", authorities: """
          - name: first
            key: {secretRef: {name: bad}}
          - name: second
            key: {secretRef: {name: good}}
        """)
        let verdict = try await evaluate(yaml, image: "ghcr.io/acme/app:1", verifier: v)
        #expect(verdict.decision == .pass)
        #expect(verdict.pinnedReference == "ghcr.io/acme/app:1@\(digest)")
        let reasons = verdict.reasons.map(\.description)
        #expect(reasons.contains("ClusterImagePolicy/p: authorities[0] (first): signature verification failed: no matching signatures for bad"))
        #expect(reasons.contains("ClusterImagePolicy/p: authorities[1] (second): signature verified"))

        let allBad = FakeVerifier()
        let failed = try await evaluate(yaml, image: "ghcr.io/acme/app:1", verifier: allBad)
        #expect(failed.decision == .fail)
        #expect(failed.pinnedReference == nil)
        #expect(failed.reasons.filter { !$0.passed }.count == 3)
        #expect(failed.reasons.last?.detail == "no authority passed for ghcr.io/acme/app:1")
    }

    @Test func everyMatchingPolicyMustPass() async throws {
        let v = FakeVerifier()
        v.signatures["good"] = .pass()
        let yaml = cip("a", authorities: "  - key: {secretRef: {name: good}}") + "\n---\n"
            + cip("b", glob: "ghcr.io/acme/*", authorities: "  - key: {secretRef: {name: bad}}") + "\n---\n"
            + cip("c", glob: "quay.io/**", authorities: "  - static: {action: fail}")
        let verdict = try await evaluate(yaml, image: "ghcr.io/acme/app", verifier: v)
        #expect(verdict.decision == .fail)
        #expect(verdict.policies.map(\.policy) == ["ClusterImagePolicy/a", "ClusterImagePolicy/b"])
        #expect(verdict.policies.map(\.decision) == [.pass, .fail])

        let other = try await evaluate(yaml, image: "docker.io/library/busybox", verifier: v)
        #expect(other.decision == .skip)
        #expect(other.policies.isEmpty)
    }

    @Test func staticAuthoritiesAndWarnMode() async throws {
        let v = FakeVerifier()
        let pass = try await evaluate(cip("s", authorities: "  - static: {action: pass}"), image: "ghcr.io/x/y", verifier: v)
        #expect(pass.decision == .pass)
        let fail = try await evaluate(cip("s", authorities: "  - static: {action: fail, message: frozen}"), image: "ghcr.io/x/y", verifier: v)
        #expect(fail.decision == .fail)
        #expect(fail.reasons.first?.detail == "static fail: frozen")
        let warn = try await evaluate(cip("s", mode: "warn", authorities: "  - static: {action: fail}"), image: "ghcr.io/x/y", verifier: v)
        #expect(warn.decision == .warn)
        #expect(v.calls.isEmpty)
    }

    @Test func attestationPoliciesRunCUE() async throws {
        let v = FakeVerifier()
        let statement: JSONValue = ["predicateType": "https://cosign.sigstore.dev/attestation/vuln/v1",
                                    "predicate": ["scanner": ["uri": "trivy"], "result": ["high": 0]]]
        v.attestations["signer|https://cosign.sigstore.dev/attestation/vuln/v1"] = [statement]
        let yaml = cip("att", authorities: """
          - key: {secretRef: {name: signer}}
            attestations:
            - name: vuln
              predicateType: vuln
              policy:
                type: cue
                data: |
                  predicate: result: high: <=MAX
                  MAX: 0
        """)
        let verdict = try await evaluate(yaml, image: "ghcr.io/x/y:1", verifier: v)
        #expect(verdict.decision == .pass, "\(verdict.reasons)")

        v.attestations["signer|https://cosign.sigstore.dev/attestation/vuln/v1"] = [statement, ["predicateType": "https://cosign.sigstore.dev/attestation/vuln/v1", "predicate": ["result": ["high": 2]]]]
        let failing = try await evaluate(yaml, image: "ghcr.io/x/y:1", verifier: v)
        #expect(failing.decision == .fail)
        #expect(failing.reasons[0].detail == "attestation vuln: statement 1 fails CUE policy: predicate.result.high: invalid value 2 (out of bound <=0)")

        v.attestations = [:]
        let missing = try await evaluate(yaml, image: "ghcr.io/x/y:1", verifier: v)
        #expect(missing.decision == .fail)
        #expect(missing.reasons[0].detail.contains("attestation vuln: verification failed"))
    }

    @Test func matchResourceAndSpecPolicy() async throws {
        let v = FakeVerifier()
        let yaml = cip("deploy-only", authorities: "  - static: {action: pass}", extra: "  match: [{resource: deployments, group: apps, version: v1}]")
        let pod = try await evaluate(yaml, image: "ghcr.io/x/y", verifier: v)
        #expect(pod.decision == .skip)
        let deploy = AdmissionContext(kind: "Deployment", group: "apps", version: "v1", resource: "deployments", namespace: "default", name: "d")
        #expect(try await evaluate(yaml, image: "ghcr.io/x/y", context: deploy, verifier: v).decision == .pass)

        let onlyPods = load(try Paths.text(Paths.policyController.appendingPathComponent("examples/allow-only-pods.yaml")))
        let evaluator = PolicyEvaluator(policies: onlyPods.policies)
        let img = try ImageRef(parsing: "ghcr.io/sigstore/timestamp-server:v1")
        #expect(await evaluator.evaluate(image: img, digest: digest, context: podContext, verifier: v).decision == .pass)
        let denied = await evaluator.evaluate(image: img, digest: digest, context: deploy, verifier: v)
        #expect(denied.decision == .fail)
        #expect(denied.reasons.last?.detail == "CUE policy failed: typemeta.kind: conflicting values \"Pod\" and \"Deployment\"")
    }

    @Test func kmsAuthoritiesFailWithoutCallingTheVerifier() async throws {
        let v = FakeVerifier()
        let yaml = cip("kms", authorities: "  - key: {kms: \"hashivault://key/path\"}")
        let verdict = try await evaluate(yaml, image: "ghcr.io/x/y", verifier: v)
        #expect(verdict.decision == .fail)
        #expect(verdict.reasons[0].detail == "KMS not supported: cannot verify with hashivault://key/path")
        #expect(v.calls.isEmpty)
    }

    @Test func digestReferencesAreNotRepinned() async throws {
        let v = FakeVerifier()
        let verdict = try await evaluate(cip("s", authorities: "  - static: {action: pass}"), image: "ghcr.io/x/y@\(digest)", verifier: v)
        #expect(verdict.decision == .pass)
        #expect(verdict.pinnedReference == nil)
    }
}

func kyverno(_ verify: String, failureAction: String = "Enforce", refs: String = "[\"ghcr.io/*\"]", extra: String = "", spec: String = "") -> String {
    """
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata:
      name: kp
      annotations: {pod-policies.kyverno.io/autogen-controllers: Deployment}
    spec:
    \(spec)
      rules:
      - name: verify
        match: {any: [{resources: {kinds: [Pod]}}]}
    \(extra)
        verifyImages:
        - imageReferences: \(refs)
          failureAction: \(failureAction)
    \(verify)
    """
}

@Suite struct KyvernoEvaluation {
    @Test func attestorSetsAreANDedAndCountApplies() async throws {
        let v = FakeVerifier()
        v.signatures["a"] = .pass()
        v.signatures["b"] = .pass()
        let oneOf = kyverno("""
              attestors:
              - count: 1
                entries:
                - keys: {secret: {name: x, namespace: n}}
                - keys: {secret: {name: a, namespace: n}}
              - entries:
                - keys: {secret: {name: b, namespace: n}}
        """)
        let pass = try await evaluate(oneOf, image: "ghcr.io/acme/app:1", verifier: v)
        #expect(pass.decision == .pass, "\(pass.reasons)")
        #expect(pass.pinnedReference == "ghcr.io/acme/app:1@\(digest)")
        #expect(v.calls == ["sig:x", "sig:a", "sig:b"])

        let all = kyverno("""
              attestors:
              - entries:
                - keys: {secret: {name: a, namespace: n}}
                - keys: {secret: {name: x, namespace: n}}
        """)
        let fail = try await evaluate(all, image: "ghcr.io/acme/app:1", verifier: v)
        #expect(fail.decision == .fail)
        #expect(fail.reasons[0].check == "verify: attestors[0]")
        #expect(fail.reasons[0].detail.hasPrefix("verifiedCount: 1, requiredCount: 2, errors: attestors[0].entries[1]: no matching signatures for x"))

        let secondSetFails = kyverno("""
              attestors:
              - entries: [{keys: {secret: {name: a, namespace: n}}}]
              - entries: [{keys: {secret: {name: x, namespace: n}}}]
        """)
        #expect(try await evaluate(secondSetFails, image: "ghcr.io/acme/app:1", verifier: v).decision == .fail)
    }

    @Test func nestedAttestors() async throws {
        let v = FakeVerifier()
        v.signatures["b"] = .pass()
        let yaml = kyverno("""
              attestors:
              - count: 1
                entries:
                - keys: {secret: {name: x, namespace: n}}
                - attestor:
                    count: 1
                    entries:
                    - keys: {secret: {name: y, namespace: n}}
                    - keys: {secret: {name: b, namespace: n}}
        """)
        #expect(try await evaluate(yaml, image: "ghcr.io/acme/app", verifier: v).decision == .pass)
    }

    @Test func imageReferencesAndSkip() async throws {
        let v = FakeVerifier()
        let yaml = kyverno("""
              skipImageReferences: ["ghcr.io/acme/debug*"]
              attestors: [{entries: [{keys: {secret: {name: x, namespace: n}}}]}]
        """)
        let skipped = try await evaluate(yaml, image: "ghcr.io/acme/debug-tools:1", verifier: v)
        #expect(skipped.decision == .skip)
        #expect(skipped.reasons[0].detail == "image ghcr.io/acme/debug-tools:1 matches ghcr.io/acme/debug*: skipped")
        let unmatched = try await evaluate(yaml, image: "quay.io/acme/app", verifier: v)
        #expect(unmatched.policies.isEmpty)
        #expect(v.calls.isEmpty)
    }

    @Test func auditTurnsFailureIntoWarning() async throws {
        let v = FakeVerifier()
        let yaml = kyverno("      mutateDigest: false\n      attestors: [{entries: [{keys: {secret: {name: x, namespace: n}}}]}]", failureAction: "Audit")
        let verdict = try await evaluate(yaml, image: "ghcr.io/acme/app", verifier: v)
        #expect(verdict.decision == .warn)
        #expect(verdict.reasons.contains { !$0.passed })
    }

    @Test func upstreamExample04VerifyDigestOnly() async throws {
        let yaml = try Paths.text(Paths.kyverno.appendingPathComponent("examples/04-verify-digest-only-audit/policies.yaml"))
        let v = FakeVerifier()
        let noDigest = try await evaluate(yaml, image: "nginx:latest", verifier: v)
        #expect(noDigest.decision == .warn)   // Audit: reported as fail, admitted
        #expect(noDigest.reasons.map(\.detail) == ["missing digest for docker.io/nginx:latest"])
        let withDigest = try await evaluate(yaml, image: "nginx:latest@sha256:859ab6768a6f26a79bc42b231664111317d095a4f04e4b6fe79ce37b3d199097", verifier: v)
        #expect(withDigest.decision == .pass)
    }

    @Test func upstreamExample05RequiredOnly() async throws {
        let yaml = try Paths.text(Paths.kyverno.appendingPathComponent("examples/05-required-only-failurepolicy/policies.yaml"))
        let verdict = try await evaluate(yaml, image: "ghcr.io/jimbugwadia/demo-java-tomcat:v0.0.15", verifier: FakeVerifier())
        #expect(verdict.decision == .fail)
        #expect(verdict.reasons.map(\.detail) == ["unverified image ghcr.io/jimbugwadia/demo-java-tomcat:v0.0.15"])
    }

    @Test func upstreamExample07AttestationConditions() async throws {
        let yaml = try Paths.text(Paths.kyverno.appendingPathComponent("examples/07-keyless-attestation-conditions-chainsaw/policy.yaml"))
        let subject = "https://github.com/chipzoller/zulu/.github/workflows/vulnerability-scan.yaml@refs/heads/main"
        let type = "cosign.sigstore.dev/attestation/vuln/v1"
        let v = FakeVerifier()
        v.attestations["\(subject)|\(type)"] = [["predicateType": .string(type), "predicate": ["scanner": ["uri": "pkg:github/aquasecurity/trivy@0.34.0"]]]]
        let pass = try await evaluate(yaml, image: "ghcr.io/kyverno/zulu:latest", verifier: v)
        #expect(pass.decision == .pass, "\(pass.reasons)")

        v.attestations["\(subject)|\(type)"] = [["predicateType": .string(type), "predicate": ["scanner": ["uri": "pkg:github/aquasecurity/trivy@0.33.0"]]]]
        let fail = try await evaluate(yaml, image: "ghcr.io/kyverno/zulu:latest", verifier: v)
        #expect(fail.decision == .fail)
        #expect(fail.reasons[0].detail.contains("condition failed: key false Equals value true is false"))

        v.attestations = [:]
        let none = try await evaluate(yaml, image: "ghcr.io/kyverno/zulu:latest", verifier: v)
        #expect(none.decision == .fail)
        #expect(none.reasons[0].detail.contains("no attestations signed by"))
    }

    @Test func anyAndAllConditions() async throws {
        let type = "https://slsa.dev/provenance/v0.2"
        let yaml = kyverno("""
              attestations:
              - type: \(type)
                conditions:
                - all:
                  - key: "{{ buildType }}"
                    operator: Equals
                    value: "https://tekton.dev/*"
                  any:
                  - key: "{{ builder.id }}"
                    operator: AnyIn
                    value: ["a", "b"]
                  - key: "{{ builder.id }}"
                    operator: Equals
                    value: c
                    message: builder must be c
        """)
        let v = FakeVerifier()
        func run(_ builder: String, _ buildType: String = "https://tekton.dev/chains/v2") async throws -> ImageVerdict {
            v.attestations["*|\(type)"] = [["predicateType": .string(type), "predicate": ["buildType": .string(buildType), "builder": ["id": .string(builder)]]]]
            return try await evaluate(yaml, image: "ghcr.io/acme/app", verifier: v)
        }
        #expect(try await run("b").decision == .pass)
        #expect(try await run("c").decision == .pass)
        let bad = try await run("z")
        #expect(bad.decision == .fail)
        #expect(bad.reasons[0].detail.contains("builder must be c"))
        #expect(try await run("a", "https://other").decision == .fail)
    }

    @Test func transientErrorsHonourFailurePolicy() async throws {
        let v = FakeVerifier()
        v.transientKeys = ["a"]
        let verify = "      attestors: [{entries: [{keys: {secret: {name: a, namespace: n}}}]}]"
        let failing = try await evaluate(kyverno(verify), image: "ghcr.io/acme/app", verifier: v)
        #expect(failing.decision == .fail)
        #expect(failing.policies[0].transient)
        let ignored = try await evaluate(kyverno(verify, spec: "  failurePolicy: Ignore"), image: "ghcr.io/acme/app", verifier: v)
        #expect(ignored.decision == .warn)
    }

    @Test func matchExcludeAndAutogen() async throws {
        let v = FakeVerifier()
        v.signatures["a"] = .pass()
        let verify = "      attestors: [{entries: [{keys: {secret: {name: a, namespace: n}}}]}]"
        let yaml = kyverno(verify, extra: "    exclude: {any: [{resources: {namespaces: [kube-*]}}]}")
        let system = AdmissionContext(kind: "Pod", resource: "pods", namespace: "kube-system", name: "x")
        #expect(try await evaluate(yaml, image: "ghcr.io/a/b", context: system, verifier: v).policies.isEmpty)
        let deploy = AdmissionContext(kind: "Deployment", group: "apps", resource: "deployments", namespace: "default", name: "d")
        #expect(try await evaluate(yaml, image: "ghcr.io/a/b", context: deploy, verifier: v).decision == .pass)
        let job = AdmissionContext(kind: "Job", group: "batch", resource: "jobs", namespace: "default", name: "j")
        #expect(try await evaluate(yaml, image: "ghcr.io/a/b", context: job, verifier: v).policies.isEmpty)
    }

    @Test func cipAndKyvernoTogether() async throws {
        let v = FakeVerifier()
        v.signatures["a"] = .pass()
        let yaml = cip("c", authorities: "  - static: {action: pass}") + "\n---\n"
            + kyverno("      attestors: [{entries: [{keys: {secret: {name: x, namespace: n}}}]}]")
        let verdict = try await evaluate(yaml, image: "ghcr.io/acme/app", verifier: v)
        #expect(verdict.decision == .fail)
        #expect(verdict.policies.map(\.policy) == ["ClusterImagePolicy/c", "ClusterPolicy/kp"])
        #expect(verdict.policies.map(\.rule) == [nil, "verify"])
    }
}

@Test func kyvernoKindSpellings() throws {
    let r = load(kyverno("      attestors: [{entries: [{keys: {secret: {name: a, namespace: n}}}]}]"))
    let p = try #require(r.policies.kyvernoPolicies.first)
    let deploy = AdmissionContext(kind: "Deployment", group: "apps", version: "v1", resource: "deployments", name: "d")
    #expect(KyvernoMatcher.kindMatches("apps/v1/Deployment", policy: p, context: deploy))
    #expect(!KyvernoMatcher.kindMatches("batch/v1/Deployment", policy: p, context: deploy))
    #expect(KyvernoMatcher.kindMatches("v1/Pod", policy: p, context: podContext))
    #expect(KyvernoMatcher.kindMatches("Pod/ephemeralcontainers", policy: p, context: podContext))
    #expect(KyvernoMatcher.kindMatches("*", policy: p, context: deploy))
    #expect(KyvernoMatcher.kindMatches("Pod", policy: p, context: deploy))      // autogen-controllers: Deployment
    #expect(!KyvernoMatcher.kindMatches("Service", policy: p, context: podContext))
}

@Suite struct KyvernoPreconditionsAndValidate {
    @Test func preconditionsGateTheRule() async throws {
        let v = FakeVerifier()
        let yaml = kyverno("      attestors: [{entries: [{keys: {secret: {name: x, namespace: n}}}]}]", extra: """
            preconditions:
              all:
              - key: "{{ request.object.metadata.labels.verify || 'no' }}"
                operator: Equals
                value: "yes"
        """)
        func context(_ verify: String) -> AdmissionContext {
            AdmissionContext(kind: "Pod", resource: "pods", namespace: "default", name: "web",
                             object: ["metadata": ["labels": ["verify": .string(verify)]]])
        }
        #expect(try await evaluate(yaml, image: "ghcr.io/a/b", context: context("no"), verifier: v).policies.isEmpty)
        #expect(try await evaluate(yaml, image: "ghcr.io/a/b", context: context("yes"), verifier: v).decision == .fail)
        // Legacy list form.
        let legacy = kyverno("      attestors: [{entries: [{keys: {secret: {name: x, namespace: n}}}]}]", extra: """
            preconditions:
            - key: "{{ request.operation }}"
              operator: NotEquals
              value: DELETE
        """)
        let delete = AdmissionContext(kind: "Pod", resource: "pods", namespace: "default", name: "web", operation: "DELETE")
        #expect(try await evaluate(legacy, image: "ghcr.io/a/b", context: delete, verifier: v).policies.isEmpty)
        #expect(try await evaluate(legacy, image: "ghcr.io/a/b", verifier: v).decision == .fail)
    }

    @Test func validateDenySeesNamedAttestations() async throws {
        let type = "https://slsa.dev/provenance/v0.2"
        let yaml = kyverno("""
              attestations:
              - name: slsa
                type: \(type)
              validate:
                message: "builder not allowed"
                deny:
                  conditions:
                    any:
                    - key: "{{ slsa.builder.id }}"
                      operator: NotEquals
                      value: "https://github.com/slsa-framework/*"
        """)
        let v = FakeVerifier()
        v.attestations["*|\(type)"] = [["predicateType": .string(type), "predicate": ["builder": ["id": "https://github.com/slsa-framework/generator"]]]]
        #expect(try await evaluate(yaml, image: "ghcr.io/a/b", verifier: v).decision == .pass)
        v.attestations["*|\(type)"] = [["predicateType": .string(type), "predicate": ["builder": ["id": "https://evil.example/builder"]]]]
        let denied = try await evaluate(yaml, image: "ghcr.io/a/b", verifier: v)
        #expect(denied.decision == .fail)
        #expect(denied.reasons.map(\.detail).contains("builder not allowed"))
    }

    @Test func unsupportedRuleFeaturesAreErrors() {
        let r = load(kyverno("      attestors: [{entries: [{keys: {secret: {name: x, namespace: n}}}]}]", extra: """
            context:
            - name: cm
              configMap: {name: x, namespace: y}
        """))
        #expect(errorText(r).contains("spec.rules[0].context: context is not supported"))
    }
}

@Test func unresolvablePreconditionIsAFailureNotASkip() async throws {
    let yaml = kyverno("      attestors: [{entries: [{keys: {secret: {name: x, namespace: n}}}]}]", extra: """
        preconditions:
          all:
          - key: "{{ request.object.metadata.labels.team }}"
            operator: Equals
            value: a
    """)
    let verdict = try await evaluate(yaml, image: "ghcr.io/a/b", verifier: FakeVerifier())
    #expect(verdict.decision == .fail)
    #expect(verdict.reasons.first?.detail == "preconditions: variable {{ request.object.metadata.labels.team }} could not be resolved")
}

import Foundation
import ImageReference
@testable import ImagePolicy
import Testing
import TestSupport

/// Connaisseur configurations as the third dialect: recognised by `application.validators`/`policy`, every field used
/// or refused by name, the most specific pattern choosing the rule, and the validators' semantics on the port.
struct ConnaisseurTests {
    static let keyA = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEsx28WV7BsQfnHF1kZmpdCTTLJaWe\nd0CA+JOi8H4REuBaWSZ5zPDe468WuOJ6f71E7WFg3CVEVYHuoZt2UYbN/Q==\n-----END PUBLIC KEY-----\n"
    static let keyB = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEOXYta5TgdCwXTCnLU09W5T4M4r9f\nQQrqJuADP6U7g5r9ICgPSmZuRHP/1AYUfOQW3baveKsT969EfELKj1lfCA==\n-----END PUBLIC KEY-----\n"

    static func indented(_ pem: String, _ n: Int) -> String {
        pem.split(separator: "\n").map { String(repeating: " ", count: n) + $0 }.joined(separator: "\n")
    }

    /// Outcomes by authority label (`validator V trustRoot T`); records calls.
    final class LabelVerifier: AuthorityVerifier, @unchecked Sendable {
        var passing: Set<String>
        private let lock = NSLock()
        private var _calls: [String] = []
        var calls: [String] { lock.withLock { _calls } }
        init(passing: Set<String> = []) { self.passing = passing }
        func verifySignature(image: ImageRef, digest: String, authority: SignatureAuthority) async -> AuthorityOutcome {
            lock.withLock { _calls.append(authority.label) }
            return passing.contains(authority.label) ? .pass() : .fail("no signature by \(authority.label)")
        }
        func verifyAttestations(image: ImageRef, digest: String, authority: SignatureAuthority?, predicateType: String) async -> AuthorityOutcome {
            .fail("not used")
        }
    }

    @Test func upstreamChartValuesLoad() throws {
        let path = TestPaths.sharedTestdata.appendingPathComponent("connaisseur/charts_connaisseur_values.yaml").path
        let r = PolicyLoader.load(paths: [path])
        #expect(!r.hasErrors, "\(errorText(r))")
        let c = try #require(r.policies.connaisseurConfigs.first)
        #expect(Set(c.validators.keys) == ["allow", "deny", "dockerhub"])
        #expect(c.rules.map(\.pattern) == ["*:*", "docker.io/library/redis@sha256:83edc2b8e9ffb1781a67bdab260a94674f802881838e20bba0f9a69d8cb40d70",
                                           "docker.io/securesystemsengineering/*:*", "registry.k8s.io/*:*"])
        // Deployment and logging settings are named as having no effect; nothing is dropped silently.
        let warned = Set(r.warnings.map(\.path))
        #expect(warned == ["kubernetes", "application.features.automaticChildApproval", "application.features.cache", "application.logLevel", "application.logFormat"])
    }

    /// Connaisseur's earlier default values, written out here from its documentation's examples (not a verbatim copy
    /// of a chart file): Docker official images through notary.docker.io, k8s images allowed, the rest denied.
    static let classicDefaults = """
    application:
      validators:
      - name: allow
        type: static
        approve: true
      - name: deny
        type: static
        approve: false
      - name: dockerhub_basics
        type: notaryv1
        host: notary.docker.io
        trustRoots:
        - name: docker_official
          key: |
    \(indented(keyB, 8))
        - name: securesystemsengineering_official
          key: |
    \(indented(keyA, 8))
      - name: sigstore
        type: cosign
        trustRoots:
        - name: default
          key: |
    \(indented(keyA, 8))
      policy:
      - pattern: "*:*"
        validator: deny
      - pattern: "docker.io/library/*:*"
        validator: dockerhub_basics
        with:
          trustRoot: docker_official
      - pattern: "k8s.gcr.io/*:*"
        validator: allow
      - pattern: "docker.io/securesystemsengineering/*:*"
        validator: dockerhub_basics
        with:
          trustRoot: securesystemsengineering_official
    """

    @Test func classicDefaultsLoadAndRoute() async throws {
        let r = load(Self.classicDefaults)
        #expect(r.issues.isEmpty, "\(r.issues)")
        let c = try #require(r.policies.connaisseurConfigs.first)
        func rule(_ image: String) throws -> String? { ConnaisseurPattern.bestRule(c.rules, for: try ImageRef(parsing: image))?.pattern }
        #expect(try rule("nginx:1.27") == "docker.io/library/*:*")
        #expect(try rule("k8s.gcr.io/pause:3.9") == "k8s.gcr.io/*:*")
        #expect(try rule("securesystemsengineering/connaisseur:v3") == "docker.io/securesystemsengineering/*:*")
        #expect(try rule("ghcr.io/x/y:1") == "*:*")
        // The allow rule needs no digest; the notary rule does, with the named trust root's key.
        let evaluator = PolicyEvaluator(policies: r.policies)
        #expect(!evaluator.needsDigest(image: try ImageRef(parsing: "k8s.gcr.io/pause:3.9"), context: podContext))
        let verifier = LabelVerifier()
        let v = await evaluator.evaluate(image: try ImageRef(parsing: "nginx:1.27"), digest: digest, context: podContext, verifier: verifier)
        #expect(v.decision == .fail)
        #expect(verifier.calls == ["validator dockerhub_basics trustRoot docker_official"])
    }

    /// The worked example of Connaisseur's policy documentation (basics.md, "Image policy").
    @Test func mostSpecificPatternWins() throws {
        let rules = ["*:*", "docker.io/myrepo/*:*", "docker.io/myrepo/myimg:*"].enumerated().map { n, p in
            ConnaisseurRule(index: n, pattern: p, validator: "default", trustRoot: "default", delegations: [], threshold: nil, required: [],
                            verifyInTransparencyLog: true, mutate: true)
        }
        func best(_ image: String) throws -> String? { ConnaisseurPattern.bestRule(rules, for: try ImageRef(parsing: image))?.pattern }
        #expect(try best("docker.io/superrepo/myimg:v1") == "*:*")
        #expect(try best("docker.io/myrepo/superimg:v1") == "docker.io/myrepo/*:*")
        #expect(try best("docker.io/myrepo/myimg:v1") == "docker.io/myrepo/myimg:*")
        // Equal component counts: the longer common prefix with the image's component wins, then the longer component.
        #expect(ConnaisseurPattern.moreSpecific("reg.io/team-a*:*", than: "reg.io/t*:*", image: ["reg.io", "team-app:1"]))
        #expect(ConnaisseurPattern.moreSpecific("reg.io/te*", than: "reg.io/t*", image: ["reg.io", "x:1"]))
    }

    static func config(validators: String, policy: String, features: String = "") -> String {
        "application:\n  validators:\n\(validators)\n  policy:\n\(policy)\n\(features)"
    }

    static let cosignTrio = """
        - name: team
          type: cosign
          trustRoots:
            - name: alice
              key: |
    \(indented(keyA, 12))
            - name: bob
              key: |
    \(indented(keyB, 12))
            - name: carol
              key: |
    \(indented(keyA, 12))
    """

    @Test func cosignThresholdAndRequired() async throws {
        func decide(_ with: String, passing: Set<String>) async throws -> Decision {
            let r = load(Self.config(validators: Self.cosignTrio, policy: "    - pattern: \"*:*\"\n      validator: team\n      with: \(with)"))
            #expect(!r.hasErrors, "\(errorText(r))")
            let verifier = LabelVerifier(passing: Set(passing.map { "validator team trustRoot \($0)" }))
            return await PolicyEvaluator(policies: r.policies).evaluate(image: try ImageRef(parsing: "ghcr.io/a/b:1"), digest: digest,
                                                                        context: podContext, verifier: verifier).decision
        }
        #expect(try await decide("{trustRoot: \"*\"}", passing: ["alice", "bob"]) == .fail, "all three by default")
        #expect(try await decide("{trustRoot: \"*\"}", passing: ["alice", "bob", "carol"]) == .pass)
        #expect(try await decide("{trustRoot: \"*\", threshold: 2}", passing: ["alice", "carol"]) == .pass)
        #expect(try await decide("{trustRoot: \"*\", threshold: 2, required: [bob]}", passing: ["alice", "carol"]) == .fail)
        #expect(try await decide("{trustRoot: \"*\", required: [bob]}", passing: ["bob"]) == .pass)
        #expect(try await decide("{trustRoot: bob}", passing: ["alice"]) == .fail)
    }

    @Test func featuresModesAndNamespaces() async throws {
        let validators = "    - name: deny\n      type: static\n      approve: false\n    - name: allow\n      type: static\n      approve: true"
        let policy = "    - pattern: \"*:*\"\n      validator: deny\n    - pattern: \"ghcr.io/*:*\"\n      validator: allow\n      with: {mode: insecureValidateOnly}"
        func verdict(_ features: String, image: String, labels: [String: String] = [:]) async throws -> ImageVerdict {
            let r = load(Self.config(validators: validators, policy: policy, features: features))
            #expect(!r.hasErrors, "\(errorText(r))")
            var context = podContext
            context.namespaceLabels = labels
            return await PolicyEvaluator(policies: r.policies).evaluate(image: try ImageRef(parsing: image), digest: digest, context: context, verifier: LabelVerifier())
        }
        #expect(try await verdict("", image: "quay.io/x:1").decision == .fail)
        #expect(try await verdict("  features:\n    detectionMode: true", image: "quay.io/x:1").decision == .warn)
        let allowed = try await verdict("", image: "ghcr.io/x:1")
        #expect(allowed.decision == .pass && allowed.pinnedReference == nil, "insecureValidateOnly does not pin")
        let label = ConnaisseurConfig.namespaceLabel
        #expect(try await verdict("  features:\n    namespacedValidation: {mode: ignore}", image: "quay.io/x:1", labels: [label: "ignore"]).decision == .skip)
        #expect(try await verdict("  features:\n    namespacedValidation: {mode: ignore}", image: "quay.io/x:1").decision == .fail)
        #expect(try await verdict("  features:\n    namespacedValidation: {mode: validate}", image: "quay.io/x:1").decision == .skip)
        #expect(try await verdict("  features:\n    namespacedValidation: {mode: validate}", image: "quay.io/x:1", labels: [label: "validate"]).decision == .fail)
    }

    @Test func notaryRuleBecomesANotaryAuthority() async throws {
        let r = load(Self.config(validators: "    - name: dct\n      type: notaryv1\n      host: notary.example:4443\n      auth: {username: u, password: p}\n      trustRoots:\n        - name: default\n          key: |\n\(Self.indented(Self.keyA, 12))",
                                 policy: "    - pattern: \"*:*\"\n      with: {delegations: [releases, qa], threshold: 1}\n    - pattern: \"x/*:*\"\n      validator: dct"))
        // The first rule names no validator: there is no `default` one.
        #expect(errorText(r).contains("test.yaml: document 0: application.policy[0].validator: no validator given and none is named \"default\""), "\(errorText(r))")
        let ok = load(Self.config(validators: "    - name: default\n      type: notaryv1\n      host: notary.example:4443\n      auth: {username: u, password: p}\n      trustRoots:\n        - name: default\n          key: |\n\(Self.indented(Self.keyA, 12))",
                                  policy: "    - pattern: \"*:*\"\n      with: {delegations: [releases, qa], threshold: 1}"))
        #expect(!ok.hasErrors, "\(errorText(ok))")
        let c = try #require(ok.policies.connaisseurConfigs.first)
        let authorities = ConnaisseurEvaluator.authorities(c.validators["default"]!, c.rules[0])
        guard case .notary(let trust) = authorities.first?.1.trust else { Issue.record("not a notary authority"); return }
        #expect(trust == NotaryTrust(server: "notary.example:4443", rootKeysPEM: [Self.keyA], username: "u", password: "p", delegations: ["releases", "qa"], threshold: 1))
    }

    /// Fields sealgate does not implement are refused at load, naming file and field.
    @Test(arguments: [
        ("    - name: c\n      type: cosign\n      host: {rekor: rekor.example}\n      trustRoots: [{name: default, key: \"\(keyA.replacingOccurrences(of: "\n", with: "\\n"))\"}]",
         "application.validators[0].host: cosign validator field \"host\" is not supported"),
        ("    - name: c\n      type: cosign\n      trustRoots: [{name: default, keyless: {issuer: https://accounts.example, subject: a@b}}]",
         "application.validators[0].trustRoots[0].keyless: keyless trust roots are not supported"),
        ("    - name: c\n      type: cosign\n      trustRoots: [{name: default, key: \"awskms:///alias/k\"}]",
         "application.validators[0].trustRoots[0].key: KMS keys are not supported"),
        ("    - name: n\n      type: notaryv1\n      host: h\n      auth: {secretName: s}\n      trustRoots: [{name: default, key: \"\(keyA.replacingOccurrences(of: "\n", with: "\\n"))\"}]",
         "application.validators[0].auth.secretName: auth.secretName is not supported"),
        ("    - name: x\n      type: notaryv2", "application.validators[0].type: unsupported validator type \"notaryv2\""),
        ("    - name: x\n      type: static\n      approve: true\n      extra: 1", "application.validators[0].extra: unknown field \"extra\""),
    ])
    func refusedValidatorFields(validator: String, message: String) {
        let r = load(Self.config(validators: validator, policy: "    - pattern: \"*:*\"\n      validator: x"))
        #expect(errorText(r).contains("test.yaml: document 0: \(message)"), "\(errorText(r))")
    }

    @Test(arguments: [
        ("      with: {verifySCT: false}", "application.policy[0].with.verifySCT: with.verifySCT applies to keyless trust roots"),
        ("      with: {trustRoot: \"*\"}", "application.policy[0].with.trustRoot: trustRoot \"*\" is supported for cosign validators only"),
        ("      with: {mode: audit}", "application.policy[0].with.mode: unsupported mode \"audit\""),
        ("      with: {required: [x]}", "application.policy[0].with.required: required applies to cosign validators only"),
        ("      with: {threshold: 1}", "application.policy[0].with.threshold: threshold needs delegations for a notaryv1 validator"),
        ("      with: {trustRoot: other}", "application.policy[0].with.trustRoot: validator n has no trust root named \"other\""),
    ])
    func refusedRuleFields(with: String, message: String) {
        let validator = "    - name: n\n      type: notaryv1\n      host: h\n      trustRoots: [{name: default, key: \"\(Self.keyA.replacingOccurrences(of: "\n", with: "\\n"))\"}]"
        let r = load(Self.config(validators: validator, policy: "    - pattern: \"*:*\"\n      validator: n\n\(with)"))
        #expect(errorText(r).contains("test.yaml: document 0: \(message)"), "\(errorText(r))")
    }

    @Test(arguments: [
        ("  features:\n    resourceValidationMode: podsOnly", "application.features.resourceValidationMode: resourceValidationMode \"podsOnly\" is not supported"),
        ("  features:\n    automaticUnchangedApproval: true", "application.features.automaticUnchangedApproval: automaticUnchangedApproval: true is not supported"),
        ("  features:\n    namespacedValidation: {mode: maybe}", "application.features.namespacedValidation.mode: unsupported mode \"maybe\""),
        ("  features:\n    alerting: {}", "application.features.alerting: unknown field \"alerting\""),
        ("alerting: {clusterIdentifier: x}", "alerting: Connaisseur alerting is not supported"),
    ])
    func refusedFeatures(features: String, message: String) {
        let r = load(Self.config(validators: "    - name: deny\n      type: static\n      approve: false", policy: "    - pattern: \"*:*\"\n      validator: deny", features: features))
        #expect(errorText(r).contains("test.yaml: document 0: \(message)"), "\(errorText(r))")
    }
}

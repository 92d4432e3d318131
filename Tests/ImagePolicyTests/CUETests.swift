import Foundation
import SealgateCore
import Testing
@testable import ImagePolicy

@Suite struct CUESubset {
    static let cueDir = Paths.policyController.appendingPathComponent("cue")

    static func program(_ name: String) throws -> CUEProgram {
        try CUEProgram(compiling: try Paths.text(cueDir.appendingPathComponent(name)))
    }

    /// The vuln predicate wrapped in the in-toto statement policy-controller hands to CUE.
    static func vulnStatement() throws -> JSONValue {
        let predicate = try JSONValue.parse(try Paths.text(cueDir.appendingPathComponent("vuln-predicate.json")))
        return ["_type": "https://in-toto.io/Statement/v0.1",
                "predicateType": "https://cosign.sigstore.dev/attestation/vuln/v1",
                "subject": [["name": "registry.local/app", "digest": ["sha256": "abc"]]],
                "predicate": predicate]
    }

    /// A cosign "custom" predicate statement (what cue-works.cue / cue-fails.cue are written for).
    static let customStatement: JSONValue = [
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://cosign.sigstore.dev/attestation/v1",
        "predicate": ["Data": "foobar e2e test\n", "Timestamp": "2022-04-07T19:22:25Z"],
    ]

    @Test func vulnWorksPassesOnVulnPredicate() throws {
        let p = try Self.program("cue-vuln-works.cue")
        #expect(p.violations(of: try Self.vulnStatement()) == [])
    }

    @Test func vulnFailsFailsOnVulnPredicate() throws {
        let v = try Self.program("cue-vuln-fails.cue").violations(of: try Self.vulnStatement())
        #expect(v.contains("predicate.invocation.uri: conflicting values \"invocation.example.com/cosign-testing-invalid\" and \"invocation.example.com/cosign-testing\""))
        #expect(v.contains("predicate.scanner.uri: conflicting values \"fakescanner.example.com/cosign-testing-invalid\" and \"fakescanner.example.com/cosign-testing\""))
        #expect(v.contains("predicate.metadata.scanStartedOn: invalid value \"2022-04-12T00:00:00Z\" (out of bound <\"2022-04-01T17:10:27Z\")"))
    }

    @Test func customWorksAndFails() throws {
        #expect(try Self.program("cue-works.cue").violations(of: Self.customStatement) == [])
        let v = try Self.program("cue-fails.cue").violations(of: Self.customStatement)
        #expect(v == ["predicateType: conflicting values \"cosignnotreally.sigstore.dev/attestation/v1\" and \"https://cosign.sigstore.dev/attestation/v1\""])
    }

    @Test(arguments: ["cue-fails.cue", "cue-vuln-fails.cue", "cue-works.cue"])
    func policiesForOtherPredicatesFailOnVuln(_ name: String) throws {
        // cue-works.cue targets the custom predicate: on the vuln statement its predicateType
        // conflicts and predicate.Timestamp stays incomplete, as in real CUE.
        #expect(!(try Self.program(name).passes(try Self.vulnStatement())))
    }

    @Test func incompleteFieldIsAViolation() throws {
        let v = try Self.program("cue-works.cue").violations(of: ["predicateType": "https://cosign.sigstore.dev/attestation/v1", "predicate": [:]])
        #expect(v == ["predicate.Timestamp: incomplete value <\"2049-10-09T17:10:27Z\""])
    }

    @Test func configPolicyShorthandFields() throws {
        let p = try Self.program("cue-policy-config.cue")
        let good: JSONValue = ["config": ["linux/amd64": ["config": ["User": "65530"]], "linux/arm/v7": ["config": ["User": "65530"]]]]
        let bad: JSONValue = ["config": ["linux/amd64": ["config": ["User": "0"]], "linux/arm/v7": ["config": ["User": "65530"]]]]
        #expect(p.passes(good))
        #expect(p.violations(of: bad) == ["config.linux/amd64.config.User: conflicting values \"65530\" and \"0\""])
    }

    @Test func examplePoliciesEvaluate() throws {
        let r = PolicyLoader.load(paths: [Paths.policyController.appendingPathComponent("examples/allow-only-pods.yaml").path])
        let p = try #require(r.policies.clusterImagePolicies.first?.policy)
        #expect(p.includeTypeMeta)
        #expect(p.cue.passes(["typemeta": ["kind": "Pod", "apiVersion": "v1"]]))
        #expect(!p.cue.passes(["typemeta": ["kind": "Deployment", "apiVersion": "apps/v1"]]))
        let sbom = PolicyLoader.load(paths: [Paths.policyController.appendingPathComponent("examples/keyless-attestation-sbom-spdxjson.yaml").path])
        let att = try #require(sbom.policies.clusterImagePolicies.first?.authorities.first?.attestations.first)
        #expect(att.predicateTypeURI == "https://spdx.dev/Document")
        #expect(att.policy!.cue.passes(["predicateType": "https://spdx.dev/Document", "predicate": [:]]))
        #expect(!att.policy!.cue.passes(["predicateType": "https://cyclonedx.org/bom"]))
    }

    @Test func subsetFeatures() throws {
        let p = try CUEProgram(compiling: """
        package policy
        import "time"
        limit: 10
        predicate: close({
            name: string & =~"^app-"
            tag?: !~"latest"
            count: int & >=1 & <=limit
            ratio: number
            kind: "a" | "b"
            ok: bool
            items: [...{id: int}]
            pair: [string, int]
            when: <time.Now()
            anything: _
        })
        """)
        let good: JSONValue = ["predicate": ["name": "app-x", "count": 3, "ratio": 0.5, "kind": "b", "ok": true,
                                             "items": [["id": 1], ["id": 2]], "pair": ["x", 1], "when": "2001-01-01T00:00:00Z", "anything": [1]]]
        #expect(p.violations(of: good) == [])
        var bad = good.objectValue!["predicate"]!.objectValue!
        bad["name"] = "web"; bad["tag"] = "latest"; bad["count"] = 11; bad["kind"] = "c"; bad["items"] = [["id": "1"]]
        bad["extra"] = 1; bad["pair"] = ["x"]
        let v = p.violations(of: ["predicate": .object(bad)])
        #expect(v.contains("predicate.name: invalid value \"web\" (out of bound =~\"^app-\")"))
        #expect(v.contains("predicate.tag: invalid value \"latest\" (out of bound !~\"latest\")"))
        #expect(v.contains("predicate.count: invalid value 11 (out of bound <=10)"))
        #expect(v.contains { $0.hasPrefix("predicate.kind: empty disjunction") })
        #expect(v.contains("predicate.items[0].id: conflicting values int and \"1\" (mismatched types)"))
        #expect(v.contains("predicate.extra: field not allowed (closed struct)"))
        #expect(v.contains("predicate.pair: incompatible list lengths (2 and 1)"))
        #expect(v.count == 7)
    }

    @Test(arguments: [
        ("#Def: {a: int}", "definitions (#) are not supported"),
        ("import \"strings\"\na: 1", "import \"strings\" is not supported"),
        ("a: b + 1", "unexpected character '+'"),
        ("a: \"x\\(b)\"", "string interpolation is not supported"),
        ("a: len(\"x\")", "function len() is not supported"),
        ("a: missing", "reference \"missing\" not found"),
        ("a: <b\nb: int", "the operand of < must be a concrete value"),
        ("a: 1 == 1", "binary comparison expressions are not supported"),
        ("a: b: [for x in y {x}]", "for comprehensions are not supported"),
        ("a: =~\"(\"", "invalid regular expression"),
        ("import \"time\"\na: time.Parse(time.RFC3339, \"not a time\")", "time.Parse: cannot parse"),
        ("{a: 1}", "expected a field"),
        ("a: *1 | 2", "unexpected"),
    ])
    func outsideTheSubsetFailsToCompile(_ source: String, _ message: String) {
        do {
            _ = try CUEProgram(compiling: source)
            Issue.record("compiled: \(source)")
        } catch {
            #expect(error.description.contains(message), "\(source): \(error)")
        }
    }
}

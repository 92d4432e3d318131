import Foundation
import Testing
import TestSupport

/// policies/: commented sample policies that the real `sealgate lint` accepts.
@Suite struct SamplePolicyTests {
    @Test func samplesLintCleanWithTheBuiltBinary() throws {
        guard let sealgate = Deploy.sealgate(), let report = try Manifests.validate(["policies"]) else { return }
        // Every YAML document parses (the validator reports unparsable files as failures).
        #expect(report.documents.allSatisfy { $0.status != "unparsable" })
        let result = try lint(sealgate, [Deploy.path("policies")])
        #expect(result.status == 0, "sealgate lint policies/: \(result.output)")
        #expect(result.output.contains(" 0 error(s), 0 warning(s)"), "\(result.output)")
        // Every document is a policy sealgate loaded.
        #expect(result.validPolicies == report.documents.count && report.documents.count >= 8, "\(result.output)")
    }

    /// Negative control: lint does reject a broken policy, so the pass above means something.
    @Test func lintRejectsABrokenSample() throws {
        guard let sealgate = Deploy.sealgate() else { return }
        let dir = try makeTemporaryDirectory("policy-negative")
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = try Deploy.read("policies/audit/cip-keyless-warn.yaml").replacingOccurrences(of: "mode: warn", with: "mode: block")
        try text.write(to: dir.appendingPathComponent("p.yaml"), atomically: true, encoding: .utf8)
        let result = try lint(sealgate, [dir.path])
        #expect(result.status == 1 && result.output.contains("mode"), "\(result.output)")
    }

    @Test func everySampleIsCommented() throws {
        let files = FileManager.default.enumerator(atPath: Deploy.path("policies"))?.compactMap { $0 as? String }.filter { $0.hasSuffix(".yaml") } ?? []
        #expect(files.count >= 8)
        for f in files {
            let lines = try Deploy.read("policies/\(f)").split(separator: "\n")
            #expect(lines.filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }.count >= 2, "\(f) has no explanatory comments")
        }
    }

    /// The samples cover the cases the docs promise.
    @Test func samplesCoverTheDocumentedCases() throws {
        guard let report = try Manifests.validate(["policies"]) else { return }
        let cips = report.documents.filter { $0.kind == "ClusterImagePolicy" }
        let kyverno = report.documents.filter { $0.kind == "ClusterPolicy" }
        func authorities(_ d: ManifestDocument) -> [[String: Any]] { dig(d.object, "spec", "authorities") as? [[String: Any]] ?? [] }
        func identities(_ a: [String: Any]) -> [[String: Any]] { dig(a, "keyless", "identities") as? [[String: Any]] ?? [] }

        let enforcing = cips.filter { dig($0.object, "spec", "mode") == nil }
        #expect(enforcing.contains { authorities($0).contains { identities($0).contains {
            $0["issuer"] as? String == "https://token.actions.githubusercontent.com" && $0["subject"] != nil } } }, "keyless exact identity")
        #expect(cips.contains { authorities($0).contains { identities($0).contains { $0["subjectRegExp"] != nil } } }, "keyless regexp identity")
        let attestations = cips.flatMap { authorities($0).flatMap { $0["attestations"] as? [[String: Any]] ?? [] } }
        #expect(attestations.contains { $0["predicateType"] as? String == "spdxjson" }, "SPDX SBOM attestation")
        let slsa = attestations.first { $0["predicateType"] as? String == "slsaprovenance" }
        #expect(dig(slsa, "policy", "type") as? String == "cue")
        #expect((dig(slsa, "policy", "data") as? String)?.contains("builder") == true, "SLSA builder id check")
        #expect(cips.contains { dig($0.object, "spec", "mode") as? String == "warn" }, "CIP warn mode")

        // Key-based: the embedded key is a real ECDSA P-256 public key.
        let keys = cips.flatMap { authorities($0).compactMap { dig($0, "key", "data") as? String } }
        #expect(!keys.isEmpty)
        if let openssl = Deploy.tool("openssl", "checks the sample public key"), let pem = keys.first {
            let out = try Subprocess.run(openssl, ["pkey", "-pubin", "-noout", "-text"], stdin: Data(pem.utf8), timeout: 30)
            #expect(out.status == 0 && (out.stdout.contains("prime256v1") || out.stdout.contains("P-256")), "\(out.stdout)\(out.stderr)")
        }

        // Kyverno: enforce with mutateDigest and a keyless attestor; audit without mutation.
        func verifications(_ d: ManifestDocument) -> [[String: Any]] {
            (dig(d.object, "spec", "rules") as? [[String: Any]] ?? []).flatMap { $0["verifyImages"] as? [[String: Any]] ?? [] }
        }
        let all = kyverno.flatMap(verifications)
        #expect(all.contains { $0["failureAction"] as? String == "Enforce" && $0["mutateDigest"] as? Bool == true &&
            (dig($0, "attestors", "0", "entries", "0", "keyless") != nil) })
        #expect(all.contains { $0["failureAction"] as? String == "Audit" && $0["mutateDigest"] as? Bool == false })
    }
}

import Foundation
import PolicyTesting
import Testing
import TestSupport

/// kyverno-test.yaml parsing on upstream examples (both formats), and parse errors naming file and field.
struct KyvernoTestFileTests {
    static let examples = TestPaths.sharedTestdata.appendingPathComponent("kyverno/examples")

    @Test("every upstream kyverno-test.yaml parses, in both the v1alpha1 and the older format")
    func upstreamExamplesParse() throws {
        let files = KyvernoTest.find(in: Self.examples.path)
        #expect(files.count == 6, "\(files)")
        for file in files {
            let test = try KyvernoTest.load(file: file)
            #expect(!test.results.isEmpty && !test.policies.isEmpty && !test.resources.isEmpty, "\(file)")
            for path in test.policies + test.resources { #expect(FileManager.default.fileExists(atPath: path), "\(path)") }
        }
        let old = try KyvernoTest.load(file: Self.examples.appendingPathComponent("02-cosign-static-key-old-test-format/kyverno-test.yaml").path)
        #expect(old.name == "test-image-signature")
        #expect(old.results.map(\.resources) == [["signed"], ["unsigned"]])
        #expect(old.results.map(\.result) == [.pass, .fail])
        let multi = try KyvernoTest.load(file: Self.examples.appendingPathComponent("06-multi-container-order/kyverno-test.yaml").path)
        #expect(multi.results.first?.resources == ["signed-first", "unsigned-first"])
        let digest = try KyvernoTest.load(file: Self.examples.appendingPathComponent("04-verify-digest-only-audit/kyverno-test.yaml").path)
        #expect(digest.results.map(\.resources) == [["test/no-digest"], ["test/with-digest"]])
    }

    @Test("malformed test files name the file and the field")
    func errors() throws {
        func error(_ text: String) -> String {
            do { _ = try KyvernoTest.parse(text, file: "t/kyverno-test.yaml"); return "" } catch { return "\(error)" }
        }
        #expect(error("name: x\npolicies: [p.yaml]\nresources: [r.yaml]\nresults:\n  - {policy: p, rule: r, resource: a, status: maybe}")
                == "t/kyverno-test.yaml results[0].result: \"maybe\" is not one of pass, fail, skip, warn, error")
        #expect(error("name: x\nresources: [r.yaml]\nresults: []") == "t/kyverno-test.yaml: policies: missing")
        #expect(error("name: x\npolicies: [p.yaml]\nresources: [r.yaml]\nresults:\n  - {policy: p, result: pass}")
                .hasPrefix("t/kyverno-test.yaml results[0].resources: missing"))
        #expect(error("apiVersion: cli.kyverno.io/v1beta9\nkind: Test").contains("apiVersion/kind"))
        #expect(error("policies: [").hasPrefix("t/kyverno-test.yaml: "))
    }
}

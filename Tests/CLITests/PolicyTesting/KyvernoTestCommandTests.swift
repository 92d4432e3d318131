import Foundation
import Registry
import Testing
import TestSupport

/// `sealgate test` (the real binary) on upstream kyverno-test examples offline, and input errors as one clear line.
struct KyvernoTestCommandTests {
    static let examples = TestPaths.sharedTestdata.appendingPathComponent("kyverno/examples")

    @Test("upstream examples that need no network pass offline (04 digest-only audit, 05 required without attestors)")
    func examplesOffline() throws {
        let dir = try makeTemporaryDirectory("examples-offline")
        let layout = dir.appendingPathComponent("empty-layout").path
        try OCILayout.create(directory: layout).writeIndex()
        for example in ["04-verify-digest-only-audit", "05-required-only-failurepolicy"] {
            let run = try SealgateCLI.run(["test", Self.examples.appendingPathComponent(example).path, "--offline", layout],
                                          environment: ["HOME": dir.path])
            #expect(run.status == 0, "\(example)\n\(run.stdout)\n\(run.stderr)")
            #expect(run.stdout.contains("tests passed and 0 tests failed"), "\(run.stdout)")
        }
    }

    @Test("usage and input errors: exit 2 with one line naming file and field, never a usage dump")
    func cliErrors() throws {
        let dir = try makeTemporaryDirectory("test-errors")
        func sealgate(_ args: [String]) throws -> ProcessOutput {
            try SealgateCLI.run(args, environment: ["HOME": dir.path])
        }
        let missing = try sealgate(["test", dir.appendingPathComponent("nope").path])
        #expect(missing.status == 2 && missing.stderr.hasSuffix("no such file or directory\n") && !missing.stderr.contains("USAGE"), "\(missing.stderr)")
        let bad = dir.appendingPathComponent("bad")
        try FileManager.default.createDirectory(at: bad, withIntermediateDirectories: true)
        try "name: x\npolicies: [p.yaml]\nresources: [r.yaml]\nresults:\n  - {policy: p, rule: r, resource: a, status: maybe}\n"
            .write(to: bad.appendingPathComponent("kyverno-test.yaml"), atomically: true, encoding: .utf8)
        let parse = try sealgate(["test", bad.path])
        #expect(parse.status == 2 && parse.stderr.contains("kyverno-test.yaml results[0].result: \"maybe\""), "\(parse.stderr)")
        #expect(parse.stderr.split(separator: "\n").count == 1, "\(parse.stderr)")
        let noPolicy = try sealgate(["test", Self.examples.appendingPathComponent("04-verify-digest-only-audit").path, "--offline", dir.path])
        #expect(noPolicy.status == 2 && noPolicy.stderr.contains("--offline: ") && noPolicy.stderr.contains("not an OCI image layout"), "\(noPolicy.stderr)")
        let apply = try sealgate(["apply", "--policy", Self.examples.appendingPathComponent("04-verify-digest-only-audit/policies.yaml").path])
        #expect(apply.status == 2 && apply.stderr.contains("no resources"), "\(apply.stderr)")
        let none = try sealgate(["test"])
        #expect(none.status == 2 && none.stderr == "sealgate test: usage: sealgate test DIR... (directories with kyverno-test.yaml files, or test files)\n",
                "\(none.stderr)")
        let save = try sealgate(["save", "only-one-arg"])
        #expect(save.status == 2 && save.stderr.contains("usage: sealgate save IMAGE... DIR"), "\(save.stderr)")
    }
}

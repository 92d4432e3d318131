import Foundation
import TestSupport
import Testing

/// The two shared harnesses that judge sealgate against upstream verdicts, run on the built binary.
@Suite("reference verdicts: sigstore-conformance and real-world artifacts")
struct ConformanceTests {
    static let tools = TestPaths.sharedTestdata.deletingLastPathComponent().appendingPathComponent("tools")

    /// Runs `tools/NAME sealgate` and returns its closing `N passed, M failed` line and its whole output.
    static func run(_ tool: String) throws -> (summary: String, output: String, status: Int32) {
        try run(script: tools.appendingPathComponent(tool), [])
    }

    static func run(script: URL, _ extra: [String]) throws -> (summary: String, output: String, status: Int32) {
        let binary = TestPaths.sealgateBinary
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "sealgate binary not built at \(binary.path)")
        try #require(FileManager.default.fileExists(atPath: script.path), "\(script.path) is missing: ../shared must sit beside the repository")
        let run = try Subprocess.run("python3", [script.path, binary.path] + extra, timeout: 1800)
        let summary = run.stdout.split(separator: "\n").last.map(String.init) ?? ""
        return (summary, run.stdout + run.stderr, run.status)
    }

    @Test("all 70 sigstore-conformance cases × path/digest pass against the built sealgate binary")
    func conformanceSuitePasses() throws {
        let r = try Self.run("sigstore-conformance")
        #expect(r.summary == "140 passed, 0 failed", "conformance output:\n\(r.output)")
        #expect(r.status == 0)
    }

    @Test("one-byte mutants of every verifying real-world case (artifact, signature, certificate, proof hash, SET, checkpoint, DSSE payload, ...) are rejected")
    func realWorldMutantsAreRejected() throws {
        let realworld = TestPaths.sharedTestdata.appendingPathComponent("realworld")
        try #require(FileManager.default.fileExists(atPath: realworld.appendingPathComponent("cases.tsv").path),
                     "../shared/testdata/realworld is missing: ../shared must sit beside the repository")
        let r = try Self.run(script: TestPaths.fixtures.appendingPathComponent("mutation/realworld_mutants.py"), [realworld.path])
        // 73 verifying cases, each with at least 6 kinds of mutation (the script fails a case with fewer).
        #expect(r.output.contains("mutants of 73 cases"), "mutation output:\n\(r.output)")
        #expect(r.summary.hasSuffix(" passed, 0 failed"), "mutation output:\n\(r.output)")
        #expect(r.status == 0)
    }

    @Test("all 135 real-world artifacts get the verdict of the tool their owners use")
    func realWorldArtifactsAgree() throws {
        let r = try Self.run("realworld-check")
        #expect(r.summary == "135 passed, 0 failed", "realworld-check output:\n\(r.output)")
        #expect(r.status == 0)
    }
}

import Foundation
import Testing
import TestSupport

/// Runs the built `sealgate lint` binary (built alongside the tests).
@Suite struct LintCommand {
    func run(_ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = TestPaths.sealgateBinary
        p.arguments = ["lint"] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    var available: Bool { FileManager.default.isExecutableFile(atPath: TestPaths.sealgateBinary.path) }

    @Test func validDirectoriesExitZero() throws {
        try #require(available, "sealgate binary not built at \(TestPaths.sealgateBinary.path)")
        let (rc, out) = try run([Paths.policyController.appendingPathComponent("valid").path,
                                 Paths.policyController.appendingPathComponent("examples").path])
        #expect(rc == 0, "\(out)")
        #expect(out.contains("21 valid policies, 0 error(s)"))
    }

    @Test func invalidFileExitsOneWithFileDocumentAndField() throws {
        try #require(available)
        let file = Paths.policyController.appendingPathComponent("invalid/invalid-glob.yaml").path
        let (rc, out) = try run([file])
        #expect(rc == 1)
        #expect(out.contains("\(file): document 0: spec.images[0].glob: invalid glob \"[\""))
    }

    @Test func strictTurnsKMSWarningsIntoFailure() throws {
        try #require(available)
        let file = Paths.policyController.appendingPathComponent("valid/valid-keyref-awskms.yaml").path
        #expect(try run([file]).0 == 0)
        #expect(try run(["--strict", file]).0 == 1)
    }

    @Test("GitHub's artifact-attestation policy, TUF TrustRoot included, lints clean")
    func githubTrustPoliciesLintClean() throws {
        try #require(available)
        let file = Paths.testdata.appendingPathComponent("github-attestations/trust-policies.yaml").path
        try #require(FileManager.default.fileExists(atPath: file), "missing upstream test data \(file)")
        let (rc, out) = try run([file])
        #expect(rc == 0, "\(out)")
        #expect(out.contains("1 valid policy, 0 error(s), 0 warning(s)"), "\(out)")
    }

    @Test func missingPathFails() throws {
        try #require(available)
        let (rc, out) = try run(["/nonexistent/policy.yaml"])
        #expect(rc == 1)
        #expect(out.contains("/nonexistent/policy.yaml: no such file or directory"))
    }
}

import Foundation
import Testing
import TestSupport

/// The parser fuzzer (`fuzz/parsers`, seeds in `fuzz/corpus`) runs every target briefly in CI: no crash, no
/// broken invariant, no slow input. The 10-minute campaigns are documented in HARDENING.md.
struct ParserFuzzSmokeTests {
    @Test("every parser target survives a short seeded mutation run")
    func shortCampaign() throws {
        let binary = TestPaths.productsDirectory.appendingPathComponent("sealgate-fuzz").path
        let dir = try makeTemporaryDirectory("fuzz")
        // A new seed each run explores further; a failure names it for `sealgate-fuzz TARGET --seed N` to replay.
        let seed = UInt32.random(in: 1...UInt32.max)
        let run = try Subprocess.run(binary, ["all", "--seconds", "1.5", "--seed", String(seed)], directory: dir.path, timeout: 120)
        #expect(run.status == 0, "seed \(seed): \(run.stdout)\(run.stderr)")
        for target in ["admission", "policy", "imageref", "bundle", "x509", "dsse", "manifest", "jmespath", "cue"] {
            let line = run.stdout.split(separator: "\n").first { $0.hasPrefix("\(target): ") && $0.contains("executions") }
            let executions = line.flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) } ?? 0
            #expect(executions > 0, "\(target) did not run: \(run.stdout)")
        }
    }

    @Test("the libFuzzer target binary replays the seed corpus of every target")
    func replaySeeds() throws {
        let binary = TestPaths.productsDirectory.appendingPathComponent("sealgate-libfuzz").path
        let corpus = TestPaths.packageRoot.appendingPathComponent("fuzz/corpus")
        for target in ["admission", "policy", "imageref", "bundle", "x509", "dsse", "manifest", "jmespath", "cue"] {
            let dir = corpus.appendingPathComponent(target)
            let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).map { dir.appendingPathComponent($0).path }
            let run = try Subprocess.run(binary, [target] + files, timeout: 60)
            #expect(run.status == 0, "\(target): \(run.stdout)\(run.stderr)")
            #expect(run.stdout.split(separator: "\n").filter { $0.hasSuffix(": ok") }.count == files.count, "\(target): \(run.stdout)")
        }
    }
}

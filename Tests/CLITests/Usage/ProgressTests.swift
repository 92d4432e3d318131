import E2ESupport
import Foundation
import Registry
import Testing
import TestSupport

/// Progress on stderr for long CLI work: under a pseudo-terminal (`script`) the line is drawn and redrawn with `\r`;
/// piped, or with `--quiet`, there is none.
@Suite(.serialized)
struct ProgressTests {
    /// `sealgate ARGS` with stdout and stderr on a pseudo-terminal; what the terminal showed.
    static func onTerminal(_ arguments: [String], home: URL) throws -> ProcessOutput {
        let quoted = ([TestPaths.sealgateBinary.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }
        return try Subprocess.run("script", ["-qec", quoted.joined(separator: " "), "/dev/null"], environment: ["HOME": home.path])
    }

    static func pods(_ count: Int, in dir: URL) throws -> String {
        let items = (0..<count).map { i in
            #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p\#(i)","namespace":"ns\#(i % 3)"},"spec":{"containers":[{"name":"c","image":"registry.example/app:\#(i)"}]}}"#
        }
        let file = dir.appendingPathComponent("pods.json")
        try #"{"apiVersion":"v1","kind":"List","items":[\#(items.joined(separator: ","))]}"#.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    @Test("apply over 30 Pods: a redrawn done/total line with rate and time left on a terminal; none when piped or --quiet")
    func applyProgress() throws {
        let dir = try makeTemporaryDirectory("progress-apply")
        let apply = ["apply", "--policy", TestPaths.fixtures.appendingPathComponent("policies/allow-all-static.yaml").path,
                     "--cluster-json", try Self.pods(30, in: dir)]
        let terminal = try Self.onTerminal(apply, home: dir)
        #expect(terminal.status == 0, "\(terminal.stdout)")
        #expect(terminal.stdout.contains("\r\u{1B}[K30/30 resources  "), "\(terminal.stdout.debugDescription)")
        let line = try #require(terminal.stdout.firstMatch(of: /30\/30 resources  ([0-9.,]+)\/s  (\d+:\d\d) left/), "\(terminal.stdout.debugDescription)")
        #expect(line.output.2 == "0:00", "nothing is left once all are done")
        #expect(terminal.stdout.contains("30 resource(s): 30 rule result(s) pass"), "the table follows on the terminal")

        let piped = try SealgateCLI.run(apply, environment: ["HOME": dir.path])
        #expect(piped.status == 0 && piped.stdout.contains("30 resource(s)"), "\(piped.stderr)")
        #expect(!piped.stderr.contains("resources  ") && !piped.stderr.contains("\r"), "\(piped.stderr.debugDescription)")
        let quiet = try Self.onTerminal(apply + ["--quiet"], home: dir)
        #expect(quiet.status == 0 && quiet.stdout.contains("30 resource(s)"), "\(quiet.stdout)")
        #expect(!quiet.stdout.contains("/30 resources"), "\(quiet.stdout.debugDescription)")
    }

    @Test("test over two directories counts test files; save counts images (loopback registry)")
    func testAndSaveProgress() throws {
        let world = try E2EWorld("progress-save")
        defer { world.stop() }
        let layout = world.dir.appendingPathComponent("empty-layout")
        try OCILayout.create(directory: layout.path).writeIndex()
        let examples = TestPaths.sharedTestdata.appendingPathComponent("kyverno/examples")
        let test = try Self.onTerminal(["test", examples.appendingPathComponent("04-verify-digest-only-audit").path,
                                        examples.appendingPathComponent("05-required-only-failurepolicy").path, "--offline", layout.path], home: world.home)
        #expect(test.status == 0, "\(test.stdout)")
        #expect(test.stdout.contains("\r\u{1B}[K2/2 test files  ") && test.stdout.contains("tests passed and 0 tests failed"), "\(test.stdout.debugDescription)")

        let images = try (0..<3).map { i -> String in try world.pushImage("progress/img\(i)"); return world.ref("progress/img\(i)", ":v1") }
        let save = try Self.onTerminal(["save"] + images + [world.dir.appendingPathComponent("saved").path, "--insecure-registry", world.host],
                                       home: world.home)
        #expect(save.status == 0, "\(save.stdout)")
        #expect(save.stdout.contains("\r\u{1B}[K3/3 images  ") && save.stdout.components(separatedBy: ": saved sha256:").count == 4,
                "\(save.stdout.debugDescription)")
    }
}

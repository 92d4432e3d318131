import Foundation
import Testing
import TestSupport

/// `sealgate version` / `--version`: the commit is the one the binary was built from (Plugins/BuildStamp), and the
/// library versions are the ones this machine's tools report.
struct VersionTests {
    static func git(_ arguments: [String]) throws -> String {
        let run = try Subprocess.run("git", ["-C", TestPaths.packageRoot.path] + arguments)
        try #require(run.status == 0, "git \(arguments): \(run.stderr)")
        return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("version -o json names the commit of this tree (-dirty when it has changes) and the Swift, OpenSSL and nghttp2 in use")
    func versionJSON() throws {
        let run = try SealgateCLI.run(["version", "-o", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        let info = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: String], "\(run.stdout)")
        let head = try Self.git(["rev-parse", "HEAD"])
        let dirty = try !Self.git(["status", "--porcelain", "--untracked-files=no"]).isEmpty
        #expect(info["commit"] == head + (dirty ? "-dirty" : ""), "built from \(info["commit"] ?? "-"), tree at \(head) dirty=\(dirty)")

        let version = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("charts/sealgate/Chart.yaml"), encoding: .utf8)
        #expect(version.contains("appVersion: \"\(info["version"] ?? "-")\""), "the chart's appVersion is the binary's version")
        let built = try #require(info["buildDate"].flatMap { try? Date($0, strategy: .iso8601) }, "\(info)")
        #expect(built <= Date() && built > Date(timeIntervalSince1970: 1_700_000_000))

        let swift = try Subprocess.run("swift", ["--version"])
        #expect(swift.stdout.contains("Swift version \(info["swift"] ?? "-") "), "\(swift.stdout) vs \(info)")
        let openssl = try Subprocess.run("openssl", ["version"])
        #expect(openssl.stdout.contains(info["openssl"] ?? "-"), "\(openssl.stdout) vs \(info)")
        let nghttp2 = try Subprocess.run("pkg-config", ["--modversion", "libnghttp2"])
        #expect(nghttp2.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == info["nghttp2"], "\(nghttp2.stdout) vs \(info)")
    }

    @Test("--version and version print the same text; a bad -o is a usage error naming it")
    func versionText() throws {
        let flag = try SealgateCLI.run(["--version"])
        let command = try SealgateCLI.run(["version"])
        #expect(flag.status == 0 && command.status == 0)
        #expect(flag.stdout == command.stdout && command.stdout.hasPrefix("sealgate "), "\(flag.stdout)\n\(command.stdout)")
        #expect(command.stdout.contains("commit:  \(try Self.git(["rev-parse", "HEAD"]))"), "\(command.stdout)")
        let bad = try SealgateCLI.run(["version", "-o", "xml"])
        #expect(bad.status != 0 && bad.stderr.contains("--output must be text or json"), "\(bad.stderr)")
    }
}

import Foundation

/// The Go net/http HTTP/2 client in Tests/Fixtures/go/h2client, built once per test process.
public enum GoClient {
    public struct Unavailable: Error, CustomStringConvertible { public let description: String }

    private static let built: Result<String, Error> = Result {
        guard Subprocess.which("go") != nil else { throw Unavailable(description: "go (golang-go) is not installed") }
        let source = TestPaths.fixtures.appendingPathComponent("go/h2client/main.go").path
        let binary = try makeTemporaryDirectory("h2client").appendingPathComponent("h2client").path
        let env = ["GOTOOLCHAIN": "local", "GOPROXY": "off", "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0"]
        let build = try Subprocess.run("go", ["build", "-o", binary, source], environment: env, timeout: 300)
        guard build.status == 0 else { throw Unavailable(description: "go build failed: \(build.stderr)") }
        return binary
    }

    public static func binary() throws -> String { try built.get() }

    /// Sends `body` n times concurrently as the API server would; returns the parsed summary.
    public static func send(url: String, caFile: String, body: String, count: Int = 1, timeout: String = "10s",
                            bodies: Bool = true) throws -> [String: Any] {
        let run = try Subprocess.run(try binary(), ["-url", url, "-ca", caFile, "-body", body, "-n", String(count),
                                                    "-timeout", timeout] + (bodies ? ["-bodies"] : []), timeout: 120)
        guard run.status == 0, let summary = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] else {
            throw Unavailable(description: "h2client failed (\(run.status)): \(run.stdout) \(run.stderr)")
        }
        return summary
    }
}

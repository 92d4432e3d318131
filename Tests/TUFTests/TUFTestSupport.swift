import Foundation
import TestSupport
import XCTest

/// python3 with python-tuf, or a failure that says how to get it (scripts/install-deps installs it).
func requirePythonTUF(file: StaticString = #filePath, line: UInt = #line) throws {
    let out = try Subprocess.run("python3", ["-c", "import tuf.api.metadata, securesystemslib.signer"], timeout: 30)
    if out.status != 0 {
        throw TUFTestError("python-tuf is not importable (pip install tuf, or run scripts/install-deps): \(out.stderr)")
    }
}

struct TUFTestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A loopback HTTP server (python3 -m http.server on 127.0.0.1, ephemeral port) serving one directory for all
/// TUF tests; stopped with the test process (BackgroundProcess goes through reaper.py).
final class LoopbackServer: @unchecked Sendable {
    let root: URL
    let port: Int
    private let process: BackgroundProcess

    static let shared: LoopbackServer = {
        do { return try LoopbackServer() } catch { fatalError("cannot start the loopback HTTP server: \(error)") }
    }()

    private init() throws {
        root = try makeTemporaryDirectory("sealgate-tuf-www")
        process = try BackgroundProcess("python3", ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", root.path])
        var found: Int?
        _ = process.waitForOutput(timeout: 15) { out in
            if let r = out.range(of: #"port (\d+)"#, options: .regularExpression) {
                found = Int(out[r].dropFirst(5))
            }
            return found != nil
        }
        guard let found else { throw SubprocessError.timedOut("python3 -m http.server (no port announced)", 15) }
        port = found
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)/\(path)" }

    /// Request lines the server logged (its stderr), e.g. `GET /r1/metadata/2.root.json`.
    var requests: [String] {
        process.stderr.split(separator: "\n").compactMap { line in
            guard let q = line.range(of: "\"GET ") else { return nil }
            let rest = line[q.upperBound...]
            return "GET " + (rest.split(separator: " ").first.map(String.init) ?? "")
        }
    }
}

/// A python-tuf repository (Tests/Fixtures/tuf/repo.py) under the server's directory.
final class FixtureRepo {
    let name: String
    let dir: URL
    let server: LoopbackServer

    init(_ initArgs: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws {
        try requirePythonTUF(file: file, line: line)
        server = LoopbackServer.shared
        name = "repo-\(UUID().uuidString.prefix(8))"
        dir = server.root.appendingPathComponent(name)
        try run(["init"] + initArgs, file: file, line: line)
    }

    /// Runs ops (`+` separates them, as repo.py takes them).
    func run(_ ops: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let script = TestPaths.fixtures.appendingPathComponent("tuf/repo.py").path
        let out = try Subprocess.run("python3", [script, dir.path] + ops, timeout: 120)
        if out.status != 0 {
            throw TUFTestError("repo.py \(ops.joined(separator: " ")) failed: \(out.stderr)")
        }
    }

    func run(_ ops: String..., file: StaticString = #filePath, line: UInt = #line) throws { try run(ops, file: file, line: line) }

    var metadataURL: String { server.url("\(name)/metadata") }
    var targetsURL: String { server.url("\(name)/targets") }
    func metadataFile(_ name: String) -> URL { dir.appendingPathComponent("metadata/\(name)") }
    /// Requests the server saw for this repository, without the repository prefix.
    var requests: [String] { server.requests.filter { $0.hasPrefix("GET /\(name)/") }.map { $0.replacingOccurrences(of: "/\(name)/", with: "/") } }
}

/// The `sealgate tuf` client with its own metadata and target directories.
struct TUFClient {
    let metadataDir: URL
    let targetDir: URL
    let metadataURL: String
    let targetsURL: String

    init(_ repo: FixtureRepo, rootVersion: Int = 1) throws {
        try self.init(metadataURL: repo.metadataURL, targetsURL: repo.targetsURL, root: repo.metadataFile("\(rootVersion).root.json"))
    }

    init(metadataURL: String, targetsURL: String, root: URL) throws {
        let base = try makeTemporaryDirectory("sealgate-tuf-client")
        metadataDir = base.appendingPathComponent("metadata")
        targetDir = base.appendingPathComponent("targets")
        self.metadataURL = metadataURL
        self.targetsURL = targetsURL
        let out = try Self.tuf(["--metadata-dir", metadataDir.path, "init", root.path])
        XCTAssertEqual(out.status, 0, "init: \(out.stderr)")
    }

    static func tuf(_ args: [String], now: String? = nil) throws -> ProcessOutput {
        try Subprocess.run(TestPaths.sealgateBinary.path, ["tuf"] + args + (now.map { ["--now", $0] } ?? []), timeout: 120)
    }

    func refresh(now: String? = nil) throws -> ProcessOutput {
        try Self.tuf(["--metadata-dir", metadataDir.path, "--metadata-url", metadataURL, "refresh"], now: now)
    }

    func download(_ names: [String], now: String? = nil) throws -> ProcessOutput {
        var args = ["--metadata-dir", metadataDir.path, "--metadata-url", metadataURL]
        for n in names { args += ["--target-name", n] }
        return try Self.tuf(args + ["--target-base-url", targetsURL, "--target-dir", targetDir.path, "download"], now: now)
    }

    /// The `signed.version` of a trusted metadata file, nil if absent.
    func trustedVersion(_ role: String) -> Int? {
        guard let data = FileManager.default.contents(atPath: metadataDir.appendingPathComponent("\(role).json").path),
              let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let signed = doc["signed"] as? [String: Any] else { return nil }
        return signed["version"] as? Int
    }

    func target(_ path: String) -> String? {
        let name = path.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")) ?? path
        return FileManager.default.contents(atPath: targetDir.appendingPathComponent(name).path).map { String(decoding: $0, as: UTF8.self) }
    }
}

func assertSucceeded(_ out: ProcessOutput, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(out.status, 0, "expected success; stderr: \(out.stderr) stdout: \(out.stdout)", file: file, line: line)
}

/// Exit 1 and every fragment in the one-line reason on stderr.
func assertRefused(_ out: ProcessOutput, _ fragments: String..., file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(out.status, 1, "expected refusal; stdout: \(out.stdout) stderr: \(out.stderr)", file: file, line: line)
    for f in fragments {
        XCTAssertTrue(out.stderr.contains(f), "stderr lacks \"\(f)\": \(out.stderr)", file: file, line: line)
    }
}

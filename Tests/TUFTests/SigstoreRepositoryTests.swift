import Crypto
import Foundation
import SealgateCore
import TestSupport
@testable import TUF
import XCTest

/// The real Sigstore public-good TUF repository (../shared/testdata/tuf/sigstore-root-signing, root v1 … v15),
/// laid out as tuf-repo-cdn.sigstore.dev serves it and served from loopback, with a pinned clock because its
/// timestamp expired days after the copy was taken.
final class SigstoreRepositoryTests: XCTestCase {
    static let beforeExpiry = "2026-08-20T00:00:00Z"   // timestamp expires 2026-08-28T19:25:56Z
    static let afterTimestampExpiry = "2026-09-01T00:00:00Z"  // root v15 still valid until 2026-11-20

    private var copy: URL { TestPaths.sharedTestdata.appendingPathComponent("tuf/sigstore-root-signing") }

    /// The copy's files renamed to the names a consistent-snapshot client asks for (no file is altered).
    private func servedCopy() throws -> (name: String, dir: URL) {
        guard FileManager.default.fileExists(atPath: copy.appendingPathComponent("metadata/root_history/1.root.json").path) else {
            throw TUFTestError("the shared Sigstore TUF copy is missing: expected \(copy.path) (../shared/testdata beside the checkout)")
        }
        let fm = FileManager.default
        let name = "sigstore-\(UUID().uuidString.prefix(8))"
        let dir = LoopbackServer.shared.root.appendingPathComponent(name)
        let meta = dir.appendingPathComponent("metadata"), targets = dir.appendingPathComponent("targets")
        try fm.createDirectory(at: meta, withIntermediateDirectories: true)
        try fm.createDirectory(at: targets, withIntermediateDirectories: true)
        let src = copy.appendingPathComponent("metadata")
        for file in try fm.contentsOfDirectory(atPath: src.appendingPathComponent("root_history").path) {
            try fm.copyItem(at: src.appendingPathComponent("root_history/\(file)"), to: meta.appendingPathComponent(file))
        }
        try fm.copyItem(at: src.appendingPathComponent("timestamp.json"), to: meta.appendingPathComponent("timestamp.json"))
        func version(_ file: String) throws -> Int {
            let doc = try JSONParser.parse(try Data(contentsOf: src.appendingPathComponent(file)))
            return doc.objectValue!["signed"]!.objectValue!["version"]!.intValue!
        }
        for role in ["snapshot", "targets", "registry.npmjs.org"] {
            try fm.copyItem(at: src.appendingPathComponent("\(role).json"), to: meta.appendingPathComponent("\(try version("\(role).json")).\(role).json"))
        }
        let trusted = try Data(contentsOf: copy.appendingPathComponent("targets/trusted_root.json"))
        try trusted.write(to: targets.appendingPathComponent("\(Hex.encode(SHA256.hash(data: trusted))).trusted_root.json"))
        return (name, dir)
    }

    private func client(_ name: String) throws -> TUFClient {
        try TUFClient(metadataURL: LoopbackServer.shared.url("\(name)/metadata"), targetsURL: LoopbackServer.shared.url("\(name)/targets"),
                      root: copy.appendingPathComponent("metadata/root_history/1.root.json"))
    }

    func testWalksRoot1To15AndDownloadsTrustedRootByteForByte() throws {
        let (name, _) = try servedCopy()
        let client = try client(name)
        let out = try client.download(["trusted_root.json"], now: Self.beforeExpiry)
        assertSucceeded(out)
        XCTAssertEqual(client.trustedVersion("root"), 15)
        XCTAssertEqual(try Data(contentsOf: client.metadataDir.appendingPathComponent("root.json")),
                       try Data(contentsOf: copy.appendingPathComponent("metadata/root_history/15.root.json")))
        let stored = try Data(contentsOf: client.targetDir.appendingPathComponent("trusted_root.json"))
        XCTAssertEqual(stored, try Data(contentsOf: copy.appendingPathComponent("targets/trusted_root.json")), "byte-identical trusted_root.json")

        let roots = LoopbackServer.shared.requests.filter { $0.hasPrefix("GET /\(name)/metadata/") && $0.hasSuffix(".root.json") }
        XCTAssertEqual(roots, (2...16).map { "GET /\(name)/metadata/\($0).root.json" }, "one root version at a time, stopping at the first missing one")
        XCTAssertEqual(client.trustedVersion("timestamp"), 762)
        XCTAssertEqual(client.trustedVersion("snapshot"), 165)
        XCTAssertEqual(client.trustedVersion("targets"), 14)

        // Cached: the second run fetches no target.
        let again = try client.download(["trusted_root.json"], now: Self.beforeExpiry)
        assertSucceeded(again)
        XCTAssertTrue(again.stdout.contains("already present"), again.stdout)
        XCTAssertEqual(LoopbackServer.shared.requests.filter { $0.hasPrefix("GET /\(name)/targets/") }.count, 1)
    }

    func testRefreshAfterTheTimestampExpiredNamesTheRole() throws {
        let (name, _) = try servedCopy()
        let client = try client(name)
        let out = try client.refresh(now: Self.afterTimestampExpiry)
        assertRefused(out, "timestamp: metadata expired at 2026-08-28T19:25:56Z")
        XCTAssertEqual(client.trustedVersion("root"), 15, "the root walk itself succeeded and was persisted")
        XCTAssertNil(client.trustedVersion("timestamp"), "an expired timestamp is never stored")

        // Past root v15's own expiry the root is the one named.
        assertRefused(try client.refresh(now: "2026-12-01T00:00:00Z"), "root: metadata expired at 2026-11-20T13:58:18Z")
    }

    func testEnvironmentPinsTheClockToo() throws {
        let (name, _) = try servedCopy()
        let client = try client(name)
        let out = try Subprocess.run(TestPaths.sealgateBinary.path,
                                     ["tuf", "--metadata-dir", client.metadataDir.path, "--metadata-url", client.metadataURL, "refresh"],
                                     environment: ["SEALGATE_TUF_NOW": Self.beforeExpiry], timeout: 120)
        assertSucceeded(out)
        XCTAssertTrue(out.stdout.contains("root v15, timestamp v762, snapshot v165, targets v14"), out.stdout)
    }

    /// The npm delegation: `registry.npmjs.org/*` terminating, signed by its own key, found through the library.
    func testDelegatedNpmTargetIsFoundThroughItsDelegation() throws {
        let (_, dir) = try servedCopy()
        let metadataDir = try makeTemporaryDirectory("sealgate-tuf-npm")
        try MetadataStore.writeAtomically(try Data(contentsOf: copy.appendingPathComponent("metadata/root_history/1.root.json")),
                                          to: metadataDir.appendingPathComponent("root.json"))
        let updater = try Updater(metadataDirectory: metadataDir, metadataBaseURL: dir.appendingPathComponent("metadata"),
                                  fetcher: FileFetcher(), now: RFC3339.parse(Self.beforeExpiry)!)
        let info = try XCTUnwrap(try updater.targetInfo("registry.npmjs.org/keys.json"))
        XCTAssertEqual(info.length, 2121)
        XCTAssertEqual(info.hashes.first?.digest, "160677eb6e1c7083c89b166b20f8fe4e837fb71181506aff1991b80b89184f7d")
        XCTAssertEqual(updater.trusted.targetsRoles["registry.npmjs.org"]?.common.version, 8)
        XCTAssertTrue(FileManager.default.fileExists(atPath: metadataDir.appendingPathComponent("registry.npmjs.org.json").path))
        // Outside the delegation's paths the npm role is not consulted.
        XCTAssertNil(try updater.targetInfo("registry.npmjs.org-not/keys.json"))
    }

    /// `serve --tuf-mirror` with the embedded public-good TUF root (v15) against the copy laid out as a mirror
    /// (targets under the metadata URL): the default trusted root comes from the repository; past the timestamp's
    /// expiry the refresh fails naming the role, the embedded trusted_root.json stays in force and /readyz says so.
    func testServeKeepsTheDefaultTrustedRootCurrentFromAMirror() throws {
        let (name, dir) = try servedCopy()
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("metadata/targets").path, withDestinationPath: "../targets")
        let mirror = LoopbackServer.shared.url("\(name)/metadata")
        func serve(now: String) throws -> (SealgateServer, String) {
            let server = try SealgateServer(arguments: ["--plaintext", "--policy", TestPaths.packageRoot.appendingPathComponent("policies").path,
                                                        "--tuf-mirror", mirror, "--tuf-cache", try makeTemporaryDirectory("tuf-serve").path],
                                            environment: ["SEALGATE_TUF_NOW": now])
            let ready = try Subprocess.run("curl", ["-s", server.baseURL + "/readyz"]).stdout
            return (server, ready)
        }
        let (fresh, ready) = try serve(now: Self.beforeExpiry)
        fresh.stop()
        XCTAssertTrue(ready.contains("trust root default: verified"), ready)
        XCTAssertFalse(ready.contains("refresh failing"), ready)
        XCTAssertTrue(LoopbackServer.shared.requests.contains { $0.hasPrefix("GET /\(name)/metadata/targets/") && $0.hasSuffix(".trusted_root.json") })

        let (expired, stale) = try serve(now: Self.afterTimestampExpiry)
        expired.stop()
        XCTAssertTrue(stale.contains("trust root default: no good root yet") && stale.contains("timestamp: metadata expired at 2026-08-28T19:25:56Z"), stale)
        XCTAssertTrue(expired.process.stderr.contains("using the embedded trusted_root.json until a refresh succeeds"), expired.process.stderr)
    }

    /// Every signature in the copy is over securesystemslib's canonical form: our canonical bytes of each file's
    /// `signed` must equal securesystemslib's, byte for byte.
    func testCanonicalBytesMatchSecuresystemslibOnEveryMetadataFile() throws {
        try requirePythonTUF()
        guard FileManager.default.fileExists(atPath: copy.path) else { throw TUFTestError("the shared Sigstore TUF copy is missing: expected \(copy.path)") }
        let src = copy.appendingPathComponent("metadata")
        var files = try FileManager.default.contentsOfDirectory(atPath: src.appendingPathComponent("root_history").path).map { "root_history/\($0)" }
        files += ["timestamp.json", "snapshot.json", "targets.json", "registry.npmjs.org.json"]
        let paths = files.map { src.appendingPathComponent($0).path }
        let script = TestPaths.fixtures.appendingPathComponent("tuf/canonical.py").path
        let out = try Subprocess.run("python3", [script, "--signed"] + paths, timeout: 60)
        XCTAssertEqual(out.status, 0, out.stderr)
        let expected = out.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(expected.count, paths.count)
        for (path, hex) in zip(paths, expected) {
            let doc = try JSONParser.parse(try Data(contentsOf: URL(fileURLWithPath: path)))
            let ours = try CanonicalJSON.encode(doc.objectValue!["signed"]!)
            XCTAssertEqual(Hex.encode(ours), hex, path)
        }
    }
}

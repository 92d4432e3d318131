import Foundation
import TestSupport
import XCTest

/// Legitimate key and threshold changes must be followed, one root version at a time, for every key type.
final class RotationTests: XCTestCase {
    func testRotationsAreFollowedForEachKeyType() throws {
        for keytype in ["ecdsa", "ed25519", "rsa"] {
            let repo = try FixtureRepo(["--keytype", keytype])
            try repo.run("add-target", "app.bin", "first")
            let client = try TUFClient(repo)
            assertSucceeded(try client.download(["app.bin"]))
            XCTAssertEqual(client.target("app.bin"), "first", keytype)

            // Root: one key → three keys with threshold 2 → two keys with threshold 2, then every other role's keys.
            try repo.run("rotate", "root", "--keys", "3", "--threshold", "2")
            try repo.run("rotate", "root", "--keys", "2", "--threshold", "2")
            try repo.run("rotate", "timestamp", "+", "rotate", "snapshot")
            try repo.run("rotate", "targets", "--keys", "2", "--threshold", "2", "+", "add-target", "app.bin", "second")
            let out = try client.download(["app.bin"])
            assertSucceeded(out)
            XCTAssertEqual(client.trustedVersion("root"), 5, keytype)
            XCTAssertEqual(client.target("app.bin"), "second", keytype)
            let trustedRoot = try Data(contentsOf: client.metadataDir.appendingPathComponent("root.json"))
            XCTAssertEqual(trustedRoot, try Data(contentsOf: repo.metadataFile("5.root.json")), "root.json is the newest root, byte for byte")
        }
    }

    func testEachRootVersionIsFetchedInOrder() throws {
        let repo = try FixtureRepo()
        let client = try TUFClient(repo)
        for _ in 0..<3 { try repo.run("rotate", "root") }
        assertSucceeded(try client.refresh())
        let roots = repo.requests.filter { $0.contains(".root.json") }
        XCTAssertEqual(roots, ["GET /metadata/2.root.json", "GET /metadata/3.root.json", "GET /metadata/4.root.json", "GET /metadata/5.root.json"])
        XCTAssertEqual(client.trustedVersion("root"), 4)
    }

    func testExpiredIntermediateRootDoesNotStopTheWalk() throws {
        let repo = try FixtureRepo()
        let client = try TUFClient(repo)
        try repo.run("expire", "root")
        try repo.run("renew", "root")
        assertSucceeded(try client.refresh())
        XCTAssertEqual(client.trustedVersion("root"), 3)
    }

    func testRepositoryWithoutConsistentSnapshotsUsesPlainNames() throws {
        let repo = try FixtureRepo(["--consistent", "0"])
        try repo.run("add-target", "dir/app.bin", "plain")
        let client = try TUFClient(repo)
        assertSucceeded(try client.download(["dir/app.bin"]))
        XCTAssertEqual(client.target("dir/app.bin"), "plain")
        let seen = repo.requests
        XCTAssertTrue(seen.contains("GET /metadata/snapshot.json"), "\(seen)")
        XCTAssertTrue(seen.contains("GET /metadata/targets.json"), "\(seen)")
        XCTAssertTrue(seen.contains("GET /targets/dir/app.bin"), "\(seen)")
    }

    func testConsistentSnapshotNamesAndTargetCaching() throws {
        let repo = try FixtureRepo()
        try repo.run("add-target", "dir/app.bin", "hashed")
        let client = try TUFClient(repo)
        assertSucceeded(try client.download(["dir/app.bin"]))
        let seen = repo.requests
        XCTAssertTrue(seen.contains("GET /metadata/2.snapshot.json"), "\(seen)")
        XCTAssertTrue(seen.contains("GET /metadata/2.targets.json"), "\(seen)")
        let targetRequests = seen.filter { $0.hasPrefix("GET /targets/") }
        XCTAssertEqual(targetRequests.count, 1)
        // HASH.NAME with the target's SHA-256 (python-tuf lists it first).
        let sha = SHA256Hex.of("hashed")
        XCTAssertEqual(targetRequests.first, "GET /targets/dir/\(sha).app.bin")

        // Present with matching hashes: not fetched again. Changed upstream: fetched again under the same name.
        let again = try client.download(["dir/app.bin"])
        assertSucceeded(again)
        XCTAssertTrue(again.stdout.contains("already present"), again.stdout)
        XCTAssertEqual(repo.requests.filter { $0.hasPrefix("GET /targets/") }.count, 1)
        try repo.run("add-target", "dir/app.bin", "changed")
        assertSucceeded(try client.download(["dir/app.bin"]))
        XCTAssertEqual(client.target("dir/app.bin"), "changed")
        XCTAssertEqual(repo.requests.filter { $0.hasPrefix("GET /targets/") }.count, 2)
    }

    func testDownloadStopsAtTheFirstFailingTarget() throws {
        let repo = try FixtureRepo()
        try repo.run("add-target", "a.bin", "aaa", "+", "add-target", "c.bin", "ccc")
        let client = try TUFClient(repo)
        assertRefused(try client.download(["a.bin", "missing.bin", "c.bin"]), "target missing.bin: not listed by any trusted targets role")
        XCTAssertEqual(client.target("a.bin"), "aaa")
        XCTAssertNil(client.target("c.bin"), "targets after the failing one are not fetched")
    }
}

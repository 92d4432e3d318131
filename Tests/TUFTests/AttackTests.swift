import Foundation
import SealgateCore
import TestSupport
import XCTest

/// Each attack the TUF specification names (§1.5.2), mounted against a real python-tuf repository served from
/// loopback, must be refused by `sealgate tuf` with a reason naming the role; the trusted metadata stays as it was.
final class AttackTests: XCTestCase {
    // MARK: rollback

    func testTimestampRollbackIsRefused() throws {
        let repo = try FixtureRepo()
        let client = try TUFClient(repo)
        try repo.run("bump", "timestamp")
        assertSucceeded(try client.refresh())
        XCTAssertEqual(client.trustedVersion("timestamp"), 2)
        try repo.run("replay", "timestamp", "1")
        assertRefused(try client.refresh(), "timestamp: rollback refused", "version 1 is lower than trusted version 2")
        XCTAssertEqual(client.trustedVersion("timestamp"), 2, "the refused timestamp must not replace the trusted one")
    }

    func testSnapshotRollbackThroughANewTimestampIsRefused() throws {
        let repo = try FixtureRepo()
        let client = try TUFClient(repo)
        try repo.run("bump", "snapshot")
        assertSucceeded(try client.refresh())
        XCTAssertEqual(client.trustedVersion("snapshot"), 2)
        // A validly signed, newer timestamp pointing back at snapshot v1 (still published as 1.snapshot.json).
        try repo.run("set-meta", "timestamp", "snapshot.json", "1")
        assertRefused(try client.refresh(), "timestamp: rollback refused", "snapshot version 1, lower than trusted 2")
        XCTAssertEqual(client.trustedVersion("snapshot"), 2)
    }

    func testTargetsRollbackThroughANewSnapshotIsRefused() throws {
        let repo = try FixtureRepo()
        try repo.run("add-target", "app.txt", "v1")
        let client = try TUFClient(repo)
        try repo.run("add-target", "app.txt", "v2")
        assertSucceeded(try client.refresh())
        XCTAssertEqual(client.trustedVersion("targets"), 3)
        try repo.run("set-meta", "snapshot", "targets.json", "2")
        assertRefused(try client.refresh(), "snapshot: rollback refused", "targets.json version 2 is lower than trusted version 3")
        XCTAssertEqual(client.trustedVersion("targets"), 3)
    }

    func testRootFileHoldingAnOlderVersionIsRefused() throws {
        let repo = try FixtureRepo()
        let client = try TUFClient(repo)
        try repo.run("rotate", "root")
        try repo.run("replay", "root", "1", "--name", "2.root.json")
        assertRefused(try client.refresh(), "root: rollback refused: 2.root.json holds version 1")
        XCTAssertEqual(client.trustedVersion("root"), 1)
    }

    // MARK: freeze

    func testExpiredMetadataOfEachRoleIsRefused() throws {
        for role in ["root", "timestamp", "snapshot", "targets"] {
            let repo = try FixtureRepo()
            let client = try TUFClient(repo)
            try repo.run("expire", role)
            assertRefused(try client.refresh(), "\(role): metadata expired at")
        }
    }

    func testFrozenRepositoryIsRefusedOnceTheClockPassesItsExpiry() throws {
        let repo = try FixtureRepo()
        let client = try TUFClient(repo)
        assertSucceeded(try client.refresh())
        // The attacker keeps serving the same (once valid) metadata; a year on, the root itself has expired.
        let later = RFC3339Format.string(Date().addingTimeInterval(400 * 86400))
        assertRefused(try client.refresh(now: later), "root: metadata expired at")
        // With a clock past only the timestamp's expiry, the timestamp is named.
        try repo.run("expire", "timestamp")
        assertRefused(try client.refresh(), "timestamp: metadata expired at")
    }

    // MARK: mix-and-match

    func testSnapshotWhoseHashDiffersFromTheTimestampsIsRefused() throws {
        // ed25519: fixed-size signatures, so the re-signed file has the listed length and only its hash differs.
        let repo = try FixtureRepo(["--meta-hashes", "1", "--keytype", "ed25519"])
        // Same version, validly signed, different bytes than the timestamp lists.
        try repo.run("mutate", "snapshot")
        let client = try TUFClient(repo)
        assertRefused(try client.refresh(), "snapshot: sha256 hash does not match")
        XCTAssertNil(client.trustedVersion("snapshot"))
    }

    func testSnapshotWithAnotherVersionThanTheTimestampNamesIsRefused() throws {
        let repo = try FixtureRepo()
        try repo.run("bump", "snapshot")
        try repo.run("replay", "snapshot", "1", "--name", "2.snapshot.json")
        let client = try TUFClient(repo)
        assertRefused(try client.refresh(), "snapshot: version 1 does not match version 2 listed by its parent")
    }

    func testTargetsNotMatchingTheSnapshotAreRefused() throws {
        let repo = try FixtureRepo(["--meta-hashes", "1", "--keytype", "ed25519"])
        try repo.run("add-target", "app.txt", "one")
        try repo.run("mutate", "targets")
        assertRefused(try TUFClient(repo).refresh(), "targets: sha256 hash does not match")

        let plain = try FixtureRepo()
        try plain.run("add-target", "app.txt", "one")
        try plain.run("replay", "targets", "1", "--name", "2.targets.json")
        assertRefused(try TUFClient(plain).refresh(), "targets: version 1 does not match version 2 listed by its parent")
    }

    // MARK: arbitrary software

    func testTargetWithTheWrongHashIsRefusedAndNotStored() throws {
        let repo = try FixtureRepo()
        try repo.run("add-target", "app.bin", "good")
        try repo.run("tamper-target", "app.bin", "evil")
        let client = try TUFClient(repo)
        assertRefused(try client.download(["app.bin"]), "app.bin: sha256 hash does not match")
        XCTAssertNil(client.target("app.bin"))
    }

    func testMetadataSignedByAnUnauthorizedKeyIsRefused() throws {
        let repo = try FixtureRepo()
        try repo.run("add-target", "app.bin", "evil", "+", "sign", "targets", "--valid", "0", "--bogus", "1")
        assertRefused(try TUFClient(repo).refresh(), "targets: bad signature threshold: 0 valid signatures of 1 required")
    }

    // MARK: endless data

    func testOverlongDownloadsAreCutAtTheirLimit() throws {
        let repo = try FixtureRepo(["--meta-hashes", "1"])
        try repo.run("add-target", "app.bin", "four")
        try repo.run("tamper-target", "app.bin", "four and then some more")
        let client = try TUFClient(repo)
        assertRefused(try client.download(["app.bin"]), "app.bin: download exceeds its length limit of 4 bytes")
        XCTAssertNil(client.target("app.bin"))

        // Snapshot longer than the timestamp says; timestamp longer than the client's 16 KiB cap.
        let snapshotName = "2.snapshot.json"
        try repo.run("pad", snapshotName, "100")
        let fresh = try TUFClient(repo)
        assertRefused(try fresh.refresh(), "snapshot: download exceeds its length limit of")
        try repo.run("pad", "timestamp.json", "20000")
        assertRefused(try fresh.refresh(), "timestamp: download exceeds its length limit of 16384 bytes")
    }

    func testEndlessStreamIsCutAtTheLimit() throws {
        let repo = try FixtureRepo()
        let script = TestPaths.fixtures.appendingPathComponent("tuf/endless_server.py").path
        let server = try BackgroundProcess("python3", ["-u", script, repo.dir.path])
        defer { server.stop() }
        var port: String?
        XCTAssertTrue(server.waitForOutput(timeout: 15) { out in
            port = out.split(separator: "\n").first { $0.hasPrefix("PORT ") }.map { String($0.dropFirst(5)) }
            return port != nil
        })
        let client = try TUFClient(metadataURL: "http://127.0.0.1:\(port ?? "0")/metadata", targetsURL: "http://127.0.0.1:\(port ?? "0")/targets",
                                   root: repo.metadataFile("1.root.json"))
        let start = Date()
        assertRefused(try client.refresh(), "timestamp: download exceeds its length limit of 16384 bytes")
        XCTAssertLessThan(Date().timeIntervalSince(start), 20, "the client must stop reading at the limit")
    }

    // MARK: key compromise

    func testTargetsSignedBelowThresholdAreRefused() throws {
        let repo = try FixtureRepo(["--targets-keys", "3", "--targets-threshold", "2"])
        try repo.run("add-target", "app.bin", "good")
        let client = try TUFClient(repo)
        assertSucceeded(try client.download(["app.bin"]))
        // One stolen targets key plus a forged signature for a second key ID.
        try repo.run("add-target", "app.bin", "evil", "+", "sign", "targets", "--valid", "1", "--bogus", "1")
        assertRefused(try client.refresh(), "targets: bad signature threshold: 1 valid signature of 2 required")
        XCTAssertEqual(client.trustedVersion("targets"), 2)
    }

    func testOneKeyListedUnderTwoKeyIDsCountsOnce() throws {
        let repo = try FixtureRepo()
        let client = try TUFClient(repo)
        try repo.run("alias-key", "targets")
        assertRefused(try client.refresh(), "targets: bad signature threshold: 1 valid signature of 2 required")
        XCTAssertEqual(client.trustedVersion("root"), 2, "the root that set up the alias is itself legitimate")
    }

    func testRootRotationWithoutTheOldThresholdIsRefused() throws {
        let repo = try FixtureRepo(["--root-keys", "3", "--root-threshold", "2"])
        let client = try TUFClient(repo)
        try repo.run("rotate", "root", "--keys", "3", "--threshold", "2", "--sign-old", "1")
        assertRefused(try client.refresh(), "root v2 (threshold of trusted root v1): bad signature threshold: 1 valid signature of 2 required")
        XCTAssertEqual(client.trustedVersion("root"), 1)
    }

    func testRootRotationWithoutTheNewThresholdIsRefused() throws {
        let repo = try FixtureRepo(["--root-keys", "3", "--root-threshold", "2"])
        let client = try TUFClient(repo)
        try repo.run("rotate", "root", "--keys", "3", "--threshold", "3", "--sign-new", "2")
        assertRefused(try client.refresh(), "root v2 (its own threshold): bad signature threshold: 2 valid signatures of 3 required")
        XCTAssertEqual(client.trustedVersion("root"), 1)
    }

    // MARK: fast-forward

    /// A thief of the timestamp key pushed timestamp v1000. Until the timestamp key is rotated the client
    /// refuses the honest v5 (rollback); after the rotation it drops the poisoned copy and recovers (§5.3.11).
    func testFastForwardedTimestampIsForgottenAfterTimestampKeyRotation() throws {
        let repo = try FixtureRepo()
        let client = try TUFClient(repo)
        try repo.run("set-version", "timestamp", "1000")
        assertSucceeded(try client.refresh())
        XCTAssertEqual(client.trustedVersion("timestamp"), 1000)

        try repo.run("set-version", "timestamp", "5")
        assertRefused(try client.refresh(), "timestamp: rollback refused: version 5 is lower than trusted version 1000")

        try repo.run("rotate", "timestamp", "+", "set-version", "timestamp", "6")
        assertSucceeded(try client.refresh())
        XCTAssertEqual(client.trustedVersion("timestamp"), 6)
        XCTAssertEqual(client.trustedVersion("root"), 2)
    }

    /// With both online keys an attacker pushed snapshot v1000 (and a timestamp naming it). The timestamp key is
    /// unchanged by the recovery, so the cached timestamp still verifies: only deleting it on the snapshot key
    /// rotation (§5.3.11) lets the honest snapshot v3 back in.
    func testSnapshotVersionFastForwardIsForgottenAfterSnapshotKeyRotation() throws {
        let repo = try FixtureRepo()
        let client = try TUFClient(repo)
        try repo.run("set-version", "snapshot", "1000")
        assertSucceeded(try client.refresh())
        XCTAssertEqual(client.trustedVersion("snapshot"), 1000)

        try repo.run("set-version", "snapshot", "3")
        assertRefused(try client.refresh(), "timestamp: rollback refused: it names snapshot version 3, lower than trusted 1000")

        try repo.run("rotate", "snapshot", "+", "set-version", "snapshot", "4")
        assertSucceeded(try client.refresh())
        XCTAssertEqual(client.trustedVersion("snapshot"), 4)
    }

    /// The Mercury case: with the online keys, an attacker lists targets v1000 in a snapshot. The client keeps that
    /// snapshot as its floor and refuses honest snapshots until the snapshot key is rotated.
    func testFastForwardedSnapshotIsForgottenAfterSnapshotKeyRotation() throws {
        let repo = try FixtureRepo()
        let client = try TUFClient(repo)
        try repo.run("set-meta", "snapshot", "targets.json", "1000")
        assertRefused(try client.refresh(), "1000.targets.json: not found")
        XCTAssertEqual(client.trustedVersion("snapshot"), 2)

        try repo.run("add-target", "app.bin", "honest")
        assertRefused(try client.refresh(), "snapshot: rollback refused: targets.json version 2 is lower than trusted version 1000")

        try repo.run("rotate", "snapshot", "+", "bump", "targets")
        assertSucceeded(try client.download(["app.bin"]))
        XCTAssertEqual(client.target("app.bin"), "honest")
    }
}

enum RFC3339Format {
    static func string(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: d)
    }
}

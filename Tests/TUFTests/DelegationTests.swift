import Crypto
import Foundation
import TestSupport
@testable import TUF
import XCTest

/// Delegated targets (§5.6.7): pre-order depth-first search in delegation order, `paths` patterns where `*` stays
/// inside one path segment, `path_hash_prefixes`, terminating delegations, cycles and the delegation limit.
final class DelegationTests: XCTestCase {
    func testFirstMatchingDelegationWinsAndItsMetadataIsCached() throws {
        let repo = try FixtureRepo()
        try repo.run("delegate", "targets", "first", "--paths", "dev/*", "+", "delegate", "targets", "second", "--paths", "dev/*",
                     "+", "add-target", "dev/app.bin", "from-first", "--role", "first",
                     "+", "add-target", "dev/app.bin", "from-second", "--role", "second",
                     "+", "add-target", "dev/only-second.bin", "second-only", "--role", "second")
        let client = try TUFClient(repo)
        assertSucceeded(try client.download(["dev/app.bin", "dev/only-second.bin"]))
        XCTAssertEqual(client.target("dev/app.bin"), "from-first")
        XCTAssertEqual(client.target("dev/only-second.bin"), "second-only", "a non-terminating delegation lets the search go on")
        XCTAssertEqual(client.trustedVersion("first"), 1)
        XCTAssertEqual(client.trustedVersion("second"), 1)
    }

    func testTerminatingDelegationStopsTheSearch() throws {
        let repo = try FixtureRepo()
        try repo.run("delegate", "targets", "gate", "--paths", "dev/*", "--terminating",
                     "+", "delegate", "targets", "later", "--paths", "dev/*",
                     "+", "add-target", "dev/app.bin", "later", "--role", "later")
        let client = try TUFClient(repo)
        assertRefused(try client.download(["dev/app.bin"]), "target dev/app.bin: not listed by any trusted targets role")
        XCTAssertNil(client.trustedVersion("later"), "roles after a terminating delegation are never fetched")
    }

    func testPathsDoNotLetStarCrossSlashes() throws {
        let repo = try FixtureRepo()
        try repo.run("delegate", "targets", "dev", "--paths", "dev/*",
                     "+", "add-target", "dev/sub/app.bin", "nested", "--role", "dev",
                     "+", "add-target", "prod/app.bin", "outside", "--role", "dev")
        let client = try TUFClient(repo)
        assertRefused(try client.download(["dev/sub/app.bin"]), "not listed by any trusted targets role")
        assertRefused(try client.download(["prod/app.bin"]), "not listed by any trusted targets role")
    }

    func testPathHashPrefixes() throws {
        let path = "bins/app.bin"
        let prefix = String(Hex.encode(SHA256.hash(data: Array(path.utf8))).prefix(2))
        let other = prefix == "00" ? "01" : "00"
        let repo = try FixtureRepo()
        try repo.run("delegate", "targets", "wrong-bin", "--hash-prefixes", other,
                     "+", "delegate", "targets", "right-bin", "--hash-prefixes", "\(prefix),ff",
                     "+", "add-target", path, "wrong", "--role", "wrong-bin",
                     "+", "add-target", path, "right", "--role", "right-bin")
        let client = try TUFClient(repo)
        assertSucceeded(try client.download([path]))
        XCTAssertEqual(client.target(path), "right")
        XCTAssertNil(client.trustedVersion("wrong-bin"))
    }

    func testCyclesEndAndDelegationLimitHolds() throws {
        let repo = try FixtureRepo()
        try repo.run("delegate", "targets", "a", "--paths", "*", "+", "delegate", "a", "b", "--paths", "*",
                     "+", "delegate", "b", "a", "--paths", "*")
        let client = try TUFClient(repo)
        assertRefused(try client.download(["x.bin"]), "not listed by any trusted targets role")

        // A chain targets → d1 → … → d5 with the target at the end: found by default, not with a limit of 3 roles.
        let chain = try FixtureRepo()
        var ops = ["delegate", "targets", "d1", "--paths", "*"]
        for n in 2...5 { ops += ["+", "delegate", "d\(n - 1)", "d\(n)", "--paths", "*"] }
        ops += ["+", "add-target", "deep.bin", "deep", "--role", "d5"]
        try chain.run(ops)
        let dir = try makeTemporaryDirectory("sealgate-tuf-lib")
        try MetadataStore.writeAtomically(try Data(contentsOf: chain.metadataFile("1.root.json")), to: dir.appendingPathComponent("root.json"))
        let base = URL(fileURLWithPath: chain.dir.appendingPathComponent("metadata").path)
        var limited = UpdaterConfig()
        limited.maxDelegations = 3
        XCTAssertNil(try Updater(metadataDirectory: dir, metadataBaseURL: base, fetcher: FileFetcher(), config: limited).targetInfo("deep.bin"))
        let found = try Updater(metadataDirectory: dir, metadataBaseURL: base, fetcher: FileFetcher()).targetInfo("deep.bin")
        XCTAssertEqual(found?.length, 4)
    }

    func testDelegatedRoleSignedByTheWrongKeyIsRefused() throws {
        let repo = try FixtureRepo()
        try repo.run("delegate", "targets", "dev", "--paths", "dev/*", "+", "add-target", "dev/app.bin", "x", "--role", "dev")
        try repo.run("add-target", "dev/app.bin", "evil", "--role", "dev", "+", "sign", "dev", "--valid", "0", "--bogus", "1")
        let client = try TUFClient(repo)
        assertRefused(try client.download(["dev/app.bin"]), "dev: bad signature threshold: 0 valid signatures of 1 required")
    }
}

enum SHA256Hex {
    static func of(_ s: String) -> String { Hex.encode(SHA256.hash(data: Array(s.utf8))) }
}

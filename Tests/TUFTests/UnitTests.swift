import Foundation
import SealgateCore
import TestSupport
@testable import TUF
import XCTest

final class JSONParserTests: XCTestCase {
    func testRejectsWhatCouldBeReadTwoWays() {
        let bad = [
            #"{"a":1,"a":2}"#,             // duplicate member
            #"["\ud800"]"#,                // lone high surrogate
            #"["\udc00x"]"#,               // lone low surrogate
            "[1] x",                       // trailing data
            "[01]", "[1.]", "[.5]", "[+1]", "[NaN]", "[Infinity]",
            "{\"a\":1,}", "[1,]", "'a'",
            "[\"\u{01}\"]",                 // raw control character
            String(repeating: "[", count: 200) + String(repeating: "]", count: 200),
        ]
        for text in bad { XCTAssertThrowsError(try JSONParser.parse(Array(text.utf8)), text) }
        XCTAssertThrowsError(try JSONParser.parse([0x5B, 0x22, 0xC3, 0x28, 0x22, 0x5D]), "invalid UTF-8")
    }

    func testReadsEscapesNumbersAndOrder() throws {
        let v = try JSONParser.parse(Array(#" {"z":"\u00e9\ud83d\ude00","a":[-5, 1e2, 12345678901234567890]} "#.utf8))
        let o = try XCTUnwrap(v.objectValue)
        XCTAssertEqual(o.keys, ["z", "a"], "document order is kept")
        XCTAssertEqual(o["z"], .string("é😀"))
        XCTAssertEqual(o["a"], .array([.int(-5), .number("1e2"), .number("12345678901234567890")]))
    }
}

final class RFC3339Tests: XCTestCase {
    func testParsesTUFAndSigstoreForms() throws {
        XCTAssertEqual(RFC3339.parse("1970-01-01T00:00:00Z"), Date(timeIntervalSince1970: 0))
        XCTAssertEqual(RFC3339.parse("2026-11-20T13:58:18Z")?.timeIntervalSince1970, 1_795_183_098)
        // Root v1 of the Sigstore repository: fractional seconds and an offset.
        let v1 = try XCTUnwrap(RFC3339.parse("2021-12-18T13:28:12.99008-06:00"))
        XCTAssertEqual(v1.timeIntervalSince1970, 1_639_855_692.99008, accuracy: 0.00001)
        XCTAssertEqual(RFC3339.format(v1), "2021-12-18T19:28:12Z")
        XCTAssertEqual(RFC3339.parse("2024-02-29T23:59:59+00:00")?.timeIntervalSince1970, 1_709_251_199)
        for bad in ["2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01 00:00:00Z", "2026-01-01T00:00:00", "2026-01-01T24:00:00Z", "x"] {
            XCTAssertNil(RFC3339.parse(bad), bad)
        }
    }
}

final class PathPatternTests: XCTestCase {
    func testShellPatternsPerSegment() {
        let yes: [(String, String)] = [("*", "a.txt"), ("dev/*", "dev/a"), ("dev/*.tgz", "dev/x.tgz"), ("a?c", "abc"),
                                        ("[ab]x", "bx"), ("[!ab]x", "cx"), ("[a-c]", "b"), ("*/*", "a/b"), ("registry.npmjs.org/*", "registry.npmjs.org/keys.json"),
                                        ("a*b*c", "aXXbYYc"), ("[", "[")]
        let no: [(String, String)] = [("*", "a/b"), ("dev/*", "dev/a/b"), ("dev/*", "prod/a"), ("a?c", "ac"), ("[ab]x", "cx"),
                                       ("[!ab]x", "ax"), ("*.tgz", "x.tgz.sig"), ("registry.npmjs.org/*", "registry.npmjs.org-not/keys.json")]
        for (p, s) in yes { XCTAssertTrue(PathPattern.matches(pattern: p, path: s), "\(p) ~ \(s)") }
        for (p, s) in no { XCTAssertFalse(PathPattern.matches(pattern: p, path: s), "\(p) !~ \(s)") }
    }
}

final class MetadataStoreTests: XCTestCase {
    func testAtomicWritesLeaveNoTemporaryFiles() throws {
        let dir = try makeTemporaryDirectory("sealgate-tuf-store")
        let store = MetadataStore(directory: dir.appendingPathComponent("meta"))
        try store.save(role: "timestamp", Data("one".utf8))
        try store.save(role: "timestamp", Data("two".utf8))
        XCTAssertEqual(store.load(role: "timestamp"), Data("two".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: store.directory.path), ["timestamp.json"])
    }

    func testRoleNamesCannotEscapeTheDirectory() {
        XCTAssertEqual(MetadataStore.fileName(role: "../evil"), "..%2Fevil.json")
        XCTAssertEqual(MetadataStore.fileName(role: ".."), "%2E%2E.json")
        XCTAssertEqual(MetadataStore.fileName(role: "registry.npmjs.org"), "registry.npmjs.org.json")
    }
}

final class CLIUsageTests: XCTestCase {
    func testUsageErrorsExit2AndMissingRootExits1() throws {
        let dir = try makeTemporaryDirectory("sealgate-tuf-cli")
        let unknown = try TUFClient.tuf(["--metadata-dir", dir.path, "frobnicate"])
        XCTAssertEqual(unknown.status, 2, unknown.stderr)
        let noURL = try TUFClient.tuf(["--metadata-dir", dir.path, "refresh"])
        XCTAssertEqual(noURL.status, 2, noURL.stderr)
        let badClock = try TUFClient.tuf(["--metadata-dir", dir.path, "--metadata-url", "file:///nonexistent", "refresh"], now: "yesterday")
        XCTAssertEqual(badClock.status, 2, badClock.stderr)
        let noRoot = try TUFClient.tuf(["--metadata-dir", dir.path, "--metadata-url", "file:///nonexistent", "refresh"])
        XCTAssertEqual(noRoot.status, 1)
        XCTAssertTrue(noRoot.stderr.contains("no trusted root"), noRoot.stderr)
        let missingFile = try TUFClient.tuf(["--metadata-dir", dir.path, "init", dir.appendingPathComponent("absent.json").path])
        XCTAssertEqual(missingFile.status, 1, "init fails with 1, as the client protocol says")
    }
}

import Foundation
import TestSupport
@testable import TUF
import XCTest

/// Canonical JSON must be byte-identical to securesystemslib's `encode_canonical`, or no signature verifies.
final class CanonicalJSONTests: XCTestCase {
    private func canonical(_ json: String) throws -> String {
        String(decoding: try CanonicalJSON.encode(try JSONParser.parse(Array(json.utf8))), as: UTF8.self)
    }

    func testFixedVectors() throws {
        XCTAssertEqual(try canonical(#" { "b" : 1, "a" : [ true, false, null, "" ], "c": {} } "#), #"{"a":[true,false,null,""],"b":1,"c":{}}"#)
        // Only quote and backslash are escaped; control characters and non-ASCII are written raw.
        XCTAssertEqual(try canonical(#"["q\"b\\s\/n\nt\tu\u00e9e\u0001"]"#), "[\"q\\\"b\\\\s/n\nt\tu\u{e9}e\u{01}\"]")
        XCTAssertEqual(try canonical("[-0, 0, -12, 9223372036854775807, 123456789012345678901234567890]"),
                       "[0,0,-12,9223372036854775807,123456789012345678901234567890]")
        // Code point order of the keys, which is neither Swift's String order nor case-insensitive.
        XCTAssertEqual(try canonical(#"{"é":1,"z":2,"Z":3,"😀":4,"Ａ":5,"a":6,"ab":7,"":8}"#), #"{"":8,"Z":3,"a":6,"ab":7,"z":2,"é":1,"Ａ":5,"😀":4}"#)
        XCTAssertEqual(try canonical(#"{"a":{"d":[{"y":1,"x":2}],"c":3}}"#), #"{"a":{"c":3,"d":[{"x":2,"y":1}]}}"#)
    }

    func testFloatsHaveNoCanonicalForm() {
        for json in ["1.5", "[1e3]", #"{"a":-0.0}"#] {
            XCTAssertThrowsError(try canonical(json), json) { XCTAssertTrue($0 is CanonicalJSON.Unencodable, "\($0)") }
        }
    }

    func testSameBytesAsSecuresystemslib() throws {
        try requirePythonTUF()
        let docs = [
            #"{"b":1,"a":[true,false,null,"x\"y\\z\n\u0000\u001f"],"nested":{"z":{},"y":[]}}"#,
            #"{"é":1,"z":2,"Z":3,"😀":4,"Ａ":5,"\ud83d\ude00x":6,"e\u0301":7}"#,
            #"[-0, 18446744073709551616, -9223372036854775808, "tab\there", "\/"]"#,
            #"{"keyval":{"public":"-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n"},"keytype":"ecdsa"}"#,
            #"{"f":1.0}"#,
        ]
        let dir = try makeTemporaryDirectory("sealgate-cjson")
        var paths: [String] = []
        for (n, d) in docs.enumerated() {
            let url = dir.appendingPathComponent("\(n).json")
            try Data(d.utf8).write(to: url)
            paths.append(url.path)
        }
        let out = try Subprocess.run("python3", [TestPaths.fixtures.appendingPathComponent("tuf/canonical.py").path] + paths, timeout: 60)
        XCTAssertEqual(out.status, 0, out.stderr)
        let expected = out.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(expected.count, docs.count)
        for (doc, hex) in zip(docs, expected) {
            let ours = try? CanonicalJSON.encode(try JSONParser.parse(Array(doc.utf8)))
            XCTAssertEqual(ours.map { Hex.encode($0) } ?? "ERROR", hex, doc)
        }
    }
}

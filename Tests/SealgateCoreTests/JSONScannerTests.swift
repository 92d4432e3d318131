import Foundation
import SealgateCore
import Testing
import TestSupport

/// The strict scanner: what it refuses, that skipping accepts exactly what building accepts (LazyJSON relies on it),
/// and that its trees equal Foundation's on real documents.
struct JSONScannerTests {
    static let refused = [
        #"{"a":1"#, #"{"a" 1}"#, #"{a:1}"#, #"["\ud800"]"#, #"["\udc00x"]"#, "[1] x", "[01]", "[1.]", "[.5]", "[+1]", "[NaN]",
        "[Infinity]", "{\"a\":1,}", "[1,]", "'a'", "[\"\u{01}\"]", #"["\x"]"#, #"["\u12"]"#, "[1e400]", "[-]", "[tru]", "",
        String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
    ]

    @Test("malformed documents are refused by building and by skipping alike", arguments: refused)
    func refusesMalformed(text: String) {
        #expect(throws: JSONScanner.Failure.self) { _ = try JSONValue.parse(bytes: Array(text.utf8)) }
        #expect(throws: JSONScanner.Failure.self) {
            var s = try JSONScanner(Array(text.utf8), maxDepth: 512)
            try s.skipValue()
            try s.finish()
        }
    }

    @Test("invalid UTF-8 is refused with its offset")
    func invalidUTF8() {
        let bytes: [UInt8] = [0x5B, 0x22, 0x61, 0xC3, 0x28, 0x22, 0x5D]
        #expect { _ = try JSONScanner(bytes) } throws: { ($0 as? JSONScanner.Failure)?.offset == 3 }
    }

    @Test("escapes, surrogate pairs, numbers and nesting read as Foundation reads them")
    func readsLikeFoundation() throws {
        let text = #" {"z":"\u00e9\ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t","a":[-5, 1e2, 0.25, 12345678901234567890, true, false, null],"o":{"":{}}} "#
        #expect(try JSONValue.parse(bytes: Array(text.utf8)) == (try JSONValue.parse(text)))
    }

    @Test("every JSON file of the fixtures and ../shared/testdata parses to the tree JSONSerialization gives")
    func filesMatchFoundation() throws {
        var files: [URL] = []
        for root in [TestPaths.fixtures, TestPaths.sharedTestdata] {
            let paths = try FileManager.default.subpathsOfDirectory(atPath: root.path).filter { $0.hasSuffix(".json") }
            files += paths.map { root.appendingPathComponent($0) }
        }
        #expect(files.count > 150, "../shared/testdata must be beside the clone")
        var compared = 0
        for file in files {
            let data = try Data(contentsOf: file)
            guard let foundation = try? JSONValue.parse(data: data) else { continue }  // deliberately broken inputs
            #expect(try JSONValue.parse(bytes: Array(data)) == foundation, "\(file.path)")
            compared += 1
        }
        #expect(compared > 150)
    }

    @Test("on 3,000 mutations of a real review, skipping succeeds exactly when building does")
    func skipAgreesWithBuild() throws {
        let original = Array(try Data(contentsOf: TestPaths.fixtures.appendingPathComponent("admission/pod-review-v1.json")))
        var rng = SeededRandom(state: 7)
        let alphabet = Array(#"{}[]",:\u0"e.-1 tfn"#.utf8) + [0xC3, 0x80, 0xFF]
        for round in 0..<3000 {
            var bytes = original
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: bytes.remove(at: at)
                default: bytes.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: at)
                }
            }
            let built = (try? JSONValue.parse(bytes: bytes)) != nil
            let skipped: Bool = {
                guard var s = try? JSONScanner(bytes, maxDepth: 512) else { return false }
                return (try? s.skipValue()) != nil && (try? s.finish()) != nil
            }()
            #expect(built == skipped, "round \(round)")
        }
    }

    @Test("skipping tracks objects and arrays nested past 64 levels (where its bit stack spills) as building does")
    func deepMixedNesting() throws {
        for depth in [63, 64, 65, 66, 130, 500] {
            var open = "", close = ""
            for level in 0..<depth {
                if level % 3 == 0 { open += #"{"k":"#; close = "}" + close } else { open += "["; close = "]" + close }
            }
            let good = open + "1" + close
            // The same with one closing bracket swapped for the other kind, at several depths.
            for swap in [0, close.count / 2, close.count - 1] {
                var wrong = Array(close.utf8)
                wrong[swap] = wrong[swap] == UInt8(ascii: "}") ? UInt8(ascii: "]") : UInt8(ascii: "}")
                for text in [good, open + "1" + String(decoding: wrong, as: UTF8.self)] {
                    let bytes = Array(text.utf8)
                    let built = (try? JSONValue.parse(bytes: bytes)) != nil
                    var s = try JSONScanner(bytes, maxDepth: 512)
                    let skipped = (try? s.skipValue()) != nil && (try? s.finish()) != nil
                    #expect(built == skipped, "depth \(depth), swap \(swap)")
                    if text == good { #expect(skipped, "depth \(depth)") }
                }
            }
        }
    }

    @Test("LazyJSON reads members from the bytes as the tree has them, a repeated name keeping the last")
    func lazyMembers() throws {
        let text = #"{"metadata":{"name":"a","labels":{"x":"1"}},"spec":5,"metadata":{"name":"b"}}"#
        let bytes = Array(text.utf8)
        let lazy = LazyJSON(checked: bytes, range: 0..<bytes.count)
        #expect(lazy.member(at: ["metadata", "name"]) == "b")
        #expect(lazy.member(at: ["metadata", "labels"]) == nil)
        #expect(lazy.member(at: ["spec", "containers"]) == nil)
        #expect(lazy.parsedValue == nil, "members are read without building the tree")
        #expect(lazy.value["metadata"]?["name"] == "b")
        #expect(lazy.member(at: ["metadata", "name"]) == "b", "and from the tree once it exists")
    }
}


/// The deepest document the admission reader accepts must also build as a tree on a worker thread's 1 MiB stack.
struct JSONDepthTests {
    @Test("511 levels of nesting build on a 1 MiB stack")
    func deepestAcceptedFitsTheStack() throws {
        let text = String(repeating: #"{"a":["#, count: 255) + "1" + String(repeating: "]}", count: 255)
        let bytes = Array(text.utf8)
        let done = DispatchSemaphore(value: 0)
        final class Box: @unchecked Sendable { var ok = false }
        let box = Box()
        let thread = Thread {
            box.ok = (try? JSONValue.parse(bytes: bytes)) != nil
            done.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
        done.wait()
        #expect(box.ok)
    }

    @Test("every ASCII byte at every position of a long string: the eight-byte fast path stops exactly where the byte loop would")
    func fastStringScan() throws {
        for byte in UInt8(0)..<0x80 {
            for position in 0..<20 {
                var text = [UInt8](repeating: UInt8(ascii: "a"), count: 24)
                text[position] = byte
                let document = Array(#"[""#.utf8) + text + Array(#""]"#.utf8)
                let special = byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
                let parsed = try? JSONValue.parse(bytes: document)
                if special {
                    #expect(parsed == nil, "byte \(byte) at \(position) must end or break the string")
                } else {
                    #expect(parsed == .array([.string(String(decoding: text, as: UTF8.self))]), "byte \(byte) at \(position)")
                }
            }
        }
        // Non-ASCII UTF-8 is plain text to the fast path.
        let utf8 = "ünïcødé ☃ and more text after it"
        #expect(try JSONValue.parse(bytes: Array(#"["\#(utf8)"]"#.utf8)) == .array([.string(utf8)]))
    }

    @Test("strings with several quotes, escapes, controls and multi-byte characters anywhere: reading and skipping agree with JSONSerialization")
    func fastStringScanMixed() throws {
        // Pieces a word of eight can hold any number of: the fast path must stop at the first, wherever the others are.
        let pieces: [[UInt8]] = [Array("a".utf8), Array("é".utf8), Array("☃".utf8), Array(#"\""#.utf8), Array(#"\\"#.utf8),
                                 Array(#"\n"#.utf8), Array(#"\u00e9"#.utf8), [0x0A], [0x1F], Array(#"""#.utf8)]
        var rng = SeededRandom(state: 23)
        for _ in 0..<3_000 {
            var text: [UInt8] = []
            for _ in 0..<Int(rng.next() % 24) {
                // Mostly plain letters, so the fast path has whole words to step over.
                let pick = Int(rng.next() % 30)
                text += pieces[pick < pieces.count ? pick : 0]
            }
            let document = Array(#"{"k":[""#.utf8) + text + Array(#"",1]}"#.utf8)
            let expected = (try? JSONSerialization.jsonObject(with: Data(document))) as? [String: Any]
            let parsed = try? JSONValue.parse(bytes: document)
            var skipper = try JSONScanner(document)
            let skipped = (try? skipper.skipValue()) != nil && (try? skipper.finish()) != nil
            let shown = String(decoding: document, as: UTF8.self).debugDescription
            #expect((parsed != nil) == (expected != nil), "read \(shown)")
            #expect(skipped == (expected != nil), "skip \(shown)")
            if let expected, let parsed, case .object(let members) = parsed, case .array(let items)? = members["k"],
               case .string(let got)? = items.first {
                #expect(got == (expected["k"] as? [Any])?.first as? String, "value \(shown)")
            }
        }
    }
}

import Crypto
import Foundation
import SigstoreTestSupport
@testable import SigstoreVerify
import Testing

/// What the cold path reuses (compiled regular expressions, a bounded cache) and its faster readers (PEM, hex,
/// timestamps) must decide exactly as before: reuse skips compiling or formatting, never a check.
@Suite("Reuse and fast readers")
struct ParseReuseTests {
    let f = Fixture()

    @Test func boundedCacheEvictsTheOldestAndStoresNoFailure() throws {
        let cache = BoundedCache<String, Int>(capacity: 2)
        cache.insert(1, for: "a")
        cache.insert(2, for: "b")
        cache.insert(20, for: "b")  // an update is not a new entry
        cache.insert(3, for: "c")
        #expect(cache.count == 2)
        #expect(cache["a"] == nil)
        #expect(cache["b"] == 20 && cache["c"] == 3)
        struct Boom: Error {}
        #expect(throws: Boom.self) { _ = try cache.value("d") { throw Boom() } }
        #expect(cache["d"] == nil && cache.count == 2)
        #expect(cache.value("c") { 99 } == 3)  // a hit does not make
    }

    @Test func regexCacheIsBounded() throws {
        for i in 0..<(CompiledRegex.cache.capacity + 10) { _ = try StringMatcher.regexp("^bound-\(i)$") }
        #expect(CompiledRegex.cache.count <= CompiledRegex.cache.capacity)
        // An evicted pattern compiles again and still matches only what it should.
        #expect(try StringMatcher.regexp("^bound-0$").matches("bound-0"))
        #expect(try !StringMatcher.regexp("^bound-0$").matches("bound-01"))
    }

    @Test func aCompiledIdentityRegexStillRejectsWhatItShould() throws {
        let signed = f.sigstore.signBlob(f.payload, f.options())
        let good = VerificationPolicy.identity(CertificateIdentity(
            issuer: .exact(TestIdentity.githubWorkflow.issuer), subjectAlternativeName: try .regexp("^https://github\\.com/sealgate/")))
        for _ in 0..<3 { _ = try f.verify(signed, policy: good) }  // compiled once, matched each time
        // The same compiled pattern against a forged signature: the signature check still runs and fails.
        var forged = signed
        forged.bundleJSON = editJSON(signed.bundleJSON) { b in
            var ms = b["messageSignature"] as! [String: Any]
            var sig = Data(base64Encoded: ms["signature"] as! String)!
            sig[sig.count - 1] ^= 1
            ms["signature"] = sig.base64EncodedString()
            b["messageSignature"] = ms
        }
        let err = rejection { _ = try f.verify(forged, policy: good) }
        #expect(err != nil)
        // And a cached pattern that does not match the signer is still a mismatch.
        let other = VerificationPolicy.identity(CertificateIdentity(
            issuer: .exact(TestIdentity.githubWorkflow.issuer), subjectAlternativeName: try .regexp("^https://github\\.com/other/")))
        for _ in 0..<2 {
            guard case .certificateIdentityMismatch = rejection({ _ = try f.verify(signed, policy: other) }) else {
                Issue.record("expected identity mismatch"); return
            }
        }
    }

    @Test func compiledRegexMatchesFromManyThreads() throws {
        let matcher = try StringMatcher.regexp("^https://github\\.com/(org|team)/[a-z]+$")
        let wrong = ManagedAtomicCounter()
        DispatchQueue.concurrentPerform(iterations: 200) { i in
            let s = i % 2 == 0 ? "https://github.com/org/repo" : "https://github.com/evil/repo"
            if matcher.matches(s) != (i % 2 == 0) { wrong.add() }
        }
        #expect(wrong.value == 0)
    }

    @Test func asciiPEMReaderAgreesWithTheGeneralOne() throws {
        let der = Data((0..<300).map { UInt8($0 % 251) })
        let b64 = der.base64EncodedString(options: [.lineLength64Characters])
        let body = b64.components(separatedBy: "\r\n")
        let texts = [
            "-----BEGIN CERTIFICATE-----\n\(body.joined(separator: "\n"))\n-----END CERTIFICATE-----\n",
            "-----BEGIN CERTIFICATE-----\r\n\(body.joined(separator: "\r\n"))\r\n-----END CERTIFICATE-----\r\n",
            "  \t-----BEGIN CERTIFICATE-----  \n\(body.map { " \($0)\t" }.joined(separator: "\n"))\n -----END CERTIFICATE-----",
            "junk\n-----BEGIN PUBLIC KEY-----\n\(b64)\n-----END PUBLIC KEY-----\n-----BEGIN CERTIFICATE-----\n\(b64)\n-----END CERTIFICATE-----\n",
            "-----BEGIN CERTIFICATE-----\n\(b64)!\n-----END CERTIFICATE-----\n",  // bad base64: skipped
            "-----BEGIN CERTIFICATE-----\n\(b64)\n",  // no END
            "-----BEGIN -----\n\(b64)\n-----END -----\n",  // empty label
            "-----BEGIN X-----\u{0B}\(b64)\u{0C}-----END X-----\r",
            "",
        ]
        for text in texts {
            for label: String? in [nil, "CERTIFICATE", "PUBLIC KEY"] {
                let fast = Encoding.pemBlocks(text, label: label), slow = Encoding.unicodePEMBlocks(text, label: label)
                #expect(fast.map(\.label) == slow.map(\.label) && fast.map(\.der) == slow.map(\.der), "\(text.debugDescription) \(label ?? "-")")
            }
        }
        #expect(Encoding.pemBlocks(texts[0], label: "CERTIFICATE").first?.der == der)
        // Non-ASCII text takes the general reader.
        let unicode = "\u{2028}-----BEGIN CERTIFICATE-----\u{2028}\(b64)\u{2028}-----END CERTIFICATE-----\u{00A0}"
        #expect(Encoding.pemBlocks(unicode).map(\.der) == Encoding.unicodePEMBlocks(unicode, label: nil).map(\.der))
        #expect(Encoding.pemBlocks(unicode).first?.der == der)
    }

    @Test func hexAndTimestampsReadAsBefore() {
        let all = Data(0...255)
        #expect(Encoding.hex(all) == all.map { String(format: "%02x", $0) }.joined())
        #expect(Encoding.hex(Data()) == "")
        let formatter = ISO8601DateFormatter()
        var times: [TimeInterval] = [0, 1_700_000_000.5, -0.5, -86_400 * 365 * 30, 4_102_444_800, 951_782_400, -12_219_292_800, 253_402_300_799,
                                     253_402_300_800]
        var rng = SeededGenerator(state: 7)
        for _ in 0..<2000 { times.append(TimeInterval(Int64(rng.next() % 20_000_000_000) - 8_000_000_000) + (rng.next() % 2 == 0 ? 0 : 0.25)) }
        for t in times {
            let d = Date(timeIntervalSince1970: t)
            #expect(iso(d) == formatter.string(from: d), "\(t)")
        }
    }

    @Test func predicateIsWrittenOnRead() throws {
        let json = Data(#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"00"}}],"predicateType":"p","predicate":{"z":1,"a":[true,null]}}"#.utf8)
        let st = try InTotoStatement(json: json)
        #expect(String(decoding: st.predicateJSON, as: UTF8.self) == #"{"a":[true,null],"z":1}"#)
        let none = try InTotoStatement(json: Data(#"{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"p"}"#.utf8))
        #expect(String(decoding: none.predicateJSON, as: UTF8.self) == "null")
    }
}

/// SplitMix64, for repeatable samples.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A counter threads add to.
final class ManagedAtomicCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.withLock { n += 1 } }
    var value: Int { lock.withLock { n } }
}

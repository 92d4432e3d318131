import Foundation
import SealgateCore
@testable import SigstoreVerify
import TestSupport
import Testing

/// The JSONScanner readers of the DSSE envelope, in-toto statement and cosign bundle annotation read exactly what
/// the Foundation readings they replaced read: the same values, or the same error, on the conformance bundles and the
/// real-world artifacts, on pieces cut from them, and on hand-made edge cases.
@Suite("Scanned JSON readers match Foundation")
struct ScannedJSONTests {
    /// Every JSON document of the conformance cases and real-world artifacts (`.jsonl`: each line).
    static let documents: [Data] = {
        let fm = FileManager.default
        var out: [Data] = []
        for dir in ["sigstore-conformance", "realworld"] {
            let root = TestPaths.sharedTestdata.appendingPathComponent(dir)
            guard let walk = fm.enumerator(atPath: root.path) else { continue }
            for case let path as String in walk where path.hasSuffix(".json") || path.hasSuffix(".jsonl") {
                guard let data = fm.contents(atPath: root.appendingPathComponent(path).path) else { continue }
                if path.hasSuffix(".jsonl") {
                    out += data.split(separator: UInt8(ascii: "\n")).map { Data($0) }
                } else {
                    out.append(data)
                }
            }
        }
        return out
    }()

    /// Every object inside `value` (itself included).
    static func objects(in value: Any) -> [[String: Any]] {
        switch value {
        case let o as [String: Any]: return [o] + o.values.flatMap(objects(in:))
        case let a as [Any]: return a.flatMap(objects(in:))
        default: return []
        }
    }

    /// Every object in the documents (made once, then only read).
    nonisolated(unsafe) static let trees: [[String: Any]] = documents.flatMap { d in
        (try? JSONSerialization.jsonObject(with: d)).map(objects(in:)) ?? []
    }

    /// DSSE envelopes cut from the documents, and their payloads.
    static let envelopes: [Data] = trees.filter { $0["payloadType"] != nil }.compactMap { try? JSONSerialization.data(withJSONObject: $0) }
    static let payloads: [Data] = trees.compactMap { ($0["payloadType"] != nil ? $0["payload"] as? String : nil).flatMap { Data(base64Encoded: $0) } }

    /// cosign bundle annotations rebuilt from the documents' Rekor entries (as cosign writes them).
    static let cosignBundles: [Data] = trees.compactMap { e in
        guard let body = e["canonicalizedBody"] as? String, let keyID = (e["logId"] as? [String: Any])?["keyId"] as? String,
              let logID = Data(base64Encoded: keyID) else { return nil }
        let payload: [String: Any] = ["body": body, "integratedTime": Int(e["integratedTime"] as? String ?? "") ?? 0,
                                      "logIndex": Int(e["logIndex"] as? String ?? "") ?? 0, "logID": Encoding.hex(logID)]
        let set = (e["inclusionPromise"] as? [String: Any])?["signedEntryTimestamp"] as? String ?? ""
        return try? JSONSerialization.data(withJSONObject: ["SignedEntryTimestamp": set, "Payload": payload])
    }

    /// The value both readings give, or their error text.
    struct Failure: Error, Equatable { var text: String }

    static func outcome<T>(_ read: () throws -> T) -> Result<T, Failure> {
        do { return .success(try read()) } catch { return .failure(Failure(text: "\(error)")) }
    }

    static func statementFields(_ s: InTotoStatement) -> [String] {
        [s.type, s.predicateType, String(decoding: s.predicateJSON, as: UTF8.self)]
            + s.subjects.map { "\($0.name) \($0.digest.sorted { $0.key < $1.key })" }
    }

    /// Edge cases: repeated members, members of other types, numbers as strings, booleans and exponents, refusals.
    static let edgeCases: [String] = [
        #"{"payloadType":"a","payloadType":"b","payload":"aGk=","signatures":[{"sig":"AQ==","keyid":"k"}]}"#,
        #"{"payloadType":1,"payload":"aGk=","signatures":[{"sig":"AQ=="}]}"#,
        #"{"payloadType":"a","payload":"aGk=","signatures":[{"sig":"AQ=="},7]}"#,
        #"{"payloadType":"a","payload":"aGk=","signatures":[]}"#,
        #"{"payloadType":"a","payload":"aGk","signatures":{"sig":"AQ=="}}"#,
        #"{"_type":"https://in-toto.io/Statement/v1","predicateType":"p","subject":[{"name":"n","digest":{"sha256":"ab"}}],"predicate":{"x":[1,2.5,true,null]}}"#,
        #"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":1,"digest":{"sha256":"ab","sha512":3}}]}"#,
        #"{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":1,"sha256":"cd"}}],"predicateType":7}"#,
        #"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"n"},"x"]}"#,
        #"{"_type":"other","subject":[]}"#,
        #"{"SignedEntryTimestamp":"AQ==","Payload":{"body":"e30=","integratedTime":"12","logIndex":1e3,"logID":"ab"}}"#,
        #"{"SignedEntryTimestamp":"AQ==","Payload":{"body":"eyJraW5kIjoxLCJhcGlWZXJzaW9uIjoiMC4wLjEifQ==","integratedTime":true,"logIndex":5.0,"logID":"AB"}}"#,
        #"{"SignedEntryTimestamp":"AQ==","Payload":{"body":"W10=","integratedTime":1.5,"logIndex":1,"logID":"ab"}}"#,
        #"{"SignedEntryTimestamp":"AQ==","Payload":{"body":"e30=","integratedTime":9000000000000000001,"logIndex":-0,"logID":"ab"}}"#,
        #"{"SignedEntryTimestamp":"AQ==","Payload":[]}"#,
        #"[{"payloadType":"a"}]"#, #""text""#, "{", "{} {}", #"{"a":"\ud800"}"#, "{\"payloadType\":\"\u{FF}\"}",
    ]

    @Test func realDataIsThere() {
        #expect(Self.documents.count > 50)
        #expect(Self.envelopes.count > 10)
        #expect(Self.payloads.count > 10)
        #expect(Self.cosignBundles.count > 10)
        // The real documents take the scanner's path, not the fallback.
        #expect(Self.envelopes.allSatisfy { DSSEEnvelope.Fields(scanning: $0) != nil })
        let objects = Self.payloads.filter { (try? JSONSerialization.jsonObject(with: $0)) is [String: Any] }
        #expect(objects.count > 10 && objects.allSatisfy { InTotoStatement.Fields(scanning: $0) != nil })
        #expect(Self.cosignBundles.allSatisfy { TransparencyLogEntry.CosignBundle(scanning: $0) != nil })
    }

    @Test func dsseEnvelopes() {
        for json in Self.envelopes + Self.documents + Self.edgeCases.map({ Data($0.utf8) }) {
            #expect(Self.outcome { try DSSEEnvelope(json: json) } == Self.outcome { try DSSEEnvelope(foundationJSON: json) },
                    "\(String(decoding: json.prefix(200), as: UTF8.self))")
        }
    }

    @Test func inTotoStatements() {
        for json in Self.payloads + Self.documents + Self.edgeCases.map({ Data($0.utf8) }) {
            #expect(Self.outcome { Self.statementFields(try InTotoStatement(json: json)) }
                    == Self.outcome { Self.statementFields(try InTotoStatement(foundationJSON: json)) },
                    "\(String(decoding: json.prefix(200), as: UTF8.self))")
        }
    }

    @Test func cosignBundleAnnotations() {
        var bodies = Self.cosignBundles
        // Each real annotation also with a member the reader does not know.
        for b in Self.cosignBundles {
            bodies.append(Data(String(decoding: b, as: UTF8.self).replacingOccurrences(of: #""logIndex":"#, with: #""x":0,"logIndex":"#).utf8))
        }
        for json in bodies + Self.documents + Self.edgeCases.map({ Data($0.utf8) }) {
            #expect(Self.outcome { try TransparencyLogEntry(cosignBundleJSON: json) }
                    == Self.outcome { try TransparencyLogEntry(foundationCosignBundleJSON: json) },
                    "\(String(decoding: json.prefix(200), as: UTF8.self))")
        }
    }

    @Test func rekorBodyKinds() {
        let bodies = Self.trees.compactMap { ($0["canonicalizedBody"] as? String).flatMap { Data(base64Encoded: $0) } }
        #expect(bodies.count > 10)
        for body in bodies + Self.edgeCases.map({ Data($0.utf8) }) {
            let scanned = TransparencyLogEntry.BodyKind(scanning: body) ?? TransparencyLogEntry.BodyKind(foundationJSON: body)
            let foundation = TransparencyLogEntry.BodyKind(foundationJSON: body)
            #expect(scanned.kind == foundation.kind && scanned.apiVersion == foundation.apiVersion)
        }
    }

    /// Attestation statements for policies are built by `JSONValue.parse(bytes:)` first (ImageVerification).
    @Test func statementTrees() throws {
        var compared = 0
        for payload in Self.payloads {
            guard let foundation = try? JSONValue.parse(data: payload) else { continue }
            #expect(try JSONValue.parse(bytes: Array(payload)) == foundation)
            compared += 1
        }
        #expect(compared > 10)
    }
}

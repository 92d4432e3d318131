import Foundation
import SealgateCore

/// An in-toto attestation statement (v0.1 or v1) carried in a DSSE payload.
public struct InTotoStatement: Sendable {
    public static let payloadType = "application/vnd.in-toto+json"

    public struct Subject: Sendable, Hashable {
        public var name: String
        public var digest: [String: String]
    }
    public var type: String
    public var predicateType: String
    public var subjects: [Subject]
    /// The predicate re-serialised as JSON (sorted keys), for policy layers to decode. Made when read: writing an
    /// SBOM predicate back out cost more than its signature check, and verification never reads it.
    public var predicateJSON: Data { Self.predicateJSON(of: json) }
    /// The statement as signed.
    private let json: Data

    public init(json: Data) throws {
        try self.init(Fields(scanning: json) ?? Fields(foundationJSON: json), json: json)
    }

    /// The reading of `json` through `JSONSerialization` (what `init(json:)` falls back to).
    init(foundationJSON json: Data) throws {
        try self.init(Fields(foundationJSON: json), json: json)
    }

    private init(_ f: Fields?, json: Data) throws {
        guard let f else { throw SigstoreError.malformedEnvelope("in-toto statement is not a JSON object") }
        guard let t = f.type, t.hasPrefix("https://in-toto.io/Statement/") else {
            throw SigstoreError.malformedEnvelope("in-toto statement has unknown _type")
        }
        type = t
        predicateType = f.predicateType ?? ""
        guard let subs = f.subjects else { throw SigstoreError.malformedEnvelope("in-toto statement has no subject") }
        subjects = subs
        self.json = json
    }

    /// The members verification reads, as read from JSON (nil: absent or of another type). The predicate is not read.
    struct Fields {
        var type: String?
        var predicateType: String?
        var subjects: [Subject]?

        init?(foundationJSON json: Data) {
            guard let o = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else { return nil }
            type = o["_type"] as? String
            predicateType = o["predicateType"] as? String
            subjects = (o["subject"] as? [[String: Any]])?.map {
                Subject(name: $0["name"] as? String ?? "", digest: $0["digest"] as? [String: String] ?? [:])
            }
        }

        /// Read with `JSONScanner`, the predicate only checked; nil when Foundation must read it (see `ScannedJSON`).
        init?(scanning json: Data) {
            var type: String?, predicateType: String?, subjects: [Subject]?
            let read: Void? = ScannedJSON.object(json) { s, key in
                switch key {
                case "_type": type = try s.stringOrSkip()
                case "predicateType": predicateType = try s.stringOrSkip()
                case "subject":
                    var subs: [Subject] = []
                    let all = try ScannedJSON.objectsOrSkip(&s, { subs.append(Subject(name: "", digest: [:])) }) { s, key in
                        switch key {
                        case "name": subs[subs.count - 1].name = try s.stringOrSkip() ?? ""
                        case "digest": subs[subs.count - 1].digest = try Self.digest(&s) ?? [:]
                        default: try s.skipValue()
                        }
                    }
                    subjects = all == nil ? nil : subs
                default: try s.skipValue()
                }
            }
            guard read != nil else { return nil }
            self.type = type; self.predicateType = predicateType; self.subjects = subjects
        }

        /// `as? [String: String]`: nil unless an object whose every (last-written) member is a string.
        private static func digest(_ s: inout JSONScanner) throws -> [String: String]? {
            var values: [String: String?] = [:]
            guard try ScannedJSON.objectOrSkip(&s, { s, key in values[key] = .some(try s.stringOrSkip()) }) != nil else { return nil }
            var out: [String: String] = [:]
            for (k, v) in values {
                guard let v else { return nil }
                out[k] = v
            }
            return out
        }
    }

    private static func predicateJSON(of json: Data) -> Data {
        let o = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any]
        if let p = o?["predicate"], JSONSerialization.isValidJSONObject(p) {
            return (try? JSONSerialization.data(withJSONObject: p, options: [.sortedKeys])) ?? Data("{}".utf8)
        }
        return Data("null".utf8)
    }

    /// True if some subject carries `digest` under the algorithm's name (sha256, sha384, sha512).
    public func hasSubject(digest: Data, algorithm: HashAlgorithm) -> Bool {
        let hex = Encoding.hex(digest)
        return subjects.contains { $0.digest[algorithm.rawValue]?.lowercased() == hex }
    }
}

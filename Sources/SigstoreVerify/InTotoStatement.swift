import Foundation

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
        guard let o = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw SigstoreError.malformedEnvelope("in-toto statement is not a JSON object")
        }
        guard let t = o["_type"] as? String, t.hasPrefix("https://in-toto.io/Statement/") else {
            throw SigstoreError.malformedEnvelope("in-toto statement has unknown _type")
        }
        type = t
        predicateType = o["predicateType"] as? String ?? ""
        guard let subs = o["subject"] as? [[String: Any]] else { throw SigstoreError.malformedEnvelope("in-toto statement has no subject") }
        subjects = subs.map { Subject(name: $0["name"] as? String ?? "", digest: $0["digest"] as? [String: String] ?? [:]) }
        self.json = json
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

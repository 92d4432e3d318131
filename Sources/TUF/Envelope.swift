import Foundation

/// A metadata file as downloaded: `{"signed": …, "signatures": […]}`. The signed bytes are the canonical JSON of
/// `signed` re-encoded from the parse, never the file's own bytes, because that is what signers sign.
public struct Envelope: Sendable {
    public struct Signature: Sendable {
        public let keyID: String
        public let hexSignature: String
    }

    public let signed: JSONObject
    public let signedBytes: [UInt8]
    public let signatures: [Signature]

    public init(data: Data, role: String) throws {
        let doc: TUFJSON
        do { doc = try JSONParser.parse(data) } catch { throw TUFError.malformed(role: role, detail: "\(error)") }
        guard let top = doc.objectValue else { throw TUFError.malformed(role: role, detail: "not a JSON object") }
        guard let signed = top["signed"]?.objectValue else { throw TUFError.malformed(role: role, detail: "signed is missing or not an object") }
        guard let list = top["signatures"]?.arrayValue else { throw TUFError.malformed(role: role, detail: "signatures is missing or not an array") }
        var seen = Set<String>()
        var signatures: [Signature] = []
        for (n, entry) in list.enumerated() {
            guard let o = entry.objectValue, let keyID = o["keyid"]?.stringValue, let sig = o["sig"]?.stringValue else {
                throw TUFError.malformed(role: role, detail: "signatures[\(n)] needs string keyid and sig")
            }
            // One key, one vote: a repeated key ID is refused outright, as python-tuf does.
            guard seen.insert(keyID).inserted else { throw TUFError.malformed(role: role, detail: "signatures list key \(keyID) twice") }
            signatures.append(Signature(keyID: keyID, hexSignature: sig))
        }
        do { signedBytes = try CanonicalJSON.encode(.object(signed)) } catch { throw TUFError.malformed(role: role, detail: "\(error)") }
        self.signed = signed
        self.signatures = signatures
    }

    /// Specification §5: at least `threshold` of the role's authorized keys must have signed. Keys are counted
    /// once each by their material, so a key listed under two IDs does not vote twice.
    public func verify(role: String, keys: [String: PublicKey], authorized: RoleKeys) throws {
        let decoded = signatures.compactMap { s in Hex.decode(s.hexSignature).map { (keyID: s.keyID, signature: $0) } }
        try SignatureThreshold.check(role: role, signatures: decoded, message: signedBytes, keys: keys, authorized: authorized)
    }
}

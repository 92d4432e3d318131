import Foundation

/// A DSSE envelope (https://github.com/secure-systems-lab/dsse).
public struct DSSEEnvelope: Sendable, Hashable {
    public struct Signature: Sendable, Hashable {
        public var sig: Data
        public var keyid: String
        public init(sig: Data, keyid: String = "") { self.sig = sig; self.keyid = keyid }
    }
    public var payloadType: String
    public var payload: Data
    public var signatures: [Signature]

    public init(payloadType: String, payload: Data, signatures: [Signature]) {
        self.payloadType = payloadType; self.payload = payload; self.signatures = signatures
    }

    public init(json: Data) throws {
        guard let obj = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw SigstoreError.malformedEnvelope("not a JSON object")
        }
        try self.init(object: obj)
    }

    init(object o: [String: Any]) throws {
        guard let type = o["payloadType"] as? String else { throw SigstoreError.malformedEnvelope("missing payloadType") }
        guard let p = o["payload"] as? String, let payload = Encoding.base64(p) else {
            throw SigstoreError.malformedEnvelope("missing or invalid payload")
        }
        guard let sigs = o["signatures"] as? [[String: Any]], !sigs.isEmpty else {
            throw SigstoreError.malformedEnvelope("no signatures")
        }
        let parsed = try sigs.map { s -> Signature in
            guard let b = s["sig"] as? String, let sig = Encoding.base64(b), !sig.isEmpty else {
                throw SigstoreError.malformedEnvelope("invalid signature encoding")
            }
            return Signature(sig: sig, keyid: s["keyid"] as? String ?? "")
        }
        self.init(payloadType: type, payload: payload, signatures: parsed)
    }

    /// Pre-authentication encoding: "DSSEv1" SP len(type) SP type SP len(body) SP body.
    public static func pae(payloadType: String, payload: Data) -> Data {
        var out = Data("DSSEv1 \(payloadType.utf8.count) \(payloadType) \(payload.count) ".utf8)
        out.append(payload)
        return out
    }

    public var pae: Data { Self.pae(payloadType: payloadType, payload: payload) }

    public func jsonObject() -> [String: Any] {
        ["payloadType": payloadType, "payload": payload.base64EncodedString(),
         "signatures": signatures.map { ["sig": $0.sig.base64EncodedString(), "keyid": $0.keyid] }]
    }
}

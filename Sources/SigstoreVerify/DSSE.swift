import Foundation
import SealgateCore

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
        if let fields = Fields(scanning: json) { try self.init(fields) } else { try self.init(foundationJSON: json) }
    }

    /// The reading of `json` through `JSONSerialization` (what `init(json:)` falls back to).
    init(foundationJSON json: Data) throws {
        guard let obj = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw SigstoreError.malformedEnvelope("not a JSON object")
        }
        try self.init(object: obj)
    }

    init(object o: [String: Any]) throws {
        let sigs = (o["signatures"] as? [[String: Any]])?.map { (sig: $0["sig"] as? String, keyid: $0["keyid"] as? String) }
        try self.init(Fields(payloadType: o["payloadType"] as? String, payload: o["payload"] as? String, signatures: sigs))
    }

    /// The members the envelope is made of, as read from JSON (nil: absent or of another type).
    struct Fields {
        var payloadType: String?
        var payload: String?
        var signatures: [(sig: String?, keyid: String?)]?

        init(payloadType: String?, payload: String?, signatures: [(sig: String?, keyid: String?)]?) {
            self.payloadType = payloadType; self.payload = payload; self.signatures = signatures
        }

        /// Read with `JSONScanner`; nil when Foundation must read the document (see `ScannedJSON`).
        init?(scanning json: Data) {
            var f = Fields(payloadType: nil, payload: nil, signatures: nil)
            let read: Void? = ScannedJSON.object(json) { s, key in
                switch key {
                case "payloadType": f.payloadType = try s.stringOrSkip()
                case "payload": f.payload = try s.stringOrSkip()
                case "signatures":
                    var sigs: [(sig: String?, keyid: String?)] = []
                    let all = try ScannedJSON.objectsOrSkip(&s, { sigs.append((nil, nil)) }) { s, key in
                        switch key {
                        case "sig": sigs[sigs.count - 1].sig = try s.stringOrSkip()
                        case "keyid": sigs[sigs.count - 1].keyid = try s.stringOrSkip()
                        default: try s.skipValue()
                        }
                    }
                    f.signatures = all == nil ? nil : sigs
                default: try s.skipValue()
                }
            }
            guard read != nil else { return nil }
            self = f
        }
    }

    private init(_ f: Fields) throws {
        guard let type = f.payloadType else { throw SigstoreError.malformedEnvelope("missing payloadType") }
        guard let p = f.payload, let payload = Encoding.base64(p) else {
            throw SigstoreError.malformedEnvelope("missing or invalid payload")
        }
        guard let sigs = f.signatures, !sigs.isEmpty else {
            throw SigstoreError.malformedEnvelope("no signatures")
        }
        let parsed = try sigs.map { s -> Signature in
            guard let b = s.sig, let sig = Encoding.base64(b), !sig.isEmpty else {
                throw SigstoreError.malformedEnvelope("invalid signature encoding")
            }
            return Signature(sig: sig, keyid: s.keyid ?? "")
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

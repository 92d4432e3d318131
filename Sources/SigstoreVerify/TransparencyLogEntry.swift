import Foundation
import SealgateCore

/// RFC 6962 inclusion proof with the log's signed checkpoint.
public struct InclusionProof: Sendable, Hashable {
    public var logIndex: Int64
    public var treeSize: Int64
    public var rootHash: Data
    public var hashes: [Data]
    public var checkpoint: String?
    public init(logIndex: Int64, treeSize: Int64, rootHash: Data, hashes: [Data], checkpoint: String?) {
        self.logIndex = logIndex; self.treeSize = treeSize; self.rootHash = rootHash; self.hashes = hashes; self.checkpoint = checkpoint
    }
}

/// A Rekor entry as carried in a bundle (or rebuilt from a cosign "bundle" annotation).
public struct TransparencyLogEntry: Sendable, Hashable {
    public var logIndex: Int64
    public var logID: Data
    public var kind: String
    public var version: String
    /// Rekor v1 only; v2 entries have no integrated time.
    public var integratedTime: Int64?
    public var signedEntryTimestamp: Data?
    public var inclusionProof: InclusionProof?
    public var canonicalizedBody: Data

    public init(logIndex: Int64, logID: Data, kind: String, version: String, integratedTime: Int64?,
                signedEntryTimestamp: Data?, inclusionProof: InclusionProof?, canonicalizedBody: Data) {
        self.logIndex = logIndex; self.logID = logID; self.kind = kind; self.version = version
        self.integratedTime = integratedTime; self.signedEntryTimestamp = signedEntryTimestamp
        self.inclusionProof = inclusionProof; self.canonicalizedBody = canonicalizedBody
    }

    /// From a cosign `dev.sigstore.cosign/bundle` annotation:
    /// {"SignedEntryTimestamp": b64, "Payload": {"body": b64, "integratedTime": n, "logIndex": n, "logID": hex}}.
    public init(cosignBundleJSON data: Data) throws {
        try self.init(CosignBundle(scanning: data) ?? CosignBundle(foundationJSON: data))
    }

    /// The reading of `data` through `JSONSerialization` (what `init(cosignBundleJSON:)` falls back to).
    init(foundationCosignBundleJSON data: Data) throws {
        try self.init(CosignBundle(foundationJSON: data))
    }

    private init(_ c: CosignBundle) throws {
        guard let set = c.set.flatMap(Encoding.base64), let p = c.payload, let body = p.body.flatMap(Encoding.base64),
              let time = p.integratedTime, let index = p.logIndex, let logID = p.logID.flatMap(Encoding.fromHex) else {
            throw SigstoreError.malformedLogEntry("invalid cosign bundle annotation")
        }
        let kind = BodyKind(scanning: body) ?? BodyKind(foundationJSON: body)
        self.init(logIndex: index, logID: logID, kind: kind.kind ?? "", version: kind.apiVersion ?? "",
                  integratedTime: time, signedEntryTimestamp: set, inclusionProof: nil, canonicalizedBody: body)
    }

    /// The members of a cosign bundle annotation, as read from JSON (nil: absent or of another type).
    struct CosignBundle {
        struct Payload { var body: String?, integratedTime: Int64?, logIndex: Int64?, logID: String? }
        var set: String?
        var payload: Payload?

        init(foundationJSON data: Data) throws {
            let o = try JSON.object(data)
            set = o["SignedEntryTimestamp"] as? String
            payload = (o["Payload"] as? [String: Any]).map {
                Payload(body: $0["body"] as? String, integratedTime: JSON.int64($0["integratedTime"]),
                        logIndex: JSON.int64($0["logIndex"]), logID: $0["logID"] as? String)
            }
        }

        /// Read with `JSONScanner`; nil when Foundation must read it (see `ScannedJSON`).
        init?(scanning data: Data) {
            var set: String?, payload: Payload?
            let read: Void? = ScannedJSON.object(data) { s, key in
                switch key {
                case "SignedEntryTimestamp": set = try s.stringOrSkip()
                case "Payload":
                    var p = Payload()
                    payload = try ScannedJSON.objectOrSkip(&s) { s, key in
                        switch key {
                        case "body": p.body = try s.stringOrSkip()
                        case "integratedTime": p.integratedTime = try ScannedJSON.int64OrSkip(&s)
                        case "logIndex": p.logIndex = try ScannedJSON.int64OrSkip(&s)
                        case "logID": p.logID = try s.stringOrSkip()
                        default: try s.skipValue()
                        }
                    }.map { p }
                default: try s.skipValue()
                }
            }
            guard read != nil else { return nil }
            self.set = set; self.payload = payload
        }
    }

    /// A Rekor body's `kind` and `apiVersion` (nil: absent, of another type, or the body is not a JSON object).
    struct BodyKind {
        var kind: String?
        var apiVersion: String?

        init(foundationJSON body: Data) {
            let b = try? JSON.object(body)
            kind = b?["kind"] as? String
            apiVersion = b?["apiVersion"] as? String
        }

        /// Read with `JSONScanner`; nil when Foundation must read it (see `ScannedJSON`).
        init?(scanning body: Data) {
            var kind: String?, apiVersion: String?
            let read: Void? = ScannedJSON.object(body) { s, key in
                switch key {
                case "kind": kind = try s.stringOrSkip()
                case "apiVersion": apiVersion = try s.stringOrSkip()
                default: try s.skipValue()
                }
            }
            guard read != nil else { return nil }
            self.kind = kind; self.apiVersion = apiVersion
        }
    }

    init(object e: [String: Any]) throws {
        func fail(_ s: String) -> SigstoreError { .malformedLogEntry(s) }
        guard let index = JSON.int64(e["logIndex"]) else { throw fail("missing logIndex") }
        guard index >= 0 else { throw fail("negative logIndex \(index)") }
        guard let id = ((e["logId"] as? [String: Any])?["keyId"] as? String).flatMap(Encoding.base64), !id.isEmpty else {
            throw fail("missing logId")
        }
        guard let kv = e["kindVersion"] as? [String: Any], let kind = kv["kind"] as? String, let version = kv["version"] as? String else {
            throw fail("missing kindVersion")
        }
        guard let body = (e["canonicalizedBody"] as? String).flatMap(Encoding.base64), !body.isEmpty else {
            throw fail("missing canonicalizedBody")
        }
        var time: Int64?
        if let t = e["integratedTime"] {
            guard let v = JSON.int64(t), v >= 0 else { throw fail("invalid integratedTime") }
            time = v == 0 ? nil : v
        }
        var set: Data?
        if let p = e["inclusionPromise"] as? [String: Any] {
            guard let s = (p["signedEntryTimestamp"] as? String).flatMap(Encoding.base64), !s.isEmpty else {
                throw fail("invalid inclusionPromise")
            }
            set = s
        }
        var proof: InclusionProof?
        if let p = e["inclusionProof"] as? [String: Any] {
            guard let pi = JSON.int64(p["logIndex"]), pi >= 0, let size = JSON.int64(p["treeSize"]), size > 0,
                  let root = (p["rootHash"] as? String).flatMap(Encoding.base64) else {
                throw fail("invalid inclusionProof")
            }
            let hashes = try (p["hashes"] as? [String] ?? []).map { h -> Data in
                guard let d = Encoding.base64(h) else { throw fail("invalid inclusionProof hash") }
                return d
            }
            let cp = (p["checkpoint"] as? [String: Any])?["envelope"] as? String
            proof = InclusionProof(logIndex: pi, treeSize: size, rootHash: root, hashes: hashes, checkpoint: cp)
        }
        self.init(logIndex: index, logID: id, kind: kind, version: version, integratedTime: time,
                  signedEntryTimestamp: set, inclusionProof: proof, canonicalizedBody: body)
    }
}

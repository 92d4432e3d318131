import Crypto
import Foundation
import SealgateCore
import TUF

/// Notary v1 metadata: TUF as notary writes it (pre-1.0): `_type` capitalized (`Root`, `Targets`, …), no
/// `spec_version`, base64 hashes and signatures, meta entries named without `.json`. Parsed strictly over the TUF
/// client's JSON reader (duplicate names refused); the signed bytes are the canonical JSON of `signed`.
public struct NotaryEnvelope: Sendable {
    public let role: String
    public let signed: JSONObject
    public let signedBytes: [UInt8]
    public let signatures: [(keyID: String, signature: [UInt8])]

    public init(data: Data, role: String) throws {
        let doc: TUFJSON
        do { doc = try JSONParser.parse(data) } catch { throw TUFError.malformed(role: role, detail: "\(error)") }
        guard let top = doc.objectValue, let signed = top["signed"]?.objectValue else {
            throw TUFError.malformed(role: role, detail: "signed is missing or not an object")
        }
        guard let list = top["signatures"]?.arrayValue else { throw TUFError.malformed(role: role, detail: "signatures is missing or not an array") }
        var seen = Set<String>()
        var signatures: [(keyID: String, signature: [UInt8])] = []
        for (n, entry) in list.enumerated() {
            guard let o = entry.objectValue, let keyID = o["keyid"]?.stringValue, let sig = o["sig"]?.stringValue,
                  let bytes = Data(base64Encoded: sig) else {
                throw TUFError.malformed(role: role, detail: "signatures[\(n)] needs a string keyid and a base64 sig")
            }
            guard seen.insert(keyID).inserted else { throw TUFError.malformed(role: role, detail: "signatures list key \(keyID) twice") }
            signatures.append((keyID, Array(bytes)))
        }
        do { signedBytes = try CanonicalJSON.encode(.object(signed)) } catch { throw TUFError.malformed(role: role, detail: "\(error)") }
        self.role = role
        self.signed = signed
        self.signatures = signatures
    }

    /// A threshold of `authorized` (among `keys`) must have signed.
    public func verify(keys: [String: NotaryKey], authorized: RoleKeys, label: String? = nil) throws {
        try SignatureThreshold.check(role: label ?? role, signatures: signatures, message: signedBytes, keys: keys, authorized: authorized)
    }
}

/// Fields every notary role has.
public struct NotaryCommon: Sendable {
    public let version: Int
    public let expires: Date
}

/// A parent role's entry for a metadata file (timestamp → snapshot, snapshot → root, targets, delegations).
public struct NotaryMetaFile: Sendable {
    public let length: Int
    /// Hex digests (converted from notary's base64) for the TUF client's length-and-hash check.
    public let hashes: [HashEntry]
}

public struct NotaryRoot: Sendable {
    public let common: NotaryCommon
    public let keys: [String: NotaryKey]
    public let roles: [String: RoleKeys]
}

public struct NotaryTimestamp: Sendable {
    public let common: NotaryCommon
    public let snapshot: NotaryMetaFile
}

public struct NotarySnapshot: Sendable {
    public let common: NotaryCommon
    /// By role name: `root`, `targets`, `targets/releases`, …
    public let meta: [String: NotaryMetaFile]
}

public struct NotaryDelegation: Sendable {
    public let name: String
    public let keys: RoleKeys
    /// Target name prefixes the role may sign (notary's `""` allows every name).
    public let paths: [String]
}

public struct NotaryTargets: Sendable {
    public let common: NotaryCommon
    /// Target (tag) name → sha256 hex of the manifest, and its length.
    public let targets: [String: (sha256: String, length: Int)]
    public let delegationKeys: [String: NotaryKey]
    public let delegations: [NotaryDelegation]
}

/// Reads one role's `signed` object; every error names the role and the field.
struct NotaryFields {
    let role: String
    let object: JSONObject
    let path: String

    func fail(_ field: String, _ what: String) -> TUFError { .malformed(role: role, detail: "\(path).\(field) \(what)") }
    func nested(_ field: String, _ o: JSONObject) -> NotaryFields { NotaryFields(role: role, object: o, path: "\(path).\(field)") }

    func string(_ f: String) throws -> String {
        guard let s = object[f]?.stringValue else { throw fail(f, object[f] == nil ? "is missing" : "must be a string") }
        return s
    }
    func int(_ f: String, min: Int) throws -> Int {
        guard let n = object[f]?.intValue else { throw fail(f, object[f] == nil ? "is missing" : "must be an integer") }
        guard n >= min else { throw fail(f, "must be at least \(min)") }
        return n
    }
    func object(_ f: String) throws -> JSONObject {
        guard let o = object[f]?.objectValue else { throw fail(f, object[f] == nil ? "is missing" : "must be an object") }
        return o
    }
    func strings(_ f: String) throws -> [String] {
        guard let a = object[f]?.arrayValue else { throw fail(f, object[f] == nil ? "is missing" : "must be an array") }
        return try a.map { guard let s = $0.stringValue else { throw fail(f, "must hold only strings") }; return s }
    }
}

enum NotaryParser {
    static func common(_ r: NotaryFields, type: String) throws -> NotaryCommon {
        let actual = try r.string("_type")
        guard actual == type else { throw TUFError.malformed(role: r.role, detail: "wrong type: _type is \"\(actual)\", expected \"\(type)\"") }
        let text = try r.string("expires")
        guard let expires = RFC3339.parse(text) else { throw r.fail("expires", "\"\(text)\" is not an RFC 3339 time") }
        return NotaryCommon(version: try r.int("version", min: 1), expires: expires)
    }

    static func metaFile(_ r: NotaryFields) throws -> NotaryMetaFile {
        let hashes = try r.object("hashes")
        guard hashes.count > 0 else { throw r.fail("hashes", "must list at least one hash") }
        let entries = try hashes.pairs.map { alg, v -> HashEntry in
            guard let b64 = v.stringValue, let raw = Data(base64Encoded: b64) else { throw r.fail("hashes.\(alg)", "must be base64") }
            return HashEntry(algorithm: alg, digest: raw.map { String(format: "%02x", $0) }.joined())
        }
        return NotaryMetaFile(length: try r.int("length", min: 1), hashes: entries)
    }

    /// Keys by ID; an ID must be the SHA-256 of the key's canonical JSON, as notary computes it, so one ID
    /// cannot name two keys.
    static func keys(_ r: NotaryFields, _ o: JSONObject) throws -> [String: NotaryKey] {
        var out: [String: NotaryKey] = [:]
        for (id, v) in o.pairs {
            guard let ko = v.objectValue else { throw r.fail("keys.\(id)", "must be an object") }
            let kr = r.nested("keys.\(id)", ko)
            let type = try kr.string("keytype")
            let value = try kr.object("keyval")
            guard let b64 = value["public"]?.stringValue, let bytes = Data(base64Encoded: b64) else {
                throw kr.fail("keyval.public", "must be base64")
            }
            let canonical = (try? CanonicalJSON.encode(.object(ko))) ?? []
            guard SHA256.hash(data: canonical).map({ String(format: "%02x", $0) }).joined() == id else {
                throw kr.fail("", "key ID does not match the key (SHA-256 of its canonical JSON)")
            }
            do { out[id] = try NotaryKey(keyType: type, publicBytes: Array(bytes)) } catch { throw kr.fail("", "\(error)") }
        }
        return out
    }

    static func roleKeys(_ r: NotaryFields) throws -> RoleKeys {
        let ids = try r.strings("keyids")
        guard Set(ids).count == ids.count else { throw r.fail("keyids", "lists a key ID twice") }
        return RoleKeys(keyIDs: ids, threshold: try r.int("threshold", min: 1))
    }

    static func root(_ env: NotaryEnvelope) throws -> NotaryRoot {
        let r = NotaryFields(role: env.role, object: env.signed, path: "signed")
        let common = try common(r, type: "Root")
        let keys = try keys(r, try r.object("keys"))
        var roles: [String: RoleKeys] = [:]
        for (name, v) in try r.object("roles").pairs {
            guard let o = v.objectValue else { throw r.fail("roles.\(name)", "must be an object") }
            roles[name] = try roleKeys(r.nested("roles.\(name)", o))
        }
        for name in ["root", "targets", "snapshot", "timestamp"] where roles[name] == nil { throw r.fail("roles", "has no \"\(name)\" role") }
        return NotaryRoot(common: common, keys: keys, roles: roles)
    }

    static func timestamp(_ env: NotaryEnvelope) throws -> NotaryTimestamp {
        let r = NotaryFields(role: env.role, object: env.signed, path: "signed")
        let common = try common(r, type: "Timestamp")
        let meta = try r.object("meta")
        guard let snap = meta["snapshot"]?.objectValue else { throw r.fail("meta.snapshot", "is missing") }
        return NotaryTimestamp(common: common, snapshot: try metaFile(r.nested("meta.snapshot", snap)))
    }

    static func snapshot(_ env: NotaryEnvelope) throws -> NotarySnapshot {
        let r = NotaryFields(role: env.role, object: env.signed, path: "signed")
        let common = try common(r, type: "Snapshot")
        var meta: [String: NotaryMetaFile] = [:]
        for (name, v) in try r.object("meta").pairs {
            guard let o = v.objectValue else { throw r.fail("meta.\(name)", "must be an object") }
            meta[name] = try metaFile(r.nested("meta.\(name)", o))
        }
        guard meta["targets"] != nil else { throw r.fail("meta", "does not list targets") }
        return NotarySnapshot(common: common, meta: meta)
    }

    static func targets(_ env: NotaryEnvelope) throws -> NotaryTargets {
        let r = NotaryFields(role: env.role, object: env.signed, path: "signed")
        let common = try common(r, type: "Targets")
        var targets: [String: (sha256: String, length: Int)] = [:]
        for (name, v) in try r.object("targets").pairs {
            guard let o = v.objectValue else { throw r.fail("targets.\(name)", "must be an object") }
            let file = try metaFile(r.nested("targets.\(name)", o))
            guard let sha = file.hashes.first(where: { $0.algorithm == "sha256" }) else { throw r.fail("targets.\(name).hashes", "has no sha256") }
            targets[name] = (sha.digest, file.length)
        }
        var keys: [String: NotaryKey] = [:]
        var delegations: [NotaryDelegation] = []
        if env.signed["delegations"] != nil {
            let d = r.nested("delegations", try r.object("delegations"))
            keys = try self.keys(d, try d.object("keys"))
            guard let list = d.object["roles"]?.arrayValue else { throw d.fail("roles", "must be an array") }
            for (n, v) in list.enumerated() {
                guard let o = v.objectValue else { throw d.fail("roles[\(n)]", "must be an object") }
                let dr = d.nested("roles[\(n)]", o)
                let name = try dr.string("name")
                // Notary names a delegation below its delegator: targets/releases under targets, targets/a/b under targets/a.
                guard name.hasPrefix(env.role + "/"), name.count > env.role.count + 1 else {
                    throw dr.fail("name", "\"\(name)\" is not a delegation of \(env.role)")
                }
                delegations.append(NotaryDelegation(name: name, keys: try roleKeys(dr), paths: o["paths"] == nil ? [] : try dr.strings("paths")))
            }
        }
        return NotaryTargets(common: common, targets: targets, delegationKeys: keys, delegations: delegations)
    }
}

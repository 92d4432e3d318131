import Foundation
import SealgateCore

/// The signed part of each TUF role (specification §4), parsed strictly: a field with the wrong type is an error
/// naming the role and field, because a lenient reading of attacker-controlled metadata is how clients get fooled.
/// Unknown fields are ignored (the specification allows extensions) but stay inside the signed bytes.

public struct HashEntry: Equatable, Sendable {
    public let algorithm: String
    public let digest: String
    public init(algorithm: String, digest: String) {
        self.algorithm = algorithm
        self.digest = digest
    }
}

/// METAFILES entry: what a parent role says about a metadata file (timestamp → snapshot, snapshot → targets).
public struct MetaFile: Equatable, Sendable {
    public let version: Int
    public let length: Int?
    /// Document order kept; nil when the repository lists none (then only the version is pinned).
    public let hashes: [HashEntry]?
}

/// TARGETS entry: the length and hashes a target file must have.
public struct TargetFile: Equatable, Sendable {
    public let path: String
    public let length: Int
    /// Non-empty, in document order: the first one names the file under consistent snapshots.
    public let hashes: [HashEntry]
    public let custom: TUFJSON?
}

public struct RoleKeys: Equatable, Sendable {
    public let keyIDs: [String]
    public let threshold: Int
    public init(keyIDs: [String], threshold: Int) {
        self.keyIDs = keyIDs
        self.threshold = threshold
    }
}

public struct DelegatedRole: Sendable {
    public let name: String
    public let keys: RoleKeys
    public let terminating: Bool
    public let paths: [String]?
    public let pathHashPrefixes: [String]?
}

public struct Delegations: Sendable {
    public let keys: [String: PublicKey]
    public let roles: [DelegatedRole]
}

/// Fields every role shares.
public struct CommonFields: Equatable, Sendable {
    public let type: String
    public let version: Int
    public let expires: Date
    public let specVersion: String
}

public struct Root: Sendable {
    public let common: CommonFields
    public let consistentSnapshot: Bool
    public let keys: [String: PublicKey]
    public let roles: [String: RoleKeys]
}

public struct Timestamp: Sendable {
    public let common: CommonFields
    public let snapshotMeta: MetaFile
}

public struct Snapshot: Sendable {
    public let common: CommonFields
    public let meta: [String: MetaFile]
}

public struct Targets: Sendable {
    public let common: CommonFields
    public let targets: [String: TargetFile]
    public let delegations: Delegations?
}

public enum TopLevelRole {
    public static let root = "root", timestamp = "timestamp", snapshot = "snapshot", targets = "targets"
    public static let all: Set<String> = [root, timestamp, snapshot, targets]
}

/// Reads typed fields out of a JSON object, with errors that say which role and which field.
struct FieldReader {
    let role: String
    let object: JSONObject
    let path: String

    init(role: String, _ object: JSONObject, path: String = "signed") {
        self.role = role
        self.object = object
        self.path = path
    }

    func fail(_ field: String, _ what: String) -> TUFError { .malformed(role: role, detail: "\(path).\(field) \(what)") }

    func string(_ f: String) throws -> String {
        guard let v = object[f] else { throw fail(f, "is missing") }
        guard let s = v.stringValue else { throw fail(f, "must be a string") }
        return s
    }

    func optionalString(_ f: String) throws -> String? { object[f] == nil ? nil : try string(f) }

    func int(_ f: String, min: Int) throws -> Int {
        guard let v = object[f] else { throw fail(f, "is missing") }
        guard let n = v.intValue else { throw fail(f, "must be an integer") }
        guard n >= min else { throw fail(f, "must be at least \(min)") }
        return n
    }

    func optionalInt(_ f: String, min: Int) throws -> Int? { object[f] == nil ? nil : try int(f, min: min) }

    func bool(_ f: String, default d: Bool) throws -> Bool {
        guard let v = object[f] else { return d }
        guard let b = v.boolValue else { throw fail(f, "must be a boolean") }
        return b
    }

    func object(_ f: String) throws -> JSONObject {
        guard let v = object[f] else { throw fail(f, "is missing") }
        guard let o = v.objectValue else { throw fail(f, "must be an object") }
        return o
    }

    func stringArray(_ f: String) throws -> [String] {
        guard let v = object[f] else { throw fail(f, "is missing") }
        guard let a = v.arrayValue else { throw fail(f, "must be an array") }
        return try a.map {
            guard let s = $0.stringValue else { throw fail(f, "must hold only strings") }
            return s
        }
    }

    func nested(_ f: String, _ o: JSONObject) -> FieldReader { FieldReader(role: role, o, path: "\(path).\(f)") }
}

enum MetadataParser {
    static func common(_ r: FieldReader, expectedType: String) throws -> CommonFields {
        let type = try r.string("_type")
        guard type == expectedType else { throw TUFError.malformed(role: r.role, detail: "_type is \"\(type)\", expected \"\(expectedType)\"") }
        let spec = try r.string("spec_version")
        let parts = spec.split(separator: ".", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) else {
            throw r.fail("spec_version", "\"\(spec)\" is not a version")
        }
        guard parts[0] == "1" else { throw r.fail("spec_version", "\(spec) is not supported (this client implements 1.x)") }
        let expiresText = try r.string("expires")
        guard let expires = RFC3339.parse(expiresText) else { throw r.fail("expires", "\"\(expiresText)\" is not an RFC 3339 time") }
        return CommonFields(type: type, version: try r.int("version", min: 1), expires: expires, specVersion: spec)
    }

    static func hashes(_ r: FieldReader, _ f: String, _ o: JSONObject) throws -> [HashEntry] {
        guard o.count > 0 else { throw r.fail(f, "must list at least one hash") }
        return try o.pairs.map { alg, v in
            guard let hex = v.stringValue else { throw r.fail("\(f).\(alg)", "must be a string") }
            return HashEntry(algorithm: alg, digest: hex)
        }
    }

    static func metaFile(_ r: FieldReader) throws -> MetaFile {
        let h = r.object["hashes"] == nil ? nil : try hashes(r, "hashes", try r.object("hashes"))
        return MetaFile(version: try r.int("version", min: 1), length: try r.optionalInt("length", min: 1), hashes: h)
    }

    static func metaFiles(_ r: FieldReader) throws -> [String: MetaFile] {
        let meta = try r.object("meta")
        var out: [String: MetaFile] = [:]
        for (name, v) in meta.pairs {
            guard let o = v.objectValue else { throw r.fail("meta.\(name)", "must be an object") }
            guard out[name] == nil else { throw r.fail("meta.\(name)", "is listed twice (canonically equivalent names)") }
            out[name] = try metaFile(r.nested("meta.\(name)", o))
        }
        return out
    }

    static func keys(_ r: FieldReader, _ o: JSONObject) throws -> [String: PublicKey] {
        var out: [String: PublicKey] = [:]
        for (keyID, v) in o.pairs {
            guard let ko = v.objectValue else { throw r.fail("keys.\(keyID)", "must be an object") }
            let kr = r.nested("keys.\(keyID)", ko)
            let keyval = try kr.object("keyval")
            let pub = try kr.nested("keyval", keyval).string("public")
            guard out[keyID] == nil else { throw r.fail("keys.\(keyID)", "is listed twice (canonically equivalent IDs)") }
            out[keyID] = PublicKey(keyType: try kr.string("keytype"), scheme: try kr.string("scheme"), publicValue: pub)
        }
        return out
    }

    static func roleKeys(_ r: FieldReader) throws -> RoleKeys {
        let ids = try r.stringArray("keyids")
        guard Set(ids).count == ids.count else { throw r.fail("keyids", "lists a key ID twice") }
        return RoleKeys(keyIDs: ids, threshold: try r.int("threshold", min: 1))
    }

    static func root(_ signed: JSONObject) throws -> Root {
        let r = FieldReader(role: TopLevelRole.root, signed)
        let common = try common(r, expectedType: TopLevelRole.root)
        let keys = try keys(r, try r.object("keys"))
        let rolesObject = try r.object("roles")
        var roles: [String: RoleKeys] = [:]
        for (name, v) in rolesObject.pairs {
            guard let o = v.objectValue else { throw r.fail("roles.\(name)", "must be an object") }
            guard roles[name] == nil else { throw r.fail("roles.\(name)", "is listed twice (canonically equivalent names)") }
            roles[name] = try roleKeys(r.nested("roles.\(name)", o))
        }
        for name in TopLevelRole.all where roles[name] == nil { throw r.fail("roles", "has no \"\(name)\" role") }
        return Root(common: common, consistentSnapshot: try r.bool("consistent_snapshot", default: false), keys: keys, roles: roles)
    }

    static func timestamp(_ signed: JSONObject) throws -> Timestamp {
        let r = FieldReader(role: TopLevelRole.timestamp, signed)
        let common = try common(r, expectedType: TopLevelRole.timestamp)
        let meta = try metaFiles(r)
        guard meta.count == 1, let snap = meta["snapshot.json"] else { throw r.fail("meta", "must list exactly snapshot.json") }
        return Timestamp(common: common, snapshotMeta: snap)
    }

    static func snapshot(_ signed: JSONObject) throws -> Snapshot {
        let r = FieldReader(role: TopLevelRole.snapshot, signed)
        let common = try common(r, expectedType: TopLevelRole.snapshot)
        let meta = try metaFiles(r)
        guard meta["targets.json"] != nil else { throw r.fail("meta", "does not list targets.json") }
        return Snapshot(common: common, meta: meta)
    }

    static func targets(_ signed: JSONObject, role: String) throws -> Targets {
        let r = FieldReader(role: role, signed)
        let common = try common(r, expectedType: TopLevelRole.targets)
        var files: [String: TargetFile] = [:]
        for (path, v) in try r.object("targets").pairs {
            guard let o = v.objectValue else { throw r.fail("targets.\(path)", "must be an object") }
            let tr = r.nested("targets.\(path)", o)
            let h = try hashes(tr, "hashes", try tr.object("hashes"))
            guard files[path] == nil else { throw tr.fail("", "is listed twice (canonically equivalent paths)") }
            files[path] = TargetFile(path: path, length: try tr.int("length", min: 0), hashes: h, custom: o["custom"])
        }
        var delegations: Delegations?
        if signed["delegations"] != nil {
            delegations = try self.delegations(r.nested("delegations", try r.object("delegations")))
        }
        return Targets(common: common, targets: files, delegations: delegations)
    }

    static func delegations(_ r: FieldReader) throws -> Delegations {
        let keys = try keys(r, try r.object("keys"))
        guard let rolesValue = r.object["roles"] else {
            // TAP 15 succinct hash bin delegations are not implemented: such a delegation trusts no target.
            if r.object["succinct_roles"] != nil { return Delegations(keys: keys, roles: []) }
            throw r.fail("roles", "is missing")
        }
        guard let array = rolesValue.arrayValue else { throw r.fail("roles", "must be an array") }
        var names = Set<String>()
        var roles: [DelegatedRole] = []
        for (n, v) in array.enumerated() {
            guard let o = v.objectValue else { throw r.fail("roles[\(n)]", "must be an object") }
            let dr = r.nested("roles[\(n)]", o)
            let name = try dr.string("name")
            // A delegated role named like a top-level one would share its cache file and confuse the trust chain.
            guard !TopLevelRole.all.contains(name), !name.isEmpty else { throw dr.fail("name", "\"\(name)\" is reserved") }
            guard names.insert(name).inserted else { throw dr.fail("name", "\"\(name)\" is delegated twice") }
            let paths = o["paths"] == nil ? nil : try dr.stringArray("paths")
            let prefixes = o["path_hash_prefixes"] == nil ? nil : try dr.stringArray("path_hash_prefixes")
            guard paths == nil || prefixes == nil else { throw dr.fail("paths", "and path_hash_prefixes are mutually exclusive") }
            roles.append(DelegatedRole(name: name, keys: try roleKeys(dr), terminating: try dr.bool("terminating", default: false),
                                       paths: paths, pathHashPrefixes: prefixes))
        }
        return Delegations(keys: keys, roles: roles)
    }
}

import Foundation

/// The trusted metadata of one update cycle and every check of the specification's client workflow (§5.3–5.6)
/// that does not touch the network or the disk. Roles load strictly in order root → timestamp → snapshot →
/// targets → delegated targets. As in python-tuf, a timestamp or snapshot that verifies but is expired (or, for
/// snapshot, not the version the timestamp names) is still kept as *intermediate*: it cannot be used to go on,
/// but it is the reference a newer download's versions are checked against, which is what stops rollback.
public struct TrustedMetadataSet: Sendable {
    /// The fixed update start time all expiry checks use (§5.1).
    public let referenceTime: Date
    public private(set) var root: Root
    public private(set) var timestamp: Timestamp?
    public private(set) var snapshot: Snapshot?
    public private(set) var targetsRoles: [String: Targets] = [:]
    /// (delegator, role) pairs already loaded, so a role is verified once per parent.
    private var loadedDelegations = Set<[String]>()

    /// Loads the locally trusted root. Its expiry is not checked here (§5.3.10 checks the final root), but it
    /// must be signed by its own root threshold.
    public init(rootData: Data, referenceTime: Date) throws {
        self.referenceTime = referenceTime
        let env = try Envelope(data: rootData, role: TopLevelRole.root)
        let root = try MetadataParser.root(env.signed)
        try env.verify(role: "root v\(root.common.version) (trusted)", keys: root.keys, authorized: root.roles[TopLevelRole.root]!)
        self.root = root
    }

    /// §5.3.4–5.3.7: version N+1 must be signed by a threshold of version N's root keys and of its own.
    @discardableResult
    public mutating func updateRoot(_ data: Data) throws -> Root {
        guard timestamp == nil else { throw TUFError.usage("root cannot be updated after timestamp") }
        let expected = root.common.version + 1
        let env = try Envelope(data: data, role: "root v\(expected)")
        try env.verify(role: "root v\(expected) (threshold of trusted root v\(root.common.version))",
                       keys: root.keys, authorized: root.roles[TopLevelRole.root]!)
        let new = try MetadataParser.root(env.signed)
        guard new.common.version == expected else {
            throw TUFError.rollback(role: TopLevelRole.root, detail: "\(expected).root.json holds version \(new.common.version)")
        }
        try env.verify(role: "root v\(expected) (its own threshold)", keys: new.keys, authorized: new.roles[TopLevelRole.root]!)
        root = new
        return new
    }

    /// §5.3.10: the final root must not be expired.
    public func checkRootFresh() throws {
        try checkExpiry(TopLevelRole.root, root.common.expires)
    }

    /// §5.4. Returns false when the new timestamp has the trusted version: it is discarded and the update goes
    /// on with the trusted one (python-tuf's behaviour; the repository simply has not changed).
    @discardableResult
    public mutating func updateTimestamp(_ data: Data) throws -> Bool {
        guard snapshot == nil else { throw TUFError.usage("timestamp cannot be updated after snapshot") }
        try checkRootFresh()
        let env = try Envelope(data: data, role: TopLevelRole.timestamp)
        try env.verify(role: TopLevelRole.timestamp, keys: root.keys, authorized: root.roles[TopLevelRole.timestamp]!)
        let new = try MetadataParser.timestamp(env.signed)
        if let old = timestamp {
            if new.common.version < old.common.version {
                throw TUFError.rollback(role: TopLevelRole.timestamp,
                                        detail: "version \(new.common.version) is lower than trusted version \(old.common.version)")
            }
            if new.common.version == old.common.version { return false }
            if new.snapshotMeta.version < old.snapshotMeta.version {
                throw TUFError.rollback(role: TopLevelRole.timestamp,
                                        detail: "it names snapshot version \(new.snapshotMeta.version), lower than trusted \(old.snapshotMeta.version)")
            }
        }
        timestamp = new
        try checkFinalTimestamp()
        return true
    }

    private func checkFinalTimestamp() throws {
        guard let timestamp else { throw TUFError.usage("no trusted timestamp") }
        try checkExpiry(TopLevelRole.timestamp, timestamp.common.expires)
    }

    /// §5.5. `trusted` is set for the locally cached copy, which was checked against an earlier timestamp: its
    /// hashes need not match the current one, it only has to verify to serve as the rollback reference.
    public mutating func updateSnapshot(_ data: Data, trusted: Bool = false) throws {
        guard let ts = timestamp else { throw TUFError.usage("snapshot cannot be loaded before timestamp") }
        guard targetsRoles.isEmpty else { throw TUFError.usage("snapshot cannot be updated after targets") }
        try checkFinalTimestamp()
        if !trusted { try FileChecks.check(TopLevelRole.snapshot, data, ts.snapshotMeta) }
        let env = try Envelope(data: data, role: TopLevelRole.snapshot)
        try env.verify(role: TopLevelRole.snapshot, keys: root.keys, authorized: root.roles[TopLevelRole.snapshot]!)
        let new = try MetadataParser.snapshot(env.signed)
        if let old = snapshot {
            for (name, info) in old.meta {
                guard let now = new.meta[name] else {
                    throw TUFError.rollback(role: TopLevelRole.snapshot, detail: "\(name) is no longer listed")
                }
                if now.version < info.version {
                    throw TUFError.rollback(role: TopLevelRole.snapshot,
                                            detail: "\(name) version \(now.version) is lower than trusted version \(info.version)")
                }
            }
        }
        snapshot = new
        try checkFinalSnapshot()
    }

    private func checkFinalSnapshot() throws {
        guard let ts = timestamp, let snapshot else { throw TUFError.usage("no trusted snapshot") }
        try checkExpiry(TopLevelRole.snapshot, snapshot.common.expires)
        guard snapshot.common.version == ts.snapshotMeta.version else {
            throw TUFError.versionMismatch(role: TopLevelRole.snapshot, expected: ts.snapshotMeta.version, got: snapshot.common.version)
        }
    }

    public func isLoaded(_ role: String, by delegator: String) -> Bool { loadedDelegations.contains([delegator, role]) }

    /// §5.6 for the top-level targets (delegator "root") and for a role `delegator` delegates to.
    @discardableResult
    public mutating func updateTargets(_ data: Data, role: String = TopLevelRole.targets, delegator: String = TopLevelRole.root) throws -> Targets {
        guard let snapshot else { throw TUFError.usage("targets cannot be loaded before snapshot") }
        try checkFinalSnapshot()
        let keys: [String: PublicKey]
        let authorized: RoleKeys
        if delegator == TopLevelRole.root {
            guard role == TopLevelRole.targets else { throw TUFError.usage("root delegates only the targets role") }
            keys = root.keys
            authorized = root.roles[TopLevelRole.targets]!
        } else {
            guard let parent = targetsRoles[delegator], let d = parent.delegations,
                  let entry = d.roles.first(where: { $0.name == role }) else {
                throw TUFError.usage("\(delegator) does not delegate to \(role)")
            }
            keys = d.keys
            authorized = entry.keys
        }
        guard let meta = snapshot.meta["\(role).json"] else {
            throw TUFError.malformed(role: role, detail: "the snapshot does not list \(role).json")
        }
        try FileChecks.check(role, data, meta)
        let env = try Envelope(data: data, role: role)
        try env.verify(role: role, keys: keys, authorized: authorized)
        let new = try MetadataParser.targets(env.signed, role: role)
        guard new.common.version == meta.version else {
            throw TUFError.versionMismatch(role: role, expected: meta.version, got: new.common.version)
        }
        try checkExpiry(role, new.common.expires)
        targetsRoles[role] = new
        loadedDelegations.insert([delegator, role])
        return new
    }

    private func checkExpiry(_ role: String, _ expires: Date) throws {
        guard expires > referenceTime else { throw TUFError.expired(role: role, expires: expires, now: referenceTime) }
    }
}

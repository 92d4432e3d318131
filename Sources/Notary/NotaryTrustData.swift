import Foundation
import SealgateCore
import TUF
import X509

/// A repository's trust data, fetched and verified with the TUF workflow from a pinned root key (Connaisseur pins
/// the root public key instead of trusting on first use):
///
/// 1. `root`: one of its root-role keys (a certificate, in notary) holds the pinned public key and signed it, its
///    own root threshold is met, its root certificates are within their validity, and it has not expired;
/// 2. `timestamp`: signed by the root's timestamp keys, not expired;
/// 3. `snapshot`: the length and hashes the timestamp names, signed by the snapshot keys, not expired;
///    the root just trusted must be the one the snapshot names;
/// 4. `targets` and every published delegation (`targets/releases`, `targets/<name>`, nested ones): the length and
///    hashes the snapshot names, signed by a threshold of the delegator's keys for that role, not expired;
///    a delegation's targets count only under the path prefixes it was delegated.
///
/// Versions are checked against the highest seen for the same repository (`NotaryVersions`): a lower
/// one is a rollback. Any failure throws `NotaryError.metadata` naming the role and the problem.
public struct NotaryTrustData: Sendable {
    public let gun: String
    public let rootVersion: Int
    /// Role name → tag → sha256 hex, for `targets` and each verified delegation (within its paths).
    public let signedTargets: [String: [String: String]]
    /// The earliest expiry among the roles used: the verdict holds no longer than that.
    public let expires: Date

    /// Size limits per file: root and timestamp have no parent naming their length, so they get fixed bounds.
    public static let maxRootBytes = 512 * 1024
    public static let maxTimestampBytes = 64 * 1024
    /// Delegations followed, at most (a hostile targets role could list thousands).
    public static let maxRoles = 64

    public static func load(server: NotaryServer, gun: String, pinnedRoots: [Certificate.PublicKey], now: Date,
                            versions: NotaryVersions, deadline: Deadline) throws -> NotaryTrustData {
        do {
            return try verify(gun: gun, pinnedRoots: pinnedRoots, now: now, versions: versions, serverName: server.name) { role, limit in
                try server.fetch(gun: gun, role: role, maxBytes: limit, deadline: deadline)
            }
        } catch let e as TUFError {
            throw NotaryError.metadata(gun: gun, e)
        }
    }

    /// The workflow over any source of role files (`fetch` returns nil for a file the server does not have).
    static func verify(gun: String, pinnedRoots: [Certificate.PublicKey], now: Date, versions: NotaryVersions, serverName: String,
                       fetch: (_ role: String, _ maxBytes: Int) throws -> Data?) throws -> NotaryTrustData {
        func required(_ role: String, _ limit: Int) throws -> Data {
            guard let data = try fetch(role, limit) else {
                if role == "root" { throw NotaryError.noTrustData(server: serverName, gun: gun) }
                throw TUFError.malformed(role: role, detail: "\(role).json is not on the server")
            }
            return data
        }
        func fresh(_ role: String, _ common: NotaryCommon) throws {
            guard common.expires > now else { throw TUFError.expired(role: role, expires: common.expires, now: now) }
        }

        // 1. root, against the pinned key.
        let rootData = try required("root", maxRootBytes)
        let rootEnv = try NotaryEnvelope(data: rootData, role: "root")
        let root = try NotaryParser.root(rootEnv)
        let rootRole = root.roles["root"]!
        let pinnedIDs = rootRole.keyIDs.filter { id in pinnedRoots.contains { root.keys[id]?.isKey($0) == true } }
        guard !pinnedIDs.isEmpty else {
            throw TUFError.malformed(role: "root", detail: "no root key matches the pinned root key")
        }
        try rootEnv.verify(keys: root.keys, authorized: RoleKeys(keyIDs: pinnedIDs, threshold: 1), label: "root (pinned key)")
        try rootEnv.verify(keys: root.keys, authorized: rootRole)
        for id in rootRole.keyIDs {
            guard let cert = root.keys[id]?.certificate else { continue }
            guard cert.notValidBefore <= now, now < cert.notValidAfter else {
                throw TUFError.malformed(role: "root", detail: "certificate of root key \(id) is not valid at \(RFC3339.format(now)) (valid \(RFC3339.format(cert.notValidBefore)) to \(RFC3339.format(cert.notValidAfter)))")
            }
        }
        try fresh("root", root.common)

        // 2. timestamp.
        let tsEnv = try NotaryEnvelope(data: try required("timestamp", maxTimestampBytes), role: "timestamp")
        // Parsed (strictly) before the signature check so a role served in another's place is named as such.
        let timestamp = try NotaryParser.timestamp(tsEnv)
        try tsEnv.verify(keys: root.keys, authorized: root.roles["timestamp"]!)
        try fresh("timestamp", timestamp.common)

        // 3. snapshot, as the timestamp names it; the root as the snapshot names it.
        let snapData = try required("snapshot", timestamp.snapshot.length)
        try FileChecks.check("snapshot", snapData, length: timestamp.snapshot.length, hashes: timestamp.snapshot.hashes)
        let snapEnv = try NotaryEnvelope(data: snapData, role: "snapshot")
        let snapshot = try NotaryParser.snapshot(snapEnv)
        try snapEnv.verify(keys: root.keys, authorized: root.roles["snapshot"]!)
        try fresh("snapshot", snapshot.common)
        if let rootMeta = snapshot.meta["root"] {
            try FileChecks.check("root", rootData, length: rootMeta.length, hashes: rootMeta.hashes)
        }

        // 4. targets and delegations, breadth first.
        var seen: [String: Int] = ["root": root.common.version, "timestamp": timestamp.common.version, "snapshot": snapshot.common.version]
        var signed: [String: [String: String]] = [:]
        var expires = [root.common.expires, timestamp.common.expires, snapshot.common.expires].min()!
        var queue: [(role: String, keys: [String: NotaryKey], authorized: RoleKeys, paths: [String]?)] =
            [("targets", root.keys, root.roles["targets"]!, nil)]
        while !queue.isEmpty {
            let next = queue.removeFirst()
            guard let meta = snapshot.meta[next.role] else {
                // Delegated but never published: it signs nothing. The top-level targets role must be listed.
                if next.role == "targets" { throw TUFError.malformed(role: "snapshot", detail: "does not list targets") }
                continue
            }
            guard seen.count < maxRoles + 3 else { throw TUFError.malformed(role: next.role, detail: "more than \(maxRoles) delegated roles") }
            let data = try required(next.role, meta.length)
            try FileChecks.check(next.role, data, length: meta.length, hashes: meta.hashes)
            let env = try NotaryEnvelope(data: data, role: next.role)
            let targets = try NotaryParser.targets(env)
            try env.verify(keys: next.keys, authorized: next.authorized)
            try fresh(next.role, targets.common)
            seen[next.role] = targets.common.version
            expires = min(expires, targets.common.expires)
            var tags: [String: String] = [:]
            for (name, t) in targets.targets where next.paths.map({ ps in ps.contains { name.hasPrefix($0) } }) ?? true {
                tags[name] = t.sha256
            }
            signed[next.role] = tags
            for d in targets.delegations where seen[d.name] == nil && !queue.contains(where: { $0.role == d.name }) {
                // A delegation may only narrow its delegator's paths.
                let paths = next.paths.map { parent in d.paths.filter { p in parent.contains { p.hasPrefix($0) } } } ?? d.paths
                queue.append((d.name, targets.delegationKeys, d.keys, paths))
            }
        }
        // The repository is known by its GUN and the root key that vouches for it (not by the server's address).
        try versions.accept(repository: "\(gun) \(pinnedIDs.sorted().joined(separator: ","))", seen)
        return NotaryTrustData(gun: gun, rootVersion: root.common.version, signedTargets: signed, expires: expires)
    }
}

/// The highest version of each role seen per repository (GUN and pinned root key), kept for the process's life: trust data
/// whose versions go backwards is a rollback (a replayed older, still-signed state) and is refused.
public final class NotaryVersions: @unchecked Sendable {
    private let lock = NSLock()
    private var highest: [String: [String: Int]] = [:]

    public init() {}

    func accept(repository key: String, _ versions: [String: Int]) throws {
        lock.lock(); defer { lock.unlock() }
        let known = highest[key] ?? [:]
        for (role, v) in versions.sorted(by: { $0.key < $1.key }) {
            if let old = known[role], v < old {
                throw TUFError.rollback(role: role, detail: "version \(v) is lower than version \(old) seen before")
            }
        }
        highest[key] = known.merging(versions, uniquingKeysWith: max)
    }
}

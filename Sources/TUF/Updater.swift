import Foundation

/// Limits an application sets (the specification's X, Y, Z): every download has one, so a repository or a man in
/// the middle serving endless data costs at most this many bytes.
public struct UpdaterConfig: Sendable {
    public var maxRootRotations = 256
    public var maxDelegations = 32
    public var rootMaxLength = 512_000
    public var timestampMaxLength = 16_384
    public var snapshotMaxLength = 2_000_000
    public var targetsMaxLength = 5_000_000
    /// Under consistent snapshots targets are fetched as `HASH.NAME`; a repository may opt out.
    public var prefixTargetsWithHash = true

    public init() {}
}

/// The TUF client workflow (specification §5) over a fetcher and a local metadata directory: refresh the
/// top-level roles, then look targets up through the delegation graph and download them verified.
public final class Updater {
    public let store: MetadataStore
    public let metadataBaseURL: URL
    public let targetBaseURL: URL?
    public let targetDirectory: URL?
    public let config: UpdaterConfig
    private let fetcher: TUFFetcher
    public private(set) var trusted: TrustedMetadataSet
    private var refreshed = false

    /// Loads `root.json` from `metadataDirectory` as the trusted root; `now` is the update's fixed start time.
    public init(metadataDirectory: URL, metadataBaseURL: URL, targetBaseURL: URL? = nil, targetDirectory: URL? = nil,
                fetcher: TUFFetcher, now: Date = Date(), config: UpdaterConfig = UpdaterConfig()) throws {
        store = MetadataStore(directory: metadataDirectory)
        self.metadataBaseURL = metadataBaseURL
        self.targetBaseURL = targetBaseURL
        self.targetDirectory = targetDirectory
        self.fetcher = fetcher
        self.config = config
        guard let rootData = store.load(role: TopLevelRole.root) else {
            throw TUFError.storage(path: store.url(role: TopLevelRole.root).path, detail: "no trusted root (run init first)")
        }
        trusted = try TrustedMetadataSet(rootData: rootData, referenceTime: now)
    }

    /// Top-level update: root (one version at a time), timestamp, snapshot, targets. Runs once per updater, as the
    /// workflow is defined for one fixed start time.
    public func refresh() throws {
        guard !refreshed else { return }
        try loadRoot()
        try loadTimestamp()
        try loadSnapshot()
        _ = try loadTargets(TopLevelRole.targets, delegator: TopLevelRole.root)
        refreshed = true
    }

    // MARK: top-level roles

    private func loadRoot() throws {
        let start = trusted.root
        let first = start.common.version + 1
        for version in first..<(first + config.maxRootRotations) {
            let data: Data
            do {
                data = try download("\(version).root.json", limit: config.rootMaxLength, role: "root v\(version)")
            } catch TUFError.notFound {
                break  // the trusted root is the newest the repository has (§5.3.3)
            }
            try trusted.updateRoot(data)
            try store.save(role: TopLevelRole.root, data)
        }
        try trusted.checkRootFresh()
        // §5.3.11 fast-forward recovery: new timestamp or snapshot keys mean the cached versions may come from an
        // attacker who held the old keys and pushed versions sky-high; forget them rather than keep them as floors.
        let now = trusted.root
        if now.common.version != start.common.version {
            if Self.keysChanged(TopLevelRole.timestamp, start, now) || Self.keysChanged(TopLevelRole.snapshot, start, now) {
                store.remove(role: TopLevelRole.timestamp)
                store.remove(role: TopLevelRole.snapshot)
            }
            if Self.keysChanged(TopLevelRole.targets, start, now) { store.remove(role: TopLevelRole.targets) }
        }
    }

    static func keysChanged(_ role: String, _ a: Root, _ b: Root) -> Bool {
        guard let ra = a.roles[role], let rb = b.roles[role] else { return true }
        let ka = Set(ra.keyIDs.map { a.keys[$0]?.identity ?? "missing:\($0)" })
        let kb = Set(rb.keyIDs.map { b.keys[$0]?.identity ?? "missing:\($0)" })
        return ka != kb || Set(ra.keyIDs) != Set(rb.keyIDs) || ra.threshold != rb.threshold
    }

    private func loadTimestamp() throws {
        // The cached timestamp, even expired, is the floor for the new one's versions (rollback protection).
        if let local = store.load(role: TopLevelRole.timestamp) { _ = try? trusted.updateTimestamp(local) }
        let data = try download("timestamp.json", limit: config.timestampMaxLength, role: TopLevelRole.timestamp)
        if try trusted.updateTimestamp(data) { try store.save(role: TopLevelRole.timestamp, data) }
    }

    private func loadSnapshot() throws {
        if let local = store.load(role: TopLevelRole.snapshot) {
            do {
                try trusted.updateSnapshot(local, trusted: true)
                return  // still the one the timestamp names: nothing to download
            } catch {
                // Stale or no longer verifiable; if it verified it stays loaded as the rollback floor.
            }
        }
        guard let meta = trusted.timestamp?.snapshotMeta else { throw TUFError.usage("no trusted timestamp") }
        let name = trusted.root.consistentSnapshot ? "\(meta.version).snapshot.json" : "snapshot.json"
        let data = try download(name, limit: meta.length ?? config.snapshotMaxLength, role: TopLevelRole.snapshot)
        try trusted.updateSnapshot(data)
        try store.save(role: TopLevelRole.snapshot, data)
    }

    private func loadTargets(_ role: String, delegator: String) throws -> Targets {
        if trusted.isLoaded(role, by: delegator), let t = trusted.targetsRoles[role] { return t }
        if let local = store.load(role: role), let t = try? trusted.updateTargets(local, role: role, delegator: delegator) {
            return t
        }
        guard let meta = trusted.snapshot?.meta["\(role).json"] else {
            throw TUFError.malformed(role: role, detail: "delegated by \(delegator) but the snapshot does not list \(role).json")
        }
        let file = FileNames.encode(role)
        let name = trusted.root.consistentSnapshot ? "\(meta.version).\(file).json" : "\(file).json"
        let data = try download(name, limit: meta.length ?? config.targetsMaxLength, role: role)
        let t = try trusted.updateTargets(data, role: role, delegator: delegator)
        try store.save(role: role, data)
        return t
    }

    private func download(_ name: String, limit: Int, role: String) throws -> Data {
        try fetch(Self.join(metadataBaseURL, name), limit: limit, name: role)
    }

    private func fetch(_ url: URL, limit: Int, name: String) throws -> Data {
        do {
            return try fetcher.fetch(url: url, maxBytes: limit)
        } catch let e as FetchError {
            switch e {
            case .notFound(let u): throw TUFError.notFound(url: u.absoluteString)
            case .tooLarge: throw TUFError.tooLarge(name: name, limit: limit)
            case .failed(let u, let why): throw TUFError.download(url: u.absoluteString, detail: why)
            }
        } catch let e as TUFError {
            throw e
        } catch {
            throw TUFError.download(url: url.absoluteString, detail: "\(error)")
        }
    }

    /// `relative` under `base` (a folder, with or without its trailing slash).
    public static func join(_ base: URL, _ relative: String) -> URL {
        let b = base.absoluteString.hasSuffix("/") ? base.absoluteString : base.absoluteString + "/"
        return URL(string: b + relative) ?? base.appendingPathComponent(relative)
    }

    // MARK: targets

    /// §5.6.7: pre-order depth-first search of the delegation graph, starting at the top-level targets role.
    /// A visited role is skipped (cycles), at most `maxDelegations` roles are visited, and a matching terminating
    /// delegation ends backtracking to the roles after it. Nil when no trusted role lists the path.
    public func targetInfo(_ path: String) throws -> TargetFile? {
        try refresh()
        var stack: [(role: String, delegator: String)] = [(TopLevelRole.targets, TopLevelRole.root)]
        var visited = Set<String>()
        while visited.count <= config.maxDelegations, let next = stack.popLast() {
            let (role, delegator) = next
            if visited.contains(role) { continue }
            let targets = try loadTargets(role, delegator: delegator)
            if let file = targets.targets[path] { return file }
            visited.insert(role)
            guard let delegations = targets.delegations else { continue }
            var children: [(role: String, delegator: String)] = []
            for child in delegations.roles where child.isDelegated(path) {
                children.append((child.name, role))
                if child.terminating {
                    stack.removeAll()
                    break
                }
            }
            stack.append(contentsOf: children.reversed())
        }
        return nil
    }

    /// Where a target is stored in the target directory: its path percent-encoded into one file name.
    public func localURL(for target: TargetFile) throws -> URL {
        guard let targetDirectory else { throw TUFError.usage("no target directory configured") }
        return targetDirectory.appendingPathComponent(FileNames.encode(target.path))
    }

    /// The stored copy if it still has the target's length and hashes.
    public func cachedTarget(_ target: TargetFile) throws -> URL? {
        let url = try localURL(for: target)
        guard let data = FileManager.default.contents(atPath: url.path), (try? FileChecks.check(target, data)) != nil else { return nil }
        return url
    }

    /// Downloads (at most `target.length` bytes), verifies and stores one target; returns its local file.
    @discardableResult
    public func downloadTarget(_ target: TargetFile) throws -> URL {
        guard let targetBaseURL else { throw TUFError.usage("no target base URL configured") }
        var segments = target.path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if trusted.root.consistentSnapshot && config.prefixTargetsWithHash, let last = segments.popLast() {
            segments.append("\(target.hashes[0].digest).\(last)")
        }
        let allowed = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))
        let relative = segments.map { $0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0 }.joined(separator: "/")
        let data = try fetch(Self.join(targetBaseURL, relative), limit: target.length, name: target.path)
        try FileChecks.check(target, data)
        let url = try localURL(for: target)
        try MetadataStore.writeAtomically(data, to: url)
        return url
    }
}

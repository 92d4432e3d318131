import Foundation
import ImagePolicy
import SigstoreTUF
import SigstoreVerify
import TUF

/// Resolves authorities' `trustRootRef` names against the TrustRoot objects currently loaded (from `--policy`
/// files and, with `--watch-policies`, from the cluster): `sigstoreKeys` converted once per content, `remote` and
/// `repository` kept current over TUF (one `TUFTrustedRoot` per TrustRoot and content, refreshed in the background).
///
///     verifier.trustRoots = TrustRootCatalog(tuf: environment) { store.current.trustRoots }.lookup
///
/// Malformed keys, an unreachable TUF repository with no last good root, and two different TrustRoots of one name
/// (a file and the cluster) fail closed with the reason. The trusted root's fingerprint is its content hash, so a
/// rotation published over TUF changes the verification cache's keys at once.
public final class TrustRootCatalog: @unchecked Sendable {
    /// How TUF-based TrustRoots are fetched and cached.
    public struct TUFEnvironment: Sendable {
        /// Parent of each repository's cache folder (metadata, the verified trusted root).
        public var cacheDirectory: URL
        public var refreshInterval: TimeInterval = 3600
        /// The fetcher for `remote` mirrors (https with the system roots, http, file).
        public var fetcher: any TUFFetcher
        public var clock: @Sendable () -> Date = { Date() }

        public init(cacheDirectory: URL, fetcher: any TUFFetcher) {
            self.cacheDirectory = cacheDirectory
            self.fetcher = fetcher
        }

        /// The trusted root of the repository at `metadataURL` (its targets under `targets`) in this environment:
        /// its cache folder, refresh period and clock; `fetcher` when the repository is not a mirror.
        public func trustedRoot(metadataURL: URL, targets: String = "targets", initialRoot: Data, targetName: String = "trusted_root.json",
                                fetcher: (any TUFFetcher)? = nil, label: String) -> TUFTrustedRoot {
            var settings = TUFTrustedRoot.Settings(metadataURL: metadataURL, targetsURL: Updater.join(metadataURL, targets), initialRoot: initialRoot,
                                                   cacheDirectory: cacheDirectory, fetcher: fetcher ?? self.fetcher, label: label)
            settings.targetName = targetName
            settings.refreshInterval = refreshInterval
            settings.clock = clock
            return TUFTrustedRoot(settings)
        }
    }

    private let current: @Sendable () -> [TrustRoot]
    private let tuf: TUFEnvironment?
    private let lock = NSLock()
    private var converted: [String: (keys: JSONValue, root: Result<TrustedRoot, CosignVerificationError>)] = [:]
    private var tufSources: [String: (repository: TrustRoot.TUFRepository, source: Result<TUFTrustedRoot, CosignVerificationError>)] = [:]

    public init(tuf: TUFEnvironment? = nil, _ current: @escaping @Sendable () -> [TrustRoot]) {
        self.tuf = tuf
        self.current = current
    }

    /// A `CosignAuthorityVerifier.TrustRootLookup`.
    public var lookup: CosignAuthorityVerifier.TrustRootLookup { { [self] name in try self.root(named: name) } }

    public func root(named name: String) throws -> TrustedRoot? {
        let matching = current().filter { $0.name == name }
        guard let first = matching.first else { return nil }
        if matching.contains(where: { $0.material != first.material }) {
            let places = matching.map { $0.source.description }.joined(separator: ", ")
            throw CosignVerificationError.configuration("trust root \"\(name)\" is defined more than once, differently (\(places))")
        }
        switch first.material {
        case .sigstoreKeys(let keys):
            return try convert(name, keys).get()
        case .tuf(let repository):
            let source = try tufSource(name, repository).get()
            do { return try source.current() } catch {
                throw CosignVerificationError.configuration("trust root \"\(name)\" (spec.\(repository.field)): \(error)")
            }
        }
    }

    /// The TUF-based TrustRoots in use, by name: what /readyz and the metrics report.
    public var tufRoots: [(name: String, root: TUFTrustedRoot)] {
        lock.lock(); defer { lock.unlock() }
        return tufSources.compactMap { name, entry in (try? entry.source.get()).map { (name, $0) } }.sorted { $0.name < $1.name }
    }

    private func convert(_ name: String, _ keys: JSONValue) -> Result<TrustedRoot, CosignVerificationError> {
        lock.lock(); defer { lock.unlock() }
        if let cached = converted[name], cached.keys == keys { return cached.root }
        let result: Result<TrustedRoot, CosignVerificationError>
        do { result = .success(try TrustedRoot(sigstoreKeys: Data(keys.jsonString.utf8))) } catch {
            result = .failure(.configuration("trust root \"\(name)\" spec.sigstoreKeys: \(error)"))
        }
        converted[name] = (keys, result)
        return result
    }

    private func tufSource(_ name: String, _ repository: TrustRoot.TUFRepository) -> Result<TUFTrustedRoot, CosignVerificationError> {
        lock.lock(); defer { lock.unlock() }
        if let cached = tufSources[name], cached.repository == repository { return cached.source }
        let result = Result { try makeSource(name, repository) }.mapError { error in
            error as? CosignVerificationError ?? .configuration("trust root \"\(name)\" spec.\(repository.field): \(error)")
        }
        tufSources[name] = (repository, result)
        return result
    }

    private func makeSource(_ name: String, _ repository: TrustRoot.TUFRepository) throws -> TUFTrustedRoot {
        guard let tuf else { throw CosignVerificationError.configuration("trust root \"\(name)\" uses spec.\(repository.field), but TUF is not configured here") }
        guard let root = Data(base64Encoded: repository.root.filter { !$0.isWhitespace }) else {
            throw CosignVerificationError.configuration("trust root \"\(name)\" spec.\(repository.field).root: not base64")
        }
        let label = "TrustRoot \"\(name)\" spec.\(repository.field)"
        switch repository.location {
        case .mirror(let mirror):
            guard let url = URL(string: mirror) else {
                throw CosignVerificationError.configuration("trust root \"\(name)\" spec.remote.mirror: not a URL: \(mirror)")
            }
            return tuf.trustedRoot(metadataURL: url, targets: repository.targets, initialRoot: root, targetName: repository.trustedRootTarget, label: label)
        case .serialized(let mirrorFS):
            let archive = try SerializedRepository(mirrorFS: mirrorFS)
            return tuf.trustedRoot(metadataURL: SerializedRepository.baseURL, targets: repository.targets, initialRoot: root,
                                   targetName: repository.trustedRootTarget, fetcher: archive.fetcher, label: label)
        }
    }
}

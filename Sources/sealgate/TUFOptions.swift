import ArgumentParser
import Foundation
import ImageVerification
import SealgateCore
import SigstoreTUF
import SigstoreVerify
import TUF

/// Trust roots over TUF, for `serve`, the file commands and the verify commands: `--tuf-mirror` keeps the default
/// trusted root current from a repository's `trusted_root.json`; TrustRoot objects with `remote`/`repository`
/// use the same cache folder, refresh period and clock.
struct TUFOptions: ParsableArguments {
    @Option(name: .customLong("tuf-mirror"), help: "TUF repository to keep the default trusted root current from (e.g. https://tuf-repo-cdn.sigstore.dev): its trusted_root.json target. Default: none, the embedded trusted_root.json (or --trusted-root).")
    var mirror = env("TUF_MIRROR")

    @Option(name: .customLong("tuf-root"), help: "Initial TUF root.json of --tuf-mirror. Default: the embedded Sigstore public-good root.")
    var root = env("TUF_ROOT")

    @Option(name: .customLong("tuf-cache"), help: "Folder for TUF metadata and the last good trusted roots (kept across restarts; used when the repository cannot be reached). Default: $TMPDIR/sealgate-tuf.")
    var cache = env("TUF_CACHE")

    @Option(name: .customLong("tuf-refresh"), help: "Seconds between TUF refreshes (also refreshed when the repository's metadata expires).")
    var refresh = env("TUF_REFRESH").flatMap(Double.init) ?? 3600

    func validate() throws {
        guard refresh > 0 else { throw ValidationError("--tuf-refresh must be a positive number of seconds") }
        if root != nil, mirror == nil { throw ValidationError("--tuf-root needs --tuf-mirror") }
    }

    /// SEALGATE_TUF_NOW pins the TUF clock (as for `sealgate tuf`): tests check expiry against a fixed time.
    static func clock() throws -> @Sendable () -> Date {
        guard let text = env("TUF_NOW") else { return { Date() } }
        guard let pinned = RFC3339.parse(text) else { throw ValidationError("SEALGATE_TUF_NOW: \"\(text)\" is not an RFC 3339 time") }
        return { pinned }
    }

    func environment(caBundle: String? = nil) throws -> TrustRootCatalog.TUFEnvironment {
        let folder = cache.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("sealgate-tuf")
        let ca = try caBundle.map { path -> Data in
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read CA bundle \(path)") }
            return data
        }
        var environment = TrustRootCatalog.TUFEnvironment(cacheDirectory: folder, fetcher: try HTTPFetcher(caBundlePEM: ca, timeoutSeconds: 10))
        environment.refreshInterval = refresh
        environment.clock = try Self.clock()
        return environment
    }

    /// The default trusted root: `--trusted-root`, else the current root of `--tuf-mirror` (verified at start; the
    /// last good cached one when the mirror cannot be reached; the embedded one when neither exists, with a warning),
    /// else the embedded one. The source is returned for /readyz and the metrics.
    func defaultRoot(trustedRootPath: String?, environment: TrustRootCatalog.TUFEnvironment,
                     warn: (String) -> Void) throws -> (root: @Sendable () -> TrustedRoot, source: TUFTrustedRoot?) {
        guard let mirror else {
            let fixed = try trustedRootOption(trustedRootPath)
            return ({ fixed }, nil)
        }
        guard trustedRootPath == nil else { throw ValidationError("--trusted-root and --tuf-mirror are alternatives: give one") }
        guard let url = URL(string: mirror), ["http", "https", "file"].contains(url.scheme?.lowercased() ?? "") else {
            throw ValidationError("--tuf-mirror must be an http, https or file URL, got \"\(mirror)\"")
        }
        let initialRoot: Data
        if let root {
            guard let data = FileManager.default.contents(atPath: root) else { throw ValidationError("--tuf-root: cannot read \(root)") }
            initialRoot = data
        } else {
            initialRoot = try TUFTrustedRoot.publicGoodTUFRoot()
        }
        let source = environment.trustedRoot(metadataURL: url, initialRoot: initialRoot, label: "--tuf-mirror \(mirror)")
        let embedded = try TrustedRoot.publicGood()
        do {
            let first = try source.refresh()
            if first.fromCache, let error = source.status.lastError {
                warn("TUF refresh failed, using the last good trusted root verified \(first.verifiedAt): \(error)")
            }
        } catch {
            warn("TUF refresh failed and no good trusted root is cached; using the embedded trusted_root.json until a refresh succeeds: \(error)")
        }
        return ({ (try? source.current()) ?? embedded }, source)
    }
}

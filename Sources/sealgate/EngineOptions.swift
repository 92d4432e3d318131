import Admission
import ArgumentParser
import Dispatch
import Foundation
import ImagePolicy
import ImageReference
import ImageVerification
import Logging
import Registry
import SigstoreVerify

extension AdmissionSettings.Mode: ExpressibleByArgument {}
extension AdmissionSettings.NoMatch: ExpressibleByArgument {}
extension AdmissionSettings.Pinning: ExpressibleByArgument {}
extension AdmissionSettings.PinScope: ExpressibleByArgument {}

/// The engine's options, one group for `serve`, `explain` and `apply` (and its verification part for `test`): the
/// same flags give the same decisions, so what `serve --pinning digest --fail-open` answered can be replayed.
/// Each also reads `SEALGATE_<OPTION>` from the environment, as serve always did.
struct EngineOptions: ParsableArguments {
    @Option(name: .customLong("policy"), help: "Policy file or directory (repeatable). Defaults to ./policies when present.")
    var policies: [String] = env("POLICY").map { $0.split(separator: ",").map(String.init) } ?? []

    @Option(help: "enforce (deny what fails), warn (allow with warnings) or audit (allow, record what would be denied).")
    var mode = envEnum("MODE", AdmissionSettings.Mode.enforce)

    @Option(help: "Images no policy covers: allow, warn or deny.")
    var noMatch = envEnum("NO_MATCH", AdmissionSettings.NoMatch.allow)

    @Option(help: "Digest pinning by /mutate: tag-digest (repo:tag@sha256:…), digest (repo@sha256:…) or none.")
    var pinning = envEnum("PINNING", AdmissionSettings.Pinning.tagDigest)

    @Option(help: "Which workloads /mutate pins: all, pods (controllers stay as written: no GitOps drift) or require-digest (never patch; deny matched images given by tag).")
    var pinScope = envEnum("PIN_SCOPE", AdmissionSettings.PinScope.all)

    @Flag(help: "Allow (with a warning) when verification cannot finish: registry down, timeout. Default is to deny (fail closed).")
    var failOpen = envFlag("FAIL_OPEN")

    @Option(help: "Seconds a successful verification is reused (capped by the trust material's validity). 0 disables the verification cache.")
    var verificationCacheTTL = env("VERIFICATION_CACHE_TTL").flatMap(Double.init) ?? 600

    @Option(help: "Seconds a permanent verification failure (no signature, wrong key or identity) is reused. Transient failures are never reused.")
    var failureCacheTTL = env("FAILURE_CACHE_TTL").flatMap(Double.init) ?? 30

    @OptionGroup var verification: VerificationOptions

    var registry: RegistryOptions { verification.registry }

    func validate() throws {
        // An environment value that is not one of the choices is an error, as a flag's would be.
        try checkEnvEnum("MODE", AdmissionSettings.Mode.self)
        try checkEnvEnum("NO_MATCH", AdmissionSettings.NoMatch.self)
        try checkEnvEnum("PINNING", AdmissionSettings.Pinning.self)
        try checkEnvEnum("PIN_SCOPE", AdmissionSettings.PinScope.self)
    }

    func settings() -> AdmissionSettings {
        var settings = AdmissionSettings()
        settings.mode = mode
        settings.noMatch = noMatch
        settings.pinning = pinning
        settings.pinScope = pinScope
        settings.failOpen = failOpen
        return settings
    }

    var cacheSettings: VerificationCache.Settings {
        var cache = VerificationCache.Settings()
        cache.positiveTTL = verificationCacheTTL
        cache.negativeTTL = failureCacheTTL
        return cache
    }

    /// The policy paths given, or ./policies when present.
    func policyPaths() throws -> [String] {
        let paths = policies.isEmpty && FileManager.default.fileExists(atPath: "policies") ? ["policies"] : policies
        guard !paths.isEmpty else { throw ValidationError("no policies: pass --policy FILE|DIR (or run where ./policies exists)") }
        return paths
    }

    /// Loads the policies (every error is a usage error naming file and field) and builds the decider.
    func makeDecider(adjustContext: PolicyDecider.ContextAdjustment? = nil) throws -> PolicyDecider {
        try verification.makeDecider(policyPaths: try policyPaths(), settings: settings(), cache: cacheSettings, adjustContext: adjustContext)
    }

    /// The one way the engine is assembled (serve, explain, test and apply): resolver and verifier over `source`,
    /// TrustRoots from the store, the verification cache in front.
    func makeEngine(store: PolicyStore, source: any ImageSource, secrets: CosignAuthorityVerifier.SecretLookup? = nil) throws -> (Engine, VerificationCache, TrustRootStatus) {
        try verification.makeEngine(store: store, source: source, settings: settings(), cache: cacheSettings, secrets: secrets)
    }
}

func envEnum<T: RawRepresentable>(_ name: String, _ fallback: T) -> T where T.RawValue == String {
    env(name).flatMap(T.init(rawValue:)) ?? fallback
}

func checkEnvEnum<T: RawRepresentable & CaseIterable>(_ name: String, _ type: T.Type) throws where T.RawValue == String {
    guard let value = env(name), T(rawValue: value) == nil else { return }
    throw ValidationError("SEALGATE_\(name) must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(value)\"")
}

/// Where verification reads from and what it trusts: `--trusted-root` or `--tuf-mirror`, registry flags, or `--offline DIR`.
struct VerificationOptions: ParsableArguments {
    @Option(help: "Sigstore trusted_root.json (Fulcio CAs, Rekor and CT log keys, TSAs). Default: the embedded Sigstore public-good root.")
    var trustedRoot = env("TRUSTED_ROOT")

    @Option(help: "Serve registry lookups from this OCI image layout (written by sealgate save) instead of the network.")
    var offline: String?

    @OptionGroup var tuf: TUFOptions

    @OptionGroup var registry: RegistryOptions

    /// The offline layout, or the network registry (`policies` select cloud credential providers).
    func makeSource(policies: (@Sendable () -> PolicySet)? = nil) throws -> any ImageSource {
        guard let offline else { return try RegistryClient(configuration: try registry.configuration(policies: policies)) }
        do { return try OCILayout(directory: offline) } catch let e as RegistryError { throw ValidationError("--offline: \(e.detail)") }
    }

    func makeDecider(policyPaths: [String], settings: AdmissionSettings, cache: VerificationCache.Settings = .init(),
                     adjustContext: PolicyDecider.ContextAdjustment? = nil) throws -> PolicyDecider {
        let quiet = Logger(label: "sealgate", factory: { _ in SwiftLogNoOpLogHandler() })
        let store = PolicyStore(paths: policyPaths, logger: quiet)
        if let error = store.reload() { throw ValidationError(error) }
        let (engine, _, _) = try makeEngine(store: store, source: try makeSource { store.current }, settings: settings, cache: cache)
        return PolicyDecider(engine: engine, logger: quiet, adjustContext: adjustContext)
    }

    /// Resolver and cosign verifier over `source` (TrustRoots from the store, secrets from the cluster when given),
    /// the verification cache in front; registry calls bounded by --registry-timeout and the decision's deadline.
    func makeEngine(store: PolicyStore, source: any ImageSource, settings: AdmissionSettings, cache: VerificationCache.Settings,
                    secrets: CosignAuthorityVerifier.SecretLookup? = nil) throws -> (Engine, VerificationCache, TrustRootStatus) {
        let environment = try tuf.environment(caBundle: registry.registryCA)
        let (defaultRoot, mirror) = try tuf.defaultRoot(trustedRootPath: trustedRoot, environment: environment) {
            FileHandle.standardError.write(Data("sealgate: warning: \($0)\n".utf8))
        }
        var verifier = CosignAuthorityVerifier(source: source, trustedRoot: defaultRoot(), timeout: registry.timeout,
                                               secrets: secrets ?? { _, _ in nil })
        verifier.defaultTrustedRoot = defaultRoot
        let catalog = TrustRootCatalog(tuf: environment) { store.current.trustRoots }
        verifier.trustRoots = catalog.lookup
        let cached = VerificationCache(wrapping: verifier, settings: cache)
        let engine = Engine(store: store, resolver: SourceDigestResolver(source: source), verifier: cached, settings: settings)
        return (engine, cached, TrustRootStatus(mirror: mirror, catalog: catalog))
    }
}

/// `path`'s trusted_root.json, or the embedded Sigstore public-good root.
func trustedRootOption(_ path: String?) throws -> TrustedRoot {
    guard let path else { return try TrustedRoot.publicGood() }
    guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("--trusted-root: cannot read \(path)") }
    do { return try TrustedRoot(json: data) } catch { throw ValidationError("--trusted-root \(path): \(error)") }
}

/// Runs a command body; input and policy problems become one clear line and exit 2 (not ArgumentParser's usage dump).
func usageErrors(_ command: String, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ValidationError {
        FileHandle.standardError.write(Data("sealgate \(command): \(error.message)\n".utf8))
        throw ExitCode(2)
    }
}

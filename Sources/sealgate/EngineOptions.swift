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

/// Flags of CLI commands that run the webhook's engine on files (explain, test, apply): the same
/// policies, trust root and registry settings give the same decisions as `serve`.
struct EngineOptions: ParsableArguments {
    @Option(name: .customLong("policy"), help: "Policy file or directory (repeatable). Defaults to ./policies when present.")
    var policies: [String] = []

    @Option(help: "enforce, warn or audit (as serve --mode).")
    var mode = "enforce"

    @Option(help: "Images no policy covers: allow, warn or deny.")
    var noMatch = "allow"

    @OptionGroup var verification: VerificationOptions

    var registry: RegistryOptions { verification.registry }

    func settings() throws -> AdmissionSettings {
        var settings = AdmissionSettings()
        guard let m = AdmissionSettings.Mode(rawValue: mode) else { throw ValidationError("--mode must be enforce, warn or audit") }
        guard let n = AdmissionSettings.NoMatch(rawValue: noMatch) else { throw ValidationError("--no-match must be allow, warn or deny") }
        settings.mode = m
        settings.noMatch = n
        return settings
    }

    /// The policy paths given, or ./policies when present.
    func policyPaths() throws -> [String] {
        let paths = policies.isEmpty && FileManager.default.fileExists(atPath: "policies") ? ["policies"] : policies
        guard !paths.isEmpty else { throw ValidationError("no policies: pass --policy FILE|DIR (or run where ./policies exists)") }
        return paths
    }

    /// Loads the policies (every error is a usage error naming file and field) and builds the decider.
    func makeDecider() throws -> PolicyDecider {
        try verification.makeDecider(policyPaths: try policyPaths(), settings: try settings())
    }
}

/// Where verification reads from and what it trusts: `--trusted-root`, registry flags, or `--offline DIR`.
struct VerificationOptions: ParsableArguments {
    @Option(help: "Sigstore trusted_root.json. Default: the embedded Sigstore public-good root.")
    var trustedRoot: String?

    @Option(help: "Serve registry lookups from this OCI image layout (written by sealgate save) instead of the network.")
    var offline: String?

    @OptionGroup var registry: RegistryOptions

    /// The offline layout, or the network registry.
    func makeSource() throws -> any ImageSource {
        guard let offline else { return try registry.makeClient() }
        do { return try OCILayout(directory: offline) } catch let e as RegistryError { throw ValidationError("--offline: \(e.detail)") }
    }

    func makeDecider(policyPaths: [String], settings: AdmissionSettings, adjustContext: PolicyDecider.ContextAdjustment? = nil) throws -> PolicyDecider {
        let quiet = Logger(label: "sealgate", factory: { _ in SwiftLogNoOpLogHandler() })
        let store = PolicyStore(paths: policyPaths, logger: quiet)
        if let error = store.reload() { throw ValidationError(error) }
        let source = try makeSource()
        var verifier = CosignAuthorityVerifier(source: source, trustedRoot: try trustedRootOption(trustedRoot), timeout: registry.timeout)
        verifier.trustRoots = TrustRootCatalog { store.current.trustRoots }.lookup
        return PolicyDecider(store: store, resolver: SourceDigestResolver(source: source), verifier: VerificationCache(wrapping: verifier),
                             settings: settings, logger: quiet, adjustContext: adjustContext)
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

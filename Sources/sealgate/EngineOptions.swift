import Admission
import ArgumentParser
import Foundation
import ImagePolicy
import ImageVerification
import Logging
import Registry
import SigstoreVerify

/// Flags of CLI commands that run the webhook's engine on files (explain, test, apply): the same
/// policies, trust root and registry settings give the same decisions as `serve`.
struct EngineOptions: ParsableArguments {
    @Option(name: .customLong("policy"), help: "Policy file or directory (repeatable). Defaults to ./policies when present.")
    var policies: [String] = []

    @Option(help: "Sigstore trusted_root.json. Default: the embedded Sigstore public-good root.")
    var trustedRoot: String?

    @Option(help: "enforce, warn or audit (as serve --mode).")
    var mode = "enforce"

    @Option(help: "Images no policy covers: allow, warn or deny.")
    var noMatch = "allow"

    @OptionGroup var registry: RegistryOptions

    func settings() throws -> AdmissionSettings {
        var settings = AdmissionSettings()
        guard let m = AdmissionSettings.Mode(rawValue: mode) else { throw ValidationError("--mode must be enforce, warn or audit") }
        guard let n = AdmissionSettings.NoMatch(rawValue: noMatch) else { throw ValidationError("--no-match must be allow, warn or deny") }
        settings.mode = m
        settings.noMatch = n
        return settings
    }

    /// Loads the policies (every error is a usage error naming file and field) and builds the decider.
    func makeDecider() throws -> PolicyDecider {
        let paths = policies.isEmpty && FileManager.default.fileExists(atPath: "policies") ? ["policies"] : policies
        guard !paths.isEmpty else { throw ValidationError("no policies: pass --policy FILE|DIR (or run where ./policies exists)") }
        let quiet = Logger(label: "sealgate", factory: { _ in SwiftLogNoOpLogHandler() })
        let store = PolicyStore(paths: paths, logger: quiet)
        if let error = store.reload() { throw ValidationError(error) }
        let client = try registry.makeClient()
        let verifier = CosignAuthorityVerifier(registry: client, trustedRoot: try loadTrustedRoot(trustedRoot), timeout: registry.timeout)
        return PolicyDecider(store: store, resolver: RegistryDigestResolver(client: client), verifier: VerificationCache(wrapping: verifier),
                             settings: try settings(), logger: quiet)
    }
}

/// `path`'s trusted_root.json, or the embedded Sigstore public-good root.
func loadTrustedRoot(_ path: String?) throws -> TrustedRoot {
    guard let path else { return try TrustedRoot.publicGood() }
    guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("--trusted-root: cannot read \(path)") }
    do { return try TrustedRoot(json: data) } catch { throw ValidationError("--trusted-root \(path): \(error)") }
}

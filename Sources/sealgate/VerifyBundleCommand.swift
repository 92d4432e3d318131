import ArgumentParser
import Foundation
import SigstoreVerify

/// `sealgate verify-bundle`: the sigstore-conformance CLI protocol.
/// Exit 0 verified, 1 rejected (reason on stderr), 2 usage error.
///
/// Arguments are captured raw and parsed by `Options` inside `run()` so that usage errors exit 2
/// (ArgumentParser's default for validation errors is 64).
struct VerifyBundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-bundle",
        abstract: "Verify a Sigstore bundle against an artifact (offline).",
        discussion: "Usage: \(Options.helpUsage)",
        helpNames: []
    )

    @Argument(parsing: .captureForPassthrough, help: "Options and FILE_OR_DIGEST; see --help.")
    var arguments: [String] = []

    /// A command type only so usage text says "sealgate verify-bundle"; it is parsed, never run.
    struct Options: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "sealgate verify-bundle")
        static let helpUsage = "sealgate verify-bundle --bundle FILE (--certificate-identity ID | --certificate-identity-regexp RE) (--certificate-oidc-issuer URL | --certificate-oidc-issuer-regexp RE) [--key PEM] [--trusted-root FILE] [--offline] FILE_OR_DIGEST"

        @Option(help: "Sigstore bundle JSON file.") var bundle: String
        @Option(name: .customLong("certificate-identity"), help: "Expected certificate SAN (exact).") var identity: String?
        @Option(name: .customLong("certificate-identity-regexp"), help: "Expected certificate SAN (regular expression).") var identityRegexp: String?
        @Option(name: .customLong("certificate-oidc-issuer"), help: "Expected OIDC issuer (exact).") var issuer: String?
        @Option(name: .customLong("certificate-oidc-issuer-regexp"), help: "Expected OIDC issuer (regular expression).") var issuerRegexp: String?
        @Option(help: "PEM public key for key-based bundles.") var key: String?
        @Option(name: .customLong("trusted-root"), help: "trusted_root.json (default: embedded Sigstore public good).") var trustedRoot: String?
        @Flag(help: "Accepted for compatibility; verification is always offline.") var offline = false
        @Option(name: .customLong("repeat"), help: .hidden) var repeatCount: Int = 1
        @Argument(help: "Artifact path, or sha256:<hex>.") var artifact: String

        mutating func validate() throws {
            if key == nil {
                guard (identity == nil) != (identityRegexp == nil) else {
                    throw ValidationError("exactly one of --certificate-identity or --certificate-identity-regexp is required")
                }
                guard (issuer == nil) != (issuerRegexp == nil) else {
                    throw ValidationError("exactly one of --certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required")
                }
            }
            guard repeatCount >= 1 else { throw ValidationError("--repeat must be at least 1") }
        }
    }

    func run() throws {
        let options: Options
        do {
            options = try Options.parse(arguments)
        } catch {
            let code = Options.exitCode(for: error)
            let message = Options.fullMessage(for: error)
            if code == .success {
                print(message)
                throw ExitCode.success
            }
            FileHandle.standardError.write(Data("error: \(message)\nusage: \(Options.helpUsage)\n".utf8))
            throw ExitCode(2)
        }
        do {
            let (bundle, artifact, policy, root) = try load(options)
            let verifier = BundleVerifier(trustedRoot: root)
            let start = DispatchTime.now().uptimeNanoseconds
            var result = try verifier.verify(bundle: bundle, artifact: artifact, policy: policy, at: Date())
            for _ in 1..<options.repeatCount {
                result = try verifier.verify(bundle: bundle, artifact: artifact, policy: policy, at: Date())
            }
            if options.repeatCount > 1 {
                let micros = Double(DispatchTime.now().uptimeNanoseconds - start) / 1000 / Double(options.repeatCount)
                print(String(format: "%.1f µs/verification over %d runs", micros, options.repeatCount))
            }
            var line = "verified"
            if let san = result.subjectAlternativeName { line += ": \(san) (issuer \(result.oidcIssuer ?? "?"))" }
            print(line)
        } catch let error as SigstoreError {
            FileHandle.standardError.write(Data("rejected: \(error.description)\n".utf8))
            throw ExitCode(1)
        } catch let error as UsageError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode(2)
        }
    }

    struct UsageError: Error { var message: String }

    private func load(_ o: Options) throws -> (SigstoreBundle, Artifact, VerificationPolicy, TrustedRoot) {
        func read(_ path: String, _ what: String) throws -> Data {
            guard let d = FileManager.default.contents(atPath: path) else { throw UsageError(message: "cannot read \(what) '\(path)'") }
            return d
        }
        let root = try o.trustedRoot.map { try TrustedRoot(json: read($0, "trusted root")) } ?? TrustedRoot.publicGood()
        let bundle = try SigstoreBundle(json: read(o.bundle, "bundle"))

        let artifact: Artifact
        if o.artifact.hasPrefix("sha256:") {
            guard let d = Encoding.hexDigest(String(o.artifact.dropFirst(7))), d.count == 32 else {
                throw UsageError(message: "invalid sha256 digest '\(o.artifact)'")
            }
            artifact = .digest(.sha256, d)
        } else {
            artifact = .bytes(try read(o.artifact, "artifact"))
        }

        let policy: VerificationPolicy
        if let keyPath = o.key {
            guard let pem = String(data: try read(keyPath, "key"), encoding: .utf8) else { throw UsageError(message: "key is not PEM text") }
            policy = .key(try PublicKey(pem: pem))
        } else {
            let san: StringMatcher = try o.identity.map { .exact($0) } ?? StringMatcher.regexp(o.identityRegexp!)
            let iss: StringMatcher = try o.issuer.map { .exact($0) } ?? StringMatcher.regexp(o.issuerRegexp!)
            policy = .identity(CertificateIdentity(issuer: iss, subjectAlternativeName: san))
        }
        return (bundle, artifact, policy, root)
    }
}

import ArgumentParser
import Foundation
import ImageVerification
import SigstoreVerify

// Shared by verify-blob, verify-provenance and verify-tlog: argument parsing with our exit codes,
// input loading (usage errors, exit 2) and one-line explanations of rejections (exit 1).

/// A problem with the command line or an input file: exit 2.
struct ArtifactUsageError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// An input file that was read but cannot be used (malformed key, trust root, certificate): exit 1, like
/// `verify-bundle`, which rejects such inputs rather than calling them usage errors.
struct RejectedInput: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Parses `arguments` as `O` for commands that pass their arguments through (verify, verify-attestation,
/// verify-blob, ...); help exits 0, usage errors exit 2 (not ArgumentParser's 64).
func parseCommandOptions<O: ParsableCommand>(_ type: O.Type, _ arguments: [String], usage: String) throws -> O {
    do {
        return try O.parse(arguments)
    } catch {
        let message = O.fullMessage(for: error)
        if O.exitCode(for: error) == .success {
            print(message)
            throw ExitCode.success
        }
        FileHandle.standardError.write(Data("error: \(message)\nusage: \(usage)\n".utf8))
        throw ExitCode(2)
    }
}

/// Runs `body`; usage errors exit 2, verification failures exit 1 with `explain`'s one-line reason.
func runArtifactCommand(explain: (Error) -> String, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as ArtifactUsageError {
        FileHandle.standardError.write(Data("error: \(e.description)\n".utf8))
        throw ExitCode(2)
    } catch let e as ExitCode {
        throw e
    } catch {
        FileHandle.standardError.write(Data("Error: \(explain(error))\n".utf8))
        throw ExitCode(1)
    }
}

func readInput(_ path: String, _ what: String) throws -> Data {
    guard let d = FileManager.default.contents(atPath: path) else { throw ArtifactUsageError("cannot read \(what) '\(path)'") }
    return d
}

/// `--trusted-root` (default: embedded public good), with `--certificate-chain` replacing its Fulcio CAs.
func loadTrustedRoot(_ path: String?, certificateChain: String? = nil) throws -> TrustedRoot {
    var root: TrustedRoot
    if let path {
        let data = try readInput(path, "trusted root")
        do { root = try TrustedRoot(json: data) } catch { throw RejectedInput("trusted root '\(path)': \(error)") }
    } else {
        do { root = try TrustedRoot.publicGood() } catch { throw ArtifactUsageError("embedded trusted root: \(error)") }
    }
    if let chain = certificateChain {
        let pem = String(decoding: try readInput(chain, "certificate chain"), as: UTF8.self)
        do { root = try CosignCheckOptions.trustedRoot(root, replacingFulcioWith: pem) } catch {
            throw RejectedInput("certificate chain '\(chain)': \(error)")
        }
    }
    return root
}

func loadPublicKey(_ path: String) throws -> PublicKey {
    let pem = String(decoding: try readInput(path, "key"), as: UTF8.self)
    do { return try PublicKey(pem: pem) } catch { throw RejectedInput("key '\(path)': \(error)") }
}

/// An artifact given as a file path, or as `sha256:<hex>` (only its digest is known).
struct ArtifactInput {
    var label: String
    var artifact: Artifact
    var sha256: Data

    init(_ arg: String) throws {
        label = arg
        if arg.hasPrefix("sha256:") {
            guard let d = Encoding.hexDigest(String(arg.dropFirst(7))), d.count == 32 else {
                throw ArtifactUsageError("invalid sha256 digest '\(arg)'")
            }
            artifact = .digest(.sha256, d)
            sha256 = d
        } else {
            let bytes = try readInput(arg, "artifact")
            artifact = .bytes(bytes)
            sha256 = HashAlgorithm.sha256.hash(bytes)
        }
    }

    var digestString: String { "sha256:" + sha256.map { String(format: "%02x", $0) }.joined() }
}

/// cosign's four keyless identity flags (`verify`, `verify-attestation`, `verify-blob`, `verify-provenance`).
struct KeylessIdentityFlags: ParsableArguments {
    @Option(name: .customLong("certificate-identity"), help: "Keyless: expected certificate identity (SAN), exact.")
    var identity: String?
    @Option(name: .customLong("certificate-identity-regexp"), help: "Keyless: expected certificate identity, regular expression.")
    var identityRegexp: String?
    @Option(name: .customLong("certificate-oidc-issuer"), help: "Keyless: expected OIDC issuer, exact.")
    var issuer: String?
    @Option(name: .customLong("certificate-oidc-issuer-regexp"), help: "Keyless: expected OIDC issuer, regular expression.")
    var issuerRegexp: String?
}

/// cosign's certificate identity flags, including the GitHub workflow extension matchers.
struct CertificateIdentityFlags: ParsableArguments {
    @OptionGroup var keyless: KeylessIdentityFlags
    var identity: String? { keyless.identity }
    var identityRegexp: String? { keyless.identityRegexp }
    var issuer: String? { keyless.issuer }
    var issuerRegexp: String? { keyless.issuerRegexp }
    @Option(name: .customLong("certificate-github-workflow-trigger"), help: "Expected GitHub workflow trigger (OID .2), e.g. push.")
    var githubTrigger: String?
    @Option(name: .customLong("certificate-github-workflow-sha"), help: "Expected GitHub workflow commit SHA (OID .3).")
    var githubSHA: String?
    @Option(name: .customLong("certificate-github-workflow-name"), help: "Expected GitHub workflow name (OID .4).")
    var githubName: String?
    @Option(name: .customLong("certificate-github-workflow-repository"), help: "Expected GitHub workflow repository (OID .5), e.g. org/repo.")
    var githubRepository: String?
    @Option(name: .customLong("certificate-github-workflow-ref"), help: "Expected GitHub workflow ref (OID .6), e.g. refs/tags/v1.")
    var githubRef: String?

    var github: GitHubWorkflowMatchers {
        GitHubWorkflowMatchers(trigger: githubTrigger, sha: githubSHA, name: githubName, repository: githubRepository, ref: githubRef)
    }

    var hasIdentity: Bool { identity != nil || identityRegexp != nil }

    /// The identity to require, or nil when no identity flag was given (callers decide the default).
    func certificateIdentity(defaultIssuer: String? = nil) throws -> CertificateIdentity? {
        guard hasIdentity || issuer != nil || issuerRegexp != nil else { return nil }
        do {
            let san: StringMatcher = try identity.map { .exact($0) } ?? identityRegexp.map(StringMatcher.regexp) ?? .regex(".*")
            let iss: StringMatcher = try issuer.map { .exact($0) } ?? issuerRegexp.map(StringMatcher.regexp) ?? .exact(defaultIssuer ?? "")
            return CertificateIdentity(issuer: iss, subjectAlternativeName: san)
        } catch { throw ArtifactUsageError("\(error)") }
    }

    /// cosign's rule: keyless needs exactly one identity flag and exactly one issuer flag.
    func validateKeyless() throws {
        guard (identity == nil) != (identityRegexp == nil) else {
            throw ValidationError("exactly one of --key, --certificate-identity or --certificate-identity-regexp is required")
        }
        guard (issuer == nil) != (issuerRegexp == nil) else {
            throw ValidationError("exactly one of --certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required")
        }
    }

    func validateNotWithKey() throws {
        guard !hasIdentity, issuer == nil, issuerRegexp == nil, github.isEmpty else {
            throw ValidationError("--key cannot be combined with certificate identity flags")
        }
    }
}

/// What a rejection message can draw on; a class so the command body can fill it in while `explain` reads it.
final class RejectionContext {
    var artifacts: [ArtifactInput] = []
    var bundle: SigstoreBundle?
    var identity: CertificateIdentity?
    var verifiedTimestamps = 0
}

/// The troubleshooting cases users hit most, each in one line with the value found.
func explainRejection(_ error: Error, _ c: RejectionContext) -> String {
    let cert: FulcioCertificate? = {
        if case .certificate(let leaf)? = c.bundle?.signer { return leaf }
        return nil
    }()
    let artifact = c.artifacts.map { "\($0.label) (\($0.digestString))" }.joined(separator: ", ")
    guard let e = error as? SigstoreError else { return "\(error)" }
    switch e {
    case .certificateIdentityMismatch, .certificateIssuerMismatch:
        let want = c.identity.map { "SAN '\($0.subjectAlternativeName)' issuer '\($0.issuer)'" } ?? "?"
        return "identity mismatch: expected \(want), found SAN '\(cert?.subjectAlternativeName ?? "")' issuer '\(cert?.issuer ?? "")'"
    case .signatureInvalid(let why):
        return "no matching signatures: \(why) (artifact \(artifact.isEmpty ? "none" : artifact))"
    case .certificateExpired(let at, let nb, let na) where c.verifiedTimestamps == 0:
        return "certificate expired: valid \(iso8601(nb)) to \(iso8601(na)), checked at \(iso8601(at)); "
            + "there is no transparency log proof or timestamp showing it was used while valid"
    case .artifactDigestMismatch:
        var expected = "?"
        if case .messageSignature(let d?, _)? = c.bundle?.content { expected = "\(d.0.rawValue):\(d.1.map { String(format: "%02x", $0) }.joined())" }
        return "wrong digest: artifact \(artifact) does not match the signed digest \(expected)"
    case .subjectDigestMismatch:
        return "wrong digest: artifact \(artifact) is not a subject of the attestation"
    case .tlogBodyMismatch(let why) where why.contains("artifact digest"):
        return "wrong digest: the transparency log entry records another artifact than \(artifact)"
    case .tlogEntryMissing:
        return "no transparency log proof: the signature has no Rekor entry (sealgate verifies offline; pass a bundle "
            + "with a log entry, or --insecure-ignore-tlog)"
    default:
        return e.description
    }
}

func iso8601(_ d: Date) -> String { Encoding.iso8601(d) }

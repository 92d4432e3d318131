import ArgumentParser
import Foundation
import ImageReference
import ImageVerification
import Registry
import SigstoreVerify

/// Signer and trust flags shared by `verify` and `verify-attestation` (cosign's names).
struct CosignAuthorityOptions: ParsableArguments {
    @Option(help: "PEM public key (ECDSA, RSA or Ed25519) the signature must verify with.")
    var key: String?
    @OptionGroup var keyless: KeylessIdentityFlags
    var identity: String? { keyless.identity }
    var identityRegexp: String? { keyless.identityRegexp }
    var issuer: String? { keyless.issuer }
    var issuerRegexp: String? { keyless.issuerRegexp }
    @Option(name: .customLong("trusted-root"), help: "trusted_root.json (default: embedded Sigstore public good).")
    var trustedRoot: String?
    @OptionGroup var tuf: TUFOptions
    @Option(name: .customLong("certificate-chain"), help: "Keyless: PEM CA chain to trust instead of the trusted root's Fulcio CAs.")
    var certificateChain: String?
    @Flag(name: .customLong("insecure-ignore-tlog"), help: "Do not require a transparency log (Rekor) entry.")
    var ignoreTlog = false
    @Flag(name: .customLong("insecure-ignore-sct"), help: "Do not require an embedded certificate transparency SCT.")
    var ignoreSCT = false
    @Option(name: [.customShort("a"), .customLong("annotations")], help: "key=value that must be in the signed payload's annotations (repeatable).")
    var annotations: [String] = []
    @Option(name: .customLong("signature-digest-algorithm"), help: "Key-based: hash the signer used (sha256, sha384, sha512).")
    var digestAlgorithm: String?
    @Option(help: "Output format: json or text.")
    var output = "json"
    @OptionGroup var registry: RegistryOptions

    func validateAuthority() throws {
        if key != nil {
            guard identity == nil, identityRegexp == nil, certificateChain == nil else {
                throw ValidationError("--key cannot be combined with --certificate-identity(-regexp) or --certificate-chain")
            }
        } else {
            guard (identity == nil) != (identityRegexp == nil) else {
                throw ValidationError("exactly one of --key, --certificate-identity or --certificate-identity-regexp is required")
            }
            guard (issuer == nil) != (issuerRegexp == nil) else {
                throw ValidationError("exactly one of --certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required")
            }
        }
        guard output == "json" || output == "text" else { throw ValidationError("--output must be json or text") }
        for a in annotations where !a.contains("=") { throw ValidationError("-a expects key=value, got \"\(a)\"") }
        if let d = digestAlgorithm, HashAlgorithm(name: d) == nil {
            throw ValidationError("--signature-digest-algorithm must be sha256, sha384 or sha512")
        }
    }

    /// Check options; file and flag problems are usage errors.
    func checkOptions() throws -> CosignCheckOptions {
        func read(_ path: String, _ what: String) throws -> Data {
            guard let d = FileManager.default.contents(atPath: path) else { throw VerifyUsageError("cannot read \(what) '\(path)'") }
            return d
        }
        var root: TrustedRoot
        do {
            if tuf.mirror != nil {
                let environment = try tuf.environment(caBundle: registry.registryCA)
                root = try tuf.defaultRoot(trustedRootPath: trustedRoot, environment: environment) {
                    FileHandle.standardError.write(Data("warning: \($0)\n".utf8))
                }.root()
            } else {
                root = try trustedRoot.map { try TrustedRoot(json: read($0, "trusted root")) } ?? TrustedRoot.publicGood()
            }
        } catch let e as VerifyUsageError { throw e } catch let e as ValidationError { throw VerifyUsageError(e.message) } catch {
            throw VerifyUsageError("trusted root: \(error)")
        }
        let signer: CosignSigner
        if let key {
            let pem = String(decoding: try read(key, "key"), as: UTF8.self)
            do { signer = .publicKey(try PublicKey(pem: pem)) } catch { throw VerifyUsageError("key '\(key)': \(error)") }
        } else {
            do {
                let san: StringMatcher = try identity.map { .exact($0) } ?? StringMatcher.regexp(identityRegexp!)
                let iss: StringMatcher = try issuer.map { .exact($0) } ?? StringMatcher.regexp(issuerRegexp!)
                signer = .keyless([CertificateIdentity(issuer: iss, subjectAlternativeName: san)])
            } catch { throw VerifyUsageError("\(error)") }
            if let chain = certificateChain {
                do {
                    root = try CosignCheckOptions.trustedRoot(root, replacingFulcioWith: String(decoding: try read(chain, "certificate chain"), as: UTF8.self))
                } catch let e as VerifyUsageError { throw e } catch { throw VerifyUsageError("certificate chain: \(error)") }
            }
        }
        var required: [String: String] = [:]
        for a in annotations {
            let parts = a.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            required[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        let repo = ProcessInfo.processInfo.environment["COSIGN_REPOSITORY"].flatMap { $0.isEmpty ? nil : $0 }
        var options = CosignCheckOptions(signer: signer, trustedRoot: root, ignoreTlog: ignoreTlog, ignoreSCT: ignoreSCT,
                                         requiredAnnotations: required, signatureRepository: repo, now: Date())
        options.hashAlgorithm = digestAlgorithm.flatMap(HashAlgorithm.init(name:))
        return options
    }
}

struct VerifyUsageError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Runs `body` per image with a registry client; exit 1 if any image fails, 2 for usage errors.
private func runPerImage(_ images: [String], authority: CosignAuthorityOptions,
                         _ body: (CosignVerifier, CosignCheckOptions, ImageRef, String, Deadline) -> ImageVerificationResult) throws {
    let options: CosignCheckOptions
    let client: RegistryClient
    do {
        options = try authority.checkOptions()
        client = try authority.registry.makeClient()
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(2)
    }
    let verifier = CosignVerifier(registry: client)
    let deadline = Deadline.after(seconds: authority.registry.timeout)
    var failed = false
    var json: [Any] = []
    for image in images {
        let ref: ImageRef
        do { ref = try ImageRef(parsing: image) } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let digest: String
        do { digest = try client.resolve(ref, deadline: deadline).digest } catch {
            failed = true
            printError("\(image): \(error)")
            continue
        }
        let result = body(verifier, options, ref, digest, deadline)
        guard result.passed else {
            failed = true
            printError("\(image): \(result.summary)")
            continue
        }
        if authority.output == "text" {
            printError("Verification for \(ref.name)@\(digest) --")
            for c in result.verified {
                var line = "verified \(result.predicateType == nil ? "signature" : "attestation") (\(c.source))"
                if let s = c.certificateSubject { line += " subject \(s) issuer \(c.certificateIssuer ?? "?")" }
                if let p = c.predicateType { line += " predicate \(p)" }
                print(line)
            }
        } else {
            json.append(contentsOf: result.verified.map { jsonObject($0, attestation: result.predicateType != nil) })
        }
    }
    if authority.output == "json", !json.isEmpty,
       let data = try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes]) {
        print(String(decoding: data, as: UTF8.self))
    }
    if failed { throw ExitCode(1) }
}

/// cosign-style output: the simple-signing payload (with Subject/Issuer added to `optional` for keyless),
/// or the DSSE envelope for attestations.
private func jsonObject(_ c: SignatureCheck, attestation: Bool) -> Any {
    if attestation {
        if let env = c.envelopeJSON, let o = try? JSONSerialization.jsonObject(with: env) { return o }
        return [:] as [String: Any]
    }
    var o: [String: Any] = [:]
    if let p = c.payload, let parsed = try? JSONSerialization.jsonObject(with: p) as? [String: Any] { o = parsed }
    var optional = o["optional"] as? [String: Any] ?? [:]
    if let s = c.certificateSubject { optional["Subject"] = s }
    if let i = c.certificateIssuer { optional["Issuer"] = i }
    if !optional.isEmpty { o["optional"] = optional }
    if o.isEmpty { o["source"] = c.source.description }
    return o
}

/// `sealgate verify`: cosign-compatible image signature verification.
struct VerifyCommand: ParsableCommand {
    static let usage = "sealgate verify [--key PEM | --certificate-identity(-regexp) X --certificate-oidc-issuer(-regexp) Y] [--trusted-root F | --tuf-mirror URL [--tuf-root F]] [--certificate-chain PEM] [--insecure-ignore-tlog] [--insecure-ignore-sct] [-a k=v]... [--output json|text] [--insecure-registry H] IMAGE..."
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify cosign signatures of container images (exit 0 verified, 1 not, 2 usage error).",
        discussion: "Usage: \(usage)\nDocker Content Trust: \(VerifyNotaryOptions.usage)",
        helpNames: []
    )

    @Argument(parsing: .captureForPassthrough, help: "Options and IMAGE...; see --help.")
    var arguments: [String] = []

    struct Options: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "sealgate verify")
        @OptionGroup var authority: CosignAuthorityOptions
        @Argument(help: "Image references (tag or digest).") var images: [String]
        mutating func validate() throws {
            try authority.validateAuthority()
            guard !images.isEmpty else { throw ValidationError("at least one IMAGE is required") }
        }
    }

    func run() throws {
        if VerifyNotaryOptions.isNotary(arguments) {
            try parseCommandOptions(VerifyNotaryOptions.self, arguments, usage: VerifyNotaryOptions.usage).run()
            return
        }
        let o = try parseCommandOptions(Options.self, arguments, usage: Self.usage)
        try runPerImage(o.images, authority: o.authority) { verifier, options, ref, digest, deadline in
            verifier.verifySignatures(image: ref, digest: digest, options: options, deadline: deadline)
        }
    }
}

/// `sealgate verify-attestation`: cosign-compatible in-toto attestation verification.
struct VerifyAttestationCommand: ParsableCommand {
    static let usage = "sealgate verify-attestation [--type T] [--key PEM | --certificate-identity(-regexp) X --certificate-oidc-issuer(-regexp) Y] [--trusted-root F | --tuf-mirror URL [--tuf-root F]] [--certificate-chain PEM] [--insecure-ignore-tlog] [--insecure-ignore-sct] [--output json|text] IMAGE..."
    static let configuration = CommandConfiguration(
        commandName: "verify-attestation",
        abstract: "Verify cosign in-toto attestations of container images (exit 0 verified, 1 not, 2 usage error).",
        discussion: "Usage: \(usage)",
        helpNames: []
    )

    @Argument(parsing: .captureForPassthrough, help: "Options and IMAGE...; see --help.")
    var arguments: [String] = []

    struct Options: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "sealgate verify-attestation")
        @Option(help: "Predicate type: slsaprovenance, slsaprovenance02, slsaprovenance1, spdx, spdxjson, cyclonedx, link, vuln, openvex, custom, or a URI.")
        var type = "custom"
        @OptionGroup var authority: CosignAuthorityOptions
        @Argument(help: "Image references (tag or digest).") var images: [String]
        mutating func validate() throws {
            try authority.validateAuthority()
            guard !images.isEmpty else { throw ValidationError("at least one IMAGE is required") }
            do { _ = try PredicateType.resolve(type) } catch { throw ValidationError("\(error)") }
        }
    }

    func run() throws {
        let o = try parseCommandOptions(Options.self, arguments, usage: Self.usage)
        let predicate = try PredicateType.resolve(o.type)
        try runPerImage(o.images, authority: o.authority) { verifier, options, ref, digest, deadline in
            verifier.verifyAttestations(image: ref, digest: digest, predicateType: predicate, options: options, deadline: deadline)
        }
    }
}

import ArgumentParser
import Foundation
import SigstoreVerify

/// `sealgate verify-blob`: cosign verify-blob, offline. Inputs become a `SigstoreBundle` and go through the
/// same `BundleVerifier` as `verify-bundle`, so both give the same verdict for the same bundle.
/// Exit 0 verified, 1 rejected (reason on stderr), 2 usage error.
struct VerifyBlobCommand: ParsableCommand {
    static let usage = "sealgate verify-blob (--bundle FILE | --signature FILE [--certificate PEM] [--rfc3161-timestamp FILE]) "
        + "(--key PEM | --certificate-identity(-regexp) X --certificate-oidc-issuer(-regexp) Y) [--certificate-github-workflow-* V]... "
        + "[--certificate-chain PEM] [--trusted-root FILE] [--insecure-ignore-tlog] [--insecure-ignore-sct] [--offline] FILE_OR_DIGEST"
    static let configuration = CommandConfiguration(
        commandName: "verify-blob",
        abstract: "Verify a signature on a file like cosign verify-blob, offline (exit 0 verified, 1 not, 2 usage error).",
        discussion: "Usage: \(usage)",
        helpNames: []
    )

    @Argument(parsing: .captureForPassthrough, help: "Options and FILE; see --help.")
    var arguments: [String] = []

    struct Options: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "sealgate verify-blob")
        @Option(help: "Sigstore bundle, or cosign's legacy --bundle JSON (base64Signature, cert, rekorBundle).") var bundle: String?
        @Option(help: "Detached signature file (base64, as cosign writes it).") var signature: String?
        @Option(help: "Signing certificate (PEM, or base64 PEM) for a detached signature.") var certificate: String?
        @Option(name: .customLong("certificate-chain"), help: "PEM CA chain to trust instead of the trusted root's Fulcio CAs.") var certificateChain: String?
        @Option(name: .customLong("rfc3161-timestamp"), help: "RFC 3161 timestamp (cosign JSON or DER) over the signature.") var timestamp: String?
        @Option(help: "PEM public key (ECDSA, RSA or Ed25519).") var key: String?
        @OptionGroup var identity: CertificateIdentityFlags
        @Option(name: .customLong("trusted-root"), help: "trusted_root.json (default: embedded Sigstore public good).") var trustedRoot: String?
        @Flag(name: .customLong("insecure-ignore-tlog"), help: "Do not require a transparency log (Rekor) entry.") var ignoreTlog = false
        @Flag(name: .customLong("insecure-ignore-sct"), help: "Do not require an embedded certificate transparency SCT.") var ignoreSCT = false
        @Flag(help: "Accepted for compatibility; verification is always offline.") var offline = false
        @Argument(help: "Artifact path, or sha256:<hex>.") var artifact: String

        mutating func validate() throws {
            guard (bundle == nil) != (signature == nil) else { throw ValidationError("exactly one of --bundle or --signature is required") }
            if key != nil {
                try identity.validateNotWithKey()
                guard certificate == nil, certificateChain == nil else { throw ValidationError("--key cannot be combined with --certificate or --certificate-chain") }
            } else {
                try identity.validateKeyless()
            }
        }
    }

    func run() throws {
        let o = try parseCommandOptions(Options.self, arguments, usage: Self.usage)
        let ctx = RejectionContext()
        try runArtifactCommand(explain: { explainRejection($0, ctx) }) {
            let root = try loadTrustedRoot(o.trustedRoot, certificateChain: o.certificateChain)
            let input = try ArtifactInput(o.artifact)
            ctx.artifacts = [input]
            // Flags and keys first: a bad key is a usage error whatever the bundle holds.
            let signer: VerificationPolicy.Signer
            if let keyPath = o.key {
                signer = .publicKey(try loadPublicKey(keyPath))
            } else {
                let id = try o.identity.certificateIdentity()!
                ctx.identity = id
                signer = .certificateIdentities([id])
            }
            let givenCert = try o.certificate.map { path in
                let data = try readInput(path, "certificate")
                do { return try BlobSignature.certificate(data) } catch { throw RejectedInput("certificate '\(path)': \(error)") }
            }
            var bundle: SigstoreBundle
            if let path = o.bundle {
                let data = try readInput(path, "bundle")
                bundle = BlobSignature.isSigstoreBundle(data) ? try SigstoreBundle(json: data) : try BlobSignature.legacyBundle(json: data, certificate: givenCert)
                if let given = givenCert, case .certificate(let leaf) = bundle.signer, leaf.der != given.der {
                    throw SigstoreError.policyMismatch("--certificate differs from the certificate in the bundle")
                }
            } else {
                bundle = BlobSignature.detached(signature: BlobSignature.signature(try readInput(o.signature!, "signature")), certificate: givenCert)
            }
            if let path = o.timestamp { bundle.rfc3161Timestamps.append(try BlobSignature.rfc3161Timestamp(try readInput(path, "timestamp"))) }
            // Like the image verifier: with --insecure-ignore-tlog an entry from an unknown log is skipped, a known one still checked.
            if o.ignoreTlog { bundle.tlogEntries.removeAll { root.tlog(id: $0.logID) == nil } }
            ctx.bundle = bundle

            // Without a tlog, cosign accepts a certificate valid now (no verified signing time needed).
            let ignoreTime = o.ignoreTlog && bundle.rfc3161Timestamps.isEmpty
            let policy = VerificationPolicy(signer: signer, tlogThreshold: o.ignoreTlog ? 0 : 1,
                                            timestampThreshold: ignoreTime ? 0 : nil, sctThreshold: o.ignoreSCT ? 0 : 1)
            ctx.verifiedTimestamps = bundle.tlogEntries.count + bundle.rfc3161Timestamps.count
            let result = try BundleVerifier(trustedRoot: root).verify(bundle: bundle, artifact: input.artifact, policy: policy, at: Date())
            if let cert = result.certificate { try o.identity.github.check(cert) }
            print("Verified OK")
            if let san = result.subjectAlternativeName { print("identity: \(san) (issuer \(result.oidcIssuer ?? "?"))") }
            if let e = result.tlogEntries.first { print("tlog entry: index \(e.logIndex)") }
        }
    }
}

import ArgumentParser
import Foundation
import SigstoreVerify

/// `sealgate verify-provenance`: slsa-verifier verify-artifact semantics, offline, for file artifacts (or
/// `sha256:<hex>` digests, e.g. an image digest) against a provenance file. Exit 0 verified, 1 not, 2 usage error.
struct VerifyProvenanceCommand: ParsableCommand {
    static let usage = "sealgate verify-provenance --provenance-path FILE --source-uri URI [--source-tag T | --source-versioned-tag vX[.Y[.Z]] | --source-branch B] "
        + "[--builder-id ID] [--key PEM | --certificate-identity(-regexp) X [--certificate-oidc-issuer(-regexp) Y]] [--trusted-root FILE] "
        + "[--insecure-ignore-tlog] [--print-provenance] [--offline] ARTIFACT..."
    static let configuration = CommandConfiguration(
        commandName: "verify-provenance",
        abstract: "Verify SLSA provenance (v0.2, v1) for artifacts like slsa-verifier verify-artifact (exit 0 verified, 1 not, 2 usage error).",
        discussion: """
        Usage: \(usage)
        The provenance may be a Sigstore bundle, a DSSE envelope (needs --key) or .intoto.jsonl. Keyless provenance must be \
        signed by its builder (certificate identity = provenance builder id, issuer GitHub Actions) unless \
        --certificate-identity(-regexp) names another signer.
        """,
        helpNames: []
    )

    static let githubIssuer = "https://token.actions.githubusercontent.com"

    @Argument(parsing: .captureForPassthrough, help: "Options and ARTIFACT...; see --help.")
    var arguments: [String] = []

    struct Options: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "sealgate verify-provenance")
        @Option(name: .customLong("provenance-path"), help: "Provenance: Sigstore bundle, DSSE envelope or .intoto.jsonl.") var provenancePath: String
        @Option(name: .customLong("source-uri"), help: "Expected source repository, e.g. github.com/org/repo.") var sourceURI: String
        @Option(name: .customLong("source-tag"), help: "Expected git tag, e.g. v1.2.3.") var sourceTag: String?
        @Option(name: .customLong("source-versioned-tag"), help: "Expected semver tag prefix: v1, v1.2 or v1.2.3.") var sourceVersionedTag: String?
        @Option(name: .customLong("source-branch"), help: "Expected git branch, e.g. main.") var sourceBranch: String?
        @Option(name: .customLong("builder-id"), help: "Expected builder id (with @ref to pin its version).") var builderID: String?
        @Option(help: "PEM public key, for key-signed provenance.") var key: String?
        @OptionGroup var identity: CertificateIdentityFlags
        @Option(name: .customLong("trusted-root"), help: "trusted_root.json (default: embedded Sigstore public good).") var trustedRoot: String?
        @Flag(name: .customLong("insecure-ignore-tlog"), help: "Do not require a transparency log (Rekor) entry.") var ignoreTlog = false
        @Flag(name: .customLong("print-provenance"), help: "Print the verified in-toto statement.") var printProvenance = false
        @Flag(help: "Accepted for compatibility; verification is always offline.") var offline = false
        @Argument(help: "Artifact paths, or sha256:<hex>.") var artifacts: [String] = []

        mutating func validate() throws {
            guard !artifacts.isEmpty else { throw ValidationError("at least one ARTIFACT is required") }
            guard !sourceURI.isEmpty else { throw ValidationError("--source-uri must not be empty") }
            guard [sourceTag, sourceVersionedTag, sourceBranch].compactMap({ $0 }).count <= 1 else {
                throw ValidationError("--source-tag, --source-versioned-tag and --source-branch are mutually exclusive")
            }
            if let v = sourceVersionedTag, !SLSAExpectations.isValidVersionedTag(v) {
                throw ValidationError("--source-versioned-tag '\(v)' is not vMAJOR[.MINOR[.PATCH]]")
            }
            if key != nil { try identity.validateNotWithKey() }
        }
    }

    func run() throws {
        let o = try parseCommandOptions(Options.self, arguments, usage: Self.usage)
        let ctx = RejectionContext()
        try runArtifactCommand(explain: { explainRejection($0, ctx) }) {
            let root = try loadTrustedRoot(o.trustedRoot)
            let inputs = try o.artifacts.map(ArtifactInput.init)
            ctx.artifacts = inputs
            let key = try o.key.map(loadPublicKey)
            let explicitIdentity = try o.identity.certificateIdentity(defaultIssuer: Self.githubIssuer)
            let items = try ProvenanceFile.parse(try readInput(o.provenancePath, "provenance"))
            let expect = SLSAExpectations(sourceURI: o.sourceURI, builderID: o.builderID, sourceTag: o.sourceTag,
                                          sourceBranch: o.sourceBranch, sourceVersionedTag: o.sourceVersionedTag)

            // .intoto.jsonl may hold several attestations: the first that passes every check wins.
            var firstError: Error?
            for item in items {
                do {
                    let (statement, prov) = try verify(item, o: o, root: root, key: key, identity: explicitIdentity, inputs: inputs, expect: expect, ctx: ctx)
                    print("Verified signature of provenance \(o.provenancePath)")
                    print("Verified build using builder \"\(prov.builderID)\" at commit \(prov.sourceCommit ?? "(not recorded)")")
                    print("source: \(prov.sourceURI)\(prov.sourceRef.map { " (ref \($0))" } ?? "")")
                    if o.printProvenance, let env = statement { print(String(decoding: env, as: UTF8.self)) }
                    print("PASSED: SLSA verification passed")
                    return
                } catch {
                    if firstError == nil { firstError = error }
                }
            }
            throw firstError!
        }
    }

    /// Signature, subject digests, then slsa-verifier's builder and source checks. Returns the statement JSON.
    private func verify(_ item: ProvenanceFile.Item, o: Options, root: TrustedRoot, key: PublicKey?, identity: CertificateIdentity?,
                        inputs: [ArtifactInput], expect: SLSAExpectations, ctx: RejectionContext) throws -> (Data?, SLSAProvenance) {
        let bundle: SigstoreBundle
        switch item {
        case .bundle(let b): bundle = b
        case .envelope(let env):
            // A bare envelope has no certificate and no log entry: only a key can vouch for it.
            guard key != nil else {
                throw ArtifactUsageError("the provenance is a bare DSSE envelope with no certificate: pass --key, or use its Sigstore bundle (.sigstore.json)")
            }
            guard o.ignoreTlog else {
                throw SigstoreError.tlogEntryMissing
            }
            bundle = SigstoreBundle(mediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1", version: .v0_1,
                                    signer: .publicKey(hint: ""), tlogEntries: [], rfc3161Timestamps: [], content: .dsse(env))
        }
        ctx.bundle = bundle
        let signer: VerificationPolicy.Signer
        if let key {
            signer = .publicKey(key)
        } else {
            // Default: any identity here, bound to the provenance's builder below (slsa-verifier trusts the builder that signed).
            let id = identity ?? CertificateIdentity(issuer: .exact(Self.githubIssuer), subjectAlternativeName: .regex(".*"))
            ctx.identity = id
            signer = .certificateIdentities([id])
        }
        let policy = VerificationPolicy(signer: signer, tlogThreshold: o.ignoreTlog ? 0 : 1)
        ctx.verifiedTimestamps = bundle.tlogEntries.count + bundle.rfc3161Timestamps.count
        let result = try BundleVerifier(trustedRoot: root).verify(bundle: bundle, artifact: nil, policy: policy, at: Date())
        if let cert = result.certificate { try o.identity.github.check(cert) }
        guard let statement = result.statement else {
            throw ProvenanceError.malformed("DSSE payload type '\(result.envelope?.payloadType ?? "?")' is not an in-toto statement")
        }
        for input in inputs where !statement.hasSubject(digest: input.sha256, algorithm: .sha256) {
            let subjects = statement.subjects.map { "\($0.name) sha256:\($0.digest["sha256"] ?? "?")" }.joined(separator: ", ")
            throw ProvenanceError.mismatch(field: "subject digest", expected: "\(input.label) \(input.digestString)", found: subjects.isEmpty ? "(no subjects)" : subjects)
        }
        var prov = try SLSAProvenance(statement: statement)
        if let cert = result.certificate, !o.identity.hasIdentity {
            // The signer must be a trusted builder (or the one --builder-id names), or a delegator acting for it.
            prov.builderID = try SLSABuilderTrust.builder(signer: cert.subjectAlternativeName ?? "", provenanceBuilder: prov.builderID, expected: o.builderID)
        }
        try prov.check(expect)
        if let cert = result.certificate {
            // The provenance's source must be the repository that built.
            if let repo = cert.extensions.sourceRepositoryURI,
               SLSAProvenance.normalizeSourceURI(repo) != SLSAProvenance.normalizeSourceURI(prov.sourceURI) {
                throw ProvenanceError.mismatch(field: "source URI (signing certificate)", expected: repo, found: prov.sourceURI)
            }
        }
        return (result.envelope?.payload, prov)
    }
}

import ArgumentParser
import Foundation
import SigstoreVerify

/// `sealgate verify-tlog`: offline transparency-log checks of a bundle's Rekor entries, like `rekor-cli verify`:
/// inclusion proof against the signed checkpoint, SET, and (when the bundle names its signer) that the
/// logged body records this bundle's signature. Exit 0 verified, 1 rejected, 2 usage error.
struct VerifyTlogCommand: ParsableCommand {
    static let usage = "sealgate verify-tlog --bundle FILE [--trusted-root FILE | --log-key PEM] [--offline]"
    static let configuration = CommandConfiguration(
        commandName: "verify-tlog",
        abstract: "Verify a bundle's transparency log entries offline (exit 0 verified, 1 not, 2 usage error).",
        discussion: "Usage: \(usage)",
        helpNames: []
    )

    @Argument(parsing: .captureForPassthrough, help: "Options; see --help.")
    var arguments: [String] = []

    struct Options: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "sealgate verify-tlog")
        @Option(help: "Sigstore bundle, cosign legacy bundle, or cosign Rekor bundle ({SignedEntryTimestamp, Payload}).") var bundle: String
        @Option(name: .customLong("trusted-root"), help: "trusted_root.json whose tlogs are trusted (default: embedded Sigstore public good).") var trustedRoot: String?
        @Option(name: .customLong("log-key"), help: "PEM public key of the Rekor log, instead of a trusted root.") var logKey: String?
        @Flag(help: "Accepted for compatibility; verification is always offline.") var offline = false

        mutating func validate() throws {
            guard trustedRoot == nil || logKey == nil else { throw ValidationError("--trusted-root and --log-key are mutually exclusive") }
        }
    }

    func run() throws {
        let o = try parseCommandOptions(Options.self, arguments, usage: Self.usage)
        try runArtifactCommand(explain: { "\($0)" }) {
            let root: TrustedRoot
            if let path = o.logKey {
                let key = try loadPublicKey(path)
                // A bare key is trusted for all time; log ID is SHA-256 of its SPKI, Rekor's convention.
                let log = TransparencyLogInstance(baseURL: "log-key", logID: key.keyID, publicKey: key,
                                                  validFor: ValidityPeriod(start: Date(timeIntervalSince1970: 0)))
                root = TrustedRoot(tlogs: [log], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [])
            } else {
                root = try loadTrustedRoot(o.trustedRoot)
            }
            let data = try readInput(o.bundle, "bundle")
            let (entries, bundle) = try Self.entries(data)
            guard !entries.isEmpty else { throw SigstoreError.tlogEntryMissing }

            let verifier = RekorEntryVerifier(trustedRoot: root)
            for (i, entry) in entries.enumerated() {
                let r = try verifier.verify(entry)
                if let bundle {
                    // The entry must record this bundle's signature (and its certificate, when it has one).
                    let signer: RekorBodyMatcher.Signer
                    if case .certificate(let leaf) = bundle.signer { signer = .certificate(der: leaf.der) } else { signer = .recorded }
                    try RekorBodyMatcher.check(entry, content: bundle.content, signer: signer, artifact: nil)
                }
                if i > 0 { print("") }
                print("Entry Index: \(entry.logIndex)")
                print("Entry Kind: \(entry.kind) \(entry.version)")
                print("Log ID: \(entry.logID.map { String(format: "%02x", $0) }.joined())")
                if let t = entry.integratedTime {
                    print("Integrated Time: \(iso8601(Date(timeIntervalSince1970: TimeInterval(t)))) (\(t))\(r.verifiedSET ? "" : " (not covered by a SET)")")
                } else {
                    print("Integrated Time: none (Rekor v2 entry; signing time comes from an RFC 3161 timestamp)")
                }
                if let p = entry.inclusionProof {
                    print("Tree Size: \(p.treeSize)")
                    print("Root Hash: \(p.rootHash.map { String(format: "%02x", $0) }.joined())")
                    print("Inclusion Proof: verified")
                    print("Checkpoint: verified")
                } else {
                    print("Inclusion Proof: absent")
                }
                print("Signed Entry Timestamp: \(r.verifiedSET ? "verified" : "absent")")
            }
        }
    }

    /// Entries from any of the three bundle shapes, plus the Sigstore/legacy bundle when there is one.
    static func entries(_ data: Data) throws -> ([TransparencyLogEntry], SigstoreBundle?) {
        if BlobSignature.isSigstoreBundle(data) {
            let b = try SigstoreBundle(json: data)
            return (b.tlogEntries, b)
        }
        guard let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SigstoreError.malformedBundle("not a JSON object")
        }
        if o["SignedEntryTimestamp"] != nil { return ([try TransparencyLogEntry(cosignBundleJSON: data)], nil) }
        let b = try BlobSignature.legacyBundle(json: data)
        return (b.tlogEntries, b)
    }
}

import E2ESupport
import Foundation
import SigstoreTestSupport
import SigstoreVerify
import Testing
import TestSupport

/// `sealgate verify-blob` with blobs signed by the test Sigstore: every input form cosign accepts, each flag,
/// and the troubleshooting messages.
@Suite("verify-blob")
struct VerifyBlobTests {
    let blob = Data("release artifact v1.2.3\n".utf8)

    /// cosign's legacy `--bundle` output.
    static func legacyBundle(_ s: TestSigstore.Signed, withCert: Bool = true) -> Data {
        var o: [String: Any] = ["base64Signature": s.signature.base64EncodedString()]
        if withCert, let c = s.certificate { o["cert"] = Data(PEM.certificate(c).utf8).base64EncodedString() }
        if let r = s.cosignRekorBundle { o["rekorBundle"] = try! JSONSerialization.jsonObject(with: r) }
        return try! JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])
    }

    @Test("Sigstore bundle, legacy cosign bundle and --signature/--certificate are all accepted")
    func acceptsAllInputForms() throws {
        let env = try E2EWorld("artifacts", registry: .none)
        let file = try env.file(blob, "blob.txt")
        let signed = env.sigstore.signBlob(blob, env.recentOptions())
        let root = ["--trusted-root", env.trustedRootFile.path]

        var out = try env.sealgate(["verify-blob", "--bundle", try env.file(signed.bundleJSON, "b.sigstore.json")] + E2EWorld.identityFlags + root + [file])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("Verified OK"))
        #expect(out.stdout.contains(E2EWorld.subject))

        // Digest form too.
        out = try env.sealgate(["verify-blob", "--bundle", env.dir.appendingPathComponent("b.sigstore.json").path] + E2EWorld.identityFlags + root
                               + ["sha256:" + HashAlgorithm.sha256.hash(blob).hex])
        #expect(out.status == 0, "\(out.stderr)")

        let legacy = try env.file(Self.legacyBundle(signed), "legacy.bundle")
        out = try env.sealgate(["verify-blob", "--bundle", legacy, "--offline"] + E2EWorld.identityFlags + root + [file])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("tlog entry: index \(signed.tlogEntry!.logIndex)"))

        // Legacy bundle without "cert", certificate given separately.
        let noCert = try env.file(Self.legacyBundle(signed, withCert: false), "nocert.bundle")
        let certPath = try env.file(PEM.certificate(signed.certificate!), "cert.pem")
        out = try env.sealgate(["verify-blob", "--bundle", noCert, "--certificate", certPath] + E2EWorld.identityFlags + root + [file])
        #expect(out.status == 0, "\(out.stderr)")

        // Detached signature + certificate: no log proof offline, so only with --insecure-ignore-tlog (cert still valid now? no: use a fresh one).
        var fresh = env.recentOptions()
        fresh.signingTime = Date()
        fresh.tlog = false
        let now = env.sigstore.signBlob(blob, fresh)
        let sig = try env.file(now.signature.base64EncodedString(), "blob.sig")
        let cert = try env.file(PEM.certificate(now.certificate!), "now.pem")
        out = try env.sealgate(["verify-blob", "--signature", sig, "--certificate", cert, "--insecure-ignore-tlog"] + E2EWorld.identityFlags + root + [file])
        #expect(out.status == 0, "\(out.stderr)")
        out = try env.sealgate(["verify-blob", "--signature", sig, "--certificate", cert] + E2EWorld.identityFlags + root + [file])
        #expect(out.status == 1)
        #expect(out.stderr.contains("no transparency log proof"), "\(out.stderr)")

        // A --certificate that is not the bundle's signer is refused rather than ignored.
        out = try env.sealgate(["verify-blob", "--bundle", env.dir.appendingPathComponent("b.sigstore.json").path, "--certificate", cert]
                               + E2EWorld.identityFlags + root + [file])
        #expect(out.status == 1)
        #expect(out.stderr.contains("--certificate differs from the certificate in the bundle"), "\(out.stderr)")

        // --certificate-chain: the test Fulcio chain as the trust anchor.
        let chain = try env.file(env.sigstore.fulcio.chain.map(PEM.certificate).joined(), "chain.pem")
        out = try env.sealgate(["verify-blob", "--bundle", legacy, "--certificate-chain", chain] + E2EWorld.identityFlags + root + [file])
        #expect(out.status == 0, "\(out.stderr)")
    }

    @Test("--key with a key-signed Sigstore bundle and a legacy bundle; the wrong key is rejected")
    func keyBased() throws {
        let env = try E2EWorld("artifacts", registry: .none)
        let file = try env.file(blob, "blob.txt")
        var o = env.recentOptions()
        o.keyless = false
        let signed = env.sigstore.signBlob(blob, o)
        let key = try env.file(o.signingKey.publicKeyPEM, "cosign.pub")
        let root = ["--trusted-root", env.trustedRootFile.path]
        var out = try env.sealgate(["verify-blob", "--bundle", try env.file(signed.bundleJSON, "b.json"), "--key", key] + root + [file])
        #expect(out.status == 0, "\(out.stderr)")
        out = try env.sealgate(["verify-blob", "--bundle", try env.file(Self.legacyBundle(signed), "l.json"), "--key", key] + root + [file])
        #expect(out.status == 0, "\(out.stderr)")
        let other = try env.file(SigningKey.newP256().publicKeyPEM, "other.pub")
        out = try env.sealgate(["verify-blob", "--bundle", env.dir.appendingPathComponent("l.json").path, "--key", other] + root + [file])
        #expect(out.status == 1)
        #expect(out.stderr.contains("no matching signatures"), "\(out.stderr)")
    }

    @Test("troubleshooting messages: identity mismatch, wrong digest, no matching signatures, expired certificate")
    func messages() throws {
        let env = try E2EWorld("artifacts", registry: .none)
        let file = try env.file(blob, "blob.txt")
        let other = try env.file(Data("tampered".utf8), "other.txt")
        let signed = env.sigstore.signBlob(blob, env.recentOptions())
        let bundle = try env.file(signed.bundleJSON, "b.json")
        let legacy = try env.file(Self.legacyBundle(signed), "legacy.json")
        let root = ["--trusted-root", env.trustedRootFile.path]

        // Identity mismatch: expected and found SAN and issuer.
        var out = try env.sealgate(["verify-blob", "--bundle", bundle, "--certificate-identity", "https://github.com/evil/repo",
                                    "--certificate-oidc-issuer", E2EWorld.issuer] + root + [file])
        #expect(out.status == 1)
        #expect(out.stderr.contains("identity mismatch: expected SAN 'https://github.com/evil/repo' issuer '\(E2EWorld.issuer)', found SAN '\(E2EWorld.subject)' issuer '\(E2EWorld.issuer)'"), "\(out.stderr)")
        out = try env.sealgate(["verify-blob", "--bundle", bundle, "--certificate-identity", E2EWorld.subject,
                                "--certificate-oidc-issuer", "https://accounts.google.com"] + root + [file])
        #expect(out.status == 1)
        #expect(out.stderr.contains("identity mismatch: expected SAN '\(E2EWorld.subject)' issuer 'https://accounts.google.com', found SAN '\(E2EWorld.subject)' issuer '\(E2EWorld.issuer)'"), "\(out.stderr)")

        // Wrong digest: the bundle records the digest, so the message shows both.
        out = try env.sealgate(["verify-blob", "--bundle", bundle] + E2EWorld.identityFlags + root + [other])
        #expect(out.status == 1)
        let found = HashAlgorithm.sha256.hash(Data("tampered".utf8)).hex
        #expect(out.stderr.contains("wrong digest: artifact \(other) (sha256:\(found)) does not match the signed digest sha256:\(HashAlgorithm.sha256.hash(blob).hex)"), "\(out.stderr)")

        // A legacy bundle has no digest: the signature simply does not match this file.
        out = try env.sealgate(["verify-blob", "--bundle", legacy] + E2EWorld.identityFlags + root + [other])
        #expect(out.status == 1)
        #expect(out.stderr.contains("no matching signatures"), "\(out.stderr)")
        #expect(out.stderr.contains("sha256:\(found)"), "\(out.stderr)")

        // Certificate expired, no transparency proof: signed two years ago, tlog ignored.
        var old = env.sigstore.options(at: Date().addingTimeInterval(-2 * 365 * 86400))
        old.tlog = false
        let stale = env.sigstore.signBlob(blob, old)
        let sig = try env.file(stale.signature.base64EncodedString(), "old.sig")
        let cert = try env.file(PEM.certificate(stale.certificate!), "old.pem")
        out = try env.sealgate(["verify-blob", "--signature", sig, "--certificate", cert, "--insecure-ignore-tlog"] + E2EWorld.identityFlags + root + [file])
        #expect(out.status == 1)
        #expect(out.stderr.contains("certificate expired: valid "), "\(out.stderr)")
        #expect(out.stderr.contains("no transparency log proof or timestamp"), "\(out.stderr)")
    }

    @Test("GitHub workflow extension flags: matching values pass, each wrong value names flag, expected and found")
    func githubWorkflowMatchers() throws {
        let env = try E2EWorld("artifacts", registry: .none)
        let file = try env.file(blob, "blob.txt")
        let f = SLSAProvenanceFixture()
        let signed = env.sigstore.signBlob(blob, env.recentOptions(identity: f.signerIdentity))
        let bundle = try env.file(signed.bundleJSON, "b.json")
        let base = ["verify-blob", "--bundle", bundle, "--certificate-identity", f.builderID, "--certificate-oidc-issuer", E2EWorld.issuer,
                    "--trusted-root", env.trustedRootFile.path]
        let good: [(String, String)] = [("repository", f.repository), ("ref", f.ref), ("sha", f.commit), ("trigger", "push"), ("name", "release")]
        var out = try env.sealgate(base + good.flatMap { ["--certificate-github-workflow-\($0.0)", $0.1] } + [file])
        #expect(out.status == 0, "\(out.stderr)")
        for (flag, value) in good {
            out = try env.sealgate(base + ["--certificate-github-workflow-\(flag)", "wrong-\(flag)", file])
            #expect(out.status == 1, "\(flag)")
            #expect(out.stderr.contains("--certificate-github-workflow-\(flag): expected 'wrong-\(flag)', found '\(value)'"), "\(out.stderr)")
        }
    }

    @Test("--insecure-ignore-sct accepts a certificate without an SCT, which is rejected otherwise")
    func ignoreSCT() throws {
        let env = try E2EWorld("artifacts", registry: .none)
        let file = try env.file(blob, "blob.txt")
        var o = env.recentOptions()
        o.ctLog = nil
        let bundle = try env.file(env.sigstore.signBlob(blob, o).bundleJSON, "b.json")
        let args = ["verify-blob", "--bundle", bundle, "--trusted-root", env.trustedRootFile.path] + E2EWorld.identityFlags
        var out = try env.sealgate(args + [file])
        #expect(out.status == 1)
        #expect(out.stderr.contains("signed certificate timestamp"), "\(out.stderr)")
        out = try env.sealgate(args + ["--insecure-ignore-sct", file])
        #expect(out.status == 0, "\(out.stderr)")
    }

    @Test("usage errors exit 2 with a clear message; malformed inputs exit 1 with the reason, never crash")
    func usageErrors() throws {
        let env = try E2EWorld("artifacts", registry: .none)
        let file = try env.file(blob, "blob.txt")
        let cases: [([String], String)] = [
            (["verify-blob"] + E2EWorld.identityFlags + [file], "exactly one of --bundle or --signature"),
            (["verify-blob", "--bundle", "/nonexistent"] + E2EWorld.identityFlags + [file], "cannot read bundle '/nonexistent'"),
            (["verify-blob", "--bundle", file, file], "exactly one of --key, --certificate-identity"),
            (["verify-blob", "--bundle", file, "--certificate-identity", "x", file], "--certificate-oidc-issuer"),
            (["verify-blob", "--bundle", file, "--key", file, "--certificate-identity", "x", file], "--key cannot be combined"),
            (["verify-blob", "--bundle", file] + E2EWorld.identityFlags + ["sha256:zz"], "invalid sha256 digest"),
            (["verify-blob", "--bundle", file] + E2EWorld.identityFlags + ["--certificate", "/nonexistent", file], "cannot read certificate"),
        ]
        for (args, message) in cases {
            let out = try env.sealgate(args)
            #expect(out.status == 2, "\(args): \(out.status) \(out.stderr)")
            #expect(out.stderr.contains(message), "\(args): \(out.stderr)")
        }
        // Inputs that exist but are malformed are rejections (exit 1), as in verify-bundle.
        let malformed: [([String], String)] = [
            (["verify-blob", "--bundle", file, "--key", file, file], "Error: key '\(file)': malformed public key"),
            (["verify-blob", "--bundle", file] + E2EWorld.identityFlags + ["--trusted-root", file, file], "Error: trusted root '\(file)': malformed trusted root"),
            (["verify-blob", "--bundle", file] + E2EWorld.identityFlags + ["--certificate", file, file], "Error: certificate '\(file)': malformed certificate"),
            (["verify-blob", "--bundle", file] + E2EWorld.identityFlags + ["--certificate-chain", file, file], "Error: certificate chain '\(file)'"),
        ]
        for (args, message) in malformed {
            let out = try env.sealgate(args)
            #expect(out.status == 1, "\(args): \(out.status) \(out.stderr)")
            #expect(out.stderr.contains(message), "\(args): \(out.stderr)")
        }
        for junk in ["not json", "{}", #"{"base64Signature": "@@@"}"#, #"{"base64Signature": "AAAA", "cert": "bm90IGEgY2VydA=="}"#, "[1,2]"] {
            let out = try env.sealgate(["verify-blob", "--bundle", try env.file(junk, "junk.json"), "--trusted-root", env.trustedRootFile.path] + E2EWorld.identityFlags + [file])
            #expect(out.status == 1, "\(junk): \(out.status) \(out.stderr)")
            #expect(out.stderr.hasPrefix("Error: "), "\(junk): \(out.stderr)")
        }
    }
}

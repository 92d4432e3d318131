import E2ESupport
import Foundation
import SigstoreTestSupport
import SigstoreVerify
import Testing
import TestSupport

/// Acceptance 2: slsa-github-generator-shaped provenance signed by the test Sigstore, through the real binary.
@Suite("verify-provenance")
struct VerifyProvenanceTests {
    let fixture = SLSAProvenanceFixture()
    let binary = Data("#!/bin/sh\necho sealgate-demo v1.2.3\n".utf8)
    let checksums = Data("checksums for v1.2.3\n".utf8)

    struct Setup {
        let env: E2EWorld
        let artifact: String
        let second: String
        let provenance: String
        var base: [String] { ["verify-provenance", "--provenance-path", provenance, "--trusted-root", env.trustedRootFile.path] }
    }

    func setup(v02: Bool = false, identity: TestIdentity? = nil) throws -> Setup {
        let env = try E2EWorld("artifacts", registry: .none)
        let artifact = try env.file(binary, "demo-linux-amd64")
        let second = try env.file(checksums, "checksums.txt")
        let subjects = [(name: "demo-linux-amd64", sha256: HashAlgorithm.sha256.hash(binary)), (name: "checksums.txt", sha256: HashAlgorithm.sha256.hash(checksums))]
        let statement = v02 ? fixture.statementV02(subjects: subjects) : fixture.statementV1(subjects: subjects)
        let signed = env.sigstore.signDSSE(payload: statement, env.recentOptions(identity: identity ?? fixture.signerIdentity))
        return Setup(env: env, artifact: artifact, second: second, provenance: try env.file(signed.bundleJSON, "demo.intoto.sigstore.json"))
    }

    @Test("v1 provenance passes with the right source URI, tag, versioned tag and builder id, and prints builder and source")
    func acceptsV1() throws {
        let s = try setup()
        for sourceURI in ["github.com/sealgate/demo", "https://github.com/sealgate/demo", "git+https://github.com/sealgate/demo"] {
            let out = try s.env.sealgate(s.base + ["--source-uri", sourceURI, "--source-tag", "v1.2.3", "--builder-id", fixture.builderID, s.artifact])
            #expect(out.status == 0, "\(sourceURI): \(out.stderr)")
            #expect(out.stdout.contains("Verified build using builder \"\(fixture.builderID)\" at commit \(fixture.commit)"), "\(out.stdout)")
            #expect(out.stdout.contains("source: https://github.com/sealgate/demo (ref refs/tags/v1.2.3)"), "\(out.stdout)")
            #expect(out.stdout.contains("PASSED: SLSA verification passed"))
        }
        // Builder id without @ref pins the builder, not its version; versioned tags match by semver prefix; both artifacts.
        let builderName = String(fixture.builderID.split(separator: "@")[0])
        for extra in [["--builder-id", builderName], ["--source-versioned-tag", "v1"], ["--source-versioned-tag", "v1.2"],
                      ["--source-versioned-tag", "v1.2.3"], []] {
            let out = try s.env.sealgate(s.base + ["--source-uri", "github.com/sealgate/demo"] + extra + [s.artifact, s.second])
            #expect(out.status == 0, "\(extra): \(out.stderr)")
        }
        // --print-provenance shows the statement; a digest works as the artifact.
        let out = try s.env.sealgate(s.base + ["--source-uri", "github.com/sealgate/demo", "--print-provenance",
                                               "sha256:" + HashAlgorithm.sha256.hash(binary).hex])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("https://slsa.dev/provenance/v1"))
    }

    @Test("each wrong value is rejected with a message naming the field, the expected and the found value")
    func rejectsWrongValues() throws {
        let s = try setup()
        let ok = ["--source-uri", "github.com/sealgate/demo"]
        let cases: [([String], String)] = [
            (["--source-uri", "github.com/sealgate/other"],
             "source URI mismatch: expected 'github.com/sealgate/other', found 'https://github.com/sealgate/demo'"),
            (ok + ["--source-tag", "v1.2.4"], "source tag mismatch: expected 'v1.2.4', found 'v1.2.3'"),
            (ok + ["--source-branch", "main"], "source branch mismatch: expected 'main', found 'v1.2.3'"),
            (ok + ["--source-versioned-tag", "v2"], "source versioned tag mismatch: expected 'v2', found 'v1.2.3'"),
            (ok + ["--source-versioned-tag", "v1.3"], "source versioned tag mismatch: expected 'v1.3', found 'v1.2.3'"),
            (ok + ["--builder-id", "https://github.com/evil/builder/.github/workflows/b.yml"],
             "builder id (signing certificate) mismatch: expected 'https://github.com/evil/builder/.github/workflows/b.yml', found '\(fixture.builderID)'"),
            (ok + ["--builder-id", fixture.builderID.replacingOccurrences(of: "v2.0.0", with: "v1.9.0")],
             "builder id (signing certificate) mismatch: expected '\(fixture.builderID.replacingOccurrences(of: "v2.0.0", with: "v1.9.0"))', found '\(fixture.builderID)'"),
        ]
        for (flags, message) in cases {
            let out = try s.env.sealgate(s.base + flags + [s.artifact])
            #expect(out.status == 1, "\(flags): exit \(out.status) \(out.stderr)")
            #expect(out.stderr.contains(message), "\(flags): \(out.stderr)")
        }
        // Wrong artifact: names the artifact digest and the subjects found.
        let other = try s.env.file(Data("not the release".utf8), "other-binary")
        let out = try s.env.sealgate(s.base + ok + [other])
        #expect(out.status == 1)
        #expect(out.stderr.contains("subject digest mismatch: expected '\(other) sha256:\(HashAlgorithm.sha256.hash(Data("not the release".utf8)).hex)', found 'demo-linux-amd64 sha256:\(HashAlgorithm.sha256.hash(binary).hex)"), "\(out.stderr)")
    }

    @Test("v0.2 provenance passes and fails the same way")
    func v02() throws {
        let s = try setup(v02: true)
        var out = try s.env.sealgate(s.base + ["--source-uri", "github.com/sealgate/demo", "--source-tag", "v1.2.3", "--builder-id", fixture.builderID, s.artifact])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("source: git+https://github.com/sealgate/demo@refs/tags/v1.2.3 (ref refs/tags/v1.2.3)"), "\(out.stdout)")
        #expect(out.stdout.contains("at commit \(fixture.commit)"))
        out = try s.env.sealgate(s.base + ["--source-uri", "github.com/sealgate/demo", "--source-tag", "v9", s.artifact])
        #expect(out.status == 1)
        #expect(out.stderr.contains("source tag mismatch: expected 'v9', found 'v1.2.3'"), "\(out.stderr)")
    }

    @Test("provenance not signed by the builder it names is rejected unless the signer is named explicitly")
    func builderMustSign() throws {
        // Signed by an ordinary workflow that claims to be the generator.
        let s = try setup(identity: .githubWorkflow)
        var out = try s.env.sealgate(s.base + ["--source-uri", "github.com/sealgate/demo", s.artifact])
        #expect(out.status == 1)
        // slsa-verifier: without --builder-id only slsa-github-generator's builders are trusted signers.
        #expect(out.stderr.contains("builder id mismatch: expected 'a trusted slsa-github-generator builder (or pass --builder-id)', found '\(E2EWorld.subject)'"), "\(out.stderr)")
        // Naming it with --builder-id does not help: it is not the builder its provenance names, and it is not at a release tag.
        out = try s.env.sealgate(s.base + ["--builder-id", E2EWorld.subject, "--source-uri", "github.com/sealgate/demo", s.artifact])
        #expect(out.status == 1)
        #expect(out.stderr.contains("builder ref (signing certificate) mismatch: expected 'refs/tags/vX.Y.Z', found 'refs/heads/main'"), "\(out.stderr)")
        // Naming that signer accepts the signature, but its certificate's repository must still be the source.
        out = try s.env.sealgate(s.base + E2EWorld.identityFlags + ["--source-uri", "github.com/sealgate/demo", s.artifact])
        #expect(out.status == 1)
        #expect(out.stderr.contains("source URI (signing certificate) mismatch: expected 'https://github.com/sealgate/test', found 'https://github.com/sealgate/demo'"), "\(out.stderr)")
        // Naming only the issuer does not lift the builder binding.
        out = try s.env.sealgate(s.base + ["--certificate-oidc-issuer", E2EWorld.issuer, "--source-uri", "github.com/sealgate/demo", s.artifact])
        #expect(out.status == 1)
        #expect(out.stderr.contains("builder id mismatch: expected 'a trusted slsa-github-generator builder"), "\(out.stderr)")
        // A wrong explicit identity: expected vs found SAN and issuer.
        out = try s.env.sealgate(s.base + ["--certificate-identity", "https://github.com/x/y", "--source-uri", "github.com/sealgate/demo", s.artifact])
        #expect(out.status == 1)
        #expect(out.stderr.contains("identity mismatch: expected SAN 'https://github.com/x/y' issuer '\(E2EWorld.issuer)', found SAN '\(E2EWorld.subject)'"), "\(out.stderr)")
    }

    @Test(".intoto.jsonl with several attestations, and a bare DSSE envelope with --key")
    func otherProvenanceForms() throws {
        let s = try setup()
        let env = s.env
        // Line 1: provenance for some other artifact; line 2: ours.
        let unrelated = fixture.statementV1(subjects: [(name: "x", sha256: HashAlgorithm.sha256.hash(Data("x".utf8)))])
        let first = env.sigstore.signDSSE(payload: unrelated, env.recentOptions(identity: fixture.signerIdentity)).bundleJSON
        let ours = try Data(contentsOf: URL(fileURLWithPath: s.provenance))
        let compact = try JSONSerialization.data(withJSONObject: try JSONSerialization.jsonObject(with: ours), options: [.sortedKeys])
        let jsonl = try env.file(first + Data("\n".utf8) + compact + Data("\n".utf8), "multiple.intoto.jsonl")
        var out = try env.sealgate(["verify-provenance", "--provenance-path", jsonl, "--trusted-root", env.trustedRootFile.path, "--source-uri", "github.com/sealgate/demo", s.artifact])
        #expect(out.status == 0, "\(out.stderr)")

        // Key-signed bare envelope: needs --key and, having no log entry, --insecure-ignore-tlog.
        var o = env.recentOptions()
        o.keyless = false
        o.tlog = false
        let statement = fixture.statementV1(subjects: [(name: "demo-linux-amd64", sha256: HashAlgorithm.sha256.hash(binary))])
        let signed = env.sigstore.signDSSE(payload: statement, o)
        let envelope = try env.file(try JSONSerialization.data(withJSONObject: signed.envelope!.jsonObject()), "demo.dsse.json")
        let key = try env.file(o.signingKey.publicKeyPEM, "key.pub")
        let base = ["verify-provenance", "--provenance-path", envelope, "--trusted-root", env.trustedRootFile.path, "--source-uri", "github.com/sealgate/demo"]
        out = try env.sealgate(base + ["--key", key, "--insecure-ignore-tlog", s.artifact])
        #expect(out.status == 0, "\(out.stderr)")
        out = try env.sealgate(base + ["--key", key, s.artifact])
        #expect(out.status == 1)
        #expect(out.stderr.contains("no transparency log proof"), "\(out.stderr)")
        out = try env.sealgate(base + [s.artifact])
        #expect(out.status == 2)
        #expect(out.stderr.contains("pass --key"), "\(out.stderr)")
        let wrongKey = try env.file(SigningKey.newP256().publicKeyPEM, "wrong.pub")
        out = try env.sealgate(base + ["--key", wrongKey, "--insecure-ignore-tlog", s.artifact])
        #expect(out.status == 1)
        #expect(out.stderr.contains("no matching signatures"), "\(out.stderr)")
    }

    @Test("usage errors exit 2; malformed provenance exits 1 with a reason")
    func usageAndMalformed() throws {
        let s = try setup()
        let usage: [([String], String)] = [
            (["verify-provenance", "--provenance-path", s.provenance, s.artifact], "--source-uri"),
            (["verify-provenance", "--source-uri", "github.com/a/b", s.artifact], "--provenance-path"),
            (s.base + ["--source-uri", "github.com/a/b"], "at least one ARTIFACT"),
            (s.base + ["--source-uri", "github.com/a/b", "--source-tag", "v1", "--source-branch", "main", s.artifact], "mutually exclusive"),
            (s.base + ["--source-uri", "github.com/a/b", "--source-versioned-tag", "latest", s.artifact], "is not vMAJOR"),
            (["verify-provenance", "--provenance-path", "/nonexistent", "--source-uri", "github.com/a/b", s.artifact], "cannot read provenance"),
            (s.base + ["--source-uri", "github.com/a/b", "/nonexistent"], "cannot read artifact"),
            (["verify-provenance", "--provenance-path", s.provenance, "--trusted-root", "/nonexistent", "--source-uri", "github.com/a/b", s.artifact],
             "cannot read trusted root"),
        ]
        for (args, message) in usage {
            let out = try s.env.sealgate(args)
            #expect(out.status == 2, "\(args): \(out.status) \(out.stderr)")
            #expect(out.stderr.contains(message), "\(args): \(out.stderr)")
        }
        for junk in ["", "garbage", "{}", #"{"payloadType": "x"}"#] {
            let p = try s.env.file(junk, "junk.json")
            let out = try s.env.sealgate(["verify-provenance", "--provenance-path", p, "--trusted-root", s.env.trustedRootFile.path, "--source-uri", "github.com/a/b", s.artifact])
            #expect(out.status == 1, "\(junk): \(out.status) \(out.stderr)")
            #expect(out.stderr.hasPrefix("Error: "), "\(junk): \(out.stderr)")
        }
    }
}

import E2ESupport
import Foundation
import SigstoreVerify
import Testing
import TestSupport

/// Acceptance 1 and 3 with real data: the sigstore-conformance bundle-verify cases.
@Suite("conformance bundles through verify-blob and verify-tlog")
struct ConformanceParityTests {
    static let casesDir = TestPaths.sharedTestdata.appendingPathComponent("sigstore-conformance/bundle-verify")
    static let identity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
    static let issuer = "https://token.actions.githubusercontent.com"

    struct Case {
        let name: String
        let dir: URL
        var bundle: String { dir.appendingPathComponent("bundle.sigstore.json").path }
        var trustedRoot: String? { file("trusted_root.json") }
        func file(_ n: String) -> String? {
            let p = dir.appendingPathComponent(n).path
            return FileManager.default.fileExists(atPath: p) ? p : nil
        }
        /// The same inputs the conformance harness gives `verify-bundle`, minus the command name.
        func flags(artifact: String) -> [String] {
            var f = ["--bundle", bundle]
            if let key = file("key.pub") {
                f += ["--key", key]
            } else {
                let id = file("identity").flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }?.trimmingCharacters(in: .whitespacesAndNewlines)
                let iss = file("issuer").flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }?.trimmingCharacters(in: .whitespacesAndNewlines)
                f += ["--certificate-identity", id ?? ConformanceParityTests.identity, "--certificate-oidc-issuer", iss ?? ConformanceParityTests.issuer]
            }
            if let root = trustedRoot { f += ["--trusted-root", root] }
            return f + [artifact]
        }
        var artifactPath: String { file("artifact") ?? ConformanceParityTests.casesDir.appendingPathComponent("a.txt").path }
    }

    static func cases() throws -> [Case] {
        try FileManager.default.contentsOfDirectory(at: casesDir, includingPropertiesForKeys: [.isDirectoryKey])
            .filter { (try? $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true }
            .map { Case(name: $0.lastPathComponent, dir: $0) }
            .sorted { $0.name < $1.name }
    }

    func run(_ args: [String]) throws -> ProcessOutput {
        try SealgateCLI.run(args, timeout: 60)
    }

    @Test("every case gives the same verdict through verify-blob --bundle as through verify-bundle (path and digest)")
    func verifyBlobMatchesVerifyBundle() throws {
        let cases = try Self.cases()
        try #require(cases.count >= 40, "conformance cases missing under \(Self.casesDir.path)")
        for c in cases {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: c.artifactPath))
            let digest = "sha256:" + HashAlgorithm.sha256.hash(bytes).hex
            for artifact in [c.artifactPath, digest] {
                let bundle = try run(["verify-bundle"] + c.flags(artifact: artifact))
                let blob = try run(["verify-blob"] + c.flags(artifact: artifact))
                #expect(blob.status == bundle.status, "\(c.name) [\(artifact == digest ? "digest" : "path")]: verify-blob \(blob.status) (\(blob.stderr)) vs verify-bundle \(bundle.status) (\(bundle.stderr))")
                let expected: Int32 = c.name.hasSuffix("_fail") ? 1 : 0
                #expect(blob.status == expected, "\(c.name): verify-blob exit \(blob.status), expected \(expected): \(blob.stderr)")
            }
        }
    }

    /// Cases whose bundles carry valid log proofs (v0.1 SET-only bundles have no inclusion proof, so are not here).
    static let tlogAccepted = [
        "happy-path-v0.2", "happy-path-v0.3", "happy-path-intoto-in-dsse-v3", "bundle-with-sct-with-extensions",
        "rekor2-happy-path", "rekor2-dsse-happy-path", "rekor2-checkpoint-origin-not-first",
        "rekor2-checkpoint-multiple-cosigs", "rekor2-checkpoint-two-sigs-cosigned", "managed-key-happy-path",
    ]
    /// Corrupted proof, wrong or unsigned checkpoint, bad SET.
    static let tlogRejected = [
        "inclusion-proof-corrupted-hash_fail": "inclusion proof root hash mismatch",
        "checkpoint-wrong-roothash_fail": "checkpoint does not match inclusion proof",
        "invalid-checkpoint-signature_fail": "checkpoint has no valid signature",
        "rekor2-checkpoint-missing-log-signature_fail": "checkpoint",
        "rekor2-checkpoint-missing-origin_fail": "checkpoint",
        "rekor2-checkpoint-missing-size_fail": "checkpoint",
        "set-invalid-signature_fail": "signed entry timestamp (SET) signature invalid",
    ]

    @Test("verify-tlog accepts bundles with valid inclusion proofs and prints index, time and kind")
    func verifyTlogAccepts() throws {
        for name in Self.tlogAccepted {
            let c = Case(name: name, dir: Self.casesDir.appendingPathComponent(name))
            let out = try run(["verify-tlog", "--bundle", c.bundle] + (c.trustedRoot.map { ["--trusted-root", $0] } ?? []))
            #expect(out.status == 0, "\(name): \(out.stderr)")
            #expect(out.stdout.contains("Entry Index: "), "\(name): \(out.stdout)")
            #expect(out.stdout.contains("Integrated Time: "), "\(name): \(out.stdout)")
            #expect(out.stdout.contains("Entry Kind: hashedrekord") || out.stdout.contains("Entry Kind: dsse"), "\(name): \(out.stdout)")
            #expect(out.stdout.contains("Inclusion Proof: verified"), "\(name): \(out.stdout)")
            #expect(out.stdout.contains("Checkpoint: verified"), "\(name): \(out.stdout)")
        }
        // A v0.3 bundle with a SET shows the authenticated integrated time.
        let happy = try run(["verify-tlog", "--bundle", Self.casesDir.appendingPathComponent("happy-path-v0.3/bundle.sigstore.json").path])
        #expect(happy.stdout.contains("Entry Index: 79571823"))
        #expect(happy.stdout.contains("Integrated Time: 2024-03-19T17:26:26Z (1710869186)"))
        #expect(happy.stdout.contains("Signed Entry Timestamp: verified"))
    }

    @Test("verify-tlog rejects corrupted proofs, wrong checkpoints and bad SETs with exit 1")
    func verifyTlogRejects() throws {
        for (name, reason) in Self.tlogRejected.sorted(by: { $0.key < $1.key }) {
            let c = Case(name: name, dir: Self.casesDir.appendingPathComponent(name))
            let out = try run(["verify-tlog", "--bundle", c.bundle] + (c.trustedRoot.map { ["--trusted-root", $0] } ?? []))
            #expect(out.status == 1, "\(name): exit \(out.status) \(out.stdout)")
            #expect(out.stderr.contains(reason), "\(name): \(out.stderr)")
        }
    }

    @Test("verify-tlog with --log-key: Sigstore bundle, cosign legacy bundle and Rekor bundle annotation; tampered body rejected")
    func verifyTlogWithLogKey() throws {
        let env = try E2EWorld("artifacts", registry: .none)
        let signed = env.sigstore.signBlob(Data("blob".utf8), env.recentOptions())
        let key = try env.file(env.sigstore.rekor.key.publicKeyPEM, "rekor.pub")
        let entry = signed.tlogEntry!
        let inputs = [try env.file(signed.bundleJSON, "b.json"), try env.file(VerifyBlobTests.legacyBundle(signed), "legacy.json"),
                      try env.file(signed.cosignRekorBundle!, "rekor-bundle.json")]
        for path in inputs {
            let out = try run(["verify-tlog", "--bundle", path, "--log-key", key])
            #expect(out.status == 0, "\(path): \(out.stderr)")
            #expect(out.stdout.contains("Entry Index: \(entry.logIndex)"), "\(out.stdout)")
            #expect(out.stdout.contains("Entry Kind: hashedrekord 0.0.1"))
            #expect(out.stdout.contains("(\(entry.integratedTime!))"))
            #expect(out.stdout.contains("Signed Entry Timestamp: verified"))
        }
        // The trust root form works too.
        var out = try run(["verify-tlog", "--bundle", inputs[0], "--trusted-root", env.trustedRootFile.path])
        #expect(out.status == 0, "\(out.stderr)")
        // A body that is not what the log signed fails the SET.
        var o = try JSONSerialization.jsonObject(with: signed.cosignRekorBundle!) as! [String: Any]
        var payload = o["Payload"] as! [String: Any]
        payload["body"] = Data("{}".utf8).base64EncodedString()
        o["Payload"] = payload
        out = try run(["verify-tlog", "--bundle", try env.file(try JSONSerialization.data(withJSONObject: o), "tampered.json"), "--log-key", key])
        #expect(out.status == 1)
        #expect(out.stderr.contains("signed entry timestamp (SET) signature invalid"), "\(out.stderr)")
        // A log entry recording another signature than the bundle's.
        let other = env.sigstore.signBlob(Data("other".utf8), env.recentOptions())
        var legacy = try JSONSerialization.jsonObject(with: VerifyBlobTests.legacyBundle(signed)) as! [String: Any]
        legacy["rekorBundle"] = try JSONSerialization.jsonObject(with: other.cosignRekorBundle!)
        out = try run(["verify-tlog", "--bundle", try env.file(try JSONSerialization.data(withJSONObject: legacy), "mixed.json"), "--log-key", key])
        #expect(out.status == 1)
        #expect(out.stderr.contains("transparency log entry does not match the bundle"), "\(out.stderr)")
    }

    @Test("verify-tlog: a log key that is not the bundle's log is rejected; usage errors exit 2")
    func verifyTlogWrongKeyAndUsage() throws {
        let env = try E2EWorld("artifacts", registry: .none)
        let keyPath = try env.file(env.sigstore.rekor.key.publicKeyPEM, "rekor.pub")
        let bundle = Self.casesDir.appendingPathComponent("happy-path-v0.3/bundle.sigstore.json").path
        var out = try run(["verify-tlog", "--bundle", bundle, "--log-key", keyPath])
        #expect(out.status == 1)
        #expect(out.stderr.contains("transparency log entry from unknown log"), "\(out.stderr)")
        out = try run(["verify-tlog", "--bundle", "/nonexistent.json"])
        #expect(out.status == 2)
        #expect(out.stderr.contains("cannot read bundle"))
        out = try run(["verify-tlog", "--bundle", bundle, "--trusted-root", "/nonexistent.json"])
        #expect(out.status == 2)
        #expect(out.stderr.contains("cannot read trusted root"), "\(out.stderr)")
        out = try run(["verify-tlog"])
        #expect(out.status == 2)
        out = try run(["verify-tlog", "--bundle", bundle, "--log-key", keyPath, "--trusted-root", keyPath])
        #expect(out.status == 2)
        out = try run(["verify-tlog", "--bundle", Self.casesDir.appendingPathComponent("bundle-malformed-json_fail/bundle.sigstore.json").path])
        #expect(out.status == 1)
    }
}

import Foundation
import Registry
import RegistryTestSupport
import SigstoreTestSupport
import Testing
import TestSupport

/// Acceptance of TUF-based trust roots: GitHub's artifact-attestation policy as written, its TrustRoot's `remote`
/// pointed at a loopback mirror of a python-tuf repository (Tests/Fixtures/tuf/repo.py) whose `trusted_root.json`
/// target is a test Sigstore's. Rotation over TUF takes effect (and invalidates cached verdicts) without a restart,
/// the last good root keeps working when the mirror is gone, and `repository.mirrorFS` serves air-gapped clusters.
@Suite(.serialized)
struct TUFTrustRootTests {
    /// A python-tuf repository served by `python3 -m http.server` the way a TUF mirror lays it out for
    /// policy-controller: metadata at the mirror's root, targets under `targets/`.
    final class Mirror {
        let www: URL
        let dir: URL
        let server: BackgroundProcess
        let port: Int

        init() throws {
            let probe = try Subprocess.run("python3", ["-c", "import tuf.api.metadata"], timeout: 30)
            try #require(probe.status == 0, "python-tuf is not importable (pip install tuf, or run scripts/install-deps): \(probe.stderr)")
            www = try makeTemporaryDirectory("tuf-mirror")
            dir = www.appendingPathComponent("repo")
            try Self.run(dir, ["init"])
            // The repository writes metadata/ and targets/ side by side; a mirror has targets/ inside.
            try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("metadata/targets").path, withDestinationPath: "../targets")
            server = try BackgroundProcess("python3", ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", www.path])
            var found: Int?
            _ = server.waitForOutput(timeout: 15) { out in
                if let r = out.range(of: #"port (\d+)"#, options: .regularExpression) { found = Int(out[r].dropFirst(5)) }
                return found != nil
            }
            port = try #require(found, "python3 -m http.server announced no port")
        }

        static func run(_ dir: URL, _ ops: [String]) throws {
            let out = try Subprocess.run("python3", [TestPaths.fixtures.appendingPathComponent("tuf/repo.py").path, dir.path] + ops, timeout: 120)
            try #require(out.status == 0, "repo.py \(ops.joined(separator: " ")): \(out.stderr)")
        }

        /// Publishes `trustedRoot` as the `trusted_root.json` target (a new targets, snapshot and timestamp version).
        func publish(trustedRoot: Data) throws {
            let file = www.appendingPathComponent("trusted_root-\(UUID().uuidString).json")
            try trustedRoot.write(to: file)
            try Self.run(dir, ["add-target", "trusted_root.json", "@\(file.path)"])
        }

        var url: String { "http://127.0.0.1:\(port)/repo/metadata/" }
        var initialRootBase64: String { (FileManager.default.contents(atPath: dir.appendingPathComponent("metadata/1.root.json").path) ?? Data()).base64EncodedString() }

        /// The repository as a TrustRoot's `repository.mirrorFS`: a gzipped tar with the metadata at `repository/`
        /// and the targets at `repository/targets/` (policy-controller's layout), base64.
        func mirrorFS() throws -> String {
            let archive = www.appendingPathComponent("repository.tgz")
            let script = "import sys, tarfile\nwith tarfile.open(sys.argv[2], 'w:gz', dereference=True) as t: t.add(sys.argv[1], arcname='repository')"
            let out = try Subprocess.run("python3", ["-c", script, dir.appendingPathComponent("metadata").path, archive.path], timeout: 60)
            try #require(out.status == 0, "tar: \(out.stderr)")
            return try #require(FileManager.default.contents(atPath: archive.path)).base64EncodedString()
        }

        func stop() { server.stop() }
    }

    /// trust-policies.yaml as written, with only the TrustRoot's mirror and root replaced.
    static func policies(mirror: String, root: String) throws -> String {
        let file = TestPaths.sharedTestdata.appendingPathComponent("github-attestations/trust-policies.yaml")
        try #require(FileManager.default.fileExists(atPath: file.path), "missing upstream test data \(file.path)")
        var lines = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n")
        let mirrorLine = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "mirror: https://tuf-repo.github.com/" })
        lines[mirrorLine] = lines[mirrorLine].replacingOccurrences(of: "https://tuf-repo.github.com/", with: mirror)
        let rootLine = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "root: |-" })
        let indent = String(lines[rootLine + 1].prefix { $0 == " " })
        lines[rootLine + 1] = indent + root
        return lines.joined(separator: "\n")
    }

    struct World {
        let registry: LocalRegistry
        let dir: URL
        let signers: [TestSigstore]

        /// `acme/attested-N` attested by signer N (GitHub's way: a bundle referrer, RFC 3161 timestamp, no Rekor, no SCT).
        init(signers count: Int) throws {
            registry = try LocalRegistry()
            let client = try registry.client()
            signers = (0..<count).map { _ in TestSigstore() }
            for (n, sigstore) in signers.enumerated() {
                var options = sigstore.options(at: Date())
                options.identity = GitHubAttestationPolicyTests.acme
                options.tlog = false
                options.rfc3161 = true
                options.ctLog = nil
                let repo = "acme/attested-\(n)"
                let image = try TestImages.pushImage(client, registry: registry.host, repository: repo, tag: "v1")
                let sink = TestImages.cosignSink(client, registry: registry.host, repository: repo)
                try CosignImageSigner(sigstore: sigstore, appendTagLayers: sink.appendTagLayers, pushReferrer: sink.pushReferrer)
                    .attestBundle(digest: image.digest, reference: "\(registry.host)/\(repo)", manifestMediaType: MediaType.ociManifest,
                                  manifestSize: image.manifestBytes.count, predicateType: "https://slsa.dev/provenance/v1",
                                  predicate: TestSigstore.slsaV1Predicate, options: options)
            }
            _ = try TestImages.pushImage(client, registry: registry.host, repository: "acme/unattested", tag: "v1")
            dir = try makeTemporaryDirectory("tuf-trustroot")
        }

        func serve(policies: String, cache: URL, extra: [String] = []) throws -> SealgateServer {
            let file = dir.appendingPathComponent("trust-policies.yaml")
            try policies.write(to: file, atomically: true, encoding: .utf8)
            return try SealgateServer(arguments: ["--plaintext", "--policy", file.path, "--insecure-registry", registry.host,
                                                  "--tuf-cache", cache.path] + extra,
                                      environment: ["HOME": dir.path], directory: dir.path)
        }

        func admit(_ repo: String, _ server: SealgateServer) throws -> (allowed: Bool, message: String) {
            try GitHubAttestationPolicyTests.admit("\(registry.host)/\(repo):v1", server, dir)
        }
    }

    static func get(_ server: SealgateServer, _ path: String) throws -> String {
        try Subprocess.run("curl", ["-s", server.baseURL + path]).stdout
    }

    @Test func remoteTrustRootAdmitsWhatItsRepositoryTrustsFollowsRotationAndSurvivesTheMirrorGoing() throws {
        let world = try World(signers: 2)
        defer { world.registry.stop() }
        let mirror = try Mirror()
        defer { mirror.stop() }
        try mirror.publish(trustedRoot: world.signers[0].trustedRootJSON())
        let policies = try Self.policies(mirror: mirror.url, root: mirror.initialRootBase64)
        let policyFile = world.dir.appendingPathComponent("lint.yaml")
        try policies.write(to: policyFile, atomically: true, encoding: .utf8)
        let lint = try Subprocess.run(TestPaths.sealgateBinary.path, ["lint", policyFile.path])
        #expect(lint.status == 0 && lint.stdout.contains("1 valid policy, 0 error(s), 0 warning(s)"), "\(lint.stdout)")

        let cache = try makeTemporaryDirectory("tuf-cache")
        var server = try world.serve(policies: policies, cache: cache, extra: ["--tuf-refresh", "1"])
        let first = try world.admit("acme/attested-0", server)
        #expect(first.allowed, "\(first.message)")
        let unattested = try world.admit("acme/unattested", server)
        #expect(!unattested.allowed && unattested.message.contains("ClusterImagePolicy/github-policy"), "\(unattested.message)")
        let notYetTrusted = try world.admit("acme/attested-1", server)
        #expect(!notYetTrusted.allowed, "signer 1 is not in the repository's trusted root yet")
        #expect(try Self.get(server, "/readyz").contains("trust root github: verified"))
        #expect(try Self.get(server, "/metrics").contains(#"sealgate_trust_root_age_seconds{trust_root="github"}"#))

        // Rotation: the repository now trusts signer 1 only. Within a few refresh periods the server follows, and the
        // verdict cached for signer 0's image is not reused (its key held the old root's hash).
        try mirror.publish(trustedRoot: world.signers[1].trustedRootJSON())
        var rotated = false
        for _ in 0..<40 where !rotated {
            Thread.sleep(forTimeInterval: 0.25)
            rotated = try world.admit("acme/attested-1", server).allowed
        }
        #expect(rotated, "the rotated trusted root was not picked up")
        let old = try world.admit("acme/attested-0", server)
        #expect(!old.allowed, "a verdict resting on the rotated-out root was reused")

        // The mirror disappears; a restart with the same cache keeps verifying with the last good root, and says so.
        server.stop()
        mirror.stop()
        server = try world.serve(policies: policies, cache: cache)
        defer { server.stop() }
        let offline = try world.admit("acme/attested-1", server)
        #expect(offline.allowed, "\(offline.message)")
        let ready = try Self.get(server, "/readyz")
        #expect(ready.contains("trust root github: verified") && ready.contains("(from cache)") && ready.contains("refresh failing"), "\(ready)")
        #expect(try Self.get(server, "/metrics").contains(#"sealgate_trust_root_refresh_failing{trust_root="github"} 1"#))

        // A new cache with no mirror: nothing to trust, so the authority fails closed with the reason.
        let empty = try makeTemporaryDirectory("tuf-cache-empty")
        let cold = try world.serve(policies: policies, cache: empty)
        defer { cold.stop() }
        let denied = try world.admit("acme/attested-1", cold)
        #expect(!denied.allowed && denied.message.contains("trust root \"github\" (spec.remote)") && denied.message.contains("127.0.0.1:\(mirror.port)"),
                "\(denied.message)")
    }

    @Test func repositoryMirrorFSAdmitsWithoutNetwork() throws {
        let world = try World(signers: 1)
        defer { world.registry.stop() }
        let mirror = try Mirror()
        try mirror.publish(trustedRoot: world.signers[0].trustedRootJSON())
        let mirrorFS = try mirror.mirrorFS()
        let root = mirror.initialRootBase64
        mirror.stop()  // air-gapped: the archive in the TrustRoot is all there is
        let githubPolicy = try Self.policies(mirror: "https://unused.invalid/", root: root).components(separatedBy: "\n---\n")
            .filter { !$0.contains("kind: TrustRoot") }.joined(separator: "\n---\n")
        let trustRoot = """
            apiVersion: policy.sigstore.dev/v1alpha1
            kind: TrustRoot
            metadata: {name: github}
            spec:
              repository:
                root: \(root)
                mirrorFS: \(mirrorFS)
            """
        let server = try world.serve(policies: githubPolicy + "\n---\n" + trustRoot + "\n", cache: try makeTemporaryDirectory("tuf-cache"))
        defer { server.stop() }
        let admitted = try world.admit("acme/attested-0", server)
        #expect(admitted.allowed, "\(admitted.message)")
        #expect(!(try world.admit("acme/unattested", server)).allowed)
    }
}

import E2ESupport
import Foundation
import Registry
import RegistryTestSupport
import SigstoreTestSupport
import SigstoreVerify
import Testing
import TestSupport

/// `sealgate verify` / `verify-attestation` (the real binary) against a local docker-registry holding
/// images signed cosign-style by the test Sigstore.
@Suite(.serialized)
struct VerifyCommandTests {
    static let slsa1 = "https://slsa.dev/provenance/v1"
    static let spdx = "https://spdx.dev/Document"
    static let cyclonedx = "https://cyclonedx.org/bom"

    @Test("key-based and keyless signatures and SLSA v1 / SPDX / CycloneDX attestations are accepted, tag scheme and referrers")
    func acceptsSignedImages() throws {
        let env = try E2EWorld("imgverify")
        defer { env.stop() }

        // Key-based, tag scheme, with annotations.
        let key = SigningKey.newP256()
        let keyPath = try env.writeKey(key)
        let keyed = try env.pushImage("team/keyed")
        try env.signer("team/keyed").sign(digest: keyed.digest, reference: env.ref("team/keyed"), annotations: ["env": "prod", "team": "a"],
                                          options: env.keyed(key))
        var out = try env.sealgate(["verify"] + env.keyFlags(keyPath) + [env.ref("team/keyed", ":v1")])
        #expect(out.status == 0, "\(out.stderr)")
        let sigs = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]]
        let critical = sigs?.first?["critical"] as? [String: Any]
        #expect((critical?["image"] as? [String: Any])?["docker-manifest-digest"] as? String == keyed.digest)
        #expect((sigs?.first?["optional"] as? [String: Any])?["env"] as? String == "prod")
        out = try env.sealgate(["verify", "-a", "env=prod", "-a", "team=a"] + env.keyFlags(keyPath) + [env.ref("team/keyed", ":v1")])
        #expect(out.status == 0, "\(out.stderr)")
        out = try env.sealgate(["verify", "-a", "env=dev"] + env.keyFlags(keyPath) + [env.ref("team/keyed", ":v1")])
        #expect(out.status == 1)
        #expect(out.stderr.contains("annotation env is 'prod', required 'dev'"), "\(out.stderr)")

        // Ed25519 and RSA keys too.
        for k in [SigningKey.newEd25519(), SigningKey.newRSAPKCS1()] {
            let img = try env.pushImage("team/otherkeys", tag: UUID().uuidString.prefix(8).lowercased())
            try env.signer("team/otherkeys").sign(digest: img.digest, reference: env.ref("team/otherkeys"), options: env.keyed(k))
            out = try env.sealgate(["verify", "--output", "text"] + env.keyFlags(try env.writeKey(k)) + [env.ref("team/otherkeys", "@\(img.digest)")])
            #expect(out.status == 0, "\(k.keyDetails): \(out.stderr)")
        }

        // Keyless, tag scheme, with an RFC 3161 timestamp as well, plus three attestations.
        let app = try env.pushImage("team/app")
        let signer = env.signer("team/app")
        try signer.sign(digest: app.digest, reference: env.ref("team/app"), options: env.keyless(rfc3161: true))
        try signer.attest(digest: app.digest, reference: env.ref("team/app"), predicateType: Self.slsa1, predicate: TestSigstore.slsaV1Predicate, options: env.keyless())
        try signer.attest(digest: app.digest, reference: env.ref("team/app"), predicateType: Self.spdx, predicate: TestSigstore.spdxPredicate,
                          options: env.keyless(rfc3161: true), v01: true)
        try signer.attest(digest: app.digest, reference: env.ref("team/app"), predicateType: Self.cyclonedx, predicate: TestSigstore.cycloneDXPredicate,
                          options: env.keyless())
        out = try env.sealgate(["verify"] + env.keylessFlags + [env.ref("team/app", ":v1")])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains(E2EWorld.subject))
        out = try env.sealgate(["verify", "--certificate-identity-regexp", "^https://github\\.com/sealgate/", "--certificate-oidc-issuer-regexp", "actions",
                                "--trusted-root", env.trustedRootFile.path, "--insecure-registry", env.registry.host, env.ref("team/app", ":v1")])
        #expect(out.status == 0, "\(out.stderr)")
        for (type, uri) in [("slsaprovenance1", Self.slsa1), ("spdxjson", Self.spdx), ("spdx", Self.spdx), ("cyclonedx", Self.cyclonedx)] {
            out = try env.sealgate(["verify-attestation", "--type", type] + env.keylessFlags + [env.ref("team/app", ":v1")])
            #expect(out.status == 0, "\(type): \(out.stderr)")
            let envelopes = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]]
            #expect(envelopes?.count == 1)
            let payload = (envelopes?.first?["payload"] as? String).flatMap { Data(base64Encoded: $0) }
            let statement = payload.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
            #expect(statement?["predicateType"] as? String == uri, "\(type)")
        }
        // A full URI works as --type.
        out = try env.sealgate(["verify-attestation", "--type", Self.slsa1] + env.keylessFlags + [env.ref("team/app", ":v1")])
        #expect(out.status == 0, "\(out.stderr)")

        // Sigstore bundles attached as referrers (fallback tag schema): message signature over the manifest, DSSE attestation.
        let bundled = try env.pushImage("team/bundled")
        let bsigner = env.signer("team/bundled")
        try bsigner.signBundle(digest: bundled.digest, manifestBytes: Data(bundled.manifestBytes), manifestMediaType: MediaType.ociManifest,
                               options: env.keyless())
        try bsigner.attestBundle(digest: bundled.digest, reference: env.ref("team/bundled"), manifestMediaType: MediaType.ociManifest,
                                 manifestSize: bundled.manifestBytes.count, predicateType: Self.slsa1, predicate: TestSigstore.slsaV1Predicate,
                                 options: env.keyless())
        out = try env.sealgate(["verify"] + env.keylessFlags + [env.ref("team/bundled", ":v1")])
        #expect(out.status == 0, "\(out.stderr)")
        out = try env.sealgate(["verify-attestation", "--type", "slsaprovenance1", "--output", "text"] + env.keylessFlags + [env.ref("team/bundled", ":v1")])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("referrer sha256:"))
        // A DSSE bundle with cosign's signature predicate counts as a signature ...
        let dsse = try env.pushImage("team/dssesig")
        try env.signer("team/dssesig").attestBundle(digest: dsse.digest, reference: env.ref("team/dssesig"), manifestMediaType: MediaType.ociManifest,
                                                    manifestSize: dsse.manifestBytes.count, predicateType: "https://sigstore.dev/cosign/sign/v1",
                                                    predicate: [String: Any](), options: env.keyless())
        out = try env.sealgate(["verify"] + env.keylessFlags + [env.ref("team/dssesig", ":v1")])
        #expect(out.status == 0, "\(out.stderr)")
        // ... an attestation bundle does not.
        let attOnly = try env.pushImage("team/attonly")
        try env.signer("team/attonly").attestBundle(digest: attOnly.digest, reference: env.ref("team/attonly"), manifestMediaType: MediaType.ociManifest,
                                                    manifestSize: attOnly.manifestBytes.count, predicateType: Self.slsa1,
                                                    predicate: TestSigstore.slsaV1Predicate, options: env.keyless())
        out = try env.sealgate(["verify"] + env.keylessFlags + [env.ref("team/attonly", ":v1")])
        #expect(out.status == 1)
        #expect(out.stderr.contains("no signatures found"), "\(out.stderr)")
        // Key-based bundle.
        let kb = try env.pushImage("team/keybundle")
        try env.signer("team/keybundle").signBundle(digest: kb.digest, manifestBytes: Data(kb.manifestBytes), manifestMediaType: MediaType.ociManifest,
                                                    options: env.keyed(key))
        out = try env.sealgate(["verify"] + env.keyFlags(keyPath) + [env.ref("team/keybundle", ":v1")])
        #expect(out.status == 0, "\(out.stderr)")

        // Several images at once: all must verify.
        out = try env.sealgate(["verify"] + env.keylessFlags + [env.ref("team/app", ":v1"), env.ref("team/bundled", ":v1")])
        #expect(out.status == 0, "\(out.stderr)")
        out = try env.sealgate(["verify"] + env.keylessFlags + [env.ref("team/app", ":v1"), env.ref("team/keyed", ":v1")])
        #expect(out.status == 1)
    }

    @Test("rejections name their reason: unsigned, other digest, wrong key/identity/issuer, expired cert, tampering, subject, predicate type")
    func rejections() throws {
        let env = try E2EWorld("imgverify")
        defer { env.stop() }
        let key = SigningKey.newP256()
        let keyPath = try env.writeKey(key)

        func expectRejected(_ args: [String], _ reason: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let out = try env.sealgate(args)
            #expect(out.status == 1, "expected exit 1 for \(args): \(out.stderr)", sourceLocation: sourceLocation)
            #expect(out.stderr.contains(reason), "expected '\(reason)' in: \(out.stderr)", sourceLocation: sourceLocation)
            #expect(out.stdout.isEmpty, sourceLocation: sourceLocation)
        }

        // Unsigned.
        _ = try env.pushImage("r/unsigned")
        try expectRejected(["verify"] + env.keyFlags(keyPath) + [env.ref("r/unsigned", ":v1")], "no signatures found")
        try expectRejected(["verify-attestation", "--type", "slsaprovenance1"] + env.keylessFlags + [env.ref("r/unsigned", ":v1")], "no attestations")

        // A valid signature over another digest, stored under this image's signature tag.
        let a = try env.pushImage("r/otherdigest")
        let b = try env.pushImage("r/otherdigest", tag: "v2")
        try env.signer("r/otherdigest").sign(digest: a.digest, reference: env.ref("r/otherdigest"), options: env.keyed(key), payloadDigest: b.digest)
        try expectRejected(["verify"] + env.keyFlags(keyPath) + [env.ref("r/otherdigest", ":v1")], "signed payload is for digest \(b.digest), not the image digest \(a.digest)")

        // Wrong key.
        let wk = try env.pushImage("r/wrongkey")
        try env.signer("r/wrongkey").sign(digest: wk.digest, reference: env.ref("r/wrongkey"), options: env.keyed(.newP256()))
        try expectRejected(["verify"] + env.keyFlags(keyPath) + [env.ref("r/wrongkey", ":v1")], "does not verify with the given public key")

        // Keyless: wrong identity, wrong issuer.
        let kl = try env.pushImage("r/keyless")
        try env.signer("r/keyless").sign(digest: kl.digest, reference: env.ref("r/keyless"), options: env.keyless())
        try expectRejected(["verify", "--certificate-identity", "https://github.com/evil/x/.github/workflows/r.yml@refs/heads/main",
                            "--certificate-oidc-issuer", E2EWorld.issuer, "--trusted-root", env.trustedRootFile.path, "--insecure-registry", env.registry.host,
                            env.ref("r/keyless", ":v1")], "certificate identity '\(E2EWorld.subject)' does not match expected")
        try expectRejected(["verify", "--certificate-identity", E2EWorld.subject, "--certificate-oidc-issuer", "https://accounts.google.com",
                            "--trusted-root", env.trustedRootFile.path, "--insecure-registry", env.registry.host, env.ref("r/keyless", ":v1")],
                           "certificate OIDC issuer '\(E2EWorld.issuer)' does not match expected 'https://accounts.google.com'")
        // Keyless signature checked with a key: wrong key.
        try expectRejected(["verify"] + env.keyFlags(keyPath) + [env.ref("r/keyless", ":v1")], "does not verify with the given public key")
        // Untrusted CA: the default (public good) root does not know our test Fulcio.
        try expectRejected(["verify", "--certificate-identity", E2EWorld.subject, "--certificate-oidc-issuer", E2EWorld.issuer,
                            "--insecure-registry", env.registry.host, env.ref("r/keyless", ":v1")], "transparency log entry from unknown log")

        // Expired certificate without a SET or timestamp (signed two days ago, no Rekor entry).
        let ex = try env.pushImage("r/expired")
        var old = env.sigstore.options(at: Date().addingTimeInterval(-2 * 86400))
        old.tlog = false
        try env.signer("r/expired").sign(digest: ex.digest, reference: env.ref("r/expired"), options: old)
        try expectRejected(["verify", "--insecure-ignore-tlog"] + env.keylessFlags + [env.ref("r/expired", ":v1")],
                           "certificate is not valid now")
        try expectRejected(["verify"] + env.keylessFlags + [env.ref("r/expired", ":v1")], "no Rekor bundle annotation")
        // ... but the same old certificate with an RFC 3161 timestamp from the trusted TSA is fine, as with cosign.
        let ts = try env.pushImage("r/expired-ts")
        var oldTS = old
        oldTS.rfc3161 = true
        try env.signer("r/expired-ts").sign(digest: ts.digest, reference: env.ref("r/expired-ts"), options: oldTS)
        var out = try env.sealgate(["verify", "--insecure-ignore-tlog"] + env.keylessFlags + [env.ref("r/expired-ts", ":v1")])
        #expect(out.status == 0, "\(out.stderr)")
        // ... and with a Rekor SET from two days ago.
        let set = try env.pushImage("r/expired-set")
        try env.signer("r/expired-set").sign(digest: set.digest, reference: env.ref("r/expired-set"),
                                             options: env.sigstore.options(at: Date().addingTimeInterval(-2 * 86400)))
        out = try env.sealgate(["verify"] + env.keylessFlags + [env.ref("r/expired-set", ":v1")])
        #expect(out.status == 0, "\(out.stderr)")

        // Tampered payload (signature made over the original bytes).
        let tp = try env.pushImage("r/tampered")
        try env.signer("r/tampered").sign(digest: tp.digest, reference: env.ref("r/tampered"), annotations: ["env": "dev"], options: env.keyless()) { layer in
            layer.bytes = Data(String(decoding: layer.bytes, as: UTF8.self).replacingOccurrences(of: "\"dev\"", with: "\"prd\"").utf8)
        }
        try expectRejected(["verify"] + env.keylessFlags + [env.ref("r/tampered", ":v1")],
                           "signature over the simple-signing payload does not verify with the certificate's key")

        // Tampered Rekor bundle: integrated time moved (SET no longer verifies) ...
        let tb = try env.pushImage("r/tamperedbundle")
        try env.signer("r/tamperedbundle").sign(digest: tb.digest, reference: env.ref("r/tamperedbundle"), options: env.keyless()) { layer in
            var o = try! JSONSerialization.jsonObject(with: Data(layer.annotations[CosignAnnotation.bundle]!.utf8)) as! [String: Any]
            var p = o["Payload"] as! [String: Any]
            p["integratedTime"] = (p["integratedTime"] as! Int) - 60
            o["Payload"] = p
            layer.annotations[CosignAnnotation.bundle] = String(decoding: try! JSONSerialization.data(withJSONObject: o), as: UTF8.self)
        }
        try expectRejected(["verify"] + env.keylessFlags + [env.ref("r/tamperedbundle", ":v1")], "signed entry timestamp (SET) signature invalid")
        // ... and a genuine Rekor bundle of another signature (log-valid, but records a different signature).
        let other = env.sigstore.cosignSignatureLayer(digest: tb.digest, dockerReference: "x", env.keyless())
        let sw = try env.pushImage("r/swappedbundle")
        try env.signer("r/swappedbundle").sign(digest: sw.digest, reference: env.ref("r/swappedbundle"), options: env.keyless()) { layer in
            layer.annotations[CosignAnnotation.bundle] = other.annotations[CosignAnnotation.bundle]
        }
        try expectRejected(["verify"] + env.keylessFlags + [env.ref("r/swappedbundle", ":v1")], "transparency log entry does not match")

        // Attestation whose subject is another digest.
        let sa = try env.pushImage("r/subject")
        try env.signer("r/subject").attest(digest: sa.digest, reference: env.ref("r/subject"), predicateType: Self.slsa1,
                                           predicate: TestSigstore.slsaV1Predicate, options: env.keyless(), subjectDigest: a.digest)
        try expectRejected(["verify-attestation", "--type", "slsaprovenance1"] + env.keylessFlags + [env.ref("r/subject", ":v1")],
                           "attestation subject \(a.digest) does not match the image digest \(sa.digest)")

        // Wrong predicate type.
        let pt = try env.pushImage("r/predicate")
        try env.signer("r/predicate").attest(digest: pt.digest, reference: env.ref("r/predicate"), predicateType: Self.slsa1,
                                             predicate: TestSigstore.slsaV1Predicate, options: env.keyless())
        try expectRejected(["verify-attestation", "--type", "cyclonedx"] + env.keylessFlags + [env.ref("r/predicate", ":v1")],
                           "predicate type is \(Self.slsa1), not \(Self.cyclonedx)")
        // Bundle referrer with another subject digest.
        let bs = try env.pushImage("r/bundlesubject")
        try env.signer("r/bundlesubject").attestBundle(digest: bs.digest, reference: env.ref("r/bundlesubject"), manifestMediaType: MediaType.ociManifest,
                                                       manifestSize: bs.manifestBytes.count, predicateType: Self.slsa1,
                                                       predicate: TestSigstore.slsaV1Predicate, options: env.keyless(), subjectDigest: a.digest)
        try expectRejected(["verify-attestation", "--type", "slsaprovenance1"] + env.keylessFlags + [env.ref("r/bundlesubject", ":v1")],
                           "artifact digest does not match any in-toto statement subject")

        // Usage errors exit 2.
        for args in [["verify", env.ref("r/keyless", ":v1")],
                     ["verify", "--key", keyPath, "--certificate-identity", "x", env.ref("r/keyless", ":v1")],
                     ["verify", "--bogus", env.ref("r/keyless", ":v1")],
                     ["verify-attestation", "--type", "not a type"] + env.keylessFlags + [env.ref("r/keyless", ":v1")],
                     ["verify", "--key", "/nonexistent.pub", env.ref("r/keyless", ":v1")],
                     ["verify"] + env.keyFlags(keyPath)] {
            out = try env.sealgate(args)
            #expect(out.status == 2, "\(args): \(out.status) \(out.stderr)")
        }
    }

    @Test("--insecure-ignore-sct, --certificate-chain and -tlog flags change exactly what they say")
    func trustFlags() throws {
        let env = try E2EWorld("imgverify")
        defer { env.stop() }

        // A certificate without an embedded SCT: rejected unless --insecure-ignore-sct.
        let nosct = try env.pushImage("flags/nosct")
        var o = env.keyless()
        o.ctLog = nil
        try env.signer("flags/nosct").sign(digest: nosct.digest, reference: env.ref("flags/nosct"), options: o)
        var out = try env.sealgate(["verify"] + env.keylessFlags + [env.ref("flags/nosct", ":v1")])
        #expect(out.status == 1)
        #expect(out.stderr.contains("certificate has no embedded signed certificate timestamp"), "\(out.stderr)")
        out = try env.sealgate(["verify", "--insecure-ignore-sct"] + env.keylessFlags + [env.ref("flags/nosct", ":v1")])
        #expect(out.status == 0, "\(out.stderr)")

        // A private CA: trusted only via --certificate-chain.
        let ca = TestCertificateAuthority(name: "private", notBefore: env.sigstore.validFrom, notAfter: Date().addingTimeInterval(86400 * 365))
        let priv = try env.pushImage("flags/private")
        var p = env.keyless()
        p.issuingCA = ca
        try env.signer("flags/private").sign(digest: priv.digest, reference: env.ref("flags/private"), options: p)
        out = try env.sealgate(["verify"] + env.keylessFlags + [env.ref("flags/private", ":v1")])
        #expect(out.status == 1)
        #expect(out.stderr.contains("does not verify to a trusted Fulcio CA"), "\(out.stderr)")
        let chain = try env.write(ca.chain.map(PEM.certificate).joined(), to: "chain.pem").path
        out = try env.sealgate(["verify", "--certificate-chain", chain] + env.keylessFlags + [env.ref("flags/private", ":v1")])
        #expect(out.status == 0, "\(out.stderr)")
        // The private chain replaces the trusted root's CAs: the public-CA signature no longer verifies with it.
        let pub = try env.pushImage("flags/public")
        try env.signer("flags/public").sign(digest: pub.digest, reference: env.ref("flags/public"), options: env.keyless())
        out = try env.sealgate(["verify", "--certificate-chain", chain] + env.keylessFlags + [env.ref("flags/public", ":v1")])
        #expect(out.status == 1)

        // --insecure-ignore-tlog still rejects a present-but-broken entry from a known log ...
        let key = SigningKey.newP256()
        let keyPath = try env.writeKey(key)
        let broken = try env.pushImage("flags/brokentlog")
        try env.signer("flags/brokentlog").sign(digest: broken.digest, reference: env.ref("flags/brokentlog"), options: env.keyed(key)) { layer in
            let other = env.sigstore.cosignSignatureLayer(digest: broken.digest, dockerReference: "x", env.keyed(key))
            layer.annotations[CosignAnnotation.bundle] = other.annotations[CosignAnnotation.bundle]
        }
        out = try env.sealgate(["verify", "--insecure-ignore-tlog"] + env.keyFlags(keyPath) + [env.ref("flags/brokentlog", ":v1")])
        #expect(out.status == 1)
        #expect(out.stderr.contains("transparency log entry does not match"), "\(out.stderr)")
        // ... but skips an entry from a log it does not know (e.g. public-good Rekor when verifying offline with a key).
        let unknown = TestSigstore()
        let foreign = try env.pushImage("flags/unknownlog")
        var uo = unknown.options(at: Date())
        uo.keyless = false
        uo.signingKey = key
        let layer = unknown.cosignSignatureLayer(digest: foreign.digest, dockerReference: env.ref("flags/unknownlog"), uo)
        try TestImages.appendCosignLayers(env.client, registry: env.registry.host, repository: "flags/unknownlog", digest: foreign.digest,
                                          suffix: "sig", layers: [layer.tuple])
        out = try env.sealgate(["verify"] + env.keyFlags(keyPath) + [env.ref("flags/unknownlog", ":v1")])
        #expect(out.status == 1)
        #expect(out.stderr.contains("transparency log entry from unknown log"), "\(out.stderr)")
        out = try env.sealgate(["verify", "--insecure-ignore-tlog"] + env.keyFlags(keyPath) + [env.ref("flags/unknownlog", ":v1")])
        #expect(out.status == 0, "\(out.stderr)")
    }

    @Test("TLS registry with basic auth: credentials come from ~/.docker/config.json, the CA from --registry-ca")
    func dockerConfigAuth() throws {
        let env = try E2EWorld("imgverify", registry: .tls(users: ["ci": "s3cret"]))
        defer { env.stop() }
        let image = try env.pushImage("private/app")
        try env.signer("private/app").sign(digest: image.digest, reference: env.ref("private/app"), options: env.keyless())
        let flags = ["--certificate-identity", E2EWorld.subject, "--certificate-oidc-issuer", E2EWorld.issuer,
                     "--trusted-root", env.trustedRootFile.path, "--registry-ca", env.pki.caCertificate, env.ref("private/app", ":v1")]
        var out = try env.sealgate(["verify"] + flags)
        #expect(out.status == 1)
        #expect(out.stderr.contains("unauthorized"), "\(out.stderr)")
        let docker = env.home.appendingPathComponent(".docker")
        try FileManager.default.createDirectory(at: docker, withIntermediateDirectories: true)
        let config = #"{"auths":{"\#(env.registry.host)":{"auth":"\#(Data("ci:s3cret".utf8).base64EncodedString())"}}}"#
        try config.write(to: docker.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        out = try env.sealgate(["verify"] + flags)
        #expect(out.status == 0, "\(out.stderr)")
    }

    @Test("a signature made by Python's cryptography package and pushed with bare registry API calls verifies with --key")
    func foreignSignature() throws {
        let env = try E2EWorld("imgverify")
        defer { env.stop() }
        let image = try env.pushImage("foreign/app")
        let keyPath = env.dir.appendingPathComponent("python.pub").path
        let script = TestPaths.fixtures.appendingPathComponent("imageverify/cosign_sign.py").path
        let py = try Subprocess.run("python3", [script, env.registry.host, "foreign/app", image.digest, keyPath, "built-by=python"], timeout: 60)
        try #require(py.status == 0, "python signer failed: \(py.stderr)")
        #expect(py.stdout.contains(".sig"))
        var out = try env.sealgate(["verify", "--key", keyPath, "--insecure-ignore-tlog", "--insecure-registry", env.registry.host,
                                    "-a", "built-by=python", env.ref("foreign/app", ":v1")])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains(image.digest))
        // Other curves and digest algorithms: P-384 with cosign's default SHA-256 or with SHA-384; P-256 with SHA-512
        // needs --signature-digest-algorithm.
        for (curve, hash, flag, ok) in [("P384", "sha256", nil, true), ("P384", "sha384", nil, true), ("P256", "sha512", nil, false),
                                        ("P256", "sha512", "sha512", true)] as [(String, String, String?, Bool)] {
            let img = try env.pushImage("foreign/app", tag: "\(curve.lowercased())-\(hash)-\(flag ?? "default")")
            let kp = env.dir.appendingPathComponent("\(curve)-\(hash)-\(flag ?? "").pub").path
            let r = try Subprocess.run("python3", [script, env.registry.host, "foreign/app", img.digest, kp],
                                       environment: ["SIGN_CURVE": curve, "SIGN_HASH": hash], timeout: 60)
            try #require(r.status == 0, "python signer failed: \(r.stderr)")
            let o = try env.sealgate(["verify", "--key", kp, "--insecure-ignore-tlog", "--insecure-registry", env.registry.host]
                                     + (flag.map { ["--signature-digest-algorithm", $0] } ?? []) + [env.ref("foreign/app", "@\(img.digest)")])
            #expect(o.status == (ok ? 0 : 1), "\(curve)/\(hash)/\(flag ?? "-"): \(o.stderr)")
        }
        // Without --insecure-ignore-tlog the missing Rekor entry is a rejection.
        out = try env.sealgate(["verify", "--key", keyPath, "--insecure-registry", env.registry.host, env.ref("foreign/app", ":v1")])
        #expect(out.status == 1)
        #expect(out.stderr.contains("no Rekor bundle annotation"))
    }

    @Test("multi-arch: signatures and attestations on the index digest verify by tag and index digest, as with cosign")
    func multiArch() throws {
        let env = try E2EWorld("imgverify")
        defer { env.stop() }
        let pushed = try TestImages.pushIndex(env.client, registry: env.registry.host, repository: "multi/app", tag: "v1")
        let signer = env.signer("multi/app")
        try signer.sign(digest: pushed.index.digest, reference: env.ref("multi/app"), options: env.keyless())
        try signer.attest(digest: pushed.index.digest, reference: env.ref("multi/app"), predicateType: Self.slsa1,
                          predicate: TestSigstore.slsaV1Predicate, options: env.keyless())
        var out = try env.sealgate(["verify"] + env.keylessFlags + [env.ref("multi/app", ":v1")])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains(pushed.index.digest))
        out = try env.sealgate(["verify"] + env.keylessFlags + [env.ref("multi/app", "@\(pushed.index.digest)")])
        #expect(out.status == 0, "\(out.stderr)")
        out = try env.sealgate(["verify-attestation", "--type", "slsaprovenance1"] + env.keylessFlags + [env.ref("multi/app", ":v1")])
        #expect(out.status == 0, "\(out.stderr)")
        // A platform manifest is a different artifact: it carries no signature of its own (cosign behaves the same).
        out = try env.sealgate(["verify"] + env.keylessFlags + [env.ref("multi/app", "@\(pushed.arm64.digest)")])
        #expect(out.status == 1)
        // Bundle over the index manifest bytes, as a referrer of the index.
        let other = try TestImages.pushIndex(env.client, registry: env.registry.host, repository: "multi/bundle", tag: "v1")
        try env.signer("multi/bundle").signBundle(digest: other.index.digest, manifestBytes: Data(other.index.manifestBytes),
                                                  manifestMediaType: MediaType.ociIndex, options: env.keyless())
        out = try env.sealgate(["verify"] + env.keylessFlags + [env.ref("multi/bundle", ":v1")])
        #expect(out.status == 0, "\(out.stderr)")
    }
}

import Foundation
import ImagePolicy
import ImageReference
import ImageVerification
import Registry
import RegistryTestSupport
import SigstoreTestSupport
import SigstoreVerify
import Testing
import TUF
import TestSupport

/// ClusterImagePolicy authorities as parsed from YAML, verified against a real registry: `ctlog` decides the Rekor
/// requirement, `signatureFormat` where signatures are looked up, `rfc3161timestamp.trustRootRef` which TSAs
/// count (and that a timestamp is required), TrustRoots from policy files (`TrustRootCatalog`).
@Suite(.serialized)
struct AuthorityFormatTests {
    func verifier(_ env: VerifyEnvironment, trustedRoot: TrustedRoot? = nil, trustRoots: [TrustRoot] = []) throws -> CosignAuthorityVerifier {
        var config = RegistryConfiguration()
        config.insecureRegistries = [env.registry.host]
        var v = CosignAuthorityVerifier(registry: try RegistryClient(configuration: config), trustedRoot: trustedRoot ?? env.trustedRoot, timeout: 5)
        // TUF-based TrustRoots fetch with a plain file fetcher: the test's "tuf" one points at nothing and must fail closed.
        let tuf = TrustRootCatalog.TUFEnvironment(cacheDirectory: try makeTemporaryDirectory("authority-tuf"), fetcher: FileFetcher())
        v.trustRoots = TrustRootCatalog(tuf: tuf) { trustRoots }.lookup
        return v
    }

    /// The first authority of a one-authority ClusterImagePolicy.
    func authority(_ yaml: String) throws -> SignatureAuthority {
        let text = """
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata: {name: p}
            spec:
              images: [{glob: "**"}]
              authorities:
                - \(yaml)
            """
        let r = PolicyLoader.load(text: text)
        let cip = try #require(r.policies.clusterImagePolicies.first, "\(r.issues)")
        guard case .signature(let s)? = cip.authorities.first?.kind else { throw CancellationError() }
        return s
    }

    func keyAuthority(_ key: SigningKey, _ extra: String = "") throws -> SignatureAuthority {
        try authority("key: {data: \"\(key.publicKeyPEM.replacingOccurrences(of: "\n", with: "\\n"))\"}" + (extra.isEmpty ? "" : "\n      " + extra))
    }

    @Test("key authority: no Rekor entry needed without ctlog; with ctlog (url or trustRootRef) the entry is required")
    func keyTlogRequirement() async throws {
        let env = try VerifyEnvironment()
        defer { env.stop() }
        let key = SigningKey.newP256()
        let image = try env.pushImage("tlog/app")
        try env.signer("tlog/app").sign(digest: image.digest, reference: env.ref("tlog/app"), options: env.keyed(key, tlog: false))
        let ref = try ImageRef(parsing: env.ref("tlog/app", ":v1"))
        let v = try verifier(env, trustRoots: PolicyLoader.load(text: env.sigstore.trustRootDocument(name: "private")).policies.trustRoots)

        let noCtlog = await v.verifySignature(image: ref, digest: image.digest, authority: try keyAuthority(key))
        #expect(noCtlog.passed, "\(noCtlog.reason)")
        for ctlog in ["ctlog: {url: \"https://rekor.sealgate.test\"}", "ctlog: {trustRootRef: private}"] {
            let withCtlog = await v.verifySignature(image: ref, digest: image.digest, authority: try keyAuthority(key, ctlog))
            #expect(!withCtlog.passed && !withCtlog.transient)
            #expect(withCtlog.reason.contains("no Rekor bundle annotation"), "\(ctlog): \(withCtlog.reason)")
        }
    }

    @Test("signatureFormat: legacy reads only the cosign tag scheme, bundle only Sigstore bundle referrers")
    func signatureFormatSelectsTheScheme() async throws {
        let env = try VerifyEnvironment()
        defer { env.stop() }
        let key = SigningKey.newP256()
        let tagged = try env.pushImage("format/tagged")
        try env.signer("format/tagged").sign(digest: tagged.digest, reference: env.ref("format/tagged"), options: env.keyed(key))
        let bundled = try env.pushImage("format/bundled")
        try env.signer("format/bundled").signBundle(digest: bundled.digest, manifestBytes: Data(bundled.manifestBytes),
                                                    manifestMediaType: MediaType.ociManifest, options: env.keyed(key))
        let v = try verifier(env)
        func verify(_ repo: String, _ image: TestImages.Pushed, _ format: String) async throws -> AuthorityOutcome {
            await v.verifySignature(image: try ImageRef(parsing: env.ref(repo, ":v1")), digest: image.digest,
                                    authority: try keyAuthority(key, "signatureFormat: \(format)"))
        }
        let taggedLegacy = try await verify("format/tagged", tagged, "legacy")
        #expect(taggedLegacy.passed, "\(taggedLegacy.reason)")
        let taggedBundle = try await verify("format/tagged", tagged, "bundle")
        #expect(!taggedBundle.passed && taggedBundle.reason.hasPrefix("no signatures found"), "\(taggedBundle.reason)")
        let bundledBundle = try await verify("format/bundled", bundled, "bundle")
        #expect(bundledBundle.passed, "\(bundledBundle.reason)")
        #expect(bundledBundle.signatures.first?["format"]?.stringValue == "sigstore-bundle")
        let bundledLegacy = try await verify("format/bundled", bundled, "legacy")
        #expect(!bundledLegacy.passed && bundledLegacy.reason.hasPrefix("no signatures found"), "\(bundledLegacy.reason)")
    }

    @Test("rfc3161timestamp.trustRootRef: TSAs from that TrustRoot, a timestamp required, no Rekor entry; TUF and missing TrustRoots fail closed")
    func timestampAuthoritiesFromTheNamedTrustRoot() async throws {
        let env = try VerifyEnvironment()
        defer { env.stop() }
        let image = try env.pushImage("tsa/app")
        let signer = env.signer("tsa/app")
        var stamped = env.keyless(rfc3161: true, tlog: false)
        stamped.ctLog = nil
        try signer.attestBundle(digest: image.digest, reference: env.ref("tsa/app"), manifestMediaType: MediaType.ociManifest,
                                manifestSize: image.manifestBytes.count, predicateType: "https://slsa.dev/provenance/v1",
                                predicate: TestSigstore.slsaV1Predicate, options: stamped)
        var digests: [String: String] = [:]
        let bare = try env.pushImage("tsa/bare")
        var unstamped = env.keyless(rfc3161: false, tlog: false)
        unstamped.ctLog = nil
        try env.signer("tsa/bare").attestBundle(digest: bare.digest, reference: env.ref("tsa/bare"), manifestMediaType: MediaType.ociManifest,
                                                manifestSize: bare.manifestBytes.count, predicateType: "https://slsa.dev/provenance/v1",
                                                predicate: TestSigstore.slsaV1Predicate, options: unstamped)
        for (repo, options) in [("tsa/legacy", stamped), ("tsa/legacy-bare", unstamped)] {
            let legacy = try env.pushImage(repo)
            try env.signer(repo).attest(digest: legacy.digest, reference: env.ref(repo), predicateType: "https://slsa.dev/provenance/v1",
                                        predicate: TestSigstore.slsaV1Predicate, options: options)
            digests[repo] = legacy.digest
        }
        let files = env.sigstore.trustRootDocument(name: "fulcio-only", timestampAuthorities: false) + "\n---\n"
            + env.sigstore.trustRootDocument(name: "with-tsa") + "\n---\n"
            + "{apiVersion: policy.sigstore.dev/v1alpha1, kind: TrustRoot, metadata: {name: tuf}, spec: {remote: {mirror: \"http://127.0.0.1:9/\", root: \"e30=\"}}}"
        let loaded = PolicyLoader.load(text: files)
        #expect(loaded.errors.isEmpty, "\(loaded.errors)")
        // The configured root is Sigstore's public good: only the named TrustRoots can make these verify.
        let v = try verifier(env, trustedRoot: try TrustedRoot.publicGood(), trustRoots: loaded.policies.trustRoots)
        func verify(_ repo: String, _ digest: String, tsa: String, format: String = "bundle") async throws -> AuthorityOutcome {
            let a = try authority("""
                keyless: {url: "https://fulcio.example", trustRootRef: fulcio-only, insecureIgnoreSCT: true, identities: [{issuer: "\(VerifyEnvironment.issuer)", subjectRegExp: "^https://github.com/sealgate/"}]}
                      rfc3161timestamp: {trustRootRef: \(tsa)}
                      signatureFormat: \(format)
                """)
            return await v.verifyAttestations(image: try ImageRef(parsing: env.ref(repo, ":v1")), digest: digest, authority: a,
                                              predicateType: "https://slsa.dev/provenance/v1")
        }
        let ok = try await verify("tsa/app", image.digest, tsa: "with-tsa")
        #expect(ok.passed, "\(ok.reason)")
        #expect(ok.statements.first?["predicateType"]?.stringValue == "https://slsa.dev/provenance/v1")
        let untrustedTSA = try await verify("tsa/app", image.digest, tsa: "fulcio-only")
        #expect(!untrustedTSA.passed && untrustedTSA.reason.lowercased().contains("timestamp"), "\(untrustedTSA.reason)")
        let noTimestamp = try await verify("tsa/bare", bare.digest, tsa: "with-tsa")
        #expect(!noTimestamp.passed && noTimestamp.reason.contains("the bundle has no RFC 3161 timestamp"), "\(noTimestamp.reason)")
        let tuf = try await verify("tsa/app", image.digest, tsa: "tuf")
        #expect(!tuf.passed && tuf.reason.contains("trust root \"tuf\" (spec.remote): TrustRoot \"tuf\" spec.remote: "), "\(tuf.reason)")
        // The same in cosign's tag scheme.
        let legacyOK = try await verify("tsa/legacy", digests["tsa/legacy"]!, tsa: "with-tsa", format: "legacy")
        #expect(legacyOK.passed, "\(legacyOK.reason)")
        let legacyUntrusted = try await verify("tsa/legacy", digests["tsa/legacy"]!, tsa: "fulcio-only", format: "legacy")
        #expect(!legacyUntrusted.passed && legacyUntrusted.reason.lowercased().contains("timestamp"), "\(legacyUntrusted.reason)")
        let legacyBare = try await verify("tsa/legacy-bare", digests["tsa/legacy-bare"]!, tsa: "with-tsa", format: "legacy")
        #expect(!legacyBare.passed && legacyBare.reason.contains("no RFC 3161 timestamp"), "\(legacyBare.reason)")
        let missing = try await verify("tsa/app", image.digest, tsa: "nowhere")
        #expect(!missing.passed && missing.reason.contains("trust root \"nowhere\" not found"), "\(missing.reason)")
    }

    @Test("a TrustRoot name defined twice, differently, fails closed")
    func ambiguousTrustRoot() throws {
        let sigstore = TestSigstore()
        let roots = PolicyLoader.load(text: sigstore.trustRootDocument(name: "x")).policies.trustRoots
            + PolicyLoader.load(text: TestSigstore().trustRootDocument(name: "x")).policies.trustRoots
        #expect(roots.count == 2)
        #expect(throws: CosignVerificationError.self) { try TrustRootCatalog { roots }.root(named: "x") }
        #expect(try TrustRootCatalog { [roots[0], roots[0]] }.root(named: "x") != nil)
        #expect(try TrustRootCatalog { roots }.root(named: "y") == nil)
    }
}

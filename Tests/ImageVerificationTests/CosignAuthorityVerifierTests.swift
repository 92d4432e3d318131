import E2ESupport
import Foundation
import ImagePolicy
import ImageReference
import ImageVerification
import Registry
import RegistryTestSupport
import SigstoreTestSupport
import SigstoreVerify
import Testing
import TestSupport

/// The policy engine's `AuthorityVerifier` implementation, called directly (async, as the webhook does).
@Suite(.serialized)
struct CosignAuthorityVerifierTests {
    func verifier(_ env: E2EWorld, secrets: @escaping CosignAuthorityVerifier.SecretLookup = { _, _ in nil }) throws -> CosignAuthorityVerifier {
        CosignAuthorityVerifier(registry: try env.registry.client(), trustedRoot: try env.sigstore.trustedRoot(), timeout: 5, secrets: secrets)
    }

    static let keylessTrust = KeylessTrust(identities: [
        KeylessIdentity(issuer: .exact(E2EWorld.issuer), subject: .regex("^https://github\\.com/sealgate/test/")),
    ])

    @Test("key, secret and keyless authorities pass; wrong key and wrong identity fail with per-signature reasons, not transient")
    func signatures() async throws {
        let env = try E2EWorld("imgverify")
        defer { env.stop() }
        let key = SigningKey.newP256()
        let image = try env.pushImage("policy/app")
        let ref = try ImageRef(parsing: env.ref("policy/app", ":v1"))
        try env.signer("policy/app").sign(digest: image.digest, reference: env.ref("policy/app"), annotations: ["env": "prod"], options: env.keyed(key))
        try env.signer("policy/app").sign(digest: image.digest, reference: env.ref("policy/app"), options: env.keyless())
        let v = try verifier(env, secrets: { ns, name in ns == "sealgate" && name == "cosign-key" ? key.publicKeyPEM : nil })

        let byKey = await v.verifySignature(image: ref, digest: image.digest,
                                            authority: SignatureAuthority(label: "authorities[0]", trust: .publicKey(pem: key.publicKeyPEM)))
        #expect(byKey.passed, "\(byKey.reason)")
        #expect(!byKey.transient)
        #expect(byKey.signatures.first?["annotations"]?["env"]?.stringValue == "prod")

        let bySecret = await v.verifySignature(image: ref, digest: image.digest,
                                               authority: SignatureAuthority(label: "s", trust: .secret(namespace: "sealgate", name: "cosign-key"),
                                                                             requiredAnnotations: ["env": "prod"]))
        #expect(bySecret.passed, "\(bySecret.reason)")
        let missingSecret = await v.verifySignature(image: ref, digest: image.digest,
                                                    authority: SignatureAuthority(label: "s", trust: .secret(namespace: "other", name: "cosign-key")))
        #expect(!missingSecret.passed && !missingSecret.transient)
        #expect(missingSecret.reason.contains("not found"))

        let keyless = await v.verifySignature(image: ref, digest: image.digest,
                                              authority: SignatureAuthority(label: "authorities[1]", trust: .keyless(Self.keylessTrust)))
        #expect(keyless.passed, "\(keyless.reason)")
        #expect(keyless.signatures.first?["subject"]?.stringValue == E2EWorld.subject)
        #expect(keyless.signatures.first?["issuer"]?.stringValue == E2EWorld.issuer)

        let wildcard = await v.verifySignature(image: ref, digest: image.digest, authority: SignatureAuthority(
            label: "w", trust: .keyless(KeylessTrust(identities: [KeylessIdentity(issuer: .wildcard("https://token.actions.*"), subject: .wildcard("*@refs/heads/main"))],
                                                     additionalExtensions: ["sourceRepositoryURI": "https://github.com/sealgate/*"]))))
        #expect(wildcard.passed, "\(wildcard.reason)")

        let wrongKey = await v.verifySignature(image: ref, digest: image.digest,
                                               authority: SignatureAuthority(label: "k", trust: .publicKey(pem: SigningKey.newP256().publicKeyPEM)))
        #expect(!wrongKey.passed && !wrongKey.transient)
        #expect(wrongKey.reason.hasPrefix("no signature verified for"), "\(wrongKey.reason)")
        #expect(wrongKey.reason.contains("signature 1 (tag \(RegistryClient.cosignTag(for: image.digest, .signature)) layer 0)"), "\(wrongKey.reason)")
        #expect(wrongKey.reason.contains("signature 2 (tag"), "\(wrongKey.reason)")

        let wrongIdentity = await v.verifySignature(image: ref, digest: image.digest, authority: SignatureAuthority(
            label: "i", trust: .keyless(KeylessTrust(identities: [KeylessIdentity(issuer: .exact(E2EWorld.issuer), subject: .exact("someone@example.com"))]))))
        #expect(!wrongIdentity.passed && !wrongIdentity.transient)
        #expect(wrongIdentity.reason.contains("certificate identity '\(E2EWorld.subject)' does not match expected 'someone@example.com'"), "\(wrongIdentity.reason)")

        let annotations = await v.verifySignature(image: ref, digest: image.digest, authority: SignatureAuthority(
            label: "a", trust: .publicKey(pem: key.publicKeyPEM), requiredAnnotations: ["env": "staging"]))
        #expect(!annotations.passed)

        let kms = await v.verifySignature(image: ref, digest: image.digest, authority: SignatureAuthority(label: "kms", trust: .kms(uri: "awskms:///x")))
        #expect(!kms.passed && kms.reason.contains("KMS not supported"))

        // Signatures kept in another repository (policy signatureRepository / COSIGN_REPOSITORY).
        let elsewhere = try env.pushImage("policy/elsewhere")
        try env.signer("policy/signatures").sign(digest: elsewhere.digest, reference: env.ref("policy/elsewhere"), options: env.keyed(key))
        let elsewhereRef = try ImageRef(parsing: env.ref("policy/elsewhere", ":v1"))
        let inRepo = await v.verifySignature(image: elsewhereRef, digest: elsewhere.digest,
                                             authority: SignatureAuthority(label: "k", trust: .publicKey(pem: key.publicKeyPEM)))
        #expect(!inRepo.passed)
        let inSigRepo = await v.verifySignature(image: elsewhereRef, digest: elsewhere.digest, authority: SignatureAuthority(
            label: "k", trust: .publicKey(pem: key.publicKeyPEM), signatureRepository: env.ref("policy/signatures")))
        #expect(inSigRepo.passed, "\(inSigRepo.reason)")

        let unsigned = try env.pushImage("policy/unsigned")
        let none = await v.verifySignature(image: try ImageRef(parsing: env.ref("policy/unsigned", ":v1")), digest: unsigned.digest,
                                           authority: SignatureAuthority(label: "k", trust: .publicKey(pem: key.publicKeyPEM)))
        #expect(!none.passed && !none.transient)
        #expect(none.reason.contains("no signatures found"))
    }

    @Test("a custom CA (ca-cert / Kyverno roots) replaces the trusted root's Fulcio CAs")
    func customCA() async throws {
        let env = try E2EWorld("imgverify")
        defer { env.stop() }
        let other = TestCertificateAuthority(name: "private-ca", notBefore: env.sigstore.validFrom, notAfter: Date().addingTimeInterval(86400 * 365))
        let image = try env.pushImage("policy/private")
        var o = env.keyless()
        o.issuingCA = other
        try env.signer("policy/private").sign(digest: image.digest, reference: env.ref("policy/private"), options: o)
        let v = try verifier(env)
        let ref = try ImageRef(parsing: env.ref("policy/private", ":v1"))
        let withRoot = await v.verifySignature(image: ref, digest: image.digest, authority: SignatureAuthority(label: "ca", trust: .keyless(KeylessTrust(
            rootsPEM: other.chain.map(PEM.certificate).joined(), identities: Self.keylessTrust.identities))))
        #expect(withRoot.passed, "\(withRoot.reason)")
        // Kyverno `certificates`: the signing certificate itself (and its chain) as the authority.
        let layer = try #require(try env.client.cosignAttachment(.signature, registry: env.registry.host, repository: "policy/private",
                                                                  digest: image.digest, deadline: .after(seconds: 10))?.layers.first)
        let certPEM = try #require(layer.annotations?[CosignAnnotation.certificate])
        let byCert = await v.verifySignature(image: ref, digest: image.digest, authority: SignatureAuthority(
            label: "certs", trust: .certificates(cert: certPEM, chain: other.chain.map(PEM.certificate).joined()), tlog: .init(ignore: true)))
        #expect(byCert.passed, "\(byCert.reason)")
        let wrongChain = await v.verifySignature(image: ref, digest: image.digest, authority: SignatureAuthority(
            label: "certs", trust: .certificates(cert: certPEM, chain: env.sigstore.fulcio.chain.map(PEM.certificate).joined())))
        #expect(!wrongChain.passed && wrongChain.reason.contains("does not verify against the certificate chain"), "\(wrongChain.reason)")
        let withoutRoot = await v.verifySignature(image: ref, digest: image.digest, authority: SignatureAuthority(label: "ca", trust: .keyless(Self.keylessTrust)))
        #expect(!withoutRoot.passed)
        #expect(withoutRoot.reason.contains("trusted Fulcio CA"), "\(withoutRoot.reason)")
    }

    @Test("attestations return the verified statements of the requested type; other types and subjects are refused")
    func attestations() async throws {
        let env = try E2EWorld("imgverify")
        defer { env.stop() }
        let image = try env.pushImage("policy/attested")
        let signer = env.signer("policy/attested")
        try signer.attest(digest: image.digest, reference: env.ref("policy/attested"), predicateType: "https://slsa.dev/provenance/v1",
                          predicate: TestSigstore.slsaV1Predicate, options: env.keyless())
        try signer.attest(digest: image.digest, reference: env.ref("policy/attested"), predicateType: "https://cyclonedx.org/bom",
                          predicate: TestSigstore.cycloneDXPredicate, options: env.keyless())
        try signer.attestBundle(digest: image.digest, reference: env.ref("policy/attested"), manifestMediaType: MediaType.ociManifest,
                                manifestSize: image.manifestBytes.count, predicateType: "https://slsa.dev/provenance/v1",
                                predicate: TestSigstore.slsaV1Predicate, options: env.keyless())
        let v = try verifier(env)
        let ref = try ImageRef(parsing: env.ref("policy/attested", ":v1"))
        let authority = SignatureAuthority(label: "attestors[0]", trust: .keyless(Self.keylessTrust))

        let slsa = await v.verifyAttestations(image: ref, digest: image.digest, authority: authority, predicateType: "https://slsa.dev/provenance/v1")
        #expect(slsa.passed, "\(slsa.reason)")
        #expect(slsa.statements.count == 2, "tag-scheme attestation and bundle referrer")
        for st in slsa.statements {
            #expect(st["predicateType"]?.stringValue == "https://slsa.dev/provenance/v1")
            #expect(st["_type"]?.stringValue == "https://in-toto.io/Statement/v1")
            #expect(st["subject"]?.arrayValue?.first?["digest"]?["sha256"]?.stringValue == String(image.digest.dropFirst(7)))
            #expect(st["predicate"]?["runDetails"]?["builder"]?["id"]?.stringValue?.hasPrefix("https://github.com/sealgate/test") == true)
        }
        // Short names work too; nil authority = any trusted Fulcio signer.
        let bom = await v.verifyAttestations(image: ref, digest: image.digest, authority: nil, predicateType: "cyclonedx")
        #expect(bom.passed, "\(bom.reason)")
        #expect(bom.statements.first?["predicate"]?["bomFormat"]?.stringValue == "CycloneDX")

        let spdx = await v.verifyAttestations(image: ref, digest: image.digest, authority: authority, predicateType: "https://spdx.dev/Document")
        #expect(!spdx.passed && !spdx.transient)
        #expect(spdx.reason.contains("predicate type is https://slsa.dev/provenance/v1, not https://spdx.dev/Document"), "\(spdx.reason)")
        #expect(spdx.statements.isEmpty)

        let wrongSigner = await v.verifyAttestations(image: ref, digest: image.digest,
                                                     authority: SignatureAuthority(label: "k", trust: .publicKey(pem: SigningKey.newP256().publicKeyPEM)),
                                                     predicateType: "https://slsa.dev/provenance/v1")
        #expect(!wrongSigner.passed)
    }

    @Test("registry down: outcome is transient; verification failures are not")
    func transient() async throws {
        let env = try E2EWorld("imgverify")
        let image = try env.pushImage("policy/down")
        try env.signer("policy/down").sign(digest: image.digest, reference: env.ref("policy/down"), options: env.keyless())
        let v = try verifier(env)
        let ref = try ImageRef(parsing: env.ref("policy/down", ":v1"))
        let authority = SignatureAuthority(label: "a", trust: .keyless(Self.keylessTrust))
        let up = await v.verifySignature(image: ref, digest: image.digest, authority: authority)
        #expect(up.passed, "\(up.reason)")
        env.stop()
        let fresh = try verifier(env)
        let down = await fresh.verifySignature(image: ref, digest: image.digest, authority: authority)
        #expect(!down.passed)
        #expect(down.transient, "\(down.reason)")
        #expect(down.reason.contains("unreachable") || down.reason.contains("timeout"), "\(down.reason)")
        let att = await fresh.verifyAttestations(image: ref, digest: image.digest, authority: authority, predicateType: "slsaprovenance1")
        #expect(!att.passed && att.transient)
    }

    @Test("predicate type short names follow cosign; other values must be URIs")
    func predicateTypes() throws {
        #expect(try PredicateType.resolve("slsaprovenance") == "https://slsa.dev/provenance/v0.2")
        #expect(try PredicateType.resolve("slsaprovenance02") == "https://slsa.dev/provenance/v0.2")
        #expect(try PredicateType.resolve("slsaprovenance1") == "https://slsa.dev/provenance/v1")
        #expect(try PredicateType.resolve("spdxjson") == "https://spdx.dev/Document")
        #expect(try PredicateType.resolve("cyclonedx") == "https://cyclonedx.org/bom")
        #expect(try PredicateType.resolve("vuln") == "https://cosign.sigstore.dev/attestation/vuln/v1")
        #expect(try PredicateType.resolve("openvex") == "https://openvex.dev/ns")
        #expect(try PredicateType.resolve("custom") == "https://cosign.sigstore.dev/attestation/v1")
        #expect(try PredicateType.resolve("https://example.com/my/v1") == "https://example.com/my/v1")
        #expect(throws: PredicateType.InvalidType.self) { try PredicateType.resolve("slsa") }
    }
}

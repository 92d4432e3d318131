import Foundation
import Testing
@testable import ImagePolicy

/// Kyverno verifyImages fields that only travel into the authority sealgate verifies with (the verifier's use of
/// each is covered in ImageVerificationTests): each must arrive, none may be dropped on the way.
@Suite struct KyvernoFieldMappingTests {
    static let certPEM = """
        -----BEGIN CERTIFICATE-----
        MIIBhzCCAS2gAwIBAgIUXskG4feLR01FnqMl1CyLqDbS/UowCgYIKoZIzj0EAwIw
        GDEWMBQGA1UEAwwNc2VhbGdhdGUtdGVzdDAgFw0yNjEyMDEyMjA2NDVaGA8yMTI2
        MTEwNzIyMDY0NVowGDEWMBQGA1UEAwwNc2VhbGdhdGUtdGVzdDBZMBMGByqGSM49
        AgEGCCqGSM49AwEHA0IABGrOF4NyK8WTkjIKHcYcFG1gy+bXLWSXNzwdG5wzVb3f
        231r1dj3p9PdQcgE2+kuGifUIrgdi6M7RNYwJ9qRT8yjUzBRMB0GA1UdDgQWBBQW
        MlsZ7fFj+q+EI4nkg2VS2E8Y1DAfBgNVHSMEGDAWgBQWMlsZ7fFj+q+EI4nkg2VS
        2E8Y1DAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQDbEBNTHtlO
        RwwHlY9fKdhjFPt+4UREDypt7wnW1SralQIgRR0n47v0e3A8456MiPfhrQCUzchi
        c2vlZhey444rKts=
        -----END CERTIFICATE-----
        """
    static var key: String { AuthorityFieldTests.keyPEM.replacingOccurrences(of: "\n", with: "\\n") }
    static var cert: String { certPEM.replacingOccurrences(of: "\n", with: "\\n") }

    func authorities(_ verify: String) throws -> [SignatureAuthority] {
        let r = load(policy(verify: verify))
        #expect(!r.hasErrors, "\(errorText(r))")
        let v = try #require(r.policies.kyvernoPolicies.first?.rules.first?.verifyImages.first)
        return (v.attestors + v.attestations.flatMap(\.attestors)).flatMap(\.entries).compactMap {
            if case .authority(let a) = $0 { return a }
            return nil
        }
    }

    @Test("rekor and ctlog settings of keys, certificates and keyless entries reach the authority (attestors and attestations)")
    func rekorAndCtlogReachTheAuthority() throws {
        let logs = "rekor: {url: \"https://rekor.example\", pubkey: rekor-key, ignoreTlog: true}, ctlog: {ignoreSCT: true, pubkey: ct-key, tsaCertChain: tsa-chain}"
        for entry in ["keys: {publicKeys: \"\(Self.key)\", \(logs)}", "certificates: {cert: \"\(Self.cert)\", certChain: \"\(Self.cert)\", \(logs)}",
                      "keyless: {subject: s, issuer: i, \(logs)}"] {
            let all = try authorities("      attestors: [{entries: [{\(entry)}]}]\n      attestations: [{type: t, attestors: [{entries: [{\(entry)}]}]}]")
            #expect(all.count == 2, "\(entry)")
            for a in all {
                #expect(a.tlog.url == "https://rekor.example" && a.tlog.publicKey == "rekor-key" && a.tlog.ignore, "\(entry)")
                #expect(a.ignoreSCT && a.ctlogPublicKey == "ct-key" && a.timestampAuthority == "tsa-chain", "\(entry)")
            }
        }
        let c = try #require(try authorities("      attestors: [{entries: [{certificates: {cert: \"\(Self.cert)\", certChain: \"\(Self.cert)\"}}]}]").first)
        #expect(c.trust == .certificates(cert: Self.certPEM, chain: Self.certPEM))
    }

    @Test("entry annotations, repository and signature algorithms reach the authority; verifyImages repository is the default")
    func entryFieldsReachTheAuthority() throws {
        let all = try authorities("""
              repository: registry.example/default-sigs
              attestors: [{entries: [
                {keys: {publicKeys: "\(Self.key)", signatureAlgorithm: sha512}, annotations: {team: a}, repository: registry.example/sigs},
                {keys: {secret: {name: k, namespace: n}}, signatureAlgorithm: sha384}]}]
        """)
        #expect(all.count == 2)
        #expect(all[0].requiredAnnotations == ["team": "a"] && all[0].signatureRepository == "registry.example/sigs")
        #expect(all[0].hashAlgorithm == "sha512" && all[0].trust == .publicKey(pem: AuthorityFieldTests.keyPEM))
        #expect(all[1].hashAlgorithm == "sha384" && all[1].signatureRepository == "registry.example/default-sigs")
        #expect(all[1].trust == .secret(namespace: "n", name: "k"))
    }

    @Test("keyless regular expressions, roots and additionalExtensions reach the identity")
    func keylessFieldsReachTheIdentity() throws {
        let a = try #require(try authorities("""
              attestors: [{entries: [{keyless: {subjectRegExp: "^https://github.com/", issuerRegExp: "^https://token", roots: "\(Self.cert)",
                additionalExtensions: {githubWorkflowRepository: acme/app}}}]}]
        """).first)
        guard case .keyless(let k) = a.trust else { Issue.record("keyless expected"); return }
        #expect(k.identities == [KeylessIdentity(issuer: .regex("^https://token"), subject: .regex("^https://github.com/"))])
        #expect(k.rootsPEM == Self.certPEM && k.additionalExtensions == ["githubWorkflowRepository": "acme/app"])
    }

    @Test("kyverno.io/v1 single-signer fields (image, key, subject, issuer, roots, additionalExtensions) become attestors")
    func deprecatedSignerFieldsBecomeAttestors() throws {
        let r = load(policy(verify: """
              image: "registry.example/*"
              key: "\(Self.key)"
              subject: "https://github.com/acme/*"
              issuer: "https://token.actions.githubusercontent.com"
              roots: "\(Self.cert)"
              additionalExtensions: {githubWorkflowTrigger: push}
        """, refs: "[]"))
        #expect(!r.hasErrors, "\(errorText(r))")
        let v = try #require(r.policies.kyvernoPolicies.first?.rules.first?.verifyImages.first)
        #expect(v.imageReferences == ["registry.example/*"])
        let trusts = v.attestors.flatMap(\.entries).compactMap { e -> TrustSource? in
            if case .authority(let a) = e { return a.trust }
            return nil
        }
        #expect(trusts.first == .publicKey(pem: AuthorityFieldTests.keyPEM))
        guard case .keyless(let k)? = trusts.last else { Issue.record("keyless expected"); return }
        #expect(k.identities == [KeylessIdentity(issuer: .wildcard("https://token.actions.githubusercontent.com"), subject: .wildcard("https://github.com/acme/*"))])
        #expect(k.rootsPEM == Self.certPEM && k.additionalExtensions == ["githubWorkflowTrigger": "push"])
    }

    @Test("attestations predicateType is the deprecated spelling of type, with a warning")
    func predicateTypeIsTheDeprecatedType() throws {
        let r = load(policy(verify: "      attestations: [{predicateType: \"https://slsa.dev/provenance/v1\", attestors: [{entries: [{keys: {secret: {name: k, namespace: n}}}]}]}]"))
        #expect(!r.hasErrors, "\(errorText(r))")
        #expect(r.policies.kyvernoPolicies.first?.rules.first?.verifyImages.first?.attestations.first?.type == "https://slsa.dev/provenance/v1")
        #expect(r.warnings.contains { $0.message.contains("predicateType has been deprecated") })
    }

    @Test("webhookConfiguration.failurePolicy sets the policy's failure policy (as the deprecated spec.failurePolicy does)")
    func webhookConfigurationFailurePolicy() throws {
        let verify = "      attestors: [{entries: [{keys: {secret: {name: k, namespace: n}}}]}]"
        for spec in ["webhookConfiguration: {failurePolicy: Ignore}", "failurePolicy: Ignore"] {
            let r = load(policy(verify: verify, spec: spec))
            #expect(r.policies.kyvernoPolicies.first?.failurePolicy == .ignore, "\(spec): \(errorText(r))")
        }
        #expect(load(policy(verify: verify)).policies.kyvernoPolicies.first?.failurePolicy == .fail)
    }
}

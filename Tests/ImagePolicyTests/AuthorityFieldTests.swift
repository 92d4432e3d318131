import Testing
@testable import ImagePolicy

/// ClusterImagePolicy authority fields with policy-controller's semantics: `ctlog` decides whether a Rekor entry
/// is required, `signatureFormat` where signatures are looked up, `rfc3161timestamp` the TSA; fields sealgate
/// cannot honour are refused at load, naming the field.
@Suite struct AuthorityFieldTests {
    static let keyPEM = """
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEoGSZ0kUE9q2H6N3Q3sEY9GGyJmUTlG0Mk+3V8C8mQz4Ng0Q0HmDgkD5mKcVp0aWbGxKpHkWfV3n2aTSR0pLhTg==
        -----END PUBLIC KEY-----
        """

    static func policy(_ authority: String) -> String {
        """
        apiVersion: policy.sigstore.dev/v1beta1
        kind: ClusterImagePolicy
        metadata: {name: p}
        spec:
          images: [{glob: "**"}]
          authorities:
            - \(authority)
        """
    }

    static let key = "key: {data: \"\(keyPEM.replacingOccurrences(of: "\n", with: "\\n"))\"}"
    static let keyless = "keyless: {url: \"https://fulcio.example\", identities: [{issuer: i, subject: s}]}"

    func authority(_ yaml: String) throws -> SignatureAuthority {
        let r = load(Self.policy(yaml))
        #expect(r.errors.isEmpty, "\(errorText(r))")
        let a = try #require(r.policies.clusterImagePolicies.first?.authorities.first)
        guard case .signature(let s) = a.kind else { throw CancellationError() }
        return s
    }

    @Test("Rekor entry required only with ctlog (key), by default for keyless, never with rfc3161timestamp")
    func tlogRequirement() throws {
        #expect(try authority(Self.key).tlog.ignore)
        #expect(try !authority(Self.key + "\n      ctlog: {url: \"https://rekor.example\"}").tlog.ignore)
        let viaRef = try authority(Self.key + "\n      ctlog: {trustRootRef: private}")
        #expect(!viaRef.tlog.ignore && viaRef.tlog.trustRootRef == "private")
        #expect(try authority(Self.key + "\n      ctlog: {}").tlog.ignore)
        #expect(try !authority(Self.keyless).tlog.ignore)
        let tsa = try authority(Self.keyless + "\n      rfc3161timestamp: {trustRootRef: tsa}")
        #expect(tsa.tlog.ignore && tsa.timestampTrustRootRef == "tsa" && tsa.timestampAuthority == nil)
    }

    @Test func signatureFormat() throws {
        #expect(try authority(Self.key).signatureFormat == "legacy")
        #expect(try authority(Self.key + "\n      signatureFormat: bundle").signatureFormat == "bundle")
        #expect(try authority(Self.key + "\n      signatureFormat: legacy").signatureFormat == "legacy")
        let bad = load(Self.policy(Self.key + "\n      signatureFormat: sigstore"))
        #expect(errorText(bad).contains("spec.authorities[0].signatureFormat: invalid value: sigstore: spec.authorities[0].signatureFormat: unsupported signature format (want legacy or bundle)"),
                "\(errorText(bad))")
    }

    @Test(arguments: [
        (key + "\n      source: [{oci: registry.example/sigs, tagPrefix: v1-}]", "spec.authorities[0].source[0].tagPrefix: tagPrefix is not supported"),
        (key + "\n      source: [{oci: registry.example/a}, {oci: registry.example/b}]",
         "spec.authorities[0].source: sealgate supports a single signature source per authority, got 2"),
        (keyless + "\n      rfc3161timestamp: {}", "spec.authorities[0].rfc3161timestamp.trustRootRef: missing field(s)"),
        ("static: {action: pass}\n      signatureFormat: bundle", "expected exactly one, got both: spec.authorities[0].static, spec.authorities[0].signatureFormat"),
        ("static: {action: pass}\n      rfc3161timestamp: {trustRootRef: x}", "expected exactly one, got both: spec.authorities[0].static, spec.authorities[0].rfc3161timestamp"),
    ])
    func refusedNamingTheField(yaml: String, message: String) {
        let r = load(Self.policy(yaml))
        #expect(r.policies.clusterImagePolicies.isEmpty)
        #expect(errorText(r).contains(message), "\(errorText(r))")
    }

    @Test func oneSourceWithPullSecretsIsKept() throws {
        let a = try authority(Self.key + "\n      source: [{oci: registry.example/sigs, signaturePullSecrets: [{name: regcred}]}]")
        #expect(a.signatureRepository == "registry.example/sigs" && a.pullSecrets == ["regcred"])
    }
}

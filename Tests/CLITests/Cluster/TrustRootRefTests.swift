import E2ESupport
import Foundation
import KubernetesTestSupport
import SealgateCore
import SigstoreTestSupport
import SigstoreVerify
import Testing
import TestSupport

/// A ClusterImagePolicy authority naming a TrustRoot (`trustRootRef`) verifies against that TrustRoot's
/// `sigstoreKeys` — here a private (test) Sigstore — instead of the default public-good root.
@Suite(.serialized)
struct TrustRootRefTests {
    /// The test Sigstore as a TrustRoot `sigstoreKeys` (PEM, base64-encoded like Go []byte).
    static func sigstoreKeys(_ sigstore: TestSigstore) throws -> JSONValue {
        try JSONValue.parse(data: JSONSerialization.data(withJSONObject: sigstore.sigstoreKeys()))
    }

    static func policy(_ name: String, host: String, trustRoot: String) -> JSONValue {
        ["apiVersion": "policy.sigstore.dev/v1beta1", "kind": "ClusterImagePolicy", "metadata": ["name": .string(name)],
         "spec": ["images": [["glob": .string("\(host)/\(name)/**")]],
                  "authorities": [["keyless": ["url": "https://fulcio.example", "trustRootRef": .string(trustRoot),
                                               "identities": [["issuer": .string(E2EWorld.issuer),
                                                               "subjectRegExp": "^https://github.com/sealgate/.*"]]]]]]]
    }

    @Test func keylessAuthorityVerifiesAgainstTheNamedTrustRoot() async throws {
        let world = try E2EWorld("trustroot-ref")
        defer { world.stop() }
        let sigstore = world.sigstore
        for repo in ["private", "missing"] { try world.pushSigned("\(repo)/app") }

        // The conversion itself: the same CAs and logs as the trusted_root.json it came from.
        let keys = try Self.sigstoreKeys(sigstore)
        let converted = try TrustedRoot(sigstoreKeys: Data(keys.jsonString.utf8))
        let original = try TrustedRoot(json: sigstore.trustedRootJSON())
        #expect(converted.tlogs.map(\.logID) == original.tlogs.map(\.logID) && converted.ctlogs.map(\.logID) == original.ctlogs.map(\.logID))
        #expect(converted.certificateAuthorities.map(\.chain) == original.certificateAuthorities.map(\.chain))

        let api = try FakeAPIServer()
        try api.put(Objects.trustRoot, ["apiVersion": "policy.sigstore.dev/v1alpha1", "kind": "TrustRoot", "metadata": ["name": "test-sigstore"],
                                        "spec": ["sigstoreKeys": keys]])
        try api.put(Objects.cip, Self.policy("private", host: world.host, trustRoot: "test-sigstore"))
        try api.put(Objects.cip, Self.policy("missing", host: world.host, trustRoot: "no-such-root"))
        let kubeconfig = try api.writeKubeconfig(in: world.dir)
        // No --trusted-root: without the TrustRoot the public-good root would reject the test signatures.
        let server = try world.serve(["--kubeconfig", kubeconfig, "--watch-policies", "--insecure-registry", world.host])
        defer { server.stop() }
        #expect(try await eventually(timeout: 20) { try world.curl(server, "/readyz", ["-o", "/dev/null", "-w", "%{http_code}"]) == "200" })

        func admit(_ repo: String) throws -> [String: Any] {
            let review = AdmissionReviews.review(AdmissionReviews.object(spec: AdmissionReviews.podSpec([("c", world.ref("\(repo)/app", ":v1"))])),
                                                 uid: "u-\(repo)")
            return try world.post(try AdmissionReviews.write(review, in: world.dir), to: server)
        }
        let ok = try admit("private")
        #expect(ok["allowed"] as? Bool == true, "\(ok)")
        let missing = try admit("missing")
        #expect(missing["allowed"] as? Bool == false)
        let message = E2EWorld.message(missing)
        #expect(message.contains(#"trust root "no-such-root" not found"#), "\(message)")
    }
}

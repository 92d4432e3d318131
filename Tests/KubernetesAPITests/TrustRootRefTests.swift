import Foundation
import ImagePolicy
import Registry
import RegistryTestSupport
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
                                               "identities": [["issuer": .string(TestIdentity.githubWorkflow.issuer),
                                                               "subjectRegExp": "^https://github.com/sealgate/.*"]]]]]]]
    }

    @Test func keylessAuthorityVerifiesAgainstTheNamedTrustRoot() async throws {
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let client = try registry.client()
        let sigstore = TestSigstore()
        for repo in ["private", "missing"] {
            try TestImages.pushSigned(client, registry: registry.host, repository: "\(repo)/app", sigstore: sigstore, options: sigstore.options(at: Date()))
        }

        // The conversion itself: the same CAs and logs as the trusted_root.json it came from.
        let keys = try Self.sigstoreKeys(sigstore)
        let converted = try TrustedRoot(sigstoreKeys: Data(keys.jsonString.utf8))
        let original = try TrustedRoot(json: sigstore.trustedRootJSON())
        #expect(converted.tlogs.map(\.logID) == original.tlogs.map(\.logID) && converted.ctlogs.map(\.logID) == original.ctlogs.map(\.logID))
        #expect(converted.certificateAuthorities.map(\.chain) == original.certificateAuthorities.map(\.chain))

        let api = try FakeAPIServer()
        try api.put(Objects.trustRoot, ["apiVersion": "policy.sigstore.dev/v1alpha1", "kind": "TrustRoot", "metadata": ["name": "test-sigstore"],
                                        "spec": ["sigstoreKeys": keys]])
        try api.put(Objects.cip, Self.policy("private", host: registry.host, trustRoot: "test-sigstore"))
        try api.put(Objects.cip, Self.policy("missing", host: registry.host, trustRoot: "no-such-root"))
        let dir = try makeTemporaryDirectory("trustroot-ref")
        let kubeconfig = try api.writeKubeconfig(in: dir)
        // No --trusted-root: without the TrustRoot the public-good root would reject the test signatures.
        let server = try SealgateServer(arguments: ["--plaintext", "--address", "127.0.0.1:0", "--kubeconfig", kubeconfig, "--watch-policies",
                                                   "--insecure-registry", registry.host],
                                        environment: ["HOME": dir.path], directory: dir.path)
        defer { server.stop() }
        #expect(try await eventually(timeout: 20) {
            try Subprocess.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", server.baseURL + "/readyz"]).stdout == "200"
        })

        func admit(_ repo: String) throws -> [String: Any] {
            let review = dir.appendingPathComponent("review-\(repo).json")
            try #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-\#(repo)","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"shop","operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"shop"},"spec":{"containers":[{"name":"c","image":"\#(registry.host)/\#(repo)/app:v1"}]}}}}"#
                .write(to: review, atomically: true, encoding: .utf8)
            let out = try Subprocess.run("curl", ["-s", "-H", "content-type: application/json", "--data-binary", "@\(review.path)",
                                                  server.baseURL + "/validate"]).stdout
            let object = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "\(out)")
            return try #require(object["response"] as? [String: Any])
        }
        let ok = try admit("private")
        #expect(ok["allowed"] as? Bool == true, "\(ok)")
        let missing = try admit("missing")
        #expect(missing["allowed"] as? Bool == false)
        let message = ((missing["status"] as? [String: Any])?["message"] as? String) ?? ""
        #expect(message.contains(#"trust root "no-such-root" not found"#), "\(message)")
    }
}

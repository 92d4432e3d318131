import Foundation
import Registry
import Testing

struct CredentialTests {
    @Test("docker config.json: base64 auth, username/password, Docker Hub aliases")
    func dockerConfig() throws {
        var store = CredentialStore()
        let config = #"""
        {"auths": {
          "https://index.docker.io/v1/": {"auth": "\#(Data("hub:pw1".utf8).base64EncodedString())"},
          "ghcr.io": {"username": "gh", "password": "pw2"},
          "registry.example.com:5000": {"auth": "\#(Data("a:b:c".utf8).base64EncodedString())"}
        }, "credsStore": "desktop"}
        """#
        try store.addDockerConfig(Data(config.utf8), source: "config.json")
        #expect(store.credential(for: "index.docker.io") == Credential(username: "hub", password: "pw1"))
        #expect(store.credential(for: "docker.io") == Credential(username: "hub", password: "pw1"))
        #expect(store.credential(for: "GHCR.io") == Credential(username: "gh", password: "pw2"))
        // Only the first colon separates user from password.
        #expect(store.credential(for: "registry.example.com:5000") == Credential(username: "a", password: "b:c"))
        #expect(store.credential(for: "quay.io") == nil)
    }

    @Test("legacy .dockercfg pull secrets and rejected inputs name their source")
    func pullSecrets() throws {
        var store = CredentialStore()
        try store.addPullSecret(type: "kubernetes.io/dockercfg", data: Data(#"{"quay.io":{"auth":"\#(Data("q:pw".utf8).base64EncodedString())"}}"#.utf8), source: "ns/legacy")
        #expect(store.credential(for: "quay.io")?.username == "q")
        let bad = #expect(throws: CredentialStore.FormatError.self) {
            try store.addPullSecret(type: "kubernetes.io/dockerconfigjson", data: Data(#"{"auths":{"x.io":{"auth":"!!notbase64"}}}"#.utf8), source: "ns/broken")
        }
        #expect(bad?.description.contains("ns/broken") == true)
        #expect(bad?.description.contains("x.io") == true)
        let wrongType = #expect(throws: CredentialStore.FormatError.self) {
            try store.addPullSecret(type: "Opaque", data: Data("{}".utf8), source: "ns/opaque")
        }
        #expect(wrongType?.description.contains("not a pull secret") == true)
        #expect(throws: CredentialStore.FormatError.self) {
            try store.addDockerConfig(Data("not json".utf8), source: "x")
        }
    }

    @Test("cosign tag names for a digest")
    func cosignTags() {
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        #expect(RegistryClient.cosignTag(for: digest, .signature) == "sha256-" + String(repeating: "ab", count: 32) + ".sig")
        #expect(RegistryClient.cosignTag(for: digest, .attestation).hasSuffix(".att"))
        #expect(RegistryClient.cosignTag(for: digest, .sbom).hasSuffix(".sbom"))
    }
}

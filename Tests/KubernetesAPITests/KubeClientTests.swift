import Foundation
import ImagePolicy
import ImageReference
import KubernetesAPI
import KubernetesTestSupport
import Registry
import Testing
import TestSupport

/// Configuration loading, the client's error reporting, watch event parsing and the secret cache.
@Suite(.serialized)
struct KubeClientTests {
    @Test func inClusterConfigReadsServiceAccountFiles() throws {
        let dir = try makeTemporaryDirectory("sa")
        try "CA".write(to: dir.appendingPathComponent("ca.crt"), atomically: true, encoding: .utf8)
        try "tok\n".write(to: dir.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        try "team-a".write(to: dir.appendingPathComponent("namespace"), atomically: true, encoding: .utf8)
        let config = try KubeConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"], directory: dir.path)
        #expect(config.host == "10.0.0.1" && config.port == 443 && config.namespace == "team-a")
        guard case .tokenFile(let path) = config.credentials else { Issue.record("want a token file"); return }
        #expect(path == dir.appendingPathComponent("token").path)
        #expect(throws: KubeConfig.Failure.self) { try KubeConfig.inCluster(environment: [:], directory: dir.path) }
    }

    @Test func kubeconfigCurrentContextTokenAndClientCertificate() throws {
        let dir = try makeTemporaryDirectory("kubeconfig")
        try "CA PEM".write(to: dir.appendingPathComponent("ca.pem"), atomically: true, encoding: .utf8)
        let yaml = """
        apiVersion: v1
        kind: Config
        current-context: dev
        contexts:
        - name: dev
          context: {cluster: c1, user: u1, namespace: ns1}
        - name: prod
          context: {cluster: c2, user: u2}
        clusters:
        - name: c1
          cluster: {server: "https://127.0.0.1:6443/prefix", certificate-authority: ca.pem}
        - name: c2
          cluster: {server: "https://prod.example", certificate-authority-data: \(Data("PROD CA".utf8).base64EncodedString())}
        users:
        - name: u1
          user: {token: abc}
        - name: u2
          user: {client-certificate-data: \(Data("CERT".utf8).base64EncodedString()), client-key-data: \(Data("KEY".utf8).base64EncodedString())}
        """
        let path = dir.appendingPathComponent("config").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let dev = try KubeConfig.kubeconfig(path: path)
        #expect(dev.host == "127.0.0.1" && dev.port == 6443 && dev.basePath == "/prefix" && dev.namespace == "ns1")
        #expect(dev.caPEM == Data("CA PEM".utf8))
        guard case .token("abc") = dev.credentials else { Issue.record("want token abc"); return }

        try yaml.replacingOccurrences(of: "current-context: dev", with: "current-context: prod").write(toFile: path, atomically: true, encoding: .utf8)
        let prod = try KubeConfig.kubeconfig(path: path)
        #expect(prod.host == "prod.example" && prod.port == 443 && prod.caPEM == Data("PROD CA".utf8))
        guard case .clientCertificate(let cert, let key) = prod.credentials else { Issue.record("want a client certificate"); return }
        #expect(cert == Data("CERT".utf8) && key == Data("KEY".utf8))

        try yaml.replacingOccurrences(of: "current-context: dev", with: "current-context: nope").write(toFile: path, atomically: true, encoding: .utf8)
        do { _ = try KubeConfig.kubeconfig(path: path); Issue.record("unknown context accepted") } catch {
            #expect(error.description.contains("contexts has no entry named \"nope\""))
        }
    }

    @Test func malformedWatchEventsGiveClearErrors() throws {
        let r = ClusterPolicySource.clusterImagePolicies
        for (line, expected) in [("{not json", "not JSON"), ("{\"object\":{}}", "no \"type\""), ("{\"type\":\"WHAT\",\"object\":{}}", "unknown event type"),
                                 ("{\"type\":\"ADDED\"}", "no object")] {
            do { _ = try WatchEvent.parse(Array(line.utf8), resource: r); Issue.record("accepted \(line)") } catch {
                #expect("\(error)".contains(expected) && "\(error)".contains("clusterimagepolicies.policy.sigstore.dev"), "\(error)")
            }
        }
        let ok = try WatchEvent.parse(Array("{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"7\"}}}".utf8), resource: r)
        #expect(ok.kind == .bookmark)
    }

    @Test func wrongTokenIsAClearError() throws {
        let server = try FakeAPIServer()
        try "wrong".write(toFile: server.tokenFile, atomically: true, encoding: .utf8)
        let client = try KubeClient(config: server.config)
        do { _ = try client.list(ClusterPolicySource.clusterImagePolicies); Issue.record("wrong token accepted") } catch {
            #expect((error as? KubeError)?.code == 401 && "\(error)".contains("Unauthorized"), "\(error)")
        }
    }

    @Test func secretsAreReadOnDemandAndCachedBriefly() async throws {
        let server = try FakeAPIServer()
        let client = try KubeClient(config: server.config)
        let cache = SecretCache(client: client, ttl: 0.5, defaultNamespace: "sealgate-system", logger: testLogger)
        #expect(cache.pem(namespace: nil, name: "cosign-key") == nil)
        try server.control("secret", ["namespace": "sealgate-system", "name": "cosign-key",
                                      "data": ["cosign.pub": .string(Data("PEM-1".utf8).base64EncodedString()),
                                               "cosign.key": .string(Data("private".utf8).base64EncodedString())]])
        // The miss is cached for the TTL, then the secret is found.
        #expect(cache.pem(namespace: nil, name: "cosign-key") == nil)
        #expect(await eventually(timeout: 5) { cache.pem(namespace: nil, name: "cosign-key") == "PEM-1" })
        try server.control("secret", ["namespace": "sealgate-system", "name": "cosign-key",
                                      "data": ["cosign.pub": .string(Data("PEM-2".utf8).base64EncodedString())]])
        #expect(cache.pem(namespace: "sealgate-system", name: "cosign-key") == "PEM-1", "cached within the TTL")
        #expect(await eventually(timeout: 5) { cache.pem(namespace: nil, name: "cosign-key") == "PEM-2" })
    }

    @Test func clientCertificateIdentityIsLoadedAndChecked() throws {
        let pki = try TestPKI()
        let a = try pki.issueServerCertificate(name: "client-a", serial: 11)
        let b = try pki.issueServerCertificate(name: "client-b", serial: 12)
        func config(_ cert: String, _ key: String) -> KubeConfig {
            KubeConfig(host: "127.0.0.1", port: 1, caPEM: FileManager.default.contents(atPath: pki.caCertificate),
                       credentials: .clientCertificate(certificatePEM: FileManager.default.contents(atPath: cert)!,
                                                       keyPEM: FileManager.default.contents(atPath: key)!))
        }
        _ = try KubeClient(config: config(a.certificate, a.key))
        do { _ = try KubeClient(config: config(a.certificate, b.key)); Issue.record("mismatched key accepted") } catch {
            #expect("\(error)".contains("does not match"), "\(error)")
        }
        do { _ = try KubeClient(config: config(a.key, a.key)); Issue.record("key as certificate accepted") } catch {
            #expect("\(error)".contains("no PEM certificate"), "\(error)")
        }
    }
}

/// signaturePullSecrets: a dockerconfigjson Secret named by a policy authenticates registry requests.
@Suite(.serialized)
struct PullSecretTests {
    @Test func policyPullSecretsBecomeRegistryCredentials() async throws {
        let api = try FakeAPIServer()
        let registry = try FaultyRegistry()
        defer { registry.stop() }
        let host = registry.host
        let auth = Data("alice:wonderland".utf8).base64EncodedString()
        let dockerConfig = Data(#"{"auths":{"\#(host)":{"auth":"\#(auth)"}}}"#.utf8).base64EncodedString()
        try api.control("secret", ["namespace": "sealgate-system", "name": "regcred", "type": "kubernetes.io/dockerconfigjson",
                                   "data": [".dockerconfigjson": .string(dockerConfig)]])
        let policy = try PolicyLoader.load(text: """
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata: {name: private}
            spec:
              images: [{glob: "\(host)/**"}]
              authorities:
              - keyless: {identities: [{issuer: "https://issuer.example", subject: "ci@example.com"}]}
                source: [{signaturePullSecrets: [{name: regcred}]}]
            """).get()
        let names = PullSecretCredentials.names(in: policy)
        #expect(names == ["regcred"])
        let client = try KubeClient(config: api.config)
        let provider = PullSecretCredentials(secrets: SecretCache(client: client, defaultNamespace: "sealgate-system", logger: testLogger),
                                             logger: testLogger) { names }
        #expect(provider.credential(for: host) == Credential(username: "alice", password: "wonderland"))
        #expect(provider.credential(for: "other.example") == nil)

        var config = RegistryConfiguration()
        config.insecureRegistries = [host]
        config.credentialFallback = { provider.credential(for: $0) }
        let ref = try ImageRef(parsing: "\(host)/bearer/img:one")
        let digest = try RegistryClient(configuration: config).resolve(ref, deadline: .after(seconds: 5)).digest
        #expect(digest.hasPrefix("sha256:"))
        var without = RegistryConfiguration()
        without.insecureRegistries = [host]
        #expect(throws: RegistryError.self) { try RegistryClient(configuration: without).resolve(ref, deadline: .after(seconds: 5)) }
    }
}

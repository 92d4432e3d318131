import Admission
import Foundation
import KubernetesAPI
import KubernetesTestSupport
import Logging
import Registry
import SealgateCore
import Testing
import TestSupport

/// Registry credentials from Secrets through the fake apiserver: a workload's own (its namespace only, its
/// ServiceAccount's included, cached) and the ones policies name (`name` in sealgate's namespace, `namespace/name`).
@Suite(.serialized)
struct WorkloadPullSecretTests {
    static func dockerConfig(_ host: String, _ user: String, _ password: String) -> JSONValue {
        let auth = Data("\(user):\(password)".utf8).base64EncodedString()
        return .string(Data(#"{"auths":{"\#(host)":{"auth":"\#(auth)"}}}"#.utf8).base64EncodedString())
    }

    static func secret(_ api: FakeAPIServer, _ namespace: String, _ name: String, host: String = "reg.example", user: String,
                       type: String = "kubernetes.io/dockerconfigjson", key: String = ".dockerconfigjson") throws {
        try api.control("secret", ["namespace": .string(namespace), "name": .string(name), "type": .string(type),
                                   "data": .object([key: dockerConfig(host, user, "pw-\(user)")])])
    }

    static func pod(_ secrets: [String], namespace: String = "shop", serviceAccount: String? = nil) throws -> WorkloadPullSecrets {
        var spec: [String: JSONValue] = ["containers": [["name": "c", "image": "reg.example/app:v1"]]]
        spec["imagePullSecrets"] = .array(secrets.map { ["name": .string($0)] })
        if let serviceAccount { spec["serviceAccountName"] = .string(serviceAccount) }
        let request = AdmissionRequest(uid: "u", kind: GroupVersionKind(group: "", version: "v1", kind: "Pod"),
                                       resource: GroupVersionResource(group: "", version: "v1", resource: "pods"), namespace: namespace,
                                       operation: "CREATE", object: ["metadata": ["name": "p"], "spec": .object(spec)])
        return try #require(WorkloadPullSecrets(request))
    }

    @Test("a workload's secrets come from its namespace only; its ServiceAccount's follow its own; the first with the registry wins; cached")
    func workloadSecrets() throws {
        let api = try FakeAPIServer()
        try Self.secret(api, "shop", "first", user: "first")
        try Self.secret(api, "shop", "second", user: "second")
        try Self.secret(api, "shop", "other-host", host: "other.example", user: "elsewhere")
        try Self.secret(api, "shop", "from-account", user: "account")
        try Self.secret(api, "payments", "theirs", user: "payments")
        try api.put("serviceaccounts", ["metadata": ["name": "builder", "namespace": "shop"], "imagePullSecrets": [["name": "from-account"]]])
        let client = try KubeClient(config: api.config)
        let logger = Logger(label: "test")
        let secrets = SecretCache(client: client, defaultNamespace: "sealgate-system", logger: logger)
        let credentials = WorkloadCredentials(client: client, secrets: secrets, logger: logger)

        let both = try #require(credentials.credentials(for: try Self.pod(["first", "second", "other-host"])))
        #expect(both.store.credential(for: "reg.example")?.username == "first")
        #expect(both.store.credential(for: "other.example")?.username == "elsewhere")
        #expect(both.sources == ["shop/first", "shop/second", "shop/other-host"])
        // Another namespace's secret, named from this one: not found here, never read there.
        #expect(credentials.credentials(for: try Self.pod(["theirs"])) == nil)
        #expect(credentials.credentials(for: try Self.pod(["payments/theirs"])) == nil)
        // The ServiceAccount's imagePullSecrets, after the Pod's own.
        #expect(credentials.credentials(for: try Self.pod([], serviceAccount: "builder"))?.store.credential(for: "reg.example")?.username == "account")
        #expect(credentials.credentials(for: try Self.pod(["second"], serviceAccount: "builder"))?.store.credential(for: "reg.example")?.username == "second")
        // The same credentials, the same identity; different ones, another.
        let again = try #require(credentials.credentials(for: try Self.pod(["first", "second", "other-host"])))
        #expect(again.identity == both.identity && !both.identity.isEmpty)
        #expect(credentials.credentials(for: try Self.pod(["second"]))?.identity != both.identity)
        // Restricted to listed namespaces: nothing read elsewhere.
        let restricted = WorkloadCredentials(client: client, secrets: secrets, namespaces: ["payments"], logger: logger)
        #expect(restricted.credentials(for: try Self.pod(["first"])) == nil)
        #expect(restricted.credentials(for: try Self.pod(["theirs"], namespace: "payments"))?.store.credential(for: "reg.example")?.username == "payments")
    }

    @Test("policy-named secrets: `name` from sealgate's namespace, `namespace/name` from that one, anything else skipped")
    func policySecrets() throws {
        let api = try FakeAPIServer()
        try Self.secret(api, "sealgate-system", "regcred", user: "own")
        try Self.secret(api, "team", "shared", host: "team.example", user: "team")
        let client = try KubeClient(config: api.config)
        let secrets = SecretCache(client: client, defaultNamespace: "sealgate-system", logger: Logger(label: "test"))
        let names = ["regcred", "team/shared", "a/b/c", "/x"]
        let provider = PullSecretCredentials(secrets: secrets, logger: Logger(label: "test")) { names }
        #expect(provider.credential(for: "reg.example")?.username == "own")
        #expect(provider.credential(for: "team.example")?.username == "team")
        #expect(provider.credential(for: "none.example") == nil)
    }
}

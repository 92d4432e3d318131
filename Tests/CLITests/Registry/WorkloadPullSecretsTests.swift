import E2ESupport
import Foundation
import KubernetesTestSupport
import SealgateCore
import Testing
import TestSupport

/// `sealgate serve --kubeconfig` against the fake apiserver and the real docker-registry with htpasswd: each
/// workload's registry calls use its own `imagePullSecrets` and its ServiceAccount's, read from its namespace only.
@Suite(.serialized)
struct WorkloadPullSecretsTests {
    static let password = "s3cret-pull-pw"

    static func dockerConfig(host: String, password: String = password) -> JSONValue {
        let auth = Data("ci:\(password)".utf8).base64EncodedString()
        return .string(Data(#"{"auths":{"\#(host)":{"auth":"\#(auth)"}}}"#.utf8).base64EncodedString())
    }

    static func pod(_ image: String, namespace: String = "shop", pullSecrets: [String] = [], serviceAccount: String? = nil) -> String {
        var spec = String(AdmissionReviews.podSpec(AdmissionReviews.numbered([image])).dropLast())
        if !pullSecrets.isEmpty { spec += #","imagePullSecrets":["# + pullSecrets.map { #"{"name":"\#($0)"}"# }.joined(separator: ",") + "]" }
        if let serviceAccount { spec += #","serviceAccountName":"\#(serviceAccount)""# }
        return AdmissionReviews.review(AdmissionReviews.object(namespace: namespace, spec: spec + "}"), namespace: namespace)
    }

    @Test("the background scan evaluates a running Pod with its own pull secrets, as admission does; a Pod without them is reported unauthorized")
    func backgroundScanUsesPullSecrets() async throws {
        let world = try E2EWorld("pull-secrets-scan", registry: .tls(users: ["ci": Self.password]))
        defer { world.stop() }
        _ = try world.pushSigned("private/app")
        let api = try FakeAPIServer()
        try api.control("secret", ["namespace": "shop", "name": "regcred", "type": "kubernetes.io/dockerconfigjson",
                                   "data": [".dockerconfigjson": Self.dockerConfig(host: world.host)]])
        for (name, secrets) in [("with-secret", [["name": "regcred"]]), ("without", [])] as [(String, [JSONValue])] {
            try api.put("pods", ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name), "namespace": "shop", "uid": .string("uid-\(name)")],
                                 "spec": ["imagePullSecrets": .array(secrets),
                                          "containers": [["name": "app", "image": .string(world.ref("private/app", ":v1"))]]]])
        }
        let policies = try world.writeKeylessPolicy(glob: "\(world.host)/private/**")
        let server = try world.serve(["--policy", policies.path, "--trusted-root", world.trustedRootFile.path, "--registry-ca", world.pki.caCertificate,
                                      "--kubeconfig", try api.writeKubeconfig(in: world.dir), "--background-scan", "--replica-identity", "solo"],
                                     tls: try world.issueCertificate(serial: 2402))
        defer { server.stop() }
        func results() throws -> [String: String] {
            var out: [String: String] = [:]
            for r in try api.objects("policyreports.wgpolicyk8s.io").flatMap({ $0["results"]?.arrayValue ?? [] }) {
                out[r["resources"]?.arrayValue?.first?["name"]?.stringValue ?? ""] = "\(r["result"]?.stringValue ?? "") \(r["message"]?.stringValue ?? "")"
            }
            return out
        }
        #expect(try await eventually(timeout: 30) { try results().count == 2 }, "\(server.process.stderr.suffix(2000))")
        let scanned = try results()
        #expect(scanned["with-secret"]?.hasPrefix("pass") == true, "\(scanned)")
        #expect(scanned["without"]?.hasPrefix("fail") == true && scanned["without"]?.contains("unauthorized") == true, "\(scanned)")
    }

    @Test("a Pod's imagePullSecrets and its ServiceAccount's authenticate its registry calls; without them it is denied unauthorized (not transient); another namespace's Secret is never used; no credential reaches the logs or the audit")
    func podPullSecrets() throws {
        let world = try E2EWorld("pull-secrets", registry: .tls(users: ["ci": Self.password]))
        defer { world.stop() }
        let digest = try world.pushSigned("private/app")
        let api = try FakeAPIServer()
        let config = Self.dockerConfig(host: world.host)
        for (namespace, name) in [("shop", "regcred"), ("shop", "sa-cred"), ("other", "othercred")] {
            try api.control("secret", ["namespace": .string(namespace), "name": .string(name), "type": "kubernetes.io/dockerconfigjson",
                                       "data": [".dockerconfigjson": config]])
        }
        try api.control("secret", ["namespace": "shop", "name": "wrongcred", "type": "kubernetes.io/dockerconfigjson",
                                   "data": [".dockerconfigjson": Self.dockerConfig(host: world.host, password: "wrong-pw")]])
        try api.put("serviceaccounts", ["metadata": ["name": "builder", "namespace": "shop"], "imagePullSecrets": [["name": "sa-cred"]]])
        let policies = try world.writeKeylessPolicy(glob: "\(world.host)/private/**")
        let audit = world.dir.appendingPathComponent("audit.jsonl").path
        let server = try world.serve(["--policy", policies.path, "--trusted-root", world.trustedRootFile.path, "--registry-ca", world.pki.caCertificate,
                                      "--kubeconfig", try api.writeKubeconfig(in: world.dir), "--log-level", "trace", "--audit-file", audit],
                                     tls: try world.issueCertificate(serial: 2401))
        defer { server.stop() }
        let ref = world.ref("private/app", ":v1"), pinned = world.ref("private/app", "@\(digest)")
        func decide(_ review: String) throws -> [String: Any] {
            try world.decide(try AdmissionReviews.write(review, in: world.dir), by: server)
        }

        let withSecret = try decide(Self.pod(ref, pullSecrets: ["regcred"]))
        #expect(withSecret["allowed"] as? Bool == true, "\(E2EWorld.message(withSecret)) \(server.process.stderr.suffix(1500))")
        // The ServiceAccount's imagePullSecrets count as the Pod's.
        let viaAccount = try decide(Self.pod(ref, serviceAccount: "builder"))
        #expect(viaAccount["allowed"] as? Bool == true, "\(E2EWorld.message(viaAccount))")
        // By digest (no tag to resolve): the verification itself is what a secret-less Pod must not reuse.
        let pinnedWithSecret = try decide(Self.pod(pinned, pullSecrets: ["regcred"]))
        #expect(pinnedWithSecret["allowed"] as? Bool == true, "\(E2EWorld.message(pinnedWithSecret))")

        // The same Pod without a secret, right after: nothing cached with the secret helps it.
        for (review, why) in [(Self.pod(ref), "no secret"), (Self.pod(pinned), "no secret, by digest"), (Self.pod(ref, pullSecrets: ["othercred"]), "another namespace's secret name"),
                              (Self.pod(ref, pullSecrets: ["wrongcred"]), "a wrong password"),
                              (Self.pod(ref, namespace: "other", pullSecrets: ["regcred"]), "a secret of the same name in another namespace")] {
            let denied = try decide(review)
            let message = E2EWorld.message(denied)
            #expect(denied["allowed"] as? Bool == false, "\(why): \(message)")
            #expect(message.contains("unauthorized") && message.contains(world.host), "\(why): \(message)")
            #expect(!message.contains("transient"), "\(why): an unauthorized answer is not transient: \(message)")
        }
        // A Deployment's template names its secrets the same way.
        let spec = String(AdmissionReviews.podSpec(AdmissionReviews.numbered([ref])).dropLast()) + #","imagePullSecrets":[{"name":"regcred"}]}"#
        let deployment = try decide(AdmissionReviews.review(AdmissionReviews.object(.deployment, spec: spec), kind: .deployment))
        #expect(deployment["allowed"] as? Bool == true, "\(E2EWorld.message(deployment))")

        server.stop()
        let logs = server.process.stderr + server.process.stdout + ((try? String(contentsOfFile: audit, encoding: .utf8)) ?? "")
        #expect(logs.contains("private/app"), "the decisions were logged")
        for secret in [Self.password, "wrong-pw", Data("ci:\(Self.password)".utf8).base64EncodedString(), "Basic "] {
            #expect(!logs.contains(secret), "secret '\(secret)' in the logs")
        }
    }
}

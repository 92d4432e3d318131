import Foundation
import Registry
import Yams

/// How to reach an API server: where, what to trust, who we are.
public struct KubeConfig: Sendable {
    public var host: String
    public var port: UInt16
    /// Path prefix of the server URL (usually empty).
    public var basePath: String
    public var caPEM: Data?
    public var credentials: KubeCredentials
    /// Namespace of the current context (or the pod), for events about cluster-scoped objects.
    public var namespace: String

    public init(host: String, port: UInt16, basePath: String = "", caPEM: Data?, credentials: KubeCredentials, namespace: String = "default") {
        self.host = host
        self.port = port
        self.basePath = basePath
        self.caPEM = caPEM
        self.credentials = credentials
        self.namespace = namespace
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// In-cluster: `KUBERNETES_SERVICE_HOST/PORT`, the service account CA and token (re-read on every
    /// request, so kubelet's token rotation is honoured).
    public static func inCluster(environment: [String: String] = ProcessInfo.processInfo.environment,
                                 directory: String = serviceAccountDirectory) throws(Failure) -> KubeConfig {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
              let portText = environment["KUBERNETES_SERVICE_PORT"], let port = UInt16(portText) else {
            throw Failure("in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set (not running in a pod?)")
        }
        let caPath = directory + "/ca.crt"
        guard let ca = FileManager.default.contents(atPath: caPath) else { throw Failure("in-cluster config: cannot read \(caPath)") }
        let tokenPath = directory + "/token"
        guard FileManager.default.isReadableFile(atPath: tokenPath) else { throw Failure("in-cluster config: cannot read \(tokenPath)") }
        let namespace = (try? String(contentsOfFile: directory + "/namespace", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "default"
        let bareHost = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        return KubeConfig(host: bareHost, port: port, caPEM: ca, credentials: .tokenFile(tokenPath), namespace: namespace)
    }

    /// Out of cluster: the current context of a kubeconfig file (token, token file, or client certificate).
    public static func kubeconfig(path: String) throws(Failure) -> KubeConfig {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw Failure("kubeconfig \(path): cannot read")
        }
        let root: [String: Any]
        do {
            guard let loaded = try Yams.load(yaml: text) as? [String: Any] else { throw Failure("kubeconfig \(path): not a YAML mapping") }
            root = loaded
        } catch let error as Failure { throw error } catch { throw Failure("kubeconfig \(path): \(error)") }
        let dir = (path as NSString).deletingLastPathComponent
        func named(_ list: String, _ name: String, _ field: String) throws(Failure) -> [String: Any] {
            let entries = root[list] as? [[String: Any]] ?? []
            guard let entry = entries.first(where: { $0["name"] as? String == name }) else {
                throw Failure("kubeconfig \(path): \(list) has no entry named \"\(name)\"")
            }
            guard let body = entry[field] as? [String: Any] else { throw Failure("kubeconfig \(path): \(list)[\(name)].\(field) missing") }
            return body
        }
        func bytes(_ section: [String: Any], _ inline: String, _ file: String, _ what: String) throws(Failure) -> Data? {
            if let b64 = section[inline] as? String {
                guard let d = Data(base64Encoded: b64, options: .ignoreUnknownCharacters) else { throw Failure("kubeconfig \(path): \(what): \(inline) is not base64") }
                return d
            }
            guard let f = section[file] as? String else { return nil }
            let full = f.hasPrefix("/") ? f : (dir as NSString).appendingPathComponent(f)
            guard let d = FileManager.default.contents(atPath: full) else { throw Failure("kubeconfig \(path): \(what): cannot read \(full)") }
            return d
        }

        guard let current = root["current-context"] as? String, !current.isEmpty else { throw Failure("kubeconfig \(path): no current-context") }
        let context = try named("contexts", current, "context")
        guard let clusterName = context["cluster"] as? String else { throw Failure("kubeconfig \(path): context \(current) names no cluster") }
        let cluster = try named("clusters", clusterName, "cluster")
        let user = try (context["user"] as? String).map { name throws(Failure) in try named("users", name, "user") } ?? [:]

        guard let server = cluster["server"] as? String, let url = URLComponents(string: server), url.scheme == "https", let host = url.host else {
            throw Failure("kubeconfig \(path): cluster \(clusterName): server must be an https:// URL")
        }
        let ca = try bytes(cluster, "certificate-authority-data", "certificate-authority", "cluster \(clusterName)")
        let credentials: KubeCredentials
        if let token = user["token"] as? String {
            credentials = .token(token)
        } else if let tokenFile = user["tokenFile"] as? String {
            credentials = .tokenFile(tokenFile.hasPrefix("/") ? tokenFile : (dir as NSString).appendingPathComponent(tokenFile))
        } else if let cert = try bytes(user, "client-certificate-data", "client-certificate", "user"),
                  let key = try bytes(user, "client-key-data", "client-key", "user") {
            credentials = .clientCertificate(certificatePEM: cert, keyPEM: key)
        } else if user["exec"] != nil || user["auth-provider"] != nil {
            throw Failure("kubeconfig \(path): exec and auth-provider credentials are not supported; use a token or client certificate")
        } else {
            credentials = .none
        }
        let hostName = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        return KubeConfig(host: hostName, port: UInt16(url.port ?? 443), basePath: url.path.hasSuffix("/") ? String(url.path.dropLast()) : url.path,
                          caPEM: ca, credentials: credentials, namespace: context["namespace"] as? String ?? "default")
    }
}

public enum KubeCredentials: Sendable {
    case none
    case token(String)
    /// Read before every request: projected service account tokens are rotated in place.
    case tokenFile(String)
    case clientCertificate(certificatePEM: Data, keyPEM: Data)

    func bearerToken() throws(KubeConfig.Failure) -> String? {
        switch self {
        case .none, .clientCertificate: return nil
        case .token(let t): return t
        case .tokenFile(let path):
            guard let t = try? String(contentsOfFile: path, encoding: .utf8) else { throw KubeConfig.Failure("cannot read token file \(path)") }
            return t.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    var tlsClientIdentity: (Data, Data)? {
        if case .clientCertificate(let c, let k) = self { return (c, k) }
        return nil
    }
}

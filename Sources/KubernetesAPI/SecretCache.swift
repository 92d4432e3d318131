import Foundation
import SealgateCore
import Logging

/// Secrets read on demand (policies name them) and kept for a short time, so verification does not hit
/// the API server per admission yet a rotated key is picked up within `ttl` seconds.
public final class SecretCache: @unchecked Sendable {
    public struct Secret: Sendable {
        public var type: String
        /// Decoded `data` values.
        public var data: [String: Data]
    }

    private let client: KubeClient
    private let ttl: Double
    private let logger: Logger
    private let lock = NSLock()
    private var entries: [String: (secret: Secret?, expires: Date)] = [:]
    static let maxEntries = 4096
    /// Namespace used when a policy names a secret without one (policy-controller uses its own namespace).
    public let defaultNamespace: String

    public init(client: KubeClient, ttl: Double = 30, defaultNamespace: String, logger: Logger) {
        self.client = client
        self.ttl = ttl
        self.defaultNamespace = defaultNamespace
        self.logger = logger
    }

    /// The secret, or nil if it does not exist or cannot be read (logged). Misses are cached too.
    public func secret(namespace: String?, name: String) -> Secret? {
        let ns = namespace ?? defaultNamespace
        let key = "\(ns)/\(name)"
        lock.lock()
        if let hit = entries[key], hit.expires > Date() { lock.unlock(); return hit.secret }
        lock.unlock()
        var secret: Secret?
        do {
            secret = try Self.decode(try client.get("/api/v1/namespaces/\(ns)/secrets/\(name)"), key: key)
        } catch let error as KubeError where error.code == 404 {
            secret = nil
        } catch {
            // Not cached: the next admission retries.
            logger.warning("cannot read secret", metadata: ["secret": "\(key)", "error": "\(error)"])
            return nil
        }
        lock.lock()
        // Bounded: workloads' pull secrets are read from every namespace.
        if entries.count >= Self.maxEntries { entries = entries.filter { $0.value.expires > Date() } }
        if entries.count >= Self.maxEntries { entries.removeAll() }
        entries[key] = (secret, Date().addingTimeInterval(ttl))
        lock.unlock()
        return secret
    }

    /// PEM text for a cosign key or CA secret: `cosign.pub` when present, else the only key (policy-controller's rule).
    public func pem(namespace: String?, name: String) -> String? {
        guard let s = secret(namespace: namespace, name: name) else { return nil }
        let value = s.data["cosign.pub"] ?? (s.data.count == 1 ? s.data.values.first : nil)
        return value.flatMap { String(data: $0, encoding: .utf8) }
    }

    static func decode(_ object: JSONValue, key: String) throws -> Secret {
        var data: [String: Data] = [:]
        for (k, v) in object["data"]?.objectValue ?? [:] {
            guard let text = v.stringValue, let d = Data(base64Encoded: text) else {
                throw KubeError(code: 200, reason: "BadSecret", message: "secret \(key): data.\(k) is not base64")
            }
            data[k] = d
        }
        return Secret(type: object["type"]?.stringValue ?? "Opaque", data: data)
    }
}

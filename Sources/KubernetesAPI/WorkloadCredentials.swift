import Admission
import Foundation
import Logging
import Registry
import SealgateCore

/// The registry credentials a workload pulls its images with, in the kubelet's (and k8schain's) order: its own
/// `imagePullSecrets`, then its ServiceAccount's. Everything is read from the workload's namespace and never
/// another's; secrets through the `SecretCache`, ServiceAccounts kept `ttl` seconds in a bounded map.
public final class WorkloadCredentials: @unchecked Sendable {
    private let client: KubeClient
    private let secrets: SecretCache
    /// Namespaces whose secrets may be read (the chart's RBAC switch); nil: every namespace.
    private let namespaces: Set<String>?
    private let ttl: Double
    private let logger: Logger
    private let lock = NSLock()
    private var accounts: [String: (secretNames: [String], expires: Double)] = [:]
    static let maxAccounts = 2048

    public init(client: KubeClient, secrets: SecretCache, namespaces: Set<String>? = nil, ttl: Double = 30, logger: Logger) {
        self.client = client
        self.secrets = secrets
        self.namespaces = namespaces
        self.ttl = ttl
        self.logger = logger
    }

    /// Nil when the workload's pull secrets give nothing (none named, none readable, or a namespace not allowed).
    public func credentials(for workload: WorkloadPullSecrets) -> RequestCredentials? {
        let ns = workload.namespace
        if let namespaces, !namespaces.contains(ns) { return nil }
        var seen = Set<String>()
        let names = (workload.secretNames + serviceAccountSecrets(namespace: ns, name: workload.serviceAccount)).filter { seen.insert($0).inserted }
        var store = CredentialStore()
        var sources: [String] = []
        for name in names {
            guard let secret = secrets.secret(namespace: ns, name: name),
                  let found = PullSecretCredentials.store(of: secret, source: "secret \(ns)/\(name)", logger: logger) else { continue }
            store.merge(found)
            sources.append("\(ns)/\(name)")
        }
        return store.isEmpty ? nil : RequestCredentials(store: store, sources: sources)
    }

    /// The ServiceAccount's `imagePullSecrets` names; none when it does not exist or cannot be read (logged).
    func serviceAccountSecrets(namespace: String, name: String) -> [String] {
        let key = "\(namespace)/\(name)"
        lock.lock()
        if let hit = accounts[key], hit.expires > Deadline.now() { lock.unlock(); return hit.secretNames }
        lock.unlock()
        var names: [String] = []
        do {
            let account = try client.get("/api/v1/namespaces/\(namespace)/serviceaccounts/\(name)")
            names = (account["imagePullSecrets"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        } catch let error as KubeError where error.code == 404 {
            names = []
        } catch {
            // Not cached: the next admission asks again.
            logger.warning("cannot read service account", metadata: ["serviceAccount": "\(key)", "error": "\(error)"])
            return []
        }
        lock.lock()
        if accounts.count >= Self.maxAccounts { accounts = accounts.filter { $0.value.expires > Deadline.now() } }
        if accounts.count >= Self.maxAccounts { accounts.removeAll() }
        accounts[key] = (names, Deadline.now() + ttl)
        lock.unlock()
        return names
    }
}

import Foundation
import ImagePolicy
import Logging
import Registry

/// Registry credentials from the pull Secrets that policies name (ClusterImagePolicy
/// `source[].signaturePullSecrets`, Kyverno `imageRegistryCredentials.secrets`), read from the sealgate namespace (or the one
/// a Kyverno `namespace/name` names) through the secret cache.
public struct PullSecretCredentials: Sendable {
    let secrets: SecretCache
    let names: @Sendable () -> [String]
    let logger: Logger

    public init(secrets: SecretCache, logger: Logger, names: @escaping @Sendable () -> [String]) {
        self.secrets = secrets
        self.logger = logger
        self.names = names
    }

    /// The first named Secret (in name order) with an entry for `registry`. `name` is read from the sealgate namespace,
    /// `namespace/name` (Kyverno's form) from that namespace; anything else is skipped (logged).
    public func credential(for registry: String) -> Credential? {
        for reference in Set(names()).sorted() {
            let parts = reference.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2, !parts.contains(where: \.isEmpty) else {
                logger.warning("pull secret reference is neither name nor namespace/name", metadata: ["secret": "\(reference)"])
                continue
            }
            let namespace = parts.count == 2 ? parts[0] : nil, name = parts[parts.count - 1]
            guard let secret = secrets.secret(namespace: namespace, name: name),
                  let store = Self.store(of: secret, source: "secret \(reference)", logger: logger) else { continue }
            if let credential = store.credential(for: registry) { return credential }
        }
        return nil
    }

    /// A pull Secret's registry entries (`.dockerconfigjson`, or the legacy `.dockercfg`); nil when it has neither
    /// or they do not parse (logged by name, never by content).
    static func store(of secret: SecretCache.Secret, source: String, logger: Logger) -> CredentialStore? {
        var store = CredentialStore()
        do {
            if let data = secret.data[".dockerconfigjson"] {
                try store.addPullSecret(type: "kubernetes.io/dockerconfigjson", data: data, source: source)
            } else if let data = secret.data[".dockercfg"] {
                try store.addPullSecret(type: "kubernetes.io/dockercfg", data: data, source: source)
            } else {
                return nil
            }
        } catch {
            logger.warning("unusable pull secret", metadata: ["secret": "\(source)", "error": "\(error)"])
            return nil
        }
        return store
    }

    /// Pull secret names of every ClusterImagePolicy authority and Kyverno `imageRegistryCredentials.secrets` in `set`.
    public static func names(in set: PolicySet) -> [String] {
        let cip = set.clusterImagePolicies.flatMap { policy in
            policy.authorities.flatMap { authority -> [String] in
                if case .signature(let s) = authority.kind { return s.pullSecrets }
                return []
            }
        }
        let kyverno = set.kyvernoPolicies.flatMap { $0.rules.flatMap { $0.verifyImages.flatMap(\.registrySecrets) } }
        return cip + kyverno
    }
}

import Admission
import ArgumentParser
import Foundation
import ImagePolicy
import ImageVerification
import KubernetesAPI
import Logging
import Registry
import SigstoreVerify

/// What `serve` gets from the cluster: policies watched into the store, Secrets for policy keys, namespace labels.
struct ClusterWiring {
    let client: KubeClient
    let secrets: SecretCache
    let policies: ClusterPolicySource?
    /// Namespace labels (watched) for Kyverno `namespaceSelector`.
    let namespaces: NamespaceLabels

    /// Connects when `--kube` (in-cluster) or `--kubeconfig` is given; nil otherwise.
    static func connect(inCluster: Bool, kubeconfig: String?, secretNamespace: String?, watchPolicies: Bool,
                        store: PolicyStore, logger: Logger) throws -> ClusterWiring? {
        let config: KubeConfig
        switch (inCluster, kubeconfig) {
        case (false, nil):
            if watchPolicies { throw ValidationError("--watch-policies needs --kube (in-cluster) or --kubeconfig PATH") }
            return nil
        case (true, .some): throw ValidationError("--kube and --kubeconfig exclude each other")
        case (true, nil):
            do { config = try KubeConfig.inCluster() } catch { throw ValidationError("--kube: \(error)") }
        case (false, let path?):
            do { config = try KubeConfig.kubeconfig(path: path) } catch { throw ValidationError("--kubeconfig: \(error)") }
        }
        let client = try KubeClient(config: config)
        let kubeLogger = Logger(label: "sealgate.kube")
        let secrets = SecretCache(client: client, ttl: 30, defaultNamespace: secretNamespace ?? config.namespace, logger: kubeLogger)
        var source: ClusterPolicySource?
        if watchPolicies {
            let s = ClusterPolicySource(client: client, store: store, events: EventRecorder(client: client, logger: kubeLogger), logger: kubeLogger)
            s.start()
            source = s
        }
        let namespaces = NamespaceLabels(client: client, logger: kubeLogger)
        namespaces.start()
        logger.info("connected to the Kubernetes API", metadata: ["server": "\(config.host):\(config.port)", "watchPolicies": "\(watchPolicies)"])
        return ClusterWiring(client: client, secrets: secrets, policies: source, namespaces: namespaces)
    }

    /// Registry credentials from the pull Secrets the active policies name.
    func pullCredentials(store: PolicyStore) -> @Sendable (String) -> Credential? {
        let provider = PullSecretCredentials(secrets: secrets, logger: Logger(label: "sealgate.kube")) {
            PullSecretCredentials.names(in: store.current)
        }
        return { registry in provider.credential(for: registry) }
    }

    /// The admitted workload's own pull secrets and its ServiceAccount's, from its namespace (when in `namespaces`,
    /// if given): used first for its images' registry calls.
    func workloadCredentials(namespaces: [String]) throws -> PolicyDecider.CredentialLookup {
        // Its own client with a short timeout: these reads sit inside the API server's admission deadline.
        let quick = try KubeClient(config: client.config)
        quick.requestTimeout = 2
        let logger = Logger(label: "sealgate.kube")
        let credentials = WorkloadCredentials(client: quick, secrets: SecretCache(client: quick, ttl: 30, defaultNamespace: secrets.defaultNamespace, logger: logger),
                                              namespaces: namespaces.isEmpty ? nil : Set(namespaces), logger: logger)
        return { workload in credentials.credentials(for: workload) }
    }

    /// The admitted object's namespace labels into the policy context (Kyverno `namespaceSelector`).
    var namespaceContext: PolicyDecider.ContextAdjustment {
        let namespaces = self.namespaces
        return { request, context in
            if let ns = request.namespace, let labels = await namespaces.labels(of: ns) { context.namespaceLabels = labels }
        }
    }

    /// Policy `secretRef` keys (`cosign.pub`, or the only key) for the cosign verifier.
    var secretLookup: CosignAuthorityVerifier.SecretLookup {
        let cache = secrets
        return { namespace, name in cache.pem(namespace: namespace, name: name) }
    }
}

import SealgateCore

/// The pull secrets a workload names, read from its pod spec (or template) the way `WorkloadImages` reads
/// images: `imagePullSecrets[].name` and `serviceAccountName`, whose own `imagePullSecrets` the kubelet also uses.
public struct WorkloadPullSecrets: Sendable, Equatable {
    /// The workload's namespace: the only one its secrets are read from.
    public var namespace: String
    /// `imagePullSecrets[].name`, in spec order (the first with an entry for a registry wins).
    public var secretNames: [String]
    /// `serviceAccountName` (or the deprecated `serviceAccount`), `default` when unset.
    public var serviceAccount: String

    public init(namespace: String, secretNames: [String], serviceAccount: String) {
        self.namespace = namespace
        self.secretNames = secretNames
        self.serviceAccount = serviceAccount
    }

    /// Nil for kinds without a pod spec and for objects without a namespace (no namespace, no secrets).
    public init?(_ request: AdmissionRequest) {
        let namespace = request.namespace ?? request.object?["metadata"]?["namespace"]?.stringValue
        guard let namespace, !namespace.isEmpty, let path = WorkloadImages.podSpecPath(kind: request.kind.kind) else { return nil }
        var spec: JSONValue? = request.object
        for key in path { spec = spec?[key] }
        self.namespace = namespace
        secretNames = (spec?["imagePullSecrets"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }.filter { !$0.isEmpty }
        let account = spec?["serviceAccountName"]?.stringValue ?? spec?["serviceAccount"]?.stringValue ?? ""
        serviceAccount = account.isEmpty ? "default" : account
    }
}

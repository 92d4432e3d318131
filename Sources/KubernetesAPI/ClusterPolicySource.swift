import Admission
import Foundation
import ImagePolicy
import Logging
import Metrics

/// Feeds the `PolicyStore` from policy objects watched in the cluster. Each object is validated on its
/// own: an invalid version is logged, counted (`sealgate_policy_invalid_total`) and reported as a
/// Kubernetes Event, and the object's previous valid version (if any) stays enforced. The store gets its
/// first cluster set only once every resource has been listed, so `/readyz` waits for the first full sync.
public final class ClusterPolicySource: @unchecked Sendable {
    public static let clusterImagePolicies = KubeResource(group: "policy.sigstore.dev", version: "v1beta1", plural: "clusterimagepolicies", kind: "ClusterImagePolicy")
    public static let trustRoots = KubeResource(group: "policy.sigstore.dev", version: "v1alpha1", plural: "trustroots", kind: "TrustRoot")
    public static let kyvernoClusterPolicies = KubeResource(group: "kyverno.io", version: "v1", plural: "clusterpolicies", kind: "ClusterPolicy")
    public static let kyvernoPolicies = KubeResource(group: "kyverno.io", version: "v1", plural: "policies", kind: "Policy")
    // v1alpha1: served by every Kyverno release that has these kinds (1.14 on; v1beta1 and v1 came later).
    public static let imageValidatingPolicies = KubeResource(group: "policies.kyverno.io", version: "v1alpha1", plural: "imagevalidatingpolicies", kind: "ImageValidatingPolicy")
    public static let namespacedImageValidatingPolicies = KubeResource(group: "policies.kyverno.io", version: "v1alpha1",
                                                                       plural: "namespacedimagevalidatingpolicies", kind: "NamespacedImageValidatingPolicy")
    public static let allResources = [clusterImagePolicies, trustRoots, kyvernoClusterPolicies, kyvernoPolicies, imageValidatingPolicies,
                                      namespacedImageValidatingPolicies]

    private let store: PolicyStore
    private let events: EventRecorder?
    private let logger: Logger
    private let invalid = Counter(label: "sealgate_policy_invalid_total")
    private let lock = NSLock()
    private var reflectors: [Reflector] = []
    private var synced: Set<KubeResource> = []
    private let resources: [KubeResource]
    /// Last valid policies per object, keyed by `resource/namespace/name`.
    private var valid: [String: PolicySet] = [:]
    /// Valid TrustRoot specs by name.
    private var trustRootSpecs: [String: JSONValue] = [:]
    /// Last error per object key (what `/readyz` detail and tests inspect).
    private var problems: [String: String] = [:]
    /// resourceVersions already reported as invalid, so a relist does not repeat the event.
    private var reported: Set<String> = []

    public init(client: KubeClient, store: PolicyStore, events: EventRecorder?, resources: [KubeResource] = ClusterPolicySource.allResources,
                timing: Reflector.Timing = Reflector.Timing(), logger: Logger) {
        self.store = store
        self.events = events
        self.logger = logger
        self.resources = resources
        store.expectClusterPolicies()
        reflectors = resources.map { resource in
            Reflector(client: client, resource: resource, timing: timing, logger: logger) { [weak self] change in
                self?.apply(change, resource: resource)
            }
        }
    }

    public func start() { reflectors.forEach { $0.start() } }
    public func stop() { reflectors.forEach { $0.stop() } }

    /// Current problems by object (`clusterimagepolicy/name` → message).
    public var invalidObjects: [String: String] {
        lock.lock(); defer { lock.unlock() }
        return problems
    }

    /// Valid TrustRoots by name (their `spec`).
    public var trustRoots: [String: JSONValue] {
        lock.lock(); defer { lock.unlock() }
        return trustRootSpecs
    }

    func apply(_ change: Reflector.Change, resource: KubeResource) {
        lock.lock()
        switch change {
        case .replaced(let items):
            let prefix = Self.prefix(resource)
            let keep = Set(items.map { Self.key(resource, $0) })
            for key in valid.keys where key.hasPrefix(prefix) && !keep.contains(key) { valid[key] = nil }
            for key in trustRootSpecs.keys where resource == Self.trustRoots && !keep.contains(key) { trustRootSpecs[key] = nil }
            for key in problems.keys where key.hasPrefix(prefix) && !keep.contains(key) { problems[key] = nil }
            for item in items { admit(item, resource: resource) }
            synced.insert(resource)
        case .added(let object), .modified(let object):
            admit(object, resource: resource)
        case .deleted(let object):
            let key = Self.key(resource, object)
            valid[key] = nil
            problems[key] = nil
            forgetReports(key)
            if resource == Self.trustRoots { trustRootSpecs[key] = nil }
            logger.info("policy object deleted", metadata: ["object": "\(key)"])
        }
        let ready = synced.count == resources.count
        let set = valid.keys.sorted().reduce(into: PolicySet()) { $0.merge(valid[$1]!) }
        lock.unlock()
        if ready { store.installClusterPolicies(set) }
    }

    /// Validates one object; called with the lock held.
    private func admit(_ raw: JSONValue, resource: KubeResource) {
        var object = raw.objectValue ?? [:]
        // List items of custom resources carry apiVersion/kind, but be tolerant of servers that omit them.
        if object["apiVersion"] == nil { object["apiVersion"] = .string(resource.apiVersion) }
        if object["kind"] == nil { object["kind"] = .string(resource.kind) }
        let json = JSONValue.object(object)
        let key = Self.key(resource, json)
        // TrustRoots go through the same loader as policies (and as TrustRoots in --policy files): the
        // store's set carries them to the verifier.
        let result = PolicyLoader.load(object: json, source: key)
        let errors = result.errors.map(\.description)
        if errors.isEmpty {
            valid[key] = result.policies
            if resource == Self.trustRoots { trustRootSpecs[key] = json["spec"] }
            for w in result.warnings { logger.warning("\(w.description)") }
        }
        guard !errors.isEmpty else {
            if problems.removeValue(forKey: key) != nil {
                forgetReports(key)
                logger.info("policy object valid again", metadata: ["object": "\(key)"])
            }
            return
        }
        let message = errors.prefix(10).joined(separator: "; ")
        problems[key] = message
        let rv = json["metadata"]?["resourceVersion"]?.stringValue ?? ""
        guard reported.insert("\(key)@\(rv)").inserted else { return }
        invalid.increment()
        let kept = valid[key] != nil || trustRootSpecs[key] != nil
        logger.error("invalid policy object; \(kept ? "its previous valid version stays enforced" : "not enforced")",
                     metadata: ["object": "\(key)", "errors": "\(message)"])
        events?.warning(about: json, reason: "InvalidPolicy",
                        message: "sealgate rejected this object (\(kept ? "previous version still enforced" : "not enforced")): \(message)")
    }

    private func forgetReports(_ key: String) {
        reported = reported.filter { !$0.hasPrefix(key + "@") }
    }

    static func prefix(_ resource: KubeResource) -> String { resource.kind.lowercased() + "/" }

    /// `clusterimagepolicy/name` or `policy/namespace/name`.
    static func key(_ resource: KubeResource, _ object: JSONValue) -> String {
        let meta = object["metadata"]
        let name = meta?["name"]?.stringValue ?? "?"
        if let ns = meta?["namespace"]?.stringValue { return prefix(resource) + "\(ns)/\(name)" }
        return prefix(resource) + name
    }
}

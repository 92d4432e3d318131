import Foundation
import KubernetesAPI
import Logging
import SealgateCore

/// A workload as reports name it: its kind and where it lives.
public struct WorkloadKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var kind: String
    public var namespace: String
    public var name: String

    public init(kind: String, namespace: String, name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    public var description: String { "\(kind) \(namespace)/\(name)" }
    public static func < (a: WorkloadKey, b: WorkloadKey) -> Bool { (a.namespace, a.kind, a.name) < (b.namespace, b.kind, b.name) }
}

/// The Pods and workload controllers of the cluster (or of the opted-in namespaces), kept by one list/watch
/// reflector per resource type. Objects without a name or namespace are logged and left out; list items get
/// their `kind`/`apiVersion` back (the API server leaves them out of list items).
public final class WorkloadInventory: @unchecked Sendable {
    private let lock = NSLock()
    private var objects: [WorkloadKey: JSONValue] = [:]
    private var synced: Set<String> = []
    private var reflectors: [Reflector] = []
    private let namespaces: Set<String>?
    private let logger: Logger
    /// Called (on a reflector's thread) with the keys that changed.
    public var onChange: (@Sendable ([WorkloadKey]) -> Void)?

    /// `namespaces`: only these (nil: all).
    public init(client: KubeClient, resources: [KubeResource] = WorkloadResources.all, namespaces: Set<String>?,
                timing: Reflector.Timing = Reflector.Timing(), logger: Logger) {
        self.namespaces = namespaces
        self.logger = logger
        reflectors = resources.map { resource in
            Reflector(client: client, resource: resource, timing: timing, logger: logger) { [weak self] change in
                self?.apply(change, resource: resource)
            }
        }
    }

    public func start() { reflectors.forEach { $0.start() } }
    public func stop() { reflectors.forEach { $0.stop() } }

    /// True once every resource type has been listed at least once.
    public var isSynced: Bool {
        lock.lock(); defer { lock.unlock() }
        return synced.count == reflectors.count
    }

    public var snapshot: [WorkloadKey: JSONValue] {
        lock.lock(); defer { lock.unlock() }
        return objects
    }

    public func object(_ key: WorkloadKey) -> JSONValue? {
        lock.lock(); defer { lock.unlock() }
        return objects[key]
    }

    func apply(_ change: Reflector.Change, resource: KubeResource) {
        var changed: [WorkloadKey] = []
        lock.lock()
        switch change {
        case .replaced(let items):
            let old = objects.keys.filter { $0.kind == resource.kind }
            for key in old { objects[key] = nil }
            changed += old
            for item in items { if let key = insert(item, resource: resource) { changed.append(key) } }
            synced.insert(resource.description)
        case .added(let item), .modified(let item):
            if let key = insert(item, resource: resource) { changed.append(key) }
        case .deleted(let item):
            if let key = key(item, resource: resource) {
                objects[key] = nil
                changed.append(key)
            }
        }
        lock.unlock()
        if !changed.isEmpty { onChange?(changed) }
    }

    /// Called with the lock held.
    private func insert(_ item: JSONValue, resource: KubeResource) -> WorkloadKey? {
        guard let key = key(item, resource: resource), var fields = item.objectValue else { return nil }
        fields["kind"] = fields["kind"] ?? .string(resource.kind)
        fields["apiVersion"] = fields["apiVersion"] ?? .string(resource.apiVersion)
        objects[key] = .object(fields)
        return key
    }

    private func key(_ item: JSONValue, resource: KubeResource) -> WorkloadKey? {
        guard let name = item["metadata"]?["name"]?.stringValue, let namespace = item["metadata"]?["namespace"]?.stringValue,
              !name.isEmpty, !namespace.isEmpty else {
            logger.warning("workload without metadata.name or metadata.namespace ignored", metadata: [
                "resource": "\(resource)", "object": "\(item.jsonString.prefix(200))"])
            return nil
        }
        if let namespaces, !namespaces.contains(namespace) { return nil }
        return WorkloadKey(kind: resource.kind, namespace: namespace, name: name)
    }
}

import Foundation
import SealgateCore
import Logging

/// Namespace labels for Kyverno `namespaceSelector`, kept by list/watch of Namespaces (what Kyverno's namespace
/// lister does). A namespace not in the view (before the first sync, or created a moment ago) is read directly.
public final class NamespaceLabels: @unchecked Sendable {
    public static let namespaces = KubeResource(group: "", version: "v1", plural: "namespaces", kind: "Namespace")

    private let client: KubeClient
    private let logger: Logger
    private let lock = NSLock()
    private var labels: [String: [String: String]] = [:]
    private var reflector: Reflector?

    public init(client: KubeClient, timing: Reflector.Timing = Reflector.Timing(), logger: Logger) {
        self.client = client
        self.logger = logger
        reflector = Reflector(client: client, resource: Self.namespaces, timing: timing, logger: logger) { [weak self] change in
            self?.apply(change)
        }
    }

    public func start() { reflector?.start() }
    public func stop() { reflector?.stop() }

    /// The labels of namespace `name`; nil when it cannot be found (matched as a namespace without labels). A name
    /// the view lacks is read from the API server on a blocking-call thread, never on the caller's.
    public func labels(of name: String) async -> [String: String]? {
        if let hit = viewed(name) { return hit }
        return await BlockingIO.run { self.read(name) }
    }

    /// What the list/watch view holds for `name`.
    public func viewed(_ name: String) -> [String: String]? {
        lock.lock(); defer { lock.unlock() }
        return labels[name]
    }

    private func read(_ name: String) -> [String: String]? {
        do {
            let object = try client.get("/api/v1/namespaces/\(name)")
            let found = Self.labels(object)
            lock.lock(); labels[name] = found; lock.unlock()
            return found
        } catch {
            logger.warning("namespace labels unavailable; namespaceSelector sees none", metadata: ["namespace": "\(name)", "error": "\(error)"])
            return nil
        }
    }

    func apply(_ change: Reflector.Change) {
        lock.lock(); defer { lock.unlock() }
        switch change {
        case .replaced(let items):
            labels = [:]
            for item in items { if let n = Self.name(item) { labels[n] = Self.labels(item) } }
        case .added(let item), .modified(let item):
            if let n = Self.name(item) { labels[n] = Self.labels(item) }
        case .deleted(let item):
            if let n = Self.name(item) { labels[n] = nil }
        }
    }

    static func name(_ object: JSONValue) -> String? { object["metadata"]?["name"]?.stringValue }

    static func labels(_ object: JSONValue) -> [String: String] {
        (object["metadata"]?["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
    }
}

import Foundation
import SealgateCore
import Logging

/// Posts Kubernetes Events about objects (e.g. an invalid policy), best effort: failures are logged only.
public final class EventRecorder: @unchecked Sendable {
    private let client: KubeClient
    private let logger: Logger
    private let queue = DispatchQueue(label: "sealgate.kube-events")

    public init(client: KubeClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Records a Warning event about `object` (apiVersion/kind/metadata taken from it). Asynchronous.
    public func warning(about object: JSONValue, reason: String, message: String) {
        let meta = object["metadata"]
        // The API server requires an event's namespace to be its object's; cluster-scoped objects use "default".
        let namespace = meta?["namespace"]?.stringValue ?? "default"
        let name = meta?["name"]?.stringValue ?? "unknown"
        var involved: [String: JSONValue] = [
            "apiVersion": object["apiVersion"] ?? "", "kind": object["kind"] ?? "", "name": .string(name),
        ]
        if let ns = meta?["namespace"] { involved["namespace"] = ns }
        if let uid = meta?["uid"] { involved["uid"] = uid }
        if let rv = meta?["resourceVersion"] { involved["resourceVersion"] = rv }
        let now = ISO8601DateFormatter().string(from: Date())
        let event: JSONValue = .object([
            "apiVersion": "v1", "kind": "Event",
            "metadata": .object(["generateName": .string("\(name).sealgate-"), "namespace": .string(namespace)]),
            "involvedObject": .object(involved),
            "reason": .string(reason), "message": .string(String(message.prefix(1024))), "type": "Warning",
            "source": .object(["component": "sealgate"]),
            "firstTimestamp": .string(now), "lastTimestamp": .string(now), "count": 1,
        ])
        let client = self.client, logger = self.logger
        queue.async {
            do { try client.post("/api/v1/namespaces/\(namespace)/events", event) } catch {
                logger.warning("cannot post event", metadata: ["object": "\(name)", "error": "\(error)"])
            }
        }
    }
}

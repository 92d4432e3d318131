import Foundation
import SealgateCore
import HTTP1Client

/// One watch event as the API server sends it: `{"type": ..., "object": ...}`.
public struct WatchEvent: Sendable {
    public enum Kind: String, Sendable { case added = "ADDED", modified = "MODIFIED", deleted = "DELETED", bookmark = "BOOKMARK", error = "ERROR" }
    public var kind: Kind
    public var object: JSONValue

    /// Parses one line of a watch stream; errors say what was wrong.
    public static func parse(_ line: [UInt8], resource: KubeResource) throws -> WatchEvent {
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: Data(line)) } catch {
            throw KubeError(code: 200, reason: "BadWatchEvent", message: "watch \(resource): event is not JSON: \(String(decoding: line.prefix(120), as: UTF8.self))")
        }
        guard let typeName = value["type"]?.stringValue else {
            throw KubeError(code: 200, reason: "BadWatchEvent", message: "watch \(resource): event has no \"type\"")
        }
        guard let kind = Kind(rawValue: typeName) else {
            throw KubeError(code: 200, reason: "BadWatchEvent", message: "watch \(resource): unknown event type \"\(typeName)\"")
        }
        guard let object = value["object"], object.objectValue != nil else {
            throw KubeError(code: 200, reason: "BadWatchEvent", message: "watch \(resource): \(typeName) event has no object")
        }
        return WatchEvent(kind: kind, object: object)
    }
}

/// A watch response split into events (one JSON document per line).
public final class WatchStream: @unchecked Sendable {
    private let stream: HTTPStream
    private let resource: KubeResource
    private var pending: [UInt8] = []
    static let maxEventBytes = 16 << 20

    init(stream: HTTPStream, resource: KubeResource) {
        self.stream = stream
        self.resource = resource
    }

    /// The next event, or nil when the server ends the watch. `idleTimeout` bounds the wait for bytes.
    public func next(idleTimeout: Double) throws -> WatchEvent? {
        while true {
            if let newline = pending.firstIndex(of: 10) {
                let line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                if line.allSatisfy({ $0 == 32 || $0 == 13 }) { continue }
                return try WatchEvent.parse(line, resource: resource)
            }
            let bytes: [UInt8]?
            do { bytes = try stream.read(deadline: .after(seconds: idleTimeout)) } catch {
                throw KubeError.transport("watch \(resource): \(error)")
            }
            guard let bytes else {
                // A last event without a newline still counts.
                guard !pending.allSatisfy({ $0 == 32 || $0 == 10 || $0 == 13 }) else { return nil }
                defer { pending = [] }
                return try WatchEvent.parse(pending, resource: resource)
            }
            pending += bytes
            if pending.count > Self.maxEventBytes { throw KubeError(code: 200, reason: "BadWatchEvent", message: "watch \(resource): event larger than 16 MiB") }
        }
    }

    /// Ends the watch from another thread.
    public func cancel() { stream.interrupt() }
}

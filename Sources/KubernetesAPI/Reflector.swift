import Foundation
import SealgateCore
import Logging

/// Keeps a local view of one resource type in step with the API server, like client-go's reflector:
/// list, then watch from the list's resourceVersion (with bookmarks); a dropped watch resumes from the
/// last resourceVersion seen; 410 Gone (expired resourceVersion) relists; errors back off exponentially.
public final class Reflector: @unchecked Sendable {
    public enum Change: Sendable {
        /// A full list: the complete current set of objects.
        case replaced([JSONValue])
        case added(JSONValue)
        case modified(JSONValue)
        case deleted(JSONValue)
    }

    public struct Timing: Sendable {
        /// Server-side watch timeout (the server ends the watch; we resume from the last resourceVersion).
        public var watchTimeoutSeconds = 300
        /// Without a byte (events or bookmarks) for this long the watch is considered dead.
        public var idleTimeout: Double = 360
        public var initialBackoff: Double = 0.5
        public var maxBackoff: Double = 30
        public init() {}
    }

    public let resource: KubeResource
    private let client: KubeClient
    private let logger: Logger
    private let timing: Timing
    private let handler: @Sendable (Change) -> Void
    private let condition = NSCondition()
    private var stopped = false
    private var current: WatchStream?
    private var thread: Thread?
    /// Last resourceVersion seen (list, event or bookmark); nil means relist.
    public private(set) var resourceVersion: String?

    public init(client: KubeClient, resource: KubeResource, timing: Timing = Timing(), logger: Logger,
                handler: @escaping @Sendable (Change) -> Void) {
        self.client = client
        self.resource = resource
        self.timing = timing
        self.logger = logger
        self.handler = handler
    }

    public func start() {
        let t = Thread { [self] in run() }
        t.name = "reflector-\(resource.plural)"
        thread = t
        t.start()
    }

    public func stop() {
        condition.lock()
        stopped = true
        let watch = current
        condition.broadcast()
        condition.unlock()
        watch?.cancel()
    }

    private var isStopped: Bool {
        condition.lock(); defer { condition.unlock() }
        return stopped
    }

    private func run() {
        var backoff = timing.initialBackoff
        var rv: String?
        while !isStopped {
            do {
                if rv == nil {
                    rv = try relist()
                }
                try watchOnce(from: &rv)
                backoff = timing.initialBackoff
            } catch let error as KubeError where error.isGone {
                logger.info("resourceVersion expired, relisting", metadata: ["resource": "\(resource)"])
                // A list that itself answers 410 is retried with backoff, not in a tight loop.
                if rv == nil { sleep(backoff: &backoff) }
                rv = nil
            } catch let error as KubeError where error.code == 404 && rv == nil {
                // The CRD is not installed: nothing to enforce from it; check again later.
                logger.warning("resource not served by the API server; treating it as empty", metadata: ["resource": "\(resource)", "error": "\(error)"])
                handler(.replaced([]))
                sleep(backoff: &backoff, floor: timing.maxBackoff)
            } catch {
                if isStopped { break }
                logger.warning("list/watch failed; retrying", metadata: ["resource": "\(resource)", "error": "\(error)", "retryIn": "\(backoff)"])
                sleep(backoff: &backoff)
            }
        }
    }

    private func relist() throws -> String {
        let (items, rv) = try client.list(resource)
        setResourceVersion(rv)
        handler(.replaced(items))
        return rv
    }

    private func watchOnce(from rv: inout String?) throws {
        guard let from = rv else { return }
        let watch = try client.watch(resource, resourceVersion: from, timeoutSeconds: timing.watchTimeoutSeconds)
        condition.lock()
        if stopped { condition.unlock(); watch.cancel(); return }
        current = watch
        condition.unlock()
        defer {
            condition.lock(); current = nil; condition.unlock()
        }
        while let event = try watch.next(idleTimeout: timing.idleTimeout) {
            if isStopped { return }
            let eventRV = event.object["metadata"]?["resourceVersion"]?.stringValue
            switch event.kind {
            case .error:
                let code = Int(event.object["code"]?.numberValue ?? 0)
                throw KubeError(code: code, reason: event.object["reason"]?.stringValue ?? "WatchError",
                                message: "watch \(resource): \(event.object["message"]?.stringValue ?? "error event")")
            case .bookmark:
                break
            case .added: handler(.added(event.object))
            case .modified: handler(.modified(event.object))
            case .deleted: handler(.deleted(event.object))
            }
            if let eventRV {
                rv = eventRV
                setResourceVersion(eventRV)
            }
        }
    }

    private func setResourceVersion(_ rv: String) {
        condition.lock(); resourceVersion = rv; condition.unlock()
    }

    /// Waits (interruptible by `stop`) and doubles the backoff up to its bound.
    private func sleep(backoff: inout Double, floor: Double = 0) {
        let wait = max(backoff, min(floor, timing.maxBackoff))
        condition.lock()
        let until = Date().addingTimeInterval(wait * Double.random(in: 0.8...1.2))
        while !stopped && Date() < until { _ = condition.wait(until: until) }
        condition.unlock()
        backoff = min(backoff * 2, timing.maxBackoff)
    }
}

import Foundation

/// Where blocking network calls (the registry client waits on its sockets) run, off Swift's cooperative pool: each
/// on a thread of its own. Not a Dispatch queue: on Linux the global queues and concurrent queues of our own share
/// a pool capped near the core count, so on 2 cores the images of a Pod were fetched two at a time, one round trip
/// after another. A thread costs tens of microseconds against a registry round trip of milliseconds; how many run is
/// bounded by the requests in flight (the server caps those) times the lookups of each.
public enum BlockingIO {
    public static func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            start { continuation.resume(returning: work()) }
        }
    }

    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            start { continuation.resume(with: Result { try work() }) }
        }
    }

    /// Runs `body` on a new thread (1 MiB of stack: certificate parsing nests deeply).
    public static func start(_ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = "sealgate-io"
        thread.stackSize = 1 << 20
        thread.start()
    }
}

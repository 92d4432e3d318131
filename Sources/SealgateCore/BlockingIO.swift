import Foundation

/// Where blocking network calls (the registry client waits on its sockets) run, off Swift's cooperative pool: each
/// on a thread of its own (reused when idle). Not a Dispatch queue: on Linux the global queues and concurrent queues of our own share
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

    /// Runs `body` on a thread of its own: an idle one kept from earlier calls, else a new one (1 MiB of stack:
    /// certificate parsing nests deeply). Reuse saves the thread start-up (tens of microseconds) a cold image paid
    /// several times; a call never waits for another to finish.
    public static func start(_ body: @escaping @Sendable () -> Void) {
        threads.submit(body)
    }

    static let threads = ElasticThreads(name: "sealgate-io", idleTimeout: 30, maxIdle: 64)
}

/// Threads that each run one job at a time and wait up to `idleTimeout` for the next; a job finds an idle thread or
/// gets a new one, so the number running follows demand and nothing queues behind a blocked call.
final class ElasticThreads: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var waiting = 0
    private(set) var started = 0
    private let name: String
    private let idleTimeout: Double
    private let maxIdle: Int

    init(name: String, idleTimeout: Double, maxIdle: Int) {
        self.name = name
        self.idleTimeout = idleTimeout
        self.maxIdle = maxIdle
    }

    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        // Each queued job is matched with a waiting thread or a new one.
        let spawn = waiting < jobs.count - head
        if spawn { started += 1 } else { condition.signal() }
        condition.unlock()
        if spawn {
            let thread = Thread { [self] in work() }
            thread.name = name
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private func work() {
        condition.lock()
        while true {
            if head < jobs.count {
                let job = jobs[head]
                jobs[head] = {}  // a finished job must not keep what it captured alive
                head += 1
                if head == jobs.count { jobs.removeAll(keepingCapacity: true); head = 0 }
                condition.unlock()
                job()
                condition.lock()
                continue
            }
            guard waiting < maxIdle else { break }
            waiting += 1
            let signalled = condition.wait(until: Date().addingTimeInterval(idleTimeout))
            waiting -= 1
            if !signalled && head == jobs.count { break }
        }
        condition.unlock()
    }
}

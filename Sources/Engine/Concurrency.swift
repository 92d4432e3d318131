import Dispatch
import Foundation
import SealgateCore

/// Runs async work from synchronous code (server worker threads, CLI commands) and waits for it. It starts on
/// the calling thread: work that never suspends (static policies, unmatched images, cache hits answered without
/// I/O) completes inside Task creation, with no thread hop and no semaphore wake-up.
public func runBlocking<T: Sendable>(_ work: @escaping @Sendable () async -> T) -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    startInline {
        box.value = await work()
        done.signal()
    }
    done.wait()
    return box.value!
}

/// Starts `work` on the calling thread and returns when it first suspends (or finishes). Work that needs no I/O
/// finishes before this returns; the rest continues on whichever thread resumes it (a blocking call's thread, a
/// timer). The server's event loop starts admission reviews this way.
public func startInline(_ work: @escaping @Sendable () async -> Void) {
    Task(executorPreference: InlineExecutor.shared) { await work() }
}

/// Runs each job at once on the thread that enqueues it: the starting thread at first, later whichever thread
/// resumes the task (a registry call finishing on a Dispatch thread).
final class InlineExecutor: TaskExecutor {
    static let shared = InlineExecutor()

    func enqueue(_ job: consuming ExecutorJob) {
        job.runSynchronously(on: asUnownedTaskExecutor())
    }
}

/// `work`'s result, or nil when the deadline passes first (the work is left to finish on its own).
func untilDeadline<T: Sendable>(_ deadline: Deadline, _ work: @escaping @Sendable () async -> T) async -> T? {
    let box = LockedBox<T>()
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let gate = OnceGate(continuation)
        Task {
            let value = await work()
            box.set(value)
            gate.open()
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + max(0, deadline.remaining)) { gate.open() }
    }
    return box.get()
}

private final class LockedBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T?
    func set(_ v: T) { lock.lock(); value = v; lock.unlock() }
    func get() -> T? { lock.lock(); defer { lock.unlock() }; return value }
}

private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}

final class ResultCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [String: ImageDecision] = [:]
    /// Returns how many results there are now.
    func add(_ d: ImageDecision) -> Int { lock.lock(); defer { lock.unlock() }; results[d.image] = d; return results.count }
    var count: Int { lock.lock(); defer { lock.unlock() }; return results.count }
    func snapshot() -> [String: ImageDecision] { lock.lock(); defer { lock.unlock() }; return results }
}

/// Resumes a continuation exactly once, whoever gets there first.
final class OnceGate: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Void, Never>?
    init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = continuation }
    func open() {
        lock.lock()
        let c = continuation
        continuation = nil
        lock.unlock()
        c?.resume()
    }
}

import Foundation
@testable import SealgateCore
import Testing

/// Blocking calls run on threads of their own, reused when idle: none waits behind another, and a later call does
/// not pay for a new thread.
@Suite(.serialized)
struct BlockingIOTests {
    @Test("20 blocking calls at once all run at once, not two at a time")
    func neverQueued() async {
        // Each call blocks until all 20 are blocked together: calls queued behind others would never meet, and wait
        // out the (generous) bound instead. Asserts concurrency, not wall time.
        let meeting = Rendezvous(expected: 20)
        let met = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 { group.addTask { await BlockingIO.run { meeting.arriveAndWait(seconds: 30) } } }
            return await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(met == 20, "only \(met) of 20 blocking calls ran at the same time")
    }

    @Test("calls one after another reuse an idle thread; idle threads end after the timeout")
    func reuseAndExpiry() async throws {
        let threads = ElasticThreads(name: "test-io", idleTimeout: 0.3, maxIdle: 4)
        var seen = Set<UInt>()
        for _ in 0..<10 {
            let id: UInt = await withCheckedContinuation { continuation in
                threads.submit { continuation.resume(returning: UInt(pthread_self())) }
            }
            seen.insert(id)
            try await Task.sleep(nanoseconds: 10_000_000)  // the thread is back waiting before the next call
        }
        #expect(seen.count == 1 && threads.started == 1, "\(seen.count) threads for 10 calls in a row, \(threads.started) started")
        try await Task.sleep(nanoseconds: 800_000_000)   // past the idle timeout: the thread has ended
        await withCheckedContinuation { continuation in threads.submit { continuation.resume() } }
        #expect(threads.started == 2, "a new thread after the idle one ended")
    }

    @Test("a call that starts another blocking call and waits for it does not deadlock")
    func nested() async {
        let value: Int = await BlockingIO.run {
            let done = DispatchSemaphore(value: 0)
            let box = Box()
            BlockingIO.start { box.value = 42; done.signal() }
            done.wait()
            return box.value
        }
        #expect(value == 42)
    }

    final class Box: @unchecked Sendable { var value = 0 }

    /// Blocks each caller until `expected` callers are blocked at once (true), or `seconds` pass (false).
    final class Rendezvous: @unchecked Sendable {
        private let condition = NSCondition()
        private var arrived = 0
        private let expected: Int
        init(expected: Int) { self.expected = expected }

        func arriveAndWait(seconds: Double) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            arrived += 1
            condition.broadcast()
            let deadline = Date().addingTimeInterval(seconds)
            while arrived < expected {
                if !condition.wait(until: deadline) { return arrived >= expected }
            }
            return true
        }
    }
}

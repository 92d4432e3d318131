import Foundation
@testable import SealgateCore
import Testing

/// Blocking calls run on threads of their own, reused when idle: none waits behind another, and a later call does
/// not pay for a new thread.
@Suite(.serialized)
struct BlockingIOTests {
    @Test("20 blocking calls at once all run at once, not two at a time")
    func neverQueued() async {
        let started = Date()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { await BlockingIO.run { Thread.sleep(forTimeInterval: 0.3) } } }
        }
        let took = Date().timeIntervalSince(started)
        #expect(took < 2, "took \(took) s for 20 × 0.3 s")
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
}

import Foundation
@testable import HTTP2Server
import Testing
import TestSupport

/// Memory held after work is done (found with LeakSanitizer on the ASan build of these tests).
@Suite(.serialized)
struct ResourceTests {
    final class Payload: @unchecked Sendable {
        let bytes = [UInt8](repeating: 1, count: 1 << 20)
    }

    @Test("a finished worker-pool job releases what it captured (the request and its body)")
    func finishedJobReleasesCapture() {
        let pool = WorkerPool(threads: 1, name: "test-pool")
        defer { pool.stop() }
        weak var weakPayload: Payload?
        let ran = DispatchSemaphore(value: 0)
        do {
            let payload = Payload()
            weakPayload = payload
            pool.submit { _ = payload.bytes.count; ran.signal() }
        }
        #expect(ran.wait(timeout: .now() + 5) == .success)
        // The job has returned; give the worker a moment to loop back to its wait.
        for _ in 0..<50 where weakPayload != nil { usleep(20_000) }
        // Before the fix the array slot kept up to 1024 finished closures (and their request bodies).
        #expect(weakPayload == nil, "finished job still retained its captured request")
    }

    @Test("a stopped server that answered requests is deallocated (no server <-> job cycle)")
    func serverIsReleased() throws {
        weak var weakServer: HTTPServer?
        do {
            let running = try Hardening.start()
            weakServer = running.server
            let result = try running.curl(["--max-time", "5", running.baseURL + "/fast"])
            #expect(result.stdout.hasPrefix("fast"))
            running.stop()
        }
        for _ in 0..<100 where weakServer != nil { usleep(20_000) }
        #expect(weakServer == nil, "HTTPServer (its epoll and eventfd descriptors, metrics, pool) leaked after shutdown")
    }
}

import Foundation
import HTTP2Server
import Testing
import TestSupport

/// Starting handlers: answers given before the handler returns are sent by the event loop itself; later answers
/// come from any thread; past the loop's inline budget requests start on workers.
extension HTTPServerTests {
    /// Whether each handler ran on the event-loop thread, in arrival order.
    final class ThreadLog: @unchecked Sendable {
        private let lock = NSLock()
        private var onLoop: [Bool] = []
        var running: Running?
        /// Notes the calling thread; true when it is the event loop's.
        func note() -> Bool {
            let loop = running?.loopThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false
            lock.lock(); onLoop.append(loop); lock.unlock()
            return loop
        }
        var all: [Bool] { lock.lock(); defer { lock.unlock() }; return onLoop }
    }

    @Test("an answer given before the handler returns is sent from the event loop, over h2 and HTTP/1.1 keep-alive")
    func answeredOnTheLoop() throws {
        let log = ThreadLog()
        let (running, pki) = try start(starting: { request, respond in
            respond(Response(status: 200, body: Array("\(request.version.rawValue) \(log.note() ? "loop" : "worker")".utf8)))
        })
        log.running = running
        defer { running.stop() }
        let url = "https://localhost:\(running.server.boundPort)/now"
        let h2 = try curl(pki, ["--http2", "-w", "\n", url, url])
        #expect(h2.stdout == "HTTP/2 loop\nHTTP/2 loop\n", "\(h2.stdout) \(h2.stderr)")
        // One HTTP/1.1 connection, three requests: each delivery readies the session for the next.
        let h1 = try curl(pki, ["--http1.1", "-w", " %{num_connects}\n", url, url, url])
        #expect(h1.stdout == "HTTP/1.1 loop 1\nHTTP/1.1 loop 0\nHTTP/1.1 loop 0\n", "\(h1.stdout) \(h1.stderr)")
        #expect(log.all == Array(repeating: true, count: 5), "\(log.all)")
    }

    @Test("a handler that returns without answering responds later from another thread; the loop serves other streams meanwhile")
    func answeredLater() throws {
        let fastAnswered = DispatchSemaphore(value: 0)
        let (running, pki) = try start(starting: { request, respond in
            guard request.path == "/later" else {
                respond(.text(200, "now"))
                fastAnswered.signal()
                return
            }
            // Answers only once /now was answered on the same connection: proof the loop did not wait for this one.
            DispatchQueue.global().async {
                let order = fastAnswered.wait(timeout: .now() + 10) == .success ? "after now" : "never saw now"
                respond(.text(200, "later, \(order)"))
            }
        })
        defer { running.stop() }
        let base = "https://localhost:\(running.server.boundPort)"
        // -Z without --parallel-immediate: curl waits for the first connection and multiplexes both streams on it.
        let result = try curl(pki, ["--http2", "-Z", "-w", "%{url} %{num_connects} %{http_code}\n",
                                    "-o", "/dev/null", "\(base)/later", "-o", "/dev/null", "\(base)/now"])
        // Both answered over one connection. The order curl reports them in is its own (both may arrive in one read);
        // the body below is the proof of order.
        let lines = Set(result.stdout.split(separator: "\n").map(String.init))
        #expect(lines == ["\(base)/now 1 200", "\(base)/later 0 200"] || lines == ["\(base)/now 0 200", "\(base)/later 1 200"],
                "\(result.stdout) \(result.stderr)")
        let body = try curl(pki, ["--http2", "-Z", "-o", "/dev/stdout", "\(base)/later", "-o", "/dev/null", "\(base)/now"])
        #expect(body.stdout == "later, after now\n", "\(body.stdout) \(body.stderr)")
    }

    @Test("past the inline budget a burst starts on workers; budget 0 starts every request on a worker", arguments: [0.001, 0])
    func budgetSpreadsBursts(budget: Double) throws {
        let log = ThreadLog()
        let (running, _) = try start({ $0.inlineBudget = budget }, starting: { _, respond in
            _ = log.note()
            let until = Date().addingTimeInterval(0.003)  // a 3 ms decision: one uses the whole 1 ms budget
            while Date() < until {}
            respond(.text(200, "done"))
        })
        log.running = running
        defer { running.stop() }
        // 20 streams opened at once on one connection: their HEADERS arrive in one read.
        let result = try Subprocess.run("h2load", ["-n", "20", "-c", "1", "-m", "20", "https://127.0.0.1:\(running.server.boundPort)/work"], timeout: 60)
        #expect(result.stdout.contains("20 succeeded"), "\(result.stdout) \(result.stderr)")
        let names = log.all
        #expect(names.count == 20)
        let onLoop = names.filter { $0 }.count
        if budget == 0 {
            #expect(onLoop == 0, "\(names)")
        } else {
            #expect(onLoop >= 1 && onLoop < 20, "a burst should start partly on the loop, partly on workers: \(names)")
        }
    }
}

import Foundation
import HTTP2Server
import Testing
import TestSupport

/// Issue item 4: a burst far beyond the workers is shed quickly with 503 + retry-after and the
/// server recovers once the burst is over.
@Suite(.serialized)
struct OverloadTests {
    /// "status codes: 120 2xx, 0 3xx, 0 4xx, 280 5xx" and the request latency line from h2load.
    func parse(_ output: String) -> (ok: Int, fiveXX: Int, failed: Int, maxLatency: Double) {
        var ok = 0, fiveXX = 0, failed = -1, maxLatency = -1.0
        for line in output.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
            if line.contains("status codes:"), words.count >= 9 {
                ok = Int(words[2]) ?? 0
                fiveXX = Int(words[8]) ?? 0
            }
            // h2load counts 5xx as "failed"; transport failures are "errored" and "timeout".
            if line.hasPrefix("requests:"), let e = words.firstIndex(of: "errored"), let t = words.firstIndex(of: "timeout"), e > 0, t > 0 {
                failed = (Int(words[e - 1]) ?? 1) + (Int(words[t - 1]) ?? 1)
            }
            if line.hasPrefix("time for request:"), words.count >= 5 { maxLatency = seconds(words[4]) }
        }
        return (ok, fiveXX, failed, maxLatency)
    }

    func seconds(_ text: String) -> Double {
        if text.hasSuffix("ms") { return (Double(text.dropLast(2)) ?? -1) / 1000 }
        if text.hasSuffix("us") { return (Double(text.dropLast(2)) ?? -1) / 1_000_000 }
        if text.hasSuffix("s") { return Double(text.dropLast(1)) ?? -1 }
        return -1
    }

    @Test("h2load burst with tiny limits: excess shed at once, latency bounded, then full recovery")
    func burstIsShedAndRecovers() throws {
        let server = try Hardening.start { $0.workerThreads = 2; $0.maxQueuedRequests = 8 }
        defer { server.stop() }
        let started = Date()
        // 800 requests of 50 ms each on 2 workers would take 20 s if all were queued.
        let result = try Subprocess.run("h2load", ["-n", "800", "-c", "8", "-m", "16", "\(server.baseURL)/work"], timeout: 60)
        let elapsed = Date().timeIntervalSince(started)
        let stats = parse(result.stdout)
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        #expect(stats.failed == 0, "\(result.stdout)")
        #expect(stats.ok + stats.fiveXX == 800, "\(result.stdout)")
        #expect(stats.fiveXX > 0, "nothing was shed: \(result.stdout)")
        #expect(stats.ok >= 8, "\(result.stdout)")
        // The queue holds at most 8 requests = 4 rounds of 50 ms on 2 workers: well under a second.
        #expect(stats.maxLatency >= 0 && stats.maxLatency < 2, "max latency \(stats.maxLatency) s\n\(result.stdout)")
        #expect(elapsed < 15, "burst took \(elapsed) s")

        let shed = try server.curl(["-i", "-Z", "--parallel-immediate", "--parallel-max", "20"] +
                                   Array(repeating: "\(server.baseURL)/work", count: 20))
        #expect(shed.stdout.lowercased().contains("retry-after: 1"), "no 503 with retry-after in a 20-way burst")

        // Load gone: sequential requests are all served.
        for _ in 0..<20 {
            let ok = try server.curl(["--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", "\(server.baseURL)/work"])
            #expect(ok.stdout == "200")
        }
    }
}

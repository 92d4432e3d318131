import Foundation
import HTTP2Server
import Testing
import TestSupport

/// HTTP/2 abuse (Python clients in Tests/Fixtures/hardening/h2abuse.py) against the in-process server,
/// with a normal client running alongside that must see every request answered 200.
@Suite(.serialized)
struct H2AbuseTests {
    /// Runs `mode` while a normal client loops; checks the normal client, memory and liveness afterwards.
    func attack(_ server: RunningServer, _ mode: String, _ arguments: [String], timeout: Double = 90) throws -> [String: Any] {
        let before = Hardening.residentKiB()
        let normal = NormalClient(server)
        usleep(200_000)
        var tlsArguments: [String] = []
        if let pki = server.pki { tlsArguments = ["--tls", "--cafile", pki.caCertificate] }
        let summary = try Hardening.python("h2abuse.py", [mode, "--port", String(server.port)] + tlsArguments + arguments, timeout: timeout)
        let (outcomes, slowest) = normal.finish()
        print("hardening \(mode): \(summary) normal=\(outcomes.count) slowest=\(slowest)s")
        let after = Hardening.residentKiB()
        #expect(outcomes.count >= 3, "normal client made too few requests: \(outcomes)")
        let failed = outcomes.filter { $0 != "200" }
        #expect(failed.isEmpty, "\(mode): normal client saw \(failed.count)/\(outcomes.count) failures: \(Set(failed)); slowest \(slowest) s")
        #expect(slowest < 5, "\(mode): normal client waited \(slowest) s")
        // Generous: the whole test process, server and all, may not grow by 256 MiB.
        #expect(after - before < 256 * 1024, "\(mode): RSS grew from \(before) KiB to \(after) KiB")
        let check = try server.curl(["--max-time", "5", server.baseURL + "/fast"])
        #expect(check.stdout.hasPrefix("fast"), "\(mode): server not answering afterwards: \(check.stderr)")
        return summary
    }

    @Test("rapid reset (CVE-2023-44487): reset streams cannot queue unbounded handler work")
    func rapidReset() throws {
        // Few workers and a 50 ms handler: every reset request that still reaches a worker costs 25 ms of capacity.
        let server = try Hardening.start { $0.workerThreads = 2; $0.maxConcurrentStreams = 16 }
        defer { server.stop() }
        let summary = try attack(server, "rapid-reset", ["--path", "/work", "--count", "5000", "--seconds", "8"])
        #expect((summary["sent"] as? Int ?? 0) >= 500, "\(summary)")
    }

    @Test("CONTINUATION flood: a header block that never ends gets the connection closed")
    func continuationFlood() throws {
        let server = try Hardening.start()
        defer { server.stop() }
        let summary = try attack(server, "continuation-flood", ["--count", "20000", "--seconds", "8"])
        #expect(summary["closed"] as? Bool == true || summary["goaway"] is Int, "\(summary)")
        #expect((summary["sent"] as? Int ?? 0) < 20000, "the server read a 20000-frame header block: \(summary)")
    }

    @Test("HPACK bomb: one table entry referenced 100k times is refused, not decoded into memory")
    func hpackBomb() throws {
        let server = try Hardening.start()
        defer { server.stop() }
        let summary = try attack(server, "hpack-bomb", ["--count", "100000", "--seconds", "4"])
        let statuses = summary["responses"] as? [String: Int] ?? [:]
        #expect(statuses["431"] == 1 || summary["closed"] as? Bool == true || summary["goaway"] is Int, "\(summary)")
        #expect(statuses["200"] == nil, "\(summary)")
    }

    @Test("thousands of headers on one request get 431")
    func manyHeaders() throws {
        let server = try Hardening.start()
        defer { server.stop() }
        let summary = try attack(server, "many-headers", ["--count", "8000", "--seconds", "3"])
        let statuses = summary["responses"] as? [String: Int] ?? [:]
        #expect(statuses["431"] == 1 || summary["closed"] as? Bool == true, "\(summary)")
    }

    @Test("SETTINGS flood without reading the ACKs ends the connection")
    func settingsFlood() throws {
        let server = try Hardening.start()
        defer { server.stop() }
        let summary = try attack(server, "settings-flood", ["--count", "200000", "--seconds", "8"])
        #expect(summary["closed"] as? Bool == true || summary["goaway"] is Int, "\(summary)")
    }

    @Test("PING flood without reading the ACKs ends the connection")
    func pingFlood() throws {
        let server = try Hardening.start()
        defer { server.stop() }
        let summary = try attack(server, "ping-flood", ["--count", "200000", "--seconds", "8"])
        #expect(summary["closed"] as? Bool == true || summary["goaway"] is Int, "\(summary)")
    }

    @Test("zero-window client that only pings is disconnected after the write timeout")
    func zeroWindow() throws {
        let server = try Hardening.start { $0.writeTimeout = 1 }
        defer { server.stop() }
        let summary = try attack(server, "zero-window", ["--path", "/big", "--count", "50", "--seconds", "6"])
        #expect(summary["closed"] as? Bool == true, "responses stayed pinned for a zero-window peer: \(summary)")
        #expect((summary["data_in"] as? Int ?? -1) == 0, "\(summary)")
    }

    @Test("unfinished uploads on many streams are capped per connection")
    func bodyHoard() throws {
        // 12 streams x 880 KiB (inside the 1 MiB stream window) = 10 MiB of never-finished bodies
        // against a 4 MiB connection budget; the old code held all of it (250 streams x 3 MiB possible).
        let server = try Hardening.start { $0.maxConnectionBodyBytes = 4 * 1024 * 1024 }
        defer { server.stop() }
        let summary = try attack(server, "body-hoard", ["--path", "/echo", "--streams", "12", "--count", String(880 * 1024), "--seconds", "20"])
        let statuses = summary["responses"] as? [String: Int] ?? [:]
        #expect((statuses["503"] ?? 0) >= 1, "no stream was refused: \(summary)")
    }

    @Test("TLS slowloris: partial ClientHellos are dropped after the read timeout; others are served")
    func slowTLSHandshakes() throws {
        let server = try Hardening.start(tls: true) { $0.readTimeout = 1 }
        defer { server.stop() }
        let summary = try attack(server, "slow-tls", ["--count", "200", "--seconds", "6"])
        #expect(summary["opened"] as? Int == 200, "\(summary)")
        #expect(summary["still_open"] as? Int == 0, "\(summary)")
    }

    @Test("TLS peers resetting mid-response do not kill the process with SIGPIPE")
    func resetMidResponse() throws {
        // OpenSSL writes with write(2); before the server ignored SIGPIPE this test process died of signal 13.
        let server = try Hardening.start(tls: true)
        defer { server.stop() }
        let summary = try attack(server, "reset-mid-response", ["--count", "20"])
        #expect(summary["resets"] as? Int == 20, "\(summary)")
    }

    @Test("HTTP/1.1 slowloris: a head dribbled byte by byte is cut off after the read timeout")
    func slowHeaders() throws {
        let server = try Hardening.start { $0.readTimeout = 1 }
        defer { server.stop() }
        // Each byte used to reset the idle clock, so the connection lived as long as the client liked.
        let summary = try attack(server, "slow-headers", ["--seconds", "6"])
        #expect(summary["status"] as? String == "408", "\(summary)")
        #expect((summary["closed_after"] as? Double ?? 99) < 4, "\(summary)")
    }

    @Test("HTTP/2 slowloris: a body dribbled byte by byte gets 408 after the read timeout")
    func slowBody() throws {
        let server = try Hardening.start { $0.readTimeout = 1 }
        defer { server.stop() }
        let summary = try attack(server, "slow-body", ["--path", "/echo", "--seconds", "6"])
        let statuses = summary["responses"] as? [String: Int] ?? [:]
        #expect(statuses["408"] == 1, "\(summary)")
        #expect((summary["answered_after"] as? Double ?? 99) < 4, "\(summary)")
    }

    @Test("half-open and silent connections are closed")
    func halfOpen() throws {
        let server = try Hardening.start { $0.readTimeout = 1 }
        defer { server.stop() }
        let summary = try attack(server, "half-open", ["--count", "200", "--seconds", "6"])
        #expect(summary["opened"] as? Int == 200, "\(summary)")
        #expect(summary["still_open"] as? Int == 0, "\(summary)")
    }
}

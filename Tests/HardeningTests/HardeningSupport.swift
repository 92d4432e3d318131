import Foundation
import HTTP2Server
import Logging
import Testing
import TestSupport

/// The server in-process on its own thread; `stop()` drains it and waits (bounded) for `run()` to return.
final class RunningServer: @unchecked Sendable {
    let server: HTTPServer
    let pki: TestPKI?
    let finished = DispatchSemaphore(value: 0)

    init(_ server: HTTPServer, pki: TestPKI?) {
        self.server = server
        self.pki = pki
        Thread.detachNewThread { [self] in
            server.run()
            finished.signal()
        }
    }

    var port: UInt16 { server.boundPort }
    var tls: Bool { pki != nil }
    var baseURL: String { tls ? "https://localhost:\(port)" : "http://127.0.0.1:\(port)" }

    func stop() {
        server.shutdown()
        _ = finished.wait(timeout: .now() + 15)
    }

    /// curl with the protocol flag matching the server (h2 via ALPN, or h2 prior knowledge in plain text).
    func curl(_ arguments: [String], http1: Bool = false, timeout: Double = 30) throws -> ProcessOutput {
        var base = ["-sS"]
        if let pki { base += ["--cacert", pki.caCertificate, "--connect-to", "localhost::127.0.0.1:"] }
        base.append(http1 ? "--http1.1" : (tls ? "--http2" : "--http2-prior-knowledge"))
        return try Subprocess.run("curl", base + arguments, timeout: timeout)
    }
}

enum Hardening {
    /// Handlers: /fast answers at once, /work takes 50 ms of a worker, /slow 1.5 s,
    /// /big returns 256 KiB, /echo returns the body.
    static func handler(_ request: Request) -> Response {
        switch request.path {
        case "/work":
            usleep(50_000)
            return .text(200, "worked")
        case "/slow":
            usleep(1_500_000)
            return .text(200, "slow done")
        case "/big":
            return Response(status: 200, headers: [("content-type", "application/octet-stream")], body: [UInt8](repeating: 0x61, count: 256 * 1024))
        case "/echo":
            return Response(status: 200, headers: [("content-type", "application/octet-stream")], body: request.body)
        default:
            return .text(200, "fast \(request.version.rawValue) \(request.method)")
        }
    }

    static func start(tls: Bool = false, clientCAPath: String? = nil, pki existing: TestPKI? = nil,
                      _ adjust: (inout ServerConfiguration.Limits) -> Void = { _ in }) throws -> RunningServer {
        var limits = ServerConfiguration.Limits()
        adjust(&limits)
        var pki: TestPKI?
        var tlsConfig: ServerConfiguration.TLS?
        if tls {
            let p = try existing ?? TestPKI()
            let cert = try p.issueServerCertificate(name: "server", serial: 11)
            tlsConfig = .init(certificatePath: cert.certificate, privateKeyPath: cert.key, clientCAPath: clientCAPath)
            pki = p
        }
        let config = ServerConfiguration(host: "127.0.0.1", port: 0, tls: tlsConfig, limits: limits, drainTimeout: 5)
        var logger = Logger(label: "hardening")
        logger.logLevel = .critical
        let server = try HTTPServer(configuration: config, logger: logger, handler: handler)
        return RunningServer(server, pki: pki)
    }

    static let fixtures = TestPaths.fixtures.appendingPathComponent("hardening")

    /// Runs one of the Python clients and returns its JSON summary (last stdout line).
    static func python(_ script: String, _ arguments: [String], timeout: Double = 90) throws -> [String: Any] {
        let path = fixtures.appendingPathComponent(script).path
        let result = try Subprocess.run("python3", [path] + arguments, timeout: timeout)
        let last = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        guard let json = try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any] else {
            throw HardeningError("\(script) \(arguments.joined(separator: " ")) printed no summary (status \(result.status)); " +
                                 "is the `h2` package installed (Tests/Fixtures/hardening/requirements.txt)?\n\(result.stdout)\n\(result.stderr)")
        }
        return json
    }

    /// Resident memory of this test process (server included), in KiB.
    static func residentKiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return 0
    }
}

struct HardeningError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A well-behaved client hammering /fast on fresh connections while an attack runs; every request
/// must succeed. Bounded: at most `maxRequests`, and it stops when told to.
final class NormalClient: @unchecked Sendable {
    private let lock = NSLock()
    private var stopRequested = false
    private(set) var outcomes: [String] = []
    private(set) var slowest = 0.0
    private let done = DispatchSemaphore(value: 0)

    init(_ server: RunningServer, path: String = "/fast", maxRequests: Int = 300) {
        Thread.detachNewThread { [self] in
            for _ in 0..<maxRequests {
                if isStopped { break }
                let started = Date()
                let result = try? server.curl(["--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", server.baseURL + path], timeout: 10)
                let elapsed = Date().timeIntervalSince(started)
                lock.lock()
                outcomes.append(result.map { $0.status == 0 ? $0.stdout : "curl-exit-\($0.status)" } ?? "timeout")
                slowest = max(slowest, elapsed)
                lock.unlock()
                usleep(20_000)
            }
            done.signal()
        }
    }

    private var isStopped: Bool {
        lock.lock(); defer { lock.unlock() }
        return stopRequested
    }

    /// Stops the loop and returns (outcomes, slowest seconds).
    func finish() -> (outcomes: [String], slowest: Double) {
        lock.lock(); stopRequested = true; lock.unlock()
        _ = done.wait(timeout: .now() + 30)
        lock.lock(); defer { lock.unlock() }
        return (outcomes, slowest)
    }
}

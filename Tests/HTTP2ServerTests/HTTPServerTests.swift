import Foundation
import HTTP2Server
import Logging
import Testing
import TestSupport

/// The server in-process with test handlers, driven by curl: concurrency, limits, drain.
@Suite(.serialized)
struct HTTPServerTests {
    final class Running: @unchecked Sendable {
        let server: HTTPServer
        let finished = DispatchSemaphore(value: 0)
        /// The event-loop thread (set before it serves).
        private(set) var loopThread: pthread_t?
        init(_ server: HTTPServer) {
            self.server = server
            Thread.detachNewThread { [self] in
                loopThread = pthread_self()
                server.run()
                finished.signal()
            }
        }
        func stop() {
            server.shutdown()
            _ = finished.wait(timeout: .now() + 15)
        }
    }

    static func handler(_ request: Request) -> Response {
        switch request.path {
        case "/slow":
            usleep(1_500_000)
            return .text(200, "slow done")
        case "/echo":
            return Response(status: 200, headers: [("content-type", "application/octet-stream")], body: request.body)
        default:
            return .text(200, "fast \(request.version.rawValue) \(request.method)")
        }
    }

    /// `starting`: a handler that starts on the event loop instead of the blocking `handler` above.
    func start(tls: Bool = true, _ adjust: (inout ServerConfiguration.Limits) -> Void = { _ in },
               starting: HTTPServer.StartHandler? = nil) throws -> (Running, TestPKI?) {
        var limits = ServerConfiguration.Limits()
        adjust(&limits)
        var pki: TestPKI?
        var tlsConfig: ServerConfiguration.TLS?
        if tls {
            let p = try TestPKI()
            let cert = try p.issueServerCertificate(name: "server", serial: 7)
            tlsConfig = .init(certificatePath: cert.certificate, privateKeyPath: cert.key)
            pki = p
        }
        let config = ServerConfiguration(host: "127.0.0.1", port: 0, tls: tlsConfig, limits: limits, drainTimeout: 10)
        var logger = Logger(label: "test")
        logger.logLevel = .error
        let server = try starting.map { try HTTPServer(configuration: config, logger: logger, start: $0) }
            ?? HTTPServer(configuration: config, logger: logger, handler: Self.handler)
        return (Running(server), pki)
    }

    func curl(_ pki: TestPKI?, _ arguments: [String], timeout: Double = 60) throws -> ProcessOutput {
        let tls = pki.map { ["--cacert", $0.caCertificate, "--connect-to", "localhost::127.0.0.1:"] } ?? []
        return try Subprocess.run("curl", ["-sS"] + tls + arguments, timeout: timeout)
    }

    @Test("a slow handler does not hold up other streams on the same h2 connection")
    func slowHandlerDoesNotBlock() throws {
        let (running, pki) = try start()
        defer { running.stop() }
        let base = "https://localhost:\(running.server.boundPort)"
        let result = try curl(pki, ["--http2", "-Z", "--parallel-immediate", "-w", "%{url} %{num_connects} %{time_total}\n",
                                    "-o", "/dev/null", "\(base)/slow", "-o", "/dev/null", "\(base)/fast"])
        let lines = result.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 2, "\(result.stdout) \(result.stderr)")
        // Completion order is the proof: the fast stream finishes while the slow one is still running.
        #expect(lines[0].hasPrefix("\(base)/fast"), "\(lines)")
        #expect(lines[1].hasPrefix("\(base)/slow"), "\(lines)")
    }

    @Test("shutdown lets an in-flight request finish, refuses new connections and returns from run()")
    func gracefulDrain() throws {
        let (running, pki) = try start()
        let port = running.server.boundPort
        let slow = DispatchQueue(label: "slow")
        let result = LockedBox<ProcessOutput?>(nil)
        let done = DispatchSemaphore(value: 0)
        slow.async {
            result.value = try? self.curl(pki, ["--http2", "-w", " %{http_code}", "https://localhost:\(port)/slow"])
            done.signal()
        }
        usleep(500_000)
        #expect(!running.server.isDraining)
        running.server.shutdown()
        #expect(running.server.isDraining)
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(result.value?.stdout == "slow done\n 200", "\(String(describing: result.value))")
        #expect(running.finished.wait(timeout: .now() + 10) == .success, "run() did not return after drain")
        let refused = try curl(pki, ["--http2", "--max-time", "5", "https://localhost:\(port)/fast"])
        #expect(refused.status == 7, "\(refused.stderr)")
    }

    @Test("plain-text mode serves h2 with prior knowledge and HTTP/1.1 on the same port")
    func plaintextProtocols() throws {
        let (running, _) = try start(tls: false)
        defer { running.stop() }
        let url = "http://127.0.0.1:\(running.server.boundPort)/fast"
        #expect(try curl(nil, ["--http2-prior-knowledge", url]).stdout == "fast HTTP/2 GET\n")
        #expect(try curl(nil, ["--http1.1", url]).stdout == "fast HTTP/1.1 GET\n")
    }

    /// Whether the server keeps an HTTP/1.x connection open after answering a request with `connection` (nil: no
    /// such header): a second request on the same socket is answered ("open") or the socket is closed ("closed").
    static let keepAliveProbe = #"""
    import socket, sys
    port, version, connection = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    head = "GET /fast %s\r\nHost: a\r\n" % version + ("Connection: %s\r\n" % connection if connection != "-" else "")
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    def answer():
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk: return None
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        length = next(int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:"))
        while len(body) < length: body += s.recv(4096)
        return head.split(b" ")[1]
    s.sendall((head + "\r\n").encode())
    assert answer() == b"200", "first request not answered"
    try:
        s.sendall(b"GET /fast HTTP/1.1\r\nHost: a\r\n\r\n")
        print("open" if answer() == b"200" else "closed")
    except (BrokenPipeError, ConnectionResetError):
        print("closed")
    """#

    @Test("HTTP/1.x keep-alive follows the Connection header's tokens, not substrings of it",
          arguments: [("HTTP/1.1", "-", "open"), ("HTTP/1.1", "close", "closed"), ("HTTP/1.1", "keep-alive, Close", "closed"),
                      ("HTTP/1.1", "x-close-notify", "open"), ("HTTP/1.1", "upgrade,close ", "closed"),
                      ("HTTP/1.0", "-", "closed"), ("HTTP/1.0", "Keep-Alive", "open"), ("HTTP/1.0", "not-keep-alive", "closed")])
    func keepAliveTokens(version: String, connection: String, expected: String) throws {
        let (running, _) = try start(tls: false)
        defer { running.stop() }
        let probe = try Subprocess.run("python3", ["-c", Self.keepAliveProbe, String(running.server.boundPort), version, connection], timeout: 30)
        #expect(probe.status == 0, "probe failed: \(probe.stderr)")
        #expect(probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == expected,
                "\(version) with Connection: \(connection)")
    }

    @Test("bodies up to the limit are delivered intact; larger ones get 413", arguments: ["--http2", "--http1.1"])
    func bodyLimit(flag: String) throws {
        let (running, pki) = try start { $0.maxBodyBytes = 100_000 }
        defer { running.stop() }
        let dir = try makeTemporaryDirectory()
        let okBody = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let okPath = dir.appendingPathComponent("ok.bin").path
        try okBody.write(to: URL(fileURLWithPath: okPath))
        let bigPath = dir.appendingPathComponent("big.bin").path
        try Data(repeating: 7, count: 100_001).write(to: URL(fileURLWithPath: bigPath))
        let echoed = dir.appendingPathComponent("echoed.bin").path
        let base = "https://localhost:\(running.server.boundPort)/echo"
        let ok = try curl(pki, [flag, "-H", "Expect:", "--data-binary", "@\(okPath)", "-o", echoed, "-w", "%{http_code}", base])
        #expect(ok.stdout == "200")
        #expect(try Data(contentsOf: URL(fileURLWithPath: echoed)) == okBody)
        let big = try curl(pki, [flag, "-H", "Expect:", "--data-binary", "@\(bigPath)", "-o", "/dev/null", "-w", "%{http_code}", base])
        #expect(big.stdout == "413")
    }

    @Test("oversized request headers get 431")
    func headerLimit() throws {
        let (running, pki) = try start { $0.maxHeaderBytes = 4096 }
        defer { running.stop() }
        let huge = "x-big: " + String(repeating: "a", count: 8000)
        for flag in ["--http2", "--http1.1"] {
            let result = try curl(pki, [flag, "-H", huge, "-o", "/dev/null", "-w", "%{http_code}", "https://localhost:\(running.server.boundPort)/fast"])
            #expect(result.stdout == "431", "\(flag): \(result.stdout) \(result.stderr)")
        }
    }

    @Test("more requests than the queue holds: the excess gets 503 at once, then service recovers")
    func overloadSheds() throws {
        let (running, pki) = try start { $0.workerThreads = 1; $0.maxQueuedRequests = 2 }
        defer { running.stop() }
        let base = "https://localhost:\(running.server.boundPort)"
        var arguments = ["--http2", "-Z", "--parallel-immediate", "-w", "%{http_code}\n"]
        for _ in 0..<5 { arguments += ["-o", "/dev/null", "\(base)/slow"] }
        let result = try curl(pki, arguments, timeout: 60)
        let codes = result.stdout.split(separator: "\n").map(String.init).sorted()
        #expect(codes == ["200", "200", "503", "503", "503"], "\(result.stdout) \(result.stderr)")
        #expect(try curl(pki, ["--http2", "\(base)/fast"]).stdout == "fast HTTP/2 GET\n")
    }

    @Test("a client that never finishes its TLS handshake is disconnected after the read timeout")
    func handshakeTimeout() throws {
        let (running, _) = try start { $0.readTimeout = 1 }
        defer { running.stop() }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = running.server.boundPort.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        try #require(rc == 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, 0)
        // 0 = orderly close by the server (a timeout would give -1 with EAGAIN).
        #expect(n == 0)
    }
}

/// A value shared with a background closure in tests.
final class LockedBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}

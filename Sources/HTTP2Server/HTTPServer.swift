import CLinux
import COpenSSL
import Foundation
import Glibc
import Logging

/// TLS HTTP/2 + HTTP/1.1 server on one epoll event loop. Blocking handlers run on a bounded worker pool; a
/// starting handler begins on the event loop, and what it answers before returning is sent with no hand-off.
///
/// Lifecycle: `init` binds and listens, `run()` serves until `shutdown()` (safe from any thread or a
/// signal source) has drained in-flight requests or the drain timeout passed.
public final class HTTPServer: @unchecked Sendable, RequestSink {
    /// Answers one request; may block (it runs on a worker thread).
    public typealias Handler = @Sendable (Request) -> Response
    /// Starts answering one request and calls `respond` exactly once, from any thread. It must not block: it runs
    /// on the event loop (while the loop's inline budget lasts, else on a worker), and an answer given before it
    /// returns is sent at once. Work that has to wait (I/O) continues elsewhere and responds from there.
    public typealias StartHandler = @Sendable (Request, _ respond: @escaping @Sendable (Response) -> Void) -> Void

    public let configuration: ServerConfiguration
    /// The port actually bound (useful with port 0).
    public private(set) var boundPort: UInt16 = 0

    let start: StartHandler
    /// Whether `start` may run on the event loop (false for blocking `Handler`s).
    let startsInline: Bool
    /// What is left of this loop pass's `Limits.inlineBudget`.
    var inlineTimeLeft = 0.0
    /// Answers given on the event loop, sent once the session that dispatched them has finished reading.
    var answeredInline: [Completion] = []
    let logger: Logger
    let epollFD: Int32
    let wakeFD: Int32
    var listenFD: Int32 = -1
    let tls: ReloadingTLSContext?
    let pool: WorkerPool
    let metrics: ServerMetrics
    let errorLog: RateLimitedLog
    var connections: [Int32: Connection] = [:]
    var connectionsByID: [UInt64: Connection] = [:]
    var nextConnectionID: UInt64 = 1
    var draining = false
    var drainDeadline = 0.0
    var finalGoawayAt: Double?
    /// Handler answers that found their connection gone (peer left, or drain timed out).
    var undelivered = 0
    var nextHousekeeping = 0.0
    var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)

    struct Completion {
        var connection: UInt64
        var stream: Int32
        var response: Response
        var path: String
        var version: Request.Version
        var started: Double
    }

    let lock = NSLock()
    var completions: [Completion] = []
    var shutdownRequested = false
    var drainingFlag = false

    /// A server whose handler blocks: every request is answered from a worker thread.
    public convenience init(configuration: ServerConfiguration, logger: Logger, handler: @escaping Handler) throws {
        try self.init(configuration: configuration, logger: logger, startsInline: false) { request, respond in respond(handler(request)) }
    }

    /// A server whose handler starts on the event loop (see `StartHandler`).
    public convenience init(configuration: ServerConfiguration, logger: Logger, start: @escaping StartHandler) throws {
        try self.init(configuration: configuration, logger: logger, startsInline: true, start: start)
    }

    private init(configuration: ServerConfiguration, logger: Logger, startsInline: Bool, start: @escaping StartHandler) throws {
        self.configuration = configuration
        self.logger = logger
        self.start = start
        self.startsInline = startsInline
        // OpenSSL writes with write(2): a peer that vanished would raise SIGPIPE and kill the process.
        signal(SIGPIPE, SIG_IGN)
        tls = try configuration.tls.map(ReloadingTLSContext.init)
        metrics = ServerMetrics(knownPaths: configuration.metricPaths)
        errorLog = RateLimitedLog(logger: logger)
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard epollFD >= 0, wakeFD >= 0 else { throw ServerError.system("epoll/eventfd", errno) }
        pool = WorkerPool(threads: configuration.limits.workerThreads, name: "sealgate-worker")
        try listen()
        watch(wakeFD, events: EPOLLIN.rawValue)
    }

    deinit {
        pool.stop()
        close(wakeFD)
        close(epollFD)
    }

    /// True once shutdown began: readiness probes should fail so the Service stops routing here.
    public var isDraining: Bool {
        lock.lock(); defer { lock.unlock() }
        return drainingFlag
    }

    /// Begin a graceful shutdown. Thread-safe and idempotent.
    public func shutdown() {
        lock.lock()
        shutdownRequested = true
        drainingFlag = true
        lock.unlock()
        wake()
    }

    /// Serves until shutdown completes.
    public func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        logger.info("listening", metadata: ["address": "\(configuration.host):\(boundPort)",
                                            "tls": "\(tls != nil)", "workers": "\(configuration.limits.workerThreads)"])
        while true {
            let n = epoll_wait(epollFD, &events, Int32(events.count), 250)
            let now = monotonicNow()
            inlineTimeLeft = configuration.limits.inlineBudget
            if n < 0 && errno != EINTR {
                logger.critical("epoll_wait failed: \(String(cString: strerror(errno)))")
                break
            }
            for i in 0..<max(0, Int(n)) {
                let fd = Int32(truncatingIfNeeded: events[i].data.u64)
                let flags = events[i].events
                if fd == listenFD {
                    acceptConnections(now: now)
                } else if fd == wakeFD {
                    var value: UInt64 = 0
                    _ = read(wakeFD, &value, 8)
                    processCompletions(now: now)
                    lock.lock()
                    let stop = shutdownRequested
                    lock.unlock()
                    if stop && !draining { beginDrain(now: now) }
                } else if let connection = connections[fd] {
                    service(connection, events: flags, now: now)
                }
            }
            if now >= nextHousekeeping {
                nextHousekeeping = now + 0.25
                housekeeping(now: now)
            }
            if draining {
                if let at = finalGoawayAt, now >= at {
                    finalGoawayAt = nil
                    for connection in Array(connections.values) {
                        connection.session?.finishShutdown()
                        flush(connection, now: now)
                        closeIfDone(connection)
                    }
                }
                if connections.isEmpty && metrics.inFlightCount == 0 { break }
                if now >= drainDeadline {
                    logger.warning("drain timeout reached, closing \(connections.count) connection(s)")
                    for connection in Array(connections.values) { closeConnection(connection) }
                    break
                }
            }
        }
        pool.stop()
        logger.info("server stopped", metadata: ["undelivered_responses": "\(undelivered)", "in_flight": "\(metrics.inFlightCount)"])
    }

    // MARK: - RequestSink

    func dispatch(_ request: Request, stream: Int32, connection: Connection) {
        let now = monotonicNow()
        if metrics.inFlightCount >= configuration.limits.maxQueuedRequests {
            metrics.error("overload")
            answeredLocally(path: request.path, status: 503, version: request.version, reason: "overloaded")
            var busy = Response.jsonError(503, "server overloaded, retry later")
            busy.headers.append(("retry-after", "1"))
            connection.session?.deliver(stream: stream, response: busy)
            return
        }
        metrics.requestStarted()
        connection.pendingHandlers += 1
        let connectionID = connection.id, path = request.path, version = request.version
        let post: @Sendable (Response) -> Void = { [self] response in
            lock.lock()
            completions.append(Completion(connection: connectionID, stream: stream, response: response, path: path, version: version, started: now))
            let first = completions.count == 1
            lock.unlock()
            if first { wake() }
        }
        let start = self.start
        guard startsInline && inlineTimeLeft > 0 else {
            pool.submit { start(request, post) }
            return
        }
        let slot = InlineAnswer()
        start(request) { response in if !slot.keep(response) { post(response) } }
        if let response = slot.claim() {
            answeredInline.append(Completion(connection: connectionID, stream: stream, response: response, path: path, version: version, started: now))
        }
        inlineTimeLeft -= monotonicNow() - now
    }

    func answeredLocally(path: String, status: Int, version: Request.Version, reason: String) {
        metrics.error(status == 413 ? "too_large" : status == 431 ? "headers_too_large" : status == 503 ? "overload" : "bad_request")
        metrics.requestFinished(path: path, status: status, protocol: version.rawValue, seconds: 0, dispatched: false)
        logger.debug("rejected request", metadata: ["path": "\(path)", "status": "\(status)", "reason": "\(reason)"])
    }

    func noteProtocolError(_ message: String) {
        metrics.error("protocol")
        errorLog.warning("protocol", message, now: monotonicNow())
    }

    // MARK: - Sockets

    func listen() throws {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let host = configuration.host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let rc = getaddrinfo(host.isEmpty ? nil : host, String(configuration.port), &hints, &result)
        guard rc == 0, let info = result else {
            throw ServerError.address("cannot use listen address \"\(configuration.host)\": \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ServerError.system("socket", errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let e = errno
            close(fd)
            throw ServerError.system("bind \(configuration.host):\(configuration.port)", e)
        }
        guard Glibc.listen(fd, 1024) == 0 else {
            let e = errno
            close(fd)
            throw ServerError.system("listen", e)
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) } }
        boundPort = Self.port(of: storage)
        listenFD = fd
        watch(fd, events: EPOLLIN.rawValue)
    }

    func acceptConnections(now: Double) {
        for _ in 0..<64 {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept(listenFD, $0, &length)
                }
            }
            if fd < 0 {
                if errno == EMFILE || errno == ENFILE { errorLog.warning("accept", "accept: out of file descriptors", now: now) }
                return
            }
            if sg_set_nonblocking_cloexec(fd) != 0 || connections.count >= configuration.limits.maxConnections || draining {
                metrics.error("max_connections")
                close(fd)
                continue
            }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let transport: Transport
            do {
                transport = try Transport(fd: fd, tlsContext: tls?.context)
            } catch {
                errorLog.warning("tls", "cannot start TLS: \(error)", now: now)
                close(fd)
                continue
            }
            let connection = Connection(id: nextConnectionID, fd: fd, remoteAddress: Self.describe(storage),
                                        transport: transport, now: now, server: self)
            nextConnectionID += 1
            connections[fd] = connection
            connectionsByID[connection.id] = connection
            metrics.connectionOpened()
            watch(fd, events: EPOLLIN.rawValue | EPOLLRDHUP.rawValue)
            if tls == nil { connection.handshakeComplete = true }
        }
    }

    func service(_ connection: Connection, events: UInt32, now: Double) {
        if !connection.handshakeComplete {
            switch connection.transport.handshake() {
            case .done:
                connection.handshakeComplete = true
                metrics.handshake(ok: true)
                connection.lastActivity = now
                let proto = connection.transport.negotiatedProtocol
                connection.session = proto == "h2"
                    ? H2Session(connection: connection, sink: self, limits: configuration.limits)
                    : HTTP1Session(connection: connection, sink: self, limits: configuration.limits)
            case .wouldBlock(let wantsWrite):
                setWriteInterest(connection, wantsWrite)
                return
            case .closed:
                metrics.handshake(ok: false)
                closeConnection(connection)
                return
            case .failed(let why):
                metrics.handshake(ok: false)
                metrics.error("tls")
                errorLog.warning("tls", "TLS handshake with \(connection.remoteAddress) failed: \(why)", now: now)
                closeConnection(connection)
                return
            }
        }
        var peerClosed = false
        readLoop: for _ in 0..<16 {
            let result = readBuffer.withUnsafeMutableBytes { connection.transport.read(into: $0) }
            switch result {
            case .done(let n):
                connection.lastActivity = now
                let ok = readBuffer.withUnsafeBytes { feed(connection, UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                if !ok { connection.closeRequested = true; break readLoop }
                // A short read emptied the socket; epoll is level-triggered and reports what comes next, so no
                // second read only to hear EAGAIN (a system call per request).
                if n < readBuffer.count && !connection.transport.hasBufferedInput { break readLoop }
            case .wouldBlock:
                break readLoop
            case .closed:
                peerClosed = true
                break readLoop
            case .failed(let why):
                noteProtocolError("\(connection.remoteAddress): \(why)")
                closeConnection(connection)
                return
            }
        }
        if !answeredInline.isEmpty {
            for other in deliver([], now: monotonicNow()) where other !== connection {
                flush(other, now: now)
                closeIfDone(other)
            }
        }
        flush(connection, now: now)
        if peerClosed || (events & (EPOLLHUP.rawValue | EPOLLERR.rawValue)) != 0 {
            closeConnection(connection)
        } else {
            closeIfDone(connection)
        }
    }

    /// Hands bytes to the protocol session, choosing it first on plain-text connections.
    func feed(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Bool {
        if let session = connection.session { return session.receive(bytes) }
        connection.sniffed.append(contentsOf: bytes)
        let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
        let n = min(preface.count, connection.sniffed.count)
        let isH2 = connection.sniffed[0..<n].elementsEqual(preface[0..<n])
        if isH2 && n < preface.count { return true }
        let session: ProtocolSession = isH2
            ? H2Session(connection: connection, sink: self, limits: configuration.limits)
            : HTTP1Session(connection: connection, sink: self, limits: configuration.limits)
        connection.session = session
        let buffered = connection.sniffed
        connection.sniffed = []
        return buffered.withUnsafeBytes { session.receive($0) }
    }

    func flush(_ connection: Connection, now: Double) {
        while true {
            if !connection.hasPendingOutput {
                connection.output.removeAll(keepingCapacity: connection.output.capacity <= 256 * 1024)
                connection.outputOffset = 0
                connection.session?.produce(into: &connection.output, limit: 128 * 1024)
                if connection.output.isEmpty { break }
            }
            let result = connection.output.withUnsafeBytes {
                connection.transport.write(UnsafeRawBufferPointer(rebasing: $0[connection.outputOffset...]))
            }
            switch result {
            case .done(let n):
                connection.outputOffset += n
                connection.writeBlockedSince = nil
            case .wouldBlock:
                if connection.writeBlockedSince == nil { connection.writeBlockedSince = now }
                setWriteInterest(connection, true)
                return
            case .closed, .failed:
                connection.closeRequested = true
                connection.output = []
                connection.outputOffset = 0
                return
            }
        }
        setWriteInterest(connection, false)
    }

    func closeIfDone(_ connection: Connection) {
        guard connections[connection.fd] === connection else { return }
        if connection.closeRequested && !connection.hasPendingOutput {
            closeConnection(connection)
        } else if let session = connection.session, session.isFinished, !connection.hasPendingOutput {
            closeConnection(connection)
        }
    }

    func closeConnection(_ connection: Connection) {
        guard connections[connection.fd] === connection else { return }
        connection.transport.shutdown()
        epoll_ctl(epollFD, EPOLL_CTL_DEL, connection.fd, nil)
        close(connection.fd)
        connections[connection.fd] = nil
        connectionsByID[connection.id] = nil
        metrics.connectionClosed()
    }

}

public enum ServerError: Error, CustomStringConvertible {
    case system(String, Int32)
    case address(String)

    public var description: String {
        switch self {
        case .system(let what, let code): "\(what): \(String(cString: strerror(code)))"
        case .address(let message): message
        }
    }
}

func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// A NUL-terminated C buffer as a String.
func cString(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}

/// Hands one answer over between a starting handler and the event loop: kept if it comes before the handler
/// returns (the loop sends it itself), passed on to the completion queue if it comes later.
final class InlineAnswer: @unchecked Sendable {
    private let lock = NSLock()
    private var response: Response?
    private var claimed = false

    /// From the handler. False when the loop has stopped waiting: the caller posts the answer instead.
    func keep(_ answer: Response) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard !claimed else { return false }
        response = answer
        return true
    }

    /// From the event loop once the handler returned: the answer if it came in time.
    func claim() -> Response? {
        lock.lock(); defer { lock.unlock() }
        claimed = true
        return response
    }
}

import CLinux
import COpenSSL
import Foundation
import Glibc
import Logging

/// TLS HTTP/2 + HTTP/1.1 server on one epoll event loop; handlers run on a bounded worker pool.
///
/// Lifecycle: `init` binds and listens, `run()` serves until `shutdown()` (safe from any thread or a
/// signal source) has drained in-flight requests or the drain timeout passed.
public final class HTTPServer: @unchecked Sendable, RequestSink {
    public typealias Handler = @Sendable (Request) -> Response

    public let configuration: ServerConfiguration
    /// The port actually bound (useful with port 0).
    public private(set) var boundPort: UInt16 = 0

    private let handler: Handler
    private let logger: Logger
    private let epollFD: Int32
    private let wakeFD: Int32
    private var listenFD: Int32 = -1
    private let tls: ReloadingTLSContext?
    private let pool: WorkerPool
    private let metrics: ServerMetrics
    private let errorLog: RateLimitedLog
    private var connections: [Int32: Connection] = [:]
    private var connectionsByID: [UInt64: Connection] = [:]
    private var nextConnectionID: UInt64 = 1
    private var draining = false
    private var drainDeadline = 0.0
    private var finalGoawayAt: Double?
    /// Handler answers that found their connection gone (peer left, or drain timed out).
    private var undelivered = 0
    private var nextHousekeeping = 0.0
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)

    private struct Completion {
        var connection: UInt64
        var stream: Int32
        var response: Response
        var path: String
        var version: Request.Version
        var started: Double
    }

    private let lock = NSLock()
    private var completions: [Completion] = []
    private var shutdownRequested = false
    private var drainingFlag = false

    public init(configuration: ServerConfiguration, logger: Logger, handler: @escaping Handler) throws {
        self.configuration = configuration
        self.logger = logger
        self.handler = handler
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
        let connectionID = connection.id
        let handler = self.handler
        pool.submit { [self] in
            let response = handler(request)
            lock.lock()
            completions.append(Completion(connection: connectionID, stream: stream, response: response,
                                          path: request.path, version: request.version, started: now))
            let first = completions.count == 1
            lock.unlock()
            if first { wake() }
        }
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

    private func listen() throws {
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

    private func acceptConnections(now: Double) {
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

    private func service(_ connection: Connection, events: UInt32, now: Double) {
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
        flush(connection, now: now)
        if peerClosed || (events & (EPOLLHUP.rawValue | EPOLLERR.rawValue)) != 0 {
            closeConnection(connection)
        } else {
            closeIfDone(connection)
        }
    }

    /// Hands bytes to the protocol session, choosing it first on plain-text connections.
    private func feed(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Bool {
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

    private func flush(_ connection: Connection, now: Double) {
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

    private func closeIfDone(_ connection: Connection) {
        guard connections[connection.fd] === connection else { return }
        if connection.closeRequested && !connection.hasPendingOutput {
            closeConnection(connection)
        } else if let session = connection.session, session.isFinished, !connection.hasPendingOutput {
            closeConnection(connection)
        }
    }

    private func closeConnection(_ connection: Connection) {
        guard connections[connection.fd] === connection else { return }
        connection.transport.shutdown()
        epoll_ctl(epollFD, EPOLL_CTL_DEL, connection.fd, nil)
        close(connection.fd)
        connections[connection.fd] = nil
        connectionsByID[connection.id] = nil
        metrics.connectionClosed()
    }

    // MARK: - Completions, timers, drain

    private func processCompletions(now: Double) {
        lock.lock()
        let batch = completions
        completions = []
        lock.unlock()
        var touched: [UInt64: Connection] = [:]
        for completion in batch {
            metrics.requestFinished(path: completion.path, status: completion.response.status, protocol: completion.version.rawValue,
                                    seconds: now - completion.started, dispatched: true)
            guard let connection = connectionsByID[completion.connection] else {
                undelivered += 1
                continue
            }
            connection.pendingHandlers -= 1
            connection.lastActivity = now
            connection.session?.deliver(stream: completion.stream, response: completion.response)
            touched[connection.id] = connection
        }
        for connection in touched.values {
            flush(connection, now: now)
            closeIfDone(connection)
        }
    }

    private func housekeeping(now: Double) {
        if let tls, let outcome = tls.reloadIfChanged(now: now) {
            if outcome.reloaded { logger.info("\(outcome.message)") } else { logger.error("\(outcome.message)") }
        }
        let limits = configuration.limits
        for connection in Array(connections.values) {
            if !connection.handshakeComplete || connection.session == nil {
                if now - connection.acceptedAt > limits.readTimeout {
                    metrics.error("timeout")
                    closeConnection(connection)
                }
                continue
            }
            if let blocked = connection.writeBlockedSince, now - blocked > limits.writeTimeout {
                metrics.error("timeout")
                closeConnection(connection)
                continue
            }
            // A peer that keeps its window at zero (while pinging to look alive) pins responses in
            // memory; it gets the same write timeout as one that stops reading the socket.
            if connection.session?.isFlowControlBlocked == true {
                let since = connection.flowBlockedSince ?? now
                connection.flowBlockedSince = since
                if now - since > limits.writeTimeout {
                    metrics.error("timeout")
                    closeConnection(connection)
                    continue
                }
            } else {
                connection.flowBlockedSince = nil
            }
            // Whole-request deadline: per-read activity alone lets a slowloris client live forever.
            if let session = connection.session, session.expireIncompleteRequests(startedBefore: now - limits.readTimeout) {
                metrics.error("timeout")
                flush(connection, now: now)
                closeIfDone(connection)
                guard connections[connection.fd] === connection else { continue }
            }
            let open = connection.session?.hasOpenRequests ?? false
            let idleFor = now - connection.lastActivity
            if !open && idleFor > limits.idleTimeout {
                closeConnection(connection)
            } else if open && connection.pendingHandlers == 0 && idleFor > limits.readTimeout {
                metrics.error("timeout")
                closeConnection(connection)
            }
        }
    }

    private func beginDrain(now: Double) {
        draining = true
        drainDeadline = now + configuration.drainTimeout
        finalGoawayAt = now + min(1, configuration.drainTimeout / 2)
        epoll_ctl(epollFD, EPOLL_CTL_DEL, listenFD, nil)
        close(listenFD)
        listenFD = -1
        logger.info("draining", metadata: ["connections": "\(connections.count)", "in_flight": "\(metrics.inFlightCount)"])
        for connection in Array(connections.values) {
            guard let session = connection.session else {
                closeConnection(connection)
                continue
            }
            session.beginShutdown()
            flush(connection, now: now)
            closeIfDone(connection)
        }
    }

    // MARK: - Helpers

    private func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    private func watch(_ fd: Int32, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = UInt64(UInt32(bitPattern: fd))
        epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event)
    }

    private func setWriteInterest(_ connection: Connection, _ wanted: Bool) {
        guard connection.pollingForWrite != wanted else { return }
        connection.pollingForWrite = wanted
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | (wanted ? EPOLLOUT.rawValue : 0)
        event.data.u64 = UInt64(UInt32(bitPattern: connection.fd))
        epoll_ctl(epollFD, EPOLL_CTL_MOD, connection.fd, &event)
    }

    private static func port(of storage: sockaddr_storage) -> UInt16 {
        var copy = storage
        return withUnsafePointer(to: &copy) { ptr in
            if storage.ss_family == sa_family_t(AF_INET6) {
                return ptr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            return ptr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }

    private static func describe(_ storage: sockaddr_storage) -> String {
        var copy = storage
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let rc = withUnsafePointer(to: &copy) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, socklen_t(MemoryLayout<sockaddr_storage>.size), &host, socklen_t(host.count),
                            &service, socklen_t(service.count), NI_NUMERICHOST | NI_NUMERICSERV)
            }
        }
        return rc == 0 ? "\(cString(host)):\(cString(service))" : "unknown"
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

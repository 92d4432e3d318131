import CLinux
import COpenSSL
import Foundation
import Glibc
import Logging

/// The event loop's bookkeeping: finished requests written back, idle and slow connections timed out, and
/// the two-phase GOAWAY drain.
extension HTTPServer {
    // MARK: - Completions, timers, drain

    func processCompletions(now: Double) {
        lock.lock()
        let batch = completions
        completions = []
        lock.unlock()
        for connection in deliver(batch, now: now) {
            flush(connection, now: now)
            closeIfDone(connection)
        }
    }

    /// Hands answers to their sessions: `batch`, then those given inline meanwhile (an HTTP/1.1 delivery parses
    /// the next pipelined request, which may be answered at once). Returns the connections to flush.
    func deliver(_ batch: [Completion], now: Double) -> [Connection] {
        var touched: [UInt64: Connection] = [:]
        var pending = batch
        while true {
            pending += answeredInline
            answeredInline = []
            guard !pending.isEmpty else { break }
            for completion in pending {
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
            pending = []
        }
        return Array(touched.values)
    }

    func housekeeping(now: Double) {
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

    func beginDrain(now: Double) {
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

    func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    func watch(_ fd: Int32, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = UInt64(UInt32(bitPattern: fd))
        epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event)
    }

    func setWriteInterest(_ connection: Connection, _ wanted: Bool) {
        guard connection.pollingForWrite != wanted else { return }
        connection.pollingForWrite = wanted
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | (wanted ? EPOLLOUT.rawValue : 0)
        event.data.u64 = UInt64(UInt32(bitPattern: connection.fd))
        epoll_ctl(epollFD, EPOLL_CTL_MOD, connection.fd, &event)
    }

    static func port(of storage: sockaddr_storage) -> UInt16 {
        var copy = storage
        return withUnsafePointer(to: &copy) { ptr in
            if storage.ss_family == sa_family_t(AF_INET6) {
                return ptr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            return ptr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }

    static func describe(_ storage: sockaddr_storage) -> String {
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

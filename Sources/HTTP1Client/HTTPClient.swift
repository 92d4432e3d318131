import CLinux
import COpenSSL
import Foundation
import SealgateCore
import Glibc

/// Where and how to reach one registry host.
package struct Endpoint: Hashable, Sendable {
    package var host: String
    package var port: UInt16
    package var secure: Bool

    package init(host: String, port: UInt16, secure: Bool) {
        self.host = host
        self.port = port
        self.secure = secure
    }

    package var authority: String { (port == (secure ? 443 : 80)) ? host : "\(host):\(port)" }
}

package struct HTTPResponse: Sendable {
    package var status: Int
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]

    package func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }
}

package enum HTTPClientError: Error {
    case timeout(String)
    case unreachable(String)
    case tls(String)
    case malformed(String)
    case tooLarge(Int)
}

/// A small HTTP/1.1 client for registries: blocking calls bounded by a deadline, TLS through
/// OpenSSL with hostname verification, keep-alive connections pooled per endpoint.
package final class HTTPClient: @unchecked Sendable {
    private let tlsContext: OpaquePointer
    private let lock = NSLock()
    private var idle: [Endpoint: [ClientConnection]] = [:]
    /// Count of requests put on the wire (tests use it to prove caching).
    private(set) var requestCount = 0

    package init(extraCAFile: String?) throws {
        // TLS writes use write(2); a registry closing the socket must not raise SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { throw HTTPClientError.tls("SSL_CTX_new failed") }
        _ = sg_ssl_ctx_set_min_proto(ctx, sg_tls1_2_version())
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
        SSL_CTX_set_default_verify_paths(ctx)
        if let extraCAFile, SSL_CTX_load_verify_locations(ctx, extraCAFile, nil) != 1 {
            SSL_CTX_free(ctx)
            throw HTTPClientError.tls("cannot load CA file \(extraCAFile)")
        }
        tlsContext = ctx
    }

    /// A client trusting exactly what `tls` says (e.g. only a cluster CA), optionally with a client certificate.
    package init(tls: TLSClientOptions) throws {
        signal(SIGPIPE, SIG_IGN)
        tlsContext = try tls.makeContext()
    }

    deinit { SSL_CTX_free(tlsContext) }

    /// Sends a request on a fresh connection and returns once the response head is in; the body is read
    /// from the returned stream (long-lived responses such as Kubernetes watches).
    package func openStream(_ endpoint: Endpoint, method: String, target: String, headers: [(String, String)],
                            body: [UInt8] = [], deadline: Deadline) throws -> HTTPStream {
        lock.lock()
        requestCount += 1
        lock.unlock()
        let connection = try ClientConnection(endpoint: endpoint, tlsContext: tlsContext, deadline: deadline)
        try connection.writeRequest(method: method, target: target, headers: headers, body: body, deadline: deadline)
        var head = try connection.readResponseHead(deadline: deadline)
        while head.status == 100 { head = try connection.readResponseHead(deadline: deadline) }
        return HTTPStream(connection: connection, head: head)
    }

    package var requestsSent: Int {
        lock.lock(); defer { lock.unlock() }
        return requestCount
    }

    /// Sends one request; retries once on a fresh connection when a pooled one turns out closed.
    package func send(_ endpoint: Endpoint, method: String, target: String, headers: [(String, String)], body: [UInt8] = [],
              maxBody: Int, deadline: Deadline) throws -> HTTPResponse {
        lock.lock()
        requestCount += 1
        let pooled = idle[endpoint]?.popLast()
        lock.unlock()
        if let pooled {
            do {
                let response = try pooled.roundTrip(method: method, target: target, headers: headers, body: body, maxBody: maxBody, deadline: deadline)
                release(pooled, endpoint: endpoint)
                return response
            } catch HTTPClientError.unreachable {
                // The server closed the idle connection; fall through to a new one.
            }
        }
        let connection = try ClientConnection(endpoint: endpoint, tlsContext: tlsContext, deadline: deadline)
        let response = try connection.roundTrip(method: method, target: target, headers: headers, body: body, maxBody: maxBody, deadline: deadline)
        release(connection, endpoint: endpoint)
        return response
    }

    static let maxIdlePerEndpoint = 16

    private func release(_ connection: ClientConnection, endpoint: Endpoint) {
        guard connection.reusable else { return }
        lock.lock()
        // A cold Pod of several images reads each image's attachments in parallel: keep enough connections that the
        // next Pod does not pay the connection setup again.
        if idle[endpoint, default: []].count < Self.maxIdlePerEndpoint { idle[endpoint, default: []].append(connection) }
        lock.unlock()
    }
}

/// One socket to a registry. Not shared between threads while in use.
final class ClientConnection {
    private let fd: Int32
    private var ssl: OpaquePointer?
    private let endpoint: Endpoint
    private var buffer: [UInt8] = []
    /// Where reads land before `buffer`: one per connection, so a read neither allocates nor zeroes 32 KiB.
    private var readChunk: [UInt8] = []
    private(set) var reusable = true

    init(endpoint: Endpoint, tlsContext: OpaquePointer, deadline: Deadline) throws {
        self.endpoint = endpoint
        fd = try Self.connect(endpoint, deadline: deadline)
        if endpoint.secure {
            guard let ssl = SSL_new(tlsContext) else { close(fd); throw HTTPClientError.tls("SSL_new failed") }
            self.ssl = ssl
            SSL_set_fd(ssl, fd)
            let isIP = endpoint.host.contains(":") || endpoint.host.allSatisfy { $0.isNumber || $0 == "." }
            if isIP {
                X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), endpoint.host)
            } else {
                _ = sg_ssl_set_tlsext_host_name(ssl, endpoint.host)
                SSL_set1_host(ssl, endpoint.host)
            }
            SSL_set_connect_state(ssl)
            try io(deadline: deadline, what: "TLS handshake") { SSL_do_handshake(ssl) }
        }
    }

    deinit {
        if let ssl { SSL_free(ssl) }
        close(fd)
    }

    func roundTrip(method: String, target: String, headers: [(String, String)], body: [UInt8], maxBody: Int,
                   deadline: Deadline) throws -> HTTPResponse {
        try writeRequest(method: method, target: target, headers: headers, body: body, deadline: deadline)
        do {
            return try readResponse(isHead: method == "HEAD", maxBody: maxBody, deadline: deadline)
        } catch {
            reusable = false
            throw error
        }
    }

    func writeRequest(method: String, target: String, headers: [(String, String)], body: [UInt8], deadline: Deadline) throws {
        var head = "\(method) \(target) HTTP/1.1\r\nhost: \(endpoint.authority)\r\nuser-agent: sealgate\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "PUT" || method == "POST" { head += "content-length: \(body.count)\r\n" }
        head += "\r\n"
        let request = Array(head.utf8) + body
        do {
            try writeAll(request, deadline: deadline)
        } catch {
            reusable = false
            throw error
        }
    }

    // MARK: - Streaming (for HTTPStream)

    func readResponseHead(deadline: Deadline) throws -> HTTPResponse {
        reusable = false
        return try readHead(deadline: deadline)
    }

    /// Raw bytes after the head: what is buffered, else one read; nil at end of stream. A timeout consumes nothing.
    func readAvailable(deadline: Deadline) throws -> [UInt8]? {
        if buffer.isEmpty {
            guard try fill(deadline: deadline) else { return nil }
        }
        defer { buffer = [] }
        return buffer
    }

    /// Wakes a reader blocked on this connection from another thread (it then sees end of stream).
    func interrupt() { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }

    // MARK: - Response parsing

    private func readResponse(isHead: Bool, maxBody: Int, deadline: Deadline) throws -> HTTPResponse {
        let response = try readHead(deadline: deadline)
        let status = response.status, headers = response.headers
        if status == 100 { return try readResponse(isHead: isHead, maxBody: maxBody, deadline: deadline) }
        if response.header("connection")?.lowercased() == "close" { reusable = false }
        if isHead || status == 204 || status == 304 { return response }
        return HTTPResponse(status: status, headers: headers, body: try readBody(response, maxBody: maxBody, deadline: deadline))
    }

    /// Status line and headers; the body stays unread.
    private func readHead(deadline: Deadline) throws -> HTTPResponse {
        var headEnd: Int?
        while headEnd == nil {
            headEnd = findCRLFCRLF()
            if headEnd == nil {
                if buffer.count > 64 * 1024 { throw HTTPClientError.malformed("response headers larger than 64 KiB") }
                guard try fill(deadline: deadline) else {
                    throw buffer.isEmpty ? HTTPClientError.unreachable("connection closed before a response") : HTTPClientError.malformed("truncated response headers")
                }
            }
        }
        let head = Array(buffer[0..<headEnd!])
        buffer.removeFirst(headEnd! + 4)
        return try head.allSatisfy({ $0 < 0x80 }) ? Self.asciiHead(head[...]) : Self.unicodeHead(head)
    }

    static func unicodeHead(_ head: [UInt8]) throws -> HTTPResponse {
        var lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
            throw HTTPClientError.malformed("bad status line")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw HTTPClientError.malformed("bad header line") }
            headers.append((line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return HTTPResponse(status: status, headers: headers, body: [])
    }

    /// The reading above for an ASCII head, on bytes: the same lines, status and trimmed header values, without
    /// Foundation's `components(separatedBy:)` and `trimmingCharacters`, which cost more per registry response than
    /// verifying a signature.
    static func asciiHead(_ head: ArraySlice<UInt8>) throws -> HTTPResponse {
        var lines: [ArraySlice<UInt8>] = []
        var start = head.startIndex, i = head.startIndex
        while i + 1 < head.endIndex {
            if head[i] == 13 && head[i + 1] == 10 { lines.append(head[start..<i]); i += 2; start = i } else { i += 1 }
        }
        lines.append(head[start...])
        let statusLine = String(decoding: lines.removeFirst(), as: UTF8.self).split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
            throw HTTPClientError.malformed("bad status line")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw HTTPClientError.malformed("bad header line") }
            var value = line[(colon + 1)...]
            while let c = value.first, c == 0x20 || c == 0x09 { value = value.dropFirst() }
            while let c = value.last, c == 0x20 || c == 0x09 { value = value.dropLast() }
            headers.append((String(decoding: line[..<colon], as: UTF8.self).lowercased(), String(decoding: value, as: UTF8.self)))
        }
        return HTTPResponse(status: status, headers: headers, body: [])
    }

    private func readBody(_ response: HTTPResponse, maxBody: Int, deadline: Deadline) throws -> [UInt8] {
        var body: [UInt8] = []
        if response.header("transfer-encoding")?.lowercased().contains("chunked") == true {
            body = try readChunked(maxBody: maxBody, deadline: deadline)
        } else if let lengthText = response.header("content-length") {
            guard let length = Int(lengthText), length >= 0 else { throw HTTPClientError.malformed("bad content-length") }
            guard length <= maxBody else {
                reusable = false
                throw HTTPClientError.tooLarge(length)
            }
            while buffer.count < length {
                // The connection closing mid-body is the network's fault, not the registry's data: transient.
                guard try fill(deadline: deadline) else { throw HTTPClientError.unreachable("connection closed after \(buffer.count) of \(length) body bytes (truncated)") }
            }
            body = Array(buffer[0..<length])
            buffer.removeFirst(length)
        } else {
            reusable = false
            while try fill(deadline: deadline) {
                if buffer.count > maxBody { throw HTTPClientError.tooLarge(buffer.count) }
            }
            body = buffer
            buffer = []
        }
        return body
    }

    private func readChunked(maxBody: Int, deadline: Deadline) throws -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let line = try readLine(deadline: deadline)
            guard let size = Int(line.split(separator: ";").first?.trimmingCharacters(in: .whitespaces) ?? "", radix: 16), size >= 0 else {
                throw HTTPClientError.malformed("bad chunk size")
            }
            if size == 0 {
                while try !readLine(deadline: deadline).isEmpty {}
                return body
            }
            guard body.count + size <= maxBody else {
                reusable = false
                throw HTTPClientError.tooLarge(body.count + size)
            }
            while buffer.count < size + 2 {
                guard try fill(deadline: deadline) else { throw HTTPClientError.unreachable("connection closed inside a chunked body (truncated)") }
            }
            body.append(contentsOf: buffer[0..<size])
            buffer.removeFirst(size + 2)
        }
    }

    private func readLine(deadline: Deadline) throws -> String {
        while true {
            if let i = buffer.indices.dropLast().first(where: { buffer[$0] == 13 && buffer[$0 + 1] == 10 }) {
                let line = String(decoding: buffer[0..<i], as: UTF8.self)
                buffer.removeFirst(i + 2)
                return line
            }
            if buffer.count > 4096 { throw HTTPClientError.malformed("line too long") }
            guard try fill(deadline: deadline) else { throw HTTPClientError.malformed("truncated chunked body") }
        }
    }

    private func findCRLFCRLF() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i
        }
        return nil
    }

    // MARK: - Bytes

    /// Reads more bytes into the buffer; false at end of stream.
    private func fill(deadline: Deadline) throws -> Bool {
        if readChunk.isEmpty { readChunk = [UInt8](repeating: 0, count: 32 * 1024) }
        let n: Int = try readChunk.withUnsafeMutableBytes { raw in
            if let ssl {
                var got = 0
                let rc = try ioResult(deadline: deadline, what: "read") { () -> Int32 in
                    let r = SSL_read(ssl, raw.baseAddress, Int32(raw.count))
                    if r > 0 { got = Int(r) }
                    return r
                }
                return rc == .eof ? 0 : got
            }
            while true {
                let r = Glibc.read(fd, raw.baseAddress, raw.count)
                if r >= 0 { return r }
                if errno == EAGAIN || errno == EINTR { try wait(events: Int16(POLLIN), deadline: deadline, what: "read"); continue }
                throw HTTPClientError.unreachable("read: \(String(cString: strerror(errno)))")
            }
        }
        guard n > 0 else { return false }
        buffer.append(contentsOf: readChunk[0..<n])
        return true
    }

    private func writeAll(_ bytes: [UInt8], deadline: Deadline) throws {
        var offset = 0
        while offset < bytes.count {
            let n: Int = try bytes.withUnsafeBytes { raw in
                let base = raw.baseAddress! + offset
                let count = raw.count - offset
                if let ssl {
                    var wrote = 0
                    _ = try ioResult(deadline: deadline, what: "write") { () -> Int32 in
                        let r = SSL_write(ssl, base, Int32(min(count, 1 << 20)))
                        if r > 0 { wrote = Int(r) }
                        return r
                    }
                    return wrote
                }
                while true {
                    let r = send(fd, base, count, Int32(MSG_NOSIGNAL))
                    if r >= 0 { return r }
                    if errno == EAGAIN || errno == EINTR { try wait(events: Int16(POLLOUT), deadline: deadline, what: "write"); continue }
                    throw HTTPClientError.unreachable("write: \(String(cString: strerror(errno)))")
                }
            }
            if n == 0 { throw HTTPClientError.unreachable("connection closed while writing") }
            offset += n
        }
    }

    private enum SSLOutcome { case ok, eof }

    private func io(deadline: Deadline, what: String, _ call: () -> Int32) throws {
        _ = try ioResult(deadline: deadline, what: what, call)
    }

    /// Runs an OpenSSL call until it completes, waiting for the socket as it asks, up to the deadline.
    private func ioResult(deadline: Deadline, what: String, _ call: () -> Int32) throws -> SSLOutcome {
        while true {
            ERR_clear_error()
            let rc = call()
            if rc > 0 { return .ok }
            let savedErrno = errno
            switch SSL_get_error(ssl, rc) {
            case SSL_ERROR_WANT_READ: try wait(events: Int16(POLLIN), deadline: deadline, what: what)
            case SSL_ERROR_WANT_WRITE: try wait(events: Int16(POLLOUT), deadline: deadline, what: what)
            case SSL_ERROR_ZERO_RETURN: return .eof
            case SSL_ERROR_SYSCALL:
                if savedErrno == 0 { return .eof }
                throw HTTPClientError.unreachable("\(what): \(String(cString: strerror(savedErrno)))")
            default:
                var reasons: [String] = []
                while case let code = ERR_get_error(), code != 0 {
                    var buf = [CChar](repeating: 0, count: 256)
                    ERR_error_string_n(code, &buf, buf.count)
                    reasons.append(String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
                }
                if let ssl, SSL_get_verify_result(ssl) != X509_V_OK {
                    reasons.append(String(cString: X509_verify_cert_error_string(Int(SSL_get_verify_result(ssl)))))
                }
                throw HTTPClientError.tls("\(what): \(reasons.joined(separator: "; "))")
            }
        }
    }

    private func wait(events: Int16, deadline: Deadline, what: String) throws {
        while true {
            let remaining = deadline.remaining
            guard remaining > 0 else { throw HTTPClientError.timeout(what) }
            var pfd = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&pfd, 1, Int32(min(remaining * 1000 + 1, 60_000)))
            if rc > 0 { return }
            if rc < 0 && errno != EINTR { throw HTTPClientError.unreachable("poll: \(String(cString: strerror(errno)))") }
        }
    }

    private static func connect(_ endpoint: Endpoint, deadline: Deadline) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &result)
        guard rc == 0, let first = result else {
            throw HTTPClientError.unreachable("cannot resolve \(endpoint.host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(result) }
        var lastError = "no address"
        var info: UnsafeMutablePointer<addrinfo>? = first
        while let ai = info {
            info = ai.pointee.ai_next
            let fd = socket(ai.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { continue }
            _ = sg_set_nonblocking_cloexec(fd)
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 { return fd }
            if errno == EINPROGRESS {
                var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let remaining = deadline.remaining
                let ready = remaining > 0 ? poll(&pfd, 1, Int32(min(remaining * 1000 + 1, 60_000))) : 0
                if ready == 0 {
                    close(fd)
                    throw HTTPClientError.timeout("connect to \(endpoint.authority)")
                }
                var soError: Int32 = 0
                var len = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len)
                if soError == 0 { return fd }
                lastError = String(cString: strerror(soError))
            } else {
                lastError = String(cString: strerror(errno))
            }
            close(fd)
        }
        throw HTTPClientError.unreachable("connect to \(endpoint.authority): \(lastError)")
    }
}

import COpenSSL
import Glibc

enum IOResult {
    case done(Int)
    /// Try again when the socket is readable (`wantsWrite == false`) or writable.
    case wouldBlock(wantsWrite: Bool)
    case closed
    case failed(String)
}

/// Bytes to and from one socket, through TLS or not. Non-blocking; never waits.
final class Transport {
    let fd: Int32
    private(set) var ssl: OpaquePointer?

    init(fd: Int32, tlsContext: OpaquePointer?) throws {
        self.fd = fd
        if let ctx = tlsContext {
            guard let ssl = SSL_new(ctx) else { throw TLSError("SSL_new failed") }
            SSL_set_fd(ssl, fd)
            SSL_set_accept_state(ssl)
            self.ssl = ssl
        }
    }

    deinit {
        if let ssl { SSL_free(ssl) }
    }

    /// Drives the TLS handshake; `.done(0)` when complete (immediately for plain text).
    func handshake() -> IOResult {
        guard let ssl else { return .done(0) }
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        if rc == 1 { return .done(0) }
        return sslFailure(rc, "TLS handshake")
    }

    /// The ALPN protocol agreed in the handshake, if any.
    var negotiatedProtocol: String? {
        guard let ssl else { return nil }
        var data: UnsafePointer<UInt8>?
        var len: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &len)
        guard let data, len > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(len)), as: UTF8.self)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        if let ssl {
            ERR_clear_error()
            let rc = SSL_read(ssl, buffer.baseAddress, Int32(buffer.count))
            if rc > 0 { return .done(Int(rc)) }
            return sslFailure(rc, "TLS read")
        }
        let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
        if n > 0 { return .done(n) }
        if n == 0 { return .closed }
        return errnoFailure("read")
    }

    /// Whether TLS holds input it has already taken from the socket (the rest of a record, or read-ahead bytes),
    /// which epoll cannot report.
    var hasBufferedInput: Bool {
        guard let ssl else { return false }
        return SSL_pending(ssl) > 0 || SSL_has_pending(ssl) == 1
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> IOResult {
        if let ssl {
            ERR_clear_error()
            let rc = SSL_write(ssl, bytes.baseAddress, Int32(min(bytes.count, Int(Int32.max))))
            if rc > 0 { return .done(Int(rc)) }
            return sslFailure(rc, "TLS write")
        }
        let n = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
        if n >= 0 { return .done(n) }
        return errnoFailure("write")
    }

    /// Best-effort close_notify before the socket is closed.
    func shutdown() {
        if let ssl, SSL_is_init_finished(ssl) == 1 {
            ERR_clear_error()
            _ = SSL_shutdown(ssl)
        }
    }

    private func sslFailure(_ rc: Int32, _ what: String) -> IOResult {
        let savedErrno = errno
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ: return .wouldBlock(wantsWrite: false)
        case SSL_ERROR_WANT_WRITE: return .wouldBlock(wantsWrite: true)
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL:
            if savedErrno == EAGAIN || savedErrno == EWOULDBLOCK { return .wouldBlock(wantsWrite: false) }
            if savedErrno == 0 || savedErrno == ECONNRESET || savedErrno == EPIPE { return .closed }
            return .failed("\(what): \(String(cString: strerror(savedErrno)))")
        default:
            return .failed(TLSError(what).description)
        }
    }

    private func errnoFailure(_ what: String) -> IOResult {
        let e = errno
        if e == EAGAIN || e == EWOULDBLOCK || e == EINTR { return .wouldBlock(wantsWrite: what == "write") }
        if e == ECONNRESET || e == EPIPE { return .closed }
        return .failed("\(what): \(String(cString: strerror(e)))")
    }
}

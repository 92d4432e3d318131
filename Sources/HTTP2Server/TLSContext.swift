import COpenSSL
import Foundation

/// Errors while building a TLS context; the message carries OpenSSL's own reason.
public struct TLSError: Error, CustomStringConvertible {
    public let description: String
    init(_ what: String) {
        var reasons: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var buf = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buf, buf.count)
            reasons.append(cString(buf))
        }
        description = reasons.isEmpty ? what : "\(what): \(reasons.joined(separator: "; "))"
    }
}

/// Builds the server SSL_CTX: TLS 1.2+, modern AEAD ciphers, ALPN h2 > http/1.1.
enum TLSContextFactory {
    static func make(_ tls: ServerConfiguration.TLS) throws -> OpaquePointer {
        guard let ctx = SSL_CTX_new(TLS_server_method()) else { throw TLSError("SSL_CTX_new failed") }
        var ok = false
        defer { if !ok { SSL_CTX_free(ctx) } }
        _ = sg_ssl_ctx_set_min_proto(ctx, sg_tls1_2_version())
        _ = SSL_CTX_set_options(ctx, sg_ssl_server_options())
        _ = sg_ssl_ctx_set_mode(ctx, sg_ssl_mode_partial_write())
        _ = sg_ssl_ctx_set_session_cache_mode(ctx, sg_ssl_sess_cache_server())
        // TLS 1.2 suites: forward-secret AEAD only (also what RFC 9113 requires for h2).
        guard SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") == 1 else { throw TLSError("setting cipher list") }
        guard SSL_CTX_use_certificate_chain_file(ctx, tls.certificatePath) == 1 else {
            throw TLSError("loading certificate chain \(tls.certificatePath)")
        }
        guard SSL_CTX_use_PrivateKey_file(ctx, tls.privateKeyPath, SSL_FILETYPE_PEM) == 1 else {
            throw TLSError("loading private key \(tls.privateKeyPath)")
        }
        guard SSL_CTX_check_private_key(ctx) == 1 else {
            throw TLSError("private key \(tls.privateKeyPath) does not match certificate \(tls.certificatePath)")
        }
        if let ca = tls.clientCAPath {
            guard SSL_CTX_load_verify_locations(ctx, ca, nil) == 1 else { throw TLSError("loading client CA \(ca)") }
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
            // With peer verification on, OpenSSL refuses to resume a session unless a session ID
            // context is set ("session id context uninitialized"): reconnecting clients would fail.
            let sessionContext = Array("sealgate".utf8)
            guard SSL_CTX_set_session_id_context(ctx, sessionContext, UInt32(sessionContext.count)) == 1 else {
                throw TLSError("setting session id context")
            }
        }
        SSL_CTX_set_alpn_select_cb(ctx, selectALPN, nil)
        ok = true
        return ctx
    }
}

/// Prefers h2, then http/1.1; with neither offered the handshake proceeds without ALPN (HTTP/1.1).
private func selectALPN(_ ssl: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
                        _ outlen: UnsafeMutablePointer<UInt8>?, _ input: UnsafePointer<UInt8>?,
                        _ inlen: UInt32, _ arg: UnsafeMutableRawPointer?) -> Int32 {
    guard let input, let out, let outlen else { return sg_ssl_tlsext_err_noack() }
    var best: (offset: Int, length: UInt8, rank: Int)?
    var i = 0
    while i < Int(inlen) {
        let len = Int(input[i])
        guard len > 0, i + 1 + len <= Int(inlen) else { break }
        let proto = String(decoding: UnsafeBufferPointer(start: input + i + 1, count: len), as: UTF8.self)
        let rank = proto == "h2" ? 0 : proto == "http/1.1" ? 1 : -1
        if rank >= 0, best == nil || rank < best!.rank { best = (i + 1, UInt8(len), rank) }
        i += 1 + len
    }
    guard let best else { return sg_ssl_tlsext_err_noack() }
    out.pointee = input + best.offset
    outlen.pointee = best.length
    return sg_ssl_tlsext_err_ok()
}

/// Holds the current SSL_CTX and swaps it when the certificate or key file changes.
/// Used only from the event-loop thread. Existing connections keep their context (OpenSSL refcounts it).
final class ReloadingTLSContext {
    private(set) var context: OpaquePointer
    private let config: ServerConfiguration.TLS
    private var loadedFingerprint: [UInt8]
    private var rejectedFingerprint: [UInt8]?
    private var nextCheck: Double = 0

    init(_ config: ServerConfiguration.TLS) throws {
        self.config = config
        loadedFingerprint = ReloadingTLSContext.fingerprint(config)
        context = try TLSContextFactory.make(config)
    }

    deinit { SSL_CTX_free(context) }

    /// Returns a message when the certificate was reloaded or a reload failed; nil when nothing changed.
    func reloadIfChanged(now: Double) -> (reloaded: Bool, message: String)? {
        guard now >= nextCheck else { return nil }
        nextCheck = now + config.reloadInterval
        let current = Self.fingerprint(config)
        guard current != loadedFingerprint, current != rejectedFingerprint else { return nil }
        do {
            let fresh = try TLSContextFactory.make(config)
            SSL_CTX_free(context)
            context = fresh
            loadedFingerprint = current
            rejectedFingerprint = nil
            return (true, "reloaded TLS certificate \(config.certificatePath)")
        } catch {
            // A half-written rotation (cert updated, key not yet) lands here; retried when the files change again.
            rejectedFingerprint = current
            return (false, "keeping previous TLS certificate: \(error)")
        }
    }

    /// The files' bytes: cheap at certificate sizes and immune to mtime granularity and symlink swaps.
    private static func fingerprint(_ config: ServerConfiguration.TLS) -> [UInt8] {
        let cert = (try? Data(contentsOf: URL(fileURLWithPath: config.certificatePath))) ?? Data()
        let key = (try? Data(contentsOf: URL(fileURLWithPath: config.privateKeyPath))) ?? Data()
        // The client CA bundle rotates too (mutual TLS); a change must rebuild the context.
        let ca = config.clientCAPath.flatMap { try? Data(contentsOf: URL(fileURLWithPath: $0)) } ?? Data()
        return Array(cert) + [0] + Array(key) + [0] + Array(ca)
    }
}

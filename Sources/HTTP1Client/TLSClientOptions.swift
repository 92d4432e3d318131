import COpenSSL
import Foundation
import SealgateCore

/// What a client TLS context trusts and presents, from PEM bytes (a kubeconfig carries them inline).
package struct TLSClientOptions: Sendable {
    /// Trust the system roots as well as `caPEM`.
    package var systemRoots: Bool
    package var caPEM: Data?
    package var clientCertificatePEM: Data?
    package var clientKeyPEM: Data?

    package init(systemRoots: Bool = false, caPEM: Data? = nil, clientCertificatePEM: Data? = nil, clientKeyPEM: Data? = nil) {
        self.systemRoots = systemRoots
        self.caPEM = caPEM
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
    }

    func makeContext() throws -> OpaquePointer {
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { throw HTTPClientError.tls("SSL_CTX_new failed") }
        do {
            _ = sg_ssl_ctx_set_min_proto(ctx, sg_tls1_2_version())
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
            if systemRoots { SSL_CTX_set_default_verify_paths(ctx) }
            if let caPEM {
                let certs = try Self.certificates(caPEM, what: "CA bundle")
                let store = SSL_CTX_get_cert_store(ctx)
                for cert in certs {
                    X509_STORE_add_cert(store, cert)
                    X509_free(cert)
                }
            }
            switch (clientCertificatePEM, clientKeyPEM) {
            case (nil, nil): break
            case (let certPEM?, let keyPEM?):
                var certs = try Self.certificates(certPEM, what: "client certificate")
                let leaf = certs.removeFirst()
                defer { X509_free(leaf) }
                guard SSL_CTX_use_certificate(ctx, leaf) == 1 else { throw HTTPClientError.tls("client certificate rejected by OpenSSL") }
                // add_extra_chain_cert takes ownership of each intermediate.
                for cert in certs { _ = sg_ssl_ctx_add_extra_chain_cert(ctx, cert) }
                guard let key = Self.withBIO(keyPEM, { PEM_read_bio_PrivateKey($0, nil, nil, nil) }) else {
                    throw HTTPClientError.tls("client key is not a PEM private key")
                }
                defer { EVP_PKEY_free(key) }
                guard SSL_CTX_use_PrivateKey(ctx, key) == 1, SSL_CTX_check_private_key(ctx) == 1 else {
                    throw HTTPClientError.tls("client key does not match the client certificate")
                }
            default:
                throw HTTPClientError.tls("a client certificate needs its key and a key needs its certificate")
            }
            return ctx
        } catch {
            SSL_CTX_free(ctx)
            throw error
        }
    }

    /// Every certificate in a PEM bundle; the caller frees them.
    private static func certificates(_ pem: Data, what: String) throws -> [OpaquePointer] {
        var certs: [OpaquePointer] = []
        Self.withBIO(pem) { bio -> Void in
            while let cert = PEM_read_bio_X509(bio, nil, nil, nil) { certs.append(cert) }
        }
        ERR_clear_error()
        guard !certs.isEmpty else { throw HTTPClientError.tls("\(what) holds no PEM certificate") }
        return certs
    }

    private static func withBIO<T>(_ data: Data, _ body: (OpaquePointer?) -> T) -> T {
        data.withUnsafeBytes { raw in
            let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count))
            defer { BIO_free(bio) }
            return body(bio)
        }
    }
}

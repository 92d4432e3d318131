#ifndef SEALGATE_COPENSSL_SHIM_H
#define SEALGATE_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/evp.h>
#include <openssl/bio.h>

// OpenSSL exposes these as macros over SSL_CTX_ctrl/SSL_ctrl; Swift imports only functions.
static inline long sg_ssl_ctx_set_min_proto(SSL_CTX *ctx, int v) { return SSL_CTX_set_min_proto_version(ctx, v); }
static inline long sg_ssl_ctx_set_mode(SSL_CTX *ctx, long m) { return SSL_CTX_set_mode(ctx, m); }
static inline long sg_ssl_set_tlsext_host_name(SSL *s, const char *name) { return SSL_set_tlsext_host_name(s, name); }
static inline long sg_ssl_ctx_set_session_cache_mode(SSL_CTX *ctx, long m) { return SSL_CTX_set_session_cache_mode(ctx, m); }
static inline long sg_ssl_ctx_set1_groups_list(SSL_CTX *ctx, const char *list) { return SSL_CTX_set1_groups_list(ctx, list); }
static inline long sg_ssl_ctx_add_extra_chain_cert(SSL_CTX *ctx, X509 *x) { return SSL_CTX_add_extra_chain_cert(ctx, x); }
static inline const int sg_tls1_2_version(void) { return TLS1_2_VERSION; }
static inline int sg_ssl_tlsext_err_ok(void) { return SSL_TLSEXT_ERR_OK; }
static inline int sg_ssl_tlsext_err_noack(void) { return SSL_TLSEXT_ERR_NOACK; }
static inline uint64_t sg_ssl_server_options(void) {
    return SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE
         | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF;
}
static inline long sg_ssl_mode_partial_write(void) { return SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS; }
static inline long sg_ssl_sess_cache_server(void) { return SSL_SESS_CACHE_SERVER; }
#endif

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/// Macros over SSL_ctrl / SSL_CTX_ctrl / BIO_ctrl, which Swift cannot import, as functions.
static inline int ctls_set_min_tls12(SSL_CTX *context) {
    return (int)SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
}

static inline int ctls_set_server_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

/// Makes a memory BIO answer "end of stream" instead of "try again" once it is empty.
static inline void ctls_set_end_of_input(BIO *bio) {
    BIO_set_mem_eof_return(bio, 0);
}

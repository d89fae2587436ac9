/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tls.c: OpenSSL behind the neutral API of tls.h; the only OpenSSL user. */
#include "tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tls_ctx {
    SSL_CTX *ssl_ctx;
};

struct tls_conn {
    SSL *ssl;
    struct tls_peer peer;
    bool auth_failed;
    int matched_pin; /* -1: none */
    char error[256];
};

void tls_session_free(struct tls_session *s) {
    SSL_SESSION_free((SSL_SESSION *)s);
}

/* OpenSSL hands us a session that can be resumed later (for TLS 1.3 that
 * is after the handshake, when a ticket arrives). Keep the newest. */
static int new_session(SSL *ssl, SSL_SESSION *sess) {
    struct tls_conn *c = SSL_get_app_data(ssl);
    if (!c || !c->peer.session || c->auth_failed)
        return 0;
    tls_session_free(*c->peer.session);
    *c->peer.session = (struct tls_session *)sess;
    return 1; /* we own the reference now */
}

static void forget_session(struct tls_conn *c) {
    if (c->peer.session) {
        tls_session_free(*c->peer.session);
        *c->peer.session = NULL;
    }
}

int tls_ctx_new(const char *ca_file, struct tls_ctx **ret_ctx, char *err, size_t errlen) {
    struct tls_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return -ENOMEM;
    ctx->ssl_ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx->ssl_ctx) {
        free(ctx);
        snprintf(err, errlen, "cannot create a TLS context");
        return -ENOMEM;
    }
    SSL_CTX_set_min_proto_version(ctx->ssl_ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx->ssl_ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    /* Queries are appended to a growing buffer while a write is pending. */
    SSL_CTX_set_mode(ctx->ssl_ctx,
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* One read takes every record the socket holds (callers read until
     * WANT_READ), not a header and then a body. */
    SSL_CTX_set_read_ahead(ctx->ssl_ctx, 1);
    int ok = ca_file ? SSL_CTX_load_verify_locations(ctx->ssl_ctx, ca_file, NULL)
                     : SSL_CTX_set_default_verify_paths(ctx->ssl_ctx);
    if (ok != 1) {
        unsigned long e = ERR_get_error();
        snprintf(err, errlen, "cannot load the CA store %s: %s", ca_file ? ca_file : "(system)",
                 e ? ERR_reason_error_string(e) : "unknown error");
        ERR_clear_error();
        tls_ctx_free(ctx);
        return -EINVAL;
    }
    /* Client-side session cache without OpenSSL's internal store: each new
     * session goes to the slot of the peer that made it (new_session). */
    SSL_CTX_set_session_cache_mode(ctx->ssl_ctx,
                                   SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx->ssl_ctx, new_session);
    *ret_ctx = ctx;
    return 0;
}

void tls_ctx_free(struct tls_ctx *ctx) {
    if (!ctx)
        return;
    SSL_CTX_free(ctx->ssl_ctx);
    free(ctx);
}

int tls_conn_new(struct tls_ctx *ctx, int fd, const struct tls_peer *peer,
                 struct tls_conn **ret_conn) {
    struct tls_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->peer = *peer;
    c->matched_pin = -1;
    c->ssl = SSL_new(ctx->ssl_ctx);
    if (!c->ssl)
        goto fail;
    /* Reads straight from the socket; writes through a buffer that
     * tls_flush() empties (tls.h). */
    BIO *sock = BIO_new_socket(fd, BIO_NOCLOSE);
    BIO *buf = BIO_new(BIO_f_buffer());
    if (!sock || !buf || BIO_set_write_buffer_size(buf, TLS_WRITE_BUFFER) != 1 ||
        !BIO_up_ref(sock)) {
        BIO_free(sock);
        BIO_free(buf);
        goto fail;
    }
    /* The SSL object owns both: the buffer (and through it one reference
     * to the socket BIO) as its write side, the other reference as its
     * read side. */
    SSL_set_bio(c->ssl, sock, BIO_push(buf, sock));
    SSL_set_app_data(c->ssl, c);
    if (peer->session && *peer->session)
        SSL_set_session(c->ssl, (SSL_SESSION *)*peer->session);
    if (peer->auth_name) {
        /* Whole-label wildcards only: "*.example.org", never "dns*.example.org". */
        SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (SSL_set1_host(c->ssl, peer->auth_name) != 1 ||
            SSL_set_tlsext_host_name(c->ssl, peer->auth_name) != 1)
            goto fail;
        SSL_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
    } else {
        /* Pins alone authenticate the server; checked once the chain is in. */
        SSL_set_verify(c->ssl, SSL_VERIFY_NONE, NULL);
    }
    /* Opportunistic: let the handshake finish whatever the certificate, and
     * judge it afterwards (the verify result is computed all the same). */
    if (peer->opportunistic)
        SSL_set_verify(c->ssl, SSL_VERIFY_NONE, NULL);
    *ret_conn = c;
    return 0;
fail:
    ERR_clear_error();
    SSL_free(c->ssl);
    free(c);
    return -ENOMEM;
}

void tls_conn_free(struct tls_conn *c) {
    if (!c)
        return;
    /* A close_notify (best effort, never waited for): OpenSSL marks the
     * session of a connection freed without one as not resumable. */
    if (SSL_is_init_finished(c->ssl)) {
        SSL_shutdown(c->ssl);
        (void)BIO_flush(SSL_get_wbio(c->ssl));
        ERR_clear_error();
    }
    SSL_free(c->ssl);
    free(c);
}

int tls_spki_pin(const uint8_t *der, size_t len, uint8_t ret_pin[32]) {
    unsigned int n = 0;
    if (EVP_Digest(der, len, ret_pin, &n, EVP_sha256(), NULL) != 1 || n != 32)
        return -EINVAL;
    return 0;
}

/* The index of the pin that cert's key matches, or -1. */
static int cert_pin_index(X509 *cert, const struct tls_peer *peer) {
    uint8_t *der = NULL;
    int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
    if (len <= 0)
        return -1;
    uint8_t pin[32];
    int match = -1;
    if (tls_spki_pin(der, (size_t)len, pin) == 0)
        for (size_t i = 0; i < peer->n_pins && match < 0; i++)
            if (memcmp(pin, peer->pins[i], 32) == 0)
                match = (int)i;
    OPENSSL_free(der);
    return match;
}

static bool cert_matches_pin(X509 *cert, const struct tls_peer *peer) {
    return cert_pin_index(cert, peer) >= 0;
}

/* The first pin some certificate of chain matches, or -1. */
static int chain_pin_index(STACK_OF(X509) * chain, const struct tls_peer *peer) {
    for (int i = 0; chain && i < sk_X509_num(chain); i++) {
        int k = cert_pin_index(sk_X509_value(chain, i), peer);
        if (k >= 0)
            return k;
    }
    return -1;
}

/* Pins alone: the handshake proved only that the server holds the key of
 * its leaf certificate, and it can send any other certificate along. So the
 * leaf must chain, signature by signature, to a certificate whose key is
 * pinned, with that certificate as the trust anchor (a pinned leaf anchors
 * itself). Validity dates are not checked: the pin is the trust. */
static bool pinned_chain_verifies(struct tls_conn *c) {
    STACK_OF(X509) *sent = SSL_get_peer_cert_chain(c->ssl);
    X509 *leaf = SSL_get0_peer_certificate(c->ssl);
    X509_STORE *anchors = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    bool ok = false, any = false;
    if (!sent || !leaf || !anchors || !ctx)
        goto out;
    for (int i = 0; i < sk_X509_num(sent); i++) {
        X509 *cert = sk_X509_value(sent, i);
        if (cert_matches_pin(cert, &c->peer) && X509_STORE_add_cert(anchors, cert) == 1)
            any = true;
    }
    if (!any || X509_STORE_CTX_init(ctx, anchors, leaf, sent) != 1)
        goto out;
    X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx),
                                X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_NO_CHECK_TIME);
    ok = X509_verify_cert(ctx) == 1;
out:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(anchors);
    ERR_clear_error();
    return ok;
}

/* Called once the handshake is done: the checks OpenSSL can't do itself. */
static bool authenticate(struct tls_conn *c) {
    if (c->peer.auth_name && SSL_get_verify_result(c->ssl) != X509_V_OK) {
        snprintf(c->error, sizeof(c->error), "certificate verification failed: %s",
                 X509_verify_cert_error_string(SSL_get_verify_result(c->ssl)));
        return false;
    }
    /* A resumed session carries no certificates: it was authenticated for
     * this very identity when it was made (the slot is per identity, and a
     * session is kept only after authentication). */
    if (c->peer.n_pins == 0 || SSL_session_reused(c->ssl))
        return true;
    /* With a name, OpenSSL verified a chain to a trusted CA: a pin must
     * match a certificate of that verified chain, not merely one the server
     * sent along. */
    bool ok;
    if (c->peer.auth_name) {
        c->matched_pin = chain_pin_index(SSL_get0_verified_chain(c->ssl), &c->peer);
        ok = c->matched_pin >= 0;
    } else {
        ok = pinned_chain_verifies(c);
        if (ok)
            c->matched_pin = chain_pin_index(SSL_get_peer_cert_chain(c->ssl), &c->peer);
    }
    if (!ok)
        snprintf(c->error, sizeof(c->error),
                 "no pinned SPKI in the certificate chain the server proved");
    return ok;
}

static enum tls_io map_error(struct tls_conn *c, int ret) {
    int e = SSL_get_error(c->ssl, ret);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        return TLS_IO_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return TLS_IO_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        return TLS_IO_CLOSED;
    default:
        break;
    }
    unsigned long ec = ERR_peek_error();
    long vr = SSL_get_verify_result(c->ssl);
    if (ERR_GET_REASON(ec) == SSL_R_CERTIFICATE_VERIFY_FAILED && vr != X509_V_OK) {
        c->auth_failed = true;
        snprintf(c->error, sizeof(c->error), "certificate verification failed: %s",
                 X509_verify_cert_error_string(vr));
    } else if (ec) {
        snprintf(c->error, sizeof(c->error), "TLS error: %s", ERR_reason_error_string(ec));
    } else if (e == SSL_ERROR_SYSCALL) {
        snprintf(c->error, sizeof(c->error), "connection lost: %s",
                 errno ? strerror(errno) : "unexpected EOF");
    } else {
        snprintf(c->error, sizeof(c->error), "TLS error %d", e);
    }
    ERR_clear_error();
    return TLS_IO_ERROR;
}

enum tls_io tls_handshake(struct tls_conn *c) {
    ERR_clear_error();
    errno = 0;
    int r = SSL_connect(c->ssl);
    if (r != 1) {
        enum tls_io e = map_error(c, r);
        if (e == TLS_IO_ERROR)
            forget_session(c); /* a resumption that went wrong must not repeat */
        return e;
    }
    if (!authenticate(c)) {
        c->auth_failed = true;
        forget_session(c);
        if (!c->peer.opportunistic)
            return TLS_IO_ERROR;
    }
    return TLS_IO_OK;
}

/* SSL_get_error() needs an empty error queue before the call it explains.
 * Every failure empties it (map_error); clearing an empty one costs a walk
 * of all its slots, so only what is there is cleared. */
static void clear_errors(void) {
    if (ERR_peek_error() != 0)
        ERR_clear_error();
}

enum tls_io tls_read(struct tls_conn *c, void *buf, size_t len, size_t *ret_n) {
    clear_errors();
    errno = 0;
    size_t n = 0;
    int r = SSL_read_ex(c->ssl, buf, len, &n);
    /* Reading may have made the TLS layer write (an alert, a key update):
     * that goes out now, or with the next flush. */
    BIO *wb = SSL_get_wbio(c->ssl);
    if (BIO_wpending(wb) > 0)
        (void)BIO_flush(wb);
    if (r != 1)
        return map_error(c, r);
    *ret_n = n;
    return TLS_IO_OK;
}

int tls_random(void *buf, size_t len) {
    if (RAND_bytes(buf, (int)len) == 1)
        return 0;
    ERR_clear_error();
    return -EIO;
}

enum tls_io tls_flush(struct tls_conn *c) {
    BIO *wb = SSL_get_wbio(c->ssl);
    if (BIO_wpending(wb) <= 0)
        return TLS_IO_OK;
    errno = 0;
    if (BIO_flush(wb) > 0)
        return TLS_IO_OK;
    if (BIO_should_retry(wb))
        return TLS_IO_WANT_WRITE;
    snprintf(c->error, sizeof(c->error), "connection lost: %s",
             errno ? strerror(errno) : "write failed");
    ERR_clear_error();
    return TLS_IO_ERROR;
}

enum tls_io tls_write(struct tls_conn *c, const void *buf, size_t len, size_t *ret_n) {
    clear_errors();
    errno = 0;
    size_t n = 0;
    int r = SSL_write_ex(c->ssl, buf, len, &n);
    if (r != 1)
        return map_error(c, r);
    *ret_n = n;
    return TLS_IO_OK;
}

bool tls_pending(struct tls_conn *c) {
    return SSL_has_pending(c->ssl) == 1;
}

const char *tls_conn_error(const struct tls_conn *c) {
    return c->error[0] ? c->error : "no error";
}

bool tls_conn_auth_failed(const struct tls_conn *c) {
    return c->auth_failed;
}

bool tls_conn_resumed(const struct tls_conn *c) {
    return SSL_session_reused(c->ssl) == 1;
}

const char *tls_conn_version(const struct tls_conn *c) {
    return SSL_get_version(c->ssl);
}

void tls_conn_get_info(const struct tls_conn *c, struct tls_conn_info *ret_info) {
    *ret_info = (struct tls_conn_info){.version = SSL_get_version(c->ssl), .pin = c->matched_pin};
    /* A resumed session still carries the leaf it was made with. */
    X509 *leaf = SSL_get0_peer_certificate(c->ssl);
    const ASN1_TIME *t = leaf ? X509_get0_notAfter(leaf) : NULL;
    struct tm tm;
    if (t && ASN1_TIME_to_tm(t, &tm) == 1)
        ret_info->not_after = (int64_t)timegm(&tm);
}

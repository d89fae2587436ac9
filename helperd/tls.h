/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tls.h: a small neutral TLS API over non-blocking sockets; tls.c is the only
 * file that includes OpenSSL. Callers see "want read / want write / done /
 * closed / error", never SSL error codes.
 *
 * Strict profile: TLS 1.2 floor; with an auth_name, the chain must verify
 * against ca_file (or the system store) and the name must match
 * (SSL_set1_host, no partial wildcards), SNI = auth_name; with pins, the
 * SHA-256 of the SubjectPublicKeyInfo of at least one certificate of the
 * chain the server proved must be a pin (with a name: the verified chain;
 * pins alone: the leaf must chain by signatures to a pinned certificate);
 * with both, both must pass.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tls_ctx;
struct tls_conn;
/* A TLS session kept for resumption (TLS 1.3 ticket or TLS 1.2 session). */
struct tls_session;

enum tls_io {
    TLS_IO_OK = 0,
    TLS_IO_WANT_READ,
    TLS_IO_WANT_WRITE,
    TLS_IO_CLOSED, /* orderly close by the peer */
    TLS_IO_ERROR,  /* see tls_conn_error() */
};

/* A client context; ca_file NULL means the system trust store. Fails when
 * the store can't be loaded (strict by construction). err gets a message. */
int tls_ctx_new(const char *ca_file, struct tls_ctx **ret_ctx, char *err, size_t errlen);
void tls_ctx_free(struct tls_ctx *ctx);

struct tls_peer {
    const char *auth_name; /* NULL: pins only */
    const uint8_t (*pins)[32];
    size_t n_pins;
    bool opportunistic; /* authentication failures tolerated */
    /* Where this peer's last authenticated session is kept for resumption;
     * one slot per upstream identity, so sessions never cross identities.
     * NULL: no resumption. */
    struct tls_session **session;
};

void tls_session_free(struct tls_session *s);

/* Wraps a connected non-blocking TCP socket; the caller keeps owning fd. */
int tls_conn_new(struct tls_ctx *ctx, int fd, const struct tls_peer *peer,
                 struct tls_conn **ret_conn);
void tls_conn_free(struct tls_conn *c);

/* Drives the handshake; TLS_IO_OK once it is done and the peer authenticated
 * (opportunistic peers: also when authentication failed, see
 * tls_conn_auth_failed()). A resumed session was authenticated when it was
 * first made. */
enum tls_io tls_handshake(struct tls_conn *c);
/* Reads are read ahead: a read takes whatever the socket holds, so read
 * until TLS_IO_WANT_READ before waiting for the socket again. */
enum tls_io tls_read(struct tls_conn *c, void *buf, size_t len, size_t *ret_n);
/* Each call makes one TLS record (or more for more than 16 KiB) and keeps
 * it in a buffer in front of the socket (up to TLS_WRITE_BUFFER octets):
 * nothing reaches the socket before tls_flush(), so the records of several
 * writes leave in one system call and, as far as the kernel cares, one
 * segment. TLS_IO_WANT_WRITE: the buffer is full and the socket too;
 * repeat the same write once the socket is writable. */
enum tls_io tls_write(struct tls_conn *c, const void *buf, size_t len, size_t *ret_n);
/* Sends what tls_write() and the TLS layer itself (alerts, key updates)
 * have buffered: TLS_IO_OK when all of it is in the socket, WANT_WRITE when
 * the socket is full (flush again once it is writable), or ERROR. */
enum tls_io tls_flush(struct tls_conn *c);
#define TLS_WRITE_BUFFER (64 * 1024)

/* len unpredictable octets from OpenSSL's DRBG (RAND_bytes: seeded from
 * the kernel, no system call per call). 0, or -EIO when it fails. */
int tls_random(void *buf, size_t len);
/* Bytes read from the socket and still buffered inside the TLS layer
 * (decrypted or not): tls_read() returns them without waiting. */
bool tls_pending(struct tls_conn *c);
/* What went wrong, for logs; never NULL. */
const char *tls_conn_error(const struct tls_conn *c);
/* True when the failure was authentication (verification or pin). */
bool tls_conn_auth_failed(const struct tls_conn *c);
/* True when the handshake resumed a kept session. */
bool tls_conn_resumed(const struct tls_conn *c);
/* "TLSv1.3" etc. after the handshake. */
const char *tls_conn_version(const struct tls_conn *c);

/* What a finished handshake showed, for dot-helperctl status and the
 * certificate expiry warning. */
struct tls_conn_info {
    const char *version; /* "TLSv1.3" etc.; static */
    int64_t not_after;   /* the leaf certificate's notAfter, Unix seconds; 0 unknown */
    int pin;             /* index in peer.pins of the pin that matched, -1 when none was
                            checked (no pins, or a resumed session) */
};
void tls_conn_get_info(const struct tls_conn *c, struct tls_conn_info *ret_info);

/* Base64 SHA-256 of a DER SubjectPublicKeyInfo, as kdig prints pins. */
int tls_spki_pin(const uint8_t *der, size_t len, uint8_t ret_pin[32]);

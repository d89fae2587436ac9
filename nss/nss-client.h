/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nss-client.h: one request/reply exchange with dot-helperd over its Unix
 * socket. Every step has a deadline; no global state; safe from threads and
 * after fork (a new socket per call, SOCK_CLOEXEC, MSG_NOSIGNAL).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* How long the module waits for the daemon in all (connect, send, the whole
 * reply): the daemon's timeouts.query_ms, read from the link it publishes
 * next to its socket (common/query-ms.h), plus NSS_DOT_GRACE_MS, and never
 * more than NSS_DOT_DEADLINE_MS. Without a valid link, NSS_DOT_DEFAULT_MS:
 * the default query_ms (2000) plus the grace. The daemon answers within its
 * query timeout; this bounds one that is stopped or wedged. */
#define NSS_DOT_DEADLINE_MS 10000
#define NSS_DOT_GRACE_MS    1000
#define NSS_DOT_DEFAULT_MS  3000

/* The daemon's socket: NSS_DOT_SOCKET (through secure_getenv, so never in
 * a setuid program) or the default. */
const char *nss_client_socket_path(void);

/* Sends the request frame and reads one reply frame. On success returns 0 and
 * *ret_body is a malloc'd reply body of *ret_len bytes (the caller frees it).
 * Errors before the request is sent: -ENOENT, -ECONNREFUSED, -EACCES... when
 * no daemon listens (fail fast), -EPERM when whoever listens is not the
 * daemon (common/peer.h). Once the daemon has the request, -ETIMEDOUT past
 * the deadline above, and -EPROTO for every other failure (it closed early,
 * a malformed or oversized reply, no memory for it): the daemon was there
 * and has the name, so the caller must not report it unavailable. */
int nss_client_transact(const uint8_t *req, size_t req_len, uint8_t **ret_body, size_t *ret_len);

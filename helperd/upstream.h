/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * upstream.h: the upstream side: DNS queries to the configured resolvers over
 * strict DNS-over-TLS, on pooled connections keyed by upstream identity.
 *
 * Owns the TCP+TLS connections, the DNS message IDs, failover between
 * upstreams (list order), per-try timeouts and the query deadline. Queries
 * are pipelined on a connection (RFC 7766) and answers matched by ID and
 * question. A server closing a connection is normal: what was in flight is
 * sent again on a new connection. Never sends anything in plaintext.
 */
#pragma once

#include <stdint.h>

#include "config.h"
#include "dns-wire.h"
#include "loop.h"
#include "tls.h"

struct upstream_pool;
struct upstream_query;

/* Called exactly once per query that is not cancelled. error 0: msg is the
 * answer (any rcode from NOERROR/NXDOMAIN; SERVFAIL-like answers were
 * failed over and only come back as errors); error < 0: -ETIMEDOUT (deadline
 * passed), -EIO (every upstream failed or answered SERVFAIL/REFUSED),
 * -EBUSY (every connection full). msg lives until the callback returns; the
 * query handle is gone once it is called. */
typedef void (*upstream_cb)(void *userdata, int error, const struct dns_msg *msg);

struct upstream_stats {
    uint64_t queries, answers, failures, handshakes, connections_open;
};

int upstream_pool_new(struct loop *l, const struct config *cfg, struct tls_ctx *tls,
                      struct upstream_pool **ret_pool);
/* Cancels (no callbacks) every query still pending, closes every connection. */
void upstream_pool_free(struct upstream_pool *p);

/* Starts a query for name/qtype answered by deadline (loop ms). */
int upstream_query_start(struct upstream_pool *p, const char *name, uint16_t qtype,
                         int64_t deadline, upstream_cb cb, void *userdata,
                         struct upstream_query **ret_query);
/* Forgets a pending query; its callback won't run. */
void upstream_query_cancel(struct upstream_query *q);

void upstream_pool_stats(const struct upstream_pool *p, struct upstream_stats *ret_stats);

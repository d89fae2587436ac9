/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * upstream.h: the upstream side: DNS queries to the configured resolvers over
 * strict DNS-over-TLS, on pooled connections keyed by upstream identity.
 *
 * Owns the TCP+TLS connections (at most connections_per_upstream per
 * upstream, each carrying up to max_inflight pipelined queries, RFC 7766),
 * the DNS message IDs (random, unique per connection; answers matched by ID
 * and question), upstream selection (ordered, round_robin, fastest), backoff
 * with background probes, per-try timeouts and the query deadline, RFC 7828
 * keepalive and idle closing (learning servers that close sooner), TLS
 * session resumption, prewarming, and re-checking after network changes.
 * A server closing a connection is normal: what was in flight is sent again
 * on a new connection. In strict mode nothing is ever sent in plaintext; in
 * opportunistic mode, and only when TLS cannot be set up at all, queries go
 * to port 53 of the same upstream over plain TCP (logged, counted).
 *
 * What the DoT servers people run do with pipelined queries, and why every
 * one of them answers a lookup in one round trip (issue 13; each is run in
 * tests/e2e/interop.sh as Debian ships it):
 *
 * - dnsdist 1.7 (default frontend options, no maxInFlight) reads one query
 *   of a connection at a time and reads the next only when the socket is
 *   readable again: a second query in the same TLS record waits until more
 *   bytes arrive. So every message leaves in a TLS record of its own
 *   (upstream-conn.c, conn_flush), also when queries queued during a
 *   handshake go out together. As a class: a question still unanswered
 *   while the server answered one sent no earlier on the same connection is
 *   sent again there, with the same ID, after about one smoothed answer
 *   time (NUDGE_MIN_MS..NUDGE_MAX_MS), once per try and without counting a
 *   try: the new bytes wake a server like this one, and one that lost the
 *   question gets it again. A pipelining server is never nudged when it
 *   answers in time; a recursive one slow on one of two names costs one
 *   duplicate question, whose second answer finds no query and is dropped.
 * - Unbound 1.17 sets no TCP_NODELAY on the connections it accepts: with
 *   an answer (or a session ticket) not yet ACKed, Nagle holds its next
 *   write until the ACK comes, and a client that delays its ACKs (Linux:
 *   40 ms at least) pays that for the AAAA of every lookup. Two answers to
 *   the client: the pool learns that such a server answers a lookup's two
 *   questions apart ("pairs" below), and then the A and the AAAA go on two
 *   connections when the pool may open two (pick_conn: the ready
 *   connection with the fewest queries; a second one is opened as soon as
 *   a query lands on a busy one), so each is the first write on its
 *   connection and leaves at once: one round trip. And every input is ACKed at once (TCP_QUICKACK,
 * re-armed at each input, since the kernel falls back to delayed ACKs): what still shares a
 * connection (more queries than connections, tickets then an answer on a new connection) waits one
 * round trip, not 40 ms. The cost: a second connection per upstream (its handshake is resumed, or
 * runs beside the first when prewarm opens both), and a pure ACK per input where one would
 * sometimes ride on the next query. What remains is physics: a TLS 1.3 server sends its session
 * tickets once it has the client's Finished, so the first answer on a brand-new connection waits
 *   behind them for one more round trip (a lookup right at start, or right
 *   after a reconnect); and a connection delivers one burst of answers per
 *   round trip, so lookups beyond one per connection in flight at once take
 *   two (connections_per_upstream raises the count).
 * - Knot Resolver 5.6 pipelines, answers out of order, sets TCP_NODELAY and
 *   announces its idle timeout (RFC 7828), which the pool honours: none of
 *   the above is needed for it, and none of it costs it anything.
 *
 * Pairs: two connections per lookup cost a second write, a second read and
 * usually a second wakeup, for nothing when the server answers at once. So
 * each upstream learns how it answers questions written together on one
 * connection: after a connection's first answer (before it, answers wait
 * behind the session tickets, which says nothing), a lookup's second
 * question goes where its first went, and once both are answered, they
 * came together or apart (the second half the quickest answer time of the
 * last 128, about the network's round trip, or 1 ms after the first,
 * whichever is more; a pair whose answers waited for a later loop
 * iteration, or one of which was not answered, says nothing). Three of
 * the last eight apart while learning, or four once together: "apart", the two connections above,
 * for as long as the upstream lasts (under load a Nagle-on server holds every answer behind the
 * last ACK, so its answers come together then, which proves nothing); eight with at most one apart:
 * "together", and every question then goes on the ready connection that carries the most, so a
 * batch of events leaves in one write and its answers come in one read. A Nagle-on server pays for
 * the lesson with about three lookups of two round trips after a start (tests/e2e/pairs.sh allows
 * five: a nudge racing a held answer can make one come together late); a recursive server slow on
 * one of a lookup's two questions looks apart, which costs only the second connection. On loopback
 * (round trip far under 1 ms) a held answer cannot be told apart and costs nothing worth telling.
 * dot-helperctl shows what was learned (upstream.N.pairs).
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
 * passed, also while waiting for room on a full pool), -EIO (every upstream
 * failed or answered SERVFAIL/REFUSED). msg lives until the callback
 * returns; the query handle is gone once it is called. */
typedef void (*upstream_cb)(void *userdata, int error, const struct dns_msg *msg);

struct upstream_stats {
    uint64_t queries;          /* started */
    uint64_t answers;          /* answered */
    uint64_t failures;         /* ended without an answer */
    uint64_t handshakes;       /* TLS handshakes completed */
    uint64_t resumed;          /* ... of which resumed a session */
    uint64_t connections_open; /* now */
    uint64_t unauthenticated;  /* opportunistic: TLS connections that failed authentication */
    uint64_t plain_fallbacks;  /* opportunistic: plain TCP connections opened */
    uint64_t waited;           /* queries that waited for room (every connection full) */
    uint64_t waiting;          /* ... waiting now */
};

/* One upstream as dot-helperctl shows it. */
enum upstream_state {
    UPSTREAM_UNKNOWN = 0, /* not tried yet */
    UPSTREAM_UP,          /* the last connection was set up (or answered) */
    UPSTREAM_BACKOFF,     /* failed: used again after backoff_left_ms */
    UPSTREAM_UNROUTABLE,  /* no route to it: not used */
};

/* Answer times kept per upstream for the percentiles. */
#define UPSTREAM_RTT_RING 128
/* A certificate that expires within this is warned about, once a day. */
#define UPSTREAM_CERT_WARN_S (14 * 86400)

struct upstream_info {
    const char *address; /* as configured; valid while the pool lives */
    uint16_t port;
    const char *auth_name; /* NULL when pins only */
    size_t n_pins;
    enum upstream_state state;
    int64_t backoff_left_ms;                      /* UPSTREAM_BACKOFF: until the next try */
    char last_error[160];                         /* why it last went down; "" when never */
    unsigned srtt_ms;                             /* smoothed answer time, 0 unknown */
    unsigned rtt_p50_ms, rtt_p99_ms, rtt_samples; /* over the last UPSTREAM_RTT_RING answers */
    uint64_t connections_open;                    /* now */
    uint64_t queries;                             /* tries sent to it */
    uint64_t answers;
    uint64_t failures;            /* tries that ended without a usable answer */
    uint64_t validation_failures; /* handshakes whose certificate or pin check failed */
    uint64_t handshakes, resumed;
    char tls_version[16];   /* of the last handshake; "" before */
    int64_t cert_not_after; /* the leaf's notAfter, Unix seconds; 0 unknown */
    int pin;                /* index of the spki_pins entry that matched last, -1 none */
    /* Whether it answers questions sent together on one connection
     * together (a lookup's A and AAAA then share one): "learning",
     * "together" or "apart" (upstream-int.h, PAIRS_*). */
    const char *pairs;
};

int upstream_pool_new(struct loop *l, const struct config *cfg, struct tls_ctx *tls,
                      struct upstream_pool **ret_pool);
/* Cancels (no callbacks) every query still pending, closes every connection. */
void upstream_pool_free(struct upstream_pool *p);

/* For a reload: takes cfg (which must outlive the pool or the next reload;
 * the pool's cfg until then, which the call reads, too) and tls (the same
 * context, or a new one when ca_file changed: either way the caller's, to be
 * kept until the pool is freed or reloaded again; connections already open
 * hold what they need of an old one). Upstreams are matched by identity
 * (config-diff.h): one that is the same keeps its connections, TLS
 * session, backoff and RTT, with no new handshake; a new one is added (and
 * prewarmed when configured); a dropped one takes no new query, and its
 * connections close as soon as what is in flight on them is done (answered,
 * or failed over to the new list). Queries in flight go on. Every other
 * setting (selection, timeouts, pool sizes, padding) applies from the next
 * query, try or connection. 0, or -ENOMEM with nothing changed. */
int upstream_pool_reload(struct upstream_pool *p, const struct config *cfg, struct tls_ctx *tls);

/* Starts a query for qname (wire form, dname.h; copied) and qtype answered
 * by deadline (loop ms). */
int upstream_query_start(struct upstream_pool *p, const uint8_t *qname, uint16_t qtype,
                         int64_t deadline, upstream_cb cb, void *userdata,
                         struct upstream_query **ret_query);
/* Forgets a pending query; its callback won't run. */
void upstream_query_cancel(struct upstream_query *q);

void upstream_pool_stats(const struct upstream_pool *p, struct upstream_stats *ret_stats);
size_t upstream_pool_count(const struct upstream_pool *p);
/* The i-th upstream (config order); 0 or -ENOENT. */
int upstream_pool_info(const struct upstream_pool *p, size_t i, struct upstream_info *ret_info);
/* Inside an upstream_cb with an answer: the index of the upstream that
 * answered; -1 elsewhere. */
int upstream_pool_answered_by(const struct upstream_pool *p);

/* Calls on_warm(userdata) once, from the loop, when every connection that
 * prewarm opened at start has finished its handshake or failed (bounded by
 * timeouts.connect_ms); at once when prewarm is off or nothing is routable.
 * The daemon publishes its socket then, so the first lookup pays no
 * handshake. */
void upstream_pool_when_warm(struct upstream_pool *p, void (*on_warm)(void *userdata),
                             void *userdata);

/* The host's addresses or routes changed: forget backoff and route checks,
 * close idle connections (they may sit on a dead path) and prewarm again. */
void upstream_pool_network_changed(struct upstream_pool *p);

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * upstream-int.h: what the two halves of the upstream side share, and
 * nothing else includes. upstream.c is the pool (selection, tries and
 * deadlines, backoff and probes, routes, prewarm, network changes);
 * upstream-conn.c is one connection (TCP, TLS or opportunistic plain TCP,
 * framing, pipelining, IDs, keepalive and idle closing, and what happens
 * to the queries on it when it fails).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "upstream.h"

#define BACKOFF_MIN_MS      1000
#define BACKOFF_MAX_MS      60000
#define MIN_TRY_MS          250
#define MIN_LEARNED_IDLE_MS 500
#define EDNS_UDP_SIZE       1232
#define MAX_EMPTY_RESENDS   2 /* resends after connections that answered nothing */
#define FASTEST_PROBE_EVERY 20
#define ROUTE_RECHECK_MS    5000
/* Unsent bytes a connection may hold: far more than max_inflight padded
 * queries once the kernel's buffers are full means the server stopped
 * reading (invariant 4: nothing grows without bound). */
#define WBUF_MAX (64 * 1024)

enum conn_state { CONN_CONNECTING, CONN_HANDSHAKE, CONN_READY };

struct upstream {
    struct upstream_pool *pool;
    const struct config_upstream *cfg;
    unsigned index;
    struct tls_peer peer;
    struct tls_session *session; /* for resumption; this identity's only */
    struct conn *conns;
    unsigned n_conns;
    int64_t backoff_until;
    unsigned backoff_ms;
    struct loop_timer probe_timer;
    int64_t learned_idle_ms; /* the server closed idle connections this soon */
    unsigned srtt_ms;        /* smoothed answer time, 0 = unknown */
    int routable;            /* -1 unknown, 0 no route to it, 1 routable */
    int64_t routable_at;     /* when a "no route" was seen */
    bool warned_unauth, warned_plain;
};

struct conn {
    struct upstream_pool *pool;
    struct upstream *up;
    struct conn *next;
    struct loop_io io;
    struct tls_conn *tls; /* NULL on a plain (opportunistic fallback) connection */
    enum conn_state state;
    struct loop_timer timer; /* connect+handshake deadline, then idle close */
    uint8_t *wbuf;
    size_t wlen, wcap;
    uint8_t rbuf[2 + DNS_MAX_MESSAGE];
    size_t rlen;
    int64_t last_read_at;           /* when the server last sent anything */
    struct upstream_query *queries; /* on this connection, sent or waiting for the handshake */
    unsigned n_queries;
    bool answered; /* has carried at least one answer */
    bool warming;  /* opened by prewarm, handshake not finished yet */
    bool dead;     /* closed; memory freed after this loop iteration */
    int connect_err;
    int64_t keepalive_ms; /* the server's RFC 7828 idle timeout, -1 when not said */
    int64_t idle_since;
    uint8_t ids[65536 / 8];
};

struct upstream_query {
    struct upstream_pool *pool;
    uint8_t name[DNAME_MAX_WIRE]; /* wire form */
    uint16_t qtype;
    int64_t deadline;
    upstream_cb cb;
    void *userdata;
    struct conn *conn;
    struct upstream_query *cnext, *cprev;
    uint16_t id;
    bool written;
    unsigned empty_resends;
    unsigned tries;
    unsigned start; /* round_robin: where this query's rounds begin */
    uint32_t tried; /* bitmask of upstreams tried in this round */
    int64_t sent_at;
    struct loop_timer timer;
    bool moving_resend;
    bool got_servfail;            /* some upstream answered SERVFAIL, REFUSED or the like */
    struct upstream_query *rnext; /* while moving off a failed connection */
};

struct upstream_pool {
    struct loop *loop;
    const struct config *cfg;
    struct tls_ctx *tls;
    struct upstream ups[CONFIG_MAX_UPSTREAMS];
    size_t n_ups;
    unsigned rr_next;
    unsigned fastest_count;
    unsigned warming; /* prewarm connections not finished yet */
    struct loop_timer warm_timer;
    void (*on_warm)(void *);
    void *warm_userdata;
    struct upstream_stats stats;
};

#define CONN_OF_IO(io)   ((struct conn *)((char *)(io)-offsetof(struct conn, io)))
#define CONN_OF_TIMER(t) ((struct conn *)((char *)(t)-offsetof(struct conn, timer)))
#define UPSTREAM_OF_TIMER(t)                                                                       \
    ((struct upstream *)((char *)(t)-offsetof(struct upstream, probe_timer)))
#define QUERY_OF_TIMER(t)                                                                          \
    ((struct upstream_query *)((char *)(t)-offsetof(struct upstream_query, timer)))

/* upstream-conn.c */
struct conn *conn_open(struct upstream *up, bool plain);
void conn_close(struct conn *c);
/* The connection failed: back off (unless the server just closed it) and
 * move its queries on. */
void conn_fail(struct conn *c, const char *why, bool upstream_fault);
/* Writes what is buffered; false when the connection failed (and is gone). */
bool conn_flush(struct conn *c);
void conn_attach(struct conn *c, struct upstream_query *q);
void query_detach(struct upstream_query *q);
/* Encodes q into its connection's write buffer; -ENOBUFS when that is full. */
int query_write(struct upstream_query *q);
/* A try on c timed out (its query already detached): fails c when an answer
 * has stood half-read since MIN_TRY_MS or longer. */
void conn_try_timed_out(struct conn *c);

/* upstream.c */
void query_finish(struct upstream_query *q, int error, const struct dns_msg *msg);
void query_next_try(struct upstream_query *q, int error);
void upstream_backoff(struct upstream *up);
void upstream_healthy(struct upstream *up);
void upstream_measured(struct upstream *up, int64_t rtt);
/* A prewarm connection is done (ready or failed). */
void conn_warmed(struct conn *c);

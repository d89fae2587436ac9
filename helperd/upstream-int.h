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

#include "dlist.h"
#include "freelist.h"
#include "late-ids.h"
#include "upstream.h"

#define BACKOFF_MIN_MS      1000
#define BACKOFF_MAX_MS      60000
#define MIN_TRY_MS          250
#define MIN_LEARNED_IDLE_MS 500
#define EDNS_UDP_SIZE       1232
#define MAX_EMPTY_RESENDS   2 /* resends after connections that answered nothing */
#define FASTEST_PROBE_EVERY 20
#define ROUTE_RECHECK_MS    5000
/* A question left unanswered while the server answered one sent no earlier
 * on the same connection is sent again there after the smoothed answer
 * time, within these bounds (upstream-conn.c, "nudge"). */
#define NUDGE_MIN_MS 10
#define NUDGE_MAX_MS MIN_TRY_MS
/* Unsent bytes a connection may hold: more than max_inflight of the largest
 * queries (a 255-octet name padded to 384 octets, RFC 8467) once the
 * kernel's buffers are full means the server stopped reading (invariant 4:
 * nothing grows without bound). */
#define WBUF_PER_QUERY 512
#define WBUF_MIN       (64 * 1024)
/* Answers a connection delivers per loop iteration: about half a
 * millisecond of work under load (each may complete a lookup: a reply, a
 * close), so that a burst of answers delays another client's lookup by
 * that much per busy connection, not by the whole burst. */
#define CONN_ANSWERS_PER_ITERATION 32
/* Buckets of a connection's queries by ID. IDs are random (RFC 5452), so
 * the low bits spread them: the default max_inflight (1,024) makes chains
 * of about 4, its largest (4,096) of about 16. */
#define CONN_ID_BUCKETS 256

enum conn_state { CONN_CONNECTING, CONN_HANDSHAKE, CONN_READY };

/* Whether the server answers questions written together on one connection
 * together (upstream.h, "pairs"), learned from the last PAIR_WINDOW such
 * writes: APART (for good) once PAIR_APART_LEARNING of them came apart
 * while learning, or PAIR_APART_TOGETHER once together; TOGETHER once
 * PAIR_WINDOW came with at most one apart. Apart: the second answer came
 * PAIR_APART_MIN_US or half the quickest answer time (rtt_floor_ms),
 * whichever is more, after the first. */
enum upstream_pairs { PAIRS_LEARNING, PAIRS_TOGETHER, PAIRS_APART };
#define PAIR_WINDOW         8
#define PAIR_APART_LEARNING 3
#define PAIR_APART_TOGETHER 4
#define PAIR_APART_MIN_US   1000

/* The index of a retired upstream: past every bit of a query's "tried" mask
 * that a live upstream can use. */
#define UPSTREAM_RETIRED_INDEX 31

struct upstream {
    struct upstream_pool *pool;
    const struct config_upstream *cfg; /* &conf */
    struct config_upstream conf; /* the pool's own copy (auth_name too): configs come and go */
    unsigned index;              /* in pool->ups, or UPSTREAM_RETIRED_INDEX */
    bool retired;                /* dropped by a reload: drains its connections, then goes */
    struct upstream *next_retired;
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
    /* What dot-helperctl shows (see struct upstream_info). */
    enum upstream_state state;
    char last_error[160];
    struct {
        uint64_t queries, answers, failures, validation_failures, handshakes, resumed;
    } st;
    uint16_t rtt_ring[UPSTREAM_RTT_RING]; /* ms, capped */
    unsigned rtt_next, rtt_count;
    /* The quickest answer time of the ring (ms; taken again each time it
     * wraps): about the network's round trip, which is what a server
     * that leaves Nagle on holds an answer back for. -1: none yet. */
    int rtt_floor_ms;
    char tls_version[16];
    int64_t cert_not_after;
    int pin;
    int64_t cert_warned_at; /* loop ms of the last expiry warning; INT64_MIN: never */
    enum upstream_pairs pairs;
    uint8_t pair_bits;  /* the last pair_seen samples, newest in bit 0; 1: apart */
    unsigned pair_seen; /* up to PAIR_WINDOW */
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
    size_t whead; /* octets of the message at the head of wbuf not yet written; 0: none begun */
    uint8_t rbuf[2 + DNS_MAX_MESSAGE];
    size_t rlen;
    int64_t last_read_at; /* when the server last sent anything */
    /* On this connection, sent or waiting for the handshake, in the order
     * they were attached, which is the order they were first written in:
     * the oldest first (CONN_QUERY). */
    struct dlist queries;
    unsigned n_queries;
    bool answered;     /* has carried at least one answer */
    bool warming;      /* opened by prewarm, handshake not finished yet */
    bool dead;         /* closed; memory freed after this loop iteration */
    bool write_failed; /* a write failed: read what came, then fail (conn_flush) */
    int connect_err;
    int64_t keepalive_ms; /* the server's RFC 7828 idle timeout, -1 when not said */
    int64_t idle_since;
    bool flush_queued; /* on the pool's flush_list (conn_flush_soon) */
    struct conn *flush_next;
    struct loop_timer nudge_timer; /* armed while a question waits for its nudge */
    int64_t nudge_before;          /* ... one written no later than this */
    struct loop_task read_task;    /* answers left for the next iteration (conn_read) */
    uint64_t answers_gen;          /* ... the iteration + 1 whose share answers_left is */
    unsigned answers_left;
    bool read_answered;       /* this read delivered answers (conn_check_stragglers) */
    int64_t answered_sent_at; /* ... the latest of them to a question written then */
    /* The two questions of one lookup (A and AAAA, one name) written in
     * one loop iteration, followed for a pairs sample (conn_follow_pair):
     * that iteration + 1 (0: none followed), how many so far (1 or 2),
     * how many still unanswered, and when the first answer came (loop µs,
     * 0: none yet). */
    uint64_t pair_gen;
    unsigned pair_n, pair_left;
    struct upstream_query *pair_first; /* the first of them (attached while pair_left is 1) */
    int64_t pair_first_us;
    /* The same queries by ID (chained through id_next): an answer finds
     * its query, and a new ID is told free, in O(1). */
    struct upstream_query *by_id[CONN_ID_BUCKETS];
    /* IDs whose answer may still come though their query left (late-ids.h). */
    struct late_ids late;
};

struct upstream_query {
    struct upstream_pool *pool;
    uint8_t name[DNAME_MAX_WIRE]; /* wire form */
    uint16_t qtype;
    int64_t deadline;
    upstream_cb cb;
    void *userdata;
    struct conn *conn;
    struct dlist_node cnode;        /* in conn->queries */
    struct upstream_query *id_next; /* in conn->by_id */
    uint16_t id;
    bool written;
    bool answered;       /* its connection delivered an answer to it (this try) */
    bool nudged;         /* sent again on its connection in this try (upstream-conn.c) */
    uint64_t pair_gen;   /* its connection's pair_gen when followed, else 0 */
    uint64_t written_in; /* the loop iteration + 1 it was last written in */
    unsigned empty_resends;
    unsigned tries;
    unsigned start; /* round_robin: where this query's rounds begin */
    uint32_t tried; /* bitmask of upstreams tried in this round */
    int64_t sent_at;
    struct loop_timer timer;
    bool moving_resend;
    bool got_servfail;            /* some upstream answered SERVFAIL, REFUSED or the like */
    struct upstream_query *rnext; /* while moving off a failed connection */
    /* In the pool's wait queue (every connection it may use is full);
     * has waited at all (counted once). */
    bool waiting, waited;
    struct dlist_node wait_node;
};

/* What a connection reports to the pool; upstream.c decides what follows,
 * so these arrows point one way (STYLE.md, "one knot"). */
struct conn_events {
    /* A prewarm connection is done (ready or failed). */
    void (*warmed)(struct conn *c);
    /* One of up's connections is gone (its memory lives on until the end
     * of this loop iteration, and so may up's). */
    void (*closed)(struct upstream *up);
    /* A query left a connection: there is room for a waiting one. */
    void (*room)(struct upstream_pool *p);
};

struct upstream_pool {
    struct loop *loop;
    const struct config *cfg;
    struct tls_ctx *tls;
    const struct conn_events *ev;
    struct upstream *ups[CONFIG_MAX_UPSTREAMS];
    size_t n_ups;
    struct upstream *retired; /* still draining connections, by next_retired */
    bool freeing;
    unsigned rr_next;
    unsigned fastest_count;
    unsigned warming; /* prewarm connections not finished yet */
    struct loop_timer warm_timer;
    void (*on_warm)(void *);
    void *warm_userdata;
    struct upstream_stats stats;
    struct loop_timer cert_timer; /* the certificate expiry check */
    int answered_by;              /* see upstream_pool_answered_by() */
    /* Queries waiting for room on a connection, oldest first (query_wait). */
    struct dlist wait; /* of upstream_query.wait_node */
    unsigned n_waiting;
    struct upstream_query *dispatching; /* pool_on_dispatch's query: waits again at the head */
    struct loop_timer wait_timer;       /* runs pool_on_dispatch once there is room */
    /* Connections with queries to send, flushed together once this loop
     * iteration's events are handled (conn_flush_soon). */
    struct conn *flush_list;
    struct loop_timer flush_timer;
    uint16_t id_buf[32]; /* random query IDs, used from the end */
    unsigned ids_left;
    struct freelist spare_queries; /* finished queries, for the next ones */
};

#define CONN_OF_IO(io)       ((struct conn *)((char *)(io)-offsetof(struct conn, io)))
#define CONN_OF_TIMER(t)     ((struct conn *)((char *)(t)-offsetof(struct conn, timer)))
#define CONN_OF_NUDGE(t)     ((struct conn *)((char *)(t)-offsetof(struct conn, nudge_timer)))
#define CONN_OF_READ_TASK(t) ((struct conn *)((char *)(t)-offsetof(struct conn, read_task)))
#define UPSTREAM_OF_TIMER(t)                                                                       \
    ((struct upstream *)((char *)(t)-offsetof(struct upstream, probe_timer)))
#define WAITING_QUERY(node) DLIST_ENTRY(node, struct upstream_query, wait_node)
#define CONN_QUERY(node)    DLIST_ENTRY(node, struct upstream_query, cnode)
#define QUERY_OF_TIMER(t)                                                                          \
    ((struct upstream_query *)((char *)(t)-offsetof(struct upstream_query, timer)))
#define POOL_OF_FLUSH_TIMER(t)                                                                     \
    ((struct upstream_pool *)((char *)(t)-offsetof(struct upstream_pool, flush_timer)))
#define POOL_OF_WAIT_TIMER(t)                                                                      \
    ((struct upstream_pool *)((char *)(t)-offsetof(struct upstream_pool, wait_timer)))

/* upstream-conn.c */
struct conn *conn_open(struct upstream *up, bool plain);
void conn_close(struct conn *c);
/* The connection failed: back off (unless the server just closed it) and
 * move its queries on. */
void conn_fail(struct conn *c, const char *why, bool upstream_fault);
/* Writes what is buffered; a failed write fails the connection from the
 * loop, once what the server sent is read. Returns true. */
bool conn_flush(struct conn *c);
/* Flushes c once the events of this loop iteration are handled, with
 * whatever else was queued on it meanwhile: the queries a batch of events
 * started leave in one write per connection. */
void conn_flush_soon(struct conn *c);
void conn_attach(struct conn *c, struct upstream_query *q);
void query_detach(struct upstream_query *q);
/* Encodes q into its connection's write buffer; -ENOBUFS when that is full. */
int query_write(struct upstream_query *q);
/* A try on c timed out (its query already detached): fails c when an answer
 * has stood half-read since MIN_TRY_MS or longer. */
void conn_try_timed_out(struct conn *c);
/* q was just written on c (ready): it is followed for a pairs sample as
 * the first question of a pair when c follows none, or as the second when
 * it is the other question of the first's lookup (conn_pair_open); only
 * once c has answered before (a new connection's first answers wait
 * behind its session tickets, which says nothing about pairs), and not
 * once the upstream is known apart. */
void conn_follow_pair(struct conn *c, struct upstream_query *q);
/* Whether q would be the second of the pair c follows: c follows one
 * question, written in this iteration, for q's name with the other type. */
bool conn_pair_open(const struct conn *c, const struct upstream_query *q);

/* upstream.c */
void query_finish(struct upstream_query *q, int error, const struct dns_msg *msg);
void query_next_try(struct upstream_query *q, int error);
/* What a connection reports about its upstream; upstream.c decides what
 * follows (health, backoff, the log line of a state change). */
/* The connection is set up (TCP, and TLS unless plain). */
void upstream_conn_ready(struct upstream *up, struct conn *c);
/* It failed through the upstream's fault (not a server's ordinary close);
 * validation: the certificate or pin check failed. */
void upstream_conn_failed(struct upstream *up, const char *why, bool validation);
/* An answer to a query sent rtt ms before; failed: SERVFAIL-like. */
void upstream_answered(struct upstream *up, int64_t rtt, bool failed);
/* Questions written together were all answered, the last gap_us after the
 * first. */
void upstream_pair_sample(struct upstream *up, int64_t gap_us);

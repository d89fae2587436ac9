/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * upstream.c: pooled, pipelined DNS-over-TLS connections with failover.
 *
 * A query makes "tries": each try picks an upstream by the selection policy
 * among those it has not tried in this round (upstreams in backoff last,
 * unroutable ones never), puts the query on a connection of that upstream
 * (a new connection only when the open ones are full and the pool allows),
 * and arms a per-try timer. The try ends with an answer, a failure of the
 * connection, a SERVFAIL-like rcode or the timer; then the next try starts,
 * up to attempts rounds over the list, never past the query's deadline.
 * The connections themselves are upstream-conn.c.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dname.h"
#include "log.h"
#include "upstream-int.h"

static void pool_on_warm(struct loop_timer *t) {
    struct upstream_pool *p =
        (struct upstream_pool *)((char *)t - offsetof(struct upstream_pool, warm_timer));
    void (*cb)(void *) = p->on_warm;
    p->on_warm = NULL;
    if (cb)
        cb(p->warm_userdata);
}

/* A prewarm connection is done (ready or failed). */
void conn_warmed(struct conn *c) {
    struct upstream_pool *p = c->pool;
    if (!c->warming)
        return;
    c->warming = false;
    if (--p->warming == 0 && p->on_warm)
        loop_timer_at(p->loop, &p->warm_timer, loop_now(p->loop), pool_on_warm);
}

static void query_free(struct upstream_query *q) {
    loop_timer_cancel(q->pool->loop, &q->timer);
    query_detach(q);
    free(q);
}

void query_finish(struct upstream_query *q, int error, const struct dns_msg *msg) {
    upstream_cb cb = q->cb;
    void *ud = q->userdata;
    if (error)
        q->pool->stats.failures++;
    else
        q->pool->stats.answers++;
    query_free(q);
    cb(ud, error, msg);
}

void upstream_query_cancel(struct upstream_query *q) {
    if (q)
        query_free(q);
}

static void upstream_on_probe(struct loop_timer *t) {
    struct upstream *up = UPSTREAM_OF_TIMER(t);
    /* One connection in the background: its handshake clears the backoff,
     * its failure doubles it (and schedules the next probe). */
    if (!up->conns)
        conn_open(up, false);
}

void upstream_backoff(struct upstream *up) {
    struct upstream_pool *p = up->pool;
    up->backoff_ms = up->backoff_ms ? up->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (up->backoff_ms > BACKOFF_MAX_MS)
        up->backoff_ms = BACKOFF_MAX_MS;
    up->backoff_until = loop_now(p->loop) + up->backoff_ms;
    loop_timer_at(p->loop, &up->probe_timer, up->backoff_until, upstream_on_probe);
}

void upstream_healthy(struct upstream *up) {
    up->backoff_ms = 0;
    up->backoff_until = 0;
    loop_timer_cancel(up->pool->loop, &up->probe_timer);
}

/* Can a packet to this upstream leave the host at all? A connected UDP
 * socket asks the routing table without sending anything. Cached until the
 * network changes. */
static bool upstream_routable(struct upstream *up) {
    /* "No route" is checked again now and then: netlink may be unavailable
     * (a sandbox), and a network that comes up must be noticed anyway. */
    if (up->routable == 0 && loop_now(up->pool->loop) - up->routable_at >= ROUTE_RECHECK_MS)
        up->routable = -1;
    if (up->routable < 0) {
        int fd = socket(up->cfg->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        up->routable = 1;
        if (fd >= 0) {
            if (connect(fd, (const struct sockaddr *)&up->cfg->addr, up->cfg->addr_len) < 0 &&
                (errno == ENETUNREACH || errno == EHOSTUNREACH || errno == EADDRNOTAVAIL))
                up->routable = 0;
            close(fd);
        }
        if (!up->routable) {
            /* Said once, not at every re-check. */
            if (!up->routable_at)
                log_info("upstream %s: no route, not used until there is one", up->cfg->address);
            up->routable_at = loop_now(up->pool->loop);
        } else {
            up->routable_at = 0;
        }
    }
    return up->routable == 1;
}

void upstream_measured(struct upstream *up, int64_t rtt) {
    unsigned ms = rtt < 1 ? 1 : rtt > 60000 ? 60000 : (unsigned)rtt;
    up->srtt_ms = up->srtt_ms ? (7 * up->srtt_ms + ms) / 8 : ms;
}

static bool upstream_usable(struct upstream *up) {
    return up->backoff_until <= loop_now(up->pool->loop);
}

/* Picks the next upstream for q in this round; -1 when the round is over. */
static int pick_upstream(struct upstream_query *q) {
    struct upstream_pool *p = q->pool;
    enum dot_selection sel = p->cfg->selection;
    bool explore = false;
    if (sel == DOT_SELECT_FASTEST && q->tried == 0)
        explore = ++p->fastest_count % FASTEST_PROBE_EVERY == 0;
    for (int pass = 0; pass < 2; pass++) {
        int best = -1;
        unsigned n_candidates = 0;
        for (size_t k = 0; k < p->n_ups; k++) {
            size_t i = sel == DOT_SELECT_ROUND_ROBIN ? (q->start + k) % p->n_ups : k;
            struct upstream *up = &p->ups[i];
            if ((q->tried & (1u << i)) || !upstream_routable(up))
                continue;
            if (pass == 0 && !upstream_usable(up))
                continue;
            if (sel != DOT_SELECT_FASTEST)
                return (int)i;
            /* fastest: lowest smoothed RTT; now and then a random other one,
             * so that a recovered upstream can show it is fast again. */
            n_candidates++;
            if (explore ? arc4random_uniform(n_candidates) == 0
                        : (best < 0 || up->srtt_ms < p->ups[best].srtt_ms))
                best = (int)i;
        }
        if (best >= 0)
            return best;
    }
    return -1;
}

/* A connection with room, preferring ready ones; a new one only when all are full. */
static struct conn *pick_conn(struct upstream_pool *p, struct upstream *up) {
    struct conn *best = NULL;
    for (struct conn *c = up->conns; c; c = c->next) {
        if (c->n_queries >= p->cfg->pool.max_inflight)
            continue;
        if (!best || (c->state == CONN_READY && best->state != CONN_READY) ||
            (c->state == best->state && c->n_queries < best->n_queries))
            best = c;
    }
    if (best)
        return best;
    if (up->n_conns < p->cfg->pool.connections_per_upstream)
        return conn_open(up, false);
    return NULL;
}

static void query_on_timer(struct loop_timer *t) {
    struct upstream_query *q = QUERY_OF_TIMER(t);
    struct conn *c = q->conn;
    if (c && q->written && c->up->srtt_ms)
        upstream_measured(c->up, loop_now(q->pool->loop) - q->sent_at);
    query_detach(q);
    if (c)
        conn_try_timed_out(c);
    query_next_try(q, -ETIMEDOUT);
}

void query_next_try(struct upstream_query *q, int error) {
    struct upstream_pool *p = q->pool;
    int64_t now = loop_now(p->loop);
    unsigned max_tries = p->cfg->timeouts.attempts * (unsigned)p->n_ups;
    for (;;) {
        if (now >= q->deadline) {
            query_finish(q, -ETIMEDOUT, NULL);
            return;
        }
        if (q->tries >= max_tries) {
            /* -EIO only when an upstream answered SERVFAIL or the like:
             * the resolver's search list goes on after that, not after
             * unreachable or silent upstreams. */
            query_finish(q, q->got_servfail ? -EIO : error ? error : -ETIMEDOUT, NULL);
            return;
        }
        int i = pick_upstream(q);
        if (i < 0 && q->tried) {
            q->tried = 0; /* next round */
            i = pick_upstream(q);
        }
        if (i < 0) {
            query_finish(q, -ENETUNREACH, NULL); /* nothing routable at all */
            return;
        }
        q->tries++;
        q->tried |= 1u << i;
        struct conn *c = pick_conn(p, &p->ups[i]);
        if (!c) {
            error = -EBUSY;
            continue;
        }
        conn_attach(c, q);
        int w = c->state == CONN_READY ? query_write(q) : 0;
        if (w < 0) {
            query_detach(q);
            error = w;
            /* The server has not read what we sent for a long while. */
            if (w == -ENOBUFS)
                conn_fail(c, "the server stopped reading", true);
            continue;
        }
        unsigned left = max_tries - q->tries + 1;
        int64_t per_try = (q->deadline - now) / left;
        if (per_try < MIN_TRY_MS)
            per_try = MIN_TRY_MS;
        int64_t when = now + per_try < q->deadline ? now + per_try : q->deadline;
        loop_timer_at(p->loop, &q->timer, when, query_on_timer);
        /* A failing flush moves q on by itself (conn_fail): don't touch q after. */
        if (c->state == CONN_READY)
            conn_flush(c);
        return;
    }
}

int upstream_query_start(struct upstream_pool *p, const uint8_t *qname, uint16_t qtype,
                         int64_t deadline, upstream_cb cb, void *userdata,
                         struct upstream_query **ret_query) {
    if (p->n_ups == 0)
        return -ENETUNREACH;
    struct upstream_query *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->pool = p;
    memcpy(q->name, qname, dname_wire_len(qname));
    q->qtype = qtype;
    q->deadline = deadline;
    q->cb = cb;
    q->userdata = userdata;
    q->start = p->rr_next++ % (unsigned)p->n_ups;
    p->stats.queries++;
    *ret_query = q;
    /* The callback may run before we return (nothing routable); the caller
     * must be ready for that. */
    query_next_try(q, 0);
    return 0;
}

static void pool_prewarm(struct upstream_pool *p) {
    if (!p->cfg->pool.prewarm)
        return;
    for (size_t i = 0; i < p->n_ups; i++)
        if (!p->ups[i].conns && upstream_routable(&p->ups[i])) {
            struct conn *c = conn_open(&p->ups[i], false);
            if (c) {
                c->warming = true;
                p->warming++;
            }
        }
}

void upstream_pool_when_warm(struct upstream_pool *p, void (*on_warm)(void *), void *userdata) {
    p->on_warm = on_warm;
    p->warm_userdata = userdata;
    if (p->warming == 0)
        loop_timer_at(p->loop, &p->warm_timer, loop_now(p->loop), pool_on_warm);
}

int upstream_pool_new(struct loop *l, const struct config *cfg, struct tls_ctx *tls,
                      struct upstream_pool **ret_pool) {
    struct upstream_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->loop = l;
    p->cfg = cfg;
    p->tls = tls;
    p->n_ups = cfg->n_upstreams;
    for (size_t i = 0; i < p->n_ups; i++) {
        const struct config_upstream *u = &cfg->upstreams[i];
        struct upstream *up = &p->ups[i];
        up->pool = p;
        up->cfg = u;
        up->index = (unsigned)i;
        up->routable = -1;
        up->peer = (struct tls_peer){
            .auth_name = u->auth_name,
            .pins = (const uint8_t(*)[32])u->pins,
            .n_pins = u->n_pins,
            .opportunistic = cfg->mode == DOT_MODE_OPPORTUNISTIC,
            .session = &up->session,
        };
    }
    pool_prewarm(p);
    *ret_pool = p;
    return 0;
}

void upstream_pool_free(struct upstream_pool *p) {
    if (!p)
        return;
    for (size_t i = 0; i < p->n_ups; i++) {
        struct upstream *up = &p->ups[i];
        while (up->conns) {
            struct conn *c = up->conns;
            while (c->queries)
                query_free(c->queries);
            conn_close(c);
        }
        loop_timer_cancel(p->loop, &up->probe_timer);
        tls_session_free(up->session);
    }
    loop_timer_cancel(p->loop, &p->warm_timer);
    free(p);
}

void upstream_pool_network_changed(struct upstream_pool *p) {
    log_info("network changed: re-checking upstreams");
    for (size_t i = 0; i < p->n_ups; i++) {
        struct upstream *up = &p->ups[i];
        upstream_healthy(up);
        up->routable = -1;
        up->routable_at = 0;
        up->learned_idle_ms = 0;
        for (struct conn *c = up->conns, *next; c; c = next) {
            next = c->next;
            if (c->n_queries == 0)
                conn_close(c);
        }
    }
    pool_prewarm(p);
}

void upstream_pool_stats(const struct upstream_pool *p, struct upstream_stats *ret_stats) {
    *ret_stats = p->stats;
}

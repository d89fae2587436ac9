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
 * The connections themselves are upstream-conn.c, which reports what
 * happens to them through pool_conn_events.
 *
 * A reload keeps the upstreams whose identity did not change (their
 * connections, session, backoff and RTT) and retires the others: a retired
 * upstream takes no new query, its connections close as they go idle, and
 * it goes with the last one.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config-diff.h"
#include "dname.h"
#include "log.h"
#include "upstream-int.h"

static void query_on_timer(struct loop_timer *t);

static void pool_on_warm(struct loop_timer *t) {
    struct upstream_pool *p =
        (struct upstream_pool *)((char *)t - offsetof(struct upstream_pool, warm_timer));
    void (*cb)(void *) = p->on_warm;
    p->on_warm = NULL;
    if (cb)
        cb(p->warm_userdata);
}

/* A prewarm connection is done (ready or failed). */
static void conn_warmed(struct conn *c) {
    struct upstream_pool *p = c->pool;
    if (!c->warming)
        return;
    c->warming = false;
    if (--p->warming == 0 && p->on_warm)
        loop_timer_at(p->loop, &p->warm_timer, loop_now(p->loop), pool_on_warm);
}

/* --- the wait queue ----------------------------------------------------------------
 *
 * A query for which every connection the pool may use is full (max_inflight
 * on each of connections_per_upstream, for every usable upstream) waits,
 * oldest first, instead of failing: a burst larger than the pool (a
 * program with a thousand threads) is answered as fast as the pipelines
 * drain, each query still bounded by its deadline (its timer keeps
 * running). A query that leaves a connection makes room; the queue is
 * served from the loop (pool_on_dispatch), never from inside the
 * connection code that made the room. What one local user may put here is
 * bounded before it gets here (clients.lookups_per_user, resolver.c). */

static void query_unwait(struct upstream_query *q) {
    struct upstream_pool *p = q->pool;
    if (!q->waiting)
        return;
    dlist_remove(&p->wait, &q->wait_node);
    q->waiting = false;
    p->n_waiting--;
}

/* Queues q (at the tail; at the head when it is the query pool_on_dispatch
 * took from there and found no room for) until its deadline. */
static void query_wait(struct upstream_query *q) {
    struct upstream_pool *p = q->pool;
    q->waiting = true;
    p->n_waiting++;
    if (!q->waited)
        p->stats.waited++;
    q->waited = true;
    if (p->dispatching == q)
        dlist_push_head(&p->wait, &q->wait_node);
    else
        dlist_push_tail(&p->wait, &q->wait_node);
    loop_timer_at(p->loop, &q->timer, q->deadline, query_on_timer);
}

static void pool_on_dispatch(struct loop_timer *t) {
    struct upstream_pool *p = POOL_OF_WAIT_TIMER(t);
    while (p->wait.head) {
        struct upstream_query *q = WAITING_QUERY(p->wait.head);
        query_unwait(q);
        p->dispatching = q;
        query_next_try(q, 0); /* may finish (and free) q: query_free clears dispatching */
        bool again = p->dispatching && q->waiting;
        p->dispatching = NULL;
        if (again)
            break; /* still no room: it waits again, first in line */
    }
}

/* A query left a connection, or a connection closed: serve the queue from
 * the loop. */
static void pool_room(struct upstream_pool *p) {
    if (p->n_waiting && !loop_timer_armed(&p->wait_timer))
        loop_timer_at(p->loop, &p->wait_timer, loop_now(p->loop), pool_on_dispatch);
}

static void query_free(struct upstream_query *q) {
    /* Its memory may be the next query's (freelist.h): that one is not
     * the query being dispatched. */
    if (q->pool->dispatching == q)
        q->pool->dispatching = NULL;
    loop_timer_cancel(q->pool->loop, &q->timer);
    query_unwait(q);
    query_detach(q);
    freelist_put(&q->pool->spare_queries, q);
}

void query_finish(struct upstream_query *q, int error, const struct dns_msg *msg) {
    struct upstream_pool *p = q->pool;
    upstream_cb cb = q->cb;
    void *ud = q->userdata;
    int by = !error && q->conn ? (int)q->conn->up->index : -1;
    if (error)
        p->stats.failures++;
    else
        p->stats.answers++;
    query_free(q);
    p->answered_by = by;
    cb(ud, error, msg);
    p->answered_by = -1;
}

int upstream_pool_answered_by(const struct upstream_pool *p) {
    return p->answered_by;
}

void upstream_query_cancel(struct upstream_query *q) {
    if (q)
        query_free(q);
}

static void upstream_on_probe(struct loop_timer *t) {
    struct upstream *up = UPSTREAM_OF_TIMER(t);
    /* One connection in the background: its handshake clears the backoff,
     * its failure doubles it (and schedules the next probe). */
    if (!up->conns && !up->retired)
        conn_open(up, false);
}

static void upstream_backoff(struct upstream *up) {
    struct upstream_pool *p = up->pool;
    if (up->retired)
        return; /* never used again: nothing to probe */
    up->backoff_ms = up->backoff_ms ? up->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (up->backoff_ms > BACKOFF_MAX_MS)
        up->backoff_ms = BACKOFF_MAX_MS;
    up->backoff_until = loop_now(p->loop) + up->backoff_ms;
    loop_timer_at(p->loop, &up->probe_timer, up->backoff_until, upstream_on_probe);
}

static void upstream_healthy(struct upstream *up) {
    up->backoff_ms = 0;
    up->backoff_until = 0;
    loop_timer_cancel(up->pool->loop, &up->probe_timer);
}

/* The one log line of a change to "up". */
static void upstream_now_up(struct upstream *up, const char *how) {
    if (up->state != UPSTREAM_UP)
        log_info("upstream %s port %u: up (%s)", up->cfg->address, up->cfg->port, how);
    up->state = UPSTREAM_UP;
    upstream_healthy(up);
}

/* Warns once a day while the last certificate seen expires within
 * UPSTREAM_CERT_WARN_S: an administrator learns of it before strict mode
 * starts refusing the server. */
static void upstream_check_cert(struct upstream *up) {
    int64_t now = loop_now(up->pool->loop);
    if (up->cert_not_after == 0)
        return;
    int64_t left = up->cert_not_after - (int64_t)time(NULL);
    if (left > UPSTREAM_CERT_WARN_S)
        return;
    if (up->cert_warned_at != INT64_MIN && now - up->cert_warned_at < 86400 * 1000LL)
        return;
    up->cert_warned_at = now;
    char when[32] = "?";
    time_t t = (time_t)up->cert_not_after;
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
    if (left <= 0)
        log_warnx("upstream %s port %u: certificate expired on %s", up->cfg->address, up->cfg->port,
                  when);
    else
        log_warnx("upstream %s port %u: certificate expires on %s, in %lld day(s)",
                  up->cfg->address, up->cfg->port, when, (long long)(left / 86400));
}

#define CERT_CHECK_MS (3600 * 1000)

static void pool_on_cert_timer(struct loop_timer *t) {
    struct upstream_pool *p =
        (struct upstream_pool *)((char *)t - offsetof(struct upstream_pool, cert_timer));
    for (size_t i = 0; i < p->n_ups; i++)
        upstream_check_cert(p->ups[i]);
    loop_timer_at(p->loop, &p->cert_timer, loop_now(p->loop) + CERT_CHECK_MS, pool_on_cert_timer);
}

void upstream_conn_ready(struct upstream *up, struct conn *c) {
    if (c->tls) {
        struct tls_conn_info ti;
        tls_conn_get_info(c->tls, &ti);
        bool resumed = tls_conn_resumed(c->tls);
        snprintf(up->tls_version, sizeof(up->tls_version), "%s", ti.version);
        if (ti.not_after)
            up->cert_not_after = ti.not_after;
        if (!resumed)
            up->pin = ti.pin; /* a resumed session keeps the pin it was made with */
        up->st.handshakes++;
        up->st.resumed += resumed;
        if (tls_conn_auth_failed(c->tls)) /* opportunistic: goes on unauthenticated */
            up->st.validation_failures++;
        upstream_check_cert(up);
    }
    upstream_now_up(up, c->tls ? up->tls_version : "plain TCP port 53");
}

void upstream_conn_failed(struct upstream *up, const char *why, bool validation) {
    snprintf(up->last_error, sizeof(up->last_error), "%s", why);
    up->st.validation_failures += validation;
    upstream_backoff(up);
    /* One line per change of state; the failures of the probes that
     * follow say nothing new above debug. */
    if (up->state != UPSTREAM_BACKOFF)
        log_warnx("upstream %s port %u: %s%s; down, next try in %u s", up->cfg->address,
                  up->cfg->port, why, validation ? " (validation failure)" : "",
                  up->backoff_ms / 1000);
    else
        log_debug("upstream %s port %u: %s; still down, next try in %u s", up->cfg->address,
                  up->cfg->port, why, up->backoff_ms / 1000);
    up->state = UPSTREAM_BACKOFF;
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

static void upstream_measured(struct upstream *up, int64_t rtt) {
    unsigned ms = rtt < 1 ? 1 : rtt > 60000 ? 60000 : (unsigned)rtt;
    up->srtt_ms = up->srtt_ms ? (7 * up->srtt_ms + ms) / 8 : ms;
}

void upstream_answered(struct upstream *up, int64_t rtt, bool failed) {
    up->st.answers++;
    up->st.failures += failed;
    up->rtt_ring[up->rtt_next] = (uint16_t)(rtt < 0 ? 0 : rtt > 60000 ? 60000 : rtt);
    up->rtt_next = (up->rtt_next + 1) % UPSTREAM_RTT_RING;
    if (up->rtt_count < UPSTREAM_RTT_RING)
        up->rtt_count++;
    int ms = up->rtt_ring[(up->rtt_next + UPSTREAM_RTT_RING - 1) % UPSTREAM_RTT_RING];
    if (up->rtt_next == 0) { /* wrapped: the floor of the last ring, so it can rise */
        up->rtt_floor_ms = ms;
        for (unsigned i = 0; i < UPSTREAM_RTT_RING; i++)
            if (up->rtt_ring[i] < up->rtt_floor_ms)
                up->rtt_floor_ms = up->rtt_ring[i];
    } else if (up->rtt_floor_ms < 0 || ms < up->rtt_floor_ms) {
        up->rtt_floor_ms = ms;
    }
    upstream_measured(up, rtt);
    upstream_now_up(up, up->tls_version[0] ? up->tls_version : "plain TCP port 53");
}

static const char *const pairs_name[] = {
    [PAIRS_LEARNING] = "learning",
    [PAIRS_TOGETHER] = "together",
    [PAIRS_APART] = "apart",
};

void upstream_pair_sample(struct upstream *up, int64_t gap_us) {
    int64_t limit = up->rtt_floor_ms > 0 ? (int64_t)up->rtt_floor_ms * 1000 / 2 : 0;
    if (limit < PAIR_APART_MIN_US)
        limit = PAIR_APART_MIN_US;
    up->pair_bits = (uint8_t)(up->pair_bits << 1 | (gap_us >= limit));
    if (up->pair_seen < PAIR_WINDOW)
        up->pair_seen++;
    unsigned apart = (unsigned)__builtin_popcount(up->pair_bits & ((1u << up->pair_seen) - 1));
    enum upstream_pairs was = up->pairs;
    if (up->pairs != PAIRS_APART &&
        apart >= (up->pairs == PAIRS_LEARNING ? PAIR_APART_LEARNING : PAIR_APART_TOGETHER))
        up->pairs = PAIRS_APART;
    else if (up->pairs == PAIRS_LEARNING && up->pair_seen == PAIR_WINDOW && apart <= 1)
        up->pairs = PAIRS_TOGETHER;
    if (up->pairs != was)
        log_info("upstream %s: answers a lookup's two questions %s (%u of the last %u pairs "
                 "apart): %s",
                 up->cfg->address, pairs_name[up->pairs], apart, up->pair_seen,
                 up->pairs == PAIRS_TOGETHER ? "they share a connection"
                                             : "they go on two connections");
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
            struct upstream *up = p->ups[i];
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
                        : (best < 0 || up->srtt_ms < p->ups[best]->srtt_ms))
                best = (int)i;
        }
        if (best >= 0)
            return best;
    }
    return -1;
}

/* Where a question goes when the server's pairs say so: once it answers
 * questions sent together together, the ready connection with room that
 * carries the most (the questions of a batch of events leave in one write,
 * and their answers come in one read); while that is being learned, the
 * ready one that took the other question of q's lookup in this loop
 * iteration, to make a pair to learn from. NULL: as pick_conn decides. */
static struct conn *pick_conn_paired(struct upstream_pool *p, struct upstream *up,
                                     const struct upstream_query *q) {
    struct conn *best = NULL;
    for (struct conn *c = up->conns; c; c = c->next) {
        if (c->state != CONN_READY || c->write_failed || c->n_queries >= p->cfg->pool.max_inflight)
            continue;
        if (up->pairs == PAIRS_LEARNING ? conn_pair_open(c, q)
                                        : !best || c->n_queries > best->n_queries)
            best = c;
    }
    return best;
}

/* A connection with room. Unless the server is known to answer questions
 * sent together together (pick_conn_paired), the ready one with the fewest
 * queries in flight, so that the A and the AAAA of a lookup go on two
 * connections when two are open (upstream.h: a server that leaves Nagle on
 * answers each connection's first question at once). When the best one
 * already carries a query and the pool allows another connection, one is
 * opened: for this query when no connection is ready yet (both handshakes
 * run at once), in the background when one is (a query waits for no
 * handshake). */
static struct conn *pick_conn(struct upstream_pool *p, struct upstream *up,
                              const struct upstream_query *q) {
    struct conn *best = up->pairs != PAIRS_APART ? pick_conn_paired(p, up, q) : NULL;
    if (best)
        return best;
    unsigned failing = 0; /* about to be failed (write_failed): no slot taken */
    for (struct conn *c = up->conns; c; c = c->next) {
        failing += c->write_failed;
        if (c->n_queries >= p->cfg->pool.max_inflight || c->write_failed)
            continue;
        if (!best || (c->state == CONN_READY && best->state != CONN_READY) ||
            (c->state == best->state && c->n_queries < best->n_queries))
            best = c;
    }
    bool may_open = up->n_conns - failing < p->cfg->pool.connections_per_upstream;
    if (best && (best->n_queries == 0 || !may_open))
        return best;
    if (!best || best->state != CONN_READY) {
        struct conn *c = may_open ? conn_open(up, false) : NULL;
        return c ? c : best;
    }
    (void)conn_open(up, false);
    return best;
}

static void query_on_timer(struct loop_timer *t) {
    struct upstream_query *q = QUERY_OF_TIMER(t);
    if (q->waiting) { /* its deadline passed in the queue */
        query_unwait(q);
        query_finish(q, -ETIMEDOUT, NULL);
        return;
    }
    struct conn *c = q->conn;
    if (c && q->written && c->up->srtt_ms)
        upstream_measured(c->up, loop_now(q->pool->loop) - q->sent_at);
    if (c)
        c->up->st.failures++;
    query_detach(q);
    if (c)
        conn_try_timed_out(c);
    query_next_try(q, -ETIMEDOUT);
}

void query_next_try(struct upstream_query *q, int error) {
    struct upstream_pool *p = q->pool;
    int64_t now = loop_now(p->loop);
    unsigned max_tries = p->cfg->timeouts.attempts * (unsigned)p->n_ups;
    uint32_t full = 0; /* upstreams found with every connection full in this call */
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
        struct conn *c = pick_conn(p, p->ups[i], q);
        if (!c && !p->ups[i]->conns) { /* none could be opened: nothing to wait for */
            error = -EIO;
            continue;
        }
        if (!c) {
            /* Full: costs no try. Another upstream may have room; when
             * none has, wait for room (the queue above). */
            q->tries--;
            if (full & (1u << i)) {
                q->tried &= ~full;
                query_wait(q);
                return;
            }
            full |= 1u << i;
            continue;
        }
        conn_attach(c, q);
        p->ups[i]->st.queries++;
        int w = c->state == CONN_READY ? query_write(q) : 0;
        if (w == 0 && c->state == CONN_READY)
            conn_follow_pair(c, q);
        if (w < 0) {
            query_detach(q);
            p->ups[i]->st.failures++;
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
        if (c->state == CONN_READY)
            conn_flush_soon(c);
        return;
    }
}

int upstream_query_start(struct upstream_pool *p, const uint8_t *qname, uint16_t qtype,
                         int64_t deadline, upstream_cb cb, void *userdata,
                         struct upstream_query **ret_query) {
    if (p->n_ups == 0)
        return -ENETUNREACH;
    struct upstream_query *q = freelist_get(&p->spare_queries);
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

/* Prewarm opens PREWARM_CONNS connections per routable upstream (fewer when
 * connections_per_upstream says so), both handshakes at once, so the start
 * costs no more time than one: a lookup is two questions (A and AAAA), and
 * against a server that leaves Nagle on (upstream.h) each is answered in
 * one round trip only when it is the first on its connection. */
#define PREWARM_CONNS 2u

static void pool_prewarm(struct upstream_pool *p) {
    if (!p->cfg->pool.prewarm)
        return;
    unsigned want = p->cfg->pool.connections_per_upstream < PREWARM_CONNS
                        ? p->cfg->pool.connections_per_upstream
                        : PREWARM_CONNS;
    for (size_t i = 0; i < p->n_ups; i++) {
        struct upstream *up = p->ups[i];
        if (up->n_conns >= want || !upstream_routable(up))
            continue;
        while (up->n_conns < want) {
            struct conn *c = conn_open(up, false);
            if (!c)
                break;
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

static void upstream_free(void *ptr) {
    struct upstream *up = ptr;
    tls_session_free(up->session);
    free(up->conf.auth_name);
    free(up);
}

/* A new upstream for u (copied, so that it outlives the config), with no
 * connection yet. */
static int upstream_new(struct upstream_pool *p, const struct config_upstream *u,
                        bool opportunistic, struct upstream **ret_up) {
    struct upstream *up = calloc(1, sizeof(*up));
    if (!up)
        return -ENOMEM;
    up->conf = *u;
    up->conf.auth_name = NULL;
    if (u->auth_name && !(up->conf.auth_name = strdup(u->auth_name))) {
        free(up);
        return -ENOMEM;
    }
    up->pool = p;
    up->cfg = &up->conf;
    up->routable = -1;
    up->pin = -1;
    up->rtt_floor_ms = -1;
    up->cert_warned_at = INT64_MIN;
    up->peer = (struct tls_peer){
        .auth_name = up->conf.auth_name,
        .pins = (const uint8_t(*)[32])up->conf.pins,
        .n_pins = up->conf.n_pins,
        .opportunistic = opportunistic,
        .session = &up->session,
    };
    *ret_up = up;
    return 0;
}

/* Closes what up still has (queries cancelled) and frees it now. */
static void upstream_destroy(struct upstream *up) {
    struct upstream_pool *p = up->pool;
    while (up->conns) {
        struct conn *c = up->conns;
        while (c->queries.head)
            query_free(CONN_QUERY(c->queries.head));
        conn_close(c);
    }
    loop_timer_cancel(p->loop, &up->probe_timer);
    upstream_free(up);
}

/* A connection of up is gone: a retired upstream goes with its last one. */
static void conn_closed(struct upstream *up) {
    struct upstream_pool *p = up->pool;
    if (!p->freeing)
        pool_room(p); /* a new connection may be opened in its place */
    if (!up->retired || up->conns || p->freeing)
        return;
    for (struct upstream **pp = &p->retired; *pp; pp = &(*pp)->next_retired)
        if (*pp == up) {
            *pp = up->next_retired;
            break;
        }
    log_debug("upstream %s port %u: the last connection the reload left is closed",
              up->cfg->address, up->cfg->port);
    /* The connection's caller may still look at up in this iteration. */
    loop_defer_free(p->loop, upstream_free, up);
}

static const struct conn_events pool_conn_events = {
    .warmed = conn_warmed,
    .closed = conn_closed,
    .room = pool_room,
};

int upstream_pool_new(struct loop *l, const struct config *cfg, struct tls_ctx *tls,
                      struct upstream_pool **ret_pool) {
    struct upstream_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->loop = l;
    p->cfg = cfg;
    p->tls = tls;
    p->ev = &pool_conn_events;
    freelist_init(&p->spare_queries, sizeof(struct upstream_query), FREELIST_KEEP);
    for (size_t i = 0; i < cfg->n_upstreams; i++) {
        int r =
            upstream_new(p, &cfg->upstreams[i], cfg->mode == DOT_MODE_OPPORTUNISTIC, &p->ups[i]);
        if (r < 0) {
            upstream_pool_free(p);
            return r;
        }
        p->ups[i]->index = (unsigned)i;
        p->n_ups = i + 1;
    }
    p->answered_by = -1;
    loop_timer_at(l, &p->cert_timer, loop_now(l) + CERT_CHECK_MS, pool_on_cert_timer);
    pool_prewarm(p);
    *ret_pool = p;
    return 0;
}

void upstream_pool_free(struct upstream_pool *p) {
    if (!p)
        return;
    p->freeing = true;
    for (size_t i = 0; i < p->n_ups; i++)
        upstream_destroy(p->ups[i]);
    while (p->retired) {
        struct upstream *up = p->retired;
        p->retired = up->next_retired;
        upstream_destroy(up);
    }
    while (p->wait.head)
        query_free(WAITING_QUERY(p->wait.head));
    loop_timer_cancel(p->loop, &p->warm_timer);
    loop_timer_cancel(p->loop, &p->cert_timer);
    loop_timer_cancel(p->loop, &p->wait_timer);
    loop_timer_cancel(p->loop, &p->flush_timer);
    freelist_clear(&p->spare_queries);
    free(p);
}

/* q's "tried" bits and round-robin start, renumbered for the new list. */
static void query_renumber(struct upstream_query *q, const int old_to_new[CONFIG_MAX_UPSTREAMS],
                           size_t n_ups) {
    uint32_t tried = 0;
    for (unsigned i = 0; i < CONFIG_MAX_UPSTREAMS; i++)
        if ((q->tried & (1u << i)) && old_to_new[i] >= 0)
            tried |= 1u << old_to_new[i];
    q->tried = tried;
    q->start %= (unsigned)n_ups;
}

/* A reload dropped up: it takes no new query; what it carries finishes (or
 * fails over) on its connections, each closed once it has nothing in
 * flight, and the upstream goes with its last one. */
static void upstream_retire(struct upstream_pool *p, struct upstream *up) {
    up->retired = true;
    up->index = UPSTREAM_RETIRED_INDEX;
    loop_timer_cancel(p->loop, &up->probe_timer);
    up->next_retired = p->retired;
    p->retired = up;
    unsigned busy = 0;
    for (struct conn *c = up->conns; c; c = c->next)
        busy += c->n_queries;
    if (busy)
        log_info("upstream %s port %u: removed by the reload; its connections close once the "
                 "%u quer%s in flight %s done",
                 up->cfg->address, up->cfg->port, busy, busy == 1 ? "y" : "ies",
                 busy == 1 ? "is" : "are");
    else
        log_info("upstream %s port %u: removed by the reload", up->cfg->address, up->cfg->port);
    for (struct conn *c = up->conns, *next; c; c = next) {
        next = c->next;
        if (c->n_queries == 0)
            conn_close(c); /* the last one frees up (deferred) */
    }
}

int upstream_pool_reload(struct upstream_pool *p, const struct config *cfg, struct tls_ctx *tls) {
    int new_to_old[CONFIG_MAX_UPSTREAMS], old_to_new[CONFIG_MAX_UPSTREAMS];
    struct upstream *ups[CONFIG_MAX_UPSTREAMS] = {NULL};
    /* The pool's upstreams were made from p->cfg, in its order. */
    config_match_upstreams(p->cfg, cfg, new_to_old);
    for (size_t i = 0; i < CONFIG_MAX_UPSTREAMS; i++)
        old_to_new[i] = -1;
    /* Everything that can fail first, so that a failure changes nothing. */
    for (size_t j = 0; j < cfg->n_upstreams; j++) {
        if (new_to_old[j] >= 0) {
            ups[j] = p->ups[new_to_old[j]];
            old_to_new[new_to_old[j]] = (int)j;
            continue;
        }
        int r = upstream_new(p, &cfg->upstreams[j], cfg->mode == DOT_MODE_OPPORTUNISTIC, &ups[j]);
        if (r < 0) {
            for (size_t k = 0; k < j; k++)
                if (new_to_old[k] < 0)
                    upstream_free(ups[k]);
            return r;
        }
    }
    /* Queries in flight keep going where they are; their bookkeeping of
     * which upstreams they tried follows the new numbering. */
    for (size_t i = 0; i < p->n_ups; i++)
        for (struct conn *c = p->ups[i]->conns; c; c = c->next)
            for (struct dlist_node *n = c->queries.head; n; n = n->next)
                query_renumber(CONN_QUERY(n), old_to_new, cfg->n_upstreams);
    for (struct upstream *up = p->retired; up; up = up->next_retired)
        for (struct conn *c = up->conns; c; c = c->next)
            for (struct dlist_node *n = c->queries.head; n; n = n->next)
                query_renumber(CONN_QUERY(n), old_to_new, cfg->n_upstreams);
    for (struct dlist_node *n = p->wait.head; n; n = n->next)
        query_renumber(WAITING_QUERY(n), old_to_new, cfg->n_upstreams);

    struct upstream *old[CONFIG_MAX_UPSTREAMS];
    size_t n_old = p->n_ups;
    memcpy(old, p->ups, sizeof(old));
    p->cfg = cfg;
    p->tls = tls;
    memcpy(p->ups, ups, sizeof(ups));
    p->n_ups = cfg->n_upstreams;
    p->rr_next %= (unsigned)p->n_ups;
    for (size_t j = 0; j < p->n_ups; j++) {
        struct upstream *up = p->ups[j];
        up->index = (unsigned)j;
        if (new_to_old[j] < 0) {
            log_info("upstream %s port %u: added by the reload", up->cfg->address, up->cfg->port);
            continue;
        }
        /* Written another way, maybe ("::1" and "0::1"): logs say it as now. */
        memcpy(up->conf.address, cfg->upstreams[j].address, sizeof(up->conf.address));
        log_info("upstream %s port %u: kept by the reload, with its %u connection(s)",
                 up->cfg->address, up->cfg->port, up->n_conns);
        /* Fewer connections allowed now: idle ones beyond go at once. */
        for (struct conn *c = up->conns, *next;
             c && up->n_conns > cfg->pool.connections_per_upstream; c = next) {
            next = c->next;
            if (c->n_queries == 0 && c->state == CONN_READY)
                conn_close(c);
        }
    }
    for (size_t i = 0; i < n_old; i++)
        if (old_to_new[i] < 0)
            upstream_retire(p, old[i]);
    pool_prewarm(p);
    pool_room(p); /* new upstreams or limits may take what waits */
    return 0;
}

void upstream_pool_network_changed(struct upstream_pool *p) {
    log_info("network changed: re-checking upstreams");
    for (size_t i = 0; i < p->n_ups; i++) {
        struct upstream *up = p->ups[i];
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
    ret_stats->waiting = p->n_waiting;
}

size_t upstream_pool_count(const struct upstream_pool *p) {
    return p->n_ups;
}

static int cmp_u16(const void *a, const void *b) {
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

int upstream_pool_info(const struct upstream_pool *p, size_t i, struct upstream_info *ret_info) {
    if (i >= p->n_ups)
        return -ENOENT;
    const struct upstream *up = p->ups[i];
    int64_t now = loop_now(p->loop);
    struct upstream_info *o = ret_info;
    *o = (struct upstream_info){
        .address = up->cfg->address,
        .port = up->cfg->port,
        .auth_name = up->cfg->auth_name,
        .n_pins = up->cfg->n_pins,
        .state = up->state,
        .srtt_ms = up->srtt_ms,
        .rtt_samples = up->rtt_count,
        .connections_open = up->n_conns,
        .queries = up->st.queries,
        .answers = up->st.answers,
        .failures = up->st.failures,
        .validation_failures = up->st.validation_failures,
        .handshakes = up->st.handshakes,
        .resumed = up->st.resumed,
        .cert_not_after = up->cert_not_after,
        .pin = up->pin,
        .pairs = pairs_name[up->pairs],
    };
    if (up->routable == 0)
        o->state = UPSTREAM_UNROUTABLE;
    else if (up->backoff_until > now) {
        o->state = UPSTREAM_BACKOFF;
        o->backoff_left_ms = up->backoff_until - now;
    } else if (o->state == UPSTREAM_BACKOFF)
        o->state = UPSTREAM_UNKNOWN; /* backoff over, not tried again yet */
    snprintf(o->last_error, sizeof(o->last_error), "%s", up->last_error);
    snprintf(o->tls_version, sizeof(o->tls_version), "%s", up->tls_version);
    if (up->rtt_count) {
        /* Nearest rank over a sorted copy of the ring. */
        uint16_t v[UPSTREAM_RTT_RING];
        memcpy(v, up->rtt_ring, up->rtt_count * sizeof(v[0]));
        qsort(v, up->rtt_count, sizeof(v[0]), cmp_u16);
        o->rtt_p50_ms = v[(up->rtt_count * 50 + 99) / 100 - 1];
        o->rtt_p99_ms = v[(up->rtt_count * 99 + 99) / 100 - 1];
    }
    return 0;
}

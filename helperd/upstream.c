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
 */
#include "upstream.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dname.h"
#include "log.h"

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
    char name[DNAME_MAX_TEXT + 2];
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

static void conn_fail(struct conn *c, const char *why, bool upstream_fault);
static void query_next_try(struct upstream_query *q, int error);
static void conn_on_io(struct loop_io *io, uint32_t revents);
static void conn_on_timer(struct loop_timer *t);
static struct conn *conn_open(struct upstream *up, bool plain);

#define CONN_OF_IO(io)   ((struct conn *)((char *)(io)-offsetof(struct conn, io)))
#define CONN_OF_TIMER(t) ((struct conn *)((char *)(t)-offsetof(struct conn, timer)))
#define UPSTREAM_OF_TIMER(t)                                                                       \
    ((struct upstream *)((char *)(t)-offsetof(struct upstream, probe_timer)))
#define QUERY_OF_TIMER(t)                                                                          \
    ((struct upstream_query *)((char *)(t)-offsetof(struct upstream_query, timer)))

/* --- connections ------------------------------------------------------------------------- */

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

/* How long an idle connection is kept: our limit, or sooner when the server
 * asked (keepalive) or has shown that it closes idle connections sooner. */
static int64_t conn_idle_ms(const struct conn *c) {
    int64_t ms = (int64_t)c->pool->cfg->pool.idle_timeout_s * 1000;
    if (c->keepalive_ms >= 0 && c->keepalive_ms < ms)
        ms = c->keepalive_ms;
    if (c->up->learned_idle_ms && c->up->learned_idle_ms < ms)
        ms = c->up->learned_idle_ms;
    return ms;
}

static void conn_went_idle(struct conn *c) {
    c->idle_since = loop_now(c->pool->loop);
    loop_timer_at(c->pool->loop, &c->timer, c->idle_since + conn_idle_ms(c), conn_on_timer);
}

static void query_detach(struct upstream_query *q) {
    struct conn *c = q->conn;
    if (!c)
        return;
    if (q->cprev)
        q->cprev->cnext = q->cnext;
    else
        c->queries = q->cnext;
    if (q->cnext)
        q->cnext->cprev = q->cprev;
    q->cnext = q->cprev = NULL;
    c->ids[q->id / 8] &= (uint8_t) ~(1u << (q->id % 8));
    c->n_queries--;
    q->conn = NULL;
    q->written = false;
    if (c->n_queries == 0 && c->state == CONN_READY && !c->dead)
        conn_went_idle(c);
}

static void query_free(struct upstream_query *q) {
    loop_timer_cancel(q->pool->loop, &q->timer);
    query_detach(q);
    free(q);
}

static void query_finish(struct upstream_query *q, int error, const struct dns_msg *msg) {
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

static void conn_close(struct conn *c) {
    struct upstream *up = c->up;
    conn_warmed(c);
    for (struct conn **pp = &up->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    up->n_conns--;
    c->pool->stats.connections_open--;
    loop_timer_cancel(c->pool->loop, &c->timer);
    int fd = c->io.fd;
    loop_io_del(c->pool->loop, &c->io);
    if (fd >= 0)
        close(fd);
    tls_conn_free(c->tls);
    c->tls = NULL;
    free(c->wbuf);
    c->wbuf = NULL;
    c->dead = true;
    /* Events for c may still be in this batch of the loop. */
    loop_defer_free(c->pool->loop, free, c);
}

/* Plain TCP or TLS, behind one interface. */
static enum tls_io conn_io_write(struct conn *c, const uint8_t *p, size_t len, size_t *ret_n) {
    if (c->tls)
        return tls_write(c->tls, p, len, ret_n);
    ssize_t n = send(c->io.fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
        *ret_n = (size_t)n;
        return TLS_IO_OK;
    }
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? TLS_IO_WANT_WRITE
                                                                     : TLS_IO_ERROR;
}

static enum tls_io conn_io_read(struct conn *c, uint8_t *p, size_t len, size_t *ret_n) {
    if (c->tls)
        return tls_read(c->tls, p, len, ret_n);
    ssize_t n = recv(c->io.fd, p, len, MSG_DONTWAIT);
    if (n > 0) {
        *ret_n = (size_t)n;
        return TLS_IO_OK;
    }
    if (n == 0)
        return TLS_IO_CLOSED;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? TLS_IO_WANT_READ
                                                                     : TLS_IO_ERROR;
}

static const char *conn_error(const struct conn *c) {
    return c->tls ? tls_conn_error(c->tls) : "connection lost";
}

static void conn_update_events(struct conn *c, bool want_write) {
    loop_io_mod(c->pool->loop, &c->io, EPOLLIN | (want_write ? EPOLLOUT : 0));
}

/* Writes what is buffered; false when the connection failed (and is gone). */
static bool conn_flush(struct conn *c) {
    size_t off = 0;
    bool want_write = false;
    while (off < c->wlen) {
        size_t n = 0;
        enum tls_io r = conn_io_write(c, c->wbuf + off, c->wlen - off, &n);
        if (r == TLS_IO_OK) {
            off += n;
            continue;
        }
        if (r == TLS_IO_WANT_WRITE || r == TLS_IO_WANT_READ) {
            want_write = r == TLS_IO_WANT_WRITE;
            break;
        }
        conn_fail(c, conn_error(c), false);
        return false;
    }
    if (off > 0) {
        memmove(c->wbuf, c->wbuf + off, c->wlen - off);
        c->wlen -= off;
    }
    /* WANT_READ: the read path flushes again once input came in. */
    conn_update_events(c, want_write);
    return true;
}

static int conn_append(struct conn *c, const uint8_t *msg, size_t len) {
    if (c->wlen + len + 2 > WBUF_MAX)
        return -ENOBUFS;
    if (c->wcap - c->wlen < len + 2) {
        size_t cap = c->wcap ? c->wcap : 1024;
        while (cap - c->wlen < len + 2)
            cap *= 2;
        uint8_t *b = realloc(c->wbuf, cap);
        if (!b)
            return -ENOMEM;
        c->wbuf = b;
        c->wcap = cap;
    }
    c->wbuf[c->wlen] = (uint8_t)(len >> 8);
    c->wbuf[c->wlen + 1] = (uint8_t)len;
    memcpy(c->wbuf + c->wlen + 2, msg, len);
    c->wlen += len + 2;
    return 0;
}

/* Encodes q into its connection's write buffer (once the connection is ready). */
static int query_write(struct upstream_query *q) {
    const struct config *cfg = q->pool->cfg;
    struct conn *c = q->conn;
    struct dns_query_opts opts = {
        .udp_size = EDNS_UDP_SIZE,
        .keepalive = true,
        /* Padding hides query sizes from an observer of the TLS stream;
         * it means nothing on a plain connection. */
        .pad_block = cfg->padding && c->tls ? 128 : 0,
    };
    uint8_t msg[512 + 128];
    int n = dns_build_query(msg, sizeof(msg), q->id, q->name, q->qtype, &opts);
    if (n < 0)
        return n;
    int r = conn_append(c, msg, (size_t)n);
    if (r == 0) {
        q->written = true;
        q->sent_at = loop_now(q->pool->loop);
        log_debug("query %s type %u id %u to %s (%s): %d bytes", q->name, q->qtype, q->id,
                  c->up->cfg->address, c->tls ? "tls" : "plain tcp", n);
    }
    return r;
}

static uint16_t conn_new_id(struct conn *c) {
    for (;;) {
        uint16_t id = (uint16_t)arc4random_uniform(65536);
        if (!(c->ids[id / 8] & (1u << (id % 8))))
            return id;
    }
}

static void conn_attach(struct conn *c, struct upstream_query *q) {
    q->conn = c;
    q->id = conn_new_id(c);
    c->ids[q->id / 8] |= (uint8_t)(1u << (q->id % 8));
    q->cnext = c->queries;
    q->cprev = NULL;
    if (c->queries)
        c->queries->cprev = q;
    c->queries = q;
    c->n_queries++;
    if (c->state == CONN_READY)
        loop_timer_cancel(c->pool->loop, &c->timer); /* not idle any more */
}

/* --- upstream health ------------------------------------------------------------------- */

static void upstream_on_probe(struct loop_timer *t) {
    struct upstream *up = UPSTREAM_OF_TIMER(t);
    /* One connection in the background: its handshake clears the backoff,
     * its failure doubles it (and schedules the next probe). */
    if (!up->conns)
        conn_open(up, false);
}

static void upstream_backoff(struct upstream *up) {
    struct upstream_pool *p = up->pool;
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

/* --- connection lifecycle -------------------------------------------------------------- */

static void conn_on_timer(struct loop_timer *t) {
    struct conn *c = CONN_OF_TIMER(t);
    if (c->state == CONN_READY) {
        log_debug("closing idle connection to %s", c->up->cfg->address);
        conn_close(c);
    } else {
        conn_fail(c, c->connect_err ? strerror(c->connect_err) : "connect/handshake timed out",
                  true);
    }
}

/* Opportunistic mode only: TLS could not be set up at all (not an
 * authentication failure), so the queries go in plain DNS over TCP. */
static struct conn *conn_fallback_plain(struct conn *c) {
    struct upstream *up = c->up;
    if (up->pool->cfg->mode != DOT_MODE_OPPORTUNISTIC || !c->tls || c->state == CONN_READY ||
        tls_conn_auth_failed(c->tls))
        return NULL;
    struct conn *plain = conn_open(up, true);
    if (!plain)
        return NULL;
    up->pool->stats.plain_fallbacks++;
    if (!up->warned_plain)
        log_warnx("upstream %s: TLS unavailable, using plain DNS over TCP port 53 "
                  "(opportunistic mode)",
                  up->cfg->address);
    up->warned_plain = true;
    return plain;
}

/* The connection is gone; what it carried moves on. A server closing an
 * established connection is normal: those queries go again to the same
 * upstream without counting a try (after a connection that answered
 * nothing, only a few times). Anything else is the upstream's fault: back it
 * off and fail over. */
static void conn_fail(struct conn *c, const char *why, bool upstream_fault) {
    struct upstream_pool *p = c->pool;
    struct upstream *up = c->up;
    bool server_closed = c->state == CONN_READY && !upstream_fault;
    struct conn *plain = conn_fallback_plain(c);
    if (server_closed) {
        log_debug("upstream %s closed a connection: %s", up->cfg->address, why);
        /* Closed while idle: learn to close before the server does. */
        if (c->n_queries == 0 && c->idle_since) {
            int64_t idle = (loop_now(p->loop) - c->idle_since) * 3 / 4;
            if (idle < conn_idle_ms(c))
                up->learned_idle_ms = idle < MIN_LEARNED_IDLE_MS ? MIN_LEARNED_IDLE_MS : idle;
        }
    } else if (!plain) {
        log_warnx("upstream %s port %u: %s", up->cfg->address, up->cfg->port, why);
        upstream_backoff(up);
    }
    struct upstream_query *moving = NULL;
    while (c->queries) {
        struct upstream_query *q = c->queries;
        bool resend = plain || (server_closed && q->written &&
                                (c->answered || q->empty_resends < MAX_EMPTY_RESENDS));
        if (resend && !plain && !c->answered)
            q->empty_resends++;
        query_detach(q);
        q->rnext = moving;
        q->moving_resend = resend;
        moving = q;
    }
    conn_close(c);
    while (moving) {
        struct upstream_query *q = moving;
        moving = q->rnext;
        if (plain && !plain->dead) {
            conn_attach(plain, q);
            continue;
        }
        if (q->moving_resend) {
            /* Same upstream again, and the try is not counted. */
            q->tries--;
            q->tried &= ~(1u << up->index);
        }
        query_next_try(q, -ECONNREFUSED);
    }
}

static struct conn *conn_open(struct upstream *up, bool plain) {
    struct upstream_pool *p = up->pool;
    const struct config_upstream *u = up->cfg;
    struct sockaddr_storage addr = u->addr;
    if (plain) {
        in_port_t port = htons(53);
        if (addr.ss_family == AF_INET)
            ((struct sockaddr_in *)&addr)->sin_port = port;
        else
            ((struct sockaddr_in6 *)&addr)->sin6_port = port;
    }
    int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) {
        log_warn("socket for upstream %s", u->address);
        return NULL;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct conn *c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return NULL;
    }
    c->pool = p;
    c->up = up;
    c->io.fd = -1;
    c->keepalive_ms = -1;
    c->state = CONN_CONNECTING;
    if ((!plain && tls_conn_new(p->tls, fd, &up->peer, &c->tls) < 0) ||
        loop_io_add(p->loop, &c->io, fd, EPOLLOUT, conn_on_io) < 0) {
        tls_conn_free(c->tls);
        free(c);
        close(fd);
        return NULL;
    }
    c->next = up->conns;
    up->conns = c;
    up->n_conns++;
    p->stats.connections_open++;
    loop_timer_at(p->loop, &c->timer, loop_now(p->loop) + p->cfg->timeouts.connect_ms,
                  conn_on_timer);
    if (connect(fd, (const struct sockaddr *)&addr, u->addr_len) < 0 && errno != EINPROGRESS) {
        /* Report through the loop so the caller's state stays simple. */
        c->connect_err = errno;
        loop_timer_at(p->loop, &c->timer, loop_now(p->loop), conn_on_timer);
    }
    return c;
}

static bool rcode_is_failure(uint16_t rcode) {
    return rcode != DNS_RCODE_NOERROR && rcode != DNS_RCODE_NXDOMAIN;
}

static void upstream_measured(struct upstream *up, int64_t rtt) {
    unsigned ms = rtt < 1 ? 1 : rtt > 60000 ? 60000 : (unsigned)rtt;
    up->srtt_ms = up->srtt_ms ? (7 * up->srtt_ms + ms) / 8 : ms;
}

static void conn_deliver(struct conn *c, const uint8_t *pkt, size_t len) {
    struct dns_msg m;
    if (dns_parse_response(pkt, len, &m) < 0) {
        conn_fail(c, "malformed DNS answer", true);
        return;
    }
    if (m.has_keepalive)
        c->keepalive_ms = (int64_t)m.keepalive_100ms * 100;
    struct upstream_query *q = c->queries;
    while (q && q->id != m.id)
        q = q->cnext;
    if (!q || !q->written || q->qtype != m.qtype || !dname_equal(q->name, m.qname)) {
        /* A late answer to a try that moved on, or not ours: not an error. */
        dns_msg_free(&m);
        return;
    }
    c->answered = true;
    upstream_healthy(c->up);
    upstream_measured(c->up, loop_now(c->pool->loop) - q->sent_at);
    log_debug("answer id %u from %s: rcode %u, %zu records", m.id, c->up->cfg->address, m.rcode,
              m.n_answers);
    if (rcode_is_failure(m.rcode) || m.tc) {
        dns_msg_free(&m);
        query_detach(q);
        q->got_servfail = true;
        query_next_try(q, -EIO);
        return;
    }
    query_finish(q, 0, &m);
    dns_msg_free(&m);
}

/* Reads and dispatches whole messages; false when the connection is gone. */
static bool conn_read(struct conn *c) {
    for (;;) {
        size_t n = 0;
        enum tls_io r = conn_io_read(c, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen, &n);
        if (r == TLS_IO_WANT_READ || r == TLS_IO_WANT_WRITE)
            return true;
        if (r == TLS_IO_CLOSED) {
            conn_fail(c, "closed by the server", false);
            return false;
        }
        if (r != TLS_IO_OK) {
            conn_fail(c, conn_error(c), false);
            return false;
        }
        c->rlen += n;
        while (c->rlen >= 2) {
            size_t mlen = ((size_t)c->rbuf[0] << 8) | c->rbuf[1];
            if (mlen < DNS_HEADER_LEN) {
                conn_fail(c, "malformed DNS message length", true);
                return false;
            }
            if (c->rlen < 2 + mlen)
                break;
            conn_deliver(c, c->rbuf + 2, mlen);
            /* A malformed answer fails the connection inside conn_deliver. */
            if (c->dead)
                return false;
            memmove(c->rbuf, c->rbuf + 2 + mlen, c->rlen - 2 - mlen);
            c->rlen -= 2 + mlen;
        }
    }
}

static void conn_ready(struct conn *c) {
    struct upstream *up = c->up;
    struct upstream_pool *p = c->pool;
    c->state = CONN_READY;
    loop_timer_cancel(p->loop, &c->timer);
    conn_warmed(c);
    if (c->tls) {
        p->stats.handshakes++;
        if (tls_conn_resumed(c->tls))
            p->stats.resumed++;
        if (tls_conn_auth_failed(c->tls)) {
            p->stats.unauthenticated++;
            if (!up->warned_unauth)
                log_warnx("upstream %s: %s; continuing unauthenticated (opportunistic mode)",
                          up->cfg->address, tls_conn_error(c->tls));
            up->warned_unauth = true;
        }
        up->warned_plain = false;
        log_debug("TLS to %s port %u established (%s%s)", up->cfg->address, up->cfg->port,
                  tls_conn_version(c->tls), tls_conn_resumed(c->tls) ? ", resumed" : "");
    } else {
        log_debug("plain TCP to %s port 53 established", up->cfg->address);
    }
    upstream_healthy(up);
    /* A query that can't be written (out of memory) moves on alone. */
    struct upstream_query *unwritten = NULL;
    for (struct upstream_query *q = c->queries, *next; q; q = next) {
        next = q->cnext;
        if (!q->written && query_write(q) < 0) {
            query_detach(q);
            q->rnext = unwritten;
            unwritten = q;
        }
    }
    if (c->n_queries == 0 && !c->dead)
        conn_went_idle(c);
    bool alive = conn_flush(c);
    while (unwritten) {
        struct upstream_query *q = unwritten;
        unwritten = q->rnext;
        query_next_try(q, -ENOMEM);
    }
    (void)alive;
}

static void conn_on_io(struct loop_io *io, uint32_t revents) {
    struct conn *c = CONN_OF_IO(io);
    if (c->state == CONN_CONNECTING) {
        int err = 0;
        socklen_t sl = sizeof(err);
        if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
            err = errno;
        if (err) {
            conn_fail(c, strerror(err), true);
            return;
        }
        if (!(revents & EPOLLOUT))
            return;
        if (!c->tls) {
            conn_ready(c);
            return;
        }
        c->state = CONN_HANDSHAKE;
    }
    if (c->state == CONN_HANDSHAKE) {
        enum tls_io r = tls_handshake(c->tls);
        if (r == TLS_IO_WANT_READ || r == TLS_IO_WANT_WRITE) {
            conn_update_events(c, r == TLS_IO_WANT_WRITE);
            return;
        }
        if (r != TLS_IO_OK) {
            conn_fail(c,
                      r == TLS_IO_CLOSED && !tls_conn_auth_failed(c->tls)
                          ? "closed during the TLS handshake"
                          : tls_conn_error(c->tls),
                      true);
            return;
        }
        conn_ready(c);
        return;
    }
    if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !conn_read(c))
        return;
    /* Also after a read: a TLS write may have been waiting for input. */
    if ((revents & EPOLLOUT) || c->wlen > 0)
        conn_flush(c);
}

/* --- choosing where a query goes -------------------------------------------------------- */

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
    query_next_try(q, -ETIMEDOUT);
}

static void query_next_try(struct upstream_query *q, int error) {
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

int upstream_query_start(struct upstream_pool *p, const char *name, uint16_t qtype,
                         int64_t deadline, upstream_cb cb, void *userdata,
                         struct upstream_query **ret_query) {
    if (p->n_ups == 0)
        return -ENETUNREACH;
    size_t n = strlen(name);
    if (n >= sizeof(((struct upstream_query *)0)->name))
        return -EINVAL;
    /* A name that can't be put in a query (a stray backslash escape) is
     * refused here, before it can cost anyone a connection. */
    uint8_t scratch[512 + 128];
    if (dns_build_query(scratch, sizeof(scratch), 0, name, qtype, NULL) < 0)
        return -EINVAL;
    struct upstream_query *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->pool = p;
    memcpy(q->name, name, n + 1);
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

/* --- the pool ------------------------------------------------------------------------------ */

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

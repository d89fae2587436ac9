/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * upstream.c: pooled, pipelined DNS-over-TLS connections with failover.
 *
 * A query makes "tries": each try picks the next upstream in list order that
 * it has not tried in this round (upstreams in backoff last), puts the query
 * on a connection of that upstream (opening one when all are busy and the
 * pool allows), and arms a per-try timer. The try ends with an answer, a
 * failure of the connection, a SERVFAIL-like rcode or the timer; then the
 * next try starts, up to attempts rounds over the list, never past the
 * query's deadline.
 */
#include "upstream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dname.h"
#include "log.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
#define MIN_TRY_MS     250
#define EDNS_UDP_SIZE  1232

enum conn_state { CONN_CONNECTING, CONN_HANDSHAKE, CONN_READY };

struct upstream {
    const struct config_upstream *cfg;
    struct tls_peer peer;
    struct conn *conns;
    unsigned n_conns;
    int64_t backoff_until;
    unsigned backoff_ms;
};

struct conn {
    struct upstream_pool *pool;
    struct upstream *up;
    struct conn *next;
    struct loop_io io;
    struct tls_conn *tls;
    enum conn_state state;
    struct loop_timer timer; /* connect+handshake deadline, then idle close */
    uint8_t *wbuf;
    size_t wlen, wcap;
    uint8_t rbuf[2 + DNS_MAX_MESSAGE];
    size_t rlen;
    struct upstream_query *queries; /* on this connection, sent or waiting for the handshake */
    unsigned n_queries;
    bool answered; /* has carried at least one answer */
    bool dead;     /* closed; memory freed after this loop iteration */
    int connect_err;
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
    bool resent; /* already sent again after a server closed under it */
    bool moving_resend;
    struct upstream_query *rnext; /* while moving off a failed connection */
    unsigned tries;
    uint32_t tried; /* bitmask of upstreams tried in this round */
    struct loop_timer timer;
};

struct upstream_pool {
    struct loop *loop;
    const struct config *cfg;
    struct tls_ctx *tls;
    struct upstream ups[CONFIG_MAX_UPSTREAMS];
    size_t n_ups;
    struct upstream_stats stats;
};

static void conn_fail(struct conn *c, const char *why, bool upstream_fault);
static void query_next_try(struct upstream_query *q, int error);
static void conn_on_io(struct loop_io *io, uint32_t revents);
static void conn_on_timer(struct loop_timer *t);

#define CONN_OF_IO(io)   ((struct conn *)((char *)(io)-offsetof(struct conn, io)))
#define CONN_OF_TIMER(t) ((struct conn *)((char *)(t)-offsetof(struct conn, timer)))
#define QUERY_OF_TIMER(t)                                                                          \
    ((struct upstream_query *)((char *)(t)-offsetof(struct upstream_query, timer)))

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
        p->ups[i].cfg = u;
        p->ups[i].peer = (struct tls_peer){
            .auth_name = u->auth_name,
            .pins = (const uint8_t(*)[32])u->pins,
            .n_pins = u->n_pins,
            .opportunistic = cfg->mode == DOT_MODE_OPPORTUNISTIC,
        };
    }
    *ret_pool = p;
    return 0;
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
    if (c->n_queries == 0 && c->state == CONN_READY)
        loop_timer_at(c->pool->loop, &c->timer,
                      loop_now(c->pool->loop) + (int64_t)c->pool->cfg->pool.idle_timeout_s * 1000,
                      conn_on_timer);
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

void upstream_pool_free(struct upstream_pool *p) {
    if (!p)
        return;
    for (size_t i = 0; i < p->n_ups; i++)
        while (p->ups[i].conns) {
            struct conn *c = p->ups[i].conns;
            while (c->queries)
                query_free(c->queries);
            conn_close(c);
        }
    free(p);
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
        enum tls_io r = tls_write(c->tls, c->wbuf + off, c->wlen - off, &n);
        if (r == TLS_IO_OK) {
            off += n;
            continue;
        }
        if (r == TLS_IO_WANT_WRITE || r == TLS_IO_WANT_READ) {
            want_write = r == TLS_IO_WANT_WRITE;
            break;
        }
        conn_fail(c, tls_conn_error(c->tls), false);
        return false;
    }
    memmove(c->wbuf, c->wbuf + off, c->wlen - off);
    c->wlen -= off;
    conn_update_events(c, want_write || c->wlen > 0);
    return true;
}

static int conn_append(struct conn *c, const uint8_t *msg, size_t len) {
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

/* Encodes q into c's write buffer (once the connection is ready). */
static int query_write(struct upstream_query *q) {
    const struct config *cfg = q->pool->cfg;
    struct dns_query_opts opts = {
        .udp_size = EDNS_UDP_SIZE,
        .keepalive = true,
        .pad_block = cfg->padding ? 128 : 0,
    };
    uint8_t msg[512 + 128];
    int n = dns_build_query(msg, sizeof(msg), q->id, q->name, q->qtype, &opts);
    if (n < 0)
        return n;
    int r = conn_append(q->conn, msg, (size_t)n);
    if (r == 0)
        q->written = true;
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

static void upstream_backoff(struct upstream_pool *p, struct upstream *up) {
    up->backoff_ms = up->backoff_ms ? up->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (up->backoff_ms > BACKOFF_MAX_MS)
        up->backoff_ms = BACKOFF_MAX_MS;
    up->backoff_until = loop_now(p->loop) + up->backoff_ms;
}

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

/* The connection is gone; what it carried moves on. A server closing an
 * established connection is normal: those queries go again, once, to the
 * same upstream without counting a try. Anything else is the upstream's
 * fault: back it off and fail over. */
static void conn_fail(struct conn *c, const char *why, bool upstream_fault) {
    struct upstream_pool *p = c->pool;
    struct upstream *up = c->up;
    bool server_closed = c->state == CONN_READY && !upstream_fault;
    if (server_closed) {
        log_debug("upstream %s closed a connection: %s", up->cfg->address, why);
    } else {
        log_warnx("upstream %s port %u: %s", up->cfg->address, up->cfg->port, why);
        upstream_backoff(p, up);
    }
    struct upstream_query *moving = NULL;
    while (c->queries) {
        struct upstream_query *q = c->queries;
        bool resend = server_closed && q->written && !q->resent;
        query_detach(q);
        q->resent |= resend;
        q->rnext = moving;
        q->moving_resend = resend;
        moving = q;
    }
    conn_close(c);
    while (moving) {
        struct upstream_query *q = moving;
        moving = q->rnext;
        if (q->moving_resend) {
            /* Same upstream again, and the try is not counted. */
            q->tries--;
            q->tried &= ~(1u << (up - p->ups));
        }
        query_next_try(q, -EIO);
    }
}

static struct conn *conn_open(struct upstream_pool *p, struct upstream *up) {
    const struct config_upstream *u = up->cfg;
    int fd = socket(u->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
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
    c->state = CONN_CONNECTING;
    if (tls_conn_new(p->tls, fd, &up->peer, &c->tls) < 0 ||
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
    if (connect(fd, (const struct sockaddr *)&u->addr, u->addr_len) < 0 && errno != EINPROGRESS) {
        /* Report through the loop so the caller's state stays simple. */
        c->connect_err = errno;
        loop_timer_at(p->loop, &c->timer, loop_now(p->loop), conn_on_timer);
    }
    return c;
}

static void conn_deliver(struct conn *c, const uint8_t *pkt, size_t len);

/* Reads and dispatches whole messages; false when the connection is gone. */
static bool conn_read(struct conn *c) {
    for (;;) {
        size_t n = 0;
        enum tls_io r = tls_read(c->tls, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen, &n);
        if (r == TLS_IO_WANT_READ || r == TLS_IO_WANT_WRITE)
            return true;
        if (r == TLS_IO_CLOSED) {
            conn_fail(c, "closed by the server", false);
            return false;
        }
        if (r != TLS_IO_OK) {
            conn_fail(c, tls_conn_error(c->tls), false);
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

static bool rcode_is_failure(uint16_t rcode) {
    return rcode != DNS_RCODE_NOERROR && rcode != DNS_RCODE_NXDOMAIN;
}

static void conn_deliver(struct conn *c, const uint8_t *pkt, size_t len) {
    struct dns_msg m;
    if (dns_parse_response(pkt, len, &m) < 0) {
        conn_fail(c, "malformed DNS answer", true);
        return;
    }
    struct upstream_query *q = c->queries;
    while (q && q->id != m.id)
        q = q->cnext;
    if (!q || !q->written || q->qtype != m.qtype || !dname_equal(q->name, m.qname)) {
        /* A late answer to a try that moved on, or not ours: not an error. */
        dns_msg_free(&m);
        return;
    }
    c->answered = true;
    c->up->backoff_ms = 0;
    if (rcode_is_failure(m.rcode) || m.tc) {
        log_debug("upstream %s answered rcode %u", c->up->cfg->address, m.rcode);
        dns_msg_free(&m);
        query_detach(q);
        query_next_try(q, -EIO);
        return;
    }
    query_finish(q, 0, &m);
    dns_msg_free(&m);
}

static void conn_ready(struct conn *c) {
    c->state = CONN_READY;
    c->pool->stats.handshakes++;
    c->up->backoff_ms = 0;
    c->up->backoff_until = 0;
    loop_timer_cancel(c->pool->loop, &c->timer);
    log_debug("TLS to %s port %u established (%s)", c->up->cfg->address, c->up->cfg->port,
              tls_conn_version(c->tls));
    for (struct upstream_query *q = c->queries; q; q = q->cnext)
        if (!q->written && query_write(q) < 0) {
            conn_fail(c, "out of memory", false);
            return;
        }
    if (c->n_queries == 0)
        loop_timer_at(c->pool->loop, &c->timer,
                      loop_now(c->pool->loop) + (int64_t)c->pool->cfg->pool.idle_timeout_s * 1000,
                      conn_on_timer);
    conn_flush(c);
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
                      tls_conn_auth_failed(c->tls) ? tls_conn_error(c->tls)
                      : r == TLS_IO_CLOSED         ? "closed during the TLS handshake"
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

static bool upstream_usable(struct upstream_pool *p, struct upstream *up) {
    return up->backoff_until <= loop_now(p->loop);
}

/* Picks the next upstream for q in this round; -1 when the round is over. */
static int pick_upstream(struct upstream_query *q) {
    struct upstream_pool *p = q->pool;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < p->n_ups; i++) {
            if (q->tried & (1u << i))
                continue;
            if (pass == 0 && !upstream_usable(p, &p->ups[i]))
                continue;
            return (int)i;
        }
    return -1;
}

static struct conn *pick_conn(struct upstream_pool *p, struct upstream *up) {
    struct conn *best = NULL;
    for (struct conn *c = up->conns; c; c = c->next) {
        if (c->n_queries >= p->cfg->pool.max_inflight)
            continue;
        if (!best || (c->state == CONN_READY && best->state != CONN_READY) ||
            (c->state == best->state && c->n_queries < best->n_queries))
            best = c;
    }
    if (best && (best->state == CONN_READY || up->n_conns >= p->cfg->pool.connections_per_upstream))
        return best;
    if (up->n_conns < p->cfg->pool.connections_per_upstream) {
        struct conn *c = conn_open(p, up);
        if (c)
            return c;
    }
    return best;
}

static void query_on_timer(struct loop_timer *t) {
    struct upstream_query *q = QUERY_OF_TIMER(t);
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
            query_finish(q, error ? error : -EIO, NULL);
            return;
        }
        int i = pick_upstream(q);
        if (i < 0) {
            q->tried = 0; /* next round */
            i = pick_upstream(q);
        }
        q->tries++;
        q->tried |= 1u << i;
        struct conn *c = pick_conn(p, &p->ups[i]);
        if (!c) {
            error = -EBUSY;
            continue;
        }
        conn_attach(c, q);
        if (c->state == CONN_READY && query_write(q) < 0) {
            query_detach(q);
            error = -ENOMEM;
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
    struct upstream_query *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->pool = p;
    memcpy(q->name, name, n + 1);
    q->qtype = qtype;
    q->deadline = deadline;
    q->cb = cb;
    q->userdata = userdata;
    p->stats.queries++;
    *ret_query = q;
    /* The callback may run before we return (no upstream usable at all);
     * the caller must be ready for that. */
    query_next_try(q, 0);
    return 0;
}

void upstream_pool_stats(const struct upstream_pool *p, struct upstream_stats *ret_stats) {
    *ret_stats = p->stats;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * upstream-conn.c: one upstream connection. Non-blocking connect, the TLS
 * handshake through tls.h (or plain TCP to port 53 when opportunistic mode
 * falls back), length-prefixed framing, pipelined queries with random IDs
 * unique on the connection, answers matched by ID and question, RFC 7828
 * keepalive and idle closing, and, when the connection fails, moving its
 * queries on (a server closing a connection is not the server's fault).
 * For servers that read one query at a time or leave Nagle on (upstream.h
 * says which and why): one TLS record per message, a nudge for a question
 * left behind, and every input ACKed at once.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dname.h"
#include "log.h"
#include "upstream-int.h"

static void conn_on_io(struct loop_io *io, uint32_t revents);
static void conn_on_timer(struct loop_timer *t);
static bool conn_read(struct conn *c, bool drain);

/* How long an idle connection is kept: our limit, or sooner when the server
 * asked (keepalive) or has shown that it closes idle connections sooner. */
static int64_t conn_idle_ms(const struct conn *c) {
    /* A reload dropped the upstream: nothing new comes, so idle is done. */
    if (c->up->retired)
        return 0;
    int64_t ms = (int64_t)c->pool->cfg->pool.idle_timeout_s * 1000;
    if (c->keepalive_ms >= 0 && c->keepalive_ms < ms)
        ms = c->keepalive_ms;
    if (c->up->learned_idle_ms && c->up->learned_idle_ms < ms)
        ms = c->up->learned_idle_ms;
    return ms;
}

static void conn_went_idle(struct conn *c) {
    if (c->write_failed)
        return; /* its timer fails it */
    c->idle_since = loop_now(c->pool->loop);
    loop_timer_at(c->pool->loop, &c->timer, c->idle_since + conn_idle_ms(c), conn_on_timer);
}

void query_detach(struct upstream_query *q) {
    struct conn *c = q->conn;
    if (!c)
        return;
    if (q->pair_gen && q->pair_gen == c->pair_gen)
        c->pair_left = 0; /* left unanswered: no sample from this pair */
    q->pair_gen = 0;
    /* An answer to it may still come: a nudge's second copy, or the
     * first one of a try that ends before it is answered. */
    if (q->written && (q->nudged || !q->answered))
        late_ids_hold(&c->late, q->id);
    dlist_remove(&c->queries, &q->cnode);
    for (struct upstream_query **pp = &c->by_id[q->id % CONN_ID_BUCKETS];; pp = &(*pp)->id_next)
        if (*pp == q) {
            *pp = q->id_next;
            break;
        }
    q->id_next = NULL;
    c->n_queries--;
    q->conn = NULL;
    q->written = false;
    if (c->pool->n_waiting)
        c->pool->ev->room(c->pool);
    if (c->n_queries == 0 && c->state == CONN_READY && !c->dead)
        conn_went_idle(c);
}

void conn_close(struct conn *c) {
    struct upstream *up = c->up;
    c->pool->ev->warmed(c);
    for (struct conn **pp = &up->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    up->n_conns--;
    c->pool->stats.connections_open--;
    loop_timer_cancel(c->pool->loop, &c->timer);
    loop_timer_cancel(c->pool->loop, &c->nudge_timer);
    loop_task_cancel(c->pool->loop, &c->read_task);
    if (c->flush_queued)
        for (struct conn **pp = &c->pool->flush_list; *pp; pp = &(*pp)->flush_next)
            if (*pp == c) {
                *pp = c->flush_next;
                break;
            }
    int fd = c->io.fd;
    loop_io_del(c->pool->loop, &c->io);
    tls_conn_free(c->tls); /* its close_notify, while the socket is open */
    c->tls = NULL;
    if (fd >= 0)
        close(fd);
    free(c->wbuf);
    c->wbuf = NULL;
    c->dead = true;
    /* Events for c may still be in this batch of the loop. */
    struct upstream_pool *p = c->pool;
    loop_defer_free(p->loop, free, c);
    p->ev->closed(up);
}

static void pool_on_flush(struct loop_timer *t) {
    struct upstream_pool *p = POOL_OF_FLUSH_TIMER(t);
    while (p->flush_list) {
        struct conn *c = p->flush_list;
        p->flush_list = c->flush_next;
        c->flush_queued = false;
        conn_flush(c); /* may fail c: it is off the list already */
    }
}

void conn_flush_soon(struct conn *c) {
    if (c->flush_queued)
        return;
    struct upstream_pool *p = c->pool;
    c->flush_queued = true;
    c->flush_next = p->flush_list;
    p->flush_list = c;
    if (!loop_timer_armed(&p->flush_timer))
        loop_timer_at(p->loop, &p->flush_timer, loop_now(p->loop), pool_on_flush);
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

/* Writes what is buffered, one DNS message per write: over TLS, one record
 * per message (upstream.h: a server may read no further into a record
 * than its first message), the records then sent together (tls_flush: one
 * system call for all the queries of a loop iteration, conn_flush_soon). A
 * write that has to be repeated is repeated with the same length, as
 * OpenSSL requires.
 * A failed write does not fail the connection here: a server that answers
 * and closes with our later queries unread resets the connection, and a
 * write sees the reset before a read sees the answer, which is still there
 * to read. The connection's timer, from the loop, reads what came and then
 * fails it. Returns true (the connection is still there). */
bool conn_flush(struct conn *c) {
    size_t off = 0;
    bool want_write = false;
    while (off < c->wlen && !c->write_failed) {
        /* Whole messages are appended (conn_append): a head is there. */
        if (c->whead == 0)
            c->whead = 2 + (((size_t)c->wbuf[off] << 8) | c->wbuf[off + 1]);
        size_t n = 0;
        enum tls_io r = conn_io_write(c, c->wbuf + off, c->whead, &n);
        if (r == TLS_IO_OK) {
            off += n;
            c->whead -= n;
            continue;
        }
        if (r == TLS_IO_WANT_WRITE || r == TLS_IO_WANT_READ) {
            want_write = r == TLS_IO_WANT_WRITE;
            break;
        }
        c->write_failed = true;
        loop_timer_at(c->pool->loop, &c->timer, loop_now(c->pool->loop), conn_on_timer);
    }
    if (c->tls && !c->write_failed && !want_write) {
        enum tls_io r = tls_flush(c->tls);
        if (r == TLS_IO_WANT_WRITE) {
            want_write = true;
        } else if (r != TLS_IO_OK) {
            c->write_failed = true;
            loop_timer_at(c->pool->loop, &c->timer, loop_now(c->pool->loop), conn_on_timer);
        }
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
    size_t max = (size_t)c->pool->cfg->pool.max_inflight * WBUF_PER_QUERY;
    if (c->wlen + len + 2 > (max < WBUF_MIN ? WBUF_MIN : max))
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
int query_write(struct upstream_query *q) {
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
        q->written_in = loop_iteration(q->pool->loop) + 1;
        if (log_get_level() >= LOG_LEVEL_DEBUG) {
            char text[DNAME_MAX_PRESENTATION];
            (void)dname_to_text(q->name, text, sizeof(text));
            log_debug("query %s type %u id %u to %s (%s): %d bytes", text, q->qtype, q->id,
                      c->up->cfg->address, c->tls ? "tls" : "plain tcp", n);
        }
    }
    return r;
}

/* A random ID (RFC 5452 section 4.3, though over TLS nobody off the path
 * could spoof an answer): from a pool-wide buffer filled by the TLS
 * library's DRBG, so that an ID costs no system call (glibc's arc4random
 * makes one per call). */
static uint16_t pool_random_id(struct upstream_pool *p) {
    if (p->ids_left == 0) {
        if (tls_random(p->id_buf, sizeof(p->id_buf)) < 0)
            return (uint16_t)arc4random_uniform(65536);
        p->ids_left = sizeof(p->id_buf) / sizeof(p->id_buf[0]);
    }
    return p->id_buf[--p->ids_left];
}

/* The query on c with this ID, or NULL. */
static struct upstream_query *conn_query_by_id(const struct conn *c, uint16_t id) {
    struct upstream_query *q = c->by_id[id % CONN_ID_BUCKETS];
    while (q && q->id != id)
        q = q->id_next;
    return q;
}

/* A random ID no query on c has (RFC 7766 section 7: unique per
 * connection) and none held back for a late answer (late-ids.h); at most
 * max_inflight + LATE_IDS_MAX of 65,536 are taken, so this ends at once. */
static uint16_t conn_new_id(struct conn *c) {
    for (;;) {
        uint16_t id = pool_random_id(c->pool);
        if (!late_ids_held(&c->late, id) && !conn_query_by_id(c, id))
            return id;
    }
}

void conn_attach(struct conn *c, struct upstream_query *q) {
    q->conn = c;
    q->nudged = false;
    q->answered = false;
    q->pair_gen = 0;
    q->id = conn_new_id(c);
    q->id_next = c->by_id[q->id % CONN_ID_BUCKETS];
    c->by_id[q->id % CONN_ID_BUCKETS] = q;
    dlist_push_tail(&c->queries, &q->cnode);
    c->n_queries++;
    if (c->state == CONN_READY && !c->write_failed)
        loop_timer_cancel(c->pool->loop, &c->timer); /* not idle any more */
}

static void conn_on_timer(struct loop_timer *t) {
    struct conn *c = CONN_OF_TIMER(t);
    if (c->write_failed) {
        /* What the server sent before it went first (conn_flush). */
        if (conn_read(c, true))
            conn_fail(c, conn_error(c), false);
        return;
    }
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
    /* The upstream's own mode: one that a reload dropped keeps its rules. */
    if (!up->peer.opportunistic || !c->tls || c->state == CONN_READY ||
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
void conn_fail(struct conn *c, const char *why, bool upstream_fault) {
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
        upstream_conn_failed(up, why, c->tls && tls_conn_auth_failed(c->tls));
    }
    struct upstream_query *moving = NULL;
    /* Newest first: moving ends up oldest first, and they go on in that order. */
    while (c->queries.tail) {
        struct upstream_query *q = CONN_QUERY(c->queries.tail);
        bool resend = plain || (server_closed && q->written &&
                                (c->answered || q->empty_resends < MAX_EMPTY_RESENDS));
        if (resend && !plain && !c->answered)
            q->empty_resends++;
        if (!resend)
            up->st.failures++; /* this try ends here */
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

struct conn *conn_open(struct upstream *up, bool plain) {
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

/* The nudge timer: every question written no later than the one answered
 * when the timer was armed, still unanswered and not nudged in this try,
 * goes again on this connection with the same ID (whichever copy is
 * answered first counts; the other answer finds no query and is dropped). */
static void conn_on_nudge(struct loop_timer *t) {
    struct conn *c = CONN_OF_NUDGE(t);
    if (c->dead || c->state != CONN_READY)
        return;
    unsigned n = 0;
    for (struct dlist_node *node = c->queries.head; node; node = node->next) {
        struct upstream_query *q = CONN_QUERY(node);
        if (!q->written || q->nudged || q->sent_at > c->nudge_before)
            continue;
        int64_t sent_at = q->sent_at; /* the answer time counts from the first copy */
        if (query_write(q) < 0)
            break; /* the buffer is full: the try timer still runs */
        q->sent_at = sent_at;
        q->nudged = true;
        n++;
    }
    if (n) {
        log_debug("upstream %s: %u question(s) unanswered while later ones were: sent again",
                  c->up->cfg->address, n);
        conn_flush(c);
    }
}

/* Answers came in this read, the latest to a question written at
 * c->answered_sent_at: a question written no later than that and still
 * unanswered gets a nudge after about one answer time, unless one is
 * pending already. Checked once the read is done, so that answers read
 * together (the A and the AAAA of a lookup) never arm it for each other. */
static void conn_check_stragglers(struct conn *c) {
    if (!c->read_answered)
        return;
    c->read_answered = false;
    if (loop_timer_armed(&c->nudge_timer))
        return;
    uint64_t gen = loop_iteration(c->pool->loop) + 1;
    for (struct dlist_node *node = c->queries.head; node; node = node->next) {
        struct upstream_query *q = CONN_QUERY(node);
        /* Written in this iteration (a retry after a SERVFAIL read here):
         * not answered late, not yet sent. */
        if (!q->written || q->nudged || q->written_in == gen)
            continue;
        /* The list is in the order of first writes, and a nudge keeps a
         * question's first sent_at: every question after this one was
         * written no earlier, so none of them is late either. */
        if (q->sent_at > c->answered_sent_at)
            return;
        int64_t wait = c->up->srtt_ms;
        wait = wait < NUDGE_MIN_MS ? NUDGE_MIN_MS : wait > NUDGE_MAX_MS ? NUDGE_MAX_MS : wait;
        c->nudge_before = c->answered_sent_at;
        loop_timer_at(c->pool->loop, &c->nudge_timer, loop_now(c->pool->loop) + wait,
                      conn_on_nudge);
        return;
    }
}

void conn_follow_pair(struct conn *c, struct upstream_query *q) {
    uint64_t gen = loop_iteration(c->pool->loop) + 1;
    if (!c->answered || c->up->pairs == PAIRS_APART)
        return;
    if (c->pair_left == 0) {
        c->pair_gen = gen;
        c->pair_n = 1;
        c->pair_left = 1;
        c->pair_first = q;
        c->pair_first_us = 0;
        q->pair_gen = gen;
    } else if (conn_pair_open(c, q)) {
        c->pair_n = 2;
        c->pair_left = 2;
        q->pair_gen = gen;
    }
}

bool conn_pair_open(const struct conn *c, const struct upstream_query *q) {
    /* pair_first is attached while pair_left is 1 (query_detach clears it). */
    return c->pair_left == 1 && c->pair_n == 1 &&
           c->pair_gen == loop_iteration(c->pool->loop) + 1 && c->pair_first != q &&
           c->pair_first->qtype != q->qtype && dname_wire_equal(c->pair_first->name, q->name);
}

/* q, followed, is answered: the last of its write gives the sample. */
static void conn_pair_answered(struct conn *c, struct upstream_query *q) {
    if (!q->pair_gen || q->pair_gen != c->pair_gen || c->pair_left == 0)
        return;
    q->pair_gen = 0;
    int64_t now = loop_now_us(c->pool->loop);
    if (!c->pair_first_us)
        c->pair_first_us = now;
    if (--c->pair_left == 0 && c->pair_n >= 2)
        upstream_pair_sample(c->up, now - c->pair_first_us);
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
    if (m.has_keepalive)
        c->keepalive_ms = (int64_t)m.keepalive_100ms * 100;
    struct upstream_query *q = conn_query_by_id(c, m.id);
    if (!q || !q->written) {
        /* A late answer (a try that moved on, a nudge's second copy;
         * its ID is held back, late-ids.h): not an error. */
        dns_msg_free(&m);
        return;
    }
    if (q->qtype != m.qtype || !dname_wire_equal(q->name, m.qname)) {
        /* Our ID on another question: the server is broken (over TLS nobody
         * else can speak). Never used; waiting would cost every query on this
         * connection a whole try, so fail over now. */
        dns_msg_free(&m);
        conn_fail(c, "answer for another question", true);
        return;
    }
    c->answered = true;
    q->answered = true;
    conn_pair_answered(c, q);
    if (!c->read_answered || q->sent_at > c->answered_sent_at)
        c->answered_sent_at = q->sent_at;
    c->read_answered = true;
    upstream_answered(c->up, loop_now(c->pool->loop) - q->sent_at,
                      rcode_is_failure(m.rcode) || m.tc);
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

/* ACK what came in now, not ~40 ms later: a server that leaves Nagle on
 * holds its next write until this ACK (upstream.h). The kernel drops
 * back to delayed ACKs by itself, so this is re-armed at every input that
 * may have something behind it: during the handshake, on a connection that
 * has not answered yet (session tickets come first), and while questions
 * are still unanswered. Once all are answered, nothing waits for the ACK:
 * it rides on the next query, or goes when the kernel's timer says. */
static void conn_ack_now(struct conn *c) {
    int one = 1;
    (void)setsockopt(c->io.fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

/* Whether one more answer fits in c's share of this loop iteration
 * (CONN_ANSWERS_PER_ITERATION). A share per connection, not one for the
 * pool: the loop's epoll reports ready connections in the same order each
 * time, and the first would take a shared one every time. */
static bool conn_take_answer(struct conn *c) {
    uint64_t gen = loop_iteration(c->pool->loop) + 1;
    if (c->answers_gen != gen) {
        c->answers_gen = gen;
        c->answers_left = CONN_ANSWERS_PER_ITERATION;
    }
    if (c->answers_left == 0)
        return false;
    c->answers_left--;
    return true;
}

static void conn_on_read_task(struct loop_task *t) {
    struct conn *c = CONN_OF_READ_TASK(t);
    if (c->answers_gen == loop_iteration(c->pool->loop) + 1 && c->answers_left == 0) {
        /* Its event came first in this iteration and took the share. */
        loop_post(c->pool->loop, &c->read_task, conn_on_read_task);
        return;
    }
    conn_on_io(&c->io, EPOLLIN);
}

/* Whether a whole message waits in c's read buffer. */
static bool conn_has_message(const struct conn *c) {
    return c->rlen >= 2 && c->rlen >= 2 + (((size_t)c->rbuf[0] << 8) | c->rbuf[1]);
}

/* Reads and dispatches whole messages; false when the connection is gone.
 * It stops once a read has left nothing behind in the TLS layer (or, plain,
 * took less than there was room for) rather than at a read that fails with
 * EAGAIN: the loop's epoll is level-triggered, so what arrives meanwhile
 * wakes it again, and the usual wakeup, one answer, costs one read. It
 * also stops at its share of the iteration's answers: the rest, read or not,
 * is posted for the next iteration (a burst of a thousand answers makes
 * no one else wait for all of them). drain: read until EAGAIN all the same,
 * every answer (a connection about to be failed). */
static bool conn_read(struct conn *c, bool drain) {
    bool more = true; /* the last read may have left something behind */
    for (;;) {
        while (c->rlen >= 2) {
            size_t mlen = ((size_t)c->rbuf[0] << 8) | c->rbuf[1];
            if (mlen < DNS_HEADER_LEN) {
                conn_fail(c, "malformed DNS message length", true);
                return false;
            }
            if (c->rlen < 2 + mlen)
                break;
            if (!drain && !conn_take_answer(c)) {
                /* The rest waits for the next iteration: a pair answered
                 * in it would look apart, and what is parked here is not
                 * unanswered (read_answered stays for the next read). */
                loop_post(c->pool->loop, &c->read_task, conn_on_read_task);
                c->pair_left = 0;
                return true;
            }
            conn_deliver(c, c->rbuf + 2, mlen);
            /* A malformed answer fails the connection inside conn_deliver. */
            if (c->dead)
                return false;
            memmove(c->rbuf, c->rbuf + 2 + mlen, c->rlen - 2 - mlen);
            c->rlen -= 2 + mlen;
        }
        if (!more) {
            conn_check_stragglers(c);
            return true;
        }
        size_t n = 0, room = sizeof(c->rbuf) - c->rlen;
        enum tls_io r = conn_io_read(c, c->rbuf + c->rlen, room, &n);
        if (r == TLS_IO_WANT_READ || r == TLS_IO_WANT_WRITE) {
            conn_check_stragglers(c);
            return true;
        }
        if (r == TLS_IO_CLOSED) {
            conn_fail(c, "closed by the server", false);
            return false;
        }
        if (r != TLS_IO_OK) {
            conn_fail(c, conn_error(c), false);
            return false;
        }
        c->rlen += n;
        c->last_read_at = loop_now(c->pool->loop);
        more = drain || (c->tls ? tls_pending(c->tls) : n == room);
    }
}

/* Silence alone is no fault (a recursive server may take longer than one
 * try for one name, and other answers may still come). But an answer begun
 * and left unfinished until a try ran out (and for MIN_TRY_MS at least) is a
 * broken server, and the stream is lost with it: nothing after it can be
 * framed. Left alone, the connection would stay ready and cost every later
 * query on it a whole try. */
void conn_try_timed_out(struct conn *c) {
    int64_t quiet = loop_now(c->pool->loop) - c->last_read_at;
    /* Whole answers parked for the next iteration are no half-read one. */
    if (c->dead || c->state != CONN_READY || c->rlen == 0 || quiet < MIN_TRY_MS ||
        c->read_task.posted_in || conn_has_message(c))
        return;
    char why[96];
    snprintf(why, sizeof(why), "no answer: %zu octets of one, then nothing for %lld ms", c->rlen,
             (long long)quiet);
    conn_fail(c, why, true);
}

static void conn_ready(struct conn *c) {
    struct upstream *up = c->up;
    struct upstream_pool *p = c->pool;
    c->state = CONN_READY;
    loop_timer_cancel(p->loop, &c->timer);
    p->ev->warmed(c);
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
    upstream_conn_ready(up, c);
    /* A query that can't be written (out of memory) moves on alone. */
    struct upstream_query *unwritten = NULL;
    for (struct dlist_node *node = c->queries.head, *next; node; node = next) {
        struct upstream_query *q = CONN_QUERY(node);
        next = node->next;
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
    if ((revents & EPOLLIN) && c->state != CONN_READY)
        conn_ack_now(c);
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
    if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !conn_read(c, false))
        return;
    if ((revents & EPOLLIN) && (c->n_queries > 0 || !c->answered))
        conn_ack_now(c);
    /* Also after a read: a TLS write may have been waiting for input. */
    if ((revents & EPOLLOUT) || c->wlen > 0)
        conn_flush(c);
}

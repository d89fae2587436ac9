/* SPDX-License-Identifier: GPL-2.0-or-later */
/* control.c: the control socket: accept, check the peer, read one request
 * line, run the command, write the reply, close. */
#include "control.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control-proto.h"
#include "dname.h"
#include "dlist.h"
#include "dns-wire.h"
#include "ipc.h"
#include "log.h"

/* dot-helperctl query lists at most this many addresses (a reply is
 * bounded; the count is always given). */
#define QUERY_MAX_LISTED 256

struct ctl_client {
    struct control *ctl;
    struct dlist_node node; /* in control.clients */
    struct loop_io io;
    struct loop_timer timer;
    char rbuf[CTL_MAX_REQUEST];
    size_t rlen;
    char *wbuf;
    size_t wlen, woff;
    struct resolver_job *job;
    struct resolver_trace trace;
    struct timespec t0;
    char qname[IPC_MAX_QUERY_NAME + 1];
    const char *qtype;
    bool watched;
};

struct control {
    struct loop *loop;
    struct resolver *resolver;
    struct upstream_pool *pool;
    struct control_hooks hooks;
    void *userdata;
    uid_t owner;
    struct loop_io listen_io;
    struct dlist clients; /* struct ctl_client, newest first */
    unsigned n_clients;
    int64_t started_ms;
    time_t started_at;
};

#define CLIENT_OF_IO(p)    ((struct ctl_client *)((char *)(p)-offsetof(struct ctl_client, io)))
#define CLIENT_OF_TIMER(p) ((struct ctl_client *)((char *)(p)-offsetof(struct ctl_client, timer)))
#define CONTROL_OF_IO(p)   ((struct control *)((char *)(p)-offsetof(struct control, listen_io)))

static void client_on_io(struct loop_io *io, uint32_t revents);
static void client_on_timer(struct loop_timer *t);

static void client_free_mem(void *p) {
    struct ctl_client *c = p;
    free(c->wbuf);
    free(c);
}

/* Reads away what the peer sent and we did not read (a refused client's
 * request, bytes after the request): a Unix socket closed with unread data
 * resets the peer, which would then lose the reply we just sent. Bounded. */
static void drain(int fd) {
    char junk[4096];
    for (int i = 0; i < 16; i++)
        if (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) <= 0)
            break;
}

static void client_close(struct ctl_client *c) {
    struct control *ctl = c->ctl;
    resolver_cancel(c->job);
    c->job = NULL;
    loop_timer_cancel(ctl->loop, &c->timer);
    if (c->io.fd >= 0)
        drain(c->io.fd);
    loop_io_close(ctl->loop, &c->io);
    dlist_remove(&ctl->clients, &c->node);
    ctl->n_clients--;
    loop_defer_free(ctl->loop, client_free_mem, c);
}

static bool client_watch(struct ctl_client *c, uint32_t events) {
    int r = c->watched ? loop_io_mod(c->ctl->loop, &c->io, events)
                       : loop_io_add(c->ctl->loop, &c->io, c->io.fd, events, client_on_io);
    if (r < 0) {
        client_close(c);
        return false;
    }
    c->watched = true;
    return true;
}

/* Sends what is left of the reply; closes the client once it is out. */
static void client_write(struct ctl_client *c) {
    while (c->woff < c->wlen) {
        ssize_t n =
            send(c->io.fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            client_watch(c, EPOLLOUT);
            return;
        }
        if (n < 0)
            break;
        c->woff += (size_t)n;
    }
    client_close(c);
}

/* Takes the reply text (copied) and starts sending it, within CONTROL_IO_MS. */
static void client_reply(struct ctl_client *c, const char *text, size_t len) {
    c->wbuf = malloc(len);
    if (!c->wbuf) {
        client_close(c);
        return;
    }
    memcpy(c->wbuf, text, len);
    c->wlen = len;
    c->woff = 0;
    loop_timer_at(c->ctl->loop, &c->timer, loop_now(c->ctl->loop) + CONTROL_IO_MS, client_on_timer);
    client_write(c);
}

static void client_error(struct ctl_client *c, enum ctl_error code, const char *msg) {
    char buf[CTL_MAX_STATUS + 64];
    struct ctl_reply_builder b;
    ctl_reply_begin(&b, buf, sizeof(buf));
    size_t n = ctl_reply_error(&b, code, "%s", msg);
    client_reply(c, buf, n);
}

static void client_ok(struct ctl_client *c) {
    static const char ok[] = "ok\n";
    client_reply(c, ok, sizeof(ok) - 1);
}

/* --- stats ------------------------------------------------------------------------- */

static const char *state_name(enum upstream_state s) {
    switch (s) {
    case UPSTREAM_UP:
        return "up";
    case UPSTREAM_BACKOFF:
        return "backoff";
    case UPSTREAM_UNROUTABLE:
        return "unroutable";
    default:
        return "unknown";
    }
}

static void add_stats(struct control *ctl, struct ctl_reply_builder *b) {
    struct control_daemon_info di = {0};
    ctl->hooks.daemon_info(ctl->userdata, &di);
    ctl_reply_add(b, "version", "%s", PACKAGE_VERSION);
    ctl_reply_add(b, "pid", "%ld", (long)getpid());
    ctl_reply_add(b, "started_at", "%lld", (long long)ctl->started_at);
    ctl_reply_add(b, "uptime_s", "%lld",
                  (long long)((loop_now(ctl->loop) - ctl->started_ms) / 1000));
    ctl_reply_add(b, "config.file", "%s", di.config_path ? di.config_path : "");
    ctl_reply_add(b, "config.loaded_at", "%lld", (long long)di.config_loaded_at);
    ctl_reply_add(b, "mode", "%s", di.mode ? di.mode : "");
    struct loop_stats ls;
    loop_get_stats(ctl->loop, &ls);
    ctl_reply_add(b, "loop.iterations", "%llu", (unsigned long long)ls.iterations);
    ctl_reply_add(b, "loop.busy_us", "%llu", (unsigned long long)ls.busy_us);
    ctl_reply_add(b, "loop.longest_us", "%lld", (long long)ls.longest_us);
    ctl_reply_add(b, "loop.over_1ms", "%llu", (unsigned long long)ls.over_1ms);
    ctl_reply_add(b, "loop.over_10ms", "%llu", (unsigned long long)ls.over_10ms);
    ctl_reply_add(b, "clients.now", "%u", di.clients.clients);
    ctl_reply_add(b, "clients.max", "%u", di.clients.max_clients);
    ctl_reply_add(b, "clients.users", "%zu", di.clients.users);
    ctl_reply_add(b, "clients.shed_per_user", "%llu", (unsigned long long)di.clients.shed_per_user);
    ctl_reply_add(b, "clients.shed_full", "%llu", (unsigned long long)di.clients.shed_full);
    ctl_reply_add(b, "clients.evicted", "%llu", (unsigned long long)di.clients.evicted);
    ctl_reply_add(b, "clients.timed_out", "%llu", (unsigned long long)di.clients.timed_out);

    struct resolver_stats rs;
    resolver_get_stats(ctl->resolver, &rs);
    ctl_reply_add(b, "lookups", "%llu", (unsigned long long)rs.lookups);
    ctl_reply_add(b, "cache.entries", "%zu", rs.cache_entries);
    ctl_reply_add(b, "cache.hits", "%llu", (unsigned long long)rs.cache_hits);
    ctl_reply_add(b, "cache.misses", "%llu", (unsigned long long)rs.cache_misses);
    ctl_reply_add(b, "cache.stale_served", "%llu", (unsigned long long)rs.stale_served);
    ctl_reply_add(b, "cache.coalesced", "%llu", (unsigned long long)rs.coalesced);
    ctl_reply_add(b, "clients.queued_lookups", "%llu", (unsigned long long)rs.queued_fetches);
    ctl_reply_add(b, "cache.upstream_queries", "%llu", (unsigned long long)rs.upstream_queries);
    /* The map's hits never reach the daemon: what it sees is what it
     * published and why lookups still came to the socket. */
    static const char *const asked[] = {"map.asked_plain", "map.asked_miss", "map.asked_expired",
                                        "map.asked_busy", "map.asked_invalid"};
    ctl_reply_add(b, "map.enabled", "%d", rs.map ? 1 : 0);
    ctl_reply_add(b, "map.slots", "%zu", rs.map_slots);
    ctl_reply_add(b, "map.entries", "%zu", rs.map_entries);
    ctl_reply_add(b, "map.published", "%llu", (unsigned long long)rs.map_published);
    ctl_reply_add(b, "map.too_big", "%llu", (unsigned long long)rs.map_too_big);
    ctl_reply_add(b, "map.resets", "%llu", (unsigned long long)rs.map_resets);
    for (size_t i = 0; i < sizeof(asked) / sizeof(asked[0]); i++)
        ctl_reply_add(b, asked[i], "%llu", (unsigned long long)rs.asked[i]);

    struct upstream_stats ps;
    upstream_pool_stats(ctl->pool, &ps);
    ctl_reply_add(b, "pool.queries", "%llu", (unsigned long long)ps.queries);
    ctl_reply_add(b, "pool.answers", "%llu", (unsigned long long)ps.answers);
    ctl_reply_add(b, "pool.failures", "%llu", (unsigned long long)ps.failures);
    ctl_reply_add(b, "pool.connections", "%llu", (unsigned long long)ps.connections_open);
    ctl_reply_add(b, "pool.handshakes", "%llu", (unsigned long long)ps.handshakes);
    ctl_reply_add(b, "pool.resumptions", "%llu", (unsigned long long)ps.resumed);
    ctl_reply_add(b, "pool.unauthenticated", "%llu", (unsigned long long)ps.unauthenticated);
    ctl_reply_add(b, "pool.plain_fallbacks", "%llu", (unsigned long long)ps.plain_fallbacks);
    ctl_reply_add(b, "pool.waited", "%llu", (unsigned long long)ps.waited);
    ctl_reply_add(b, "pool.waiting", "%llu", (unsigned long long)ps.waiting);

    size_t n = upstream_pool_count(ctl->pool);
    ctl_reply_add(b, "upstreams", "%zu", n);
    for (size_t i = 0; i < n; i++) {
        struct upstream_info u;
        if (upstream_pool_info(ctl->pool, i, &u) < 0)
            continue;
        char k[64];
#define U(name, ...)                                                                               \
    do {                                                                                           \
        snprintf(k, sizeof(k), "upstream.%zu." name, i);                                           \
        ctl_reply_add(b, k, __VA_ARGS__);                                                          \
    } while (0)
        U("address", "%s", u.address);
        U("port", "%u", u.port);
        U("auth_name", "%s", u.auth_name ? u.auth_name : "");
        U("pins", "%zu", u.n_pins);
        U("state", "%s", state_name(u.state));
        U("backoff_ms", "%lld", (long long)u.backoff_left_ms);
        U("last_error", "%s", u.last_error);
        U("srtt_ms", "%u", u.srtt_ms);
        U("rtt_p50_ms", "%u", u.rtt_p50_ms);
        U("rtt_p99_ms", "%u", u.rtt_p99_ms);
        U("rtt_samples", "%u", u.rtt_samples);
        U("connections", "%llu", (unsigned long long)u.connections_open);
        U("queries", "%llu", (unsigned long long)u.queries);
        U("answers", "%llu", (unsigned long long)u.answers);
        U("failures", "%llu", (unsigned long long)u.failures);
        U("validation_failures", "%llu", (unsigned long long)u.validation_failures);
        U("handshakes", "%llu", (unsigned long long)u.handshakes);
        U("resumptions", "%llu", (unsigned long long)u.resumed);
        U("tls_version", "%s", u.tls_version);
        U("cert_not_after", "%lld", (long long)u.cert_not_after);
        U("pin", "%d", u.pin);
        U("pairs", "%s", u.pairs);
#undef U
    }
}

/* --- query ------------------------------------------------------------------------- */

static const char *status_name(uint8_t s) {
    static const char *const names[] = {
        [IPC_STATUS_OK] = "ok",
        [IPC_STATUS_NXDOMAIN] = "nxdomain",
        [IPC_STATUS_NODATA] = "nodata",
        [IPC_STATUS_TRYAGAIN] = "tryagain",
        [IPC_STATUS_UNAVAIL] = "unavail",
        [IPC_STATUS_NORECOVERY] = "norecovery",
        [IPC_STATUS_NOTFOUND_TRYAGAIN] = "notfound_tryagain",
        [IPC_STATUS_NOTFOUND_NORECOVERY] = "notfound_norecovery",
    };
    return s <= IPC_STATUS_MAX_ ? names[s] : "unknown";
}

static const char *source_name(uint8_t s) {
    switch (s) {
    case RESOLVER_SOURCE_CACHE:
        return "cache";
    case RESOLVER_SOURCE_STALE:
        return "stale";
    case RESOLVER_SOURCE_UPSTREAM:
        return "upstream";
    default:
        return "none";
    }
}

static void on_query_done(void *userdata, const uint8_t *frame, size_t len) {
    struct ctl_client *c = userdata;
    struct control *ctl = c->ctl;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    c->job = NULL;
    double ms =
        (double)(t1.tv_sec - c->t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - c->t0.tv_nsec) / 1e6;

    char *buf = malloc(CTL_MAX_REPLY);
    if (!buf) {
        client_close(c);
        return;
    }
    struct ctl_reply_builder b;
    ctl_reply_begin(&b, buf, CTL_MAX_REPLY);
    struct ipc_reply_view v;
    uint8_t op = 0;
    if (!frame || len < IPC_HEADER_LEN ||
        ipc_header_decode(frame, &op, IPC_MAX_REPLY_BODY) != (int)(len - IPC_HEADER_LEN) ||
        ipc_reply_decode(frame + IPC_HEADER_LEN, len - IPC_HEADER_LEN, &v) < 0) {
        size_t n = ctl_reply_error(&b, CTL_ERR_INTERNAL, "the resolver gave no answer");
        client_reply(c, buf, n);
        free(buf);
        return;
    }
    ctl_reply_add(&b, "query.name", "%s", c->qname);
    ctl_reply_add(&b, "query.type", "%s", c->qtype);
    ctl_reply_add(&b, "asked", "%s", c->trace.name);
    ctl_reply_add(&b, "status", "%s", status_name(v.status));
    if (v.status == IPC_STATUS_OK) {
        ctl_reply_add(&b, "canonical", "%.*s", (int)v.canon.len, v.canon.p);
        const uint8_t *cur = v.aliases;
        for (uint16_t i = 0; i < v.n_aliases; i++) {
            struct ipc_name_ref a = ipc_reply_alias(&cur);
            ctl_reply_add(&b, "alias", "%.*s", (int)a.len, a.p);
        }
        ctl_reply_add(&b, "address_count", "%u", v.n_addrs);
        cur = v.addrs;
        for (uint16_t i = 0; i < v.n_addrs && i < QUERY_MAX_LISTED; i++) {
            uint8_t fam = 0;
            const uint8_t *a = ipc_reply_addr(&cur, &fam);
            char text[INET6_ADDRSTRLEN];
            if (inet_ntop(fam == IPC_AF_INET ? AF_INET : AF_INET6, a, text, sizeof(text)))
                ctl_reply_add(&b, "address", "%s", text);
        }
        ctl_reply_add(&b, "ttl", "%u", v.ttl);
    }
    for (unsigned i = 0; i < c->trace.n; i++) {
        char k[32], type[16];
        unsigned qt = c->trace.q[i].qtype;
        snprintf(type, sizeof(type), "%s",
                 qt == DNS_TYPE_A      ? "A"
                 : qt == DNS_TYPE_AAAA ? "AAAA"
                 : qt == DNS_TYPE_PTR  ? "PTR"
                                       : "?");
        snprintf(k, sizeof(k), "answer.%u.type", i);
        ctl_reply_add(&b, k, "%s", type);
        snprintf(k, sizeof(k), "answer.%u.source", i);
        ctl_reply_add(&b, k, "%s", source_name(c->trace.q[i].source));
        struct upstream_info u;
        snprintf(k, sizeof(k), "answer.%u.upstream", i);
        if (c->trace.q[i].upstream >= 0 &&
            upstream_pool_info(ctl->pool, (size_t)c->trace.q[i].upstream, &u) == 0)
            ctl_reply_add(&b, k, "%s port %u", u.address, u.port);
        else
            ctl_reply_add(&b, k, "%s", "");
        snprintf(k, sizeof(k), "answer.%u.ttl", i);
        ctl_reply_add(&b, k, "%u", c->trace.q[i].ttl);
    }
    ctl_reply_add(&b, "time_ms", "%.3f", ms);
    size_t n = ctl_reply_ok(&b);
    client_reply(c, buf, n);
    free(buf);
}

static void run_query(struct ctl_client *c, const struct ctl_request *req) {
    if (req->argc < 1 || req->argc > 2) {
        client_error(c, CTL_ERR_USAGE, "query NAME [A|AAAA|ANY|PTR]");
        return;
    }
    const char *name = req->argv[0];
    const char *type = req->argc == 2 ? req->argv[1] : NULL;
    struct ipc_request ireq = {.op = IPC_OP_BYNAME, .family = IPC_AF_UNSPEC};
    uint8_t a[16];
    bool is4 = inet_pton(AF_INET, name, a) == 1, is6 = !is4 && inet_pton(AF_INET6, name, a) == 1;
    if (!type)
        type = is4 || is6 ? "PTR" : "ANY";
    if (strcmp(type, "PTR") == 0) {
        if (!is4 && !is6) {
            client_error(c, CTL_ERR_USAGE, "a PTR query takes an IPv4 or IPv6 address");
            return;
        }
        ireq.op = IPC_OP_BYADDR;
        ireq.family = is4 ? IPC_AF_INET : IPC_AF_INET6;
        ireq.addr_len = is4 ? 4 : 16;
        memcpy(ireq.addr, a, ireq.addr_len);
    } else if (strcmp(type, "A") == 0 || strcmp(type, "AAAA") == 0 || strcmp(type, "ANY") == 0) {
        size_t n = strlen(name);
        if (n > IPC_MAX_QUERY_NAME) {
            client_error(c, CTL_ERR_USAGE, "name too long");
            return;
        }
        ireq.family = type[0] == 'A' && type[1] == '\0' ? IPC_AF_INET
                      : strcmp(type, "AAAA") == 0       ? IPC_AF_INET6
                                                        : IPC_AF_UNSPEC;
        ireq.name_len = (uint16_t)n;
        memcpy(ireq.name, name, n + 1);
    } else {
        client_error(c, CTL_ERR_USAGE, "query type must be A, AAAA, ANY or PTR");
        return;
    }
    snprintf(c->qname, sizeof(c->qname), "%s", name);
    c->qtype = ireq.op == IPC_OP_BYADDR      ? "PTR"
               : ireq.family == IPC_AF_INET  ? "A"
               : ireq.family == IPC_AF_INET6 ? "AAAA"
                                             : "ANY";
    log_debug("control: query %s %s", name, c->qtype);
    clock_gettime(CLOCK_MONOTONIC, &c->t0);
    /* The reply deadline starts when the answer is there: the resolver
     * ends every lookup by its query deadline. */
    loop_timer_cancel(c->ctl->loop, &c->timer);
    struct resolver_job *job = NULL;
    int r = resolver_start_traced(c->ctl->resolver, &ireq, 0, on_query_done, c, &c->trace, &job);
    if (r < 0) {
        client_error(c, CTL_ERR_FAILED, strerror(-r));
        return;
    }
    /* Answered at once (the cache): the client may be closed already. */
    if (job) {
        c->job = job;
        client_watch(c, EPOLLRDHUP);
    }
}

/* --- commands ---------------------------------------------------------------------- */

static void run_flush(struct ctl_client *c, const struct ctl_request *req) {
    char buf[CTL_MAX_STATUS + 256];
    struct ctl_reply_builder b;
    ctl_reply_begin(&b, buf, sizeof(buf));
    if (req->argc == 0) {
        struct resolver_stats rs;
        resolver_get_stats(c->ctl->resolver, &rs);
        resolver_flush(c->ctl->resolver);
        log_info("cache flushed (dot-helperctl)");
        ctl_reply_add(&b, "flushed", "%zu", rs.cache_entries);
    } else if (req->argc == 1) {
        uint8_t wire[DNAME_MAX_WIRE];
        if (dname_from_text(req->argv[0], wire) < 0) {
            client_error(c, CTL_ERR_USAGE, "not a domain name");
            return;
        }
        size_t n = resolver_flush_name(c->ctl->resolver, wire);
        log_debug("control: flushed %zu entries of %s", n, req->argv[0]);
        log_info("cache entries of one name flushed (dot-helperctl)");
        ctl_reply_add(&b, "flushed", "%zu", n);
    } else {
        client_error(c, CTL_ERR_USAGE, "flush [NAME]");
        return;
    }
    size_t n = ctl_reply_ok(&b);
    client_reply(c, buf, n);
}

static void run_reload(struct ctl_client *c, const struct ctl_request *req) {
    if (req->argc != 0) {
        client_error(c, CTL_ERR_USAGE, "reload takes no argument");
        return;
    }
    char err[512] = "";
    log_info("reload requested (dot-helperctl)");
    int r = c->ctl->hooks.reload(c->ctl->userdata, err, sizeof(err));
    if (r < 0) {
        client_error(c, CTL_ERR_FAILED, err[0] ? err : strerror(-r));
        return;
    }
    client_ok(c);
}

static void run_stats(struct ctl_client *c, const struct ctl_request *req) {
    if (req->argc != 0) {
        client_error(c, CTL_ERR_USAGE, "stats takes no argument");
        return;
    }
    char *buf = malloc(CTL_MAX_REPLY);
    if (!buf) {
        client_close(c);
        return;
    }
    struct ctl_reply_builder b;
    ctl_reply_begin(&b, buf, CTL_MAX_REPLY);
    add_stats(c->ctl, &b);
    size_t n = ctl_reply_ok(&b);
    client_reply(c, buf, n);
    free(buf);
}

static void client_got_request(struct ctl_client *c) {
    struct ctl_request req;
    int r = ctl_request_decode(c->rbuf, c->rlen, &req);
    if (r == -EPROTO) {
        client_error(c, CTL_ERR_VERSION, "this daemon speaks " CTL_PROTO);
        return;
    }
    if (r == -ENOENT) {
        client_error(c, CTL_ERR_USAGE, "unknown command");
        return;
    }
    if (r < 0) {
        log_debug("control: malformed request");
        client_error(c, CTL_ERR_USAGE, "malformed request");
        return;
    }
    switch (req.cmd) {
    case CTL_CMD_STATS:
        run_stats(c, &req);
        break;
    case CTL_CMD_QUERY:
        run_query(c, &req);
        break;
    case CTL_CMD_FLUSH:
        run_flush(c, &req);
        break;
    case CTL_CMD_RELOAD:
        run_reload(c, &req);
        break;
    }
}

/* Reads until the request's newline; anything after it, or a line longer
 * than the protocol allows, is an error. */
static void client_read(struct ctl_client *c) {
    for (;;) {
        ssize_t n = recv(c->io.fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            client_watch(c, EPOLLIN | EPOLLRDHUP);
            return;
        }
        if (n <= 0) {
            client_close(c);
            return;
        }
        size_t old = c->rlen;
        c->rlen += (size_t)n;
        char *nl = memchr(c->rbuf + old, '\n', (size_t)n);
        if (nl) {
            if ((size_t)(nl - c->rbuf) + 1 != c->rlen) {
                client_error(c, CTL_ERR_USAGE, "one request per connection");
                return;
            }
            client_got_request(c);
            return;
        }
        if (c->rlen == sizeof(c->rbuf)) {
            client_error(c, CTL_ERR_USAGE, "request too long");
            return;
        }
    }
}

static void client_on_io(struct loop_io *io, uint32_t revents) {
    struct ctl_client *c = CLIENT_OF_IO(io);
    if (c->job) {
        if (revents & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            client_close(c); /* the tool gave up: drop its lookup */
        return;
    }
    if (c->wbuf) {
        client_write(c);
        return;
    }
    if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
        client_read(c);
}

static void client_on_timer(struct loop_timer *t) {
    struct ctl_client *c = CLIENT_OF_TIMER(t);
    log_debug("control: client too slow to send its request or read its reply");
    client_close(c);
}

static bool peer_allowed(const struct control *ctl, int fd, uid_t *ret_uid) {
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred))
        return false;
    *ret_uid = cred.uid;
    return cred.uid == 0 || cred.uid == ctl->owner;
}

static void on_accept(struct loop_io *io, uint32_t revents) {
    struct control *ctl = CONTROL_OF_IO(io);
    (void)revents;
    for (int i = 0; i < 16; i++) {
        int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return; /* EAGAIN, or out of descriptors: the lookup side says so */
        }
        struct ctl_client *c = calloc(1, sizeof(*c));
        if (!c) {
            close(fd);
            return;
        }
        c->ctl = ctl;
        c->io.fd = fd;
        c->io.cb = client_on_io;
        dlist_push_head(&ctl->clients, &c->node);
        ctl->n_clients++;
        uid_t uid = (uid_t)-1;
        if (!peer_allowed(ctl, fd, &uid)) {
            log_warnx("control: uid %ld refused (root only)", (long)uid);
            client_error(c, CTL_ERR_DENIED, "permission denied: the control socket is for root");
            continue;
        }
        if (ctl->n_clients > CONTROL_MAX_CLIENTS) {
            client_error(c, CTL_ERR_BUSY, "too many control clients, try again");
            continue;
        }
        loop_timer_at(ctl->loop, &c->timer, loop_now(ctl->loop) + CONTROL_IO_MS, client_on_timer);
        client_read(c);
    }
}

int control_listen(const char *path) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* A daemon still running there keeps its socket; a dead one's file goes. */
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0) {
        bool live = connect(probe, (const struct sockaddr *)&sa, sizeof(sa)) == 0;
        close(probe);
        if (live) {
            close(fd);
            return -EADDRINUSE;
        }
    }
    unlink(path);
    /* 0600 from the start: no moment at which another user could connect. */
    mode_t old = umask(0177);
    int r = bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
    umask(old);
    if (r == 0 && (chmod(path, 0600) < 0 || listen(fd, 16) < 0))
        r = -errno;
    if (r < 0) {
        close(fd);
        return r;
    }
    return fd;
}

void control_unlink(const char *path) {
    unlink(path);
}

int control_new(struct loop *l, int listen_fd, uid_t owner, struct resolver *r,
                struct upstream_pool *pool, const struct control_hooks *hooks, void *userdata,
                struct control **ret_control) {
    struct control *ctl = calloc(1, sizeof(*ctl));
    if (!ctl)
        return -ENOMEM;
    *ctl = (struct control){
        .loop = l,
        .resolver = r,
        .pool = pool,
        .hooks = *hooks,
        .userdata = userdata,
        .owner = owner,
        .started_ms = loop_now(l),
        .started_at = time(NULL),
    };
    ctl->listen_io.fd = -1;
    int e = loop_io_add(l, &ctl->listen_io, listen_fd, EPOLLIN, on_accept);
    if (e < 0) {
        free(ctl);
        return e;
    }
    *ret_control = ctl;
    return 0;
}

void control_free(struct control *ctl) {
    if (!ctl)
        return;
    while (ctl->clients.head) {
        struct ctl_client *c = DLIST_ENTRY(ctl->clients.head, struct ctl_client, node);
        if (c->job) {
            resolver_cancel(c->job);
            c->job = NULL;
            client_error(c, CTL_ERR_FAILED, "the daemon is shutting down");
        }
        if (ctl->clients.head == &c->node) /* not sent at once: just close */
            client_close(c);
    }
    int fd = ctl->listen_io.fd;
    loop_io_del(ctl->loop, &ctl->listen_io);
    if (fd >= 0)
        close(fd);
    free(ctl);
}

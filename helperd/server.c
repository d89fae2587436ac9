/* SPDX-License-Identifier: GPL-2.0-or-later */
/* server.c: the lookup socket: accept, read a request, reply, close; and
 * the files published next to it (the socket itself, SOCKET.query_ms). */
#include "server.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "dlist.h"
#include "freelist.h"
#include "ipc.h"
#include "log.h"
#include "query-ms.h"
#include "users.h"

#define ACCEPT_PAUSE_MS 100
/* Descriptors kept for everything but clients (upstream connections, the
 * loop, files), taken from RLIMIT_NOFILE: clients.max never eats them. */
#define FD_RESERVE 64
/* How long past the query timeout a client waiting for its answer is kept:
 * the resolver answers by then (this is the backstop). */
#define LOOKUP_SLACK_MS 1000
/* A client waiting for the upstreams is watched for a hang-up only once its
 * lookup has taken this long: most are answered sooner, and watching costs
 * two epoll_ctl() calls per lookup (in, and out at the close). */
#define HANGUP_WATCH_MS  50
#define ACCEPT_BATCH_MAX 64
/* An epoll_wait() shorter than this found the listening socket ready as it
 * was called: no sleep and wakeup fit in it (on_accept). */
#define ACCEPT_READY_US 10
/* Clients open at most for a request not in yet after the accept to be
 * worth a sched_yield() (client_read). */
#define YIELD_MAX_CLIENTS 4

struct client {
    struct server *srv;
    struct dlist_node node; /* in server.clients */
    struct loop_io io;
    struct loop_timer timer;
    uint8_t rbuf[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY];
    size_t rlen;
    size_t need; /* bytes the request has in all, once the header is in */
    uint8_t *wbuf;
    size_t wlen, woff;
    struct resolver_job *job;
    struct user_use *user; /* what this client's uid holds (users.h) */
    bool watched;          /* in the loop's epoll set */
    bool watch_later;      /* its lookup runs: watch it from its timer on */
    bool yielded;          /* its request was not in yet: the CPU was yielded once */
};

struct server {
    struct loop *loop;
    const struct config *cfg;
    struct resolver *resolver;
    struct loop_io listen_io;
    struct loop_timer pause_timer;
    struct dlist clients; /* struct client, newest first */
    unsigned n_clients;
    unsigned max_clients;  /* clients.max, bounded by RLIMIT_NOFILE */
    unsigned accept_batch; /* accepts per wakeup (on_accept); 0: 1 */
    /* 1 + the iteration of a batch that found a client each time; 0 none */
    uint64_t accept_grow_at;
    struct users *users;
    struct freelist spare_clients; /* closed ones, for the next accepts */
    struct server_stats stats;
};

#define CLIENT_OF_IO(p)    ((struct client *)((char *)(p)-offsetof(struct client, io)))
#define CLIENT_OF_TIMER(p) ((struct client *)((char *)(p)-offsetof(struct client, timer)))
#define SERVER_OF_IO(p)    ((struct server *)((char *)(p)-offsetof(struct server, listen_io)))
#define SERVER_OF_TIMER(p) ((struct server *)((char *)(p)-offsetof(struct server, pause_timer)))

static void client_close(struct client *c);
static void client_on_io(struct loop_io *io, uint32_t revents);
static void client_on_timer(struct loop_timer *t);

/* Waits for events on the client: it joins the epoll set only when it has
 * to wait at all. False when that failed (the client is closed then). */
static bool client_watch(struct client *c, uint32_t events) {
    int r = c->watched ? loop_io_mod(c->srv->loop, &c->io, events)
                       : loop_io_add(c->srv->loop, &c->io, c->io.fd, events, client_on_io);
    if (r < 0) {
        log_warnx("cannot watch a client: %s", strerror(-r));
        client_close(c);
        return false;
    }
    c->watched = true;
    return true;
}

static void client_free_mem(void *p) {
    struct client *c = p;
    free(c->wbuf);
    freelist_put(&c->srv->spare_clients, c);
}

static void client_lookup_done(struct client *c) {
    c->job = NULL;
    c->watch_later = false;
}

static void client_close(struct client *c) {
    struct server *s = c->srv;
    resolver_cancel(c->job);
    client_lookup_done(c);
    if (c->user) {
        c->user->clients--;
        users_release(s->users, c->user);
        c->user = NULL;
    }
    loop_timer_cancel(s->loop, &c->timer);
    loop_io_close(s->loop, &c->io);
    dlist_remove(&s->clients, &c->node);
    s->n_clients--;
    loop_defer_free(s->loop, client_free_mem, c);
}

/* Sends what is left of the reply; closes the client once it is all out. */
static void client_write(struct client *c) {
    while (c->woff < c->wlen) {
        ssize_t n =
            send(c->io.fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                client_watch(c, EPOLLOUT);
                return;
            }
            break; /* the client went away: nothing more to do for it */
        }
        c->woff += (size_t)n;
    }
    client_close(c);
}

/* Sends the reply frame: straight from the caller's buffer when the socket
 * takes it all (the usual case), else the rest is kept and sent on EPOLLOUT. */
static void client_reply(struct client *c, const uint8_t *frame, size_t len) {
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(c->io.fd, frame + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            client_close(c); /* the client went away */
            return;
        }
        off += (size_t)n;
    }
    if (off == len) {
        client_close(c);
        return;
    }
    c->wbuf = malloc(len - off);
    if (!c->wbuf) {
        client_close(c);
        return;
    }
    memcpy(c->wbuf, frame + off, len - off);
    c->wlen = len - off;
    c->woff = 0;
    /* A client that does not read its reply is not held forever. */
    loop_timer_at(c->srv->loop, &c->timer, loop_now(c->srv->loop) + SERVER_REQUEST_MS,
                  client_on_timer);
    client_watch(c, EPOLLOUT);
}

static void client_reply_status(struct client *c, uint8_t status) {
    uint8_t frame[IPC_HEADER_LEN + 12];
    struct ipc_reply_builder b;
    ipc_reply_begin(&b, frame, sizeof(frame), status, 0, NULL);
    client_reply(c, frame, ipc_reply_end(&b));
}

static void on_resolved(void *userdata, const uint8_t *frame, size_t len) {
    struct client *c = userdata;
    client_lookup_done(c);
    if (!frame) {
        client_reply_status(c, IPC_STATUS_TRYAGAIN);
        return;
    }
    client_reply(c, frame, len);
}

/* Its lookup runs: watch for a hang-up, with the backstop deadline. */
/* A client watched already (its request came in parts) stays watched for
 * input too: a hang-up shows as RDHUP first, and more input than the one
 * request is garbage that closes it (client_read), as before the request. */
static void client_watch_lookup(struct client *c) {
    struct server *s = c->srv;
    c->watch_later = false;
    loop_timer_at(s->loop, &c->timer,
                  loop_now(s->loop) + s->cfg->timeouts.query_ms + LOOKUP_SLACK_MS, client_on_timer);
    if (!c->watched)
        client_watch(c, EPOLLRDHUP);
}

static void client_got_request(struct client *c, uint8_t op) {
    struct ipc_request req;
    if (ipc_request_decode(op, c->rbuf + IPC_HEADER_LEN, c->rlen - IPC_HEADER_LEN, &req) < 0) {
        log_debug("malformed request on the lookup socket");
        client_close(c);
        return;
    }
    struct server *s = c->srv;
    loop_timer_cancel(s->loop, &c->timer);
    if (req.op == IPC_OP_BYNAME)
        log_debug("lookup %s (family %u)", req.name, req.family);
    /* A cached answer comes back before resolver_start() returns (and the
     * client may be gone then): only a job still running needs more. The
     * resolver caps each user's new upstream queries. */
    if (resolver_start(s->resolver, &req, c->user ? c->user->uid : (uid_t)-1, on_resolved, c,
                       &c->job) < 0) {
        client_reply_status(c, IPC_STATUS_TRYAGAIN);
    } else if (c->job) {
        /* Waiting for the upstreams: stop reading (a second request on the
         * same connection is not part of the protocol) but notice a
         * hang-up, from HANGUP_WATCH_MS on unless the client is watched
         * already; the resolver answers by the query timeout, and the
         * timer is the backstop. */
        if (c->watched) {
            client_watch_lookup(c);
        } else {
            c->watch_later = true;
            loop_timer_at(s->loop, &c->timer, loop_now(s->loop) + HANGUP_WATCH_MS, client_on_timer);
        }
    }
}

/* Whether a yield for a request not in yet costs nobody: few clients are
 * open. Under load the request comes with the next batch anyway, and a
 * yield could hand the CPU to one of many runnable threads for a while. */
static bool quiet_enough(const struct server *s) {
    return s->n_clients <= YIELD_MAX_CLIENTS;
}

/* Reads what has arrived: the module sends its whole request at once, so
 * this is usually one recv(). Anything past the one request is garbage. */
static void client_read(struct client *c) {
    for (;;) {
        ssize_t n = recv(c->io.fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (c->rlen == 0 && !c->yielded && !c->watched && quiet_enough(c->srv)) {
                /* Woken by its connect(), the daemon may have taken the
                 * CPU of the client that is about to send: let it, once,
                 * and read again, rather than watch it and be woken again. */
                c->yielded = true;
                sched_yield();
                continue;
            }
            if (!c->watched)
                client_watch(c, EPOLLIN | EPOLLRDHUP);
            return;
        }
        if (n <= 0) {
            client_close(c);
            return;
        }
        c->rlen += (size_t)n;
        if (!c->need && c->rlen >= IPC_HEADER_LEN) {
            uint8_t op = 0;
            int len = ipc_header_decode(c->rbuf, &op, IPC_MAX_REQUEST_BODY);
            if (len == -EPROTO) {
                /* A module of another version: say so in our version. */
                client_reply_status(c, IPC_STATUS_UNAVAIL);
                return;
            }
            if (len < 0 || op == IPC_OP_REPLY) {
                log_debug("garbage on the lookup socket");
                client_close(c);
                return;
            }
            c->need = IPC_HEADER_LEN + (size_t)len;
        }
        if (c->need && c->rlen > c->need) {
            log_debug("trailing bytes on the lookup socket");
            client_close(c);
            return;
        }
        if (c->need && c->rlen == c->need) {
            client_got_request(c, c->rbuf[3]);
            return;
        }
    }
}

static void client_on_io(struct loop_io *io, uint32_t revents) {
    struct client *c = CLIENT_OF_IO(io);
    if (c->job && (revents & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
        client_close(c); /* the program gave up; drop its lookup */
        return;
    }
    if (c->wbuf) {
        client_write(c);
        return;
    }
    if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
        client_read(c);
}

/* Every state of a client has a deadline (DESIGN.md invariant 4): its
 * request must be in SERVER_REQUEST_MS after the accept, header or not; its
 * answer comes by the query timeout (the resolver's) plus a backstop; its
 * reply must be taken within SERVER_REQUEST_MS of the write that blocked. */
static void client_on_timer(struct loop_timer *t) {
    struct client *c = CLIENT_OF_TIMER(t);
    struct server *s = c->srv;
    if (c->job && c->watch_later) {
        client_watch_lookup(c);
        return;
    }
    s->stats.timed_out++;
    if (c->job) {
        log_debug("lookup not answered in time: try again");
        resolver_cancel(c->job);
        client_lookup_done(c);
        client_reply_status(c, IPC_STATUS_TRYAGAIN);
        return;
    }
    log_debug("client too slow to send its request or read its reply");
    client_close(c);
}

/* The oldest client of user e, or NULL (the list is newest first). */
static struct client *oldest_of(struct server *s, const struct user_use *e) {
    struct client *found = NULL;
    for (struct dlist_node *n = s->clients.head; n; n = n->next) {
        struct client *c = DLIST_ENTRY(n, struct client, node);
        if (c->user == e)
            found = c;
    }
    return found;
}

/* Whether the new client c (already counted) may stay. No user may hold
 * more than clients.per_user connections; when all clients.max are taken,
 * the user holding the most gives up its oldest connection to a user who
 * holds fewer, so that one user's flood never locks another out. */
static bool admit(struct server *s, struct client *c) {
    if (!c->user) /* no memory to count it: only while there is room */
        return s->n_clients <= s->max_clients;
    if (c->user->clients > s->cfg->clients.per_user) {
        s->stats.shed_per_user++;
        return false;
    }
    if (s->n_clients <= s->max_clients)
        return true;
    struct user_use *top = users_top(s->users);
    if (!top || top == c->user || top->clients <= c->user->clients) {
        s->stats.shed_full++;
        return false;
    }
    struct client *victim = oldest_of(s, top);
    if (!victim) {
        s->stats.shed_full++;
        return false;
    }
    s->stats.evicted++;
    if (victim->job) {
        resolver_cancel(victim->job);
        client_lookup_done(victim);
    }
    if (victim->wbuf)
        client_close(victim); /* its reply is half out: nothing more to say */
    else
        client_reply_status(victim, IPC_STATUS_TRYAGAIN);
    return true;
}

static void resume_accept(struct loop_timer *t) {
    struct server *s = SERVER_OF_TIMER(t);
    loop_io_mod(s->loop, &s->listen_io, EPOLLIN);
}

/* Accepts up to accept_batch clients per wakeup, and learns the batch from
 * what the socket does: a batch that found a client each time doubles, up
 * to ACCEPT_BATCH_MAX, when the socket is still readable. The epoll set is
 * level-triggered, so a socket left readable comes back in the next report
 * that has room for it: it stayed readable when called again with no
 * complete report in between (loop_complete_before()) and, in the very
 * next iteration, with a wait that did not sleep (loop_wait_us(); a wait
 * that slept was woken by a new client). One that ends in EAGAIN shrinks
 * to what it found. A quiet socket, one client per wakeup, so costs one
 * accept4() and never a second one that fails with EAGAIN, however soon
 * the next client comes. */
static void on_accept(struct loop_io *io, uint32_t revents) {
    struct server *s = SERVER_OF_IO(io);
    (void)revents;
    uint64_t now = loop_iteration(s->loop);
    unsigned batch = s->accept_batch ? s->accept_batch : 1;
    if (s->accept_grow_at && loop_complete_before(s->loop) <= s->accept_grow_at &&
        (now > s->accept_grow_at || loop_wait_us(s->loop) < ACCEPT_READY_US))
        batch = s->accept_batch = batch * 2 < ACCEPT_BATCH_MAX ? batch * 2 : ACCEPT_BATCH_MAX;
    s->accept_grow_at = 0;
    for (unsigned i = 0;; i++) {
        if (i == batch) {
            s->accept_grow_at = now + 1;
            return;
        }
        int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                s->accept_batch = i > 0 ? i : 1;
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: stop accepting for a moment instead
                 * of spinning on a listening socket that stays readable. */
                log_warn("accept");
                loop_io_mod(s->loop, io, 0);
                loop_timer_at(s->loop, &s->pause_timer, loop_now(s->loop) + ACCEPT_PAUSE_MS,
                              resume_accept);
            }
            return;
        }
        struct client *c = freelist_get(&s->spare_clients);
        if (!c) {
            close(fd);
            return;
        }
        c->srv = s;
        struct ucred cred = {.uid = (uid_t)-1};
        socklen_t clen = sizeof(cred);
        (void)getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen);
        c->user = users_get(s->users, cred.uid);
        /* Not in the epoll set yet: see client_watch(). */
        c->io.fd = fd;
        c->io.cb = client_on_io;
        dlist_push_head(&s->clients, &c->node);
        s->n_clients++;
        if (c->user)
            c->user->clients++;
        if (!admit(s, c)) {
            /* Shed load: this one is told to try again, the others go on. */
            client_reply_status(c, IPC_STATUS_TRYAGAIN);
            continue;
        }
        /* The request must be in by SERVER_REQUEST_MS, whatever part of it
         * has come (the header alone holds a slot as much as nothing). */
        loop_timer_at(s->loop, &c->timer, loop_now(s->loop) + SERVER_REQUEST_MS, client_on_timer);
        /* The module sends its request right after connecting: it is
         * usually here already, and a cached answer goes back at once,
         * without the client ever entering the epoll set. */
        client_read(c);
    }
}

/* clients.max, but never so many that clients would take the descriptors
 * the upstream connections need: RLIMIT_NOFILE less a reserve. A soft
 * limit below what clients.max needs is raised as far as the hard limit
 * allows (the soft limit's 1024 is for select(), which the daemon does not
 * use: systemd's advice for programs that need more). */
static void set_max_clients(struct server *s) {
    unsigned max = s->cfg->clients.max;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        rlim_t need = (rlim_t)max + FD_RESERVE;
        if (rl.rlim_cur < need && rl.rlim_cur < rl.rlim_max) {
            struct rlimit up = {.rlim_cur = need < rl.rlim_max ? need : rl.rlim_max,
                                .rlim_max = rl.rlim_max};
            if (setrlimit(RLIMIT_NOFILE, &up) == 0)
                rl.rlim_cur = up.rlim_cur;
        }
        rlim_t reserve = rl.rlim_cur / 2 < FD_RESERVE ? rl.rlim_cur / 2 : FD_RESERVE;
        rlim_t room = rl.rlim_cur - reserve;
        if (room < max)
            max = (unsigned)room;
    }
    if (max != s->cfg->clients.max)
        log_info("at most %u lookup clients at once (clients.max %u; %s)", max, s->cfg->clients.max,
                 "the descriptor limit keeps the rest for upstreams");
    s->max_clients = max;
}

int server_new(struct loop *l, const struct config *cfg, struct resolver *r, int listen_fd,
               struct server **ret_server) {
    struct server *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->loop = l;
    s->cfg = cfg;
    s->resolver = r;
    s->listen_io.fd = -1;
    freelist_init(&s->spare_clients, sizeof(struct client), FREELIST_KEEP);
    set_max_clients(s);
    int e = users_new(&s->users);
    if (e >= 0)
        e = loop_io_add(l, &s->listen_io, listen_fd, EPOLLIN, on_accept);
    if (e < 0) {
        users_free(s->users);
        free(s);
        return e;
    }
    *ret_server = s;
    return 0;
}

void server_set_config(struct server *s, const struct config *cfg) {
    s->cfg = cfg;
    set_max_clients(s);
}

/* Connections still in the listen backlog at shutdown sent their request
 * too (the module sends it right after connecting): they are told to try
 * again as well, rather than find the connection closed ("unavailable").
 * The request is read first so that closing does not reset the connection
 * before the module reads the reply. */
static void drain_backlog(struct server *s) {
    uint8_t frame[IPC_HEADER_LEN + 12], junk[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY];
    struct ipc_reply_builder b;
    ipc_reply_begin(&b, frame, sizeof(frame), IPC_STATUS_TRYAGAIN, 0, NULL);
    size_t len = ipc_reply_end(&b);
    for (int i = 0; i < SOMAXCONN && s->listen_io.fd >= 0; i++) {
        int fd = accept4(s->listen_io.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
            continue;
        if (fd < 0)
            return;
        (void)!recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
        (void)!send(fd, frame, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        close(fd);
    }
}

void server_free(struct server *s) {
    if (!s)
        return;
    /* A lookup cut short by a shutdown is told to try again: a bare close
     * would read as "unavailable", and under "dot [!UNAVAIL=return] dns"
     * the name would go out in plaintext. */
    while (s->clients.head) {
        struct client *c = DLIST_ENTRY(s->clients.head, struct client, node);
        if (c->job)
            client_reply_status(c, IPC_STATUS_TRYAGAIN);
        if (s->clients.head == &c->node) /* not sent at once (or no job): just close */
            client_close(c);
    }
    drain_backlog(s);
    /* The closed clients go back to spare_clients once their deferred
     * free runs: now, before the list goes. */
    loop_run_deferred(s->loop);
    freelist_clear(&s->spare_clients);
    loop_timer_cancel(s->loop, &s->pause_timer);
    int fd = s->listen_io.fd;
    loop_io_del(s->loop, &s->listen_io);
    if (fd >= 0)
        close(fd);
    users_free(s->users);
    free(s);
}

void server_get_stats(const struct server *s, struct server_stats *ret_stats) {
    *ret_stats = s->stats;
    ret_stats->clients = s->n_clients;
    ret_stats->max_clients = s->max_clients;
    ret_stats->users = users_count(s->users);
}

static int tmp_path(const char *path, char *buf, size_t len) {
    return snprintf(buf, len, "%s.new", path) >= (int)len ? -ENAMETOOLONG : 0;
}

int server_listen(const char *path) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (tmp_path(path, sa.sun_path, sizeof(sa.sun_path)) < 0)
        return -ENAMETOOLONG;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    unlink(sa.sun_path);
    int r = 0;
    if (bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(sa.sun_path, 0666) < 0 ||
        listen(fd, SOMAXCONN) < 0)
        r = -errno;
    if (r < 0) {
        unlink(sa.sun_path);
        close(fd);
        return r;
    }
    return fd;
}

int server_publish(const char *path) {
    char tmp[sizeof(((struct sockaddr_un *)0)->sun_path)];
    if (tmp_path(path, tmp, sizeof(tmp)) < 0)
        return -ENAMETOOLONG;
    return rename(tmp, path) < 0 ? -errno : 0;
}

int server_publish_query_ms(const char *path, unsigned query_ms) {
    char link[PATH_MAX], tmp[PATH_MAX], text[16];
    if (query_ms < QUERY_MS_MIN || query_ms > QUERY_MS_MAX)
        return -EINVAL;
    if (query_ms_path(path, link, sizeof(link)) < 0 || tmp_path(link, tmp, sizeof(tmp)) < 0)
        return -ENAMETOOLONG;
    snprintf(text, sizeof(text), "%u", query_ms);
    unlink(tmp); /* left by a daemon that died half way */
    int r = 0;
    if (symlink(text, tmp) < 0 || rename(tmp, link) < 0)
        r = -errno;
    if (r < 0) {
        /* A stale value is worse than none: the module then uses its default. */
        unlink(tmp);
        unlink(link);
    }
    return r;
}

void server_unlink(const char *path) {
    char tmp[PATH_MAX];
    unlink(path);
    if (tmp_path(path, tmp, sizeof(tmp)) == 0)
        unlink(tmp);
    if (query_ms_path(path, tmp, sizeof(tmp)) == 0) {
        unlink(tmp);
        char tmp2[PATH_MAX];
        if (tmp_path(tmp, tmp2, sizeof(tmp2)) == 0)
            unlink(tmp2);
    }
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * delay-proxy: the benchmark's simulated network path to a DoT resolver.
 *
 * It accepts TCP on LISTEN, terminates TLS there with CERT/KEY and forwards
 * each DNS message over plain TCP to UPSTREAM (a local Unbound's port 53),
 * adding DELAY one way in each direction (this kernel has no netem). The delay
 * is applied to the raw bytes on the client side, before TLS: the TLS
 * handshake pays the round trips it would pay on a real path, and pipelined
 * messages are each delayed by DELAY, not queued behind each other. Only the
 * TCP handshake itself is not delayed (the kernel completes it), so a new
 * connection costs one round trip less than on a real network.
 *
 * Why not Unbound's own TLS port: Unbound 1.17 writes the 2-byte length and
 * the message as two TLS records, and Nagle holds the second back until the
 * first is ACKed (up to ~40 ms of delayed ACK). Here every socket has
 * TCP_NODELAY and every message leaves in one write (one TLS record), so the
 * upstream side adds nothing but DELAY.
 *
 * -N makes it a server that leaves Nagle on, as Unbound 1.17 does on the
 * connections it accepts (issue 13): every TLS write (a handshake flight,
 * the session tickets, each answer) is a server write; one made while an
 * earlier one is not yet ACKed is held, with whatever follows, until the
 * ACK would reach the server. The proxy sees the client's kernel ACK what it
 * delivered (SIOCOUTQ drops to 0, polled every NAGLE_POLL_NS), and the
 * server learns of it DELAY later; then the held bytes leave (and arrive
 * DELAY later still). So the client's ACK policy and how it spreads queries
 * over connections cost what they would on a real path with that delay.
 * Held bytes reaching NAGLE_MSS leave at once, as Nagle allows.
 *
 * One thread, epoll, memory BIOs. SIGUSR1 prints counters to stderr (so the
 * harness can count new connections and full handshakes per run); SIGTERM
 * prints them and exits.
 *
 * usage: delay-proxy -l ADDR:PORT -u ADDR:PORT -c CERT -k KEY [-d MS] [-N] [-r READYFILE]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define MAX_EVENTS    64
#define READ_CHUNK    16384
#define NAGLE_MSS     1448   /* a typical path MSS (loopback's is 64 KiB) */
#define NAGLE_POLL_NS 50000u /* how often an awaited ACK is looked for */

struct chunk {
    struct chunk *next;
    uint64_t due_ns;
    size_t len, off;
    uint8_t data[];
};

struct queue {
    struct chunk *head, *tail;
};

/* A growable byte buffer. */
struct buf {
    uint8_t *p;
    size_t len, cap;
};

struct conn;
struct endpoint {
    struct conn *c;
    bool upstream;
};

struct conn {
    struct conn *next;
    int cfd, ufd;
    SSL *ssl;
    BIO *rbio, *wbio;   /* network side of the TLS session, in memory */
    struct queue in_q;  /* raw bytes from the client, fed to TLS when due */
    struct queue out_q; /* raw TLS bytes to the client, written when due */
    struct buf plain;   /* decrypted client stream, not yet a whole message */
    struct buf from_up; /* upstream stream, not yet a whole message */
    struct buf to_up;   /* whole messages the upstream socket did not take yet */
    bool c_out, u_out;  /* EPOLLOUT registered */
    bool c_eof, u_eof, dead, counted;
    /* -N: the emulated server's Nagle state */
    bool unacked;      /* it wrote something the client has not ACKed yet */
    uint64_t acked_at; /* when the proxy saw the client ACK it all; 0: not yet */
    struct buf held;   /* writes Nagle holds back */
    struct endpoint ep_c, ep_u;
};

static struct {
    struct sockaddr_in listen, upstream;
    const char *cert, *key, *ready;
    uint64_t delay_ns;
    bool nagle;
} cfg;

static struct {
    unsigned long accepted, handshakes, resumed, to_up, to_client, closed, errors;
} stats;

static struct conn *conns;
static int ep;
static SSL_CTX *ctx;
static volatile sig_atomic_t got_usr1, got_term;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fatal(const char *what) {
    fprintf(stderr, "delay-proxy: %s: %s\n", what, strerror(errno));
    ERR_print_errors_fp(stderr);
    exit(1);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n);
    if (!p)
        fatal("malloc");
    return p;
}

static void buf_append(struct buf *b, const uint8_t *p, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p)
            fatal("realloc");
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void buf_consume(struct buf *b, size_t n) {
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

/* Length of the first whole DNS-over-TCP frame in b (2-byte length + message), or 0. */
static size_t frame_len(const struct buf *b) {
    if (b->len < 2)
        return 0;
    size_t n = 2 + ((size_t)b->p[0] << 8 | b->p[1]);
    return b->len >= n ? n : 0;
}

static void enqueue(struct queue *q, const uint8_t *p, size_t n, uint64_t due) {
    struct chunk *ch = xmalloc(sizeof(*ch) + n);
    ch->next = NULL;
    ch->due_ns = due;
    ch->len = n;
    ch->off = 0;
    memcpy(ch->data, p, n);
    if (q->tail)
        q->tail->next = ch;
    else
        q->head = ch;
    q->tail = ch;
}

static void dequeue(struct queue *q) {
    struct chunk *ch = q->head;
    q->head = ch->next;
    if (!q->head)
        q->tail = NULL;
    free(ch);
}

static void queue_free(struct queue *q) {
    while (q->head)
        dequeue(q);
}

static void set_out(int fd, struct endpoint *e, bool *have, bool want) {
    if (*have == want)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = e};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) == 0)
        *have = want;
}

/* One server write leaves now (arriving after the delay), or with -N waits
 * behind an unacknowledged one, as Nagle makes it. */
static void server_write(struct conn *c, const uint8_t *p, size_t n, uint64_t now) {
    if (!cfg.nagle) {
        enqueue(&c->out_q, p, n, now + cfg.delay_ns);
        return;
    }
    buf_append(&c->held, p, n);
    while (c->held.len >= NAGLE_MSS) {
        enqueue(&c->out_q, c->held.p, NAGLE_MSS, now + cfg.delay_ns);
        buf_consume(&c->held, NAGLE_MSS);
        c->unacked = true;
        c->acked_at = 0;
    }
    if (!c->unacked && c->held.len > 0) {
        enqueue(&c->out_q, c->held.p, c->held.len, now + cfg.delay_ns);
        c->held.len = 0;
        c->unacked = true;
        c->acked_at = 0;
    }
}

/* -N: has the client ACKed everything, and has the server heard of it? */
static void nagle_check(struct conn *c, uint64_t now) {
    if (!cfg.nagle || !c->unacked)
        return;
    if (c->acked_at == 0) {
        int outq = 0;
        if (c->out_q.head || ioctl(c->cfd, SIOCOUTQ, &outq) < 0 || outq > 0)
            return;
        c->acked_at = now;
    }
    if (now < c->acked_at + cfg.delay_ns)
        return;
    c->unacked = false;
    if (c->held.len > 0) {
        uint8_t *tmp = xmalloc(c->held.len);
        size_t n = c->held.len;
        memcpy(tmp, c->held.p, n);
        c->held.len = 0;
        server_write(c, tmp, n, now);
        free(tmp);
    }
}

/* Whatever TLS produced (handshake records, answers) is one server write. */
static void drain_wbio(struct conn *c) {
    size_t pending = BIO_ctrl_pending(c->wbio);
    if (pending == 0)
        return;
    uint8_t *tmp = xmalloc(pending);
    int n = BIO_read(c->wbio, tmp, (int)pending);
    if (n > 0)
        server_write(c, tmp, (size_t)n, now_ns());
    free(tmp);
}

static void flush_up(struct conn *c) {
    while (c->to_up.len > 0) {
        ssize_t n = send(c->ufd, c->to_up.p, c->to_up.len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n < 0) {
            c->dead = true;
            return;
        }
        buf_consume(&c->to_up, (size_t)n);
    }
    set_out(c->ufd, &c->ep_u, &c->u_out, c->to_up.len > 0);
}

/* Feed due client bytes to TLS, forward whole decrypted messages upstream. */
static void client_side(struct conn *c, uint64_t now) {
    bool fed = false;
    while (c->in_q.head && c->in_q.head->due_ns <= now) {
        BIO_write(c->rbio, c->in_q.head->data, (int)c->in_q.head->len);
        dequeue(&c->in_q);
        fed = true;
    }
    if (!fed)
        return;
    if (!SSL_is_init_finished(c->ssl)) {
        int r = SSL_do_handshake(c->ssl);
        if (r <= 0) {
            int e = SSL_get_error(c->ssl, r);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                stats.errors++;
                c->dead = true;
            }
            drain_wbio(c);
            return;
        }
        stats.handshakes++;
        if (SSL_session_reused(c->ssl))
            stats.resumed++;
    }
    uint8_t tmp[READ_CHUNK];
    for (;;) {
        int n = SSL_read(c->ssl, tmp, sizeof(tmp));
        if (n > 0) {
            buf_append(&c->plain, tmp, (size_t)n);
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_ZERO_RETURN) {
            c->c_eof = true;
        } else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            stats.errors++;
            c->dead = true;
        }
        break;
    }
    size_t fl;
    while ((fl = frame_len(&c->plain)) > 0) {
        buf_append(&c->to_up, c->plain.p, fl);
        buf_consume(&c->plain, fl);
        stats.to_up++;
    }
    flush_up(c);
    drain_wbio(c);
}

/* One TLS record per answer: a whole message in one write. */
static void upstream_readable(struct conn *c) {
    uint8_t tmp[READ_CHUNK];
    for (;;) {
        /* Unbound does not set TCP_NODELAY: a second pipelined answer waits
         * for the ACK of the first, so ACK at once rather than delayed (the
         * flag is not sticky: set it before every read). */
        int one = 1;
        setsockopt(c->ufd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
        ssize_t n = recv(c->ufd, tmp, sizeof(tmp), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0) {
            c->u_eof = true;
            break;
        }
        buf_append(&c->from_up, tmp, (size_t)n);
    }
    size_t fl;
    while ((fl = frame_len(&c->from_up)) > 0) {
        if (SSL_write(c->ssl, c->from_up.p, (int)fl) <= 0) {
            stats.errors++;
            c->dead = true;
            return;
        }
        buf_consume(&c->from_up, fl);
        stats.to_client++;
        /* Each answer is a write of its own, as Unbound makes it. */
        if (cfg.nagle)
            drain_wbio(c);
    }
    drain_wbio(c);
}

static void client_readable(struct conn *c) {
    uint8_t tmp[READ_CHUNK];
    uint64_t due = now_ns() + cfg.delay_ns;
    for (;;) {
        ssize_t n = recv(c->cfd, tmp, sizeof(tmp), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0) {
            c->c_eof = true;
            break;
        }
        enqueue(&c->in_q, tmp, (size_t)n, due);
    }
}

static void flush_client(struct conn *c, uint64_t now) {
    while (c->out_q.head && c->out_q.head->due_ns <= now) {
        struct chunk *ch = c->out_q.head;
        ssize_t n =
            send(c->cfd, ch->data + ch->off, ch->len - ch->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n < 0) {
            c->dead = true;
            return;
        }
        ch->off += (size_t)n;
        if (ch->off == ch->len)
            dequeue(&c->out_q);
    }
    bool blocked = c->out_q.head && c->out_q.head->due_ns <= now;
    set_out(c->cfd, &c->ep_c, &c->c_out, blocked);
}

static void conn_free(struct conn *c) {
    close(c->cfd);
    close(c->ufd);
    SSL_free(c->ssl); /* frees both BIOs */
    queue_free(&c->in_q);
    queue_free(&c->out_q);
    free(c->plain.p);
    free(c->from_up.p);
    free(c->to_up.p);
    free(c->held.p);
    free(c);
    stats.closed++;
}

static void nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void accept_all(int lfd) {
    for (;;) {
        int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
            return;
        stats.accepted++;
        /* Loopback: a blocking connect is immediate. */
        int ufd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (ufd < 0 || connect(ufd, (struct sockaddr *)&cfg.upstream, sizeof(cfg.upstream)) < 0) {
            fprintf(stderr, "delay-proxy: upstream connect: %s\n", strerror(errno));
            stats.errors++;
            if (ufd >= 0)
                close(ufd);
            close(cfd);
            continue;
        }
        if (fcntl(ufd, F_SETFL, O_NONBLOCK) < 0)
            fatal("fcntl");
        nodelay(cfd);
        nodelay(ufd);
        struct conn *c = calloc(1, sizeof(*c));
        if (!c)
            fatal("calloc");
        c->cfd = cfd;
        c->ufd = ufd;
        c->ssl = SSL_new(ctx);
        c->rbio = BIO_new(BIO_s_mem());
        c->wbio = BIO_new(BIO_s_mem());
        if (!c->ssl || !c->rbio || !c->wbio)
            fatal("SSL_new");
        BIO_set_mem_eof_return(c->rbio, -1);
        SSL_set_bio(c->ssl, c->rbio, c->wbio);
        SSL_set_accept_state(c->ssl);
        c->ep_c = (struct endpoint){c, false};
        c->ep_u = (struct endpoint){c, true};
        struct epoll_event evc = {.events = EPOLLIN, .data.ptr = &c->ep_c};
        struct epoll_event evu = {.events = EPOLLIN, .data.ptr = &c->ep_u};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &evc) < 0 ||
            epoll_ctl(ep, EPOLL_CTL_ADD, ufd, &evu) < 0)
            fatal("epoll_ctl");
        c->next = conns;
        conns = c;
    }
}

static void print_stats(const char *why) {
    fprintf(stderr,
            "delay-proxy: %s: accepted=%lu handshakes=%lu resumed=%lu to_upstream=%lu "
            "to_client=%lu closed=%lu errors=%lu\n",
            why, stats.accepted, stats.handshakes, stats.resumed, stats.to_up, stats.to_client,
            stats.closed, stats.errors);
}

static void on_signal(int sig) {
    if (sig == SIGUSR1)
        got_usr1 = 1;
    else
        got_term = 1;
}

static void parse_addr(const char *s, struct sockaddr_in *sa) {
    char host[64];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof(host)) {
        fprintf(stderr, "delay-proxy: %s: want IPV4:PORT\n", s);
        exit(2);
    }
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    *sa = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
        fprintf(stderr, "delay-proxy: %s: not an IPv4 address\n", host);
        exit(2);
    }
}

static void parse_args(int argc, char **argv) {
    int o;
    bool have_l = false, have_u = false;
    while ((o = getopt(argc, argv, "l:u:c:k:d:Nr:")) != -1) {
        switch (o) {
        case 'l':
            parse_addr(optarg, &cfg.listen);
            have_l = true;
            break;
        case 'u':
            parse_addr(optarg, &cfg.upstream);
            have_u = true;
            break;
        case 'c':
            cfg.cert = optarg;
            break;
        case 'k':
            cfg.key = optarg;
            break;
        case 'd':
            cfg.delay_ns = (uint64_t)(strtod(optarg, NULL) * 1e6);
            break;
        case 'N':
            cfg.nagle = true;
            break;
        case 'r':
            cfg.ready = optarg;
            break;
        default:
            fprintf(stderr, "usage: delay-proxy -l ADDR:PORT -u ADDR:PORT -c CERT -k KEY "
                            "[-d MS] [-N] [-r READYFILE]\n");
            exit(2);
        }
    }
    if (!have_l || !have_u || !cfg.cert || !cfg.key || optind != argc) {
        fprintf(stderr, "delay-proxy: -l, -u, -c and -k are required\n");
        exit(2);
    }
}

static void setup_tls(void) {
    ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
        SSL_CTX_use_certificate_chain_file(ctx, cfg.cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, cfg.key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
        fatal("TLS setup");
    /* Resumption (tickets, and a server-side cache for TLS 1.2 session IDs)
     * as a public resolver offers it. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"delay-proxy", 11);
}

static int listen_on(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, (struct sockaddr *)&cfg.listen, sizeof(cfg.listen)) < 0 ||
        listen(fd, SOMAXCONN) < 0)
        fatal("listen");
    return fd;
}

static void write_ready(void) {
    if (!cfg.ready)
        return;
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", cfg.ready);
    FILE *f = fopen(tmp, "we");
    if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0 ||
        rename(tmp, cfg.ready) < 0)
        fatal("ready file");
}

/* Time until the next chunk is due, or NULL (no timer) when nothing waits. */
static struct timespec *next_timeout(struct timespec *ts, uint64_t now) {
    uint64_t next = UINT64_MAX;
    for (struct conn *c = conns; c; c = c->next) {
        if (c->in_q.head && c->in_q.head->due_ns < next)
            next = c->in_q.head->due_ns;
        if (c->out_q.head && !c->c_out && c->out_q.head->due_ns < next)
            next = c->out_q.head->due_ns;
        if (cfg.nagle && c->unacked) {
            uint64_t due = c->acked_at ? c->acked_at + cfg.delay_ns : now + NAGLE_POLL_NS;
            if (due < next)
                next = due;
        }
    }
    if (next == UINT64_MAX)
        return NULL;
    uint64_t d = next > now ? next - now : 0;
    ts->tv_sec = (time_t)(d / 1000000000u);
    ts->tv_nsec = (long)(d % 1000000000u);
    return ts;
}

int main(int argc, char **argv) {
    parse_args(argc, argv);
    setup_tls();
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: wake epoll */
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int lfd = listen_on();
    ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) < 0)
        fatal("epoll");
    write_ready();

    for (;;) {
        struct epoll_event evs[MAX_EVENTS];
        struct timespec ts;
        int n = epoll_pwait2(ep, evs, MAX_EVENTS, next_timeout(&ts, now_ns()), NULL);
        if (n < 0 && errno != EINTR)
            fatal("epoll_pwait2");
        if (got_usr1) {
            got_usr1 = 0;
            print_stats("stats");
        }
        if (got_term) {
            print_stats("exit");
            return 0;
        }
        for (int k = 0; k < n; k++) {
            struct endpoint *e = evs[k].data.ptr;
            if (!e) {
                accept_all(lfd);
                continue;
            }
            struct conn *c = e->c;
            if (e->upstream) {
                if (evs[k].events & EPOLLOUT)
                    flush_up(c);
                if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                    upstream_readable(c);
            } else if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                client_readable(c);
            }
        }
        /* Deliver whatever is due, and retire finished connections. */
        uint64_t now = now_ns();
        for (struct conn **pp = &conns; *pp;) {
            struct conn *c = *pp;
            if (!c->dead)
                client_side(c, now);
            if (!c->dead)
                flush_client(c, now);
            if (!c->dead) {
                nagle_check(c, now);
                flush_client(c, now);
            }
            /* A side that closed ends the connection once what it sent has
             * been delivered. */
            if ((c->c_eof && !c->in_q.head) || (c->u_eof && !c->out_q.head))
                c->dead = true;
            if (c->dead) {
                *pp = c->next;
                conn_free(c);
            } else {
                pp = &c->next;
            }
        }
    }
}

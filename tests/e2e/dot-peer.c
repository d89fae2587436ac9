/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dot-peer.c: a small DNS-over-TLS (or plain DNS-over-TCP) server for the
 * pool tests, which can misbehave on purpose. It answers every A query with
 * one address (--answer) and every other query with NODATA, so any name
 * works (fresh names defeat caches). One thread per connection.
 *
 * With --forward it answers nothing itself: it relays each query, unchanged,
 * to a plain DNS-over-TCP server and the answer back, unchanged (chains.sh
 * puts it in front of NSD, which, unlike Unbound, answers a CNAME chain of
 * any length whole).
 *
 *   dot-peer --listen ADDR --port N [--cert F --key F | --plain]
 *            [--answer A.B.C.D | --forward ADDR:PORT] [--close-after-answer]
 *            [--stall] [--delay MS] [--keepalive N] [--idle-close MS]
 *            [--wrong-question name|type] [--length-then-silence]
 *            [--garbage short|long|body] [--tls-max 1.1] [--log FILE] [--ready FILE]
 *
 * --forward ADDR:PORT   relay every query over TCP to ADDR:PORT ("[v6]:PORT"
 *                       for IPv6), one upstream connection per client
 *                       connection, opened at its first query and reused;
 *                       answers go back in order. Any upstream error (or no
 *                       answer within 5 s) closes the client connection.
 *                       --keepalive is ignored (the answer is not touched).
 * --close-after-answer  close the connection after each answer
 * --stall               accept TCP connections, then never speak (no TLS)
 * --tls-max 1.1         speak TLS 1.0 or 1.1 only (an old server, below the
 *                       daemon's TLS 1.2 floor)
 * --delay MS            wait MS milliseconds before each answer
 * --keepalive N         add an RFC 7828 edns-tcp-keepalive option (N x 100 ms)
 * --idle-close MS       close a connection that has been idle for MS ms
 * --wrong-question name|type
 *                       answer with the query's ID but another question:
 *                       "name" changes the first octet of the first label
 *                       (case-insensitively different), "type" swaps A and
 *                       AAAA (anything else becomes A). Either way the answer
 *                       holds one A record, the --answer address, owned by
 *                       the (wrong) question name: a resolver that used it
 *                       would print that address.
 * --length-then-silence after the TLS handshake, write only the 2-octet
 *                       length prefix of the would-be answer to each query,
 *                       then nothing (the connection stays open)
 * --garbage short|long|body
 *                       answer each query inside TLS with random bytes:
 *                       "short" a length prefix below a DNS header (0..11)
 *                       then random octets, "long" a prefix of 4096 or more
 *                       followed by only 64 random octets, "body" a prefix
 *                       that matches 64 random octets that are not a DNS
 *                       answer (QR clear, QDCOUNT 0xffff)
 * --log FILE            one line per event: "accept", "handshake",
 *                       "resumed", "query LEN" (LEN = DNS message length),
 *                       "close" (a connection ended, either side closing),
 *                       with --forward also "forward-connect" and
 *                       "answer LEN", or "forward-error" when the upstream
 *                       failed; "prefix LEN" (--length-then-silence) and
 *                       "garbage PREFIX" (--garbage) for what was sent
 * --ready FILE          created once listening
 * Runs until killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static SSL_CTX *ctx;
static bool close_after_answer, stall, length_then_silence;
static char wrong_question; /* 0, 'n' (name) or 't' (type) */
static char garbage;        /* 0, 's' (short), 'l' (long) or 'b' (body) */
static int delay_ms, keepalive = -1, idle_close_ms;
static uint8_t answer_addr[4] = {192, 0, 2, 77};
static struct sockaddr_storage forward_ss;
static socklen_t forward_sl; /* 0: answer locally, no --forward */
static FILE *logf;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void note(const char *fmt, int arg) {
    if (!logf)
        return;
    pthread_mutex_lock(&log_lock);
    fprintf(logf, fmt, arg);
    fputc('\n', logf);
    fflush(logf);
    pthread_mutex_unlock(&log_lock);
}

struct io {
    int fd;
    SSL *ssl;
};

static int io_read(struct io *io, uint8_t *p, size_t len) {
    size_t got = 0;
    while (got < len) {
        int n = io->ssl ? SSL_read(io->ssl, p + got, (int)(len - got))
                        : (int)read(io->fd, p + got, len - got);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

static int io_write(struct io *io, const uint8_t *p, size_t len) {
    if (io->ssl)
        return SSL_write(io->ssl, p, (int)len) == (int)len ? 0 : -1;
    return send(io->fd, p, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* Builds the answer to q (len bytes) into out; returns its length or -1. */
static int make_answer(const uint8_t *q, size_t len, uint8_t *out, size_t cap) {
    if (len < 12 || cap < len + 16)
        return -1;
    size_t off = 12;
    while (off < len && q[off] != 0)
        off += q[off] + 1u;
    if (off + 5 > len)
        return -1;
    size_t qend = off + 5; /* root label + QTYPE + QCLASS */
    uint16_t qtype = (uint16_t)(q[off + 1] << 8 | q[off + 2]);
    memcpy(out, q, qend);
    if (wrong_question == 'n' && q[12] > 0) {
        /* Another first octet, also after ASCII case folding. */
        out[13] = (q[13] | 0x20) == 'x' ? 'y' : 'x';
    } else if (wrong_question == 't') {
        uint16_t other = qtype == 1 ? 28 : 1;
        out[off + 1] = (uint8_t)(other >> 8);
        out[off + 2] = (uint8_t)other;
    }
    out[2] = 0x84 | (q[2] & 0x01); /* QR, AA, RD copied */
    out[3] = 0x80;                 /* RA, NOERROR */
    out[6] = out[7] = out[8] = out[9] = out[10] = out[11] = 0;
    size_t n = qend;
    if (qtype == 1 || wrong_question) {
        static const uint8_t rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4};
        memcpy(out + n, rr, sizeof(rr));
        memcpy(out + n + sizeof(rr), answer_addr, 4);
        n += sizeof(rr) + 4;
        out[7] = 1;
    }
    if (keepalive >= 0) {
        /* OPT: root owner, type 41, class 1232, TTL 0, one keepalive option. */
        const uint8_t opt[] = {0,
                               0,
                               41,
                               0x04,
                               0xd0,
                               0,
                               0,
                               0,
                               0,
                               0,
                               6,
                               0,
                               11,
                               0,
                               2,
                               (uint8_t)(keepalive >> 8),
                               (uint8_t)keepalive};
        memcpy(out + n, opt, sizeof(opt));
        n += sizeof(opt);
        out[11] = 1;
    }
    return (int)n;
}

/* Fills ss/sl from "ADDR:PORT" or "[ADDR]:PORT"; 0 or -1. */
static int parse_addr_port(const char *text, struct sockaddr_storage *ss, socklen_t *sl) {
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || (size_t)(colon - text) >= sizeof(host))
        return -1;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    char *h = host, *end;
    size_t hl = strlen(h);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h[hl - 1] = '\0';
        h++;
    }
    long port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || end == colon + 1 || port < 1 || port > 65535)
        return -1;
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    if (inet_pton(AF_INET6, h, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *sl = sizeof(*s6);
    } else if (h == host && inet_pton(AF_INET, h, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        *sl = sizeof(*s4);
    } else {
        return -1;
    }
    return 0;
}

/* A TCP connection to the --forward server, or -1. Every read and write on
 * it is bounded, so a silent upstream cannot hold a thread forever. */
static int forward_connect(void) {
    int one = 1, fd = socket(forward_ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&forward_ss, forward_sl) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Relays the length-prefixed query in q (len octets after the prefix) over
 * *fd (connected first if it is -1) and reads the upstream's length-prefixed
 * answer into out (cap octets, prefix included). Returns the answer's length
 * without its prefix, or -1 (then the caller closes everything). */
static int forward_answer(int *fd, const uint8_t *q, size_t len, uint8_t *out, size_t cap) {
    if (*fd < 0) {
        *fd = forward_connect();
        if (*fd < 0)
            return -1;
        note("forward-connect", 0);
    }
    struct io up = {.fd = *fd};
    uint8_t hdr[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    if (io_write(&up, hdr, 2) < 0 || io_write(&up, q, len) < 0 || cap < 2 ||
        io_read(&up, out, 2) < 0)
        return -1;
    size_t n = (size_t)(out[0] << 8 | out[1]);
    if (n > cap - 2 || io_read(&up, out + 2, n) < 0)
        return -1;
    return (int)n;
}

/* --garbage: random octets (not secret, only unpredictable enough). */
static void fill_random(uint8_t *p, size_t len) {
    static __thread unsigned seed;
    if (!seed)
        seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)&seed;
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)rand_r(&seed);
}

/* Builds the --garbage reply (length prefix included) into out; its length. */
static size_t make_garbage(uint8_t *out) {
    uint8_t r[2];
    fill_random(r, 2);
    fill_random(out + 2, 64);
    size_t prefix = 64;
    if (garbage == 's')
        prefix = r[0] % 12;
    else if (garbage == 'l')
        prefix = 4096 + (size_t)((r[0] << 8 | r[1]) % (65535 - 4096));
    else {
        out[2 + 2] &= 0x7f;             /* QR clear: a query, not an answer */
        out[2 + 4] = out[2 + 5] = 0xff; /* QDCOUNT 65535 */
    }
    out[0] = (uint8_t)(prefix >> 8);
    out[1] = (uint8_t)prefix;
    return 2 + 64;
}

static void *serve(void *arg) {
    struct io io = {.fd = (int)(intptr_t)arg};
    int up_fd = -1; /* --forward: this client's upstream connection */
    note("accept", 0);
    if (stall) {
        uint8_t sink[512];
        while (read(io.fd, sink, sizeof(sink)) > 0)
            ;
        close(io.fd);
        return NULL;
    }
    if (idle_close_ms > 0) {
        struct timeval tv = {idle_close_ms / 1000, (idle_close_ms % 1000) * 1000};
        setsockopt(io.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    }
    if (ctx) {
        io.ssl = SSL_new(ctx);
        SSL_set_fd(io.ssl, io.fd);
        if (SSL_accept(io.ssl) != 1)
            goto out;
        note(SSL_session_reused(io.ssl) ? "resumed" : "handshake", 0);
    }
    for (;;) {
        uint8_t hdr[2], q[65535], a[65535 + 16];
        if (io_read(&io, hdr, 2) < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                note("idle-close", 0);
            break;
        }
        size_t len = (size_t)(hdr[0] << 8 | hdr[1]);
        if (io_read(&io, q, len) < 0)
            break;
        note("query %d", (int)len);
        if (delay_ms > 0)
            usleep((useconds_t)delay_ms * 1000);
        if (length_then_silence || garbage) {
            size_t glen = 2;
            if (garbage) {
                glen = make_garbage(a);
            } else {
                int m = make_answer(q, len, a + 2, sizeof(a) - 2);
                if (m < 0)
                    m = 64; /* a would-be answer all the same */
                a[0] = (uint8_t)(m >> 8);
                a[1] = (uint8_t)m;
            }
            note(garbage ? "garbage %d" : "prefix %d", a[0] << 8 | a[1]);
            if (io_write(&io, a, glen) < 0)
                break;
            continue;
        }
        int n;
        if (forward_sl) {
            n = forward_answer(&up_fd, q, len, a, sizeof(a));
            note(n < 0 ? "forward-error" : "answer %d", n);
        } else {
            n = make_answer(q, len, a + 2, sizeof(a) - 2);
        }
        if (n < 0)
            break;
        a[0] = (uint8_t)(n >> 8);
        a[1] = (uint8_t)n;
        if (io_write(&io, a, (size_t)n + 2) < 0 || close_after_answer)
            break;
    }
out:
    if (up_fd >= 0)
        close(up_fd);
    if (io.ssl) {
        SSL_shutdown(io.ssl);
        SSL_free(io.ssl);
    }
    close(io.fd);
    note("close", 0);
    return NULL;
}

int main(int argc, char **argv) {
    const char *listen_addr = "127.0.0.1", *cert = NULL, *key = NULL, *ready = NULL;
    int port = 853;
    bool plain = false, tls11 = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--close-after-answer"))
            close_after_answer = true;
        else if (!strcmp(a, "--stall"))
            stall = true;
        else if (!strcmp(a, "--plain"))
            plain = true;
        else if (!strcmp(a, "--length-then-silence"))
            length_then_silence = true;
        else if (v && !strcmp(a, "--wrong-question") && (!strcmp(v, "name") || !strcmp(v, "type")))
            wrong_question = argv[++i][0] == 'n' ? 'n' : 't';
        else if (v && !strcmp(a, "--garbage") &&
                 (!strcmp(v, "short") || !strcmp(v, "long") || !strcmp(v, "body")))
            garbage = argv[++i][0];
        else if (v && !strcmp(a, "--tls-max") && !strcmp(v, "1.1") && ++i)
            tls11 = true;
        else if (v && !strcmp(a, "--delay"))
            delay_ms = atoi(argv[++i]);
        else if (v && !strcmp(a, "--keepalive"))
            keepalive = atoi(argv[++i]);
        else if (v && !strcmp(a, "--idle-close"))
            idle_close_ms = atoi(argv[++i]);
        else if (v && !strcmp(a, "--listen"))
            listen_addr = argv[++i];
        else if (v && !strcmp(a, "--port"))
            port = atoi(argv[++i]);
        else if (v && !strcmp(a, "--cert"))
            cert = argv[++i];
        else if (v && !strcmp(a, "--key"))
            key = argv[++i];
        else if (v && !strcmp(a, "--ready"))
            ready = argv[++i];
        else if (v && !strcmp(a, "--log"))
            logf = fopen(argv[++i], "a");
        else if (v && !strcmp(a, "--answer") && inet_pton(AF_INET, argv[i + 1], answer_addr) == 1)
            i++;
        else if (v && !strcmp(a, "--forward") &&
                 parse_addr_port(argv[i + 1], &forward_ss, &forward_sl) == 0)
            i++;
        else {
            fprintf(stderr, "dot-peer: bad argument %s\n", a);
            return 2;
        }
    }
    if (!plain && !stall) {
        ctx = SSL_CTX_new(TLS_server_method());
        if (!ctx || !cert || !key || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
            fprintf(stderr, "dot-peer: cannot load the certificate and key\n");
            return 1;
        }
        /* An old server: TLS 1.1 at most (below the daemon's floor), with
         * the security level that still allows it. */
        if (tls11 && (SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION) != 1 ||
                      SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION) != 1 ||
                      SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0") != 1)) {
            fprintf(stderr, "dot-peer: cannot limit TLS to 1.1\n");
            return 1;
        }
    }
    struct sockaddr_storage ss = {0};
    socklen_t sl;
    if (inet_pton(AF_INET6, listen_addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        ss.ss_family = AF_INET6;
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
        sl = sizeof(struct sockaddr_in6);
    } else if (inet_pton(AF_INET, listen_addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        ss.ss_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
        sl = sizeof(struct sockaddr_in);
    } else {
        return 2;
    }
    int one = 1, lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(lfd, (struct sockaddr *)&ss, sl) < 0 || listen(lfd, 128) < 0) {
        perror("dot-peer: bind/listen");
        return 1;
    }
    if (ready) {
        FILE *f = fopen(ready, "w");
        if (f)
            fclose(f);
    }
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        pthread_t t;
        if (pthread_create(&t, NULL, serve, (void *)(intptr_t)fd) != 0)
            close(fd);
        else
            pthread_detach(t);
    }
}

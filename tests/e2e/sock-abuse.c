/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sock-abuse.c: a misbehaving client of dot-helperd's lookup socket, for
 * socket-abuse.sh. Each mode does one bad thing and checks how the daemon
 * answers it; exit 0 when the daemon behaved, 1 when not, 2 on usage errors.
 *
 *   garbage      4 KiB that is not a frame     -> the daemon closes
 *   hugelen      a header claiming 4 GiB       -> the daemon closes
 *   badversion   a header of version 99        -> a reply with status UNAVAIL
 *   replyop      a frame with the REPLY op     -> the daemon closes
 *   badname      name_len that lies            -> the daemon closes
 *   slow         half a header, then silence   -> closed within the request deadline
 *   idle         nothing at all                -> closed within the request deadline
 *   header       the whole header, no body     -> closed within the request deadline
 *   partbody     the header and part of a body -> closed within the request deadline
 *   noread NAME  a lookup whose reply is larger than a socket buffer, never
 *                read                          -> closed within the deadline of a
 *                                                 reply that blocked (the reply cut)
 *   flood N [header]  N idle connections at once (or each with a header
 *                only)                         -> those over a cap get TRYAGAIN,
 *                                                 the rest are closed by the deadline
 * The request deadline is 2 s (server.h); "within" here means by 4 s, and
 * not before 1.5 s (so the deadline, not an error, closed it).
 */
#define _GNU_SOURCE /* POLLRDHUP */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

static const char *sock_path;

static int dial(void) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror("connect");
        exit(1);
    }
    return fd;
}

/* Reads until EOF or timeout_ms; returns bytes read, -1 on timeout. */
static ssize_t read_to_eof(int fd, unsigned char *buf, size_t cap, int timeout_ms) {
    size_t got = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, timeout_ms);
        if (r == 0)
            return -1;
        if (r < 0 && errno == EINTR)
            continue;
        ssize_t n = read(fd, buf + got, cap - got);
        if (n < 0 && errno == ECONNRESET)
            return (ssize_t)got;
        if (n <= 0)
            return n < 0 ? -1 : (ssize_t)got;
        got += (size_t)n;
        if (got == cap)
            return (ssize_t)got;
    }
}

static int expect_closed(int fd, const void *msg, size_t len, int timeout_ms) {
    unsigned char buf[256];
    if (len && send(fd, msg, len, MSG_NOSIGNAL) < 0 && errno != EPIPE && errno != ECONNRESET) {
        perror("send");
        return 1;
    }
    ssize_t n = read_to_eof(fd, buf, sizeof(buf), timeout_ms);
    close(fd);
    if (n != 0) {
        fprintf(stderr, "expected the daemon to close without a reply, got %zd\n", n);
        return 1;
    }
    return 0;
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends msg, then waits for the daemon to close: it must, by its deadline
 * (between 1.5 and 4 s after the connection). */
static int expect_closed_by_deadline(const char *what, const void *msg, size_t len) {
    int64_t t0 = now_ms();
    int fd = dial();
    int r = expect_closed(fd, msg, len, 6000);
    int64_t ms = now_ms() - t0;
    printf("%s: closed after %lld ms\n", what, (long long)ms);
    if (r == 0 && (ms < 1500 || ms > 4000)) {
        fprintf(stderr, "%s: closed after %lld ms, expected the 2 s deadline\n", what,
                (long long)ms);
        return 1;
    }
    return r;
}

/* A reply frame of one status and nothing else. */
static int expect_status(int fd, unsigned status, int timeout_ms) {
    unsigned char buf[64];
    ssize_t n = read_to_eof(fd, buf, sizeof(buf), timeout_ms);
    close(fd);
    if (n != 20 || buf[0] != 'N' || buf[1] != 'D' || buf[3] != 3 || buf[8] != status) {
        fprintf(stderr, "expected a reply with status %u, got %zd bytes (status %d)\n", status, n,
                n >= 9 ? buf[8] : -1);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3)
        return 2;
    sock_path = argv[1];
    const char *mode = argv[2];
    if (strcmp(mode, "garbage") == 0) {
        unsigned char junk[4096];
        for (size_t i = 0; i < sizeof(junk); i++)
            junk[i] = (unsigned char)(i * 131 + 7);
        return expect_closed(dial(), junk, sizeof(junk), 3000);
    }
    if (strcmp(mode, "hugelen") == 0) {
        static const unsigned char h[] = {'N', 'D', 1, 1, 0xff, 0xff, 0xff, 0xff};
        return expect_closed(dial(), h, sizeof(h), 3000);
    }
    if (strcmp(mode, "badversion") == 0) {
        static const unsigned char h[] = {'N', 'D', 99, 1, 0, 0, 0, 5, 0, 0, 0, 1, 'a'};
        int fd = dial();
        send(fd, h, sizeof(h), MSG_NOSIGNAL);
        return expect_status(fd, 4, 3000);
    }
    if (strcmp(mode, "replyop") == 0) {
        static const unsigned char h[] = {'N', 'D', 1, 3, 0, 0, 0, 12, 0, 0,
                                          0,   0,   0, 0, 0, 0, 0, 0,  0, 0};
        return expect_closed(dial(), h, sizeof(h), 3000);
    }
    if (strcmp(mode, "badname") == 0) {
        static const unsigned char h[] = {'N', 'D', 1, 1, 0, 0, 0, 6, 0, 0, 0, 9, 'a', 'b'};
        return expect_closed(dial(), h, sizeof(h), 3000);
    }
    if (strcmp(mode, "slow") == 0) {
        static const unsigned char h[] = {'N', 'D', 1};
        return expect_closed(dial(), h, sizeof(h), 6000);
    }
    if (strcmp(mode, "idle") == 0)
        return expect_closed_by_deadline("idle", NULL, 0);
    if (strcmp(mode, "header") == 0) {
        static const unsigned char h[] = {'N', 'D', 1, 1, 0, 0, 0, 20};
        return expect_closed_by_deadline("header only", h, sizeof(h));
    }
    if (strcmp(mode, "partbody") == 0) {
        static const unsigned char h[] = {'N', 'D', 1, 1, 0, 0, 0, 20, 0, 0, 0, 16, 'a'};
        return expect_closed_by_deadline("part of a body", h, sizeof(h));
    }
    if (strcmp(mode, "noread") == 0 && argc == 4) {
        /* A lookup whose reply outgrows the daemon's socket buffer: its
         * write blocks, and a client that never reads is dropped. */
        const char *name = argv[3];
        unsigned char req[8 + 4 + 256];
        size_t n = strlen(name);
        if (n > 255)
            return 2;
        memcpy(req, (const unsigned char[]){'N', 'D', 1, 1, 0, 0, 0, (unsigned char)(4 + n)}, 8);
        memcpy(req + 8, (const unsigned char[]){0, 0, 0, (unsigned char)n}, 4);
        memcpy(req + 12, name, n);
        int fd = dial();
        int one = 4096;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one));
        int64_t t0 = now_ms();
        if (send(fd, req, 12 + n, MSG_NOSIGNAL) < 0)
            return 1;
        /* Wait for the hang-up without reading a byte. */
        struct pollfd p = {.fd = fd, .events = POLLRDHUP};
        int r = poll(&p, 1, 12000);
        int64_t ms = now_ms() - t0;
        if (r != 1) {
            fprintf(stderr, "noread: still open after %lld ms\n", (long long)ms);
            return 1;
        }
        /* Now read what was sent: a cut reply, less than its header says. */
        static unsigned char buf[4 << 20];
        ssize_t got = read_to_eof(fd, buf, sizeof(buf), 3000);
        close(fd);
        uint32_t want =
            got >= 8 ? ((uint32_t)buf[4] << 24 | buf[5] << 16 | buf[6] << 8 | buf[7]) : 0;
        printf("noread: hung up after %lld ms, %zd of %u + 8 octets sent\n", (long long)ms, got,
               want);
        if (got < 8 || (size_t)got >= want + 8u) {
            fprintf(stderr, "noread: expected a reply cut short, got %zd octets\n", got);
            return 1;
        }
        return ms < 1500 ? 1 : 0;
    }
    if (strcmp(mode, "flood") == 0 && (argc == 4 || argc == 5)) {
        int n = atoi(argv[3]);
        bool header = argc == 5 && strcmp(argv[4], "header") == 0;
        int *fds = calloc((size_t)n, sizeof(int));
        if (!fds || n <= 0)
            return 2;
        static const unsigned char h[] = {'N', 'D', 1, 1, 0, 0, 0, 20};
        for (int i = 0; i < n; i++) {
            fds[i] = dial();
            if (header)
                (void)send(fds[i], h, sizeof(h), MSG_NOSIGNAL);
        }
        int tryagain = 0, closed = 0;
        for (int i = 0; i < n; i++) {
            unsigned char buf[64];
            ssize_t got = read_to_eof(fds[i], buf, sizeof(buf), 6000);
            if (got == 20 && buf[8] == 3)
                tryagain++;
            else if (got == 0)
                closed++;
            close(fds[i]);
        }
        free(fds);
        printf("flood: %d connections, %d told TRYAGAIN, %d closed idle\n", n, tryagain, closed);
        return tryagain + closed == n && tryagain > 0 ? 0 : 1;
    }
    return 2;
}

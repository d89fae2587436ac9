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
 *   flood N      N idle connections at once    -> those over the cap get TRYAGAIN,
 *                                                 the rest are closed by the deadline
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
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

/* A reply frame of one status and nothing else. */
static int expect_status(int fd, unsigned status, int timeout_ms) {
    unsigned char buf[64];
    ssize_t n = read_to_eof(fd, buf, sizeof(buf), timeout_ms);
    close(fd);
    if (n != 20 || buf[0] != 'N' || buf[1] != 'D' || buf[3] != 3 || buf[8] != status) {
        fprintf(stderr, "expected a reply with status %u, got %zd bytes (status %d)\n", status,
                n, n >= 9 ? buf[8] : -1);
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
        static const unsigned char h[] = {'N', 'D', 1, 3, 0, 0, 0, 12, 0, 0, 0, 0,
                                          0,   0,   0, 0, 0, 0, 0, 0};
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
    if (strcmp(mode, "flood") == 0 && argc == 4) {
        int n = atoi(argv[3]);
        int *fds = calloc((size_t)n, sizeof(int));
        if (!fds || n <= 0)
            return 2;
        for (int i = 0; i < n; i++)
            fds[i] = dial();
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

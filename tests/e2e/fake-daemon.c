/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fake-daemon.c: an impostor on a lookup socket, for tests/e2e/trust.sh. It
 * listens on a Unix socket (mode 0666), logs "accept" for every connection
 * and "request N" for every request it reads, and answers each with a
 * well-formed reply that no real daemon would give (impostor.test,
 * 203.0.113.66), so a test can tell whether the module used it.
 *
 *   fake-daemon --socket PATH --log FILE --ready FILE [--hangup|--garbage|--badmagic]
 *
 * --hangup: read the request, then close without a reply (a daemon that
 * sheds the client or dies mid-lookup). --garbage: reply with a well-formed
 * header and a body that does not decode; --badmagic: with a header that is
 * not one (a daemon with a bug, or of another protocol).
 *
 * Runs until killed; one client at a time, each read bounded by 2 s.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static FILE *logf_;

static void note(const char *what, long n) {
    fprintf(logf_, n >= 0 ? "%s %ld\n" : "%s\n", what, n);
    fflush(logf_);
}

int main(int argc, char **argv) {
    const char *path = NULL, *logpath = NULL, *ready = NULL;
    int hangup = 0, garbage = 0, badmagic = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--hangup") == 0)
            hangup = 1;
        else if (strcmp(argv[i], "--garbage") == 0)
            garbage = 1;
        else if (strcmp(argv[i], "--badmagic") == 0)
            badmagic = 1;
        else if (i + 1 < argc && strcmp(argv[i], "--socket") == 0)
            path = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--log") == 0)
            logpath = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--ready") == 0)
            ready = argv[++i];
    }
    if (!path || !logpath || !ready || !(logf_ = fopen(logpath, "a"))) {
        fprintf(stderr, "usage: fake-daemon --socket PATH --log FILE --ready FILE\n");
        return 2;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(path);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0666) < 0 ||
        listen(lfd, 16) < 0) {
        perror(path);
        return 1;
    }
    FILE *r = fopen(ready, "w");
    if (r)
        fclose(r);
    /* A reply frame: "ND", version 1, op REPLY, then the body: OK, no
     * aliases, one address, canon "impostor.test", ttl 60. */
    static const uint8_t reply[] = {
        'N', 'D', 1,   3,   0,   0,   0,   30,                     /* header, body 30 octets */
        0,   0,   0,   0,   0,   1,   0,   13,  0,   0,   0,   60, /* status, flags, counts, ttl */
        'i', 'm', 'p', 'o', 's', 't', 'o', 'r', '.', 't', 'e', 's',
        't', 4,   203, 0,   113, 66, /* the address */
    };
    static uint8_t bad[sizeof(reply)];
    memcpy(bad, reply, sizeof(reply));
    if (garbage)
        memset(bad + 8, 0xff, sizeof(bad) - 8); /* counts far past the body */
    if (badmagic)
        bad[0] = 'X';
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        note("accept", -1);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        uint8_t buf[2048];
        ssize_t n = 0;
        if (poll(&p, 1, 2000) == 1)
            n = recv(fd, buf, sizeof(buf), 0);
        if (n > 0) {
            note("request", (long)n);
            if (!hangup)
                (void)send(fd, bad, sizeof(bad), MSG_NOSIGNAL);
        }
        close(fd);
    }
}

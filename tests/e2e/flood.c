/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * flood.c: one local user flooding dot-helperd's lookup socket, for
 * tests/e2e/flood.sh. For SECONDS it keeps CONNS connections open: half of
 * them each send a request header and nothing more (and dial again when
 * the daemon closes them), the other half ask for random names one after
 * the other. Prints what it got: answers, TRYAGAIN replies, closes.
 *
 *   flood SOCKET SECONDS CONNS
 *
 * Bounded: stops after SECONDS; at most CONNS descriptors (the caller
 * raises RLIMIT_NOFILE).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_un sa = {.sun_family = AF_UNIX};
static unsigned long answers, tryagain, closed, refused_dial, requests;

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct slot {
    int fd;
    int holder; /* sends a header only */
    uint8_t buf[64];
    size_t got;
};

static int dial(struct slot *s, unsigned *seed) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        refused_dial++;
        close(fd);
        return -1;
    }
    s->fd = fd;
    s->got = 0;
    if (s->holder) {
        static const uint8_t h[] = {'N', 'D', 1, 1, 0, 0, 0, 20};
        (void)send(fd, h, sizeof(h), MSG_NOSIGNAL);
    } else {
        char name[64];
        int n = snprintf(name, sizeof(name), "f%08x.test", rand_r(seed));
        uint8_t req[8 + 4 + 64] = {'N', 'D', 1, 1, 0, 0, 0, (uint8_t)(4 + n), 4, 0, 0, (uint8_t)n};
        memcpy(req + 12, name, (size_t)n);
        (void)send(fd, req, 12 + (size_t)n, MSG_NOSIGNAL);
        requests++;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 4)
        return 2;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
    int secs = atoi(argv[2]), n = atoi(argv[3]);
    if (secs < 1 || secs > 120 || n < 1 || n > 10000)
        return 2;
    struct slot *slots = calloc((size_t)n, sizeof(*slots));
    struct pollfd *pf = calloc((size_t)n, sizeof(*pf));
    unsigned seed = (unsigned)getpid();
    for (int i = 0; i < n; i++) {
        slots[i].fd = -1;
        slots[i].holder = i % 2;
    }
    int64_t end = now_ms() + secs * 1000;
    while (now_ms() < end) {
        for (int i = 0; i < n; i++) {
            if (slots[i].fd < 0)
                (void)dial(&slots[i], &seed);
            pf[i] = (struct pollfd){.fd = slots[i].fd, .events = POLLIN};
        }
        int left = (int)(end - now_ms());
        if (poll(pf, (nfds_t)n, left < 100 ? left : 100) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            struct slot *s = &slots[i];
            if (s->fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t r = recv(s->fd, s->buf + s->got, sizeof(s->buf) - s->got, MSG_DONTWAIT);
            if (r > 0) {
                s->got += (size_t)r;
                if (s->got >= 9) {
                    if (s->buf[8] == 3)
                        tryagain++;
                    else
                        answers++;
                }
                if (s->got < 9 && s->got < sizeof(s->buf))
                    continue;
            } else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
                continue;
            } else {
                closed++;
            }
            close(s->fd);
            s->fd = -1;
        }
    }
    printf("flood: %lu requests, %lu answers, %lu told TRYAGAIN, %lu closed, %lu dials refused\n",
           requests, answers, tryagain, closed, refused_dial);
    return 0;
}

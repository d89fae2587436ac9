/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * unix-echo: the benchmark's IPC floor. A single-threaded epoll server on a
 * Unix socket that answers every well-formed module request (common/ipc.h)
 * with one canned reply (two addresses) and closes, as dot-helperd does, but
 * with no resolver, cache or upstream behind it. loadgen -a unix against it
 * measures the cost of connect + request + reply + close, the least any
 * "module asks a local daemon" design can cost per lookup.
 *
 * usage: unix-echo SOCKET   (binds SOCKET.tmp and renames it into place,
 * so the socket's appearance means ready; runs until killed)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc.h"

#define MAX_EVENTS 64

struct client {
    int fd;
    size_t got;
    uint8_t buf[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY];
};

static uint8_t reply[IPC_HEADER_LEN + IPC_MAX_REPLY_BODY];
static size_t reply_len;

static void die(const char *what) {
    fprintf(stderr, "unix-echo: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void build_reply(void) {
    struct ipc_reply_builder b;
    const uint8_t a4[4] = {192, 0, 2, 9};
    const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 9};
    if (ipc_reply_begin(&b, reply, sizeof(reply), IPC_STATUS_OK, 300, "floor.test") < 0 ||
        ipc_reply_add_addr(&b, IPC_AF_INET6, a6) < 0 || ipc_reply_add_addr(&b, IPC_AF_INET, a4) < 0)
        die("ipc_reply");
    reply_len = ipc_reply_end(&b);
}

/* Reads what is there; nonzero when the client is done (answered or broken)
 * and must be closed. */
static int serve(struct client *c) {
    for (;;) {
        ssize_t n = read(c->fd, c->buf + c->got, sizeof(c->buf) - c->got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        if (n <= 0)
            return 1;
        c->got += (size_t)n;
        if (c->got < IPC_HEADER_LEN)
            continue;
        uint8_t op;
        int body = ipc_header_decode(c->buf, &op, IPC_MAX_REQUEST_BODY);
        if (body < 0)
            return 1;
        if (c->got < IPC_HEADER_LEN + (size_t)body)
            continue;
        struct ipc_request req;
        if (ipc_request_decode(op, c->buf + IPC_HEADER_LEN, (size_t)body, &req) == 0)
            (void)send(c->fd, reply, reply_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        return 1;
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: unix-echo SOCKET\n");
        return 2;
    }
    build_reply();
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.tmp", argv[1]) >=
        sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        die(argv[1]);
    }
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        die("socket");
    unlink(sa.sun_path);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, SOMAXCONN) < 0 ||
        rename(sa.sun_path, argv[1]) < 0)
        die("bind/listen/rename");

    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
        die("epoll");
    for (;;) {
        struct epoll_event evs[MAX_EVENTS];
        int n = epoll_wait(ep, evs, MAX_EVENTS, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("epoll_wait");
        for (int k = 0; k < n; k++) {
            struct client *c = evs[k].data.ptr;
            if (c) {
                if (serve(c)) {
                    close(c->fd);
                    free(c);
                }
                continue;
            }
            for (;;) {
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0)
                    break;
                c = calloc(1, sizeof(*c));
                if (!c) {
                    close(fd);
                    continue;
                }
                c->fd = fd;
                struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
                /* The request is usually there already: answer without a
                 * trip through epoll. */
                if (serve(c) || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev) < 0) {
                    close(fd);
                    free(c);
                }
            }
        }
    }
}

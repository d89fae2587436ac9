/* SPDX-License-Identifier: GPL-2.0-or-later */
/* netwatch.c: rtnetlink address/route notifications, coalesced (see netwatch.h). */
#include "netwatch.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct netwatch {
    struct loop *loop;
    struct loop_io io;
    struct loop_timer settle;
    void (*cb)(void *);
    void *userdata;
};

#define WATCH_OF_IO(p)    ((struct netwatch *)((char *)(p)-offsetof(struct netwatch, io)))
#define WATCH_OF_TIMER(p) ((struct netwatch *)((char *)(p)-offsetof(struct netwatch, settle)))

static void on_settled(struct loop_timer *t) {
    struct netwatch *w = WATCH_OF_TIMER(t);
    w->cb(w->userdata);
}

static void on_netlink(struct loop_io *io, uint32_t revents) {
    struct netwatch *w = WATCH_OF_IO(io);
    char buf[8192];
    bool changed = false;
    (void)revents;
    /* The content does not matter, only that something changed; an
     * overflowed socket (ENOBUFS) means "a lot changed". */
    for (int i = 0; i < 64; i++) {
        ssize_t n = recv(io->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0 || (n < 0 && errno == ENOBUFS)) {
            changed = true;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        break;
    }
    if (changed && !loop_timer_armed(&w->settle))
        loop_timer_at(w->loop, &w->settle, loop_now(w->loop) + NETWATCH_SETTLE_MS, on_settled);
}

int netwatch_new(struct loop *l, void (*cb)(void *), void *userdata, struct netwatch **ret_watch) {
    struct netwatch *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->loop = l;
    w->cb = cb;
    w->userdata = userdata;
    w->io.fd = -1;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) {
        int e = errno;
        free(w);
        return -e;
    }
    struct sockaddr_nl sa = {
        .nl_family = AF_NETLINK,
        .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
                     RTMGRP_IPV6_ROUTE,
    };
    int r = 0;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        r = -errno;
    else
        r = loop_io_add(l, &w->io, fd, EPOLLIN, on_netlink);
    if (r < 0) {
        close(fd);
        free(w);
        return r;
    }
    *ret_watch = w;
    return 0;
}

void netwatch_free(struct netwatch *w) {
    if (!w)
        return;
    loop_timer_cancel(w->loop, &w->settle);
    int fd = w->io.fd;
    loop_io_del(w->loop, &w->io);
    if (fd >= 0)
        close(fd);
    free(w);
}

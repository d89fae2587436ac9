/* SPDX-License-Identifier: GPL-2.0-or-later */
/* loop.c: epoll + timer heap + signalfd + deferred frees (see loop.h). */
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define LOOP_BATCH 64

struct deferred {
    void (*fn)(void *);
    void *p;
};

struct loop {
    int epfd;
    int64_t now;
    int64_t now_us; /* the clock read behind now */
    bool quit;
    struct loop_timer **heap; /* 1-based: heap[1] is the earliest */
    size_t heap_len, heap_cap;
    struct deferred *deferred;
    size_t n_deferred, cap_deferred;
    struct loop_io sig_io;
    void (*sig_cb)(int, void *);
    void *sig_userdata;
    struct loop_stats stats;
    struct dlist tasks; /* posted, oldest first */
    /* 1 + the latest iteration whose epoll_wait() returned fewer events
     * than LOOP_BATCH; 0 none. complete_before: the same before this
     * iteration's wait (loop_complete_before()). */
    uint64_t complete_at, complete_before;
    int64_t wait_us; /* loop_wait_us() */
};

static int64_t mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int loop_new(struct loop **ret_loop) {
    struct loop *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        int e = errno;
        free(l);
        return -e;
    }
    l->sig_io.fd = -1;
    l->now_us = mono_us();
    l->now = l->now_us / 1000;
    *ret_loop = l;
    return 0;
}

void loop_post(struct loop *l, struct loop_task *t, void (*cb)(struct loop_task *)) {
    if (t->posted_in)
        return;
    /* Iterations count from 0: store one more, so that 0 means "not posted". */
    t->posted_in = l->stats.iterations + 1;
    t->cb = cb;
    dlist_push_tail(&l->tasks, &t->node);
}

void loop_task_cancel(struct loop *l, struct loop_task *t) {
    if (!t->posted_in)
        return;
    dlist_remove(&l->tasks, &t->node);
    t->posted_in = 0;
}

/* The tasks posted in earlier iterations; those they post run in the next. */
static void run_tasks(struct loop *l) {
    struct loop_task *t;
    while ((t = DLIST_ENTRY(l->tasks.head, struct loop_task, node)) &&
           t->posted_in <= l->stats.iterations) {
        loop_task_cancel(l, t);
        t->cb(t);
    }
}

static void run_deferred(struct loop *l) {
    /* A deferred free may defer more; take them in order until none is left. */
    for (size_t i = 0; i < l->n_deferred; i++)
        l->deferred[i].fn(l->deferred[i].p);
    l->n_deferred = 0;
}

void loop_free(struct loop *l) {
    if (!l)
        return;
    run_deferred(l);
    if (l->sig_io.fd >= 0)
        close(l->sig_io.fd);
    close(l->epfd);
    free(l->heap);
    free(l->deferred);
    free(l);
}

int64_t loop_now(struct loop *l) {
    return l->now;
}

int64_t loop_now_us(const struct loop *l) {
    return l->now_us;
}

uint64_t loop_iteration(const struct loop *l) {
    return l->stats.iterations;
}

uint64_t loop_complete_before(const struct loop *l) {
    return l->complete_before;
}

int64_t loop_wait_us(const struct loop *l) {
    return l->wait_us;
}

int loop_io_add(struct loop *l, struct loop_io *io, int fd, uint32_t events,
                void (*cb)(struct loop_io *, uint32_t)) {
    struct epoll_event ev = {.events = events, .data.ptr = io};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return -errno;
    io->fd = fd;
    io->events = events;
    io->cb = cb;
    return 0;
}

int loop_io_mod(struct loop *l, struct loop_io *io, uint32_t events) {
    if (io->fd < 0)
        return -EBADF;
    if (io->events == events)
        return 0;
    struct epoll_event ev = {.events = events, .data.ptr = io};
    if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
        return -errno;
    io->events = events;
    return 0;
}

void loop_io_del(struct loop *l, struct loop_io *io) {
    if (io->fd < 0)
        return;
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
    io->fd = -1;
}

void loop_io_close(struct loop *l, struct loop_io *io) {
    (void)l;
    if (io->fd < 0)
        return;
    close(io->fd);
    io->fd = -1;
}

static void heap_swap(struct loop *l, size_t a, size_t b) {
    struct loop_timer *t = l->heap[a];
    l->heap[a] = l->heap[b];
    l->heap[b] = t;
    l->heap[a]->heap_idx = a;
    l->heap[b]->heap_idx = b;
}

static void heap_up(struct loop *l, size_t i) {
    while (i > 1 && l->heap[i / 2]->when > l->heap[i]->when) {
        heap_swap(l, i, i / 2);
        i /= 2;
    }
}

static void heap_down(struct loop *l, size_t i) {
    for (;;) {
        size_t m = i, c = 2 * i;
        if (c <= l->heap_len && l->heap[c]->when < l->heap[m]->when)
            m = c;
        if (c + 1 <= l->heap_len && l->heap[c + 1]->when < l->heap[m]->when)
            m = c + 1;
        if (m == i)
            return;
        heap_swap(l, i, m);
        i = m;
    }
}

void loop_timer_cancel(struct loop *l, struct loop_timer *t) {
    size_t i = t->heap_idx;
    if (i == 0)
        return;
    t->heap_idx = 0;
    if (i != l->heap_len) {
        l->heap[i] = l->heap[l->heap_len];
        l->heap[i]->heap_idx = i;
        l->heap_len--;
        heap_up(l, i);
        heap_down(l, i);
    } else {
        l->heap_len--;
    }
}

void loop_timer_at(struct loop *l, struct loop_timer *t, int64_t when,
                   void (*cb)(struct loop_timer *)) {
    loop_timer_cancel(l, t);
    if (l->heap_len + 1 >= l->heap_cap) {
        size_t cap = l->heap_cap ? l->heap_cap * 2 : 64;
        struct loop_timer **h = realloc(l->heap, cap * sizeof(*h));
        if (!h)
            abort(); /* out of memory while arming a deadline: nothing safe to do */
        l->heap = h;
        l->heap_cap = cap;
    }
    t->when = when;
    t->cb = cb;
    t->heap_idx = ++l->heap_len;
    l->heap[t->heap_idx] = t;
    heap_up(l, t->heap_idx);
}

int loop_defer_free(struct loop *l, void (*fn)(void *), void *p) {
    if (l->n_deferred == l->cap_deferred) {
        size_t cap = l->cap_deferred ? l->cap_deferred * 2 : 32;
        struct deferred *d = realloc(l->deferred, cap * sizeof(*d));
        if (!d)
            abort();
        l->deferred = d;
        l->cap_deferred = cap;
    }
    l->deferred[l->n_deferred++] = (struct deferred){fn, p};
    return 0;
}

void loop_run_deferred(struct loop *l) {
    run_deferred(l);
}

static void on_signal(struct loop_io *io, uint32_t revents) {
    struct loop *l = (struct loop *)((char *)io - offsetof(struct loop, sig_io));
    (void)revents;
    struct signalfd_siginfo si;
    while (read(io->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        l->sig_cb((int)si.ssi_signo, l->sig_userdata);
}

int loop_signals(struct loop *l, const int *list, void (*cb)(int, void *), void *userdata) {
    sigset_t set;
    sigemptyset(&set);
    for (const int *s = list; *s; s++)
        sigaddset(&set, *s);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -errno;
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    l->sig_cb = cb;
    l->sig_userdata = userdata;
    int r = loop_io_add(l, &l->sig_io, fd, EPOLLIN, on_signal);
    if (r < 0)
        close(fd);
    return r;
}

static void run_timers(struct loop *l) {
    /* Bounded: a timer re-armed for "now" runs on the next iteration. */
    size_t budget = l->heap_len;
    while (budget-- > 0 && l->heap_len > 0 && l->heap[1]->when <= l->now) {
        struct loop_timer *t = l->heap[1];
        loop_timer_cancel(l, t);
        t->cb(t);
    }
}

int loop_run(struct loop *l) {
    struct epoll_event evs[LOOP_BATCH];
    int64_t end_us = mono_us();
    while (!l->quit) {
        l->now_us = end_us;
        l->now = end_us / 1000;
        int timeout = -1;
        if (l->tasks.head) {
            timeout = 0;
        } else if (l->heap_len > 0) {
            int64_t d = l->heap[1]->when - l->now;
            timeout = d < 0 ? 0 : d > 60000 ? 60000 : (int)d;
        }
        int n = epoll_wait(l->epfd, evs, LOOP_BATCH, timeout);
        int64_t start_us = mono_us();
        if (n < 0) {
            end_us = start_us;
            if (errno == EINTR)
                continue;
            return -errno;
        }
        l->now_us = start_us;
        l->now = start_us / 1000;
        l->wait_us = start_us - end_us;
        l->complete_before = l->complete_at;
        if (n < LOOP_BATCH)
            l->complete_at = l->stats.iterations + 1;
        /* After loop_quit() nothing more is dispatched: a shutdown does not
         * accept the client whose event comes later in the same batch. */
        for (int i = 0; i < n && !l->quit; i++) {
            struct loop_io *io = evs[i].data.ptr;
            if (io->fd >= 0) /* unregistered by an earlier callback of this batch */
                io->cb(io, evs[i].events);
        }
        if (!l->quit)
            run_tasks(l);
        run_timers(l);
        run_deferred(l);
        /* One clock read serves both this iteration's length and the next
         * one's "now". */
        end_us = mono_us();
        int64_t busy = end_us - start_us;
        l->stats.iterations++;
        l->stats.busy_us += (uint64_t)busy;
        l->stats.over_1ms += busy > 1000;
        l->stats.over_10ms += busy > 10000;
        if (busy > l->stats.longest_us)
            l->stats.longest_us = busy;
    }
    return 0;
}

void loop_get_stats(const struct loop *l, struct loop_stats *ret_stats) {
    *ret_stats = l->stats;
}

void loop_quit(struct loop *l) {
    l->quit = true;
}

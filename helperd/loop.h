/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * loop.h: the daemon's single-threaded event loop: epoll for descriptors, a
 * binary heap of timers on CLOCK_MONOTONIC (milliseconds), signalfd for
 * signals, and deferred frees so an object can die inside a callback while
 * events for it are still in the current batch.
 *
 * The loop owns none of the structs registered with it; their owners embed
 * them and must unregister before freeing (or free through loop_defer_free).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dlist.h"

struct loop;

struct loop_io {
    int fd;          /* -1 when not registered */
    uint32_t events; /* EPOLLIN | EPOLLOUT ... as registered */
    void (*cb)(struct loop_io *io, uint32_t revents);
};

struct loop_timer {
    int64_t when;    /* ms on the loop's clock */
    size_t heap_idx; /* 0: not armed; else 1-based position in the heap */
    void (*cb)(struct loop_timer *t);
};

int loop_new(struct loop **ret_loop);
void loop_free(struct loop *l);

/* Monotonic milliseconds, refreshed once per iteration. */
int64_t loop_now(struct loop *l);
/* The same clock read, in microseconds. */
int64_t loop_now_us(const struct loop *l);
/* Iterations finished so far: the same value within one iteration, one
 * more in the next. */
uint64_t loop_iteration(const struct loop *l);
/* 1 + the latest iteration before this one whose epoll_wait() reported
 * every descriptor then ready (it returned fewer events than it had room
 * for); 0 if none. A level-triggered descriptor still ready after
 * iteration I is reported again by the first such wait after I at the
 * latest: called in a later iteration with no such wait in between, one
 * that only its callback drains stayed ready all along. */
uint64_t loop_complete_before(const struct loop *l);
/* How long this iteration's epoll_wait() took, microseconds: a few when
 * something was ready as it was called, at least a sleep and a wakeup when
 * nothing was. */
int64_t loop_wait_us(const struct loop *l);

int loop_io_add(struct loop *l, struct loop_io *io, int fd, uint32_t events,
                void (*cb)(struct loop_io *, uint32_t));
int loop_io_mod(struct loop *l, struct loop_io *io, uint32_t events);
/* Unregisters (does not close) io->fd and sets io->fd = -1. No-op when unregistered. */
void loop_io_del(struct loop *l, struct loop_io *io);
/* Closes io->fd, which leaves the epoll set with it (the daemon never
 * duplicates these descriptors), and sets io->fd = -1. */
void loop_io_close(struct loop *l, struct loop_io *io);

/* (Re)arms t to fire once at when (absolute ms). */
void loop_timer_at(struct loop *l, struct loop_timer *t, int64_t when,
                   void (*cb)(struct loop_timer *));
void loop_timer_cancel(struct loop *l, struct loop_timer *t);
static inline bool loop_timer_armed(const struct loop_timer *t) {
    return t->heap_idx != 0;
}

/* Work left for the next iteration: a callback that stopped at its share
 * of one iteration's work (a read of many answers) posts the rest, so that
 * what else is ready (another client's lookup) waits for one share, not
 * for all of it. The loop does not block while a task is posted; the
 * tasks posted before an iteration run after its events, oldest first.
 * Owners embed the task and cancel it before freeing it. */
struct loop_task {
    struct dlist_node node;
    uint64_t posted_in; /* the iteration it was posted in; 0: not posted */
    void (*cb)(struct loop_task *t);
};

/* Posts t (no-op when posted already) to run in the next iteration (the
 * first one of loop_run() when posted before it). */
void loop_post(struct loop *l, struct loop_task *t, void (*cb)(struct loop_task *));
void loop_task_cancel(struct loop *l, struct loop_task *t);

/* Frees p with fn after the current batch of events has been dispatched. */
int loop_defer_free(struct loop *l, void (*fn)(void *), void *p);
/* Runs the deferred frees now: for a teardown, outside every callback, whose
 * deferred frees need what it is about to free (loop_free runs the rest). */
void loop_run_deferred(struct loop *l);

/* Calls cb(signo, userdata) for each of the signals in list (0-terminated),
 * which are blocked for normal delivery. */
int loop_signals(struct loop *l, const int *list, void (*cb)(int signo, void *userdata),
                 void *userdata);

/* How long the loop's iterations took: the work between one epoll_wait()
 * and the next (callbacks, timers, deferred frees), wall-clock
 * microseconds, so a preempted iteration counts too. A lookup waits at
 * most one iteration for the loop: longest_us and the over_* counts say
 * how long that can be. */
struct loop_stats {
    uint64_t iterations;
    uint64_t busy_us;   /* summed over every iteration */
    int64_t longest_us; /* the longest one */
    uint64_t over_1ms;  /* iterations longer than 1 ms */
    uint64_t over_10ms; /* ... than 10 ms */
};
void loop_get_stats(const struct loop *l, struct loop_stats *ret_stats);

/* Runs until loop_quit(); returns 0 or -errno on a broken epoll. */
int loop_run(struct loop *l);
void loop_quit(struct loop *l);

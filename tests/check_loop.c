/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_loop.c: unit tests for the event loop's posted tasks
 * (helperd/loop.c, loop_post): a task runs in the next iteration, after
 * that iteration's events, never in the one that posted it; the loop does
 * not block while one is posted; a cancelled one never runs; and a task
 * that posts itself again leaves room for the events of every iteration.
 * Also what the loop tells of its waits: loop_complete_before() and
 * loop_wait_us().
 */
#include "loop.h"

#include <check.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "check-run.h"

struct fixture {
    struct loop *l;
    struct loop_timer start, stop;
    struct loop_task task, other;
    struct loop_io io;
    int efd;
    uint64_t posted_in, ran_in; /* loop_iteration() when posted, when run */
    unsigned runs, other_runs;  /* task callbacks */
    unsigned repost;            /* how many more times the task posts itself */
    bool quit_on_run;           /* the task ends the loop */
    unsigned events;            /* eventfd callbacks */
    uint64_t event_in[8];       /* ... the iteration of each */
    uint64_t run_in[8];         /* the task's runs, the iteration of each */
    int64_t started_ms;
};

static struct fixture fx;

static void on_task(struct loop_task *t) {
    (void)t;
    if (fx.runs < 8)
        fx.run_in[fx.runs] = loop_iteration(fx.l);
    fx.runs++;
    fx.ran_in = loop_iteration(fx.l);
    if (fx.quit_on_run)
        loop_quit(fx.l);
    if (fx.repost > 0) {
        fx.repost--;
        /* Each run also makes an event ready: it must be seen before the
         * next run. */
        uint64_t one = 1;
        ck_assert_int_eq(write(fx.efd, &one, sizeof(one)), (ssize_t)sizeof(one));
        loop_post(fx.l, &fx.task, on_task);
    }
}

static void on_other(struct loop_task *t) {
    (void)t;
    fx.other_runs++;
}

static void on_event(struct loop_io *io, uint32_t revents) {
    (void)revents;
    uint64_t v;
    ck_assert_int_eq(read(io->fd, &v, sizeof(v)), (ssize_t)sizeof(v));
    if (fx.events < 8)
        fx.event_in[fx.events] = loop_iteration(fx.l);
    fx.events++;
}

static void on_stop(struct loop_timer *t) {
    (void)t;
    loop_quit(fx.l);
}

static void on_start(struct loop_timer *t) {
    (void)t;
    fx.posted_in = loop_iteration(fx.l);
    loop_post(fx.l, &fx.task, on_task);
    loop_post(fx.l, &fx.task, on_task); /* once posted, posting again is nothing */
    ck_assert_uint_eq(fx.runs, 0);      /* not in the iteration that posted it */
}

static void setup(void) {
    fx = (struct fixture){0};
    ck_assert_int_eq(loop_new(&fx.l), 0);
    fx.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ck_assert_int_ge(fx.efd, 0);
    ck_assert_int_eq(loop_io_add(fx.l, &fx.io, fx.efd, EPOLLIN, on_event), 0);
    fx.started_ms = loop_now(fx.l);
}

static void teardown(void) {
    loop_io_close(fx.l, &fx.io);
    loop_free(fx.l);
}

START_TEST(posted_task_runs_in_the_next_iteration_without_blocking) {
    setup();
    fx.quit_on_run = true;
    loop_timer_at(fx.l, &fx.start, loop_now(fx.l), on_start);
    /* The only other timer is 5 s away: a loop that blocked with the task
     * posted would wait for it. */
    loop_timer_at(fx.l, &fx.stop, loop_now(fx.l) + 5000, on_stop);
    ck_assert_int_eq(loop_run(fx.l), 0);
    ck_assert_uint_eq(fx.runs, 1);
    ck_assert_uint_eq(fx.ran_in, fx.posted_in + 1);
    ck_assert_int_lt(loop_now(fx.l) - fx.started_ms, 1000);
    loop_timer_cancel(fx.l, &fx.stop);
    teardown();
}
END_TEST

START_TEST(cancelled_task_never_runs) {
    setup();
    loop_post(fx.l, &fx.task, on_task);
    loop_post(fx.l, &fx.other, on_other);
    loop_task_cancel(fx.l, &fx.task);
    loop_task_cancel(fx.l, &fx.task); /* twice is nothing */
    struct loop_timer t = {0};
    loop_timer_at(fx.l, &t, loop_now(fx.l) + 20, on_stop);
    ck_assert_int_eq(loop_run(fx.l), 0);
    ck_assert_uint_eq(fx.runs, 0);
    ck_assert_uint_eq(fx.other_runs, 1);
    teardown();
}
END_TEST

START_TEST(reposting_task_leaves_room_for_events) {
    setup();
    fx.repost = 5;
    loop_post(fx.l, &fx.task, on_task);
    struct loop_timer t = {0};
    loop_timer_at(fx.l, &t, loop_now(fx.l) + 50, on_stop);
    ck_assert_int_eq(loop_run(fx.l), 0);
    ck_assert_uint_eq(fx.runs, 6);
    ck_assert_uint_eq(fx.events, 5);
    /* Run i wrote an event; it was dispatched in the next iteration,
     * before run i + 1 of the task, which ran in that same iteration. */
    for (unsigned i = 0; i < 5; i++) {
        ck_assert_uint_eq(fx.run_in[i + 1], fx.run_in[i] + 1);
        ck_assert_uint_eq(fx.event_in[i], fx.run_in[i + 1]);
    }
    teardown();
}
END_TEST

START_TEST(now_us_is_the_clock_read_behind_now) {
    setup();
    struct loop_timer t = {0};
    loop_timer_at(fx.l, &t, loop_now(fx.l) + 5, on_stop);
    uint64_t before = loop_iteration(fx.l);
    ck_assert_int_eq(loop_run(fx.l), 0);
    ck_assert_uint_gt(loop_iteration(fx.l), before);
    ck_assert_int_eq(loop_now_us(fx.l) / 1000, loop_now(fx.l));
    teardown();
}
END_TEST

/* loop_complete_before(): 65 eventfds kept ready fill every wait (64
 * events), which leaves it at 0; once all but one are drained, the wait
 * of that iteration has room to spare, and the next iteration sees it. */
#define N_READY 65
static struct {
    struct loop_io io[N_READY];
    int fd[N_READY];
    uint64_t seen_in;             /* the iteration of the last callback */
    uint64_t complete_before[16]; /* by iteration, from its first callback */
    int64_t wait_us[16];          /* ... and loop_wait_us() */
} rd;

static void on_ready(struct loop_io *io, uint32_t revents) {
    (void)revents;
    uint64_t it = loop_iteration(fx.l);
    if (it >= 16) {
        loop_quit(fx.l);
        return;
    }
    if (rd.seen_in != it + 1) {
        rd.seen_in = it + 1;
        rd.complete_before[it] = loop_complete_before(fx.l);
        rd.wait_us[it] = loop_wait_us(fx.l);
    }
    uint64_t v;
    /* Iteration 3 drains what it got, but fd[0]. */
    if (it == 3 && io->fd != rd.fd[0])
        ck_assert_int_eq(read(io->fd, &v, sizeof(v)), (ssize_t)sizeof(v));
    if (it == 6)
        loop_quit(fx.l);
}

START_TEST(complete_before_counts_waits_with_room_to_spare) {
    setup();
    for (int i = 0; i < N_READY; i++) {
        rd.fd[i] = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
        ck_assert_int_ge(rd.fd[i], 0);
        ck_assert_int_eq(loop_io_add(fx.l, &rd.io[i], rd.fd[i], EPOLLIN, on_ready), 0);
    }
    ck_assert_int_eq(loop_run(fx.l), 0);
    /* Iterations 0..3 waited with 65 ready: full reports. Iteration 3
     * read 63 of the 64 it got (fd[0] may not have been among them), so
     * iteration 4's wait had at most 2 ready: the first complete one. */
    for (int it = 0; it <= 4; it++)
        ck_assert_uint_eq(rd.complete_before[it], 0);
    ck_assert_uint_eq(rd.complete_before[5], 5);
    ck_assert_uint_eq(rd.complete_before[6], 6);
    /* Something was ready for every one of these waits: none slept. A
     * generous bound (a preempted wait can take a while); the point is
     * that it is not the 5 s the stop timer is away. */
    for (int it = 0; it <= 6; it++)
        ck_assert_int_lt(rd.wait_us[it], 1000000);
    for (int i = 0; i < N_READY; i++)
        loop_io_close(fx.l, &rd.io[i]);
    teardown();
}
END_TEST

/* loop_wait_us(): a wait with nothing ready lasts until its timer. */
static int64_t timer_wait_us;

static void on_timer_wait(struct loop_timer *t) {
    (void)t;
    timer_wait_us = loop_wait_us(fx.l);
    loop_quit(fx.l);
}

START_TEST(wait_us_is_how_long_the_wait_slept) {
    setup();
    struct loop_timer t = {0};
    loop_timer_at(fx.l, &t, loop_now(fx.l) + 20, on_timer_wait);
    ck_assert_int_eq(loop_run(fx.l), 0);
    ck_assert_int_ge(timer_wait_us, 15000);
    teardown();
}
END_TEST

int main(void) {
    const struct check_case cases[] = {
        CHECK_CASE(posted_task_runs_in_the_next_iteration_without_blocking),
        CHECK_CASE(cancelled_task_never_runs),
        CHECK_CASE(reposting_task_leaves_room_for_events),
        CHECK_CASE(now_us_is_the_clock_read_behind_now),
        CHECK_CASE(complete_before_counts_waits_with_room_to_spare),
        CHECK_CASE(wait_us_is_how_long_the_wait_slept),
    };
    return check_run("loop", cases, sizeof(cases) / sizeof(cases[0]), NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * burst.c: one program, many threads, each looking up names never asked
 * before at the same moment, for tests/e2e/burst.sh (issue 15). N threads
 * wait on a barrier, then each does ROUNDS getaddrinfo(AF_UNSPEC) calls,
 * one after another, of "bN-I-R.TAG" (a wildcard in the test zone), and
 * checks that the answer holds both V4 and V6. Prints one line:
 *
 *   burst: LOOKUPS lookups, FAILED failed, p50 MS ms, p99 MS ms, max MS ms
 *
 * and exits 1 when any lookup failed or was wrong. Libc only.
 *
 *   burst N_THREADS ROUNDS TAG V4 V6
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static pthread_barrier_t start;
static atomic_int failures;
static int rounds;
static const char *tag, *want4, *want6;
static double *times_ms; /* [thread * rounds + round] */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int lookup(const char *name) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int e = getaddrinfo(name, NULL, &hints, &res);
    if (e != 0) {
        fprintf(stderr, "burst: %s: %s\n", name, gai_strerror(e));
        return -1;
    }
    int have4 = 0, have6 = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        char t[INET6_ADDRSTRLEN];
        const void *p = a->ai_family == AF_INET
                            ? (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
                            : (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
        inet_ntop(a->ai_family, p, t, sizeof(t));
        have4 |= strcmp(t, want4) == 0;
        have6 |= strcmp(t, want6) == 0;
    }
    freeaddrinfo(res);
    if (!have4 || !have6) {
        fprintf(stderr, "burst: %s: wrong answer\n", name);
        return -1;
    }
    return 0;
}

static void *run(void *arg) {
    long i = (long)arg;
    pthread_barrier_wait(&start);
    for (int r = 0; r < rounds; r++) {
        char name[256];
        snprintf(name, sizeof(name), "b%ld-%d.%s", i, r, tag);
        double t0 = now_ms();
        if (lookup(name) < 0)
            atomic_fetch_add(&failures, 1);
        times_ms[i * rounds + r] = now_ms() - t0;
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: burst N_THREADS ROUNDS TAG V4 V6\n");
        return 2;
    }
    long n = atol(argv[1]);
    rounds = atoi(argv[2]);
    tag = argv[3];
    want4 = argv[4];
    want6 = argv[5];
    if (n < 1 || n > 8192 || rounds < 1 || rounds > 1000) {
        fprintf(stderr, "burst: 1..8192 threads, 1..1000 rounds\n");
        return 2;
    }
    times_ms = calloc((size_t)(n * rounds), sizeof(*times_ms));
    pthread_t *th = calloc((size_t)n, sizeof(*th));
    if (!times_ms || !th)
        return 2;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_barrier_init(&start, NULL, (unsigned)n);
    for (long i = 0; i < n; i++)
        if (pthread_create(&th[i], &attr, run, (void *)i) != 0) {
            fprintf(stderr, "burst: cannot start thread %ld\n", i);
            return 2;
        }
    for (long i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    size_t total = (size_t)(n * rounds);
    qsort(times_ms, total, sizeof(*times_ms), cmp_double);
    printf("burst: %zu lookups, %d failed, p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", total,
           atomic_load(&failures), times_ms[total / 2], times_ms[(total * 99) / 100],
           times_ms[total - 1]);
    return atomic_load(&failures) ? 1 : 0;
}

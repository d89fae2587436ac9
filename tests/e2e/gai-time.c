/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gai-time.c: timed getaddrinfo(AF_UNSPEC) lookups through whatever "hosts"
 * says, for tests/e2e/interop.sh. With -c 1 (the default) the names are
 * looked up one after another; with -c N, N threads wait at a barrier and
 * then each looks up its share of the names at once. One line per name, in
 * the order given:
 *
 *   NAME MILLISECONDS STATUS ADDRESS,ADDRESS,...
 *
 * STATUS is getaddrinfo's return value (0 found); the addresses are the
 * distinct ones of the answer, sorted, "-" when none. The caller judges
 * the answers and the times. Libc only.
 *
 *   gai-time [-c THREADS] NAME...
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_ADDRS 16
#define ADDR_LEN  INET6_ADDRSTRLEN

struct result {
    const char *name;
    double ms;
    int status;
    char addrs[MAX_ADDRS][ADDR_LEN];
    int n_addrs;
};

static struct result *results;
static int n_names, n_threads;
static pthread_barrier_t start;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_addr(const void *a, const void *b) {
    return strcmp(a, b);
}

static void lookup(struct result *r) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    double t0 = now_ms();
    r->status = getaddrinfo(r->name, NULL, &hints, &res);
    r->ms = now_ms() - t0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        char text[ADDR_LEN];
        const void *a = ai->ai_family == AF_INET
                            ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                            : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
        if (!inet_ntop(ai->ai_family, a, text, sizeof(text)))
            continue;
        int dup = 0;
        for (int i = 0; i < r->n_addrs; i++)
            dup |= strcmp(r->addrs[i], text) == 0;
        if (!dup && r->n_addrs < MAX_ADDRS)
            memcpy(r->addrs[r->n_addrs++], text, sizeof(text));
    }
    if (res)
        freeaddrinfo(res);
    qsort(r->addrs, (size_t)r->n_addrs, ADDR_LEN, cmp_addr);
}

static void *worker(void *arg) {
    int t = (int)(long)arg;
    pthread_barrier_wait(&start);
    for (int i = t; i < n_names; i += n_threads)
        lookup(&results[i]);
    return NULL;
}

int main(int argc, char **argv) {
    int opt;
    n_threads = 1;
    while ((opt = getopt(argc, argv, "c:")) != -1) {
        if (opt != 'c' || (n_threads = atoi(optarg)) < 1) {
            fprintf(stderr, "usage: gai-time [-c THREADS] NAME...\n");
            return 2;
        }
    }
    n_names = argc - optind;
    results = calloc((size_t)(n_names ? n_names : 1), sizeof(*results));
    if (!results)
        return 2;
    for (int i = 0; i < n_names; i++)
        results[i].name = argv[optind + i];
    if (n_threads > n_names)
        n_threads = n_names ? n_names : 1;
    pthread_t *tids = calloc((size_t)n_threads, sizeof(*tids));
    if (!tids || pthread_barrier_init(&start, NULL, (unsigned)n_threads) != 0)
        return 2;
    for (int t = 1; t < n_threads; t++)
        if (pthread_create(&tids[t], NULL, worker, (void *)(long)t) != 0)
            return 2;
    worker(NULL);
    for (int t = 1; t < n_threads; t++)
        pthread_join(tids[t], NULL);
    for (int i = 0; i < n_names; i++) {
        struct result *r = &results[i];
        printf("%s %.2f %d ", r->name, r->ms, r->status);
        if (r->n_addrs == 0)
            fputs("-", stdout);
        for (int k = 0; k < r->n_addrs; k++)
            printf("%s%s", k ? "," : "", r->addrs[k]);
        putchar('\n');
    }
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threads.c: many threads resolving at once through whatever "hosts" says,
 * for tests/e2e/threads.sh (run under ThreadSanitizer with the module built
 * for it). Each of N_THREADS threads does ROUNDS rounds of getaddrinfo,
 * gethostbyname_r, gethostbyname2_r and gethostbyaddr_r on names and
 * addresses of lib.sh's test zone, in an order that differs per thread,
 * and checks every answer; any wrong or missing answer is counted and the
 * program exits 1. Libc only.
 *
 *   threads N_THREADS ROUNDS
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static atomic_int failures;
static int rounds;

static void bad(const char *what, const char *name) {
    atomic_fetch_add(&failures, 1);
    fprintf(stderr, "threads: wrong answer from %s for %s\n", what, name);
}

/* getaddrinfo(AF_UNSPEC) of both.test: 192.0.2.2 and 2001:db8::2:2. */
static void gai(void) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int have4 = 0, have6 = 0;
    if (getaddrinfo("both.test", NULL, &hints, &res) != 0) {
        bad("getaddrinfo", "both.test");
        return;
    }
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        char t[INET6_ADDRSTRLEN];
        const void *p = a->ai_family == AF_INET
                            ? (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
                            : (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
        inet_ntop(a->ai_family, p, t, sizeof(t));
        have4 |= strcmp(t, "192.0.2.2") == 0;
        have6 |= strcmp(t, "2001:db8::2:2") == 0;
    }
    freeaddrinfo(res);
    if (!have4 || !have6)
        bad("getaddrinfo", "both.test");
}

/* gethostbyname_r of cname.test: target.test, 192.0.2.3, alias cname.test. */
static void ghbn(void) {
    char buf[1024];
    struct hostent he, *h = NULL;
    int herr = 0;
    if (gethostbyname_r("cname.test", &he, buf, sizeof(buf), &h, &herr) != 0 || !h ||
        strcmp(h->h_name, "target.test") != 0 || !h->h_aliases[0] ||
        strcmp(h->h_aliases[0], "cname.test") != 0 || !h->h_addr_list[0] ||
        memcmp(h->h_addr_list[0], "\xc0\x00\x02\x03", 4) != 0)
        bad("gethostbyname_r", "cname.test");
}

/* gethostbyname2_r(AF_INET6) of v6.test: 2001:db8::1:1. */
static void ghbn2(void) {
    char buf[1024];
    struct hostent he, *h = NULL;
    int herr = 0;
    struct in6_addr want;
    inet_pton(AF_INET6, "2001:db8::1:1", &want);
    if (gethostbyname2_r("v6.test", AF_INET6, &he, buf, sizeof(buf), &h, &herr) != 0 || !h ||
        strcmp(h->h_name, "v6.test") != 0 || !h->h_addr_list[0] ||
        memcmp(h->h_addr_list[0], &want, 16) != 0)
        bad("gethostbyname2_r", "v6.test");
}

/* gethostbyaddr_r of 192.0.2.1: v4.test. A small buffer first: ERANGE,
 * then the retry, as glibc's callers do. */
static void ghba(void) {
    char small[8], buf[1024];
    struct hostent he, *h = NULL;
    int herr = 0;
    struct in_addr a;
    inet_pton(AF_INET, "192.0.2.1", &a);
    int rc = gethostbyaddr_r(&a, 4, AF_INET, &he, small, sizeof(small), &h, &herr);
    if (rc != ERANGE)
        bad("gethostbyaddr_r (small buffer)", "192.0.2.1");
    rc = gethostbyaddr_r(&a, 4, AF_INET, &he, buf, sizeof(buf), &h, &herr);
    if (rc != 0 || !h || strcmp(h->h_name, "v4.test") != 0)
        bad("gethostbyaddr_r", "192.0.2.1");
}

static void *run(void *arg) {
    unsigned k = (unsigned)(uintptr_t)arg;
    void (*const calls[])(void) = {gai, ghbn, ghbn2, ghba};
    for (int r = 0; r < rounds; r++)
        for (unsigned i = 0; i < 4; i++)
            calls[(i + k + (unsigned)r) % 4]();
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: threads N_THREADS ROUNDS\n");
        return 2;
    }
    int n = atoi(argv[1]);
    rounds = atoi(argv[2]);
    if (n < 1 || n > 1024 || rounds < 1 || rounds > 10000)
        return 2;
    pthread_t *t = calloc((size_t)n, sizeof(*t));
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, run, (void *)(uintptr_t)i) != 0) {
            fprintf(stderr, "threads: pthread_create failed\n");
            return 1;
        }
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    free(t);
    int f = atomic_load(&failures);
    printf("threads: %d threads x %d rounds x 4 calls, %d wrong\n", n, rounds, f);
    return f == 0 ? 0 : 1;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * loadgen: the benchmark's load generator. N threads call one lookup API
 * through glibc NSS (whatever /etc/nsswitch.conf says, which the harness
 * bind-mounts) for a number of lookups or for a duration, and it prints the
 * throughput, latency percentiles and failures, plus one machine-readable
 * "RESULT key=value ..." line for bench/run.sh.
 *
 * APIs: gai (getaddrinfo AF_UNSPEC), gai4 (getaddrinfo AF_INET), ghbn
 * (gethostbyname_r), and unix: no NSS at all, one raw request/reply round
 * trip of the module's IPC frame over a Unix socket (the floor of any design
 * that asks a local daemon), against bench/unix-echo.
 *
 * Names: a list (-N a,b,c), one name per line from a file (-f), or a pattern
 * (-p) in which %t is the thread number and %i the thread's lookup counter,
 * so that "u-%t-%i.wild.test" gives a name never asked before. Each thread
 * first does -W unmeasured lookups (with a list, they go through the list
 * from the thread's own offset; with a pattern, they use the first counter
 * values), then all threads start measuring together.
 *
 * Cold start: -R path:FILE, -R unix:SOCKET or -R udp:IPV4:PORT makes loadgen
 * wait (polling every half millisecond) until FILE exists, a connect() to the
 * Unix stream socket SOCKET succeeds (it exists and listens: a daemon that
 * binds before it listens, as nscd does, refuses connections in between), or
 * something is bound to that UDP port, then start at once; the harness starts loadgen first and the daemon
 * second, so the first lookup follows readiness within a millisecond. -P NAME
 * does one unmeasured lookup before that wait (NSS reads its configuration).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"

enum api { API_GAI, API_GAI4, API_GHBN, API_UNIX };

static const char *const api_names[] = {"gai", "gai4", "ghbn", "unix"};

struct options {
    enum api api;
    unsigned threads;
    uint64_t count;    /* total measured lookups (0: use duration) */
    double duration_s; /* measured seconds when count is 0 */
    unsigned warmup;   /* unmeasured lookups per thread */
    char **names;      /* list mode */
    size_t n_names;
    const char *pattern; /* pattern mode */
    const char *socket_path;
    const char *label;
    const char *ready; /* -R condition */
    const char *prime; /* -P name */
};

struct thread_state {
    pthread_t tid;
    unsigned index;
    uint64_t *lat_ns; /* one sample per measured lookup */
    size_t n_lat, cap_lat;
    uint64_t failures;
    int first_error; /* first failure's code, for the report */
    char first_error_name[256];
};

static struct options opt = {
    .api = API_GAI, .threads = 1, .duration_s = 2.0, .warmup = 1, .label = "-"};
static pthread_barrier_t warm_barrier, go_barrier; /* warmed up; clock set */
static _Atomic uint64_t issued;                    /* count mode: lookups handed out so far */
static uint64_t t_start_ns, t_end_ns;

static uint64_t cpu_us(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static uint64_t clock_ns(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void) {
    return clock_ns(CLOCK_MONOTONIC);
}

static void die(const char *msg) {
    fprintf(stderr, "loadgen: %s\n", msg);
    exit(2);
}

static void *xrealloc(void *p, size_t n) {
    p = realloc(p, n);
    if (!p)
        die("out of memory");
    return p;
}

/* The name for lookup number i of thread t. */
static const char *name_for(unsigned t, uint64_t i, char *buf, size_t buflen) {
    if (!opt.pattern)
        return opt.names[(t + i) % opt.n_names];
    size_t o = 0;
    for (const char *p = opt.pattern; *p && o + 24 < buflen; p++) {
        if (p[0] == '%' && p[1] == 't') {
            o += (size_t)snprintf(buf + o, buflen - o, "%u", t);
            p++;
        } else if (p[0] == '%' && p[1] == 'i') {
            o += (size_t)snprintf(buf + o, buflen - o, "%llu", (unsigned long long)i);
            p++;
        } else {
            buf[o++] = *p;
        }
    }
    buf[o] = '\0';
    return buf;
}

static int lookup_gai(const char *name, int family) {
    struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int r = getaddrinfo(name, NULL, &hints, &res);
    if (r == 0 && !res)
        r = EAI_NODATA;
    if (res)
        freeaddrinfo(res);
    return r;
}

static int lookup_ghbn(const char *name, char **buf, size_t *buflen) {
    struct hostent he, *result = NULL;
    int herr = 0;
    for (;;) {
        int r = gethostbyname_r(name, &he, *buf, *buflen, &result, &herr);
        if (r == ERANGE) {
            *buflen *= 2;
            *buf = xrealloc(*buf, *buflen);
            continue;
        }
        if (r != 0)
            return r;
        return result ? 0 : (herr ? herr : -1);
    }
}

/* One request/reply over a fresh connection, as the module does it. */
static int lookup_unix(const char *name) {
    uint8_t req[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY];
    static _Thread_local uint8_t reply[IPC_HEADER_LEN + IPC_MAX_REPLY_BODY];
    int len = ipc_request_encode_byname(req, sizeof(req), IPC_AF_UNSPEC, name);
    if (len < 0)
        return -len;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", opt.socket_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    int rc = 0;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        send(fd, req, (size_t)len, MSG_NOSIGNAL) != len) {
        rc = errno ? errno : EIO;
        goto out;
    }
    size_t got = 0, want = IPC_HEADER_LEN;
    while (got < want) {
        ssize_t n = recv(fd, reply + got, want - got, 0);
        if (n <= 0) {
            rc = n == 0 ? EPROTO : errno;
            goto out;
        }
        got += (size_t)n;
        if (got == IPC_HEADER_LEN && want == IPC_HEADER_LEN) {
            uint8_t op;
            int body = ipc_header_decode(reply, &op, IPC_MAX_REPLY_BODY);
            if (body < 0 || op != IPC_OP_REPLY) {
                rc = EBADMSG;
                goto out;
            }
            want += (size_t)body;
        }
    }
    if (want == IPC_HEADER_LEN || reply[IPC_HEADER_LEN] != IPC_STATUS_OK)
        rc = ENOENT;
out:
    close(fd);
    return rc;
}

static int lookup_one(struct thread_state *ts, const char *name, char **hbuf, size_t *hlen) {
    (void)ts;
    switch (opt.api) {
    case API_GAI:
        return lookup_gai(name, AF_UNSPEC);
    case API_GAI4:
        return lookup_gai(name, AF_INET);
    case API_GHBN:
        return lookup_ghbn(name, hbuf, hlen);
    case API_UNIX:
        return lookup_unix(name);
    }
    return -1;
}

static void record_failure(struct thread_state *ts, int code, const char *name) {
    if (ts->failures++ == 0) {
        ts->first_error = code;
        snprintf(ts->first_error_name, sizeof(ts->first_error_name), "%s", name);
    }
}

static void *worker(void *arg) {
    struct thread_state *ts = arg;
    char namebuf[300];
    size_t hlen = 8192;
    char *hbuf = xrealloc(NULL, hlen);
    uint64_t i = 0;

    for (; i < opt.warmup; i++) {
        const char *name = name_for(ts->index, i, namebuf, sizeof(namebuf));
        (void)lookup_one(ts, name, &hbuf, &hlen);
    }
    pthread_barrier_wait(&warm_barrier);
    pthread_barrier_wait(&go_barrier);

    for (;; i++) {
        if (opt.count) {
            if (atomic_fetch_add(&issued, 1) >= opt.count)
                break;
        } else if (now_ns() >= t_end_ns) {
            break;
        }
        const char *name = name_for(ts->index, i, namebuf, sizeof(namebuf));
        uint64_t t0 = now_ns();
        int r = lookup_one(ts, name, &hbuf, &hlen);
        uint64_t dt = now_ns() - t0;
        if (r != 0)
            record_failure(ts, r, name);
        if (ts->n_lat == ts->cap_lat) {
            ts->cap_lat = ts->cap_lat ? ts->cap_lat * 2 : 4096;
            ts->lat_ns = xrealloc(ts->lat_ns, ts->cap_lat * sizeof(*ts->lat_ns));
        }
        ts->lat_ns[ts->n_lat++] = dt;
    }
    free(hbuf);
    return NULL;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples, in microseconds. */
static double pct_us(const uint64_t *s, size_t n, double p) {
    if (n == 0)
        return 0;
    size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return (double)s[k - 1] / 1000.0;
}

static const char *error_text(int code) {
    if (opt.api == API_GAI || opt.api == API_GAI4)
        return gai_strerror(code);
    if (opt.api == API_GHBN)
        return code > 0 && code < 5 ? hstrerror(code) : strerror(code);
    return strerror(code);
}

static void split_names(char *list) {
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        opt.names = xrealloc(opt.names, (opt.n_names + 1) * sizeof(*opt.names));
        opt.names[opt.n_names++] = tok;
    }
}

static void read_names(const char *path) {
    FILE *f = fopen(path, "re");
    if (!f)
        die("cannot open the names file");
    char line[300];
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n \t")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        opt.names = xrealloc(opt.names, (opt.n_names + 1) * sizeof(*opt.names));
        opt.names[opt.n_names] = strdup(line);
        if (!opt.names[opt.n_names++])
            die("out of memory");
    }
    fclose(f);
}

/* Is something bound to this UDP address? /proc/net/udp prints the address
 * as the hex of the in-memory s_addr and the port in host order. */
static bool udp_bound(const char *addr_port) {
    char host[64];
    const char *colon = strrchr(addr_port, ':');
    struct in_addr a;
    if (!colon || (size_t)(colon - addr_port) >= sizeof(host))
        die("-R udp:IPV4:PORT");
    memcpy(host, addr_port, (size_t)(colon - addr_port));
    host[colon - addr_port] = '\0';
    if (inet_pton(AF_INET, host, &a) != 1)
        die("-R udp: not an IPv4 address");
    char want[32];
    snprintf(want, sizeof(want), "%08X:%04X", a.s_addr, (unsigned)atoi(colon + 1));
    FILE *f = fopen("/proc/net/udp", "re");
    if (!f)
        die("cannot read /proc/net/udp");
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f)) {
        char local[64];
        if (sscanf(line, "%*s %63s", local) == 1 && strcmp(local, want) == 0)
            found = true;
    }
    fclose(f);
    return found;
}

/* Does a Unix stream socket listen at path? */
static bool unix_listening(const char *path) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        die("-R unix: path too long");
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("-R unix: socket() failed");
    bool ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

static bool is_ready(void) {
    if (strncmp(opt.ready, "path:", 5) == 0)
        return access(opt.ready + 5, F_OK) == 0;
    if (strncmp(opt.ready, "unix:", 5) == 0)
        return unix_listening(opt.ready + 5);
    if (strncmp(opt.ready, "udp:", 4) == 0)
        return udp_bound(opt.ready + 4);
    die("-R wants path:FILE, unix:SOCKET or udp:IPV4:PORT");
    return false;
}

/* Polls the readiness condition; returns CLOCK_REALTIME when it held. */
static uint64_t wait_ready(void) {
    uint64_t deadline = now_ns() + 20 * 1000000000ull;
    const struct timespec half_ms = {0, 500000};
    while (!is_ready()) {
        if (now_ns() > deadline)
            die("-R: not ready within 20 s");
        nanosleep(&half_ms, NULL);
    }
    return clock_ns(CLOCK_REALTIME);
}

static void usage(FILE *out) {
    fprintf(out, "usage: loadgen [-a gai|gai4|ghbn|unix] [-t THREADS] [-n COUNT | -d SECONDS]\n"
                 "               [-W WARMUP] (-N NAME[,NAME...] | -f FILE | -p PATTERN)\n"
                 "               [-S SOCKET] [-l LABEL] [-R path:FILE|unix:SOCKET|udp:IPV4:PORT]\n"
                 "               [-P NAME]\n"
                 "  -a  API: getaddrinfo AF_UNSPEC (gai, default), AF_INET (gai4),\n"
                 "      gethostbyname_r (ghbn), raw IPC round trip to -S SOCKET (unix)\n"
                 "  -t  threads (default 1)\n"
                 "  -n  measured lookups in total; -d measured seconds (default 2)\n"
                 "  -W  unmeasured warm-up lookups per thread first (default 1)\n"
                 "  -p  pattern: %%t = thread number, %%i = the thread's lookup counter\n"
                 "  -l  label echoed in the RESULT line\n"
                 "  -R  wait until FILE exists / SOCKET accepts a connection / the UDP port is\n"
                 "      bound, then start (cold start)\n"
                 "  -P  one unmeasured lookup of NAME before -R's wait\n");
}

static void parse_args(int argc, char **argv) {
    int c;
    while ((c = getopt(argc, argv, "a:t:n:d:W:N:f:p:S:l:R:P:h")) != -1) {
        switch (c) {
        case 'a': {
            bool found = false;
            for (size_t k = 0; k < sizeof(api_names) / sizeof(api_names[0]); k++) {
                if (strcmp(optarg, api_names[k]) == 0) {
                    opt.api = (enum api)k;
                    found = true;
                }
            }
            if (!found)
                die("unknown API (gai, gai4, ghbn, unix)");
            break;
        }
        case 't':
            opt.threads = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'n':
            opt.count = strtoull(optarg, NULL, 10);
            break;
        case 'd':
            opt.duration_s = strtod(optarg, NULL);
            break;
        case 'W':
            opt.warmup = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'N':
            split_names(optarg);
            break;
        case 'f':
            read_names(optarg);
            break;
        case 'p':
            opt.pattern = optarg;
            break;
        case 'S':
            opt.socket_path = optarg;
            break;
        case 'l':
            opt.label = optarg;
            break;
        case 'R':
            opt.ready = optarg;
            break;
        case 'P':
            opt.prime = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            exit(2);
        }
    }
    if (optind != argc || opt.threads < 1 || opt.threads > 4096 ||
        (!opt.count && !(opt.duration_s > 0)))
        die("bad arguments (see -h)");
    if (!opt.pattern && opt.n_names == 0)
        die("no names: give -N, -f or -p");
    if (opt.api == API_UNIX && !opt.socket_path)
        die("-a unix needs -S SOCKET");
}

int main(int argc, char **argv) {
    parse_args(argc, argv);
    uint64_t ready_at = 0;
    if (opt.prime) {
        struct thread_state prime = {0};
        char *hbuf = NULL;
        size_t hlen = 8192;
        hbuf = xrealloc(hbuf, hlen);
        (void)lookup_one(&prime, opt.prime, &hbuf, &hlen);
        free(hbuf);
    }
    if (opt.ready)
        ready_at = wait_ready();

    struct thread_state *ts = calloc(opt.threads, sizeof(*ts));
    if (!ts)
        die("out of memory");
    if (pthread_barrier_init(&warm_barrier, NULL, opt.threads + 1) != 0 ||
        pthread_barrier_init(&go_barrier, NULL, opt.threads + 1) != 0)
        die("pthread_barrier_init");
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    /* glibc carves each thread's static TLS (lookup_unix's reply buffer,
     * one whole IPC reply) out of its stack: room for both. */
    pthread_attr_setstacksize(&attr, 256 * 1024 + IPC_HEADER_LEN + IPC_MAX_REPLY_BODY);
    for (unsigned t = 0; t < opt.threads; t++) {
        ts[t].index = t;
        if (pthread_create(&ts[t].tid, &attr, worker, &ts[t]) != 0)
            die("pthread_create");
    }
    /* The clock starts when every thread has warmed up. */
    pthread_barrier_wait(&warm_barrier);
    uint64_t cpu0 = cpu_us();
    t_start_ns = now_ns();
    t_end_ns = t_start_ns + (uint64_t)(opt.duration_s * 1e9);
    pthread_barrier_wait(&go_barrier);
    for (unsigned t = 0; t < opt.threads; t++)
        pthread_join(ts[t].tid, NULL);
    uint64_t elapsed = now_ns() - t_start_ns;
    uint64_t client_cpu = cpu_us() - cpu0;
    uint64_t done_at = clock_ns(CLOCK_REALTIME);

    size_t n = 0;
    uint64_t failures = 0;
    for (unsigned t = 0; t < opt.threads; t++) {
        n += ts[t].n_lat;
        failures += ts[t].failures;
    }
    uint64_t *all = xrealloc(NULL, (n ? n : 1) * sizeof(*all));
    size_t o = 0;
    double sum = 0;
    for (unsigned t = 0; t < opt.threads; t++) {
        memcpy(all + o, ts[t].lat_ns, ts[t].n_lat * sizeof(*all));
        o += ts[t].n_lat;
    }
    for (size_t k = 0; k < n; k++)
        sum += (double)all[k];
    qsort(all, n, sizeof(*all), cmp_u64);

    double secs = (double)elapsed / 1e9;
    double lps = secs > 0 ? (double)n / secs : 0;
    double mean = n ? sum / (double)n / 1000.0 : 0;
    double p50 = pct_us(all, n, 50), p90 = pct_us(all, n, 90), p99 = pct_us(all, n, 99);
    double max = n ? (double)all[n - 1] / 1000.0 : 0;

    printf("%s: %s, %u thread%s: %zu lookups in %.3f s = %.0f lookups/s; "
           "latency us p50 %.1f p90 %.1f p99 %.1f max %.1f; %llu failed\n",
           opt.label, api_names[opt.api], opt.threads, opt.threads == 1 ? "" : "s", n, secs, lps,
           p50, p90, p99, max, (unsigned long long)failures);
    for (unsigned t = 0; t < opt.threads; t++) {
        if (ts[t].failures) {
            printf("  first failure: %s: %s\n", ts[t].first_error_name,
                   error_text(ts[t].first_error));
            break;
        }
    }
    printf("RESULT label=%s api=%s threads=%u lookups=%zu failures=%llu seconds=%.3f lps=%.1f "
           "p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f mean_us=%.1f client_cpu_us=%llu\n",
           opt.label, api_names[opt.api], opt.threads, n, (unsigned long long)failures, secs, lps,
           p50, p90, p99, max, mean, (unsigned long long)client_cpu);
    if (opt.ready)
        printf("READY ready_realtime_ns=%llu done_realtime_ns=%llu\n", (unsigned long long)ready_at,
               (unsigned long long)done_at);
    fflush(stdout);

    for (unsigned t = 0; t < opt.threads; t++)
        free(ts[t].lat_ns);
    free(all);
    free(ts);
    return 0;
}

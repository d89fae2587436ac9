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
 * so that "u-%t-%i.wild.test" gives a name never asked before. Two more
 * serve a big cache (bench/run.sh's cache phase): %g is a counter shared by
 * all threads, starting at -o BASE, so that -n COUNT lookups with -W 0 ask
 * exactly the names BASE .. BASE+COUNT-1 (filling a cache to a known set);
 * %r is a number drawn at random in [0, -r N) on every lookup (a name picked
 * among those filled). Each thread first does -W unmeasured lookups (with a
 * list, they go through the list from the thread's own offset; with a
 * pattern, they use the first counter values), then all threads start
 * measuring together; -G FILE creates FILE at that moment, for a second
 * client that must run while this one measures. -i USEC paces each thread:
 * a lookup starts at most every USEC microseconds (a steady rate, below
 * what the stack could take), else as soon as the previous one returns.
 *
 * Threads get 256 KiB stacks and the descriptor limit is raised to what the
 * threads need (up to the hard limit), so that a thousand threads fit.
 *
 * Cold start: -R path:FILE, -R unix:SOCKET or -R udp:IPV4:PORT makes loadgen
 * wait (polling every half millisecond) until FILE exists, a connect() to the
 * Unix stream socket SOCKET succeeds (it exists and listens: a daemon that
 * binds before it listens, as nscd does, refuses connections in between), or
 * something is bound to that UDP port, then start at once; the harness starts loadgen first and the
 * daemon second, so the first lookup follows readiness within a millisecond. -P NAME does one
 * unmeasured lookup before that wait (NSS reads its configuration).
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
#include <fcntl.h>
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
    uint64_t base;     /* %g starts here (-o) */
    uint64_t range;    /* %r is in [0, range) (-r) */
    const char *go_file;  /* -G: created when the measurement starts */
    uint64_t interval_ns; /* -i: a thread's lookups start at most this often */
};

struct thread_state {
    pthread_t tid;
    unsigned index;
    uint64_t *lat_ns; /* one sample per measured lookup */
    size_t n_lat, cap_lat;
    uint64_t failures;
    int first_error; /* first failure's code, for the report */
    char first_error_name[256];
    uint64_t rng;   /* xorshift64* state for %r */
    uint8_t *reply; /* -a unix: one whole IPC reply */
};

static struct options opt = {
    .api = API_GAI, .threads = 1, .duration_s = 2.0, .warmup = 1, .label = "-"};
static pthread_barrier_t warm_barrier, go_barrier; /* warmed up; clock set */
static _Atomic uint64_t issued;                    /* count mode: lookups handed out so far */
static _Atomic uint64_t global_seq;                /* %g: the next number (from -o) */
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

/* xorshift64*: a thread's own random numbers, cheap and good enough to
 * spread lookups over a cache. */
static uint64_t next_random(uint64_t *state) {
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* The name for lookup number i of thread ts. */
static const char *name_for(struct thread_state *ts, uint64_t i, char *buf, size_t buflen) {
    unsigned t = ts->index;
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
        } else if (p[0] == '%' && p[1] == 'g') {
            o += (size_t)snprintf(buf + o, buflen - o, "%llu",
                                  (unsigned long long)atomic_fetch_add(&global_seq, 1));
            p++;
        } else if (p[0] == '%' && p[1] == 'r') {
            o += (size_t)snprintf(buf + o, buflen - o, "%llu",
                                  (unsigned long long)(next_random(&ts->rng) % opt.range));
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
static int lookup_unix(const char *name, uint8_t *reply) {
    uint8_t req[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY];
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
    switch (opt.api) {
    case API_GAI:
        return lookup_gai(name, AF_UNSPEC);
    case API_GAI4:
        return lookup_gai(name, AF_INET);
    case API_GHBN:
        return lookup_ghbn(name, hbuf, hlen);
    case API_UNIX:
        return lookup_unix(name, ts->reply);
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

    /* The reply buffer (about a megabyte) on the heap, not in static TLS:
     * glibc zeroes every thread's TLS block, a gigabyte for 1024 threads. */
    if (opt.api == API_UNIX)
        ts->reply = xrealloc(NULL, IPC_HEADER_LEN + IPC_MAX_REPLY_BODY);
    for (; i < opt.warmup; i++) {
        const char *name = name_for(ts, i, namebuf, sizeof(namebuf));
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
        const char *name = name_for(ts, i, namebuf, sizeof(namebuf));
        if (opt.interval_ns) {
            /* Threads staggered over the interval: a steady rate. */
            uint64_t due = t_start_ns + (i - opt.warmup) * opt.interval_ns +
                           ts->index * opt.interval_ns / opt.threads;
            if (due >= t_end_ns && !opt.count)
                break;
            struct timespec ts_due = {(time_t)(due / 1000000000u), (long)(due % 1000000000u)};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts_due, NULL) == EINTR)
                ;
        }
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
    free(ts->reply);
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
                 "               [-P NAME] [-o BASE] [-r N] [-G FILE] [-i USEC]\n"
                 "  -a  API: getaddrinfo AF_UNSPEC (gai, default), AF_INET (gai4),\n"
                 "      gethostbyname_r (ghbn), raw IPC round trip to -S SOCKET (unix)\n"
                 "  -t  threads (default 1)\n"
                 "  -n  measured lookups in total; -d measured seconds (default 2)\n"
                 "  -W  unmeasured warm-up lookups per thread first (default 1)\n"
                 "  -p  pattern: %%t = thread number, %%i = the thread's lookup counter,\n"
                 "      %%g = a counter shared by the threads (from -o BASE, default 0),\n"
                 "      %%r = a random number in [0, N) (-r N)\n"
                 "  -l  label echoed in the RESULT line\n"
                 "  -R  wait until FILE exists / SOCKET accepts a connection / the UDP port is\n"
                 "      bound, then start (cold start)\n"
                 "  -P  one unmeasured lookup of NAME before -R's wait\n"
                 "  -G  create FILE when the measurement starts\n"
                 "  -i  start a thread's lookups at most every USEC microseconds\n");
}

static void parse_args(int argc, char **argv) {
    int c;
    while ((c = getopt(argc, argv, "a:t:n:d:W:N:f:p:S:l:R:P:o:r:G:i:h")) != -1) {
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
        case 'o':
            opt.base = strtoull(optarg, NULL, 10);
            break;
        case 'r':
            opt.range = strtoull(optarg, NULL, 10);
            break;
        case 'G':
            opt.go_file = optarg;
            break;
        case 'i':
            opt.interval_ns = strtoull(optarg, NULL, 10) * 1000u;
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
    if (opt.pattern && strstr(opt.pattern, "%r") && opt.range == 0)
        die("%r needs -r N (N > 0)");
}

/* A socket per thread to the daemon (or nss_dns's UDP socket), and some
 * left over: raise the soft descriptor limit when the threads need more. */
static void raise_nofile(void) {
    struct rlimit rl;
    rlim_t want = (rlim_t)opt.threads * 2 + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
}

int main(int argc, char **argv) {
    parse_args(argc, argv);
    raise_nofile();
    atomic_store(&global_seq, opt.base);
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
    /* getaddrinfo and the NSS modules need far less; 1024 threads then
     * reserve 256 MiB of address space, not 8 GiB. */
    pthread_attr_setstacksize(&attr, 256 * 1024);
    uint64_t seed = now_ns();
    for (unsigned t = 0; t < opt.threads; t++) {
        ts[t].index = t;
        ts[t].rng = (seed ^ ((uint64_t)(t + 1) * 0x9E3779B97F4A7C15ull)) | 1;
        if (pthread_create(&ts[t].tid, &attr, worker, &ts[t]) != 0)
            die("pthread_create");
    }
    /* The clock starts when every thread has warmed up. */
    pthread_barrier_wait(&warm_barrier);
    uint64_t cpu0 = cpu_us();
    t_start_ns = now_ns();
    t_end_ns = t_start_ns + (uint64_t)(opt.duration_s * 1e9);
    if (opt.go_file) {
        int fd = open(opt.go_file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0)
            close(fd);
    }
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

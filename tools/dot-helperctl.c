/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dot-helperctl: the administrator's view of dot-helperd through its
 * control socket (common/control-proto.h): status, stats, query, flush,
 * reload. Needs no privilege of its own beyond reaching the socket; reads
 * only the control_socket key of the daemon's config, leniently, so that
 * "reload" still reaches the daemon when the file being reloaded is broken.
 *
 * Exit status: 0 success, 1 the command failed, 2 usage, 3 the daemon is not
 * running, 4 permission denied.
 */
#include <errno.h>
#include <getopt.h>
#include <libconfig.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control-proto.h"

#define DEFAULT_CONFIG  SYSCONFDIR "/dot-helperd.conf"
#define DEFAULT_CONTROL "/run/dot-helperd/control"
/* A query waits for the daemon's own deadline (query_ms <= 60 s). */
#define QUERY_WAIT_MS 65000
#define OTHER_WAIT_MS 10000

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_NOT_RUNNING = 3, EXIT_DENIED = 4 };

static void usage(FILE *f) {
    fprintf(f,
            "Usage: dot-helperctl [-c FILE] COMMAND [ARGS]\n"
            "Control and inspect dot-helperd through its control socket.\n\n"
            "Commands:\n"
            "  status                      upstreams, cache and daemon at a glance\n"
            "  stats                       every counter, one key=value per line\n"
            "  query NAME [-t A|AAAA|PTR]  resolve through the daemon (cache, search list)\n"
            "  query ADDRESS               reverse lookup (PTR)\n"
            "  flush [NAME]                drop the whole cache, or NAME's entries\n"
            "  reload                      make the daemon read its config again\n\n"
            "Options:\n"
            "  -c, --config FILE  the daemon's config, for control_socket (default %s)\n"
            "  -h, --help         print this help and exit\n"
            "  -V, --version      print the version and exit\n\n"
            "Exit status: 0 success, 1 command failed, 2 usage error, 3 daemon not running,\n"
            "4 permission denied.\n",
            DEFAULT_CONFIG);
}

/* The control socket's path from the config; the default when the key is
 * absent. A file that does not parse still leaves the default (with a
 * warning): the daemon judges its config, not us. */
static int socket_from_config(const char *path, bool explicit_path, char *out, size_t outlen) {
    snprintf(out, outlen, "%s", DEFAULT_CONTROL);
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        if (e == ENOENT && !explicit_path)
            return 0;
        fprintf(stderr, "dot-helperctl: cannot read %s: %s\n", path, strerror(e));
        return e == EACCES || e == EPERM ? EXIT_DENIED : EXIT_USAGE;
    }
    config_t cfg;
    config_init(&cfg);
    if (config_read(&cfg, f) != CONFIG_TRUE) {
        fprintf(stderr, "dot-helperctl: warning: %s:%d: %s; using the control socket %s\n", path,
                config_error_line(&cfg), config_error_text(&cfg), out);
    } else {
        const char *s = NULL;
        if (config_lookup_string(&cfg, "control_socket", &s) == CONFIG_TRUE && s)
            snprintf(out, outlen, "%s", s);
    }
    config_destroy(&cfg);
    fclose(f);
    return 0;
}

/* Sends one request and reads the whole reply into *ret_buf (malloc'd). */
static int transact(const char *sock, const char *request, size_t reqlen, int wait_ms,
                    char **ret_buf, size_t *ret_len) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(sock) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "dot-helperctl: control socket path too long: %s\n", sock);
        return EXIT_USAGE;
    }
    memcpy(sa.sun_path, sock, strlen(sock) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("dot-helperctl: socket");
        return EXIT_FAILED;
    }
    if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        if (e == EACCES || e == EPERM) {
            fprintf(stderr,
                    "dot-helperctl: permission denied on %s: the control socket is for root\n",
                    sock);
            return EXIT_DENIED;
        }
        if (e == ENOENT || e == ECONNREFUSED || e == ENOTDIR) {
            fprintf(stderr, "dot-helperctl: dot-helperd is not running (%s: %s)\n", sock,
                    e == ENOENT ? "no such socket" : strerror(e));
            return EXIT_NOT_RUNNING;
        }
        fprintf(stderr, "dot-helperctl: cannot connect to %s: %s\n", sock, strerror(e));
        return EXIT_FAILED;
    }
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    size_t off = 0;
    char *buf = malloc(CTL_MAX_REPLY + 1);
    if (!buf) {
        close(fd);
        return EXIT_FAILED;
    }
    while (off < reqlen) {
        ssize_t n = send(fd, request + off, reqlen - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        off += (size_t)n;
    }
    size_t len = 0;
    int rc = -1;
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left = wait_ms -
                    ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
        if (left <= 0) {
            fprintf(stderr, "dot-helperctl: no reply from dot-helperd within %d s\n",
                    wait_ms / 1000);
            rc = EXIT_FAILED;
            break;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int pr = poll(&p, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        if (len == CTL_MAX_REPLY) {
            fprintf(stderr, "dot-helperctl: reply too long\n");
            rc = EXIT_FAILED;
            break;
        }
        ssize_t n = recv(fd, buf + len, CTL_MAX_REPLY - len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "dot-helperctl: reading the reply: %s\n", strerror(errno));
            rc = EXIT_FAILED;
            break;
        }
        if (n == 0) {
            rc = EXIT_OK;
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    if (rc != EXIT_OK) {
        free(buf);
        return rc;
    }
    buf[len] = '\0';
    *ret_buf = buf;
    *ret_len = len;
    return EXIT_OK;
}

/* Finds key's value in the view ("" when absent); copies it to out. */
static const char *get(const struct ctl_reply_view *v, const char *key, char *out, size_t outlen) {
    const char *cur = v->data;
    struct ctl_kv kv;
    out[0] = '\0';
    while (ctl_reply_next(v, &cur, &kv))
        if (kv.key_len == strlen(key) && memcmp(kv.key, key, kv.key_len) == 0) {
            snprintf(out, outlen, "%.*s", (int)kv.value_len, kv.value);
            break;
        }
    return out;
}

static unsigned long long getu(const struct ctl_reply_view *v, const char *key) {
    char b[64];
    return strtoull(get(v, key, b, sizeof(b)), NULL, 10);
}

static const char *fmt_time(long long t, char *buf, size_t len) {
    time_t tt = (time_t)t;
    struct tm tm;
    if (t <= 0 || !gmtime_r(&tt, &tm))
        snprintf(buf, len, "unknown");
    else
        strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

static const char *fmt_duration(long long s, char *buf, size_t len) {
    if (s >= 86400)
        snprintf(buf, len, "%lldd %lldh %lldmin", s / 86400, s % 86400 / 3600, s % 3600 / 60);
    else if (s >= 3600)
        snprintf(buf, len, "%lldh %lldmin %llds", s / 3600, s % 3600 / 60, s % 60);
    else if (s >= 60)
        snprintf(buf, len, "%lldmin %llds", s / 60, s % 60);
    else
        snprintf(buf, len, "%llds", s);
    return buf;
}

static void print_status(const struct ctl_reply_view *v) {
    char a[256], b[256], c[64], k[64];
    printf("dot-helperd %s (pid %s), up %s, %s mode\n", get(v, "version", a, sizeof(a)),
           get(v, "pid", b, sizeof(b)), fmt_duration((long long)getu(v, "uptime_s"), c, sizeof(c)),
           get(v, "mode", k, sizeof(k)));
    printf("       Config: %s (loaded %s)\n", get(v, "config.file", a, sizeof(a)),
           fmt_time((long long)getu(v, "config.loaded_at"), b, sizeof(b)));
    printf("      Lookups: %llu\n", getu(v, "lookups"));
    printf("        Cache: %llu entries, %llu hits, %llu misses, %llu stale served\n",
           getu(v, "cache.entries"), getu(v, "cache.hits"), getu(v, "cache.misses"),
           getu(v, "cache.stale_served"));
    if (getu(v, "map.enabled"))
        printf("   Answer map: %llu entries in %llu slots, %llu published; asked after a map "
               "miss %llu, expired %llu, busy %llu\n",
               getu(v, "map.entries"), getu(v, "map.slots"), getu(v, "map.published"),
               getu(v, "map.asked_miss"), getu(v, "map.asked_expired"), getu(v, "map.asked_busy"));
    else
        printf("   Answer map: off\n");
    unsigned long long n = getu(v, "upstreams");
    for (unsigned long long i = 0; i < n; i++) {
#define G(name) (snprintf(k, sizeof(k), "upstream.%llu." name, i), get(v, k, a, sizeof(a)))
#define U(name) (snprintf(k, sizeof(k), "upstream.%llu." name, i), getu(v, k))
        char addr[128], auth[256];
        snprintf(addr, sizeof(addr), "%s", G("address"));
        snprintf(auth, sizeof(auth), "%s", G("auth_name"));
        printf("\nUpstream %s port %llu%s%s%s\n", addr, U("port"), auth[0] ? " (" : "", auth,
               auth[0] ? ")" : "");
        char state[32];
        snprintf(state, sizeof(state), "%s", G("state"));
        char err[256];
        snprintf(err, sizeof(err), "%s", G("last_error"));
        if (strcmp(state, "backoff") == 0) {
            long long ms = (long long)U("backoff_ms");
            time_t until = time(NULL) + (time_t)((ms + 999) / 1000);
            struct tm tm;
            char when[32] = "?";
            if (localtime_r(&until, &tm))
                strftime(when, sizeof(when), "%H:%M:%S", &tm);
            printf("        State: backing off until %s (in %lld s): %s\n", when, (ms + 999) / 1000,
                   err[0] ? err : "failed");
        } else if (strcmp(state, "unroutable") == 0) {
            printf("        State: unroutable (no route to it)\n");
        } else if (strcmp(state, "up") == 0) {
            printf("        State: up\n");
        } else {
            printf("        State: not tried yet%s%s\n", err[0] ? "; last error: " : "", err);
        }
        char ver[32], pin[48];
        snprintf(ver, sizeof(ver), "%s", G("tls_version"));
        long long pinv = atoll(G("pin"));
        if (U("pins") == 0)
            snprintf(pin, sizeof(pin), "no pins");
        else if (pinv < 0)
            snprintf(pin, sizeof(pin), "pin not checked yet");
        else
            snprintf(pin, sizeof(pin), "pin #%lld matched", pinv);
        printf("          TLS: %s, certificate valid until %s, %s\n", ver[0] ? ver : "none yet",
               fmt_time((long long)U("cert_not_after"), b, sizeof(b)), pin);
        printf("          RTT: %llu ms smoothed, p50 %llu ms, p99 %llu ms (last %llu answers)\n",
               U("srtt_ms"), U("rtt_p50_ms"), U("rtt_p99_ms"), U("rtt_samples"));
        unsigned long long q = U("queries"), hs = U("handshakes");
        char ratio[32];
        if (hs)
            snprintf(ratio, sizeof(ratio), "%.1f", (double)q / (double)hs);
        else
            snprintf(ratio, sizeof(ratio), "-");
        printf(
            "  Connections: %llu open, %llu handshakes, %llu resumed, %s queries per handshake\n",
            U("connections"), hs, U("resumptions"), ratio);
        printf("      Queries: %llu sent, %llu answered, %llu failed, %llu validation failures\n",
               q, U("answers"), U("failures"), U("validation_failures"));
        const char *pairs = G("pairs");
        printf("        Pairs: %s\n",
               strcmp(pairs, "together") == 0
                   ? "answered together: a lookup's questions share a connection"
               : strcmp(pairs, "apart") == 0
                   ? "answered apart: a lookup's questions go on two connections"
                   : "learning how it answers a lookup's two questions");
#undef G
#undef U
    }
}

/* The answer, resolvectl-query style: "NAME: ADDRESS", more addresses under
 * it, then where each question's answer came from. */
static int show_query(const struct ctl_reply_view *v) {
    char name[1100], status[32], canon[300], asked[1100], b[300], k[64];
    get(v, "query.name", name, sizeof(name));
    get(v, "status", status, sizeof(status));
    get(v, "canonical", canon, sizeof(canon));
    get(v, "asked", asked, sizeof(asked));
    bool ok = strcmp(status, "ok") == 0;
    const char *cur = v->data;
    struct ctl_kv kv;
    int indent = (int)strlen(name) + 2;
    char qtype[8];
    get(v, "query.type", qtype, sizeof(qtype));
    if (ok && strcmp(qtype, "PTR") == 0) {
        printf("%s: %s\n", name, canon);
        printf("-- TTL left: %s s\n", get(v, "ttl", b, sizeof(b)));
    } else if (ok) {
        bool first = true;
        while (ctl_reply_next(v, &cur, &kv)) {
            if (kv.key_len == 7 && memcmp(kv.key, "address", 7) == 0) {
                if (first)
                    printf("%s: %.*s\n", name, (int)kv.value_len, kv.value);
                else
                    printf("%*s%.*s\n", indent, "", (int)kv.value_len, kv.value);
                first = false;
            }
        }
        unsigned long long total = getu(v, "address_count");
        unsigned long long listed = 0;
        cur = v->data;
        while (ctl_reply_next(v, &cur, &kv))
            listed += kv.key_len == 7 && memcmp(kv.key, "address", 7) == 0;
        if (total > listed)
            printf("%*s(%llu more)\n", indent, "", total - listed);
        if (!first && strcasecmp(canon, name) != 0)
            printf("%*s(canonical name %s)\n", indent, "", canon);
        cur = v->data;
        while (ctl_reply_next(v, &cur, &kv))
            if (kv.key_len == 5 && memcmp(kv.key, "alias", 5) == 0)
                printf("%*s(alias %.*s)\n", indent, "", (int)kv.value_len, kv.value);
        printf("-- TTL left: %s s\n", get(v, "ttl", b, sizeof(b)));
    } else {
        printf("%s: %s\n", name,
               strcmp(status, "nxdomain") == 0   ? "no such name (NXDOMAIN)"
               : strcmp(status, "nodata") == 0   ? "no address of that type (NODATA)"
               : strcmp(status, "tryagain") == 0 ? "no answer from the upstreams (TRYAGAIN)"
               : strcmp(status, "notfound_tryagain") == 0 ? "not found; a SERVFAIL on the way"
                                                          : status);
    }
    if (asked[0] && strcasecmp(asked, name) != 0)
        printf("-- Asked as: %s\n", asked);
    for (int i = 0; i < 2; i++) {
        char type[16], src[16], up[200], ttl[16];
        snprintf(k, sizeof(k), "answer.%d.type", i);
        if (!get(v, k, type, sizeof(type))[0])
            break;
        snprintf(k, sizeof(k), "answer.%d.source", i);
        get(v, k, src, sizeof(src));
        snprintf(k, sizeof(k), "answer.%d.upstream", i);
        get(v, k, up, sizeof(up));
        snprintf(k, sizeof(k), "answer.%d.ttl", i);
        get(v, k, ttl, sizeof(ttl));
        if (strcmp(src, "upstream") == 0)
            printf("-- %s: from upstream %s, TTL %s s\n", type, up, ttl);
        else if (strcmp(src, "cache") == 0)
            printf("-- %s: from the cache, TTL left %s s\n", type, ttl);
        else if (strcmp(src, "stale") == 0)
            printf("-- %s: stale from the cache (upstreams failing), TTL %s s\n", type, ttl);
        else
            printf("-- %s: no answer\n", type);
    }
    printf("-- Time: %s ms\n", get(v, "time_ms", b, sizeof(b)));
    return ok ? EXIT_OK : EXIT_FAILED;
}

int main(int argc, char **argv) {
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *config = DEFAULT_CONFIG;
    bool explicit_config = false;
    int ch;
    /* '+': options end at the command; its own arguments are parsed below. */
    while ((ch = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            config = optarg;
            explicit_config = true;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        case 'V':
            printf("dot-helperctl %s\n", PACKAGE_VERSION);
            return EXIT_OK;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[optind++];
    const char *args[CTL_MAX_ARGS];
    size_t n_args = 0;
    const char *wire_cmd = cmd;
    int wait_ms = OTHER_WAIT_MS;
    if (strcmp(cmd, "status") == 0 || strcmp(cmd, "stats") == 0 || strcmp(cmd, "reload") == 0) {
        if (optind != argc) {
            fprintf(stderr, "dot-helperctl: %s takes no argument\n", cmd);
            return EXIT_USAGE;
        }
        if (strcmp(cmd, "status") == 0)
            wire_cmd = "stats";
    } else if (strcmp(cmd, "flush") == 0) {
        if (argc - optind > 1) {
            fprintf(stderr, "dot-helperctl: flush takes at most one NAME\n");
            return EXIT_USAGE;
        }
        if (optind < argc)
            args[n_args++] = argv[optind];
    } else if (strcmp(cmd, "query") == 0) {
        const char *name = NULL, *type = NULL;
        for (int i = optind; i < argc; i++) {
            if (strcmp(argv[i], "-t") == 0 || strcmp(argv[i], "--type") == 0) {
                if (i + 1 >= argc || type) {
                    fprintf(stderr, "dot-helperctl: -t takes one of A, AAAA, PTR\n");
                    return EXIT_USAGE;
                }
                type = argv[++i];
            } else if (strncmp(argv[i], "-t", 2) == 0 && !type) {
                type = argv[i] + 2;
            } else if (!name && argv[i][0] != '-') {
                name = argv[i];
            } else {
                fprintf(stderr, "dot-helperctl: unexpected argument %s\n", argv[i]);
                return EXIT_USAGE;
            }
        }
        if (!name) {
            fprintf(stderr, "dot-helperctl: query needs a NAME or an ADDRESS\n");
            return EXIT_USAGE;
        }
        if (type && strcasecmp(type, "A") != 0 && strcasecmp(type, "AAAA") != 0 &&
            strcasecmp(type, "PTR") != 0) {
            fprintf(stderr, "dot-helperctl: query type must be A, AAAA or PTR, not %s\n", type);
            return EXIT_USAGE;
        }
        args[n_args++] = name;
        if (type)
            args[n_args++] = strcasecmp(type, "A") == 0      ? "A"
                             : strcasecmp(type, "AAAA") == 0 ? "AAAA"
                                                             : "PTR";
        wait_ms = QUERY_WAIT_MS;
    } else {
        fprintf(stderr, "dot-helperctl: unknown command %s\n", cmd);
        usage(stderr);
        return EXIT_USAGE;
    }

    char request[CTL_MAX_REQUEST + 1];
    int reqlen = ctl_request_encode(request, sizeof(request), wire_cmd, args, n_args);
    if (reqlen < 0) {
        fprintf(stderr, "dot-helperctl: %s: argument empty, too long or not printable\n", cmd);
        return EXIT_USAGE;
    }
    char sock[256];
    int rc = socket_from_config(config, explicit_config, sock, sizeof(sock));
    if (rc != EXIT_OK)
        return rc;
    char *reply = NULL;
    size_t len = 0;
    rc = transact(sock, request, (size_t)reqlen, wait_ms, &reply, &len);
    if (rc != EXIT_OK)
        return rc;
    struct ctl_reply_view v;
    if (ctl_reply_decode(reply, len, &v) < 0) {
        fprintf(stderr, "dot-helperctl: malformed reply from dot-helperd\n");
        free(reply);
        return EXIT_FAILED;
    }
    if (!v.ok) {
        fprintf(stderr, "dot-helperctl: %s: %.*s\n", cmd, (int)v.message_len, v.message);
        free(reply);
        switch (v.error) {
        case CTL_ERR_USAGE:
        case CTL_ERR_VERSION:
            return EXIT_USAGE;
        case CTL_ERR_DENIED:
            return EXIT_DENIED;
        default:
            return EXIT_FAILED;
        }
    }
    if (strcmp(cmd, "status") == 0) {
        print_status(&v);
    } else if (strcmp(cmd, "stats") == 0) {
        fwrite(v.data, 1, v.data_len, stdout);
    } else if (strcmp(cmd, "query") == 0) {
        rc = show_query(&v);
    } else if (strcmp(cmd, "flush") == 0) {
        char b[32];
        get(&v, "flushed", b, sizeof(b));
        printf("Flushed %s cache entr%s%s%s.\n", b, strcmp(b, "1") == 0 ? "y" : "ies",
               n_args ? " of " : "", n_args ? args[0] : "");
    } else if (strcmp(cmd, "reload") == 0) {
        printf("Reloaded.\n");
    }
    free(reply);
    if (fflush(stdout) != 0)
        rc = EXIT_FAILED;
    return rc;
}

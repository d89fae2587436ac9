/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * main.c: dot-helperd's start-up and shutdown: options, config, sockets,
 * privilege drop, readiness notification, signals, then the event loop.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "config-diff.h"
#include "config.h"
#include "control.h"
#include "log.h"
#include "loop.h"
#include "netwatch.h"
#include "map-writer.h"
#include "privdrop.h"
#include "resolvconf.h"
#include "resolver.h"
#include "server.h"
#include "tls.h"
#include "upstream.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: dot-helperd [-c FILE] [-f] [--check-config] [--version] [--help]\n"
            "DNS-over-TLS helper daemon for the libnss_dot NSS module.\n\n"
            "  -c, --config FILE   configuration file (default %s)\n"
            "  -f, --foreground    stay in the foreground and log to stderr\n"
            "                      (otherwise detach once ready and log to syslog)\n"
            "  -n, --check-config  validate the configuration and exit 0 or 1\n"
            "  -V, --version       print the version and exit\n"
            "  -h, --help          print this help and exit\n",
            CONFIG_DEFAULT_PATH);
}

/* Tells systemd (Type=notify) what we are doing ("READY=1", "RELOADING=1",
 * "STOPPING=1", newline-separated assignments), without linking
 * libsystemd. */
static void notify_state(const char *state) {
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || (path[0] != '/' && path[0] != '@'))
        return;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(path);
    if (n >= sizeof(sa.sun_path))
        return;
    memcpy(sa.sun_path, path, n);
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    sendto(fd, state, strlen(state), MSG_NOSIGNAL, (const struct sockaddr *)&sa,
           (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
    close(fd);
}

struct daemon {
    struct loop *loop;
    struct upstream_pool *pool;
    struct resolver *resolver;
    struct resolvconf *resolvconf;
    struct server *server;
    struct config *cfg;      /* the running one; a reload replaces it */
    struct tls_ctx *tls;     /* for new connections; replaced when ca_file changes */
    const char *config_path; /* -c: what a reload reads */
    bool published;          /* the socket (and its query_ms link) are in place */
    time_t config_loaded_at; /* when cfg was read, for dot-helperctl status */
    int rc;
};

static int daemon_reload(struct daemon *d, char *err, size_t errlen);

static int control_reload(void *userdata, char *err, size_t errlen) {
    return daemon_reload(userdata, err, errlen);
}

static void control_daemon_info(void *userdata, struct control_daemon_info *ret_info) {
    const struct daemon *d = userdata;
    ret_info->config_path = d->config_path;
    ret_info->config_loaded_at = (int64_t)d->config_loaded_at;
    ret_info->mode = d->cfg && d->cfg->mode == DOT_MODE_OPPORTUNISTIC ? "opportunistic" : "strict";
    if (d->server)
        server_get_stats(d->server, &ret_info->clients);
}

static void log_stats(const struct daemon *d) {
    struct resolver_stats rs;
    resolver_get_stats(d->resolver, &rs);
    /* One line for the resolver (tests read the last two "stats:" lines). */
    char map[320] = "";
    if (rs.map)
        snprintf(map, sizeof(map),
                 " map_entries=%zu map_published=%llu map_too_big=%llu map_resets=%llu "
                 "asked_plain=%llu asked_map_miss=%llu asked_map_expired=%llu "
                 "asked_map_busy=%llu asked_map_invalid=%llu",
                 rs.map_entries, (unsigned long long)rs.map_published,
                 (unsigned long long)rs.map_too_big, (unsigned long long)rs.map_resets,
                 (unsigned long long)rs.asked[IPC_ASK_PLAIN],
                 (unsigned long long)rs.asked[IPC_ASK_MAP_MISS],
                 (unsigned long long)rs.asked[IPC_ASK_MAP_EXPIRED],
                 (unsigned long long)rs.asked[IPC_ASK_MAP_BUSY],
                 (unsigned long long)rs.asked[IPC_ASK_MAP_INVALID]);
    log_info("stats: lookups=%llu cache_hits=%llu cache_misses=%llu stale_served=%llu "
             "coalesced=%llu queued_lookups=%llu cache_entries=%zu%s",
             (unsigned long long)rs.lookups, (unsigned long long)rs.cache_hits,
             (unsigned long long)rs.cache_misses, (unsigned long long)rs.stale_served,
             (unsigned long long)rs.coalesced, (unsigned long long)rs.queued_fetches,
             rs.cache_entries, map);
    struct upstream_stats st;
    upstream_pool_stats(d->pool, &st);
    log_info("stats: queries=%llu answers=%llu failures=%llu handshakes=%llu resumed=%llu "
             "connections=%llu unauthenticated=%llu plain_fallbacks=%llu waited=%llu",
             (unsigned long long)st.queries, (unsigned long long)st.answers,
             (unsigned long long)st.failures, (unsigned long long)st.handshakes,
             (unsigned long long)st.resumed, (unsigned long long)st.connections_open,
             (unsigned long long)st.unauthenticated, (unsigned long long)st.plain_fallbacks,
             (unsigned long long)st.waited);
}

static bool same_str(const char *a, const char *b) {
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Swaps next in for the running config, or changes nothing (see
 * daemon_reload). Takes next. */
static int reload_swap(struct daemon *d, struct config *next, char *err, size_t errlen) {
    struct config *cur = d->cfg;
    const char *fixed[CONFIG_FIXED_KEYS];
    size_t n_fixed = 0;
    struct tls_ctx *tls = d->tls;
    int r = config_keep_fixed(cur, next, fixed, &n_fixed);
    /* A new CA store means new trust: tls.c reads it into a new context, and
     * every upstream counts as new (config-diff.h), so nothing authenticated
     * under the old store is kept. The same path is not read again. */
    if (r >= 0 && !same_str(cur->ca_file, next->ca_file)) {
        char why[384];
        r = tls_ctx_new(next->ca_file, &tls, why, sizeof(why));
        if (r < 0)
            snprintf(err, errlen, "%s: ca_file: %s", d->config_path, why);
    }
    if (r >= 0)
        r = resolver_reload(d->resolver, next);
    if (r >= 0) {
        r = upstream_pool_reload(d->pool, next, tls);
        if (r < 0)
            (void)resolver_reload(d->resolver, cur);
    }
    if (r < 0) {
        if (r == -ENOMEM)
            snprintf(err, errlen, "%s: out of memory", d->config_path);
        if (tls != d->tls)
            tls_ctx_free(tls);
        config_free(next);
        return r;
    }
    /* Nothing can fail from here on. */
    resolvconf_set_config(d->resolvconf, next);
    server_set_config(d->server, next);
    log_set_level(next->log_level);
    for (size_t i = 0; i < n_fixed; i++)
        log_warnx("%s: a reload cannot change '%s' (restart to apply it); keeping the running "
                  "value",
                  d->config_path, fixed[i]);
    if (d->published && next->timeouts.query_ms != cur->timeouts.query_ms) {
        r = server_publish_query_ms(next->socket_path, next->timeouts.query_ms);
        if (r < 0)
            log_warnx("cannot publish %s.query_ms (the module will wait its default): %s",
                      next->socket_path, strerror(-r));
    }
    if (tls != d->tls) {
        /* Connections still open on the old context hold their own
         * reference to what they need of it. */
        tls_ctx_free(d->tls);
        d->tls = tls;
    }
    /* Nothing points into cur any more: the pool keeps copies of its
     * upstreams, and every other part has been handed next. */
    d->cfg = next;
    d->config_loaded_at = time(NULL);
    config_free(cur);
    log_info("reloaded %s: %zu upstream(s), %s mode", d->config_path, next->n_upstreams,
             next->mode == DOT_MODE_STRICT ? "strict" : "opportunistic");
    return 0;
}

/* Reads the config file (-c) again and swaps it in: parsed and checked
 * whole first, so that a bad file changes nothing (it is logged, and err
 * gets "FILE:LINE: message"). What a reload keeps and what it cannot
 * change: dot-helperd(8), RELOADING. 0 or -errno. */
static int daemon_reload(struct daemon *d, char *err, size_t errlen) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    char state[64];
    snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)now.tv_sec * 1000000ULL + (unsigned long long)now.tv_nsec / 1000);
    notify_state(state);
    log_info("reloading %s", d->config_path);
    struct config *next = NULL;
    int r = config_load(d->config_path, &next, err, errlen);
    if (r >= 0)
        r = reload_swap(d, next, err, errlen);
    if (r < 0)
        log_error("reload failed, the running config stays: %s", err);
    notify_state("READY=1");
    return r;
}

static void on_signal(int signo, void *userdata) {
    struct daemon *d = userdata;
    if (signo == SIGHUP) {
        char err[512];
        (void)daemon_reload(d, err, sizeof(err));
        return;
    }
    if (signo == SIGUSR1) {
        log_stats(d);
        return;
    }
    if (signo == SIGUSR2) {
        resolver_flush(d->resolver);
        log_info("cache flushed");
        return;
    }
    /* Stop at once: lookups in flight are told to try again on the way
     * out (server_free), so nothing waits for an upstream now. */
    log_info("%s: shutting down", signo == SIGTERM ? "SIGTERM" : "SIGINT");
    notify_state("STOPPING=1");
    loop_quit(d->loop);
}

/* The prewarm connections are up (or failed): only now does the socket
 * appear under its name, so the first lookup pays no handshake. */
static void on_warm(void *userdata) {
    struct daemon *d = userdata;
    /* First the module's deadline, then the socket: a module that finds the
     * socket also finds how long to wait for it. */
    int r = server_publish_query_ms(d->cfg->socket_path, d->cfg->timeouts.query_ms);
    if (r < 0)
        log_warnx("cannot publish %s.query_ms (the module will wait its default): %s",
                  d->cfg->socket_path, strerror(-r));
    r = server_publish(d->cfg->socket_path);
    if (r < 0) {
        log_error("cannot publish %s: %s", d->cfg->socket_path, strerror(-r));
        d->rc = 1;
        loop_quit(d->loop);
        return;
    }
    log_info("dot-helperd %s ready on %s with %zu upstream(s), %s mode", PACKAGE_VERSION,
             d->cfg->socket_path, d->cfg->n_upstreams,
             d->cfg->mode == DOT_MODE_STRICT ? "strict" : "opportunistic");
    d->published = true;
    notify_state("READY=1");
}

/* The one line that says what this daemon is and whom it will ask:
 * addresses, ports and names to authenticate, never a query name. */
static void log_startup(const struct config *cfg, const char *path) {
    char ups[1600];
    size_t off = 0;
    ups[0] = '\0';
    for (size_t i = 0; i < cfg->n_upstreams && off < sizeof(ups); i++) {
        const struct config_upstream *u = &cfg->upstreams[i];
        bool v6 = strchr(u->address, ':') != NULL;
        char pins[32] = "";
        if (u->n_pins)
            snprintf(pins, sizeof(pins), ", %zu pin(s)", u->n_pins);
        int n = snprintf(ups + off, sizeof(ups) - off, "%s%s%s%s:%u (%s%s)", i ? ", " : "",
                         v6 ? "[" : "", u->address, v6 ? "]" : "", (unsigned)u->port,
                         u->auth_name ? u->auth_name : "no name", pins);
        if (n < 0)
            break;
        off += (size_t)n;
    }
    log_info("dot-helperd %s starting: %s mode, %s selection, config %s, upstreams %s",
             PACKAGE_VERSION, cfg->mode == DOT_MODE_STRICT ? "strict" : "opportunistic",
             cfg->selection == DOT_SELECT_ORDERED       ? "ordered"
             : cfg->selection == DOT_SELECT_ROUND_ROBIN ? "round_robin"
                                                        : "fastest",
             path, ups);
}

static void on_search_list(void *userdata, struct search_conf *conf) {
    resolver_set_search(userdata, conf);
}

static void on_network_change(void *userdata) {
    struct daemon *d = userdata;
    upstream_pool_network_changed(d->pool);
}

int main(int argc, char **argv) {
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"foreground", no_argument, NULL, 'f'},
        {"check-config", no_argument, NULL, 'n'}, {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *path = CONFIG_DEFAULT_PATH;
    bool foreground = false, check_only = false;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:fnVh", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            path = optarg;
            break;
        case 'f':
            foreground = true;
            break;
        case 'n':
            check_only = true;
            break;
        case 'V':
            printf("dot-helperd %s\n", PACKAGE_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }

    char err[512];
    struct config *cfg = NULL;
    if (config_load(path, &cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (check_only) {
        config_free(cfg);
        return 0;
    }

    log_init("dot-helperd", foreground);
    log_set_level(cfg->log_level);
    log_startup(cfg, path);
    /* OpenSSL writes to sockets without MSG_NOSIGNAL. */
    signal(SIGPIPE, SIG_IGN);

    int rc = 1;
    struct loop *loop = NULL;
    struct tls_ctx *tls = NULL;
    struct upstream_pool *pool = NULL;
    struct resolver *resolver = NULL;
    struct server *server = NULL;
    struct netwatch *netwatch = NULL;
    struct resolvconf *resolvconf = NULL;
    struct control *control = NULL;
    struct map_writer *map = NULL;
    struct daemon d = {.config_path = path, .config_loaded_at = time(NULL)};
    int listen_fd = -1, control_fd = -1;
    uid_t control_owner = geteuid(); /* who binds the control socket */

    if (tls_ctx_new(cfg->ca_file, &tls, err, sizeof(err)) < 0) {
        log_error("%s", err);
        goto out;
    }
    /* As root, the sockets' directories become the user's before anything
     * is bound, so that after the switch the daemon can still publish its
     * sockets (renamed into place once warm) and remove them at exit. */
    struct priv_user user;
    const char *const sockets[] = {cfg->socket_path, cfg->control_socket_path};
    int switching = priv_lookup(cfg->user, &user, err, sizeof(err));
    if (switching < 0 ||
        priv_prepare_dirs(sockets, 2, switching ? &user : NULL, err, sizeof(err)) < 0) {
        log_error("%s", err);
        goto out;
    }
    int r = listen_fd = server_listen(cfg->socket_path);
    if (r < 0) {
        log_error("cannot listen on %s: %s", cfg->socket_path, strerror(-r));
        goto out;
    }
    r = control_fd = control_listen(cfg->control_socket_path);
    if (r < 0) {
        log_error("cannot listen on %s: %s", cfg->control_socket_path,
                  r == -EADDRINUSE ? "another dot-helperd is running" : strerror(-r));
        goto out;
    }
    if (switching) {
        if (priv_drop(&user, err, sizeof(err)) < 0) {
            log_error("%s", err);
            goto out;
        }
        log_info("running as user %s (uid %u, gid %u) with no capabilities", user.name,
                 (unsigned)user.uid, (unsigned)user.gid);
    }
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, 0};
    if (loop_new(&loop) < 0 || loop_signals(loop, sigs, on_signal, &d) < 0 ||
        upstream_pool_new(loop, cfg, tls, &pool) < 0 ||
        resolver_new(loop, cfg, pool, &resolver) < 0 ||
        resolvconf_new(loop, RESOLVCONF_PATH, cfg, on_search_list, resolver, &resolvconf) < 0 ||
        server_new(loop, cfg, resolver, listen_fd, &server) < 0) {
        log_error("start-up failed: out of resources");
        goto out;
    }
    listen_fd = -1; /* the server owns it now */
    /* The answer map, next to the socket: the socket's directory is the
     * one the module trusts (common/peer.h), and by now it is ours. */
    if (cfg->cache.shared_map) {
        r = map_writer_new(loop, cfg->socket_path, cfg->cache.shared_map_entries, &map);
        if (r < 0)
            log_warnx("cannot create the answer map %s.map (lookups go through the socket): %s",
                      cfg->socket_path, strerror(-r));
        else
            resolver_set_map(resolver, map);
    }
    static const struct control_hooks hooks = {
        .reload = control_reload,
        .daemon_info = control_daemon_info,
    };
    if (control_new(loop, control_fd, control_owner, resolver, pool, &hooks, &d, &control) < 0) {
        log_error("start-up failed: out of resources");
        goto out;
    }
    control_fd = -1; /* the control part owns it now */
    d.loop = loop;
    d.pool = pool;
    d.resolver = resolver;
    d.resolvconf = resolvconf;
    d.server = server;
    d.tls = tls;
    d.config_path = path;
    r = netwatch_new(loop, on_network_change, &d, &netwatch);
    if (r < 0)
        log_warnx("cannot watch network changes: %s", strerror(-r));
    /* Detach only once the socket is in place, so that whoever started us
     * sees start-up errors and finds the daemon ready when we return. */
    if (!foreground && daemon(0, 0) < 0) {
        log_warn("daemon");
        goto out;
    }
    d.cfg = cfg;
    upstream_pool_when_warm(pool, on_warm, &d);
    rc = loop_run(loop) < 0 ? 1 : d.rc;
    log_stats(&d);
    /* What the last reload left running. */
    cfg = d.cfg;
    tls = d.tls;
out:
    if (listen_fd >= 0 || server)
        server_unlink(cfg->socket_path);
    if (control_fd >= 0 || control)
        control_unlink(cfg->control_socket_path);
    control_free(control);
    if (resolver)
        resolver_set_map(resolver, NULL);
    map_writer_free(map);
    netwatch_free(netwatch);
    server_free(server);
    resolvconf_free(resolvconf);
    resolver_free(resolver);
    upstream_pool_free(pool);
    if (listen_fd >= 0)
        close(listen_fd);
    if (control_fd >= 0)
        close(control_fd);
    loop_free(loop);
    tls_ctx_free(tls);
    config_free(cfg);
    return rc;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config.h: /etc/dot-helperd.conf (libconfig syntax) parsed into a struct config,
 * with defaults and validation. The schema is the one in DESIGN.md.
 *
 * config_load() never logs: every error comes back as "FILE:LINE: message"
 * (or "FILE: message" when libconfig has no line) in the caller's buffer.
 * Reload parses into a new struct and the caller swaps only on success.
 * The caller owns the returned struct and frees it with config_free().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "log.h"

#define CONFIG_MAX_UPSTREAMS 16
#define CONFIG_MAX_PINS      8
#define CONFIG_MAX_SEARCH    6
#define CONFIG_DEFAULT_PATH  SYSCONFDIR "/dot-helperd.conf"

enum dot_mode { DOT_MODE_STRICT = 0, DOT_MODE_OPPORTUNISTIC = 1 };
enum dot_selection { DOT_SELECT_ORDERED = 0, DOT_SELECT_ROUND_ROBIN = 1, DOT_SELECT_FASTEST = 2 };

struct config_upstream {
    struct sockaddr_storage addr; /* address + port, ready for connect() */
    socklen_t addr_len;
    char address[64]; /* as written, for logs */
    uint16_t port;    /* default 853 */
    char *auth_name;  /* NULL when absent */
    size_t n_pins;
    uint8_t pins[CONFIG_MAX_PINS][32]; /* SHA-256 of the DER SubjectPublicKeyInfo */
};

struct config {
    enum dot_mode mode;
    char *ca_file; /* NULL: the system trust store */
    struct config_upstream upstreams[CONFIG_MAX_UPSTREAMS];
    size_t n_upstreams;
    enum dot_selection selection;
    struct {
        unsigned query_ms;   /* default 2000, 100..60000 */
        unsigned connect_ms; /* default 1000, 10..60000 */
        unsigned attempts;   /* default 2, 1..10 */
    } timeouts;
    struct {
        unsigned connections_per_upstream; /* default 2, 1..64 */
        unsigned max_inflight;             /* default 1024, 1..4096 */
        unsigned idle_timeout_s;           /* default 30, 1..3600 */
        bool prewarm;                      /* default true */
    } pool;
    struct {
        unsigned entries;            /* default 10000, 0..10000000 (0 disables) */
        unsigned min_ttl;            /* default 0, 0..86400 */
        unsigned max_ttl;            /* default 86400, 0..604800, >= min_ttl */
        unsigned negative_ttl;       /* default 300, 0..86400 */
        unsigned serve_stale_s;      /* default 0, 0..604800 */
        bool shared_map;             /* default true: the answer map (map-writer.h) */
        unsigned shared_map_entries; /* default 4096, 16..262144 (rounded up to a power of 2) */
    } cache;
    struct {
        unsigned max;              /* default 4096, 16..65536: lookup-socket clients */
        unsigned per_user;         /* default 2048, 1..65536: connections one uid holds */
        unsigned lookups_per_user; /* default 1024, 1..65536: its new upstream queries in flight */
    } clients;
    bool padding;    /* default true */
    bool search_set; /* false: take search/ndots from /etc/resolv.conf */
    char *search[CONFIG_MAX_SEARCH];
    size_t n_search;
    int ndots;                 /* -1 when not set; 0..15 */
    char *socket_path;         /* default DOT_DEFAULT_SOCKET */
    char *control_socket_path; /* default /run/dot-helperd/control */
    char *user;                /* default "dot-helperd" */
    enum log_level log_level;  /* default info */
};

/* Parses and validates path. On success *ret_config is a new config and 0 is
 * returned; on failure -EINVAL (or -errno when the file can't be read) and err
 * holds "FILE:LINE: message". */
int config_load(const char *path, struct config **ret_config, char *err, size_t errlen);

/* A config with every default (as if from an empty file). */
int config_defaults(struct config **ret_config);

void config_free(struct config *c);

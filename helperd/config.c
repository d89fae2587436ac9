/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config.c: reads /etc/dot-helperd.conf (libconfig syntax) into a struct config,
 * filling defaults and validating every setting (see config.h and DESIGN.md).
 *
 * Every group is walked in file order against a table of known keys, so an
 * unknown key, a wrong type or a bad value is reported with the line of the
 * setting that carries it. Nothing here logs, exits or resolves a name: the
 * daemon must never do an NSS lookup (it would recurse into itself).
 */
#include "config.h"
#include "config-text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/un.h>

#include "dname.h"

#ifndef DOT_DEFAULT_SOCKET
#error "DOT_DEFAULT_SOCKET must be defined (configure --with-socket)"
#endif
#ifndef DOT_DEFAULT_CONTROL_SOCKET
#define DOT_DEFAULT_CONTROL_SOCKET "/run/dot-helperd/control"
#endif

/* A config is a few hundred bytes; anything this large is a mistake. */
#define CONFIG_MAX_FILE_SIZE (1024 * 1024)
#define SUN_PATH_MAX         (sizeof(((struct sockaddr_un *)0)->sun_path))
#define USER_NAME_MAX        32
#define ALNUM                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

struct ctx {
    const char *path;
    char *err;
    size_t errlen;
};

/* Formats "FILE:LINE: message" (or "FILE: message" when line is 0) and returns r. */
__attribute__((format(printf, 4, 5))) static int fail(struct ctx *x, int r, unsigned line,
                                                      const char *fmt, ...) {
    char msg[512];
    va_list ap;

    if (!x->err || x->errlen == 0)
        return r;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(x->err, x->errlen, "%s:%u: %s", x->path, line, msg);
    else
        snprintf(x->err, x->errlen, "%s: %s", x->path, msg);
    return r;
}

static unsigned line_of(const config_setting_t *s) {
    return s ? config_setting_source_line(s) : 0;
}

/* The code is repeated outside the call so that the compiler sees it is negative
 * (and that outputs are set whenever a getter returns 0). */
#define FAIL(x, s, ...)  (fail((x), -EINVAL, line_of(s), __VA_ARGS__), -EINVAL)
#define FAIL_NOMEM(x, s) (fail((x), -ENOMEM, line_of(s), "out of memory"), -ENOMEM)

static int set_string(char **dst, const char *value) {
    char *copy = strdup(value);
    if (!copy)
        return -ENOMEM;
    free(*dst);
    *dst = copy;
    return 0;
}

static int get_string(struct ctx *x, const config_setting_t *s, const char *what,
                      const char **ret) {
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return FAIL(x, s, "'%s' must be a string", what);
    *ret = config_setting_get_string(s);
    return 0;
}

/* Integers only: libconfig turns neither floats nor strings into ints for us, and
 * we do not want it to ("2000" or 2000.0 for a timeout is a typo worth reporting). */
static int get_uint(struct ctx *x, const config_setting_t *s, const char *what, unsigned min,
                    unsigned max, unsigned *ret) {
    int type = config_setting_type(s);
    if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
        return FAIL(x, s, "'%s' must be an integer", what);
    long long v = config_setting_get_int64(s);
    if (v < (long long)min || v > (long long)max)
        return FAIL(x, s, "'%s' must be between %u and %u", what, min, max);
    *ret = (unsigned)v;
    return 0;
}

/* Lists and arrays both read naturally for a list of strings: ( "a" ) or [ "a" ]. */
static int get_string_list(struct ctx *x, const config_setting_t *s, const char *what,
                           int *ret_len) {
    if (!config_setting_is_list(s) && !config_setting_is_array(s))
        return FAIL(x, s, "'%s' must be a list of strings", what);
    int len = config_setting_length(s);
    for (int i = 0; i < len; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return FAIL(x, e, "'%s[%d]' must be a string", what, i);
    }
    *ret_len = len;
    return 0;
}

/* Names go into SNI and certificate matching, or onto the wire as search
 * suffixes: only host name characters make sense, in a name that is not the
 * root and fits on the wire. */
static bool host_name_valid(const char *name) {
    uint8_t wire[DNAME_MAX_WIRE];
    return strspn(name, ALNUM "-_.") == strlen(name) && dname_from_text(name, wire) > 1;
}

/* One table per group, walked in file order so the first error is the first in
 * the file. A key maps to a field at offset (in struct config, or in the
 * upstream for upstream keys) or has its own parser. */
enum kind { K_UINT, K_BOOL, K_CHOICE, K_PATH, K_GROUP, K_FUNC };

struct field {
    const char *name;
    enum kind kind;
    size_t offset;
    unsigned min, max;          /* K_UINT: range; K_PATH: max is the buffer the path goes into */
    const char *const *choices; /* K_CHOICE: names of enum values 0, 1, ... */
    int (*parse)(struct ctx *x, const config_setting_t *s, const char *what, void *base);
    const struct field *sub; /* K_GROUP: its keys, ended by a NULL name */
};

static int get_choice(struct ctx *x, const config_setting_t *s, const char *what,
                      const char *const *choices, int *ret) {
    char list[128] = "";
    const char *v;
    int r = get_string(x, s, what, &v);
    if (r < 0)
        return r;
    for (int i = 0; choices[i]; i++) {
        if (strcmp(v, choices[i]) == 0) {
            *ret = i;
            return 0;
        }
        size_t l = strlen(list);
        snprintf(list + l, sizeof(list) - l, "%s\"%s\"",
                 i == 0           ? ""
                 : choices[i + 1] ? ", "
                                  : " or ",
                 choices[i]);
    }
    return FAIL(x, s, "'%s' must be %s", what, list);
}

/* Paths must not depend on the daemon's working directory. Whether they exist
 * is checked by whoever opens or binds them. */
static int get_path(struct ctx *x, const config_setting_t *s, const char *what, size_t max,
                    char **dst) {
    const char *v;
    int r = get_string(x, s, what, &v);
    if (r < 0)
        return r;
    if (v[0] != '/')
        return FAIL(x, s, "'%s' must be an absolute path", what);
    if (strlen(v) >= max)
        return FAIL(x, s, "'%s' is too long (at most %zu bytes)", what, max - 1);
    return set_string(dst, v) < 0 ? FAIL_NOMEM(x, s) : 0;
}

static int parse_group(struct ctx *x, const config_setting_t *g, const char *prefix,
                       const struct field *fields, void *base) {
    int len = config_setting_length(g);
    for (int i = 0; i < len; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);
        const struct field *f = fields;
        char what[128];
        int r = 0;

        while (f->name && strcmp(f->name, name) != 0)
            f++;
        if (!f->name)
            return FAIL(x, s, "unknown setting '%s'", name);
        snprintf(what, sizeof(what), "%s%s%s", prefix, *prefix ? "." : "", name);
        void *p = (char *)base + f->offset;
        switch (f->kind) {
        case K_UINT:
            r = get_uint(x, s, what, f->min, f->max, p);
            break;
        case K_BOOL:
            if (config_setting_type(s) != CONFIG_TYPE_BOOL)
                return FAIL(x, s, "'%s' must be a boolean (true or false)", what);
            *(bool *)p = config_setting_get_bool(s) != 0;
            break;
        case K_CHOICE:
            r = get_choice(x, s, what, f->choices, p);
            break;
        case K_PATH:
            r = get_path(x, s, what, f->max, p);
            break;
        case K_GROUP:
            if (!config_setting_is_group(s))
                return FAIL(x, s, "'%s' must be a group: { ... }", what);
            r = parse_group(x, s, what, f->sub, base);
            break;
        case K_FUNC:
            r = f->parse(x, s, what, base);
            break;
        }
        if (r < 0)
            return r;
    }
    return 0;
}

/* --- upstreams ------------------------------------------------------------- */

#define FUNC_FIELD(n, fn)                                                                          \
    { .name = n, .kind = K_FUNC, .parse = fn }

/* inet_pton only: a host name here would need a lookup, and the daemon
 * resolving through NSS would recurse into itself. */
static bool upstream_set_address(struct config_upstream *u, const char *v) {
    struct sockaddr_in *sin = (struct sockaddr_in *)&u->addr;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&u->addr;

    memset(&u->addr, 0, sizeof(u->addr));
    if (strlen(v) >= sizeof(u->address))
        return false;
    if (inet_pton(AF_INET, v, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        u->addr_len = sizeof(*sin);
    } else if (inet_pton(AF_INET6, v, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        u->addr_len = sizeof(*sin6);
    } else {
        return false;
    }
    strcpy(u->address, v);
    return true;
}

static int parse_address(struct ctx *x, const config_setting_t *s, const char *what, void *base) {
    const char *v;
    int r = get_string(x, s, what, &v);
    if (r < 0)
        return r;
    if (upstream_set_address(base, v))
        return 0;
    struct in_addr legacy;
    /* A hint for the likely mistake; inet_aton's legacy forms (1.2.3, 0x01010101)
     * are numbers, just not written the way this file wants them. */
    if (host_name_valid(v) && strspn(v, "0123456789.") != strlen(v) && !inet_aton(v, &legacy))
        return FAIL(x, s,
                    "'%s' must be a numeric IPv4 or IPv6 address, not a host name "
                    "(put the name in auth_name)",
                    what);
    return FAIL(x, s, "'%s' must be a numeric IPv4 or IPv6 address", what);
}

static int parse_port(struct ctx *x, const config_setting_t *s, const char *what, void *base) {
    struct config_upstream *u = base;
    unsigned port;
    int r = get_uint(x, s, what, 1, 65535, &port);
    if (r < 0)
        return r;
    u->port = (uint16_t)port;
    return 0;
}

static int parse_auth_name(struct ctx *x, const config_setting_t *s, const char *what, void *base) {
    struct config_upstream *u = base;
    const char *v;
    int r = get_string(x, s, what, &v);
    if (r < 0)
        return r;
    if (!host_name_valid(v))
        return FAIL(x, s, "'%s' is not a valid DNS name", what);
    /* SNI carries no trailing dot (RFC 6066 section 3). */
    char *copy = strndup(v, strlen(v) - (v[strlen(v) - 1] == '.'));
    if (!copy)
        return FAIL_NOMEM(x, s);
    free(u->auth_name);
    u->auth_name = copy;
    return 0;
}

static int parse_pins(struct ctx *x, const config_setting_t *s, const char *what, void *base) {
    struct config_upstream *u = base;
    int len, r = get_string_list(x, s, what, &len);
    if (r < 0)
        return r;
    /* An empty list would read as "pinned" to someone skimming the file while
     * pinning nothing: make the admin either give a pin or drop the key. */
    if (len == 0)
        return FAIL(x, s, "'%s' is empty: give at least one pin or leave it out", what);
    if (len > CONFIG_MAX_PINS)
        return FAIL(x, config_setting_get_elem(s, CONFIG_MAX_PINS),
                    "too many pins in '%s' (at most %d)", what, CONFIG_MAX_PINS);
    for (int i = 0; i < len; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        const char *pin = config_setting_get_string(e);
        uint8_t digest[32];
        if (*pin == '\0')
            return FAIL(x, e, "'%s[%d]' is empty", what, i);
        ssize_t n = config_b64_decode(pin, digest, sizeof(digest));
        if (n < 0)
            return FAIL(x, e, "'%s[%d]' is not valid base64", what, i);
        if (n != (ssize_t)sizeof(digest))
            return FAIL(x, e, "'%s[%d]' decodes to %zd bytes, not 32 (a SHA-256 digest)", what, i,
                        n);
        memcpy(u->pins[i], digest, sizeof(digest));
    }
    u->n_pins = (size_t)len;
    return 0;
}

static const struct field upstream_fields[] = {
    FUNC_FIELD("address", parse_address),
    FUNC_FIELD("port", parse_port),
    FUNC_FIELD("auth_name", parse_auth_name),
    FUNC_FIELD("spki_pins", parse_pins),
    {.name = NULL},
};

static void upstream_clear(struct config_upstream *u) {
    free(u->auth_name);
    memset(u, 0, sizeof(*u));
    u->port = 853;
}

/* The port may come before or after the address in the file, so it is put in
 * the socket address only once the whole entry has been read. */
static void upstream_set_port(struct config_upstream *u) {
    if (u->addr.ss_family == AF_INET)
        ((struct sockaddr_in *)&u->addr)->sin_port = htons(u->port);
    else
        ((struct sockaddr_in6 *)&u->addr)->sin6_port = htons(u->port);
}

static int parse_upstreams(struct ctx *x, const config_setting_t *s, const char *what, void *base) {
    struct config *c = base;
    if (!config_setting_is_list(s))
        return FAIL(x, s, "'%s' must be a list of groups: ( { address = \"...\"; }, ... )", what);
    int len = config_setting_length(s);
    if (len == 0)
        return FAIL(x, s, "'%s' is empty: give at least one upstream or leave it out", what);
    if (len > CONFIG_MAX_UPSTREAMS)
        return FAIL(x, config_setting_get_elem(s, CONFIG_MAX_UPSTREAMS),
                    "too many upstreams (at most %d)", CONFIG_MAX_UPSTREAMS);
    for (size_t i = 0; i < CONFIG_MAX_UPSTREAMS; i++)
        upstream_clear(&c->upstreams[i]);
    c->n_upstreams = 0;
    for (int i = 0; i < len; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        struct config_upstream *u = &c->upstreams[i];
        char name[64];
        snprintf(name, sizeof(name), "%s[%d]", what, i);
        if (!config_setting_is_group(e))
            return FAIL(x, e, "'%s' must be a group: { address = \"...\"; ... }", name);
        int r = parse_group(x, e, name, upstream_fields, u);
        if (r < 0)
            return r;
        if (u->addr_len == 0)
            return FAIL(x, e, "'%s' has no 'address'", name);
        upstream_set_port(u);
        c->n_upstreams++;
    }
    return 0;
}

/* --- top level ------------------------------------------------------------- */

static int parse_log_level(struct ctx *x, const config_setting_t *s, const char *what, void *base) {
    const char *v;
    int r = get_string(x, s, what, &v);
    if (r < 0)
        return r;
    if (log_level_parse(v, &((struct config *)base)->log_level) < 0)
        return FAIL(x, s, "'%s' must be \"error\", \"warning\", \"info\" or \"debug\"", what);
    return 0;
}

static int parse_user(struct ctx *x, const config_setting_t *s, const char *what, void *base) {
    struct config *c = base;
    const char *v;
    int r = get_string(x, s, what, &v);
    if (r < 0)
        return r;
    /* Checked for shape only: looking the user up is the daemon's business
     * when it drops privileges, not the parser's. */
    size_t len = strlen(v);
    if (len == 0 || len > USER_NAME_MAX || v[0] == '-' || strspn(v, ALNUM "._-") != len)
        return FAIL(x, s, "'%s' is not a valid user name", what);
    return set_string(&c->user, v) < 0 ? FAIL_NOMEM(x, s) : 0;
}

static int parse_search(struct ctx *x, const config_setting_t *s, const char *what, void *base) {
    struct config *c = base;
    int len, r = get_string_list(x, s, what, &len);
    if (r < 0)
        return r;
    if (len > CONFIG_MAX_SEARCH)
        return FAIL(x, config_setting_get_elem(s, CONFIG_MAX_SEARCH),
                    "too many entries in '%s' (at most %d)", what, CONFIG_MAX_SEARCH);
    for (int i = 0; i < len; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        const char *v = config_setting_get_string(e);
        if (!host_name_valid(v))
            return FAIL(x, e, "'%s[%d]' is not a valid DNS name", what, i);
        c->search[i] = strdup(v);
        if (!c->search[i])
            return FAIL_NOMEM(x, e);
        c->n_search = (size_t)i + 1;
    }
    /* An empty list is meaningful: no search domains, whatever resolv.conf says. */
    c->search_set = true;
    return 0;
}

/* K_CHOICE stores the index through an int. */
_Static_assert(sizeof(enum dot_mode) == sizeof(int) && sizeof(enum dot_selection) == sizeof(int),
               "enums are int-sized");
static const char *const mode_names[] = {"strict", "opportunistic", NULL};
static const char *const selection_names[] = {"ordered", "round_robin", "fastest", NULL};

#define UINT_FIELD(n, member, lo, hi)                                                              \
    { .name = n, .kind = K_UINT, .offset = offsetof(struct config, member), .min = lo, .max = hi }
#define BOOL_FIELD(n, member)                                                                      \
    { .name = n, .kind = K_BOOL, .offset = offsetof(struct config, member) }
#define CHOICE_FIELD(n, member, names)                                                             \
    { .name = n, .kind = K_CHOICE, .offset = offsetof(struct config, member), .choices = names }
#define PATH_FIELD(n, member, maxlen)                                                              \
    { .name = n, .kind = K_PATH, .offset = offsetof(struct config, member), .max = maxlen }
#define GROUP_FIELD(n, fields)                                                                     \
    { .name = n, .kind = K_GROUP, .sub = fields }

static const struct field timeouts_fields[] = {
    UINT_FIELD("query_ms", timeouts.query_ms, 100, 60000),
    UINT_FIELD("connect_ms", timeouts.connect_ms, 10, 60000),
    UINT_FIELD("attempts", timeouts.attempts, 1, 10),
    {.name = NULL},
};

static const struct field pool_fields[] = {
    UINT_FIELD("connections_per_upstream", pool.connections_per_upstream, 1, 64),
    UINT_FIELD("max_inflight", pool.max_inflight, 1, 4096),
    UINT_FIELD("idle_timeout_s", pool.idle_timeout_s, 1, 3600),
    BOOL_FIELD("prewarm", pool.prewarm),
    {.name = NULL},
};

static const struct field cache_fields[] = {
    UINT_FIELD("entries", cache.entries, 0, 10000000),
    UINT_FIELD("min_ttl", cache.min_ttl, 0, 86400),
    UINT_FIELD("max_ttl", cache.max_ttl, 0, 604800),
    UINT_FIELD("negative_ttl", cache.negative_ttl, 0, 86400),
    UINT_FIELD("serve_stale_s", cache.serve_stale_s, 0, 604800),
    BOOL_FIELD("shared_map", cache.shared_map),
    UINT_FIELD("shared_map_entries", cache.shared_map_entries, 16, 262144),
    {.name = NULL},
};

static const struct field clients_fields[] = {
    UINT_FIELD("max", clients.max, 16, 65536),
    UINT_FIELD("per_user", clients.per_user, 1, 65536),
    UINT_FIELD("lookups_per_user", clients.lookups_per_user, 1, 65536),
    {.name = NULL},
};

static const struct field top_fields[] = {
    CHOICE_FIELD("mode", mode, mode_names),
    PATH_FIELD("ca_file", ca_file, PATH_MAX),
    FUNC_FIELD("upstreams", parse_upstreams),
    CHOICE_FIELD("selection", selection, selection_names),
    GROUP_FIELD("timeouts", timeouts_fields),
    GROUP_FIELD("pool", pool_fields),
    GROUP_FIELD("cache", cache_fields),
    GROUP_FIELD("clients", clients_fields),
    BOOL_FIELD("padding", padding),
    FUNC_FIELD("search", parse_search),
    UINT_FIELD("ndots", ndots, 0, 15), /* an int (-1: unset), written as its unsigned twin */
    PATH_FIELD("socket", socket_path, SUN_PATH_MAX),
    PATH_FIELD("control_socket", control_socket_path, SUN_PATH_MAX),
    FUNC_FIELD("user", parse_user),
    FUNC_FIELD("log_level", parse_log_level),
    {.name = NULL},
};

/* Rules that involve more than one setting, checked once everything is read
 * (mode may well come after the upstreams in the file). */
static int check_cross(struct ctx *x, const config_setting_t *root, const struct config *c) {
    const config_setting_t *ups = config_setting_get_member(root, "upstreams");
    const config_setting_t *cache = config_setting_get_member(root, "cache");

    /* Strict means strict by construction: an upstream that cannot be
     * authenticated must stop the daemon, not be quietly trusted. */
    if (c->mode == DOT_MODE_STRICT && ups)
        for (size_t i = 0; i < c->n_upstreams; i++)
            if (!c->upstreams[i].auth_name && c->upstreams[i].n_pins == 0)
                return FAIL(x, config_setting_get_elem(ups, (unsigned)i),
                            "'upstreams[%zu]' has neither 'auth_name' nor 'spki_pins': "
                            "strict mode cannot authenticate it",
                            i);
    if (c->cache.max_ttl < c->cache.min_ttl) {
        const config_setting_t *s = config_setting_get_member(cache, "max_ttl");
        return FAIL(x, s ? s : config_setting_get_member(cache, "min_ttl"),
                    "'cache.max_ttl' (%u) is less than 'cache.min_ttl' (%u)", c->cache.max_ttl,
                    c->cache.min_ttl);
    }
    if (strcmp(c->socket_path, c->control_socket_path) == 0) {
        const config_setting_t *s = config_setting_get_member(root, "control_socket");
        return FAIL(x, s ? s : config_setting_get_member(root, "socket"),
                    "'control_socket' and 'socket' must be different paths");
    }
    return 0;
}

/* The text checks of config-text.c, reported as FILE:LINE: message. */
static int check_text(struct ctx *x, const char *t, size_t len) {
    char msg[256];
    unsigned line = 0;
    if (config_text_check(t, len, &line, msg, sizeof(msg)) < 0)
        return fail(x, -EINVAL, line, "%s", msg);
    return 0;
}

static int read_text(struct ctx *x, char **ret_text, size_t *ret_len) {
    FILE *f = fopen(x->path, "re");
    if (!f)
        return fail(x, -errno, 0, "%s", strerror(errno));
    char *buf = malloc(CONFIG_MAX_FILE_SIZE + 1);
    size_t len = buf ? fread(buf, 1, CONFIG_MAX_FILE_SIZE + 1, f) : 0;
    int r = 0;
    if (!buf)
        r = fail(x, -ENOMEM, 0, "out of memory");
    else if (ferror(f))
        r = fail(x, -errno, 0, "%s", strerror(errno));
    else if (len > CONFIG_MAX_FILE_SIZE)
        r = fail(x, -EFBIG, 0, "file is larger than %d bytes", CONFIG_MAX_FILE_SIZE);
    fclose(f);
    if (r < 0) {
        free(buf);
        return r;
    }
    buf[len] = '\0';
    *ret_text = buf;
    *ret_len = len;
    return 0;
}

int config_defaults(struct config **ret_config) {
    static const char *const upstreams[] = {"1.1.1.1", "1.0.0.1", "2606:4700:4700::1111"};
    struct config *c = malloc(sizeof(*c));
    if (!c)
        return -ENOMEM;

    *c = (struct config){
        .mode = DOT_MODE_STRICT,
        .selection = DOT_SELECT_ORDERED,
        .timeouts = {.query_ms = 2000, .connect_ms = 1000, .attempts = 2},
        .pool = {.connections_per_upstream = 2,
                 .max_inflight = 1024,
                 .idle_timeout_s = 30,
                 .prewarm = true},
        .cache = {.entries = 10000,
                  .min_ttl = 0,
                  .max_ttl = 86400,
                  .negative_ttl = 300,
                  .serve_stale_s = 0,
                  .shared_map = true,
                  .shared_map_entries = 4096},
        .clients = {.max = 4096, .per_user = 2048, .lookups_per_user = 1024},
        .padding = true,
        .ndots = -1,
        .socket_path = strdup(DOT_DEFAULT_SOCKET),
        .control_socket_path = strdup(DOT_DEFAULT_CONTROL_SOCKET),
        .user = strdup("dot-helperd"),
        .log_level = LOG_LEVEL_INFO,
    };
    bool ok = c->socket_path && c->control_socket_path && c->user;
    for (size_t i = 0; i < sizeof(upstreams) / sizeof(upstreams[0]); i++) {
        struct config_upstream *u = &c->upstreams[c->n_upstreams++];
        upstream_clear(u);
        upstream_set_address(u, upstreams[i]);
        upstream_set_port(u);
        u->auth_name = strdup("cloudflare-dns.com");
        ok = ok && u->auth_name;
    }
    if (!ok) {
        config_free(c);
        return -ENOMEM;
    }
    *ret_config = c;
    return 0;
}

int config_load(const char *path, struct config **ret_config, char *err, size_t errlen) {
    struct ctx x = {.path = path, .err = err, .errlen = errlen};
    struct config *c = NULL;
    char *text = NULL;
    size_t len = 0;
    config_t cfg;
    int r;

    r = read_text(&x, &text, &len);
    if (r < 0)
        return r;
    /* Before libconfig sees the text: it would follow an @include at once. */
    r = check_text(&x, text, len);
    if (r < 0) {
        free(text);
        return r;
    }
    config_init(&cfg);
    if (config_read_string(&cfg, text) != CONFIG_TRUE) {
        int line = config_error_line(&cfg);
        r = fail(&x, -EINVAL, line > 0 ? (unsigned)line : 0, "%s", config_error_text(&cfg));
        goto out;
    }
    r = config_defaults(&c);
    if (r < 0) {
        r = fail(&x, r, 0, "out of memory");
        goto out;
    }
    r = parse_group(&x, config_root_setting(&cfg), "", top_fields, c);
    if (r < 0)
        goto out;
    r = check_cross(&x, config_root_setting(&cfg), c);
    if (r < 0)
        goto out;
    *ret_config = c;
    c = NULL;
out:
    config_free(c);
    config_destroy(&cfg);
    free(text);
    return r;
}

void config_free(struct config *c) {
    if (!c)
        return;
    free(c->ca_file);
    for (size_t i = 0; i < CONFIG_MAX_UPSTREAMS; i++)
        free(c->upstreams[i].auth_name);
    for (size_t i = 0; i < c->n_search; i++)
        free(c->search[i]);
    free(c->socket_path);
    free(c->control_socket_path);
    free(c->user);
    free(c);
}

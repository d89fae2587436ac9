/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config-diff.c: upstream identity and the keys a reload keeps (config-diff.h). */
#include "config-diff.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static bool addr_same(const struct config_upstream *a, const struct config_upstream *b) {
    if (a->addr.ss_family != b->addr.ss_family || a->port != b->port)
        return false;
    if (a->addr.ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)&a->addr, *y = (const void *)&b->addr;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->addr.ss_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const void *)&a->addr, *y = (const void *)&b->addr;
        return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
               memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
    }
    return a->addr_len == b->addr_len && memcmp(&a->addr, &b->addr, a->addr_len) == 0;
}

static bool str_same(const char *a, const char *b) {
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Every pin of a is one of b. */
static bool pins_within(const struct config_upstream *a, const struct config_upstream *b) {
    for (size_t i = 0; i < a->n_pins; i++) {
        bool found = false;
        for (size_t j = 0; j < b->n_pins && !found; j++)
            found = memcmp(a->pins[i], b->pins[j], sizeof(a->pins[i])) == 0;
        if (!found)
            return false;
    }
    return true;
}

bool config_upstream_same(const struct config_upstream *a, const struct config_upstream *b) {
    return addr_same(a, b) && str_same(a->auth_name, b->auth_name) &&
           (a->n_pins == 0) == (b->n_pins == 0) && pins_within(a, b) && pins_within(b, a);
}

void config_match_upstreams(const struct config *cur, const struct config *next,
                            int ret_map[CONFIG_MAX_UPSTREAMS]) {
    bool used[CONFIG_MAX_UPSTREAMS] = {false};
    bool same_trust = cur->mode == next->mode && str_same(cur->ca_file, next->ca_file);
    for (size_t j = 0; j < CONFIG_MAX_UPSTREAMS; j++) {
        ret_map[j] = -1;
        if (j >= next->n_upstreams || !same_trust)
            continue;
        for (size_t i = 0; i < cur->n_upstreams; i++)
            if (!used[i] && config_upstream_same(&cur->upstreams[i], &next->upstreams[j])) {
                used[i] = true;
                ret_map[j] = (int)i;
                break;
            }
    }
}

int config_keep_fixed(const struct config *cur, struct config *next,
                      const char *ret_keys[CONFIG_FIXED_KEYS], size_t *ret_n) {
    struct {
        const char *key;
        char *const *cur;
        char **next;
    } fixed[] = {
        {"socket", &cur->socket_path, &next->socket_path},
        {"control_socket", &cur->control_socket_path, &next->control_socket_path},
        {"user", &cur->user, &next->user},
    };
    const char *keys[CONFIG_FIXED_KEYS];
    size_t n = 0;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (str_same(*fixed[i].cur, *fixed[i].next))
            continue;
        char *keep = NULL;
        if (*fixed[i].cur && !(keep = strdup(*fixed[i].cur)))
            return -ENOMEM;
        free(*fixed[i].next);
        *fixed[i].next = keep;
        keys[n++] = fixed[i].key;
    }
    /* The answer map's file is laid out once, at start-up. */
    if (next->cache.shared_map != cur->cache.shared_map) {
        next->cache.shared_map = cur->cache.shared_map;
        keys[n++] = "cache.shared_map";
    }
    if (next->cache.shared_map_entries != cur->cache.shared_map_entries) {
        next->cache.shared_map_entries = cur->cache.shared_map_entries;
        keys[n++] = "cache.shared_map_entries";
    }
    memcpy(ret_keys, keys, n * sizeof(keys[0]));
    *ret_n = n;
    return 0;
}

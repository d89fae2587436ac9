/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config-diff.h: what a reload compares between the running config and a
 * new one. Pure: no I/O, no logging, no globals.
 *
 * Owns two rules:
 *   - upstream identity: an upstream is the same one when it is reached at
 *     the same address and port and authenticated the same way (auth_name,
 *     the set of SPKI pins), under the same trust (ca_file) and mode. Only
 *     then may a reload keep its connections and TLS session: anything else
 *     is a new upstream (DESIGN.md: pooled connections are keyed by
 *     identity, never shared across identities).
 *   - the keys a reload cannot change (the sockets, bound before the
 *     privilege drop; the user, already dropped to): the running value is
 *     put back into the new config and the key named, for the caller to log.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Same address and port (compared as addresses, not as written), same
 * auth_name (or both without), same pins as a set (order and repeats do
 * not matter). */
bool config_upstream_same(const struct config_upstream *a, const struct config_upstream *b);

/* For each upstream j of next, ret_map[j] is the index in cur of the same
 * upstream, or -1 for a new one; each upstream of cur is used at most once,
 * first come first served. When mode or ca_file differ, every entry is -1:
 * a connection authenticated under other rules is not kept. */
void config_match_upstreams(const struct config *cur, const struct config *next,
                            int ret_map[CONFIG_MAX_UPSTREAMS]);

/* The keys a reload keeps at their running value, as the config file names
 * them. */
#define CONFIG_FIXED_KEYS 5

/* Puts cur's value of every key a reload cannot change back into next and
 * stores the names of those that differed in ret_keys (at most
 * CONFIG_FIXED_KEYS); *ret_n is their count. 0, or -ENOMEM with ret_keys
 * and *ret_n untouched (next may then hold some of cur's values: free it). */
int config_keep_fixed(const struct config *cur, struct config *next,
                      const char *ret_keys[CONFIG_FIXED_KEYS], size_t *ret_n);

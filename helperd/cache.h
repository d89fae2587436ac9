/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cache.h: the daemon's answer cache. Pure: no I/O, no logging, no globals;
 * time comes in as an argument (milliseconds on any monotonic clock), so the
 * tests drive it with an injected clock.
 *
 * Owns the answers (what one DNS question brought back, as the resolver
 * uses it), keyed by (name, type), the name in wire form (dname.h) folded
 * to lower case (RFC 4343), with:
 *   - TTLs: positive answers live for the smallest TTL of the chain clamped
 *     to [min_ttl, max_ttl]; negative ones (NXDOMAIN, NODATA, and "records
 *     but none usable") per RFC 2308 for min(SOA TTL, SOA MINIMUM, chain TTL)
 *     capped by negative_ttl; without an SOA a negative answer is not cached
 *     (RFC 2308 section 5); a TTL of 0 is never cached.
 *   - LRU eviction beyond `entries` (0: the cache is off).
 *   - serve-stale (RFC 8767): an expired entry is kept serve_stale_s more
 *     seconds; the resolver falls back to it when the upstreams fail, and
 *     once a refresh has failed it is served at once, with one background
 *     refresh allowed every recheck_ms.
 *
 * Answers are immutable and reference-counted: a lookup hands out a new
 * reference (no copy), so a job keeps using an answer that the cache
 * evicts meanwhile. Whoever holds a reference drops it with
 * cache_answer_unref().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc.h"

/* The TTL given out with a stale answer (RFC 8767 section 4 suggests 30 s). */
#define CACHE_STALE_TTL 30
/* Default time between refresh attempts of a stale entry whose refresh
 * failed (RFC 8767's failure recheck timer). */
#define CACHE_RECHECK_MS 30000

/* What one (name, type) question resolved to. */
struct cache_answer {
    unsigned refs;
    uint8_t status;     /* IPC_STATUS_OK, _NXDOMAIN, _NODATA or _NORECOVERY */
    uint16_t n_aliases; /* CNAME owners (forward) in chain order */
    uint16_t n_addrs;
    uint32_t ttl;      /* smallest TTL of the records used, as received */
    const char *canon; /* end of the chain (forward) or the PTR name; NULL unless OK */
    const char **aliases;
    const struct ipc_addr *addrs;
    /* the arrays and names live in the same allocation */
};

/* Builds an answer with one reference. canon may be NULL (not OK). */
int cache_answer_new(uint8_t status, uint32_t ttl, const char *canon, const char *const *aliases,
                     size_t n_aliases, const struct ipc_addr *addrs, size_t n_addrs,
                     struct cache_answer **ret_answer);
struct cache_answer *cache_answer_ref(struct cache_answer *a);
/* NULL is a no-op. */
void cache_answer_unref(struct cache_answer *a);

struct cache_params {
    unsigned entries; /* 0: nothing is cached */
    unsigned min_ttl, max_ttl, negative_ttl, serve_stale_s;
    unsigned recheck_ms; /* 0: CACHE_RECHECK_MS */
    uint32_t seed;       /* hash seed */
};

/* Seconds an answer with this status may be cached, 0 for "not at all".
 * ttl is the smallest TTL of the records used (has_ttl false: there were
 * none, e.g. a plain NXDOMAIN); the SOA fields come from the authority
 * section (has_soa false: there was no SOA). */
uint32_t cache_ttl(const struct cache_params *p, uint8_t status, bool has_ttl, uint32_t ttl,
                   bool has_soa, uint32_t soa_ttl, uint32_t soa_minimum);

struct cache;

int cache_new(const struct cache_params *p, struct cache **ret_cache);
/* NULL is a no-op. */
void cache_free(struct cache *c);
/* Drops every entry (answers still referenced elsewhere live on). */
void cache_flush(struct cache *c);
/* Drops the entries of name (wire form, any case: dname.h), every type;
 * returns how many there were. */
size_t cache_flush_name(struct cache *c, const uint8_t *name);
/* New limits (reload); shrinking evicts the least recently used. The seed
 * is kept. */
void cache_set_params(struct cache *c, const struct cache_params *p);
size_t cache_count(const struct cache *c);

enum cache_state {
    CACHE_MISS,  /* ask upstream */
    CACHE_FRESH, /* answer with it */
    CACHE_STALE, /* expired, within serve_stale_s: see failing/refresh */
};

struct cache_hit {
    enum cache_state state;
    struct cache_answer *answer; /* a new reference, NULL on a miss */
    uint32_t ttl;                /* seconds left, or CACHE_STALE_TTL when stale */
    int64_t expires;             /* fresh only: when it stops being fresh (now_ms's clock) */
    /* Stale only. failing: the last refresh failed (the upstreams are down):
     * answer with it at once. refresh: failing, and recheck_ms have passed
     * since: start one refresh in the background. Not failing: ask the
     * upstreams, and fall back to it if they fail. */
    bool failing, refresh;
};

/* Looks (name, qtype) up; name in wire form, in any case. A fresh hit
 * becomes the most recently used. Entries past their stale window are
 * dropped on the way. */
void cache_get(struct cache *c, const uint8_t *name, uint16_t qtype, int64_t now_ms,
               struct cache_hit *ret_hit);

/* Stores a (takes its own reference) for ttl_s seconds, replacing what was
 * there. ttl_s 0 or a disabled cache: not stored, and an older entry for
 * the key is dropped. 0 or -ENOMEM (nothing stored). */
int cache_put(struct cache *c, const uint8_t *name, uint16_t qtype, struct cache_answer *a,
              uint32_t ttl_s, int64_t now_ms);

/* A refresh of (name, qtype) failed at now_ms: a stale entry is then served
 * at once (failing) until a refresh succeeds. No-op without an entry. */
void cache_refresh_failed(struct cache *c, const uint8_t *name, uint16_t qtype, int64_t now_ms);

/* Bytes of heap an entry holding a takes (entry, key, answer), for the
 * documentation and the stats. */
size_t cache_entry_footprint(const uint8_t *name, const struct cache_answer *a);

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * resolver.h: turns one module request into DNS questions and one reply.
 *
 * Owns the lookup semantics (as glibc's nss_dns): the search list and ndots
 * (search.h), A and AAAA in parallel for AF_UNSPEC (A first in the reply),
 * PTR names for reverse lookups, CNAME chains (canonical name + aliases),
 * the TTL handed back (what is left of it when cached), and the verdict
 * (OK / NXDOMAIN / NODATA / TRYAGAIN / NORECOVERY) that the module maps to
 * NSS status codes. Also owns the answer cache (cache.h) and the coalescing
 * of identical questions in flight: one upstream query per (name, type),
 * however many jobs wait for it. Every job ends by the query deadline
 * (timeouts.query_ms) of the name it is asking.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "ipc.h"
#include "loop.h"
#include "search.h"
#include "upstream.h"

struct resolver;
struct resolver_job;

/* Receives the encoded reply frame (valid during the call). Called exactly
 * once per job unless resolver_cancel(): either before resolver_start()
 * returns (an answer that needed no upstream: *ret_job is then NULL), or
 * later from the loop. The job is gone once it has been called. */
typedef void (*resolver_cb)(void *userdata, const uint8_t *frame, size_t len);

struct resolver_stats {
    uint64_t lookups;          /* requests started */
    uint64_t cache_hits;       /* questions answered from fresh cache entries */
    uint64_t cache_misses;     /* questions that needed the upstreams */
    uint64_t stale_served;     /* questions answered from expired entries (RFC 8767) */
    uint64_t upstream_queries; /* queries sent to the pool */
    uint64_t coalesced;        /* questions that joined a query already in flight */
    uint64_t queued_fetches;   /* waited: their user had clients.lookups_per_user in flight */
    size_t cache_entries;
    /* Why lookups reached the socket while the module had a live answer
     * map (enum ipc_ask; [IPC_ASK_PLAIN]: no live map, an older module or a
     * reverse lookup). The map's hits never reach the daemon. */
    uint64_t asked[IPC_ASK_MAX_ + 1];
    bool map; /* an answer map is in use */
    size_t map_slots, map_entries;
    uint64_t map_published, map_too_big, map_resets;
};

/* Starts with no search list and ndots 1 (see resolver_set_search). */
int resolver_new(struct loop *l, const struct config *cfg, struct upstream_pool *pool,
                 struct resolver **ret_resolver);
/* Cancels every job still running (no callbacks). */
void resolver_free(struct resolver *r);

/* owner: the uid that asks (SO_PEERCRED). A lookup that needs a new upstream
 * query while owner already has clients.lookups_per_user in flight is told
 * TRYAGAIN; joining a query already in flight (coalescing) and cache hits
 * are free. */
int resolver_start(struct resolver *r, const struct ipc_request *req, uid_t owner, resolver_cb cb,
                   void *userdata, struct resolver_job **ret_job);

/* Where the answer to one question of a lookup came from. */
enum resolver_source {
    RESOLVER_SOURCE_NONE = 0, /* no answer (the upstreams failed) */
    RESOLVER_SOURCE_CACHE,    /* a fresh cache entry */
    RESOLVER_SOURCE_STALE,    /* an expired entry (serve-stale, RFC 8767) */
    RESOLVER_SOURCE_UPSTREAM, /* an upstream, just now */
};

/* How a lookup was answered, for dot-helperctl query: the last name the
 * search list asked and its one or two questions. */
struct resolver_trace {
    char name[SEARCH_MAX_NAME];
    unsigned n; /* 0..2 */
    struct {
        uint16_t qtype;
        uint8_t source; /* enum resolver_source */
        int upstream;   /* index of the upstream (config order), -1 when none */
        uint32_t ttl;   /* seconds left */
    } q[2];
};

/* resolver_start(), and the lookup fills *trace (caller-owned, kept until
 * the callback has run or the job is cancelled) just before cb is called. */
int resolver_start_traced(struct resolver *r, const struct ipc_request *req, uid_t owner,
                          resolver_cb cb, void *userdata, struct resolver_trace *trace,
                          struct resolver_job **ret_job);
void resolver_cancel(struct resolver_job *job);

/* For a reload: takes cfg (which must outlive the resolver or the next
 * reload) for the cache limits and the timeouts. Cached answers are kept
 * (shrinking `entries` evicts). 0, or -ENOMEM with the old settings kept. */
int resolver_reload(struct resolver *r, const struct config *cfg);
/* Takes conf (one reference, see resolvconf.h) as the search list of the
 * lookups that start from now; jobs running keep the list they started
 * with, so a lookup sees one list or the other, never a mix. */
void resolver_set_search(struct resolver *r, struct search_conf *conf);
struct map_writer;
/* The answer map that the replies go into (map-writer.h), NULL for none;
 * not owned. Every reply that the socket would give again unchanged until
 * an expiry is published: all its questions were answered from fresh cache
 * entries or by an upstream answer just cached (stale and failed answers,
 * and a reply the cache would not keep, are not), valid until the first of
 * them expires. A flush, a reload and a new search list reset the map. */
void resolver_set_map(struct resolver *r, struct map_writer *map);
/* Forgets every cached answer. */
void resolver_flush(struct resolver *r);
/* Forgets the cached answers of one name (wire form, dname.h), every type;
 * returns how many entries went. */
size_t resolver_flush_name(struct resolver *r, const uint8_t *name);
void resolver_get_stats(const struct resolver *r, struct resolver_stats *ret_stats);

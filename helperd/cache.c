/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cache.c: a chained hash table of entries, each also on one LRU list (most
 * recently used first). Keys are stored lower-cased without a trailing dot.
 *
 * No operation of the running cache walks or moves many entries, so none
 * pauses the daemon's loop: a lookup, an insert, an eviction (the LRU
 * tail) and the expiry of dead entries (one from the cold end per insert)
 * are each O(1). The table never doubles while lookups run: it is made at
 * the first insert with one bucket per entry allowed (the first power of
 * two at or over `entries`), from calloc, whose large blocks are fresh
 * zero pages that cost memory only once an entry lands on them. Only what
 * an administrator asks for works in one go: a flush, and a reload that
 * changes `entries` (the table is then rebuilt to the new size).
 */
#include "cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dlist.h"
#include "dname.h"

#define BUCKETS_MIN 64
/* The types flush_name looks for without a walk (the resolver asks A, AAAA
 * and PTR); a cache that has seen more types walks the LRU instead. */
#define TYPES_MAX 8

struct cache_entry {
    struct cache_entry *hnext;
    struct dlist_node lru;
    struct cache_answer *answer;
    int64_t expires;   /* ms */
    int64_t failed_at; /* ms of the last failed refresh; INT64_MIN: none */
    uint32_t hash;
    uint16_t qtype;
    uint8_t key_len;
    uint8_t key[]; /* the name in wire form, lower case (dname.h) */
};

struct cache {
    struct cache_params p;
    struct cache_entry **buckets;
    size_t n_buckets; /* power of two, 0 until the first put */
    size_t count;
    struct dlist lru;          /* of cache_entry.lru, most recently used first */
    uint16_t types[TYPES_MAX]; /* every qtype ever stored, while they fit */
    unsigned n_types;          /* TYPES_MAX + 1: more than fit */
};

/* --- answers ------------------------------------------------------------------- */

int cache_answer_new(uint8_t status, uint32_t ttl, const char *canon, const char *const *aliases,
                     size_t n_aliases, const struct ipc_addr *addrs, size_t n_addrs,
                     struct cache_answer **ret_answer) {
    if (n_aliases > IPC_MAX_ALIASES || n_addrs > IPC_MAX_ADDRS)
        return -EINVAL;
    size_t text = canon ? strlen(canon) + 1 : 0;
    for (size_t i = 0; i < n_aliases; i++)
        text += strlen(aliases[i]) + 1;
    size_t size = sizeof(struct cache_answer) + n_aliases * sizeof(char *) +
                  n_addrs * sizeof(struct ipc_addr) + text;
    struct cache_answer *a = malloc(size);
    if (!a)
        return -ENOMEM;
    char *p = (char *)(a + 1);
    const char **al = (const char **)(void *)p;
    p += n_aliases * sizeof(char *);
    struct ipc_addr *ad = (struct ipc_addr *)(void *)p;
    p += n_addrs * sizeof(struct ipc_addr);
    if (n_addrs)
        memcpy(ad, addrs, n_addrs * sizeof(*ad));
    *a = (struct cache_answer){
        .refs = 1,
        .status = status,
        .n_aliases = (uint16_t)n_aliases,
        .n_addrs = (uint16_t)n_addrs,
        .ttl = ttl,
        .aliases = al,
        .addrs = ad,
    };
    if (canon) {
        size_t n = strlen(canon) + 1;
        memcpy(p, canon, n);
        a->canon = p;
        p += n;
    }
    for (size_t i = 0; i < n_aliases; i++) {
        size_t n = strlen(aliases[i]) + 1;
        memcpy(p, aliases[i], n);
        al[i] = p;
        p += n;
    }
    *ret_answer = a;
    return 0;
}

struct cache_answer *cache_answer_ref(struct cache_answer *a) {
    if (a)
        a->refs++;
    return a;
}

void cache_answer_unref(struct cache_answer *a) {
    if (a && --a->refs == 0)
        free(a);
}

/* --- TTL policy ------------------------------------------------------------------ */

uint32_t cache_ttl(const struct cache_params *p, uint8_t status, bool has_ttl, uint32_t ttl,
                   bool has_soa, uint32_t soa_ttl, uint32_t soa_minimum) {
    if (status == IPC_STATUS_OK) {
        /* A TTL of 0 says "use once": min_ttl does not override that. */
        if (!has_ttl || ttl == 0)
            return 0;
        if (ttl < p->min_ttl)
            ttl = p->min_ttl;
        return ttl > p->max_ttl ? p->max_ttl : ttl;
    }
    if (status != IPC_STATUS_NXDOMAIN && status != IPC_STATUS_NODATA &&
        status != IPC_STATUS_NORECOVERY)
        return 0;
    if (!has_soa)
        return 0; /* RFC 2308 section 5: no SOA, no negative caching */
    uint32_t t = soa_ttl < soa_minimum ? soa_ttl : soa_minimum;
    if (has_ttl && ttl < t)
        t = ttl; /* the CNAMEs that led to the negative answer expire too */
    return t > p->negative_ttl ? p->negative_ttl : t;
}

/* --- table ----------------------------------------------------------------------- */

/* The key: the wire name, lower-cased (RFC 4343 ASCII folding). */
static int make_key(const uint8_t *name, uint8_t key[DNAME_MAX_WIRE]) {
    return (int)dname_wire_lower(name, key);
}

/* FNV-1a with a seed, then a final avalanche so the low bits (the bucket
 * index) depend on every input byte. */
static uint32_t hash_key(uint32_t seed, const uint8_t *key, size_t n, uint16_t qtype) {
    uint32_t h = 2166136261u ^ seed;
    for (size_t i = 0; i < n; i++) {
        h ^= key[i];
        h *= 16777619u;
    }
    h ^= qtype;
    h *= 16777619u;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    return h;
}

int cache_new(const struct cache_params *p, struct cache **ret_cache) {
    struct cache *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->p = *p;
    *ret_cache = c;
    return 0;
}

/* The LRU list, most recently used first. */
#define LRU_ENTRY(node) DLIST_ENTRY(node, struct cache_entry, lru)
#define LRU_HEAD(c)     LRU_ENTRY((c)->lru.head)
#define LRU_TAIL(c)     LRU_ENTRY((c)->lru.tail)

static void entry_remove(struct cache *c, struct cache_entry *e) {
    struct cache_entry **pp = &c->buckets[e->hash & (c->n_buckets - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    dlist_remove(&c->lru, &e->lru);
    c->count--;
    cache_answer_unref(e->answer);
    free(e);
}

void cache_flush(struct cache *c) {
    if (!c)
        return;
    while (c->lru.head)
        entry_remove(c, LRU_HEAD(c));
}

void cache_free(struct cache *c) {
    if (!c)
        return;
    cache_flush(c);
    free(c->buckets);
    free(c);
}

size_t cache_count(const struct cache *c) {
    return c->count;
}

static void evict_to(struct cache *c, size_t limit) {
    while (c->count > limit && c->lru.tail)
        entry_remove(c, LRU_TAIL(c));
}

static size_t buckets_for(unsigned entries) {
    size_t n = BUCKETS_MIN;
    while (n < entries)
        n *= 2;
    return n;
}

/* Moves every entry to a table of want buckets; -ENOMEM keeps the old one. */
static int rebuild(struct cache *c, size_t want) {
    struct cache_entry **nb = calloc(want, sizeof(*nb));
    if (!nb)
        return -ENOMEM;
    for (size_t i = 0; i < c->n_buckets; i++) {
        struct cache_entry *e = c->buckets[i], *next;
        for (; e; e = next) {
            next = e->hnext;
            e->hnext = nb[e->hash & (want - 1)];
            nb[e->hash & (want - 1)] = e;
        }
    }
    free(c->buckets);
    c->buckets = nb;
    c->n_buckets = want;
    return 0;
}

void cache_set_params(struct cache *c, const struct cache_params *p) {
    uint32_t seed = c->p.seed;
    c->p = *p;
    c->p.seed = seed;
    evict_to(c, c->p.entries);
    /* A new size gets a table of its own size (a failure only costs speed). */
    if (c->n_buckets && c->n_buckets != buckets_for(c->p.entries))
        (void)rebuild(c, buckets_for(c->p.entries));
}

static struct cache_entry *find(const struct cache *c, const uint8_t *key, size_t n, uint16_t qtype,
                                uint32_t h) {
    if (!c->n_buckets)
        return NULL;
    for (struct cache_entry *e = c->buckets[h & (c->n_buckets - 1)]; e; e = e->hnext)
        if (e->hash == h && e->qtype == qtype && e->key_len == n && memcmp(e->key, key, n) == 0)
            return e;
    return NULL;
}

size_t cache_flush_name(struct cache *c, const uint8_t *name) {
    uint8_t key[DNAME_MAX_WIRE];
    int kn = make_key(name, key);
    if (kn < 0)
        return 0;
    size_t n = (size_t)kn, removed = 0;
    if (c->n_types <= TYPES_MAX) { /* every type the name can have is known */
        for (unsigned i = 0; i < c->n_types; i++) {
            struct cache_entry *e =
                find(c, key, n, c->types[i], hash_key(c->p.seed, key, n, c->types[i]));
            if (e) {
                entry_remove(c, e);
                removed++;
            }
        }
        return removed;
    }
    for (struct cache_entry *e = LRU_HEAD(c), *next; e; e = next) {
        next = LRU_ENTRY(e->lru.next);
        if (e->key_len == n && memcmp(e->key, key, n) == 0) {
            entry_remove(c, e);
            removed++;
        }
    }
    return removed;
}

static int64_t stale_ms(const struct cache *c) {
    return (int64_t)c->p.serve_stale_s * 1000;
}

void cache_get(struct cache *c, const uint8_t *name, uint16_t qtype, int64_t now_ms,
               struct cache_hit *ret_hit) {
    uint8_t key[DNAME_MAX_WIRE];
    *ret_hit = (struct cache_hit){.state = CACHE_MISS};
    int n = make_key(name, key);
    if (n < 0 || c->count == 0)
        return;
    struct cache_entry *e =
        find(c, key, (size_t)n, qtype, hash_key(c->p.seed, key, (size_t)n, qtype));
    if (!e)
        return;
    if (now_ms < e->expires) {
        if (c->lru.head != &e->lru) {
            dlist_remove(&c->lru, &e->lru);
            dlist_push_head(&c->lru, &e->lru);
        }
        ret_hit->state = CACHE_FRESH;
        ret_hit->ttl = (uint32_t)((e->expires - now_ms) / 1000);
        ret_hit->expires = e->expires;
        ret_hit->answer = cache_answer_ref(e->answer);
        return;
    }
    if (now_ms >= e->expires + stale_ms(c)) {
        entry_remove(c, e);
        return;
    }
    /* Stale entries keep their LRU place: only being used for real keeps
     * an entry in the cache. */
    ret_hit->state = CACHE_STALE;
    ret_hit->ttl = CACHE_STALE_TTL;
    ret_hit->answer = cache_answer_ref(e->answer);
    if (e->failed_at != INT64_MIN) {
        int64_t recheck = c->p.recheck_ms ? c->p.recheck_ms : CACHE_RECHECK_MS;
        ret_hit->failing = true;
        ret_hit->refresh = now_ms - e->failed_at >= recheck;
    }
}

static void note_type(struct cache *c, uint16_t qtype) {
    for (unsigned i = 0; i < c->n_types && i < TYPES_MAX; i++)
        if (c->types[i] == qtype)
            return;
    if (c->n_types < TYPES_MAX)
        c->types[c->n_types++] = qtype;
    else
        c->n_types = TYPES_MAX + 1;
}

int cache_put(struct cache *c, const uint8_t *name, uint16_t qtype, struct cache_answer *a,
              uint32_t ttl_s, int64_t now_ms) {
    uint8_t key[DNAME_MAX_WIRE];
    int n = make_key(name, key);
    if (n < 0)
        return 0;
    uint32_t h = hash_key(c->p.seed, key, (size_t)n, qtype);
    struct cache_entry *old = find(c, key, (size_t)n, qtype, h);
    if (old)
        entry_remove(c, old);
    if (ttl_s == 0 || c->p.entries == 0)
        return 0;
    if (c->n_buckets == 0 && rebuild(c, buckets_for(c->p.entries)) < 0)
        return -ENOMEM;
    note_type(c, qtype);
    struct cache_entry *e = malloc(sizeof(*e) + (size_t)n);
    if (!e)
        return -ENOMEM;
    *e = (struct cache_entry){
        .answer = cache_answer_ref(a),
        .expires = now_ms + (int64_t)ttl_s * 1000,
        .failed_at = INT64_MIN,
        .hash = h,
        .qtype = qtype,
        .key_len = (uint8_t)n,
    };
    memcpy(e->key, key, (size_t)n);
    size_t b = h & (c->n_buckets - 1);
    e->hnext = c->buckets[b];
    c->buckets[b] = e;
    dlist_push_head(&c->lru, &e->lru);
    c->count++;
    evict_to(c, c->p.entries);
    /* Drop one dead entry from the cold end per insert, so expired entries
     * do not sit on memory until the LRU reaches them. */
    struct cache_entry *cold = LRU_TAIL(c);
    if (cold && cold != e && now_ms >= cold->expires + stale_ms(c))
        entry_remove(c, cold);
    return 0;
}

void cache_refresh_failed(struct cache *c, const uint8_t *name, uint16_t qtype, int64_t now_ms) {
    uint8_t key[DNAME_MAX_WIRE];
    int n = make_key(name, key);
    if (n < 0)
        return;
    struct cache_entry *e =
        find(c, key, (size_t)n, qtype, hash_key(c->p.seed, key, (size_t)n, qtype));
    if (e && now_ms >= e->expires)
        e->failed_at = now_ms;
}

size_t cache_entry_footprint(const uint8_t *name, const struct cache_answer *a) {
    size_t text = a->canon ? strlen(a->canon) + 1 : 0;
    for (size_t i = 0; i < a->n_aliases; i++)
        text += strlen(a->aliases[i]) + 1;
    return sizeof(struct cache_entry) + dname_wire_len(name) + sizeof(struct cache_entry *) +
           sizeof(struct cache_answer) + a->n_aliases * sizeof(char *) +
           a->n_addrs * sizeof(struct ipc_addr) + text;
}

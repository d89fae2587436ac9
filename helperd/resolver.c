/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * resolver.c: one job per module request. A job walks the candidate names
 * of the search list (search.h); for each it asks one or two questions
 * ("subs"). A sub is answered from the cache, or waits on a "fetch": the
 * one upstream query in flight for that (name, type), shared by every sub
 * that asks the same. A fetch's answer is reduced to what nss_dns keeps of
 * it (a cache_answer), cached, and handed to its subs by reference.
 */
#include "resolver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cache.h"
#include "dlist.h"
#include "dname.h"
#include "dns-wire.h"
#include "freelist.h"
#include "log.h"
#include "map-writer.h"
#include "search.h"
#include "users.h"

#define FETCH_BUCKETS     4096 /* fetches in flight: at most two per client */
#define DEADLINE_SLACK_MS 50

struct fetch {
    struct resolver *r;
    struct fetch *hnext;
    struct upstream_query *uq;
    struct dlist waiters; /* struct sub, newest first */
    uint32_t hash;
    uint16_t qtype;
    bool starting, finished;
    bool queued;                  /* waits for one of its owner's slots */
    struct dlist_node qnode;      /* ... in the owner's queue, oldest first */
    struct user_use *owner;       /* the user charged for it (users.h), or NULL */
    uint8_t key[DNAME_MAX_WIRE];  /* the name in wire form, lower case */
    uint8_t name[DNAME_MAX_WIRE]; /* wire form, as the first asker spelt it */
};

struct sub {
    struct resolver_job *job;
    struct fetch *fetch;     /* while waiting */
    struct dlist_node wnode; /* ... in fetch->waiters */
    uint16_t qtype;
    bool done;
    struct cache_answer *answer; /* the result, or NULL: see fail */
    struct cache_answer *stale;  /* fallback when the upstreams fail */
    uint32_t ttl;
    enum search_outcome fail;
    uint8_t source;  /* enum resolver_source */
    int upstream;    /* who answered, -1 */
    int64_t expires; /* the answer stays in the cache until then; INT64_MIN: it won't */
};

struct resolver_job {
    struct resolver *r;
    struct dlist_node node; /* in resolver.jobs */
    struct ipc_request req;
    uid_t owner;      /* who asked (SO_PEERCRED): new upstream queries are charged to it */
    int64_t deadline; /* start + timeouts.query_ms, for every name of the search */
    resolver_cb cb;
    void *userdata;
    struct resolver_trace *trace; /* NULL: not traced */
    struct search_conf *conf;     /* a reference; NULL for reverse lookups */
    struct search_iter it;
    char cand[SEARCH_MAX_NAME];    /* the name being asked, as text */
    uint8_t qname[DNAME_MAX_WIRE]; /* the same in wire form: what is asked */
    struct sub subs[2];
    unsigned n_subs;
    struct loop_timer timer; /* deadline, or "deliver now" once complete */
    bool complete, running, found, started;
    bool starting;  /* inside resolver_start(): completion is delivered on return */
    uint8_t status; /* when complete and not found */
    /* For the answer map: the first expiry of every answer the job used
     * (every name of the search list), and whether one won't be cached. */
    int64_t valid_until;
    unsigned asked;
    bool unpublishable;
};

struct resolver {
    struct loop *loop;
    const struct config *cfg;
    struct upstream_pool *pool;
    struct cache *cache;
    struct search_conf *search;
    struct dlist jobs; /* every job, newest first */
    struct fetch *fetches[FETCH_BUCKETS];
    struct resolver_stats stats;
    struct users *owners;          /* fetches in flight per user (clients.lookups_per_user) */
    struct user_use *to_serve;     /* users with queued fetches and a slot free */
    struct loop_timer serve_timer; /* runs owners_serve */
    struct freelist spare_jobs, spare_fetches;
    struct map_writer *map;
    uint32_t seed;
    uint8_t frame[IPC_HEADER_LEN + IPC_MAX_REPLY_BODY];
};

#define JOB_OF_TIMER(t) ((struct resolver_job *)((char *)(t)-offsetof(struct resolver_job, timer)))
#define RESOLVER_OF_SERVE_TIMER(t)                                                                 \
    ((struct resolver *)((char *)(t)-offsetof(struct resolver, serve_timer)))

static void job_step(struct resolver_job *job);

/* --- settings ---------------------------------------------------------------------- */

static void conf_unref(struct search_conf *c) {
    if (c && --c->refs == 0)
        free(c);
}

static void cache_params_from(const struct config *cfg, uint32_t seed, struct cache_params *p) {
    *p = (struct cache_params){
        .entries = cfg->cache.entries,
        .min_ttl = cfg->cache.min_ttl,
        .max_ttl = cfg->cache.max_ttl,
        .negative_ttl = cfg->cache.negative_ttl,
        .serve_stale_s = cfg->cache.serve_stale_s,
        .seed = seed,
    };
}

void resolver_set_search(struct resolver *r, struct search_conf *conf) {
    conf_unref(r->search);
    r->search = conf;
    if (r->map)
        map_writer_reset(r->map);
}

void resolver_set_map(struct resolver *r, struct map_writer *map) {
    r->map = map;
}

int resolver_reload(struct resolver *r, const struct config *cfg) {
    r->cfg = cfg;
    if (r->map)
        map_writer_reset(r->map);
    struct cache_params p;
    cache_params_from(cfg, r->seed, &p);
    cache_set_params(r->cache, &p);
    return 0;
}

int resolver_new(struct loop *l, const struct config *cfg, struct upstream_pool *pool,
                 struct resolver **ret_resolver) {
    struct resolver *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->loop = l;
    r->cfg = cfg;
    r->pool = pool;
    freelist_init(&r->spare_jobs, sizeof(struct resolver_job), FREELIST_KEEP);
    freelist_init(&r->spare_fetches, sizeof(struct fetch), FREELIST_KEEP);
    if (getrandom(&r->seed, sizeof(r->seed), GRND_NONBLOCK) != sizeof(r->seed))
        r->seed = (uint32_t)(uintptr_t)r ^ (uint32_t)getpid();
    struct cache_params p;
    cache_params_from(cfg, r->seed, &p);
    int e = cache_new(&p, &r->cache);
    if (e >= 0)
        e = users_new(&r->owners);
    /* No search list until resolver_set_search() hands one in. */
    if (e >= 0 && !(r->search = calloc(1, sizeof(*r->search))))
        e = -ENOMEM;
    if (e < 0) {
        users_free(r->owners);
        cache_free(r->cache);
        free(r);
        return e;
    }
    r->search->refs = 1;
    search_conf_parse(r->search, NULL, 0, NULL);
    *ret_resolver = r;
    return 0;
}

void resolver_flush(struct resolver *r) {
    cache_flush(r->cache);
    if (r->map)
        map_writer_reset(r->map);
}

size_t resolver_flush_name(struct resolver *r, const uint8_t *name) {
    /* The map can't find a name's entries (it lists none): all go. */
    if (r->map)
        map_writer_reset(r->map);
    return cache_flush_name(r->cache, name);
}

void resolver_get_stats(const struct resolver *r, struct resolver_stats *ret_stats) {
    *ret_stats = r->stats;
    ret_stats->cache_entries = cache_count(r->cache);
    if (r->map) {
        struct map_writer_stats ms;
        map_writer_get_stats(r->map, &ms);
        ret_stats->map = true;
        ret_stats->map_slots = ms.slots;
        ret_stats->map_entries = ms.entries;
        ret_stats->map_published = ms.published;
        ret_stats->map_too_big = ms.too_big;
        ret_stats->map_resets = ms.resets;
    }
}

/* --- fetches: one upstream query per (name, type) in flight -------------------------- */

static uint32_t key_hash(const uint8_t *key, uint16_t qtype) {
    uint32_t h = 2166136261u;
    for (size_t i = 0, n = dname_wire_len(key); i < n; i++)
        h = (h ^ key[i]) * 16777619u;
    return (h ^ qtype) * 16777619u;
}

/* Two spellings of one name share a fetch: the key is the lower-cased wire
 * form, so "\086\052.test", "V4.TEST" and "v4.test" are one question. */
static struct fetch **fetch_slot(struct resolver *r, const uint8_t *key, uint16_t qtype,
                                 uint32_t h) {
    struct fetch **pp = &r->fetches[h % FETCH_BUCKETS];
    while (*pp && !((*pp)->hash == h && (*pp)->qtype == qtype &&
                    memcmp((*pp)->key, key, dname_wire_len(key)) == 0))
        pp = &(*pp)->hnext;
    return pp;
}

/* --- each user's queue -------------------------------------------------------------
 *
 * A user may have clients.lookups_per_user upstream queries in flight; more
 * wait in the user's own queue, oldest first, and start as the user's
 * earlier ones end: one program's burst (a thousand threads) is answered as
 * fast as its share of the pool allows, never refused, while another
 * user's queries never wait behind it (they take the pool's other slots).
 * What waits is bounded by the user's connections (two questions each) and
 * by each job's deadline. The queue is served from the loop, never from
 * inside the callback that freed the slot. */

static void owner_unqueue(struct fetch *f) {
    struct user_use *o = f->owner;
    if (!f->queued)
        return;
    dlist_remove(&o->queue, &f->qnode);
    f->queued = false;
    o->queued--;
}

static void owner_enqueue(struct fetch *f) {
    struct user_use *o = f->owner;
    f->queued = true;
    dlist_push_tail(&o->queue, &f->qnode);
    o->queued++;
}

static void owners_serve(struct loop_timer *t);
static void fetch_start(struct resolver *r, struct fetch *f, int64_t deadline);

/* o has a slot free: serve its queue from the loop. */
static void owner_has_room(struct resolver *r, struct user_use *o) {
    if (!o->queued || o->listed)
        return;
    o->listed = true;
    o->list_next = r->to_serve;
    r->to_serve = o;
    if (!loop_timer_armed(&r->serve_timer))
        loop_timer_at(r->loop, &r->serve_timer, loop_now(r->loop), owners_serve);
}

/* Frees f and gives its user back the slot it held (or its place in the
 * queue). */
static void fetch_free(struct fetch *f) {
    struct user_use *o = f->owner;
    if (o) {
        if (f->queued) {
            owner_unqueue(f);
        } else {
            o->lookups--;
            owner_has_room(f->r, o);
        }
        users_release(f->r->owners, o);
    }
    freelist_put(&f->r->spare_fetches, f);
}

static void fetch_unlink(struct fetch *f) {
    struct fetch **pp = fetch_slot(f->r, f->key, f->qtype, f->hash);
    if (*pp == f)
        *pp = f->hnext;
    f->hnext = NULL;
}

static void waiter_remove(struct sub *s) {
    struct fetch *f = s->fetch;
    dlist_remove(&f->waiters, &s->wnode);
    s->fetch = NULL;
}

/* A job leaves a fetch; nobody left waiting: the query is dropped. */
static void sub_detach(struct sub *s) {
    struct fetch *f = s->fetch;
    if (!f)
        return;
    waiter_remove(s);
    if (!f->waiters.head && !f->starting) {
        upstream_query_cancel(f->uq);
        fetch_unlink(f);
        fetch_free(f);
    }
}

/* Names a program can be handed: host names (res_hnok), as nss_dns
 * accepts them in answers, other than the root. */
static bool name_usable(const uint8_t *name) {
    return name[0] != 0 && dname_hnok(name);
}

/* The text of a usable name into buf (IPC_MAX_NAME + 1 octets). */
static const char *name_text(const uint8_t *name, char *buf) {
    return dname_to_text(name, buf, IPC_MAX_NAME + 1) < 0 ? NULL : buf;
}

#define ANSWER_NAMES_ON_STACK 4
#define ANSWER_ADDRS_ON_STACK 16

/* Reduces an answer to what nss_dns keeps of it: NXDOMAIN and empty answers
 * are "not found"; an answer with records but none usable at the end of the
 * chain is "no recovery" (glibc's getanswer_r). -EPROTO for an rcode that
 * nss_dns calls NO_RECOVERY (not cached). *ret_has_ttl: the TTL means
 * something (records were used). */
static int answer_from_msg(uint16_t qtype, const struct dns_msg *m, struct cache_answer **ret,
                           bool *ret_has_ttl) {
    if (m->rcode != DNS_RCODE_NOERROR && m->rcode != DNS_RCODE_NXDOMAIN)
        return -EPROTO;
    struct dns_answer a;
    int r = dns_answer_follow(m, m->qname, qtype, &a);
    *ret_has_ttl = false;
    if (r == -ELOOP)
        return cache_answer_new(IPC_STATUS_NORECOVERY, 0, NULL, NULL, 0, NULL, 0, ret);
    if (r < 0)
        return r;
    *ret_has_ttl = a.n_aliases > 0 || a.n_records > 0;
    uint8_t status = m->rcode == DNS_RCODE_NXDOMAIN ? IPC_STATUS_NXDOMAIN
                     : m->ancount > 0               ? IPC_STATUS_NORECOVERY
                                                    : IPC_STATUS_NODATA;
    const char *canon = NULL;
    char canon_buf[IPC_MAX_NAME + 1];
    /* The usual answer (a few names, a few addresses) is built on the
     * stack: no allocation per answer but the cached one. */
    const char *names_buf[ANSWER_NAMES_ON_STACK], **names = NULL;
    char text_buf[ANSWER_NAMES_ON_STACK * (IPC_MAX_NAME + 1)], *text = NULL;
    size_t n_names = 0, n_addrs = 0;
    struct ipc_addr addrs_buf[ANSWER_ADDRS_ON_STACK] = {0}, *addrs = NULL;
    if (status == IPC_STATUS_NXDOMAIN)
        goto build;
    if (qtype == DNS_TYPE_PTR) {
        /* nss_dns hands back the first PTR name, and fails when that one
         * is not a host name (getanswer_ptr). */
        if (a.n_records == 0)
            goto build;
        if (name_usable(a.records[0]->u.target) &&
            (canon = name_text(a.records[0]->u.target, canon_buf)))
            status = IPC_STATUS_OK;
        else
            status = IPC_STATUS_NOTFOUND_NORECOVERY;
        goto build;
    }
    /* A question that is not a host name is not found when the answer has
     * records (getanswer_r and gaih_getanswer_slice check it first; with
     * none, res_query already said NO_DATA). Only gethostbyname3_r asks. */
    if (status == IPC_STATUS_NODATA)
        goto build;
    if (!name_usable(m->qname)) {
        status = IPC_STATUS_NXDOMAIN;
        goto build;
    }
    if (a.n_records == 0)
        goto build;
    /* The names of the chain, the question first and the owner of the
     * addresses last, keeping only host names, as nss_dns keeps them: the
     * last is the canonical name, the others are the aliases. */
    r = -ENOMEM;
    if (a.n_aliases < ANSWER_NAMES_ON_STACK) {
        names = names_buf;
        text = text_buf;
    } else {
        names = calloc(a.n_aliases + 1, sizeof(*names));
        text = malloc((a.n_aliases + 1) * (IPC_MAX_NAME + 1));
    }
    addrs = a.n_records <= ANSWER_ADDRS_ON_STACK ? addrs_buf : calloc(a.n_records, sizeof(*addrs));
    if (!names || !text || !addrs)
        goto out;
    for (size_t i = 0; i <= a.n_aliases; i++) {
        const uint8_t *w = i < a.n_aliases ? a.aliases[i] : a.canonical;
        if (name_usable(w) && (names[n_names] = name_text(w, text + i * (IPC_MAX_NAME + 1))))
            n_names++;
    }
    /* The question is a host name, so there is at least one. */
    canon = names[--n_names];
    if (n_names > IPC_MAX_ALIASES)
        n_names = IPC_MAX_ALIASES;
    for (size_t i = 0; i < a.n_records && n_addrs < IPC_MAX_ADDRS; i++) {
        struct ipc_addr *d = &addrs[n_addrs++];
        if (a.records[i]->type == DNS_TYPE_A) {
            d->family = IPC_AF_INET;
            memcpy(d->addr, a.records[i]->u.in4, 4);
        } else {
            d->family = IPC_AF_INET6;
            memcpy(d->addr, a.records[i]->u.in6, 16);
        }
    }
    status = IPC_STATUS_OK;
build:
    r = cache_answer_new(status, *ret_has_ttl ? a.ttl : 0, status == IPC_STATUS_OK ? canon : NULL,
                         names, n_names, addrs, n_addrs, ret);
out:
    if (names != names_buf)
        free(names);
    if (text != text_buf)
        free(text);
    if (addrs != addrs_buf)
        free(addrs);
    dns_answer_free(&a);
    return r;
}

static void sub_finish(struct sub *s, struct cache_answer *a, uint32_t ttl,
                       enum search_outcome fail, enum resolver_source source, int upstream,
                       int64_t expires) {
    s->done = true;
    s->expires = a ? expires : INT64_MIN;
    s->source = a ? (uint8_t)source : RESOLVER_SOURCE_NONE;
    s->upstream = a && source == RESOLVER_SOURCE_UPSTREAM ? upstream : -1;
    s->answer = a; /* takes the reference */
    s->ttl = ttl;
    s->fail = fail;
    cache_answer_unref(s->stale);
    s->stale = NULL;
    job_step(s->job);
}

static void fetch_on_answer(void *userdata, int error, const struct dns_msg *m) {
    struct fetch *f = userdata;
    struct resolver *r = f->r;
    int64_t now = loop_now(r->loop);
    struct cache_answer *a = NULL;
    enum search_outcome fail = SEARCH_TRYAGAIN;
    uint32_t ttl = 0;
    int64_t expires = INT64_MIN;
    int by = upstream_pool_answered_by(r->pool);
    f->uq = NULL;
    if (error == 0) {
        bool has_ttl = false;
        int e = answer_from_msg(f->qtype, m, &a, &has_ttl);
        if (e == -EPROTO)
            fail = SEARCH_NORECOVERY;
        if (e >= 0) {
            struct cache_params p;
            cache_params_from(r->cfg, 0, &p);
            ttl = cache_ttl(&p, a->status, has_ttl, a->ttl, m->has_soa, m->soa_ttl, m->soa_minimum);
            if (cache_put(r->cache, f->key, f->qtype, a, ttl, now) == 0 && ttl > 0 &&
                r->cfg->cache.entries > 0)
                expires = now + (int64_t)ttl * 1000;
            if (a->status != IPC_STATUS_OK)
                ttl = 0;
        }
    } else {
        /* -EIO: the upstreams answered SERVFAIL (or the like), and nss_dns
         * goes on down the search list; a timeout or unreachable upstreams
         * end it (TRYAGAIN); a name that can't be put in a query is
         * unrecoverable. */
        fail = error == -EIO      ? SEARCH_SERVFAIL
               : error == -EINVAL ? SEARCH_NORECOVERY
                                  : SEARCH_TRYAGAIN;
        cache_refresh_failed(r->cache, f->key, f->qtype, now);
    }
    /* Out of the table first: a job moving on must not join a finished fetch. */
    fetch_unlink(f);
    while (f->waiters.head) {
        struct sub *s = DLIST_ENTRY(f->waiters.head, struct sub, wnode);
        waiter_remove(s);
        if (a) {
            sub_finish(s, cache_answer_ref(a), ttl, fail, RESOLVER_SOURCE_UPSTREAM, by, expires);
        } else if (s->stale) {
            r->stats.stale_served++;
            struct cache_answer *st = s->stale;
            s->stale = NULL;
            sub_finish(s, st, CACHE_STALE_TTL, fail, RESOLVER_SOURCE_STALE, -1, INT64_MIN);
        } else {
            sub_finish(s, NULL, 0, fail, RESOLVER_SOURCE_NONE, -1, INT64_MIN);
        }
    }
    cache_answer_unref(a);
    if (f->starting)
        f->finished = true;
    else
        fetch_free(f);
}

/* Another user joins f, which waits in its owner's queue: when the newcomer
 * has a slot free, the fetch becomes the newcomer's and starts now, so that
 * nobody waits behind another user's queue (the first owner gets its place
 * back). */
static void fetch_take_over(struct resolver *r, struct fetch *f, uid_t uid) {
    struct user_use *o = users_get(r->owners, uid);
    if (!o || o == f->owner || o->lookups >= r->cfg->clients.lookups_per_user || o->queued) {
        users_release(r->owners, o);
        return;
    }
    struct user_use *old = f->owner;
    owner_unqueue(f);
    users_release(r->owners, old);
    f->owner = o;
    o->lookups++;
}

/* Joins the fetch for the sub's question, starting one when none is in
 * flight. s NULL: a background refresh nobody waits for. */
static void fetch_join(struct resolver *r, const uint8_t *name, uint16_t qtype, struct sub *s) {
    uint8_t key[DNAME_MAX_WIRE];
    dname_wire_lower(name, key);
    uint32_t h = key_hash(key, qtype);
    struct fetch **pp = fetch_slot(r, key, qtype, h);
    struct fetch *f = *pp;
    if (f) {
        if (!s)
            return;
        r->stats.coalesced++;
        if (f->queued)
            fetch_take_over(r, f, s->job->owner);
    } else {
        /* A new upstream query is charged to the user who asks first; one
         * user's queries in flight are capped so that a flood of new names
         * cannot take the whole pool (joining one in flight is free). */
        struct user_use *owner = s ? users_get(r->owners, s->job->owner) : NULL;
        f = freelist_get(&r->spare_fetches);
        if (!f) {
            users_release(r->owners, owner);
            if (s)
                sub_finish(s, NULL, 0, SEARCH_TRYAGAIN, RESOLVER_SOURCE_NONE, -1, INT64_MIN);
            return;
        }
        f->owner = owner;
        /* Behind the user's queue, not past it: a slot that an answer
         * freed in this iteration belongs to the oldest waiting fetch
         * (owners_serve runs after the events). */
        if (owner && (owner->lookups >= r->cfg->clients.lookups_per_user || owner->queued)) {
            r->stats.queued_fetches++;
            owner_enqueue(f); /* owners_serve starts it */
        } else if (owner) {
            owner->lookups++;
        }
        f->r = r;
        f->hash = h;
        f->qtype = qtype;
        memcpy(f->key, key, sizeof(key));
        memcpy(f->name, name, dname_wire_len(name));
        *pp = f;
    }
    if (s) {
        s->fetch = f;
        dlist_push_head(&f->waiters, &s->wnode);
    }
    if (f->uq || f->starting || f->queued)
        return;
    /* One deadline for the whole lookup, whatever the search list says. */
    fetch_start(r, f, s ? s->job->deadline : loop_now(r->loop) + r->cfg->timeouts.query_ms);
}

/* Sends f's question to the pool. */
static void fetch_start(struct resolver *r, struct fetch *f, int64_t deadline) {
    bool waited = f->waiters.head != NULL;
    r->stats.upstream_queries++;
    f->starting = true;
    /* The pool may answer at once (nothing usable): fetch_on_answer then
     * runs inside this call and leaves the freeing to us. */
    int e = upstream_query_start(r->pool, f->name, f->qtype, deadline, fetch_on_answer, f, &f->uq);
    f->starting = false;
    if (e < 0) {
        f->uq = NULL;
        fetch_on_answer(f, e, NULL);
    } else if (f->finished) {
        fetch_free(f);
    } else if (!f->waiters.head && waited) {
        /* Every waiter left while it started (cannot happen today). */
        upstream_query_cancel(f->uq);
        fetch_unlink(f);
        fetch_free(f);
    }
}

/* Starts what the listed users' queues hold, as far as their slots allow.
 * A user stays listed while served, so that a fetch ending inside
 * fetch_start() neither lists it twice nor frees it. */
static void owners_serve(struct loop_timer *t) {
    struct resolver *r = RESOLVER_OF_SERVE_TIMER(t);
    while (r->to_serve) {
        struct user_use *o = r->to_serve;
        r->to_serve = o->list_next;
        o->list_next = NULL;
        while (o->queue.head && o->lookups < r->cfg->clients.lookups_per_user) {
            struct fetch *f = DLIST_ENTRY(o->queue.head, struct fetch, qnode);
            owner_unqueue(f);
            o->lookups++;
            /* A queued fetch has waiters (the last one leaving frees it):
             * it may take as long as the one that may wait longest. */
            int64_t deadline = INT64_MIN;
            for (struct dlist_node *n = f->waiters.head; n; n = n->next) {
                struct sub *w = DLIST_ENTRY(n, struct sub, wnode);
                if (w->job->deadline > deadline)
                    deadline = w->job->deadline;
            }
            fetch_start(r, f, deadline);
        }
        o->listed = false;
        users_release(r->owners, o);
    }
}

/* --- jobs ------------------------------------------------------------------------- */

static void sub_clear(struct sub *s) {
    sub_detach(s);
    cache_answer_unref(s->answer);
    cache_answer_unref(s->stale);
    *s = (struct sub){0};
}

static void job_free(struct resolver_job *job) {
    struct resolver *r = job->r;
    loop_timer_cancel(r->loop, &job->timer);
    for (unsigned i = 0; i < job->n_subs; i++)
        sub_clear(&job->subs[i]);
    conf_unref(job->conf);
    dlist_remove(&r->jobs, &job->node);
    freelist_put(&r->spare_jobs, job);
}

void resolver_cancel(struct resolver_job *job) {
    if (job)
        job_free(job);
}

void resolver_free(struct resolver *r) {
    if (!r)
        return;
    while (r->jobs.head)
        job_free(DLIST_ENTRY(r->jobs.head, struct resolver_job, node));
    for (size_t i = 0; i < FETCH_BUCKETS; i++)
        while (r->fetches[i]) {
            /* Background refreshes: nobody waits for them. */
            struct fetch *f = r->fetches[i];
            r->fetches[i] = f->hnext;
            upstream_query_cancel(f->uq);
            fetch_free(f);
        }
    loop_timer_cancel(r->loop, &r->serve_timer);
    freelist_clear(&r->spare_jobs);
    freelist_clear(&r->spare_fetches);
    cache_free(r->cache);
    conf_unref(r->search);
    users_free(r->owners);
    free(r);
}

/* Asks one question for the current candidate: cache first. */
static void sub_start(struct resolver_job *job, struct sub *s, uint16_t qtype) {
    struct resolver *r = job->r;
    struct cache_hit hit;
    *s = (struct sub){.job = job, .qtype = qtype, .upstream = -1, .expires = INT64_MIN};
    cache_get(r->cache, job->qname, qtype, loop_now(r->loop), &hit);
    if (hit.state == CACHE_FRESH) {
        r->stats.cache_hits++;
        sub_finish(s, hit.answer, hit.ttl, SEARCH_TRYAGAIN, RESOLVER_SOURCE_CACHE, -1, hit.expires);
        return;
    }
    if (hit.state == CACHE_STALE && hit.failing) {
        /* The upstreams failed recently: answer at once, and try them
         * again in the background now and then (RFC 8767). */
        r->stats.stale_served++;
        if (hit.refresh) {
            cache_refresh_failed(r->cache, job->qname, qtype, loop_now(r->loop));
            fetch_join(r, job->qname, qtype, NULL);
        }
        sub_finish(s, hit.answer, hit.ttl, SEARCH_TRYAGAIN, RESOLVER_SOURCE_STALE, -1, INT64_MIN);
        return;
    }
    s->stale = hit.answer; /* NULL on a miss */
    r->stats.cache_misses++;
    fetch_join(r, job->qname, qtype, s);
}

static enum search_outcome sub_outcome(const struct sub *s) {
    if (!s->answer)
        return s->fail;
    switch (s->answer->status) {
    case IPC_STATUS_OK:
    case IPC_STATUS_NORECOVERY:
    case IPC_STATUS_NOTFOUND_NORECOVERY:
        return SEARCH_FOUND; /* NOERROR with records: the search ends */
    case IPC_STATUS_NXDOMAIN:
        return SEARCH_NXDOMAIN;
    default:
        return SEARCH_NODATA;
    }
}

/* res_query's merge of the A and AAAA answers: records in either is found;
 * otherwise the A verdict, unless A was NOERROR (then the AAAA one). */
static enum search_outcome job_outcome(const struct resolver_job *job) {
    for (unsigned i = 0; i < job->n_subs; i++)
        if (sub_outcome(&job->subs[i]) == SEARCH_FOUND)
            return SEARCH_FOUND;
    enum search_outcome o = sub_outcome(&job->subs[0]);
    if (job->n_subs == 2 && o == SEARCH_NODATA)
        o = sub_outcome(&job->subs[1]);
    return o;
}

static void job_on_timer(struct loop_timer *t);

/* The reply depends on every answer the job used: it holds while all of
 * them stay in the cache. */
static void job_fold_expiry(struct resolver_job *job) {
    for (unsigned i = 0; i < job->n_subs; i++) {
        const struct sub *s = &job->subs[i];
        job->asked++;
        if (!s->done || s->expires == INT64_MIN)
            job->unpublishable = true;
        else if (s->expires < job->valid_until)
            job->valid_until = s->expires;
    }
}

static void job_complete(struct resolver_job *job) {
    job->complete = true;
    /* A job answered inside resolver_start() (the cache, a bad name) is
     * delivered as it returns; otherwise from the loop, never from inside
     * an upstream callback, so callers never see re-entrant completions. */
    if (job->starting)
        loop_timer_cancel(job->r->loop, &job->timer);
    else
        loop_timer_at(job->r->loop, &job->timer, loop_now(job->r->loop), job_on_timer);
}

/* Moves the job on as far as it goes without waiting. */
static void job_step(struct resolver_job *job) {
    if (job->running || job->complete)
        return;
    job->running = true;
    for (;;) {
        bool waiting = false;
        for (unsigned i = 0; i < job->n_subs; i++)
            waiting |= !job->subs[i].done;
        if (waiting)
            break;
        if (job->n_subs) {
            enum search_outcome o = job_outcome(job);
            if (o == SEARCH_FOUND || !job->conf) {
                job->found = o == SEARCH_FOUND;
                job->status = (uint8_t)search_outcome_status(o);
                job_complete(job);
                break;
            }
            search_report(&job->it, o);
            job_fold_expiry(job);
            for (unsigned i = 0; i < job->n_subs; i++)
                sub_clear(&job->subs[i]);
            job->n_subs = 0;
        }
        /* A reverse lookup asks its one name (already in qname) once. */
        if (job->conf ? !search_next(&job->it, job->cand) : job->started) {
            job->status = job->conf ? (uint8_t)search_status(&job->it) : IPC_STATUS_TRYAGAIN;
            job_complete(job);
            break;
        }
        job->started = true;
        /* The text becomes the wire form here, once: a name that has none
         * (a bad escape, an empty label, too long) can't be asked, and
         * glibc's res_query calls that NO_RECOVERY. */
        if (job->conf && dname_from_text(job->cand, job->qname) < 0) {
            search_report(&job->it, SEARCH_NORECOVERY);
            continue;
        }
        uint16_t types[2];
        unsigned n = 0;
        if (job->req.op == IPC_OP_BYADDR) {
            types[n++] = DNS_TYPE_PTR;
        } else {
            if (job->req.family != IPC_AF_INET6)
                types[n++] = DNS_TYPE_A;
            if (job->req.family != IPC_AF_INET)
                types[n++] = DNS_TYPE_AAAA;
        }
        job->n_subs = n;
        for (unsigned i = 0; i < n; i++)
            sub_start(job, &job->subs[i], types[i]);
        /* The backstop for the lookup; the pool ends its queries by then. */
        for (unsigned i = 0; i < n; i++)
            if (!job->subs[i].done && !loop_timer_armed(&job->timer)) {
                loop_timer_at(job->r->loop, &job->timer, job->deadline + DEADLINE_SLACK_MS,
                              job_on_timer);
                break;
            }
    }
    job->running = false;
}

static char lower_c(char c) {
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* The spelling to hand back for a name of a forward answer. Servers
 * compress the names of an answer against the question, so the labels a
 * name shares with the end of the question come back spelt as asked (and
 * the first name of the chain is the question itself). A cached answer may
 * come from another spelling of the question: respell those labels as
 * asked now. Other labels keep the case the server gave them. q is the
 * question's text made from its wire form (escapes resolved, so
 * "\086\052.TEST" respells as "V4.TEST", as a server would echo it). */
static const char *spelt(const char *q, const char *name, char *buf) {
    size_t nq = strlen(q), nn = strlen(name), m = 0, common = 0;
    if (nq > 0 && q[nq - 1] == '.')
        nq--;
    /* m: characters matching from the end; common: the longest of those
     * that starts a label in both names. */
    while (m < nq && m < nn && lower_c(q[nq - 1 - m]) == lower_c(name[nn - 1 - m])) {
        m++;
        bool start_q = m == nq || q[nq - 1 - m] == '.';
        bool start_n = m == nn || name[nn - 1 - m] == '.';
        if (start_q && start_n)
            common = m;
    }
    if (common == 0 || nn >= SEARCH_MAX_NAME)
        return name;
    memcpy(buf, name, nn - common);
    memcpy(buf + nn - common, q + nq - common, common);
    buf[nn] = '\0';
    return buf;
}

/* Puts the reply (in r->frame) into the answer map under the request as the
 * module sends it (flags 0). */
static void job_publish(struct resolver_job *job, size_t len, int64_t ttl_until) {
    struct resolver *r = job->r;
    uint8_t req[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY];
    int n = job->req.op == IPC_OP_BYNAME
                ? ipc_request_encode_byname(req, sizeof(req), job->req.family, job->req.name)
                : ipc_request_encode_byaddr(req, sizeof(req), job->req.family, job->req.addr,
                                            job->req.addr_len);
    if (n > 0)
        map_writer_publish(r->map, req, (size_t)n, r->frame, len, job->valid_until,
                           ttl_until == INT64_MAX ? job->valid_until : ttl_until);
}

/* Encodes the job's verdict into a reply frame and hands it over. */
static void job_deliver(struct resolver_job *job) {
    struct resolver *r = job->r;
    struct ipc_reply_builder b;
    const struct sub *first_ok = NULL;
    uint32_t ttl = UINT32_MAX;
    uint8_t status = job->status;
    char buf[SEARCH_MAX_NAME], q[DNAME_MAX_PRESENTATION];

    if (job->found) {
        /* As nss_dns merges A and AAAA: any address wins, then an
         * unusable answer. */
        status = IPC_STATUS_NORECOVERY;
        for (unsigned i = 0; i < job->n_subs; i++) {
            const struct sub *s = &job->subs[i];
            if (s->answer && s->answer->status == IPC_STATUS_NOTFOUND_NORECOVERY)
                status = IPC_STATUS_NOTFOUND_NORECOVERY; /* a bad PTR name */
            if (!s->answer || s->answer->status != IPC_STATUS_OK)
                continue;
            if (!first_ok)
                first_ok = s;
            if (s->ttl < ttl)
                ttl = s->ttl;
        }
        if (first_ok)
            status = IPC_STATUS_OK;
    }
    size_t len;
    int64_t ttl_until = INT64_MAX;
    job_fold_expiry(job);
    for (unsigned i = 0; first_ok && i < job->n_subs; i++) {
        const struct sub *s = &job->subs[i];
        if (s->answer && s->answer->status == IPC_STATUS_OK && s->expires < ttl_until)
            ttl_until = s->expires;
    }
    const struct cache_answer *a = first_ok ? first_ok->answer : NULL;
    bool forward = job->req.op == IPC_OP_BYNAME;
    if (a && forward && dname_to_text(job->qname, q, sizeof(q)) < 0)
        q[0] = '\0';
    if (a && ipc_reply_begin(&b, r->frame, sizeof(r->frame), status, ttl,
                             forward ? spelt(q, a->canon, buf) : a->canon) == 0) {
        for (size_t i = 0; i < a->n_aliases; i++)
            (void)ipc_reply_add_alias(&b, forward ? spelt(q, a->aliases[i], buf) : a->aliases[i]);
        if (!forward)
            (void)ipc_reply_add_addr(&b, job->req.family, job->req.addr);
        for (unsigned i = 0; i < job->n_subs; i++) {
            const struct cache_answer *sa = job->subs[i].answer;
            if (!sa || sa->status != IPC_STATUS_OK)
                continue;
            for (size_t k = 0; k < sa->n_addrs; k++)
                (void)ipc_reply_add_addr(&b, sa->addrs[k].family, sa->addrs[k].addr);
        }
        len = ipc_reply_end(&b);
    } else {
        if (status == IPC_STATUS_OK)
            status = IPC_STATUS_UNAVAIL;
        ipc_reply_begin(&b, r->frame, sizeof(r->frame), status, 0, NULL);
        len = ipc_reply_end(&b);
    }
    if (r->map && !job->unpublishable && job->asked > 0 && status != IPC_STATUS_UNAVAIL &&
        status != IPC_STATUS_TRYAGAIN)
        job_publish(job, len, ttl_until);
    if (job->trace) {
        struct resolver_trace *t = job->trace;
        snprintf(t->name, sizeof(t->name), "%s", job->cand);
        t->n = job->n_subs;
        for (unsigned i = 0; i < job->n_subs; i++) {
            const struct sub *s = &job->subs[i];
            t->q[i].qtype = s->qtype;
            t->q[i].source = s->source;
            t->q[i].upstream = s->upstream;
            t->q[i].ttl = s->ttl;
        }
    }
    resolver_cb cb = job->cb;
    void *ud = job->userdata;
    job_free(job);
    cb(ud, r->frame, len);
}

static void job_on_timer(struct loop_timer *t) {
    struct resolver_job *job = JOB_OF_TIMER(t);
    if (!job->complete) {
        /* The pool ends its queries by the deadline; this is the backstop. */
        job->found = false;
        job->status = IPC_STATUS_TRYAGAIN;
    }
    job_deliver(job);
}

/* Runs the first steps of a job; a job that completed there (cache hits,
 * bad names) is delivered now, before resolver_start() returns. */
static int job_begin(struct resolver_job *job, struct resolver_job **ret_job) {
    job->starting = true;
    *ret_job = job;
    /* Every name is asked as glibc would ask it: which names are refused
     * before asking (res_hnok) depends on the entry point, and the module
     * decides that. */
    if (job->req.op == IPC_OP_BYNAME) {
        job->conf = job->r->search;
        job->conf->refs++;
        search_begin(&job->it, job->conf, job->req.name);
    }
    job_step(job);
    job->starting = false;
    if (job->complete) {
        *ret_job = NULL;
        job_deliver(job);
    }
    return 0;
}

int resolver_start(struct resolver *r, const struct ipc_request *req, uid_t owner, resolver_cb cb,
                   void *userdata, struct resolver_job **ret_job) {
    return resolver_start_traced(r, req, owner, cb, userdata, NULL, ret_job);
}

int resolver_start_traced(struct resolver *r, const struct ipc_request *req, uid_t owner,
                          resolver_cb cb, void *userdata, struct resolver_trace *trace,
                          struct resolver_job **ret_job) {
    struct resolver_job *job = freelist_get(&r->spare_jobs);
    if (!job)
        return -ENOMEM;
    job->r = r;
    job->owner = owner;
    job->trace = trace;
    job->req = *req;
    job->cb = cb;
    job->userdata = userdata;
    job->deadline = loop_now(r->loop) + r->cfg->timeouts.query_ms;
    job->valid_until = INT64_MAX;
    dlist_push_head(&r->jobs, &job->node);
    r->stats.lookups++;
    unsigned ask = req->flags & IPC_FLAGS_ASK_MASK;
    r->stats.asked[ask <= IPC_ASK_MAX_ ? ask : IPC_ASK_PLAIN]++;

    if (req->op == IPC_OP_BYADDR) {
        int af = req->family == IPC_AF_INET ? AF_INET : AF_INET6;
        if (dns_reverse_name(af, req->addr, job->cand, sizeof(job->cand)) < 0 ||
            dname_from_text(job->cand, job->qname) < 0) {
            job_free(job);
            return -EINVAL;
        }
    }
    return job_begin(job, ret_job);
}

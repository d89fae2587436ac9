/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * resolver.c: one job per module request; each job asks one or two DNS
 * questions through the upstream pool, keeps what nss_dns would keep of the
 * answers, and encodes the reply frame.
 */
#include "resolver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dname.h"
#include "dns-wire.h"
#include "log.h"

/* What one question brought back, copied out of the DNS message. */
struct sub {
    struct resolver_job *job;
    uint16_t qtype;
    struct upstream_query *uq;
    bool done;
    uint8_t status; /* IPC_STATUS_* */
    uint32_t ttl;
    char *canon;
    char *aliases[IPC_MAX_ALIASES];
    size_t n_aliases;
    struct ipc_addr *addrs;
    size_t n_addrs;
};

struct resolver_job {
    struct resolver *r;
    struct resolver_job *next, *prev;
    struct ipc_request req;
    resolver_cb cb;
    void *userdata;
    struct sub subs[2];
    unsigned n_subs;
    struct loop_timer timer; /* deadline, or "deliver now" once complete */
    bool complete;
};

struct resolver {
    struct loop *loop;
    const struct config *cfg;
    struct upstream_pool *pool;
    struct resolver_job *jobs;
};

#define JOB_OF_TIMER(t) ((struct resolver_job *)((char *)(t)-offsetof(struct resolver_job, timer)))

int resolver_new(struct loop *l, const struct config *cfg, struct upstream_pool *pool,
                 struct resolver **ret_resolver) {
    struct resolver *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->loop = l;
    r->cfg = cfg;
    r->pool = pool;
    *ret_resolver = r;
    return 0;
}

static void sub_clear(struct sub *s) {
    upstream_query_cancel(s->uq);
    s->uq = NULL;
    free(s->canon);
    for (size_t i = 0; i < s->n_aliases; i++)
        free(s->aliases[i]);
    free(s->addrs);
}

static void job_free(struct resolver_job *job) {
    struct resolver *r = job->r;
    loop_timer_cancel(r->loop, &job->timer);
    for (unsigned i = 0; i < job->n_subs; i++)
        sub_clear(&job->subs[i]);
    if (job->prev)
        job->prev->next = job->next;
    else
        r->jobs = job->next;
    if (job->next)
        job->next->prev = job->prev;
    free(job);
}

void resolver_cancel(struct resolver_job *job) {
    if (job)
        job_free(job);
}

void resolver_free(struct resolver *r) {
    if (!r)
        return;
    while (r->jobs)
        job_free(r->jobs);
    free(r);
}

/* Names a program can be handed: what nss_dns would return (no escapes). */
static bool name_usable(const char *name) {
    return name && *name && strchr(name, '\\') == NULL && strlen(name) <= DNAME_MAX_TEXT;
}

/* Reads one answer the way nss_dns does: NXDOMAIN and empty answers are
 * "not found"; an answer with records but none usable at the end of the
 * chain is "no recovery" (glibc's getanswer_r). */
static int sub_take_answer(struct sub *s, const struct dns_msg *m, const char *qname) {
    uint8_t unusable = m->ancount > 0 ? IPC_STATUS_NORECOVERY : IPC_STATUS_NODATA;
    struct dns_answer a;
    int r = dns_answer_follow(m, qname, s->qtype, &a);
    if (r == -ELOOP) {
        s->status = IPC_STATUS_NORECOVERY;
        return 0;
    }
    if (r < 0)
        return r;
    if (m->rcode == DNS_RCODE_NXDOMAIN) {
        s->status = IPC_STATUS_NXDOMAIN;
        goto out;
    }
    s->status = unusable;
    if (a.n_records == 0 || !name_usable(a.canonical))
        goto out;
    s->ttl = a.ttl;
    if (s->qtype == DNS_TYPE_PTR) {
        /* nss_dns hands back the first usable PTR name and no aliases. */
        for (size_t i = 0; i < a.n_records && !s->canon; i++)
            if (name_usable(a.records[i]->u.target) &&
                !(s->canon = strdup(a.records[i]->u.target))) {
                r = -ENOMEM;
                goto out;
            }
        if (s->canon)
            s->status = IPC_STATUS_OK;
        goto out;
    }
    s->canon = strdup(a.canonical);
    s->addrs = calloc(a.n_records, sizeof(*s->addrs));
    if (!s->canon || !s->addrs) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < a.n_aliases && s->n_aliases < IPC_MAX_ALIASES; i++) {
        if (!name_usable(a.aliases[i]))
            continue;
        if (!(s->aliases[s->n_aliases] = strdup(a.aliases[i]))) {
            r = -ENOMEM;
            goto out;
        }
        s->n_aliases++;
    }
    for (size_t i = 0; i < a.n_records && s->n_addrs < IPC_MAX_ADDRS; i++) {
        struct ipc_addr *d = &s->addrs[s->n_addrs++];
        if (a.records[i]->type == DNS_TYPE_A) {
            d->family = IPC_AF_INET;
            memcpy(d->addr, a.records[i]->u.in4, 4);
        } else {
            d->family = IPC_AF_INET6;
            memcpy(d->addr, a.records[i]->u.in6, 16);
        }
    }
    s->status = IPC_STATUS_OK;
out:
    dns_answer_free(&a);
    return r;
}

static void job_on_timer(struct loop_timer *t);

/* Encodes the job's verdict into a reply frame and hands it over. */
static void job_deliver(struct resolver_job *job) {
    uint8_t *frame = malloc(IPC_HEADER_LEN + IPC_MAX_REPLY_BODY);
    struct ipc_reply_builder b;
    uint8_t status = IPC_STATUS_NODATA;
    const struct sub *first_ok = NULL;
    bool any_norecovery = false;
    uint32_t ttl = UINT32_MAX;

    /* As nss_dns merges A and AAAA: any address wins; then an unusable
     * answer; otherwise the first verdict that is not NODATA. */
    for (unsigned i = 0; i < job->n_subs; i++) {
        const struct sub *s = &job->subs[i];
        uint8_t st = s->done ? s->status : IPC_STATUS_TRYAGAIN;
        if (st == IPC_STATUS_OK) {
            if (!first_ok)
                first_ok = s;
            if (s->ttl < ttl)
                ttl = s->ttl;
        } else if (st == IPC_STATUS_NORECOVERY) {
            any_norecovery = true;
        } else if (status == IPC_STATUS_NODATA) {
            status = st;
        }
    }
    if (first_ok)
        status = IPC_STATUS_OK;
    else if (any_norecovery)
        status = IPC_STATUS_NORECOVERY;

    size_t len = 0;
    if (frame && status == IPC_STATUS_OK &&
        ipc_reply_begin(&b, frame, IPC_HEADER_LEN + IPC_MAX_REPLY_BODY, status, ttl,
                        first_ok->canon) == 0) {
        for (size_t i = 0; i < first_ok->n_aliases; i++)
            (void)ipc_reply_add_alias(&b, first_ok->aliases[i]);
        if (job->req.op == IPC_OP_BYADDR)
            (void)ipc_reply_add_addr(&b, job->req.family, job->req.addr);
        for (unsigned i = 0; i < job->n_subs; i++)
            for (size_t k = 0; k < job->subs[i].n_addrs; k++)
                (void)ipc_reply_add_addr(&b, job->subs[i].addrs[k].family,
                                         job->subs[i].addrs[k].addr);
        len = ipc_reply_end(&b);
    } else if (frame) {
        if (status == IPC_STATUS_OK)
            status = IPC_STATUS_UNAVAIL;
        ipc_reply_begin(&b, frame, IPC_HEADER_LEN + IPC_MAX_REPLY_BODY, status, 0, NULL);
        len = ipc_reply_end(&b);
    }
    resolver_cb cb = job->cb;
    void *ud = job->userdata;
    job_free(job);
    if (frame)
        cb(ud, frame, len);
    else
        cb(ud, NULL, 0);
    free(frame);
}

static void job_maybe_complete(struct resolver_job *job) {
    for (unsigned i = 0; i < job->n_subs; i++)
        if (!job->subs[i].done)
            return;
    job->complete = true;
    /* Deliver from the loop, never from inside resolver_start() or an
     * upstream callback, so callers never see re-entrant completions. */
    loop_timer_at(job->r->loop, &job->timer, loop_now(job->r->loop), job_on_timer);
}

static void sub_on_answer(void *userdata, int error, const struct dns_msg *m) {
    struct sub *s = userdata;
    s->uq = NULL;
    s->done = true;
    if (error) {
        s->status = IPC_STATUS_TRYAGAIN;
    } else if (sub_take_answer(s, m, m->qname) < 0) {
        s->status = IPC_STATUS_TRYAGAIN;
    }
    job_maybe_complete(s->job);
}

static void job_on_timer(struct loop_timer *t) {
    struct resolver_job *job = JOB_OF_TIMER(t);
    if (!job->complete) {
        /* The pool ends its queries by the deadline; this is the backstop. */
        for (unsigned i = 0; i < job->n_subs; i++) {
            upstream_query_cancel(job->subs[i].uq);
            job->subs[i].uq = NULL;
        }
    }
    job_deliver(job);
}

int resolver_start(struct resolver *r, const struct ipc_request *req, resolver_cb cb,
                   void *userdata, struct resolver_job **ret_job) {
    struct resolver_job *job = calloc(1, sizeof(*job));
    if (!job)
        return -ENOMEM;
    job->r = r;
    job->req = *req;
    job->cb = cb;
    job->userdata = userdata;
    job->next = r->jobs;
    if (r->jobs)
        r->jobs->prev = job;
    r->jobs = job;

    char name[DNS_NAME_MAX_TEXT + 1];
    if (req->op == IPC_OP_BYADDR) {
        int af = req->family == IPC_AF_INET ? AF_INET : AF_INET6;
        if (dns_reverse_name(af, req->addr, name, sizeof(name)) < 0) {
            job_free(job);
            return -EINVAL;
        }
        job->subs[job->n_subs++].qtype = DNS_TYPE_PTR;
    } else {
        if (!dname_valid(req->name)) {
            /* Bad names are answered NOTFOUND without a query. */
            job->subs[0].done = true;
            job->subs[0].status = IPC_STATUS_NXDOMAIN;
            job->n_subs = 1;
            *ret_job = job;
            job_maybe_complete(job);
            return 0;
        }
        snprintf(name, sizeof(name), "%s", req->name);
        if (req->family != IPC_AF_INET6)
            job->subs[job->n_subs++].qtype = DNS_TYPE_A;
        if (req->family != IPC_AF_INET)
            job->subs[job->n_subs++].qtype = DNS_TYPE_AAAA;
    }

    int64_t deadline = loop_now(r->loop) + r->cfg->timeouts.query_ms;
    loop_timer_at(r->loop, &job->timer, deadline + 50, job_on_timer);
    *ret_job = job;
    for (unsigned i = 0; i < job->n_subs; i++) {
        struct sub *s = &job->subs[i];
        s->job = job;
        /* The pool may answer at once (nothing usable): sub_on_answer then
         * runs inside this call and only marks the sub done. */
        if (upstream_query_start(r->pool, name, s->qtype, deadline, sub_on_answer, s, &s->uq) < 0) {
            s->uq = NULL;
            s->done = true;
            s->status = IPC_STATUS_TRYAGAIN;
        }
    }
    job_maybe_complete(job);
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * search.c: resolv.conf's search/domain/ndots, and res_search's walk over
 * the candidate names (glibc 2.36 resolv/res_init.c and res_query.c).
 */
#include "search.h"

#include <stdlib.h>
#include <string.h>

#include "ipc.h"

enum { PHASE_START, PHASE_AS_IS_FIRST, PHASE_LIST, PHASE_AS_IS_LAST, PHASE_DONE };

static bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

/* glibc's MATCH(): the keyword followed by a blank. */
static bool match(const char *line, size_t len, const char *kw) {
    size_t n = strlen(kw);
    return len > n && memcmp(line, kw, n) == 0 && is_blank(line[n]);
}

static void add_domain(struct search_conf *conf, const char *p, size_t n) {
    if (conf->n_domains == SEARCH_MAX_DOMAINS || n == 0 || n >= SEARCH_MAX_NAME)
        return;
    memcpy(conf->domains[conf->n_domains], p, n);
    conf->domains[conf->n_domains][n] = '\0';
    conf->n_domains++;
}

/* Splits the words of [p, end) into the domain list. */
static void set_domains(struct search_conf *conf, const char *p, const char *end, bool first_only) {
    conf->n_domains = 0;
    while (p < end) {
        while (p < end && is_blank(*p))
            p++;
        const char *w = p;
        while (p < end && !is_blank(*p))
            p++;
        if (p > w) {
            add_domain(conf, w, (size_t)(p - w));
            if (first_only)
                return;
        }
    }
}

static void set_options(struct search_conf *conf, const char *p, const char *end) {
    while (p < end) {
        while (p < end && is_blank(*p))
            p++;
        const char *w = p;
        while (p < end && !is_blank(*p))
            p++;
        size_t n = (size_t)(p - w);
        if (n > 6 && memcmp(w, "ndots:", 6) == 0) {
            /* atoi(), then as glibc stores it: capped at 15. */
            char num[16];
            size_t k = n - 6 < sizeof(num) - 1 ? n - 6 : sizeof(num) - 1;
            memcpy(num, w + 6, k);
            num[k] = '\0';
            int v = atoi(num);
            conf->ndots = v < 0 ? 0 : v > SEARCH_MAX_NDOTS ? SEARCH_MAX_NDOTS : (unsigned)v;
        } else if (n == 12 && memcmp(w, "no-tld-query", 12) == 0) {
            conf->no_tld_query = true;
        }
    }
}

void search_conf_parse(struct search_conf *conf, const char *text, size_t len,
                       const char *hostname) {
    conf->ndots = 1;
    conf->no_tld_query = false;
    conf->n_domains = 0;
    bool have_list = false;
    const char *p = text, *end = text ? text + len : NULL;
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        size_t n = (size_t)(eol - p);
        /* A NUL ends the line for fgets-style readers too. */
        const char *nul = memchr(p, '\0', n);
        if (nul)
            n = (size_t)(nul - p);
        if (n == 0 || p[0] == '#' || p[0] == ';') {
            /* comment or empty */
        } else if (match(p, n, "domain") || match(p, n, "search")) {
            bool domain = p[0] == 'd';
            const char *q = p + 6;
            while (q < p + n && is_blank(*q))
                q++;
            /* A keyword with nothing after it changes nothing. */
            if (q < p + n) {
                set_domains(conf, q, p + n, domain);
                have_list = true;
            }
        } else if (match(p, n, "options")) {
            set_options(conf, p + 7, p + n);
        }
        p = nl ? nl + 1 : end;
    }
    if (!have_list && hostname) {
        const char *dot = strchr(hostname, '.');
        if (dot && dot[1])
            add_domain(conf, dot + 1, strlen(dot + 1));
    }
}

void search_conf_override(struct search_conf *conf, bool search_set, char *const *search,
                          size_t n_search, int ndots) {
    if (search_set) {
        conf->n_domains = 0;
        for (size_t i = 0; i < n_search; i++)
            add_domain(conf, search[i], strlen(search[i]));
    }
    if (ndots >= 0)
        conf->ndots = ndots > SEARCH_MAX_NDOTS ? SEARCH_MAX_NDOTS : (unsigned)ndots;
}

bool search_conf_equal(const struct search_conf *a, const struct search_conf *b) {
    if (a->ndots != b->ndots || a->no_tld_query != b->no_tld_query || a->n_domains != b->n_domains)
        return false;
    for (size_t i = 0; i < a->n_domains; i++)
        if (strcmp(a->domains[i], b->domains[i]) != 0)
            return false;
    return true;
}

void search_begin(struct search_iter *it, const struct search_conf *conf, const char *name) {
    size_t n = strlen(name);
    *it = (struct search_iter){.conf = conf, .name = name, .saved = -1, .last = SEARCH_NXDOMAIN};
    for (size_t i = 0; i < n; i++)
        it->dots += name[i] == '.';
    it->trailing_dot = n > 0 && name[n - 1] == '.';
}

/* name + "." + domain into buf; false when glibc would call it too long. */
static bool join(const char *name, const char *domain, char buf[SEARCH_MAX_NAME]) {
    size_t a = strlen(name), b = strlen(domain);
    if (a + 1 + b >= SEARCH_MAX_NAME)
        return false;
    memcpy(buf, name, a);
    buf[a] = '.';
    memcpy(buf + a + 1, domain, b + 1);
    return true;
}

/* The name as is into buf; false when glibc's res_querydomain refuses it:
 * its length less one must be below MAXDNAME - 1, which also refuses the
 * empty name (the subtraction wraps). */
static bool emit_as_is(const struct search_iter *it, char buf[SEARCH_MAX_NAME]) {
    size_t n = strlen(it->name);
    if (n == 0 || n - 1 >= SEARCH_MAX_NAME - 1)
        return false;
    memcpy(buf, it->name, n + 1);
    return true;
}

bool search_next(struct search_iter *it, char buf[SEARCH_MAX_NAME]) {
    for (;;) {
        switch (it->phase) {
        case PHASE_START:
            if (it->dots >= it->conf->ndots || it->trailing_dot) {
                it->phase = PHASE_AS_IS_FIRST;
                if (emit_as_is(it, buf))
                    return true;
                search_report(it, SEARCH_NORECOVERY);
                continue;
            }
            it->phase = PHASE_LIST;
            continue;
        case PHASE_LIST: {
            if (it->list_done || it->found || it->idx >= it->conf->n_domains) {
                it->phase = PHASE_AS_IS_LAST;
                continue;
            }
            const char *d = it->conf->domains[it->idx++];
            /* "name." + "." would be "name..": a leading dot is dropped,
             * and the root ("." or "") makes "name." */
            if (d[0] == '.')
                d++;
            if (d[0] == '\0')
                it->root_on_list = true;
            it->searched = true;
            if (join(it->name, d, buf))
                return true;
            search_report(it, SEARCH_NORECOVERY);
            continue;
        }
        case PHASE_AS_IS_LAST:
            it->phase = PHASE_DONE;
            if (it->found)
                return false;
            if ((it->dots || !it->searched || !it->conf->no_tld_query) &&
                !(it->tried_as_is || it->root_on_list)) {
                if (emit_as_is(it, buf))
                    return true;
                search_report(it, SEARCH_NORECOVERY);
            }
            return false;
        default:
            return false;
        }
    }
}

void search_report(struct search_iter *it, enum search_outcome o) {
    it->last = (int)o;
    if (o == SEARCH_FOUND) {
        it->found = true;
        it->phase = PHASE_DONE;
        return;
    }
    switch (it->phase) {
    case PHASE_AS_IS_FIRST:
        if (it->trailing_dot) {
            it->phase = PHASE_DONE;
            return;
        }
        it->saved = (int)o;
        it->tried_as_is = true;
        /* With the default options (RES_DEFNAMES | RES_DNSRCH) a name
         * without a trailing dot always goes on to the list. */
        it->phase = PHASE_LIST;
        return;
    case PHASE_LIST:
        if (o == SEARCH_NODATA)
            it->got_nodata = true;
        else if (o == SEARCH_SERVFAIL)
            it->got_servfail = true;
        else if (o != SEARCH_NXDOMAIN)
            it->list_done = true;
        return;
    default:
        return;
    }
}

unsigned search_outcome_status(int o) {
    switch (o) {
    case SEARCH_NXDOMAIN:
        return IPC_STATUS_NXDOMAIN;
    case SEARCH_NODATA:
        return IPC_STATUS_NODATA;
    case SEARCH_SERVFAIL:
    case SEARCH_TRYAGAIN:
        return IPC_STATUS_TRYAGAIN;
    case SEARCH_FOUND:
        return IPC_STATUS_OK;
    default:
        /* res_search failed with NO_RECOVERY: NOTFOUND for nss_dns. */
        return IPC_STATUS_NOTFOUND_NORECOVERY;
    }
}

static unsigned search_status_h(const struct search_iter *it) {
    if (it->saved >= 0)
        return search_outcome_status(it->saved);
    if (it->got_nodata)
        return IPC_STATUS_NODATA;
    if (it->got_servfail)
        return IPC_STATUS_TRYAGAIN;
    return search_outcome_status(it->last);
}

unsigned search_status(const struct search_iter *it) {
    /* glibc takes h_errno from the rule above but the NSS status from how
     * the last name asked fared: "try again" over an answered last name is
     * NOTFOUND with h_errno TRY_AGAIN. */
    unsigned st = search_status_h(it);
    if (st == IPC_STATUS_TRYAGAIN && (it->last == SEARCH_NXDOMAIN || it->last == SEARCH_NODATA))
        return IPC_STATUS_NOTFOUND_TRYAGAIN;
    return st;
}

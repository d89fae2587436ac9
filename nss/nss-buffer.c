/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nss-buffer.c: a bump allocator over the caller's buffer, run twice: once
 * to measure (nothing written), once to fill. The first pass decides ERANGE,
 * so a too-small buffer never holds half an answer.
 */
#include "nss-buffer.h"

#include <errno.h>
#include <limits.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

struct bump {
    char *base;
    size_t used;
    size_t cap;
    bool measure; /* true: count only, never dereference */
};

/* Returns a pointer to size bytes aligned to align, or NULL when out of room. */
static void *bump_alloc(struct bump *b, size_t size, size_t align) {
    uintptr_t at = (uintptr_t)b->base + b->used;
    size_t pad = (align - at % align) % align;
    if (pad > b->cap - b->used || size > b->cap - b->used - pad)
        return NULL;
    void *p = b->base + b->used + pad;
    b->used += pad + size;
    return p;
}

static char *bump_name(struct bump *b, const char *s, size_t len) {
    char *p = bump_alloc(b, len + 1, 1);
    if (p && !b->measure) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

static int family_to_af(uint8_t family) {
    return family == IPC_AF_INET ? AF_INET : AF_INET6;
}

static size_t count_addrs(const struct ipc_reply_view *v, int af) {
    const uint8_t *cur = v->addrs;
    size_t n = 0;
    for (unsigned i = 0; i < v->n_addrs; i++) {
        uint8_t family;
        (void)ipc_reply_addr(&cur, &family);
        if (af == AF_UNSPEC || family_to_af(family) == af)
            n++;
    }
    return n;
}

/* One pass of hostent packing; returns false when the buffer ran out. The
 * addresses are the view's of family af, or only own (own_len bytes). */
static bool fill_hostent(struct bump *b, const struct ipc_reply_view *v, int af, const void *own,
                         size_t own_len, struct hostent *h) {
    size_t alen = own ? own_len : af == AF_INET ? 4 : 16;
    size_t naddr = own ? 1 : count_addrs(v, af);
    char *name = bump_name(b, v->canon.p, v->canon.len);
    char **aliases = bump_alloc(b, (v->n_aliases + 1) * sizeof(char *), alignof(char *));
    if (!name || !aliases)
        return false;
    const uint8_t *cur = v->aliases;
    for (unsigned i = 0; i < v->n_aliases; i++) {
        struct ipc_name_ref a = ipc_reply_alias(&cur);
        char *s = bump_name(b, a.p, a.len);
        if (!s)
            return false;
        if (!b->measure)
            aliases[i] = s;
    }
    char **addrs = bump_alloc(b, (naddr + 1) * sizeof(char *), alignof(char *));
    char *data = bump_alloc(b, naddr * alen, alignof(uint32_t));
    if (!addrs || (naddr && !data))
        return false;
    if (b->measure)
        return true;
    aliases[v->n_aliases] = NULL;
    cur = v->addrs;
    size_t k = 0;
    if (own) {
        memcpy(data, own, own_len);
        addrs[k++] = data;
    }
    for (unsigned i = 0; !own && i < v->n_addrs; i++) {
        uint8_t family;
        const uint8_t *a = ipc_reply_addr(&cur, &family);
        if (family_to_af(family) != af)
            continue;
        memcpy(data + k * alen, a, alen);
        addrs[k] = data + k * alen;
        k++;
    }
    addrs[k] = NULL;
    h->h_name = name;
    h->h_aliases = aliases;
    h->h_addrtype = af;
    h->h_length = (int)alen;
    h->h_addr_list = addrs;
    return true;
}

static int pack_hostent(const struct ipc_reply_view *v, int af, const void *own, size_t own_len,
                        struct hostent *ret_host, char *buf, size_t buflen) {
    struct bump m = {.base = buf, .cap = buflen, .measure = true};
    if (!fill_hostent(&m, v, af, own, own_len, NULL))
        return -ERANGE;
    struct bump w = {.base = buf, .cap = buflen};
    struct hostent h;
    bool ok = fill_hostent(&w, v, af, own, own_len, &h);
    (void)ok; /* the measuring pass already proved it fits */
    *ret_host = h;
    return 0;
}

int nss_pack_hostent(const struct ipc_reply_view *v, int af, struct hostent *ret_host, char *buf,
                     size_t buflen) {
    if (v->status != IPC_STATUS_OK || count_addrs(v, af) == 0)
        return -ENOENT;
    return pack_hostent(v, af, NULL, 0, ret_host, buf, buflen);
}

int nss_pack_hostent_addr(const struct ipc_reply_view *v, int af, const void *addr, size_t len,
                          struct hostent *ret_host, char *buf, size_t buflen) {
    if (v->status != IPC_STATUS_OK || !addr || len == 0 || len > INT_MAX)
        return -ENOENT;
    return pack_hostent(v, af, addr, len, ret_host, buf, buflen);
}

static bool fill_gaih(struct bump *b, const struct ipc_reply_view *v,
                      struct gaih_addrtuple **ret_first) {
    char *name = bump_name(b, v->canon.p, v->canon.len);
    struct gaih_addrtuple *tuples =
        bump_alloc(b, v->n_addrs * sizeof(struct gaih_addrtuple), alignof(struct gaih_addrtuple));
    if (!name || !tuples)
        return false;
    if (b->measure)
        return true;
    const uint8_t *cur = v->addrs;
    for (unsigned i = 0; i < v->n_addrs; i++) {
        uint8_t family;
        const uint8_t *a = ipc_reply_addr(&cur, &family);
        struct gaih_addrtuple *t = &tuples[i];
        memset(t, 0, sizeof(*t));
        t->next = i + 1 < v->n_addrs ? &tuples[i + 1] : NULL;
        t->name = name;
        t->family = family_to_af(family);
        memcpy(t->addr, a, ipc_addr_len(family));
    }
    *ret_first = tuples;
    return true;
}

int nss_pack_gaih(const struct ipc_reply_view *v, struct gaih_addrtuple **ret_pat, char *buf,
                  size_t buflen) {
    if (v->status != IPC_STATUS_OK || v->n_addrs == 0)
        return -ENOENT;
    struct bump m = {.base = buf, .cap = buflen, .measure = true};
    struct gaih_addrtuple *first = NULL;
    if (!fill_gaih(&m, v, &first))
        return -ERANGE;
    struct bump w = {.base = buf, .cap = buflen};
    (void)fill_gaih(&w, v, &first);
    /* glibc may hand us a tuple of its own to fill first. */
    if (*ret_pat)
        **ret_pat = *first;
    else
        *ret_pat = first;
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_nss_buffer.c: unit tests for packing a daemon reply into the caller's
 * buffer (nss/nss-buffer.c).
 *
 * Replies are made with the real IPC builder and decoded with the real
 * decoder, as the module sees them. Each case then walks buflen from 0 up
 * over a freshly malloc'ed buffer of exactly buflen bytes, poisoned with
 * 0xAA: every size below the first that fits must give -ERANGE with the
 * buffer and the output untouched; the first size that fits must give
 * exactly the right answer, every pointer inside the buffer. An overrun is an
 * AddressSanitizer error; without ASan, a guard zone after the buffer catches
 * it.
 */
#include "ipc.h"
#include "nss-buffer.h"

#include <check.h>

#include "check-run.h"
#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define REPLY_CAP (IPC_HEADER_LEN + IPC_MAX_REPLY_BODY)
#define POISON    0xAA
#define GUARD     64
/* No reply the contract allows needs more than this (checked below). */
#define WALK_LIMIT (16 * 1024 * 1024)
/* Check records every passing ck_assert (a write each); the per-record
 * checks of the largest replies run millions of times, so they report only
 * when they fail. */
#define EXPECT(c)                                                                                  \
    do {                                                                                           \
        if (!(c))                                                                                  \
            ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #c);                                     \
    } while (0)
/* Sizes are walked one by one up to here; past it (the largest replies are
 * over a megabyte) the first size that fits is found by doubling and then
 * bisecting, every probe checked the same way. */
#define WALK_STEP_LIMIT 4096

/* The first buflen for which probe() says it fits (probe returns true), as
 * a walk from 0 upward would find it: sizes below fit never, sizes above
 * always (the packers measure first, then fill). */
static size_t first_fit(bool (*probe)(void *ctx, size_t buflen), void *ctx) {
    size_t lo = 0, hi;
    for (hi = 0; hi <= WALK_STEP_LIMIT; hi++)
        if (probe(ctx, hi))
            return hi;
    lo = hi - 1; /* known not to fit */
    while (!probe(ctx, hi)) {
        lo = hi;
        hi *= 2;
        ck_assert_msg(hi <= WALK_LIMIT, "never fit in %d bytes", WALK_LIMIT);
    }
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (probe(ctx, mid))
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

/* ---- what a reply holds, and the decoded reply made from it ---- */

struct spec {
    char canon[IPC_MAX_NAME + 1];
    char aliases[IPC_MAX_ALIASES][IPC_MAX_NAME + 1];
    size_t n_aliases;
    struct ipc_addr addrs[IPC_MAX_ADDRS];
    size_t n_addrs;
    /* Reverse lookups: the caller's address, packed instead of addrs. */
    const uint8_t *own;
    size_t own_len;
};

static struct spec *spec_new(const char *canon) {
    struct spec *s = calloc(1, sizeof(*s));
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_le(strlen(canon), IPC_MAX_NAME);
    strcpy(s->canon, canon);
    return s;
}

static void spec_alias(struct spec *s, const char *alias) {
    ck_assert_uint_lt(s->n_aliases, IPC_MAX_ALIASES);
    ck_assert_uint_le(strlen(alias), IPC_MAX_NAME);
    strcpy(s->aliases[s->n_aliases++], alias);
}

/* 10.0.x.y and 2001:db8::x:y, numbered so every address is distinct. */
static void spec_addr(struct spec *s, uint8_t family, unsigned i) {
    ck_assert_uint_lt(s->n_addrs, IPC_MAX_ADDRS);
    struct ipc_addr *a = &s->addrs[s->n_addrs++];
    memset(a, 0, sizeof(*a));
    a->family = family;
    if (family == IPC_AF_INET) {
        a->addr[0] = 10;
        a->addr[2] = (uint8_t)(i >> 8);
        a->addr[3] = (uint8_t)i;
    } else {
        a->addr[0] = 0x20;
        a->addr[1] = 0x01;
        a->addr[2] = 0x0d;
        a->addr[3] = 0xb8;
        a->addr[14] = (uint8_t)(i >> 8);
        a->addr[15] = (uint8_t)i;
    }
}

/* n name octets in labels of up to 63, different for each seed. */
static const char *long_name(char *out, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++)
        out[i] = (i % 64 == 63) ? '.' : (char)('a' + (i + seed) % 26);
    out[n] = '\0';
    return out;
}

struct reply {
    uint8_t *frame; /* exactly the frame's bytes; the view points into it */
    struct ipc_reply_view v;
};

static void reply_from_spec(struct reply *r, const struct spec *s, uint8_t status) {
    uint8_t *tmp = malloc(REPLY_CAP);
    ck_assert_ptr_nonnull(tmp);
    struct ipc_reply_builder b;
    ck_assert_int_eq(
        ipc_reply_begin(&b, tmp, REPLY_CAP, status, 300, status == IPC_STATUS_OK ? s->canon : NULL),
        0);
    if (status == IPC_STATUS_OK) {
        for (size_t i = 0; i < s->n_aliases; i++)
            ck_assert_int_eq(ipc_reply_add_alias(&b, s->aliases[i]), 0);
        for (size_t i = 0; i < s->n_addrs; i++)
            ck_assert_int_eq(ipc_reply_add_addr(&b, s->addrs[i].family, s->addrs[i].addr), 0);
    }
    size_t len = ipc_reply_end(&b);
    r->frame = malloc(len);
    ck_assert_ptr_nonnull(r->frame);
    memcpy(r->frame, tmp, len);
    free(tmp);

    uint8_t op = 0;
    int body = ipc_header_decode(r->frame, &op, IPC_MAX_REPLY_BODY);
    ck_assert_int_eq(body, (int)(len - IPC_HEADER_LEN));
    ck_assert_uint_eq(op, IPC_OP_REPLY);
    ck_assert_int_eq(ipc_reply_decode(r->frame + IPC_HEADER_LEN, (size_t)body, &r->v), 0);
}

static void reply_free(struct reply *r) {
    free(r->frame);
}

/* ---- buffer helpers ---- */

static bool all_poison(const char *p, size_t n) {
    static char ref[4096];
    if ((unsigned char)ref[0] != POISON)
        memset(ref, POISON, sizeof(ref));
    for (size_t off = 0; off < n; off += sizeof(ref)) {
        size_t k = n - off < sizeof(ref) ? n - off : sizeof(ref);
        if (memcmp(p + off, ref, k) != 0)
            return false;
    }
    return true;
}

/* True when [p, p + n) lies inside [buf, buf + buflen). */
static bool inside(const void *p, size_t n, const char *buf, size_t buflen) {
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)buf;
    return a >= b && n <= buflen && a - b <= buflen - n;
}

static bool aligned(const void *p, size_t align) {
    return (uintptr_t)p % align == 0;
}

/* A heap block of exactly misalign + buflen bytes, so that ASan's redzone
 * starts right at buf + buflen; *ret_buf is misalign bytes in, poisoned. */
static char *poisoned(size_t misalign, size_t buflen, char **ret_buf) {
    char *mem = malloc(misalign + buflen);
    ck_assert(mem != NULL || misalign + buflen == 0);
    *ret_buf = mem ? mem + misalign : NULL;
    memset(*ret_buf, POISON, buflen);
    return mem;
}

static int af_of(uint8_t family) {
    return family == IPC_AF_INET ? AF_INET : AF_INET6;
}

static size_t count_family(const struct spec *s, int af) {
    size_t n = 0;
    for (size_t i = 0; i < s->n_addrs; i++)
        n += af_of(s->addrs[i].family) == af;
    return n;
}

/* ---- hostent ---- */

/* The addresses the hostent must carry, and their length. */
static size_t expected_addrs(const struct spec *s, int af, size_t *ret_alen) {
    *ret_alen = s->own ? s->own_len : af == AF_INET ? 4 : 16;
    return s->own ? 1 : count_family(s, af);
}

static int pack(const struct reply *r, int af, const struct spec *s, struct hostent *h, char *buf,
                size_t buflen) {
    return s->own ? nss_pack_hostent_addr(&r->v, af, s->own, s->own_len, h, buf, buflen)
                  : nss_pack_hostent(&r->v, af, h, buf, buflen);
}

static void check_hostent(const struct hostent *h, int af, const struct spec *s, const char *buf,
                          size_t buflen) {
    size_t alen;
    const size_t n = expected_addrs(s, af, &alen);

    EXPECT((h->h_addrtype) == (af));
    EXPECT((h->h_length) == ((int)alen));

    EXPECT((h->h_name) != NULL);
    EXPECT(inside(h->h_name, strlen(s->canon) + 1, buf, buflen));
    EXPECT(strcmp(h->h_name, s->canon) == 0);

    EXPECT((h->h_aliases) != NULL);
    EXPECT(aligned(h->h_aliases, alignof(char *)));
    EXPECT(inside(h->h_aliases, (s->n_aliases + 1) * sizeof(char *), buf, buflen));
    for (size_t i = 0; i < s->n_aliases; i++) {
        EXPECT((h->h_aliases[i]) != NULL);
        EXPECT(inside(h->h_aliases[i], strlen(s->aliases[i]) + 1, buf, buflen));
        EXPECT(strcmp(h->h_aliases[i], s->aliases[i]) == 0);
    }
    EXPECT((h->h_aliases[s->n_aliases]) == NULL);

    EXPECT((h->h_addr_list) != NULL);
    EXPECT(aligned(h->h_addr_list, alignof(char *)));
    EXPECT(inside(h->h_addr_list, (n + 1) * sizeof(char *), buf, buflen));
    size_t k = 0;
    for (size_t i = 0; i < (s->own ? 1 : s->n_addrs); i++) {
        if (!s->own && af_of(s->addrs[i].family) != af)
            continue;
        const char *a = h->h_addr_list[k];
        EXPECT((a) != NULL);
        EXPECT(inside(a, alen, buf, buflen));
        EXPECT(aligned(a, alignof(uint32_t))); /* read as struct in_addr/in6_addr */
        EXPECT(memcmp(a, s->own ? s->own : s->addrs[i].addr, alen) == 0);
        k++;
    }
    EXPECT((k) == (n));
    EXPECT((h->h_addr_list[n]) == NULL);
}

/* The payload without padding: no buffer smaller than this can hold it, and
 * a buffer that wastes more than the alignment padding is a bug too. */
static void check_hostent_size(size_t first, int af, const struct spec *s) {
    size_t alen;
    const size_t n = expected_addrs(s, af, &alen);
    size_t raw = strlen(s->canon) + 1 + (s->n_aliases + 1) * sizeof(char *) +
                 (n + 1) * sizeof(char *) + n * alen;
    for (size_t i = 0; i < s->n_aliases; i++)
        raw += strlen(s->aliases[i]) + 1;
    ck_assert_uint_ge(first, raw);
    ck_assert_uint_le(first, raw + 2 * (alignof(char *) - 1) + (alignof(uint32_t) - 1));
}

struct hostent_walk {
    const struct reply *r;
    int af;
    const struct spec *s;
    size_t misalign;
};

/* One size: ERANGE leaves everything untouched; a fit is the exact answer. */
static bool probe_hostent(void *ctx, size_t buflen) {
    const struct hostent_walk *w = ctx;
    char *buf;
    char *mem = poisoned(w->misalign, buflen, &buf);
    struct hostent h, before;
    memset(&h, 0x5A, sizeof(h));
    before = h;

    int ret = pack(w->r, w->af, w->s, &h, buf, buflen);
    if (ret == -ERANGE) {
        ck_assert_mem_eq(&h, &before, sizeof(h));
        ck_assert_msg(all_poison(buf, buflen), "buflen %zu: written before ERANGE", buflen);
        free(mem);
        return false;
    }
    ck_assert_msg(ret == 0, "buflen %zu: %d", buflen, ret);
    check_hostent(&h, w->af, w->s, buf, buflen);
    free(mem);
    return true;
}

/* Walks buflen from 0 up; returns the first size that fits. */
static size_t walk_hostent(const struct reply *r, int af, const struct spec *s, size_t misalign) {
    struct hostent_walk w = {r, af, s, misalign};
    size_t first = first_fit(probe_hostent, &w);
    check_hostent_size(first, af, s);
    return first;
}

/* Every larger buffer gives the same answer and leaves what lies beyond buflen alone. */
static void check_hostent_larger(const struct reply *r, int af, const struct spec *s,
                                 size_t first) {
    for (size_t buflen = first; buflen <= first + 2 * alignof(max_align_t); buflen++) {
        char *buf = malloc(buflen + GUARD);
        ck_assert_ptr_nonnull(buf);
        memset(buf, POISON, buflen + GUARD);
        struct hostent h;
        ck_assert_int_eq(pack(r, af, s, &h, buf, buflen), 0);
        check_hostent(&h, af, s, buf, buflen);
        ck_assert(all_poison(buf + buflen, GUARD));
        free(buf);
    }
}

static void pack_hostent_case(const struct spec *s, int af) {
    struct reply r;
    reply_from_spec(&r, s, IPC_STATUS_OK);
    size_t first = walk_hostent(&r, af, s, 0);
    check_hostent_larger(&r, af, s, first);
    reply_free(&r);
}

static void expect_hostent_enoent(const struct reply *r, int af) {
    const size_t sizes[] = {0, 1, 64, 4096};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char *buf;
        char *mem = poisoned(0, sizes[i], &buf);
        struct hostent h, before;
        memset(&h, 0x5A, sizeof(h));
        before = h;
        ck_assert_int_eq(nss_pack_hostent(&r->v, af, &h, buf, sizes[i]), -ENOENT);
        ck_assert_mem_eq(&h, &before, sizeof(h));
        ck_assert(all_poison(buf, sizes[i]));
        free(mem);
    }
}

START_TEST(nss_pack_hostent_ipv4_without_aliases) {
    struct spec *s = spec_new("a.example");
    spec_addr(s, IPC_AF_INET, 1);
    pack_hostent_case(s, AF_INET);
    spec_addr(s, IPC_AF_INET, 2);
    pack_hostent_case(s, AF_INET);
    free(s);
}
END_TEST

START_TEST(nss_pack_hostent_ipv4_with_aliases) {
    struct spec *s = spec_new("host.example.org");
    spec_alias(s, "www.example.org");
    spec_alias(s, "web.example.org");
    spec_alias(s, "w");
    spec_addr(s, IPC_AF_INET, 1);
    spec_addr(s, IPC_AF_INET, 2);
    pack_hostent_case(s, AF_INET);
    free(s);
}
END_TEST

START_TEST(nss_pack_hostent_ipv6_without_aliases) {
    struct spec *s = spec_new("six.example");
    spec_addr(s, IPC_AF_INET6, 1);
    pack_hostent_case(s, AF_INET6);
    spec_addr(s, IPC_AF_INET6, 2);
    pack_hostent_case(s, AF_INET6);
    free(s);
}
END_TEST

START_TEST(nss_pack_hostent_ipv6_with_aliases) {
    struct spec *s = spec_new("six.example");
    spec_alias(s, "alias-one.example");
    spec_alias(s, "b.example");
    spec_addr(s, IPC_AF_INET6, 1);
    spec_addr(s, IPC_AF_INET6, 2);
    spec_addr(s, IPC_AF_INET6, 3);
    pack_hostent_case(s, AF_INET6);
    free(s);
}
END_TEST

START_TEST(nss_pack_hostent_forty_addresses) {
    struct spec *s = spec_new("forty.example");
    spec_alias(s, "many.example");
    for (unsigned i = 0; i < 40; i++) {
        spec_addr(s, IPC_AF_INET, i);
        if (i % 5 == 0)
            spec_addr(s, IPC_AF_INET6, i);
    }
    ck_assert_uint_eq(count_family(s, AF_INET), 40);
    ck_assert_uint_eq(count_family(s, AF_INET6), 8);
    pack_hostent_case(s, AF_INET);
    pack_hostent_case(s, AF_INET6);
    free(s);
}
END_TEST

START_TEST(nss_pack_hostent_keeps_only_the_requested_family) {
    /* interleaved, starting and ending with the other family: each list
     * keeps its own family in wire order */
    struct spec *s = spec_new("dual.example");
    spec_alias(s, "d.example");
    spec_addr(s, IPC_AF_INET6, 1);
    spec_addr(s, IPC_AF_INET, 1);
    spec_addr(s, IPC_AF_INET6, 2);
    spec_addr(s, IPC_AF_INET6, 3);
    spec_addr(s, IPC_AF_INET, 2);
    spec_addr(s, IPC_AF_INET, 3);
    spec_addr(s, IPC_AF_INET6, 4);
    pack_hostent_case(s, AF_INET);
    pack_hostent_case(s, AF_INET6);
    free(s);
}
END_TEST

START_TEST(nss_pack_hostent_largest_reply) {
    char name[IPC_MAX_NAME + 1];
    struct spec *s = spec_new(long_name(name, IPC_MAX_NAME, 0));
    for (unsigned i = 0; i < IPC_MAX_ALIASES; i++)
        spec_alias(s, long_name(name, IPC_MAX_NAME, i + 1));
    for (unsigned i = 0; i < IPC_MAX_ADDRS; i++)
        spec_addr(s, i % 2 ? IPC_AF_INET : IPC_AF_INET6, i);
    pack_hostent_case(s, AF_INET);
    pack_hostent_case(s, AF_INET6);
    free(s);
}
END_TEST

START_TEST(nss_pack_hostent_enoent_without_an_address_of_the_family) {
    struct reply r;
    struct spec *s = spec_new("v6only.example");
    spec_alias(s, "x.example");
    spec_addr(s, IPC_AF_INET6, 1);
    reply_from_spec(&r, s, IPC_STATUS_OK);
    expect_hostent_enoent(&r, AF_INET);
    reply_free(&r);
    free(s);

    s = spec_new("v4only.example");
    spec_addr(s, IPC_AF_INET, 1);
    spec_addr(s, IPC_AF_INET, 2);
    reply_from_spec(&r, s, IPC_STATUS_OK);
    expect_hostent_enoent(&r, AF_INET6);
    reply_free(&r);

    /* OK with a name and no address at all */
    s->n_addrs = 0;
    reply_from_spec(&r, s, IPC_STATUS_OK);
    expect_hostent_enoent(&r, AF_INET);
    expect_hostent_enoent(&r, AF_INET6);
    reply_free(&r);

    /* a verdict that is not OK is never packed */
    for (uint8_t st = IPC_STATUS_NXDOMAIN; st <= IPC_STATUS_MAX_; st++) {
        reply_from_spec(&r, s, st);
        expect_hostent_enoent(&r, AF_INET);
        expect_hostent_enoent(&r, AF_INET6);
        reply_free(&r);
    }
    free(s);
}
END_TEST

/* ---- hostent of a reverse lookup: the caller's address, any length ---- */

START_TEST(nss_pack_hostent_addr_carries_the_callers_bytes_and_length) {
    /* The daemon echoes the 4 or 16 bytes it looked up; the hostent carries
     * what the caller passed, as nss_dns: AF_INET with 4, 5 and 16 bytes,
     * AF_INET6 with 16 and 17, and one far longer than any slot. */
    struct spec *s = spec_new("both.test");
    spec_addr(s, IPC_AF_INET, 2);
    uint8_t addr[300];
    for (size_t i = 0; i < sizeof(addr); i++)
        addr[i] = (uint8_t)(i * 7 + 1);
    s->own = addr;
    const size_t lens4[] = {4, 5, 16, 300};
    const size_t lens6[] = {16, 17, 300};
    for (size_t i = 0; i < sizeof(lens4) / sizeof(lens4[0]); i++) {
        s->own_len = lens4[i];
        pack_hostent_case(s, AF_INET);
    }
    for (size_t i = 0; i < sizeof(lens6) / sizeof(lens6[0]); i++) {
        s->own_len = lens6[i];
        pack_hostent_case(s, AF_INET6);
    }
    /* aliases, and no address in the reply at all, change nothing */
    spec_alias(s, "alias.test");
    s->n_addrs = 0;
    s->own_len = 16;
    pack_hostent_case(s, AF_INET6);
    free(s);
}
END_TEST

START_TEST(nss_pack_hostent_addr_enoent_without_an_answer) {
    struct spec *s = spec_new("x.test");
    uint8_t addr[16] = {192, 0, 2, 2};
    struct reply r;
    for (uint8_t st = IPC_STATUS_NXDOMAIN; st <= IPC_STATUS_MAX_; st++) {
        reply_from_spec(&r, s, st);
        char buf[256];
        memset(buf, POISON, sizeof(buf));
        struct hostent h, before;
        memset(&h, 0x5A, sizeof(h));
        before = h;
        ck_assert_int_eq(nss_pack_hostent_addr(&r.v, AF_INET, addr, 4, &h, buf, sizeof(buf)),
                         -ENOENT);
        ck_assert_mem_eq(&h, &before, sizeof(h));
        ck_assert(all_poison(buf, sizeof(buf)));
        reply_free(&r);
    }
    free(s);
}
END_TEST

START_TEST(nss_pack_hostent_aligns_in_a_misaligned_buffer) {
    struct spec *s = spec_new("odd.example");
    spec_alias(s, "ab.example");
    spec_alias(s, "c");
    spec_addr(s, IPC_AF_INET, 1);
    spec_addr(s, IPC_AF_INET6, 1);
    spec_addr(s, IPC_AF_INET, 2);
    spec_addr(s, IPC_AF_INET6, 2);
    struct reply r;
    reply_from_spec(&r, s, IPC_STATUS_OK);
    for (size_t misalign = 1; misalign < 2 * alignof(max_align_t); misalign++) {
        (void)walk_hostent(&r, AF_INET, s, misalign);
        (void)walk_hostent(&r, AF_INET6, s, misalign);
    }
    /* the caller's address of an odd length, as a reverse lookup packs it */
    static const uint8_t own[17] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2, [16] = 0xee};
    s->own = own;
    for (size_t misalign = 1; misalign < 2 * alignof(max_align_t); misalign++) {
        s->own_len = 5;
        (void)walk_hostent(&r, AF_INET, s, misalign);
        s->own_len = 17;
        (void)walk_hostent(&r, AF_INET6, s, misalign);
    }
    reply_free(&r);
    free(s);
}
END_TEST

/* ---- gaih_addrtuple ---- */

/* head is what *pat holds after the call; caller is the tuple *pat pointed to
 * before it, or NULL. */
static void check_gaih(const struct gaih_addrtuple *head, const struct gaih_addrtuple *caller,
                       const struct spec *s, const char *buf, size_t buflen) {
    if (caller)
        ck_assert_ptr_eq(head, caller);
    const struct gaih_addrtuple *t = head;
    for (size_t i = 0; i < s->n_addrs; i++) {
        ck_assert_msg(t != NULL, "chain ends after %zu of %zu", i, s->n_addrs);
        if (t != caller) {
            EXPECT(inside(t, sizeof(*t), buf, buflen));
            EXPECT(aligned(t, alignof(struct gaih_addrtuple)));
        }
        EXPECT((t->name) != NULL);
        EXPECT(inside(t->name, strlen(s->canon) + 1, buf, buflen));
        EXPECT(strcmp(t->name, s->canon) == 0);

        const struct ipc_addr *want = &s->addrs[i];
        const size_t alen = ipc_addr_len(want->family);
        EXPECT((t->family) == (af_of(want->family)));
        EXPECT(memcmp(t->addr, want->addr, alen) == 0);
        static const uint8_t zero[16];
        EXPECT(memcmp((const uint8_t *)t->addr + alen, zero, sizeof(t->addr) - alen) == 0);
        EXPECT((t->scopeid) == (0));
        t = t->next;
    }
    EXPECT((t) == NULL);
}

static void check_gaih_size(size_t first, const struct spec *s) {
    size_t raw = strlen(s->canon) + 1 + s->n_addrs * sizeof(struct gaih_addrtuple);
    ck_assert_uint_ge(first, raw);
    ck_assert_uint_le(first, raw + alignof(struct gaih_addrtuple) - 1);
}

struct gaih_walk {
    const struct reply *r;
    const struct spec *s;
    bool preset;
    size_t misalign;
};

static bool probe_gaih(void *ctx, size_t buflen) {
    const struct gaih_walk *w = ctx;
    char *buf;
    char *mem = poisoned(w->misalign, buflen, &buf);
    struct gaih_addrtuple caller, before;
    memset(&caller, 0x5A, sizeof(caller));
    before = caller;
    struct gaih_addrtuple *pat = w->preset ? &caller : NULL;

    int ret = nss_pack_gaih(&w->r->v, &pat, buf, buflen);
    if (ret == -ERANGE) {
        ck_assert_ptr_eq(pat, w->preset ? &caller : NULL);
        ck_assert_mem_eq(&caller, &before, sizeof(caller));
        ck_assert_msg(all_poison(buf, buflen), "buflen %zu: written before ERANGE", buflen);
        free(mem);
        return false;
    }
    ck_assert_msg(ret == 0, "buflen %zu: %d", buflen, ret);
    ck_assert_ptr_nonnull(pat);
    check_gaih(pat, w->preset ? &caller : NULL, w->s, buf, buflen);
    free(mem);
    return true;
}

static size_t walk_gaih(const struct reply *r, const struct spec *s, bool preset, size_t misalign) {
    struct gaih_walk w = {r, s, preset, misalign};
    size_t first = first_fit(probe_gaih, &w);
    check_gaih_size(first, s);
    return first;
}

static void check_gaih_larger(const struct reply *r, const struct spec *s, bool preset,
                              size_t first) {
    for (size_t buflen = first; buflen <= first + 2 * alignof(max_align_t); buflen++) {
        char *buf = malloc(buflen + GUARD);
        ck_assert_ptr_nonnull(buf);
        memset(buf, POISON, buflen + GUARD);
        struct gaih_addrtuple caller;
        memset(&caller, 0x5A, sizeof(caller));
        struct gaih_addrtuple *pat = preset ? &caller : NULL;
        ck_assert_int_eq(nss_pack_gaih(&r->v, &pat, buf, buflen), 0);
        check_gaih(pat, preset ? &caller : NULL, s, buf, buflen);
        ck_assert(all_poison(buf + buflen, GUARD));
        free(buf);
    }
}

static void pack_gaih_case(const struct spec *s) {
    struct reply r;
    reply_from_spec(&r, s, IPC_STATUS_OK);
    for (int preset = 0; preset <= 1; preset++) {
        size_t first = walk_gaih(&r, s, preset, 0);
        check_gaih_larger(&r, s, preset, first);
    }
    reply_free(&r);
}

static void expect_gaih_enoent(const struct reply *r) {
    const size_t sizes[] = {0, 1, 64, 4096};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        for (int preset = 0; preset <= 1; preset++) {
            char *buf;
            char *mem = poisoned(0, sizes[i], &buf);
            struct gaih_addrtuple caller, before;
            memset(&caller, 0x5A, sizeof(caller));
            before = caller;
            struct gaih_addrtuple *pat = preset ? &caller : NULL;
            ck_assert_int_eq(nss_pack_gaih(&r->v, &pat, buf, sizes[i]), -ENOENT);
            ck_assert_ptr_eq(pat, preset ? &caller : NULL);
            ck_assert_mem_eq(&caller, &before, sizeof(caller));
            ck_assert(all_poison(buf, sizes[i]));
            free(mem);
        }
    }
}

START_TEST(nss_pack_gaih_mixed_families) {
    struct spec *s = spec_new("dual.example");
    spec_alias(s, "alias.example"); /* aliases have no place in a tuple */
    spec_addr(s, IPC_AF_INET6, 1);
    spec_addr(s, IPC_AF_INET, 1);
    spec_addr(s, IPC_AF_INET, 2);
    spec_addr(s, IPC_AF_INET6, 2);
    pack_gaih_case(s);
    free(s);
}
END_TEST

START_TEST(nss_pack_gaih_one_address_of_each_family) {
    struct spec *s = spec_new("one.example");
    spec_addr(s, IPC_AF_INET, 7);
    pack_gaih_case(s);
    s->n_addrs = 0;
    spec_addr(s, IPC_AF_INET6, 7);
    pack_gaih_case(s);
    free(s);
}
END_TEST

START_TEST(nss_pack_gaih_fills_the_callers_tuple_first) {
    /* glibc may pass *pat pointing at a tuple of its own: that tuple gets
     * the first address and links on into the buffer; the rest of the
     * chain, names included, lives in the buffer. */
    struct spec *s = spec_new("caller.example");
    spec_addr(s, IPC_AF_INET, 1);
    spec_addr(s, IPC_AF_INET6, 2);
    spec_addr(s, IPC_AF_INET, 3);
    struct reply r;
    reply_from_spec(&r, s, IPC_STATUS_OK);

    size_t first = walk_gaih(&r, s, true, 0);
    char *buf = malloc(first);
    ck_assert_ptr_nonnull(buf);
    memset(buf, POISON, first);
    struct gaih_addrtuple caller;
    memset(&caller, 0x5A, sizeof(caller));
    struct gaih_addrtuple *pat = &caller;
    ck_assert_int_eq(nss_pack_gaih(&r.v, &pat, buf, first), 0);
    ck_assert_ptr_eq(pat, &caller);
    ck_assert_int_eq(caller.family, AF_INET);
    ck_assert(inside(caller.name, strlen(s->canon) + 1, buf, first));
    ck_assert(inside(caller.next, sizeof(*caller.next), buf, first));
    ck_assert_int_eq(caller.next->family, AF_INET6);
    check_gaih(pat, &caller, s, buf, first);
    free(buf);
    reply_free(&r);
    free(s);
}
END_TEST

START_TEST(nss_pack_gaih_forty_addresses) {
    struct spec *s = spec_new("forty.example");
    for (unsigned i = 0; i < 40; i++) {
        spec_addr(s, IPC_AF_INET, i);
        if (i % 5 == 0)
            spec_addr(s, IPC_AF_INET6, i);
    }
    pack_gaih_case(s);
    free(s);
}
END_TEST

START_TEST(nss_pack_gaih_largest_reply) {
    char name[IPC_MAX_NAME + 1];
    struct spec *s = spec_new(long_name(name, IPC_MAX_NAME, 0));
    for (unsigned i = 0; i < IPC_MAX_ALIASES; i++)
        spec_alias(s, long_name(name, IPC_MAX_NAME, i + 1));
    for (unsigned i = 0; i < IPC_MAX_ADDRS; i++)
        spec_addr(s, i % 3 ? IPC_AF_INET : IPC_AF_INET6, i);
    pack_gaih_case(s);
    free(s);
}
END_TEST

START_TEST(nss_pack_gaih_enoent_without_addresses) {
    struct spec *s = spec_new("noaddr.example");
    spec_alias(s, "x.example");
    struct reply r;
    reply_from_spec(&r, s, IPC_STATUS_OK);
    expect_gaih_enoent(&r);
    reply_free(&r);
    for (uint8_t st = IPC_STATUS_NXDOMAIN; st <= IPC_STATUS_MAX_; st++) {
        reply_from_spec(&r, s, st);
        expect_gaih_enoent(&r);
        reply_free(&r);
    }
    free(s);
}
END_TEST

START_TEST(nss_pack_gaih_aligns_in_a_misaligned_buffer) {
    struct spec *s = spec_new("odd.example");
    spec_addr(s, IPC_AF_INET, 1);
    spec_addr(s, IPC_AF_INET6, 1);
    spec_addr(s, IPC_AF_INET, 2);
    struct reply r;
    reply_from_spec(&r, s, IPC_STATUS_OK);
    for (size_t misalign = 1; misalign < 2 * alignof(max_align_t); misalign++) {
        (void)walk_gaih(&r, s, false, misalign);
        (void)walk_gaih(&r, s, true, misalign);
    }
    reply_free(&r);
    free(s);
}
END_TEST

int main(void) {
    const struct check_case cases[] = {
        CHECK_CASE(nss_pack_hostent_ipv4_without_aliases),
        CHECK_CASE(nss_pack_hostent_ipv4_with_aliases),
        CHECK_CASE(nss_pack_hostent_ipv6_without_aliases),
        CHECK_CASE(nss_pack_hostent_ipv6_with_aliases),
        CHECK_CASE(nss_pack_hostent_forty_addresses),
        CHECK_CASE(nss_pack_hostent_keeps_only_the_requested_family),
        CHECK_CASE(nss_pack_hostent_largest_reply),
        CHECK_CASE(nss_pack_hostent_enoent_without_an_address_of_the_family),
        CHECK_CASE(nss_pack_hostent_aligns_in_a_misaligned_buffer),
        CHECK_CASE(nss_pack_hostent_addr_carries_the_callers_bytes_and_length),
        CHECK_CASE(nss_pack_hostent_addr_enoent_without_an_answer),
        CHECK_CASE(nss_pack_gaih_mixed_families),
        CHECK_CASE(nss_pack_gaih_one_address_of_each_family),
        CHECK_CASE(nss_pack_gaih_fills_the_callers_tuple_first),
        CHECK_CASE(nss_pack_gaih_forty_addresses),
        CHECK_CASE(nss_pack_gaih_largest_reply),
        CHECK_CASE(nss_pack_gaih_enoent_without_addresses),
        CHECK_CASE(nss_pack_gaih_aligns_in_a_misaligned_buffer),
    };
    return check_run("nss_buffer", cases, sizeof(cases) / sizeof(cases[0]), NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_cache.c: unit tests for the answer cache (helperd/cache.c), driven
 * by an injected clock (every call takes "now" in milliseconds).
 */
#include "cache.h"
#include "dname.h"

#include <check.h>

#include "check-run.h"
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T_A    1
#define T_AAAA 28

/* The cache keys wire names (dname.h); the tests write text. */
static const uint8_t *W(const char *text) {
    static uint8_t ring[4][DNAME_MAX_WIRE];
    static unsigned next;
    uint8_t *w = ring[next++ % 4];
    ck_assert_int_gt(dname_from_text(text, w), 0);
    return w;
}

static const struct cache_params defaults = {
    .entries = 100, .min_ttl = 0, .max_ttl = 86400, .negative_ttl = 300, .serve_stale_s = 0};

static struct cache *new_cache(const struct cache_params *p) {
    struct cache *c = NULL;
    ck_assert_int_eq(cache_new(p, &c), 0);
    return c;
}

/* An OK answer with one IPv4 address 192.0.2.<last>. */
static struct cache_answer *ok_answer(const char *canon, uint8_t last, uint32_t ttl) {
    struct ipc_addr a = {.family = IPC_AF_INET, .addr = {192, 0, 2, last}};
    struct cache_answer *ans = NULL;
    ck_assert_int_eq(cache_answer_new(IPC_STATUS_OK, ttl, canon, NULL, 0, &a, 1, &ans), 0);
    return ans;
}

static struct cache_answer *neg_answer(uint8_t status) {
    struct cache_answer *ans = NULL;
    ck_assert_int_eq(cache_answer_new(status, 0, NULL, NULL, 0, NULL, 0, &ans), 0);
    return ans;
}

/* Puts a fresh OK answer for name with ttl seconds at now. */
static void put_ok(struct cache *c, const char *name, uint8_t last, uint32_t ttl, int64_t now) {
    struct cache_answer *a = ok_answer(name, last, ttl);
    ck_assert_int_eq(cache_put(c, W(name), T_A, a, ttl, now), 0);
    cache_answer_unref(a);
}

static enum cache_state state_of(struct cache *c, const char *name, uint16_t qtype, int64_t now) {
    struct cache_hit h;
    cache_get(c, W(name), qtype, now, &h);
    cache_answer_unref(h.answer);
    return h.state;
}

START_TEST(cache_answer_keeps_names_aliases_and_addresses) {
    const char *aliases[] = {"www.example.org", "hop.example.org"};
    struct ipc_addr addrs[2] = {{.family = IPC_AF_INET, .addr = {192, 0, 2, 1}},
                                {.family = IPC_AF_INET6, .addr = {0x20, 0x01, 0x0d, 0xb8}}};
    struct cache_answer *a = NULL;
    ck_assert_int_eq(
        cache_answer_new(IPC_STATUS_OK, 42, "target.example.org", aliases, 2, addrs, 2, &a), 0);
    ck_assert_str_eq(a->canon, "target.example.org");
    ck_assert_uint_eq(a->n_aliases, 2);
    ck_assert_str_eq(a->aliases[0], "www.example.org");
    ck_assert_str_eq(a->aliases[1], "hop.example.org");
    ck_assert_uint_eq(a->n_addrs, 2);
    ck_assert_mem_eq(&a->addrs[1], &addrs[1], sizeof(addrs[1]));
    ck_assert_uint_eq(a->ttl, 42);
    ck_assert_uint_eq(a->refs, 1);
    cache_answer_unref(a);
}
END_TEST

START_TEST(cache_hit_is_case_insensitive_and_ignores_trailing_dot) {
    struct cache *c = new_cache(&defaults);
    put_ok(c, "WWW.Example.ORG", 1, 60, 0);
    struct cache_hit h;
    cache_get(c, W("www.example.org."), T_A, 1000, &h);
    ck_assert_int_eq(h.state, CACHE_FRESH);
    ck_assert_str_eq(h.answer->canon, "WWW.Example.ORG");
    ck_assert_uint_eq(h.ttl, 59);
    cache_answer_unref(h.answer);
    ck_assert_int_eq(state_of(c, "www.example.org", T_AAAA, 1000), CACHE_MISS);
    ck_assert_int_eq(state_of(c, "ww.example.org", T_A, 1000), CACHE_MISS);
    cache_free(c);
}
END_TEST

START_TEST(cache_ttl_counts_down_and_expires) {
    struct cache *c = new_cache(&defaults);
    put_ok(c, "a.test", 1, 10, 5000);
    struct cache_hit h;
    cache_get(c, W("a.test"), T_A, 5000, &h);
    ck_assert_uint_eq(h.ttl, 10);
    cache_answer_unref(h.answer);
    cache_get(c, W("a.test"), T_A, 11500, &h);
    ck_assert_int_eq(h.state, CACHE_FRESH);
    ck_assert_uint_eq(h.ttl, 3);
    cache_answer_unref(h.answer);
    cache_get(c, W("a.test"), T_A, 14999, &h);
    ck_assert_int_eq(h.state, CACHE_FRESH);
    ck_assert_uint_eq(h.ttl, 0);
    cache_answer_unref(h.answer);
    ck_assert_int_eq(state_of(c, "a.test", T_A, 15000), CACHE_MISS);
    /* An expired entry without a stale window is gone, not just hidden. */
    ck_assert_uint_eq(cache_count(c), 0);
    cache_free(c);
}
END_TEST

START_TEST(cache_ttl_zero_is_not_cached) {
    struct cache *c = new_cache(&defaults);
    struct cache_answer *a = ok_answer("zero.test", 1, 0);
    uint32_t ttl = cache_ttl(&defaults, IPC_STATUS_OK, true, 0, false, 0, 0);
    ck_assert_uint_eq(ttl, 0);
    /* min_ttl does not turn "use once" into a cached answer */
    struct cache_params p = defaults;
    p.min_ttl = 60;
    ck_assert_uint_eq(cache_ttl(&p, IPC_STATUS_OK, true, 0, false, 0, 0), 0);
    ck_assert_int_eq(cache_put(c, W("zero.test"), T_A, a, ttl, 0), 0);
    ck_assert_uint_eq(cache_count(c), 0);
    ck_assert_int_eq(state_of(c, "zero.test", T_A, 0), CACHE_MISS);
    /* a TTL 0 answer also replaces an older entry */
    put_ok(c, "zero.test", 2, 60, 0);
    ck_assert_int_eq(cache_put(c, W("zero.test"), T_A, a, 0, 1000), 0);
    ck_assert_int_eq(state_of(c, "zero.test", T_A, 1000), CACHE_MISS);
    cache_answer_unref(a);
    cache_free(c);
}
END_TEST

START_TEST(cache_ttl_clamps_positive_answers) {
    struct cache_params p = defaults;
    p.min_ttl = 30;
    p.max_ttl = 3600;
    ck_assert_uint_eq(cache_ttl(&p, IPC_STATUS_OK, true, 5, false, 0, 0), 30);
    ck_assert_uint_eq(cache_ttl(&p, IPC_STATUS_OK, true, 300, false, 0, 0), 300);
    ck_assert_uint_eq(cache_ttl(&p, IPC_STATUS_OK, true, 86400, false, 0, 0), 3600);
    /* a failure is never cached */
    ck_assert_uint_eq(cache_ttl(&p, IPC_STATUS_TRYAGAIN, true, 300, true, 300, 300), 0);
}
END_TEST

START_TEST(cache_ttl_negative_follows_rfc2308) {
    struct cache_params p = defaults;
    p.negative_ttl = 300;
    /* min(SOA TTL, SOA MINIMUM) */
    ck_assert_uint_eq(cache_ttl(&p, IPC_STATUS_NXDOMAIN, false, 0, true, 120, 60), 60);
    ck_assert_uint_eq(cache_ttl(&p, IPC_STATUS_NODATA, false, 0, true, 45, 60), 45);
    /* capped by negative_ttl */
    ck_assert_uint_eq(cache_ttl(&p, IPC_STATUS_NXDOMAIN, false, 0, true, 3600, 3600), 300);
    /* a CNAME chain in front of the negative answer bounds it too */
    ck_assert_uint_eq(cache_ttl(&p, IPC_STATUS_NXDOMAIN, true, 20, true, 120, 60), 20);
    ck_assert_uint_eq(cache_ttl(&p, IPC_STATUS_NORECOVERY, true, 200, true, 120, 60), 60);
    /* no SOA: not cached */
    ck_assert_uint_eq(cache_ttl(&p, IPC_STATUS_NXDOMAIN, false, 0, false, 0, 0), 0);
    ck_assert_uint_eq(cache_ttl(&p, IPC_STATUS_NODATA, false, 0, false, 0, 0), 0);
    /* negative_ttl 0 turns negative caching off */
    p.negative_ttl = 0;
    ck_assert_uint_eq(cache_ttl(&p, IPC_STATUS_NXDOMAIN, false, 0, true, 120, 60), 0);
}
END_TEST

START_TEST(cache_negative_entries_are_served_until_they_expire) {
    struct cache *c = new_cache(&defaults);
    struct cache_answer *a = neg_answer(IPC_STATUS_NXDOMAIN);
    uint32_t ttl = cache_ttl(&defaults, a->status, false, 0, true, 600, 60);
    ck_assert_uint_eq(ttl, 60);
    ck_assert_int_eq(cache_put(c, W("nx.test"), T_A, a, ttl, 0), 0);
    cache_answer_unref(a);
    struct cache_hit h;
    cache_get(c, W("nx.test"), T_A, 59999, &h);
    ck_assert_int_eq(h.state, CACHE_FRESH);
    ck_assert_uint_eq(h.answer->status, IPC_STATUS_NXDOMAIN);
    ck_assert_ptr_null(h.answer->canon);
    cache_answer_unref(h.answer);
    ck_assert_int_eq(state_of(c, "nx.test", T_A, 60000), CACHE_MISS);
    cache_free(c);
}
END_TEST

START_TEST(cache_lru_evicts_least_recently_used_at_cap) {
    struct cache_params p = defaults;
    p.entries = 3;
    struct cache *c = new_cache(&p);
    put_ok(c, "a.test", 1, 60, 0);
    put_ok(c, "b.test", 2, 60, 0);
    put_ok(c, "c.test", 3, 60, 0);
    /* using a makes b the least recently used */
    ck_assert_int_eq(state_of(c, "a.test", T_A, 1), CACHE_FRESH);
    put_ok(c, "d.test", 4, 60, 2);
    ck_assert_uint_eq(cache_count(c), 3);
    ck_assert_int_eq(state_of(c, "b.test", T_A, 3), CACHE_MISS);
    ck_assert_int_eq(state_of(c, "a.test", T_A, 3), CACHE_FRESH);
    ck_assert_int_eq(state_of(c, "c.test", T_A, 3), CACHE_FRESH);
    ck_assert_int_eq(state_of(c, "d.test", T_A, 3), CACHE_FRESH);
    cache_free(c);
}
END_TEST

START_TEST(cache_lru_cap_holds_under_many_names) {
    struct cache_params p = defaults;
    p.entries = 1000;
    struct cache *c = new_cache(&p);
    char name[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof(name), "n%d.test", i);
        put_ok(c, name, (uint8_t)i, 60, i);
        ck_assert_uint_le(cache_count(c), 1000);
    }
    ck_assert_uint_eq(cache_count(c), 1000);
    /* the last 1000 are there, the ones before are not */
    ck_assert_int_eq(state_of(c, "n4000.test", T_A, 5000), CACHE_FRESH);
    ck_assert_int_eq(state_of(c, "n4999.test", T_A, 5000), CACHE_FRESH);
    ck_assert_int_eq(state_of(c, "n3999.test", T_A, 5000), CACHE_MISS);
    cache_free(c);
}
END_TEST

START_TEST(cache_entries_zero_disables_the_cache) {
    struct cache_params p = defaults;
    p.entries = 0;
    struct cache *c = new_cache(&p);
    put_ok(c, "a.test", 1, 60, 0);
    ck_assert_uint_eq(cache_count(c), 0);
    ck_assert_int_eq(state_of(c, "a.test", T_A, 0), CACHE_MISS);
    cache_free(c);
}
END_TEST

START_TEST(cache_shrinking_evicts_on_set_params) {
    struct cache *c = new_cache(&defaults);
    put_ok(c, "a.test", 1, 60, 0);
    put_ok(c, "b.test", 2, 60, 0);
    put_ok(c, "c.test", 3, 60, 0);
    struct cache_params p = defaults;
    p.entries = 1;
    cache_set_params(c, &p);
    ck_assert_uint_eq(cache_count(c), 1);
    ck_assert_int_eq(state_of(c, "c.test", T_A, 1), CACHE_FRESH);
    cache_free(c);
}
END_TEST

START_TEST(cache_replacing_an_entry_keeps_one) {
    struct cache *c = new_cache(&defaults);
    put_ok(c, "a.test", 1, 60, 0);
    put_ok(c, "A.test", 2, 60, 1000);
    ck_assert_uint_eq(cache_count(c), 1);
    struct cache_hit h;
    cache_get(c, W("a.test"), T_A, 1000, &h);
    ck_assert_uint_eq(h.answer->addrs[0].addr[3], 2);
    cache_answer_unref(h.answer);
    cache_free(c);
}
END_TEST

START_TEST(cache_stale_window_serves_expired_entries) {
    struct cache_params p = defaults;
    p.serve_stale_s = 100;
    struct cache *c = new_cache(&p);
    put_ok(c, "s.test", 1, 10, 0);
    struct cache_hit h;
    /* expired, inside the window: stale, not failing yet (ask upstream first) */
    cache_get(c, W("s.test"), T_A, 10000, &h);
    ck_assert_int_eq(h.state, CACHE_STALE);
    ck_assert_ptr_nonnull(h.answer);
    ck_assert_uint_eq(h.ttl, CACHE_STALE_TTL);
    ck_assert(!h.failing);
    cache_answer_unref(h.answer);
    /* the window ends serve_stale_s after the expiry */
    cache_get(c, W("s.test"), T_A, 109999, &h);
    ck_assert_int_eq(h.state, CACHE_STALE);
    cache_answer_unref(h.answer);
    ck_assert_int_eq(state_of(c, "s.test", T_A, 110000), CACHE_MISS);
    ck_assert_uint_eq(cache_count(c), 0);
    cache_free(c);
}
END_TEST

START_TEST(cache_stale_after_failed_refresh_is_served_at_once) {
    struct cache_params p = defaults;
    p.serve_stale_s = 3600;
    p.recheck_ms = 5000;
    struct cache *c = new_cache(&p);
    put_ok(c, "s.test", 1, 10, 0);
    /* a failure while fresh means nothing */
    cache_refresh_failed(c, W("s.test"), T_A, 5000);
    struct cache_hit h;
    cache_get(c, W("s.test"), T_A, 5000, &h);
    ck_assert_int_eq(h.state, CACHE_FRESH);
    cache_answer_unref(h.answer);
    cache_refresh_failed(c, W("s.test"), T_A, 20000);
    cache_get(c, W("s.test"), T_A, 21000, &h);
    ck_assert_int_eq(h.state, CACHE_STALE);
    ck_assert(h.failing);
    ck_assert(!h.refresh);
    cache_answer_unref(h.answer);
    /* recheck_ms later, one background refresh is due */
    cache_get(c, W("s.test"), T_A, 25000, &h);
    ck_assert(h.failing);
    ck_assert(h.refresh);
    cache_answer_unref(h.answer);
    /* a successful refresh replaces the entry: fresh again */
    put_ok(c, "s.test", 9, 10, 26000);
    cache_get(c, W("s.test"), T_A, 26000, &h);
    ck_assert_int_eq(h.state, CACHE_FRESH);
    ck_assert_uint_eq(h.answer->addrs[0].addr[3], 9);
    cache_answer_unref(h.answer);
    cache_free(c);
}
END_TEST

START_TEST(cache_flush_drops_everything_but_held_answers_live) {
    struct cache *c = new_cache(&defaults);
    put_ok(c, "a.test", 1, 60, 0);
    put_ok(c, "b.test", 2, 60, 0);
    struct cache_hit h;
    cache_get(c, W("a.test"), T_A, 0, &h);
    cache_flush(c);
    ck_assert_uint_eq(cache_count(c), 0);
    ck_assert_int_eq(state_of(c, "a.test", T_A, 0), CACHE_MISS);
    ck_assert_int_eq(state_of(c, "b.test", T_A, 0), CACHE_MISS);
    /* the reference handed out still reads fine (ASan would object) */
    ck_assert_str_eq(h.answer->canon, "a.test");
    cache_answer_unref(h.answer);
    put_ok(c, "a.test", 3, 60, 0);
    ck_assert_uint_eq(cache_count(c), 1);
    cache_free(c);
}
END_TEST

START_TEST(cache_expired_entries_are_reaped_from_the_cold_end) {
    struct cache *c = new_cache(&defaults);
    put_ok(c, "old.test", 1, 1, 0);
    put_ok(c, "new.test", 2, 60, 5000);
    ck_assert_uint_eq(cache_count(c), 1);
    cache_free(c);
}
END_TEST

/* Every octet value inside a label is a key of its own, found again in the
 * other ASCII case and by no other octet (DESIGN.md invariant 7). */
START_TEST(cache_every_octet_in_a_label_is_a_key_of_its_own) {
    struct cache *c = new_cache(&(struct cache_params){.entries = 1000, .max_ttl = 60});
    for (int o = 0; o < 256; o++) {
        const uint8_t name[] = {3, 'k', (uint8_t)o, 'y', 4, 't', 'e', 's', 't', 0};
        struct cache_answer *a = ok_answer("k.test", (uint8_t)o, 60);
        ck_assert_int_eq(cache_put(c, name, T_A, a, 60, 0), 0);
        cache_answer_unref(a);
    }
    ck_assert_uint_eq(cache_count(c), 256 - 26); /* "kAy" and "kay" are one name */
    for (int o = 0; o < 256; o++) {
        int other = (o >= 'a' && o <= 'z') ? o - 32 : (o >= 'A' && o <= 'Z') ? o + 32 : o;
        const uint8_t name[] = {3, 'K', (uint8_t)other, 'Y', 4, 'T', 'E', 'S', 'T', 0};
        struct cache_hit h;
        cache_get(c, name, T_A, 1000, &h);
        ck_assert_msg(h.state == CACHE_FRESH, "octet %d", o);
        /* letters share one entry: the later put (the lower case) won */
        int want = (o >= 'A' && o <= 'Z') ? o + 32 : o;
        ck_assert_msg(h.answer->addrs[0].addr[3] == want, "octet %d: entry of %d", o,
                      h.answer->addrs[0].addr[3]);
        cache_answer_unref(h.answer);
    }
    cache_free(c);
}
END_TEST

START_TEST(cache_entry_footprint_is_small) {
    struct cache_answer *a = ok_answer("www.example.org", 1, 60);
    size_t fp = cache_entry_footprint(W("www.example.org"), a);
    cache_answer_unref(a);
    ck_assert_uint_lt(fp, 256);
    /* The real number, malloc's overhead and the buckets included, for the
     * docs: 10000 names with one address each. */
    struct cache *c = new_cache(&(struct cache_params){.entries = 10000, .max_ttl = 60});
    struct mallinfo2 before = mallinfo2();
    char name[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(name, sizeof(name), "w%05d.example.org", i);
        put_ok(c, name, (uint8_t)i, 60, 0);
    }
    struct mallinfo2 after = mallinfo2();
    size_t used = (after.uordblks + after.hblkhd) - (before.uordblks + before.hblkhd);
    /* (sanitizer allocators do not keep mallinfo: then only fp is shown) */
    fprintf(stderr, "cache: %zu bytes per entry computed, %zu measured\n", fp,
            after.uordblks + after.hblkhd > before.uordblks + before.hblkhd ? used / 10000 : 0);
    cache_free(c);
}
END_TEST

START_TEST(cache_flush_name_drops_every_type_of_that_name_only) {
    struct cache *c = new_cache(&defaults);
    put_ok(c, "www.example.org", 1, 300, 0);
    put_ok(c, "example.org", 2, 300, 0);
    put_ok(c, "www.example.org.other", 3, 300, 0);
    struct cache_answer *a6 = ok_answer("www.example.org", 4, 300);
    ck_assert_int_eq(cache_put(c, W("www.example.org"), T_AAAA, a6, 300, 0), 0);
    cache_answer_unref(a6);
    ck_assert_uint_eq(cache_count(c), 4);
    ck_assert_uint_eq(cache_flush_name(c, W("WWW.Example.ORG.")), 2);
    ck_assert_uint_eq(cache_count(c), 2);
    ck_assert_int_eq(state_of(c, "www.example.org", T_A, 1), CACHE_MISS);
    ck_assert_int_eq(state_of(c, "www.example.org", T_AAAA, 1), CACHE_MISS);
    ck_assert_int_eq(state_of(c, "example.org", T_A, 1), CACHE_FRESH);
    ck_assert_int_eq(state_of(c, "www.example.org.other", T_A, 1), CACHE_FRESH);
    ck_assert_uint_eq(cache_flush_name(c, W("absent.example")), 0);
    cache_free(c);
}
END_TEST

/* More types than the cache keeps track of: flush_name walks instead, and
 * still finds every type of the name and nothing else. */
START_TEST(cache_flush_name_with_many_types_walks) {
    struct cache *c = new_cache(&defaults);
    for (uint16_t t = 1; t <= 12; t++) {
        struct cache_answer *a = ok_answer("many.test", (uint8_t)t, 300);
        ck_assert_int_eq(cache_put(c, W("many.test"), t, a, 300, 0), 0);
        ck_assert_int_eq(cache_put(c, W("other.test"), t, a, 300, 0), 0);
        cache_answer_unref(a);
    }
    ck_assert_uint_eq(cache_count(c), 24);
    ck_assert_uint_eq(cache_flush_name(c, W("Many.Test")), 12);
    ck_assert_uint_eq(cache_count(c), 12);
    ck_assert_int_eq(state_of(c, "other.test", 12, 1), CACHE_FRESH);
    cache_free(c);
}
END_TEST

/* A reload to another size rebuilds the table: every entry stays findable,
 * growing and shrinking back (up to the cap, in LRU order). */
START_TEST(cache_resizing_keeps_every_entry) {
    struct cache_params p = defaults;
    p.entries = 100;
    struct cache *c = new_cache(&p);
    char name[32];
    for (unsigned i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "n%u.test", i);
        put_ok(c, name, (uint8_t)i, 300, 0);
    }
    p.entries = 100000;
    cache_set_params(c, &p);
    for (unsigned i = 100; i < 5000; i++) {
        snprintf(name, sizeof(name), "n%u.test", i);
        put_ok(c, name, (uint8_t)i, 300, 0);
    }
    ck_assert_uint_eq(cache_count(c), 5000);
    for (unsigned i = 0; i < 5000; i++) {
        snprintf(name, sizeof(name), "n%u.test", i);
        ck_assert_int_eq(state_of(c, name, T_A, 1), CACHE_FRESH);
    }
    p.entries = 1000;
    cache_set_params(c, &p);
    ck_assert_uint_eq(cache_count(c), 1000);
    for (unsigned i = 0; i < 5000; i++) {
        snprintf(name, sizeof(name), "n%u.test", i);
        ck_assert_int_eq(state_of(c, name, T_A, 1), i >= 4000 ? CACHE_FRESH : CACHE_MISS);
    }
    cache_free(c);
}
END_TEST

int main(void) {
    const struct check_case cases[] = {
        CHECK_CASE(cache_flush_name_with_many_types_walks),
        CHECK_CASE(cache_resizing_keeps_every_entry),
        CHECK_CASE(cache_answer_keeps_names_aliases_and_addresses),
        CHECK_CASE(cache_hit_is_case_insensitive_and_ignores_trailing_dot),
        CHECK_CASE(cache_ttl_counts_down_and_expires),
        CHECK_CASE(cache_ttl_zero_is_not_cached),
        CHECK_CASE(cache_ttl_clamps_positive_answers),
        CHECK_CASE(cache_ttl_negative_follows_rfc2308),
        CHECK_CASE(cache_negative_entries_are_served_until_they_expire),
        CHECK_CASE(cache_lru_evicts_least_recently_used_at_cap),
        CHECK_CASE(cache_lru_cap_holds_under_many_names),
        CHECK_CASE(cache_entries_zero_disables_the_cache),
        CHECK_CASE(cache_shrinking_evicts_on_set_params),
        CHECK_CASE(cache_replacing_an_entry_keeps_one),
        CHECK_CASE(cache_stale_window_serves_expired_entries),
        CHECK_CASE(cache_stale_after_failed_refresh_is_served_at_once),
        CHECK_CASE(cache_flush_drops_everything_but_held_answers_live),
        CHECK_CASE(cache_flush_name_drops_every_type_of_that_name_only),
        CHECK_CASE(cache_expired_entries_are_reaped_from_the_cold_end),
        CHECK_CASE(cache_every_octet_in_a_label_is_a_key_of_its_own),
        CHECK_CASE(cache_entry_footprint_is_small),
    };
    return check_run("cache", cases, sizeof(cases) / sizeof(cases[0]), NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_freelist.c: unit tests for the daemon's recycled objects
 * (helperd/freelist.h): an object comes out zeroed, the one given back last
 * comes out first, the list holds no more than `keep`, clear gives every
 * held one back; and under AddressSanitizer or valgrind nothing is held,
 * so that a use after free of these objects is reported.
 */
#include "freelist.h"

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "check-run.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

struct obj {
    uint64_t a;
    char text[100];
};

static bool all_zero(const void *p, size_t n) {
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i])
            return false;
    return true;
}

START_TEST(objects_come_out_zeroed_last_in_first_out) {
    struct freelist fl;
    freelist_init(&fl, sizeof(struct obj), 4);
    struct obj *x = freelist_get(&fl), *y = freelist_get(&fl);
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(y);
    ck_assert(all_zero(x, sizeof(*x)));
    memset(x, 0xab, sizeof(*x));
    memset(y, 0xcd, sizeof(*y));
    freelist_put(&fl, x);
    freelist_put(&fl, y);
    freelist_put(&fl, NULL); /* a no-op */
    ck_assert_uint_eq(fl.n, 2);
    struct obj *z = freelist_get(&fl);
    ck_assert_ptr_eq(z, y); /* the last one given back */
    ck_assert(all_zero(z, sizeof(*z)));
    ck_assert_ptr_eq(freelist_get(&fl), x);
    ck_assert_uint_eq(fl.n, 0);
    freelist_put(&fl, x);
    freelist_put(&fl, z);
    freelist_clear(&fl);
    ck_assert_uint_eq(fl.n, 0);
    ck_assert_ptr_null(fl.head);
    /* Still usable after a clear. */
    x = freelist_get(&fl);
    ck_assert_ptr_nonnull(x);
    freelist_put(&fl, x);
    freelist_clear(&fl);
}
END_TEST

START_TEST(holds_at_most_keep) {
    enum { KEEP = 3, N = 10 };
    struct freelist fl;
    freelist_init(&fl, sizeof(struct obj), KEEP);
    struct obj *o[N];
    for (int i = 0; i < N; i++)
        ck_assert_ptr_nonnull(o[i] = freelist_get(&fl));
    for (int i = 0; i < N; i++) {
        freelist_put(&fl, o[i]);
        ck_assert_uint_eq(fl.n, i + 1 < KEEP ? (unsigned)i + 1 : KEEP);
    }
    /* The first KEEP went on the list; the rest went back to malloc (a
     * leak checker would report them otherwise). */
    ck_assert_ptr_eq(freelist_get(&fl), o[KEEP - 1]);
    freelist_put(&fl, o[KEEP - 1]);
    freelist_clear(&fl);
}
END_TEST

START_TEST(tiny_objects_still_hold_the_link) {
    struct freelist fl;
    freelist_init(&fl, 1, 2);
    ck_assert_uint_ge(fl.size, sizeof(void *));
    char *a = freelist_get(&fl), *b = freelist_get(&fl);
    freelist_put(&fl, a);
    freelist_put(&fl, b);
    ck_assert_ptr_eq(freelist_get(&fl), b);
    ck_assert_ptr_eq(freelist_get(&fl), a);
    freelist_put(&fl, a);
    freelist_put(&fl, b);
    freelist_clear(&fl);
}
END_TEST

/* Under ASan (and valgrind) nothing is recycled: a put frees at once, so
 * the checker reports a later use of the object as a use after free. */
START_TEST(checkers_see_every_free) {
    struct freelist fl;
    freelist_init(&fl, sizeof(struct obj), 4);
    struct obj *x = freelist_get(&fl);
    ck_assert_ptr_nonnull(x);
    freelist_put(&fl, x);
    ck_assert_uint_eq(fl.n, 0);
    ck_assert_ptr_null(fl.head);
#if defined(__SANITIZE_ADDRESS__)
    /* Only asked about, never used: GCC cannot tell. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuse-after-free"
    ck_assert(__asan_address_is_poisoned(x)); /* freed */
#pragma GCC diagnostic pop
#endif
    freelist_clear(&fl);
}
END_TEST

int main(void) {
    const struct check_case recycled[] = {
        CHECK_CASE(objects_come_out_zeroed_last_in_first_out),
        CHECK_CASE(holds_at_most_keep),
        CHECK_CASE(tiny_objects_still_hold_the_link),
    };
    const struct check_case bypassed[] = {
        CHECK_CASE(checkers_see_every_free),
    };
    if (freelist_bypassed())
        return check_run("freelist", bypassed, sizeof(bypassed) / sizeof(bypassed[0]), NULL);
    return check_run("freelist", recycled, sizeof(recycled) / sizeof(recycled[0]), NULL);
}

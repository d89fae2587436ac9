/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_users.c: unit tests for the per-uid usage table (helperd/users.c):
 * entries appear on first use, go when they hold nothing, and the top user
 * is the one holding the most connections.
 */
#include "users.h"

#include <check.h>

#include "check-run.h"

START_TEST(users_get_creates_once_and_release_frees_empty_entries) {
    struct users *u;
    ck_assert_int_eq(users_new(&u), 0);
    struct user_use *a = users_get(u, 1000);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(a->uid, 1000);
    ck_assert_uint_eq(a->clients, 0);
    ck_assert_ptr_eq(users_get(u, 1000), a);
    ck_assert_uint_eq(users_count(u), 1);
    a->clients = 1;
    users_release(u, a); /* holds a client: stays */
    ck_assert_uint_eq(users_count(u), 1);
    a->clients = 0;
    a->lookups = 1;
    users_release(u, a); /* holds a lookup: stays */
    ck_assert_uint_eq(users_count(u), 1);
    a->lookups = 0;
    users_release(u, a);
    ck_assert_uint_eq(users_count(u), 0);
    users_release(u, NULL);
    users_free(u);
}
END_TEST

START_TEST(users_top_is_the_user_holding_most_connections) {
    struct users *u;
    ck_assert_int_eq(users_new(&u), 0);
    ck_assert_ptr_null(users_top(u));
    /* Many uids, some in the same bucket, one holding the most. */
    for (unsigned i = 0; i < 2000; i++)
        users_get(u, i * 256)->clients = i % 7;
    users_get(u, 123457)->clients = 50;
    ck_assert_uint_eq(users_count(u), 2001);
    struct user_use *top = users_top(u);
    ck_assert_ptr_nonnull(top);
    ck_assert_uint_eq(top->uid, 123457);
    for (unsigned i = 0; i < 2000; i++) {
        struct user_use *e = users_get(u, i * 256);
        e->clients = 0;
        users_release(u, e);
    }
    ck_assert_uint_eq(users_count(u), 1);
    users_free(u); /* frees what is left */
}
END_TEST

int main(void) {
    const struct check_case cases[] = {
        CHECK_CASE(users_get_creates_once_and_release_frees_empty_entries),
        CHECK_CASE(users_top_is_the_user_holding_most_connections),
    };
    return check_run("users", cases, sizeof(cases) / sizeof(cases[0]), NULL);
}

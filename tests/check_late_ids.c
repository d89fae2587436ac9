/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_late_ids.c: unit tests for the IDs a connection holds back for
 * late answers (helperd/late-ids.h): a held ID reads as held, holding it
 * again changes nothing, and once LATE_IDS_MAX more are held the oldest is
 * released, in the order they were held.
 */
#include "late-ids.h"

#include <check.h>
#include <stdlib.h>

#include "check-run.h"

START_TEST(held_until_max_later_ones) {
    struct late_ids *l = calloc(1, sizeof(*l));
    ck_assert_ptr_nonnull(l);
    ck_assert(!late_ids_held(l, 0));
    ck_assert(!late_ids_held(l, 65535));
    /* IDs 1000, 1001, ... held in turn; 65535 and 0 among them. */
    late_ids_hold(l, 65535);
    late_ids_hold(l, 0);
    for (unsigned i = 0; i < LATE_IDS_MAX - 2; i++)
        late_ids_hold(l, (uint16_t)(1000 + i));
    ck_assert_uint_eq(l->n, LATE_IDS_MAX);
    ck_assert(late_ids_held(l, 65535));
    ck_assert(late_ids_held(l, 0));
    ck_assert(late_ids_held(l, 1000));
    ck_assert(!late_ids_held(l, 1));
    /* Held again: no new place, nothing released. */
    late_ids_hold(l, 0);
    ck_assert(late_ids_held(l, 65535));
    /* One more: the oldest (65535) goes, then the next (0). */
    late_ids_hold(l, 7);
    ck_assert(!late_ids_held(l, 65535));
    ck_assert(late_ids_held(l, 0));
    ck_assert(late_ids_held(l, 7));
    late_ids_hold(l, 8);
    ck_assert(!late_ids_held(l, 0));
    ck_assert(late_ids_held(l, 1000));
    /* A released ID can be held again. */
    late_ids_hold(l, 65535);
    ck_assert(late_ids_held(l, 65535));
    ck_assert(!late_ids_held(l, 1000));
    free(l);
}
END_TEST

int main(void) {
    const struct check_case cases[] = {
        CHECK_CASE(held_until_max_later_ones),
    };
    return check_run("late_ids", cases, sizeof(cases) / sizeof(cases[0]), NULL);
}

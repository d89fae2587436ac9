/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check-run.h: the one runner every tests/check_*.c uses: a table of test
 * cases becomes a suite with one TCase per behaviour (so that
 * CK_RUN_CASE=name runs any single one), which is run; the result is the
 * program's exit status.
 */
#pragma once

#include <check.h>
#include <stddef.h>
#include <stdlib.h>

struct check_case {
    const char *name;
    const TTest *test;
};

#define CHECK_CASE(f)                                                                              \
    { #f, f }

/* teardown (may be NULL) runs after each case, in the case's process. */
static inline int check_run(const char *suite_name, const struct check_case *cases, size_t n,
                            SFun teardown) {
    Suite *s = suite_create(suite_name);
    for (size_t i = 0; i < n; i++) {
        TCase *tc = tcase_create(cases[i].name);
        if (teardown)
            tcase_add_checked_fixture(tc, NULL, teardown);
        tcase_add_test(tc, cases[i].test);
        suite_add_tcase(s, tc);
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

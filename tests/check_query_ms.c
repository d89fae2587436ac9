/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_query_ms.c: unit tests for the published query timeout's name and
 * form (common/query-ms.c): what the module accepts from the link target.
 */
#include "query-ms.h"

#include <check.h>

#include "check-run.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int parse(const char *s) {
    return query_ms_parse(s, strlen(s));
}

START_TEST(query_ms_parse_accepts_decimal_in_range) {
    ck_assert_int_eq(parse("1"), 1);
    ck_assert_int_eq(parse("500"), 500);
    ck_assert_int_eq(parse("2000"), 2000);
    ck_assert_int_eq(parse("59999"), 59999);
    ck_assert_int_eq(parse("60000"), 60000);
    /* every value the daemon can write reads back */
    char buf[16];
    for (unsigned v = QUERY_MS_MIN; v <= QUERY_MS_MAX; v++) {
        snprintf(buf, sizeof(buf), "%u", v);
        ck_assert_int_eq(parse(buf), (int)v);
    }
}
END_TEST

START_TEST(query_ms_parse_rejects_garbage) {
    const char *bad[] = {"",       "0",     "00",    "0500",   "60001",  "99999",
                         "100000", "-1",    "+5",    " 500",   "500 ",   "500\n",
                         "5e2",    "0x1f4", "500ms", "2000.0", "１２３", "garbage"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(parse(bad[i]) == -EINVAL, "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(query_ms_parse_reads_only_len_bytes) {
    /* readlink() does not NUL-terminate: the length is the whole input */
    ck_assert_int_eq(query_ms_parse("2000xyz", 4), 2000);
    ck_assert_int_eq(query_ms_parse("2000", 2), 20);
    ck_assert_int_eq(query_ms_parse("20\0000", 4), -EINVAL);
    ck_assert_int_eq(query_ms_parse("123456", 6), -EINVAL);
}
END_TEST

START_TEST(query_ms_path_appends_the_suffix) {
    char buf[64];
    ck_assert_int_eq(query_ms_path("/run/dot-helperd/socket", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "/run/dot-helperd/socket.query_ms");
    const char *p = "/run/dot-helperd/socket";
    size_t need = strlen(p) + strlen(QUERY_MS_SUFFIX) + 1;
    ck_assert_int_eq(query_ms_path(p, buf, need), 0);
    ck_assert_int_eq(query_ms_path(p, buf, need - 1), -ENAMETOOLONG);
}
END_TEST

int main(void) {
    const struct check_case cases[] = {
        CHECK_CASE(query_ms_parse_accepts_decimal_in_range),
        CHECK_CASE(query_ms_parse_rejects_garbage),
        CHECK_CASE(query_ms_parse_reads_only_len_bytes),
        CHECK_CASE(query_ms_path_appends_the_suffix),
    };
    return check_run("query_ms", cases, sizeof(cases) / sizeof(cases[0]), NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_dname.c: unit tests for the host name checks (common/dname.c).
 *
 * The lengths are the edges that matter: a 63-octet label and a 253-octet
 * name are the largest that fit a DNS message, one more must be refused
 * before a query is built.
 */
#include "dname.h"

#include <check.h>

#include "check-run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes labels of label_len octets joined by dots until the name is exactly
 * len octets long (the last label takes what is left); returns out. */
static char *make_name(char *out, size_t len, size_t label_len) {
    size_t i = 0, in_label = 0;
    while (i < len) {
        /* never end on a dot, never put two in a row */
        if (in_label == label_len && i + 1 < len) {
            out[i++] = '.';
            in_label = 0;
            continue;
        }
        out[i] = (char)('a' + i % 26);
        i++;
        in_label++;
    }
    out[i] = '\0';
    return out;
}

static char *repeat(char *out, char c, size_t n) {
    memset(out, c, n);
    out[n] = '\0';
    return out;
}

START_TEST(dname_valid_accepts_ordinary_names) {
    ck_assert(dname_valid("a"));
    ck_assert(dname_valid("localhost"));
    ck_assert(dname_valid("www.example.org"));
    ck_assert(dname_valid("xn--bcher-kva.example"));
    ck_assert(dname_valid("A.B.C.D.E.F"));
    ck_assert(dname_valid("1.0.0.127.in-addr.arpa"));
}
END_TEST

START_TEST(dname_valid_allows_one_trailing_dot) {
    ck_assert(dname_valid("a."));
    ck_assert(dname_valid("www.example.org."));
    ck_assert(!dname_valid("www.example.org.."));
    ck_assert(!dname_valid("a.."));
}
END_TEST

START_TEST(dname_valid_rejects_root_and_empty) {
    ck_assert(!dname_valid(""));
    ck_assert(!dname_valid("."));
    ck_assert(!dname_valid(".."));
}
END_TEST

START_TEST(dname_valid_rejects_empty_labels) {
    ck_assert(!dname_valid("a..b"));
    ck_assert(!dname_valid(".a"));
    ck_assert(!dname_valid(".a."));
    ck_assert(!dname_valid("a.b..c.d"));
    ck_assert(!dname_valid("..a"));
}
END_TEST

START_TEST(dname_valid_takes_63_octet_labels_not_64) {
    char label[DNAME_MAX_LABEL + 2], name[300];

    repeat(label, 'x', DNAME_MAX_LABEL);
    ck_assert(dname_valid(label));
    snprintf(name, sizeof(name), "%s.example", label); /* first */
    ck_assert(dname_valid(name));
    snprintf(name, sizeof(name), "a.%s.example", label); /* middle */
    ck_assert(dname_valid(name));
    snprintf(name, sizeof(name), "a.%s", label); /* last */
    ck_assert(dname_valid(name));
    snprintf(name, sizeof(name), "a.%s.", label); /* last, absolute */
    ck_assert(dname_valid(name));

    repeat(label, 'x', DNAME_MAX_LABEL + 1);
    ck_assert(!dname_valid(label));
    snprintf(name, sizeof(name), "%s.example", label);
    ck_assert(!dname_valid(name));
    snprintf(name, sizeof(name), "a.%s.example", label);
    ck_assert(!dname_valid(name));
    snprintf(name, sizeof(name), "a.%s", label);
    ck_assert(!dname_valid(name));
    snprintf(name, sizeof(name), "a.%s.", label);
    ck_assert(!dname_valid(name));
}
END_TEST

START_TEST(dname_valid_takes_253_octets_not_254) {
    char name[DNAME_MAX_TEXT + 8];

    /* full-size labels: 63.63.63.61 = 253 */
    make_name(name, DNAME_MAX_TEXT, DNAME_MAX_LABEL);
    ck_assert_uint_eq(strlen(name), 253);
    ck_assert(dname_valid(name));
    strcat(name, ".");
    ck_assert(dname_valid(name)); /* 253 plus the trailing dot */

    make_name(name, DNAME_MAX_TEXT + 1, DNAME_MAX_LABEL);
    ck_assert_uint_eq(strlen(name), 254);
    ck_assert(!dname_valid(name));
    strcat(name, ".");
    ck_assert(!dname_valid(name));

    /* short labels: every length up to the edge */
    for (size_t len = 1; len <= DNAME_MAX_TEXT + 4; len++) {
        make_name(name, len, 1);
        ck_assert_msg(dname_valid(name) == (len <= DNAME_MAX_TEXT), "length %zu", len);
    }
}
END_TEST

START_TEST(dname_valid_ignores_characters) {
    /* Only the structure is checked here; which characters a host name may
     * hold is not this function's business (DNS labels are binary). */
    ck_assert(dname_valid("under_score.example"));
    ck_assert(dname_valid("-.example"));
    ck_assert(dname_valid("sp ace.example"));
}
END_TEST

START_TEST(dname_equal_ignores_ascii_case) {
    ck_assert(dname_equal("www.example.org", "www.example.org"));
    ck_assert(dname_equal("WWW.Example.ORG", "www.example.org"));
    ck_assert(dname_equal("a", "A"));
    ck_assert(dname_equal("az09-_", "AZ09-_"));
    /* only ASCII letters fold: '@' and '`' sit next to 'A' and 'a' */
    ck_assert(!dname_equal("@", "`"));
    ck_assert(!dname_equal("[", "{"));
    ck_assert(!dname_equal("\xc4", "\xe4"));
}
END_TEST

START_TEST(dname_equal_ignores_one_trailing_dot) {
    ck_assert(dname_equal("www.example.org.", "www.example.org"));
    ck_assert(dname_equal("www.example.org", "WWW.EXAMPLE.ORG."));
    ck_assert(dname_equal("a.", "a."));
    ck_assert(!dname_equal("a..", "a"));
    ck_assert(!dname_equal("a..", "a."));
}
END_TEST

START_TEST(dname_equal_rejects_different_names) {
    ck_assert(!dname_equal("a", "b"));
    ck_assert(!dname_equal("a", "ab"));
    ck_assert(!dname_equal("ab", "a"));
    ck_assert(!dname_equal("www.example.org", "www.example.com"));
    ck_assert(!dname_equal("www.example.org", "example.org"));
    ck_assert(!dname_equal("a.b", "ab"));
    ck_assert(!dname_equal("a", ""));
    ck_assert(!dname_equal(".a", "a"));
}
END_TEST

START_TEST(dname_dots_counts_inner_dots) {
    ck_assert_uint_eq(dname_dots(""), 0);
    ck_assert_uint_eq(dname_dots("."), 0);
    ck_assert_uint_eq(dname_dots("localhost"), 0);
    ck_assert_uint_eq(dname_dots("localhost."), 0);
    ck_assert_uint_eq(dname_dots("a.b"), 1);
    ck_assert_uint_eq(dname_dots("a.b."), 1);
    ck_assert_uint_eq(dname_dots("www.example.org"), 2);
    ck_assert_uint_eq(dname_dots("www.example.org."), 2);
    ck_assert_uint_eq(dname_dots("a..b"), 2);
    ck_assert_uint_eq(dname_dots("a.."), 1); /* only one trailing dot is ignored */
}
END_TEST

int main(void) {
    const struct check_case cases[] = {
        CHECK_CASE(dname_valid_accepts_ordinary_names),
        CHECK_CASE(dname_valid_allows_one_trailing_dot),
        CHECK_CASE(dname_valid_rejects_root_and_empty),
        CHECK_CASE(dname_valid_rejects_empty_labels),
        CHECK_CASE(dname_valid_takes_63_octet_labels_not_64),
        CHECK_CASE(dname_valid_takes_253_octets_not_254),
        CHECK_CASE(dname_valid_ignores_characters),
        CHECK_CASE(dname_equal_ignores_ascii_case),
        CHECK_CASE(dname_equal_ignores_one_trailing_dot),
        CHECK_CASE(dname_equal_rejects_different_names),
        CHECK_CASE(dname_dots_counts_inner_dots),
    };
    return check_run("dname", cases, sizeof(cases) / sizeof(cases[0]), NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_search.c: unit tests for the search list (helperd/search.c): reading
 * resolv.conf as glibc does, and the order of names and the final verdict of
 * glibc's res_search.
 */
#include "search.h"

#include <check.h>

#include "check-run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"

static struct search_conf *parse(const char *text, const char *host) {
    struct search_conf *c = calloc(1, sizeof(*c));
    ck_assert_ptr_nonnull(c);
    search_conf_parse(c, text, text ? strlen(text) : 0, host);
    return c;
}

/* Runs a search for name, answering each candidate with the outcome listed
 * for it in `answers` ("name=outcome" pairs, unlisted names: NXDOMAIN).
 * Writes the names asked, space-separated, into asked; returns the final
 * status (IPC_STATUS_OK when found). */
struct answer {
    const char *name;
    enum search_outcome o;
};

static unsigned run(const struct search_conf *c, const char *name, const struct answer *answers,
                    char *asked, size_t asked_len) {
    struct search_iter it;
    char buf[SEARCH_MAX_NAME];
    search_begin(&it, c, name);
    asked[0] = '\0';
    unsigned n = 0;
    while (search_next(&it, buf)) {
        ck_assert_uint_lt(++n, 100);
        /* As the resolver does: a name with no wire form is not asked, and
         * counts as NO_RECOVERY (glibc's res_nmkquery fails). */
        uint8_t wire[DNAME_MAX_WIRE];
        if (dname_from_text(buf, wire) < 0) {
            search_report(&it, SEARCH_NORECOVERY);
            continue;
        }
        if (asked[0])
            strncat(asked, " ", asked_len - strlen(asked) - 1);
        strncat(asked, buf, asked_len - strlen(asked) - 1);
        enum search_outcome o = SEARCH_NXDOMAIN;
        for (const struct answer *a = answers; a && a->name; a++)
            if (strcmp(a->name, buf) == 0)
                o = a->o;
        search_report(&it, o);
        if (o == SEARCH_FOUND)
            return IPC_STATUS_OK;
    }
    return search_status(&it);
}

START_TEST(search_conf_reads_search_line) {
    struct search_conf *c = parse("nameserver 127.0.0.1\nsearch a.test\tb.test  c.test\n", NULL);
    ck_assert_uint_eq(c->n_domains, 3);
    ck_assert_str_eq(c->domains[0], "a.test");
    ck_assert_str_eq(c->domains[1], "b.test");
    ck_assert_str_eq(c->domains[2], "c.test");
    ck_assert_uint_eq(c->ndots, 1);
    free(c);
}
END_TEST

START_TEST(search_conf_last_of_domain_and_search_wins) {
    struct search_conf *c = parse("search a.test b.test\ndomain d.test extra\n", NULL);
    ck_assert_uint_eq(c->n_domains, 1);
    ck_assert_str_eq(c->domains[0], "d.test");
    free(c);
    c = parse("domain d.test\nsearch a.test b.test\n", NULL);
    ck_assert_uint_eq(c->n_domains, 2);
    ck_assert_str_eq(c->domains[0], "a.test");
    free(c);
}
END_TEST

START_TEST(search_conf_ignores_comments_and_bare_keywords) {
    struct search_conf *c =
        parse("# search x.test\n; search y.test\nsearch\nsearch   \nsearchz.test\n"
              "domain\nsearch a.test\nsearch\t\n",
              NULL);
    ck_assert_uint_eq(c->n_domains, 1);
    ck_assert_str_eq(c->domains[0], "a.test");
    free(c);
}
END_TEST

START_TEST(search_conf_reads_ndots_and_caps_it) {
    struct search_conf *c = parse("options rotate ndots:3 timeout:1\n", NULL);
    ck_assert_uint_eq(c->ndots, 3);
    ck_assert(!c->no_tld_query);
    free(c);
    c = parse("options ndots:99 no-tld-query\n", NULL);
    ck_assert_uint_eq(c->ndots, 15);
    ck_assert(c->no_tld_query);
    free(c);
    c = parse("options ndots:0\n", NULL);
    ck_assert_uint_eq(c->ndots, 0);
    free(c);
}
END_TEST

START_TEST(search_conf_falls_back_to_the_host_name_domain) {
    struct search_conf *c = parse("nameserver 127.0.0.1\n", "box.lan.example");
    ck_assert_uint_eq(c->n_domains, 1);
    ck_assert_str_eq(c->domains[0], "lan.example");
    free(c);
    c = parse("nameserver 127.0.0.1\n", "box");
    ck_assert_uint_eq(c->n_domains, 0);
    free(c);
    /* no file at all: the defaults */
    c = parse(NULL, "box.lan.example");
    ck_assert_uint_eq(c->n_domains, 1);
    ck_assert_uint_eq(c->ndots, 1);
    free(c);
    /* a search line wins over the host name */
    c = parse("search a.test\n", "box.lan.example");
    ck_assert_str_eq(c->domains[0], "a.test");
    ck_assert_uint_eq(c->n_domains, 1);
    free(c);
}
END_TEST

START_TEST(search_conf_keeps_at_most_the_limit) {
    char text[4096] = "search";
    for (int i = 0; i < SEARCH_MAX_DOMAINS + 10; i++) {
        char d[32];
        snprintf(d, sizeof(d), " d%d.test", i);
        strcat(text, d);
    }
    struct search_conf *c = parse(text, NULL);
    ck_assert_uint_eq(c->n_domains, SEARCH_MAX_DOMAINS);
    free(c);
}
END_TEST

START_TEST(search_conf_config_overrides_resolv_conf) {
    struct search_conf *c = parse("search a.test\noptions ndots:2\n", NULL);
    char *mine[] = {"x.test", "y.test"};
    search_conf_override(c, true, mine, 2, -1);
    ck_assert_uint_eq(c->n_domains, 2);
    ck_assert_str_eq(c->domains[1], "y.test");
    ck_assert_uint_eq(c->ndots, 2);
    search_conf_override(c, true, NULL, 0, 4);
    ck_assert_uint_eq(c->n_domains, 0);
    ck_assert_uint_eq(c->ndots, 4);
    search_conf_override(c, false, NULL, 0, -1);
    ck_assert_uint_eq(c->ndots, 4);
    free(c);
}
END_TEST

START_TEST(search_conf_equal_compares_what_lookups_use) {
    struct search_conf *a = parse("search a.test b.test\n", NULL);
    struct search_conf *b = parse("# rewritten\nsearch a.test  b.test\n", NULL);
    b->refs = a->refs + 1;
    ck_assert(search_conf_equal(a, b));
    struct search_conf *c = parse("search a.test c.test\n", NULL);
    ck_assert(!search_conf_equal(a, c));
    free(c);
    c = parse("search a.test\n", NULL);
    ck_assert(!search_conf_equal(a, c));
    free(c);
    c = parse("search a.test b.test\noptions ndots:2\n", NULL);
    ck_assert(!search_conf_equal(a, c));
    free(c);
    c = parse("search a.test b.test\noptions no-tld-query\n", NULL);
    ck_assert(!search_conf_equal(a, c));
    free(c);
    free(b);
    free(a);
}
END_TEST

START_TEST(search_short_name_tries_list_first_then_as_is) {
    struct search_conf *c = parse("search a.test b.test\n", NULL);
    char asked[1024];
    ck_assert_uint_eq(run(c, "host", NULL, asked, sizeof(asked)), IPC_STATUS_NXDOMAIN);
    ck_assert_str_eq(asked, "host.a.test host.b.test host");
    free(c);
}
END_TEST

START_TEST(search_dotted_name_tries_as_is_first_and_not_again) {
    struct search_conf *c = parse("search a.test b.test\n", NULL);
    char asked[1024];
    ck_assert_uint_eq(run(c, "www.example", NULL, asked, sizeof(asked)), IPC_STATUS_NXDOMAIN);
    ck_assert_str_eq(asked, "www.example www.example.a.test www.example.b.test");
    free(c);
}
END_TEST

START_TEST(search_ndots_decides_what_goes_first) {
    struct search_conf *c = parse("search a.test\noptions ndots:2\n", NULL);
    char asked[1024];
    run(c, "www.example", NULL, asked, sizeof(asked));
    ck_assert_str_eq(asked, "www.example.a.test www.example");
    run(c, "w.x.y", NULL, asked, sizeof(asked));
    ck_assert_str_eq(asked, "w.x.y w.x.y.a.test");
    free(c);
    c = parse("search a.test\noptions ndots:0\n", NULL);
    run(c, "host", NULL, asked, sizeof(asked));
    ck_assert_str_eq(asked, "host host.a.test");
    free(c);
}
END_TEST

START_TEST(search_trailing_dot_is_absolute) {
    struct search_conf *c = parse("search a.test\n", NULL);
    char asked[1024];
    ck_assert_uint_eq(run(c, "host.", NULL, asked, sizeof(asked)), IPC_STATUS_NXDOMAIN);
    ck_assert_str_eq(asked, "host.");
    struct answer nodata[] = {{"host.", SEARCH_NODATA}, {NULL, 0}};
    ck_assert_uint_eq(run(c, "host.", nodata, asked, sizeof(asked)), IPC_STATUS_NODATA);
    free(c);
}
END_TEST

START_TEST(search_stops_at_the_first_name_found) {
    struct search_conf *c = parse("search a.test b.test c.test\n", NULL);
    char asked[1024];
    struct answer found[] = {{"host.b.test", SEARCH_FOUND}, {NULL, 0}};
    ck_assert_uint_eq(run(c, "host", found, asked, sizeof(asked)), IPC_STATUS_OK);
    ck_assert_str_eq(asked, "host.a.test host.b.test");
    free(c);
}
END_TEST

START_TEST(search_verdict_is_first_as_is_then_nodata_then_servfail) {
    struct search_conf *c = parse("search a.test b.test\n", NULL);
    char asked[1024];
    /* the as-is try came first: its verdict wins */
    struct answer as_is_nodata[] = {{"w.x", SEARCH_NODATA}, {NULL, 0}};
    ck_assert_uint_eq(run(c, "w.x", as_is_nodata, asked, sizeof(asked)), IPC_STATUS_NODATA);
    /* ... as TRY_AGAIN; the last name was answered, so NOTFOUND (glibc takes
     * the NSS status from the last query) */
    struct answer as_is_servfail[] = {
        {"w.x", SEARCH_SERVFAIL}, {"w.x.a.test", SEARCH_NODATA}, {NULL, 0}};
    ck_assert_uint_eq(run(c, "w.x", as_is_servfail, asked, sizeof(asked)),
                      IPC_STATUS_NOTFOUND_TRYAGAIN);
    struct answer all_servfail[] = {{"w.x", SEARCH_SERVFAIL},
                                    {"w.x.a.test", SEARCH_SERVFAIL},
                                    {"w.x.b.test", SEARCH_SERVFAIL},
                                    {NULL, 0}};
    ck_assert_uint_eq(run(c, "w.x", all_servfail, asked, sizeof(asked)), IPC_STATUS_TRYAGAIN);
    /* else any NODATA in the list */
    struct answer list_nodata[] = {
        {"host.a.test", SEARCH_NODATA}, {"host", SEARCH_SERVFAIL}, {NULL, 0}};
    ck_assert_uint_eq(run(c, "host", list_nodata, asked, sizeof(asked)), IPC_STATUS_NODATA);
    /* else any SERVFAIL in the list (which goes on to the next name) */
    struct answer list_servfail[] = {{"host.a.test", SEARCH_SERVFAIL}, {NULL, 0}};
    ck_assert_uint_eq(run(c, "host", list_servfail, asked, sizeof(asked)),
                      IPC_STATUS_NOTFOUND_TRYAGAIN);
    ck_assert_str_eq(asked, "host.a.test host.b.test host");
    /* else the last name's */
    struct answer last_nodata[] = {{"host", SEARCH_NODATA}, {NULL, 0}};
    ck_assert_uint_eq(run(c, "host", last_nodata, asked, sizeof(asked)), IPC_STATUS_NODATA);
    free(c);
}
END_TEST

START_TEST(search_timeout_ends_the_list_but_tries_as_is) {
    struct search_conf *c = parse("search a.test b.test\n", NULL);
    char asked[1024];
    struct answer t[] = {{"host.a.test", SEARCH_TRYAGAIN}, {NULL, 0}};
    ck_assert_uint_eq(run(c, "host", t, asked, sizeof(asked)), IPC_STATUS_NXDOMAIN);
    ck_assert_str_eq(asked, "host.a.test host");
    free(c);
}
END_TEST

START_TEST(search_root_on_the_list_replaces_the_as_is_try) {
    struct search_conf *c = parse("search a.test . b.test\n", NULL);
    char asked[1024];
    run(c, "host", NULL, asked, sizeof(asked));
    ck_assert_str_eq(asked, "host.a.test host. host.b.test");
    free(c);
    c = parse("search .a.test\n", NULL);
    run(c, "host", NULL, asked, sizeof(asked));
    ck_assert_str_eq(asked, "host.a.test host");
    free(c);
}
END_TEST

START_TEST(search_too_long_candidates_end_the_list) {
    char name[256];
    memset(name, 'a', 63);
    name[63] = '.';
    memset(name + 64, 'b', 63);
    name[127] = '.';
    memset(name + 128, 'c', 63);
    name[191] = '.';
    memset(name + 192, 'd', 61);
    name[253] = '\0'; /* 253 octets: valid, but nothing fits after it */
    struct search_conf *c = parse("search a.test b.test\n", NULL);
    char asked[2048];
    ck_assert_uint_eq(run(c, name, NULL, asked, sizeof(asked)), IPC_STATUS_NXDOMAIN);
    ck_assert_str_eq(asked, name);
    free(c);
    /* a short name: the too-long domain counts as NO_RECOVERY, then as is */
    c = parse("search a.test\n", NULL);
    memcpy(c->domains[0], name, strlen(name) + 1);
    ck_assert_uint_eq(run(c, "x", NULL, asked, sizeof(asked)), IPC_STATUS_NXDOMAIN);
    ck_assert_str_eq(asked, "x");
    free(c);
    /* Lengths are the wire form's, not the text's: 200 "\\097" escapes make
     * 800 characters but 206 octets, a name that is asked as is and with
     * the domain. */
    char esc[1024] = "";
    for (int i = 0; i < 200; i++)
        strcat(esc, i % 50 == 49 ? "\\097." : "\\097");
    strcat(esc, "x");
    c = parse("search a.test\n", NULL);
    char big[8192], want[8192];
    ck_assert_uint_eq(run(c, esc, NULL, big, sizeof(big)), IPC_STATUS_NXDOMAIN);
    snprintf(want, sizeof(want), "%s %s.a.test", esc, esc);
    ck_assert_str_eq(big, want);
    free(c);
}
END_TEST

START_TEST(search_no_tld_query_skips_single_labels_after_the_list) {
    struct search_conf *c = parse("search a.test\noptions no-tld-query\n", NULL);
    char asked[1024];
    run(c, "host", NULL, asked, sizeof(asked));
    ck_assert_str_eq(asked, "host.a.test");
    free(c);
    c = parse("options no-tld-query\n", NULL);
    run(c, "host", NULL, asked, sizeof(asked));
    ck_assert_str_eq(asked, "host");
    free(c);
}
END_TEST

START_TEST(search_without_list_asks_the_name_once) {
    struct search_conf *c = parse("nameserver 127.0.0.1\n", NULL);
    char asked[1024];
    run(c, "host", NULL, asked, sizeof(asked));
    ck_assert_str_eq(asked, "host");
    run(c, "v4.test", NULL, asked, sizeof(asked));
    ck_assert_str_eq(asked, "v4.test");
    free(c);
}
END_TEST

int main(void) {
    const struct check_case cases[] = {
        CHECK_CASE(search_conf_reads_search_line),
        CHECK_CASE(search_conf_last_of_domain_and_search_wins),
        CHECK_CASE(search_conf_ignores_comments_and_bare_keywords),
        CHECK_CASE(search_conf_reads_ndots_and_caps_it),
        CHECK_CASE(search_conf_falls_back_to_the_host_name_domain),
        CHECK_CASE(search_conf_keeps_at_most_the_limit),
        CHECK_CASE(search_conf_config_overrides_resolv_conf),
        CHECK_CASE(search_conf_equal_compares_what_lookups_use),
        CHECK_CASE(search_short_name_tries_list_first_then_as_is),
        CHECK_CASE(search_dotted_name_tries_as_is_first_and_not_again),
        CHECK_CASE(search_ndots_decides_what_goes_first),
        CHECK_CASE(search_trailing_dot_is_absolute),
        CHECK_CASE(search_stops_at_the_first_name_found),
        CHECK_CASE(search_verdict_is_first_as_is_then_nodata_then_servfail),
        CHECK_CASE(search_timeout_ends_the_list_but_tries_as_is),
        CHECK_CASE(search_root_on_the_list_replaces_the_as_is_try),
        CHECK_CASE(search_too_long_candidates_end_the_list),
        CHECK_CASE(search_no_tld_query_skips_single_labels_after_the_list),
        CHECK_CASE(search_without_list_asks_the_name_once),
    };
    return check_run("search", cases, sizeof(cases) / sizeof(cases[0]), NULL);
}

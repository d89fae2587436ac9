/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_config_diff.c: unit tests for helperd/config-diff.c, what a reload
 * compares: upstream identity (what keeps a connection across a reload) and
 * the keys a reload keeps at their running value. Configs come from text
 * through config_load(), as the daemon reads them.
 */
#include "config-diff.h"

#include <check.h>

#include "check-run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* bytes 0..31 and 32..63, as kdig/openssl would print their base64 */
#define PIN_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define PIN_B "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="

static struct config *load(const char *text) {
    char path[] = "/tmp/check_config_diff.XXXXXX", err[512] = "";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    ck_assert_int_eq(close(fd), 0);
    struct config *c = NULL;
    int r = config_load(path, &c, err, sizeof(err));
    unlink(path);
    ck_assert_msg(r == 0, "config_load failed (%d): %s\n--- config:\n%s", r, err, text);
    return c;
}

/* A config with the upstreams given as libconfig group bodies. */
static struct config *with_upstreams(const char *extra, const char *ups) {
    char text[2048];
    snprintf(text, sizeof(text), "%s\nupstreams = ( %s );\n", extra, ups);
    return load(text);
}

static bool same(const char *a, const char *b) {
    struct config *x = with_upstreams("", a), *y = with_upstreams("", b);
    bool r = config_upstream_same(&x->upstreams[0], &y->upstreams[0]);
    ck_assert(r == config_upstream_same(&y->upstreams[0], &x->upstreams[0]));
    config_free(x);
    config_free(y);
    return r;
}

START_TEST(config_diff_same_upstream_is_same) {
    ck_assert(same("{ address = \"192.0.2.1\"; auth_name = \"dns.test\"; }",
                   "{ address = \"192.0.2.1\"; port = 853; auth_name = \"dns.test\"; }"));
    ck_assert(same("{ address = \"192.0.2.1\"; spki_pins = ( \"" PIN_A "\" ); }",
                   "{ address = \"192.0.2.1\"; spki_pins = ( \"" PIN_A "\" ); }"));
}
END_TEST

START_TEST(config_diff_address_compared_as_address_not_text) {
    ck_assert(same("{ address = \"2001:db8::1\"; auth_name = \"dns.test\"; }",
                   "{ address = \"2001:db8:0:0::1\"; auth_name = \"dns.test\"; }"));
    ck_assert(!same("{ address = \"2001:db8::1\"; auth_name = \"dns.test\"; }",
                    "{ address = \"2001:db8::2\"; auth_name = \"dns.test\"; }"));
    ck_assert(!same("{ address = \"192.0.2.1\"; auth_name = \"dns.test\"; }",
                    "{ address = \"::ffff:192.0.2.1\"; auth_name = \"dns.test\"; }"));
}
END_TEST

START_TEST(config_diff_port_name_or_pins_make_another_upstream) {
    const char *base = "{ address = \"192.0.2.1\"; auth_name = \"dns.test\"; }";
    ck_assert(!same(base, "{ address = \"192.0.2.1\"; port = 8853; auth_name = \"dns.test\"; }"));
    ck_assert(!same(base, "{ address = \"192.0.2.1\"; auth_name = \"other.test\"; }"));
    ck_assert(!same(base, "{ address = \"192.0.2.1\"; spki_pins = ( \"" PIN_A "\" ); }"));
    ck_assert(!same(base, "{ address = \"192.0.2.1\"; auth_name = \"dns.test\"; "
                          "spki_pins = ( \"" PIN_A "\" ); }"));
    ck_assert(!same("{ address = \"192.0.2.1\"; spki_pins = ( \"" PIN_A "\" ); }",
                    "{ address = \"192.0.2.1\"; spki_pins = ( \"" PIN_B "\" ); }"));
}
END_TEST

START_TEST(config_diff_pins_compared_as_a_set) {
    ck_assert(same("{ address = \"192.0.2.1\"; spki_pins = ( \"" PIN_A "\", \"" PIN_B "\" ); }",
                   "{ address = \"192.0.2.1\"; spki_pins = ( \"" PIN_B "\", \"" PIN_A "\" ); }"));
    ck_assert(same("{ address = \"192.0.2.1\"; spki_pins = ( \"" PIN_A "\", \"" PIN_A "\" ); }",
                   "{ address = \"192.0.2.1\"; spki_pins = ( \"" PIN_A "\" ); }"));
    ck_assert(!same("{ address = \"192.0.2.1\"; spki_pins = ( \"" PIN_A "\", \"" PIN_B "\" ); }",
                    "{ address = \"192.0.2.1\"; spki_pins = ( \"" PIN_A "\" ); }"));
}
END_TEST

#define UP(a) "{ address = \"" a "\"; auth_name = \"dns.test\"; }"

START_TEST(config_diff_match_follows_reordering) {
    struct config *cur = with_upstreams("", UP("192.0.2.1") ", " UP("192.0.2.2"));
    struct config *next =
        with_upstreams("", UP("192.0.2.2") ", " UP("192.0.2.3") ", " UP("192.0.2.1"));
    int map[CONFIG_MAX_UPSTREAMS];
    config_match_upstreams(cur, next, map);
    ck_assert_int_eq(map[0], 1);
    ck_assert_int_eq(map[1], -1);
    ck_assert_int_eq(map[2], 0);
    for (size_t j = 3; j < CONFIG_MAX_UPSTREAMS; j++)
        ck_assert_int_eq(map[j], -1);
    config_free(cur);
    config_free(next);
}
END_TEST

START_TEST(config_diff_match_uses_each_upstream_once) {
    struct config *cur = with_upstreams("", UP("192.0.2.1"));
    struct config *next = with_upstreams("", UP("192.0.2.1") ", " UP("192.0.2.1"));
    int map[CONFIG_MAX_UPSTREAMS];
    config_match_upstreams(cur, next, map);
    ck_assert_int_eq(map[0], 0);
    ck_assert_int_eq(map[1], -1);
    config_match_upstreams(next, cur, map);
    ck_assert_int_eq(map[0], 0);
    config_free(cur);
    config_free(next);
}
END_TEST

START_TEST(config_diff_new_trust_keeps_no_upstream) {
    struct config *cur = with_upstreams("", UP("192.0.2.1"));
    struct config *ca = with_upstreams("ca_file = \"/etc/ssl/other.pem\";", UP("192.0.2.1"));
    struct config *opp = with_upstreams("mode = \"opportunistic\";", UP("192.0.2.1"));
    struct config *again = with_upstreams("", UP("192.0.2.1"));
    int map[CONFIG_MAX_UPSTREAMS];
    config_match_upstreams(cur, ca, map);
    ck_assert_int_eq(map[0], -1);
    config_match_upstreams(ca, cur, map);
    ck_assert_int_eq(map[0], -1);
    config_match_upstreams(cur, opp, map);
    ck_assert_int_eq(map[0], -1);
    config_match_upstreams(cur, again, map);
    ck_assert_int_eq(map[0], 0);
    config_free(cur);
    config_free(ca);
    config_free(opp);
    config_free(again);
}
END_TEST

START_TEST(config_diff_keep_fixed_restores_sockets_and_user) {
    struct config *cur = load("socket = \"/run/a/socket\"; control_socket = \"/run/a/control\";\n"
                              "user = \"nobody\"; log_level = \"info\";\n");
    struct config *next = load("socket = \"/run/b/socket\"; control_socket = \"/run/a/control\";\n"
                               "user = \"root\"; log_level = \"debug\";\n");
    const char *keys[CONFIG_FIXED_KEYS];
    size_t n = 99;
    ck_assert_int_eq(config_keep_fixed(cur, next, keys, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(keys[0], "socket");
    ck_assert_str_eq(keys[1], "user");
    ck_assert_str_eq(next->socket_path, "/run/a/socket");
    ck_assert_str_eq(next->control_socket_path, "/run/a/control");
    ck_assert_str_eq(next->user, "nobody");
    ck_assert_ptr_ne(next->socket_path, cur->socket_path); /* each config owns its strings */
    ck_assert_int_eq(next->log_level, LOG_LEVEL_DEBUG);    /* not a fixed key */
    config_free(cur);
    config_free(next);
    /* the answer map's file is laid out at start-up */
    cur = load("cache = { shared_map = true; shared_map_entries = 1024; };\n");
    next = load("cache = { shared_map = false; shared_map_entries = 64; entries = 5; };\n");
    ck_assert_int_eq(config_keep_fixed(cur, next, keys, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(keys[0], "cache.shared_map");
    ck_assert_str_eq(keys[1], "cache.shared_map_entries");
    ck_assert(next->cache.shared_map);
    ck_assert_uint_eq(next->cache.shared_map_entries, 1024);
    ck_assert_uint_eq(next->cache.entries, 5);
    config_free(cur);
    config_free(next);
}
END_TEST

START_TEST(config_diff_keep_fixed_names_nothing_when_unchanged) {
    struct config *cur = load("user = \"nobody\";\n");
    struct config *next = load("user = \"nobody\"; padding = false;\n");
    const char *keys[CONFIG_FIXED_KEYS];
    size_t n = 99;
    ck_assert_int_eq(config_keep_fixed(cur, next, keys, &n), 0);
    ck_assert_uint_eq(n, 0);
    config_free(cur);
    config_free(next);
}
END_TEST

int main(void) {
    const struct check_case cases[] = {
        CHECK_CASE(config_diff_same_upstream_is_same),
        CHECK_CASE(config_diff_address_compared_as_address_not_text),
        CHECK_CASE(config_diff_port_name_or_pins_make_another_upstream),
        CHECK_CASE(config_diff_pins_compared_as_a_set),
        CHECK_CASE(config_diff_match_follows_reordering),
        CHECK_CASE(config_diff_match_uses_each_upstream_once),
        CHECK_CASE(config_diff_new_trust_keeps_no_upstream),
        CHECK_CASE(config_diff_keep_fixed_restores_sockets_and_user),
        CHECK_CASE(config_diff_keep_fixed_names_nothing_when_unchanged),
    };
    return check_run("config_diff", cases, sizeof(cases) / sizeof(cases[0]), NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_config.c: unit tests for helperd/config.c. Each test writes its config
 * text to a fresh mkstemp file and asserts either the parsed values or the
 * exact "FILE:LINE: message" error, line number included.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>

#include "check-run.h"
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* bytes 0..31 and 32..63, as kdig/openssl would print their base64 */
#define PIN_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define PIN_B "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="

static char conf_path[64];

static void remove_conf(void) {
    if (conf_path[0])
        unlink(conf_path);
    conf_path[0] = '\0';
}

/* Each call replaces the previous file, so loops over cases stay tidy. */
static void write_conf_n(const char *text, size_t len) {
    remove_conf();
    snprintf(conf_path, sizeof(conf_path), "/tmp/check_config.XXXXXX");
    int fd = mkstemp(conf_path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
    ck_assert_int_eq(close(fd), 0);
}

static void write_conf(const char *text) {
    write_conf_n(text, strlen(text));
}

static struct config *load_ok(const char *text) {
    char err[512] = "";
    struct config *c = NULL;
    write_conf(text);
    int r = config_load(conf_path, &c, err, sizeof(err));
    remove_conf(); /* now, so that a failed assertion leaves no file behind */
    ck_assert_msg(r == 0, "config_load failed (%d): %s\n--- config:\n%s", r, err, text);
    ck_assert_ptr_nonnull(c);
    return c;
}

/* Loads the current file, expects -EINVAL, an untouched output and exactly
 * "PATH:LINE: msg" (or "PATH: msg" for line 0). */
static void expect_file_error(unsigned line, const char *msg, const char *text) {
    char err[512] = "", want[600];
    struct config untouched, *c = &untouched;
    if (line > 0)
        snprintf(want, sizeof(want), "%s:%u: %s", conf_path, line, msg);
    else
        snprintf(want, sizeof(want), "%s: %s", conf_path, msg);
    int r = config_load(conf_path, &c, err, sizeof(err));
    remove_conf();
    ck_assert_msg(r == -EINVAL, "want -EINVAL, got %d (%s)\n--- config:\n%s", r, err, text);
    ck_assert_ptr_eq(c, &untouched);
    ck_assert_msg(strcmp(err, want) == 0, "\n got: %s\nwant: %s\n--- config:\n%s", err, want, text);
}

static void expect_error(const char *text, unsigned line, const char *msg) {
    write_conf(text);
    expect_file_error(line, msg, text);
}

static void check_v4(const struct config_upstream *u, const char *addr, uint16_t port) {
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&u->addr;
    struct in_addr want;
    ck_assert_int_eq(inet_pton(AF_INET, addr, &want), 1);
    ck_assert_int_eq(sin->sin_family, AF_INET);
    ck_assert_uint_eq(u->addr_len, sizeof(struct sockaddr_in));
    ck_assert_uint_eq(sin->sin_addr.s_addr, want.s_addr);
    ck_assert_uint_eq(ntohs(sin->sin_port), port);
    ck_assert_uint_eq(u->port, port);
    ck_assert_str_eq(u->address, addr);
}

static void check_v6(const struct config_upstream *u, const char *addr, uint16_t port) {
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&u->addr;
    struct in6_addr want;
    ck_assert_int_eq(inet_pton(AF_INET6, addr, &want), 1);
    ck_assert_int_eq(sin6->sin6_family, AF_INET6);
    ck_assert_uint_eq(u->addr_len, sizeof(struct sockaddr_in6));
    ck_assert_mem_eq(&sin6->sin6_addr, &want, sizeof(want));
    ck_assert_uint_eq(ntohs(sin6->sin6_port), port);
    ck_assert_uint_eq(u->port, port);
    ck_assert_str_eq(u->address, addr);
}

static void check_defaults(const struct config *c) {
    ck_assert_int_eq(c->mode, DOT_MODE_STRICT);
    ck_assert_ptr_null(c->ca_file);
    ck_assert_uint_eq(c->n_upstreams, 3);
    check_v4(&c->upstreams[0], "1.1.1.1", 853);
    check_v4(&c->upstreams[1], "1.0.0.1", 853);
    check_v6(&c->upstreams[2], "2606:4700:4700::1111", 853);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_str_eq(c->upstreams[i].auth_name, "cloudflare-dns.com");
        ck_assert_uint_eq(c->upstreams[i].n_pins, 0);
    }
    ck_assert_int_eq(c->selection, DOT_SELECT_ORDERED);
    ck_assert_uint_eq(c->timeouts.query_ms, 2000);
    ck_assert_uint_eq(c->timeouts.connect_ms, 1000);
    ck_assert_uint_eq(c->timeouts.attempts, 2);
    ck_assert_uint_eq(c->pool.connections_per_upstream, 2);
    ck_assert_uint_eq(c->pool.max_inflight, 1024);
    ck_assert_uint_eq(c->pool.idle_timeout_s, 30);
    ck_assert(c->pool.prewarm);
    ck_assert_uint_eq(c->cache.entries, 10000);
    ck_assert_uint_eq(c->cache.min_ttl, 0);
    ck_assert_uint_eq(c->cache.max_ttl, 86400);
    ck_assert_uint_eq(c->cache.negative_ttl, 300);
    ck_assert_uint_eq(c->cache.serve_stale_s, 0);
    ck_assert_uint_eq(c->clients.max, 4096);
    ck_assert_uint_eq(c->clients.per_user, 2048);
    ck_assert_uint_eq(c->clients.lookups_per_user, 1024);
    ck_assert(c->padding);
    ck_assert(!c->search_set);
    ck_assert_uint_eq(c->n_search, 0);
    ck_assert_int_eq(c->ndots, -1);
    ck_assert_str_eq(c->socket_path, DOT_DEFAULT_SOCKET);
    ck_assert_str_eq(c->control_socket_path, "/run/dot-helperd/control");
    ck_assert_str_eq(c->user, "dot-helperd");
    ck_assert_int_eq(c->log_level, LOG_LEVEL_INFO);
}

/* --- defaults and a full file ---------------------------------------------- */

START_TEST(config_empty_file_gives_defaults) {
    struct config *c = load_ok("");
    check_defaults(c);
    config_free(c);
}
END_TEST

START_TEST(config_comments_only_file_gives_defaults) {
    struct config *c = load_ok("# nothing\n// here\n/* at\n all */\n");
    check_defaults(c);
    config_free(c);
}
END_TEST

START_TEST(config_defaults_match_empty_file) {
    struct config *c = NULL;
    ck_assert_int_eq(config_defaults(&c), 0);
    check_defaults(c);
    config_free(c);
    config_free(NULL);
}
END_TEST

START_TEST(config_full_file_sets_every_key) {
    static const char text[] =
        "mode = \"opportunistic\";\n"
        "ca_file = \"/etc/ssl/certs/ca-certificates.crt\";\n"
        "upstreams = (\n"
        "  { address = \"9.9.9.9\"; port = 8853; auth_name = \"dns.quad9.net.\";\n"
        "    spki_pins = ( \"" PIN_A "\", \"" PIN_B "\" ); },\n"
        "  { address = \"2620:fe::fe\"; }\n"
        ");\n"
        "selection = \"round_robin\";\n"
        "timeouts = { query_ms = 3000; connect_ms = 500; attempts = 3; };\n"
        "pool = { connections_per_upstream = 4; max_inflight = 128; idle_timeout_s = 60;\n"
        "         prewarm = false; };\n"
        "cache = { entries = 500; min_ttl = 10; max_ttl = 3600; negative_ttl = 60;\n"
        "          serve_stale_s = 120; };\n"
        "padding = false;\n"
        "search = ( \"example.org\", \"corp.example\" ); ndots = 2;\n"
        "socket = \"/run/test/socket\"; control_socket = \"/run/test/control\";\n"
        "user = \"nobody\";\n"
        "log_level = \"debug\";\n";
    struct config *c = load_ok(text);

    ck_assert_int_eq(c->mode, DOT_MODE_OPPORTUNISTIC);
    ck_assert_str_eq(c->ca_file, "/etc/ssl/certs/ca-certificates.crt");
    ck_assert_uint_eq(c->n_upstreams, 2);
    check_v4(&c->upstreams[0], "9.9.9.9", 8853);
    ck_assert_str_eq(c->upstreams[0].auth_name, "dns.quad9.net");
    ck_assert_uint_eq(c->upstreams[0].n_pins, 2);
    for (unsigned i = 0; i < 32; i++) {
        ck_assert_uint_eq(c->upstreams[0].pins[0][i], i);
        ck_assert_uint_eq(c->upstreams[0].pins[1][i], 32 + i);
    }
    check_v6(&c->upstreams[1], "2620:fe::fe", 853);
    ck_assert_ptr_null(c->upstreams[1].auth_name);
    ck_assert_uint_eq(c->upstreams[1].n_pins, 0);
    ck_assert_int_eq(c->selection, DOT_SELECT_ROUND_ROBIN);
    ck_assert_uint_eq(c->timeouts.query_ms, 3000);
    ck_assert_uint_eq(c->timeouts.connect_ms, 500);
    ck_assert_uint_eq(c->timeouts.attempts, 3);
    ck_assert_uint_eq(c->pool.connections_per_upstream, 4);
    ck_assert_uint_eq(c->pool.max_inflight, 128);
    ck_assert_uint_eq(c->pool.idle_timeout_s, 60);
    ck_assert(!c->pool.prewarm);
    ck_assert_uint_eq(c->cache.entries, 500);
    ck_assert_uint_eq(c->cache.min_ttl, 10);
    ck_assert_uint_eq(c->cache.max_ttl, 3600);
    ck_assert_uint_eq(c->cache.negative_ttl, 60);
    ck_assert_uint_eq(c->cache.serve_stale_s, 120);
    ck_assert(!c->padding);
    ck_assert(c->search_set);
    ck_assert_uint_eq(c->n_search, 2);
    ck_assert_str_eq(c->search[0], "example.org");
    ck_assert_str_eq(c->search[1], "corp.example");
    ck_assert_int_eq(c->ndots, 2);
    ck_assert_str_eq(c->socket_path, "/run/test/socket");
    ck_assert_str_eq(c->control_socket_path, "/run/test/control");
    ck_assert_str_eq(c->user, "nobody");
    ck_assert_int_eq(c->log_level, LOG_LEVEL_DEBUG);
    config_free(c);
}
END_TEST

START_TEST(config_sample_file_is_valid) {
    const char *srcdir = getenv("top_srcdir");
    char path[4096], err[512] = "";
    struct config *c = NULL;
    snprintf(path, sizeof(path), "%s/etc/dot-helperd.conf", srcdir ? srcdir : ".");
    int r = config_load(path, &c, err, sizeof(err));
    ck_assert_msg(r == 0, "%s", err);
    /* The sample is strict and every upstream in it can be authenticated. */
    ck_assert_int_eq(c->mode, DOT_MODE_STRICT);
    ck_assert_uint_ge(c->n_upstreams, 1);
    for (size_t i = 0; i < c->n_upstreams; i++)
        ck_assert_ptr_nonnull(c->upstreams[i].auth_name);
    config_free(c);
}
END_TEST

/* --- file level errors ----------------------------------------------------- */

START_TEST(config_reports_missing_file_with_errno) {
    char err[512], want[600];
    struct config untouched, *c = &untouched;
    snprintf(conf_path, sizeof(conf_path), "/nonexistent/dot-helperd.conf");
    ck_assert_int_eq(config_load(conf_path, &c, err, sizeof(err)), -ENOENT);
    ck_assert_ptr_eq(c, &untouched);
    snprintf(want, sizeof(want), "%s: %s", conf_path, strerror(ENOENT));
    ck_assert_str_eq(err, want);
    conf_path[0] = '\0';
}
END_TEST

START_TEST(config_reports_directory_as_unreadable) {
    char err[512], want[600];
    struct config untouched, *c = &untouched;
    ck_assert_int_eq(config_load("/tmp", &c, err, sizeof(err)), -EISDIR);
    ck_assert_ptr_eq(c, &untouched);
    snprintf(want, sizeof(want), "/tmp: %s", strerror(EISDIR));
    ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(config_reports_syntax_error_with_line) {
    expect_error("mode = \"strict\";\n"
                 "timeouts = { query_ms = 2000; };\n"
                 "padding = = true;\n",
                 3, "syntax error");
    expect_error("mode = \"strict\";\n\n\nsearch = ( \"a\"\n", 5, "syntax error");
}
END_TEST

START_TEST(config_reports_duplicate_setting_with_line) {
    expect_error("mode = \"strict\";\n"
                 "padding = true;\n"
                 "mode = \"strict\";\n",
                 3, "duplicate setting name");
}
END_TEST

START_TEST(config_rejects_nul_byte_with_line) {
    static const char text[] = "mode = \"strict\";\n# x\0 y\nfoo = 1;\n";
    write_conf_n(text, sizeof(text) - 1);
    expect_file_error(2, "NUL byte in file", "(NUL)");
}
END_TEST

START_TEST(config_rejects_include) {
    expect_error("mode = \"strict\";\n@include \"/etc/other.conf\"\n", 2,
                 "@include is not supported: keep the configuration in one file");
}
END_TEST

START_TEST(config_error_buffer_is_optional_and_truncated_safely) {
    char small[8];
    struct config *c = NULL;
    write_conf("foo = 1;\n");
    ck_assert_int_eq(config_load(conf_path, &c, NULL, 0), -EINVAL);
    ck_assert_int_eq(config_load(conf_path, &c, small, sizeof(small)), -EINVAL);
    ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
    ck_assert_ptr_null(c);
}
END_TEST

/* --- unknown keys ---------------------------------------------------------- */

START_TEST(config_rejects_unknown_key_with_line) {
    expect_error("mode = \"strict\";\n"
                 "\n"
                 "foo = 1;\n",
                 3, "unknown setting 'foo'");
}
END_TEST

START_TEST(config_rejects_unknown_key_in_timeouts) {
    expect_error("timeouts = {\n  query_ms = 2000;\n  retries = 3;\n};\n", 3,
                 "unknown setting 'retries'");
}
END_TEST

START_TEST(config_rejects_unknown_key_in_pool) {
    expect_error("pool = {\n  prewarm = true;\n  size = 3;\n};\n", 3, "unknown setting 'size'");
}
END_TEST

START_TEST(config_rejects_unknown_key_in_cache) {
    expect_error("cache = { entries = 5; };\ncache2 = 1;\n", 2, "unknown setting 'cache2'");
    expect_error("\ncache = { entries = 5;\n  maxttl = 5; };\n", 3, "unknown setting 'maxttl'");
}
END_TEST

START_TEST(config_rejects_unknown_key_in_upstream) {
    expect_error("upstreams = (\n"
                 "  { address = \"1.1.1.1\"; auth_name = \"one.one.one.one\"; },\n"
                 "  { address = \"1.0.0.1\";\n"
                 "    tls_auth_name = \"one.one.one.one\"; }\n"
                 ");\n",
                 4, "unknown setting 'tls_auth_name'");
}
END_TEST

/* --- types ------------------------------------------------------------------- */

START_TEST(config_rejects_wrong_types) {
    static const struct {
        const char *text;
        unsigned line;
        const char *msg;
    } cases[] = {
        {"\ntimeouts = { query_ms = \"2000\"; };\n", 2, "'timeouts.query_ms' must be an integer"},
        {"timeouts = { query_ms = 2000.0; };\n", 1, "'timeouts.query_ms' must be an integer"},
        {"cache = { entries = true; };\n", 1, "'cache.entries' must be an integer"},
        {"ndots = \"1\";\n", 1, "'ndots' must be an integer"},
        {"padding = 1;\n", 1, "'padding' must be a boolean (true or false)"},
        {"pool = { prewarm = \"yes\"; };\n", 1, "'pool.prewarm' must be a boolean (true or false)"},
        {"mode = strict;\n", 1, "syntax error"},
        {"mode = 1;\n", 1, "'mode' must be a string"},
        {"log_level = 3;\n", 1, "'log_level' must be a string"},
        {"timeouts = 5;\n", 1, "'timeouts' must be a group: { ... }"},
        {"cache = ( 1 );\n", 1, "'cache' must be a group: { ... }"},
        {"upstreams = \"1.1.1.1\";\n", 1,
         "'upstreams' must be a list of groups: ( { address = \"...\"; }, ... )"},
        {"upstreams = { address = \"1.1.1.1\"; };\n", 1,
         "'upstreams' must be a list of groups: ( { address = \"...\"; }, ... )"},
        {"upstreams = ( \"1.1.1.1\" );\n", 1,
         "'upstreams[0]' must be a group: { address = \"...\"; ... }"},
        {"upstreams = ( { address = 16843009; } );\n", 1,
         "'upstreams[0].address' must be a string"},
        {"upstreams = ( { address = \"1.1.1.1\"; port = \"853\"; } );\n", 1,
         "'upstreams[0].port' must be an integer"},
        {"upstreams = ( { address = \"1.1.1.1\";\n spki_pins = \"" PIN_A "\"; } );\n", 2,
         "'upstreams[0].spki_pins' must be a list of strings"},
        {"upstreams = ( { address = \"1.1.1.1\";\n spki_pins = ( \"" PIN_A "\",\n 5 ); } );\n", 3,
         "'upstreams[0].spki_pins[1]' must be a string"},
        {"search = \"example.org\";\n", 1, "'search' must be a list of strings"},
        {"socket = ( \"/run/x\" );\n", 1, "'socket' must be a string"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_error(cases[i].text, cases[i].line, cases[i].msg);
}
END_TEST

START_TEST(config_accepts_64_bit_integer_literals) {
    struct config *c = load_ok("timeouts = { query_ms = 2500L; };\n");
    ck_assert_uint_eq(c->timeouts.query_ms, 2500);
    config_free(c);
    expect_error("\ncache = { entries = 10000000000L; };\n", 2,
                 "'cache.entries' must be between 0 and 10000000");
}
END_TEST

/* libconfig 1.5 would read these as 2000 and 0 */
START_TEST(config_rejects_integer_that_libconfig_would_wrap) {
    expect_error("# 99999999999 in a comment is fine\n"
                 "user = \"u1\"; /* so is 99999999999 */ log_level = \"info\";\n"
                 "timeouts = { query_ms = 4294969296; };\n",
                 3, "number 4294969296 is too large");
    expect_error("\n\ncache = { entries = 0x100000000; };\n", 3, "number 0x100000000 is too large");
    expect_error("ndots = -4294967295;\n", 1, "number -4294967295 is too large");
}
END_TEST

/* --- ranges ------------------------------------------------------------------ */

START_TEST(config_rejects_out_of_range_values) {
    static const struct {
        const char *text;
        const char *msg;
    } cases[] = {
        {"timeouts = { query_ms = 99; };", "'timeouts.query_ms' must be between 100 and 60000"},
        {"timeouts = { query_ms = 60001; };", "'timeouts.query_ms' must be between 100 and 60000"},
        {"timeouts = { connect_ms = 9; };", "'timeouts.connect_ms' must be between 10 and 60000"},
        {"timeouts = { connect_ms = 60001; };",
         "'timeouts.connect_ms' must be between 10 and 60000"},
        {"timeouts = { attempts = 0; };", "'timeouts.attempts' must be between 1 and 10"},
        {"timeouts = { attempts = 11; };", "'timeouts.attempts' must be between 1 and 10"},
        {"pool = { connections_per_upstream = 0; };",
         "'pool.connections_per_upstream' must be between 1 and 64"},
        {"pool = { connections_per_upstream = 65; };",
         "'pool.connections_per_upstream' must be between 1 and 64"},
        {"pool = { max_inflight = 0; };", "'pool.max_inflight' must be between 1 and 4096"},
        {"pool = { max_inflight = 4097; };", "'pool.max_inflight' must be between 1 and 4096"},
        {"pool = { idle_timeout_s = 0; };", "'pool.idle_timeout_s' must be between 1 and 3600"},
        {"pool = { idle_timeout_s = 3601; };", "'pool.idle_timeout_s' must be between 1 and 3600"},
        {"cache = { entries = -1; };", "'cache.entries' must be between 0 and 10000000"},
        {"cache = { entries = 10000001; };", "'cache.entries' must be between 0 and 10000000"},
        {"cache = { min_ttl = 86401; };", "'cache.min_ttl' must be between 0 and 86400"},
        {"cache = { max_ttl = 604801; };", "'cache.max_ttl' must be between 0 and 604800"},
        {"cache = { negative_ttl = 86401; };", "'cache.negative_ttl' must be between 0 and 86400"},
        {"cache = { serve_stale_s = 604801; };",
         "'cache.serve_stale_s' must be between 0 and 604800"},
        {"ndots = 16;", "'ndots' must be between 0 and 15"},
        {"ndots = -1;", "'ndots' must be between 0 and 15"},
        {"upstreams = ( { address = \"1.1.1.1\"; port = 0; auth_name = \"a.b\"; } );",
         "'upstreams[0].port' must be between 1 and 65535"},
        {"upstreams = ( { address = \"1.1.1.1\"; port = 65536; auth_name = \"a.b\"; } );",
         "'upstreams[0].port' must be between 1 and 65535"},
    };
    char text[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* two lines of padding so the line number is not trivially 1 */
        snprintf(text, sizeof(text), "mode = \"strict\";\n\n%s\n", cases[i].text);
        expect_error(text, 3, cases[i].msg);
    }
}
END_TEST

START_TEST(config_accepts_range_bounds) {
    struct config *c = load_ok(
        "timeouts = { query_ms = 100; connect_ms = 60000; attempts = 10; };\n"
        "pool = { connections_per_upstream = 64; max_inflight = 1; idle_timeout_s = 3600; };\n"
        "cache = { entries = 0; min_ttl = 86400; max_ttl = 604800; negative_ttl = 0;\n"
        "          serve_stale_s = 604800; };\n"
        "ndots = 0;\n"
        "upstreams = ( { address = \"1.1.1.1\"; port = 65535; auth_name = \"a.b\"; },\n"
        "              { address = \"1.1.1.1\"; port = 1; auth_name = \"a.b\"; } );\n");
    ck_assert_uint_eq(c->timeouts.query_ms, 100);
    ck_assert_uint_eq(c->timeouts.connect_ms, 60000);
    ck_assert_uint_eq(c->timeouts.attempts, 10);
    ck_assert_uint_eq(c->pool.connections_per_upstream, 64);
    ck_assert_uint_eq(c->pool.max_inflight, 1);
    ck_assert_uint_eq(c->pool.idle_timeout_s, 3600);
    ck_assert_uint_eq(c->cache.entries, 0);
    ck_assert_uint_eq(c->cache.min_ttl, 86400);
    ck_assert_uint_eq(c->cache.max_ttl, 604800);
    ck_assert_uint_eq(c->cache.serve_stale_s, 604800);
    ck_assert_int_eq(c->ndots, 0);
    check_v4(&c->upstreams[0], "1.1.1.1", 65535);
    check_v4(&c->upstreams[1], "1.1.1.1", 1);
    config_free(c);
}
END_TEST

START_TEST(config_rejects_max_ttl_below_min_ttl_at_max_ttl_line) {
    expect_error("cache = {\n  max_ttl = 10;\n  min_ttl = 20;\n};\n", 2,
                 "'cache.max_ttl' (10) is less than 'cache.min_ttl' (20)");
    struct config *c = load_ok("cache = { min_ttl = 30; max_ttl = 30; };\n");
    ck_assert_uint_eq(c->cache.max_ttl, 30);
    config_free(c);
}
END_TEST

/* --- choices ----------------------------------------------------------------- */

START_TEST(config_rejects_unknown_mode_selection_and_log_level) {
    expect_error("\nmode = \"paranoid\";\n", 2, "'mode' must be \"strict\" or \"opportunistic\"");
    expect_error("mode = \"Strict\";\n", 1, "'mode' must be \"strict\" or \"opportunistic\"");
    expect_error("\n\nselection = \"random\";\n", 3,
                 "'selection' must be \"ordered\", \"round_robin\" or \"fastest\"");
    expect_error("log_level = \"warn\";\n", 1,
                 "'log_level' must be \"error\", \"warning\", \"info\" or \"debug\"");
}
END_TEST

START_TEST(config_accepts_every_selection_and_log_level) {
    static const char *const sel[] = {"ordered", "round_robin", "fastest"};
    static const char *const lvl[] = {"error", "warning", "info", "debug"};
    char text[128];
    for (int i = 0; i < 4; i++) {
        snprintf(text, sizeof(text), "selection = \"%s\"; log_level = \"%s\";\n", sel[i % 3],
                 lvl[i]);
        struct config *c = load_ok(text);
        ck_assert_int_eq(c->selection, i % 3);
        ck_assert_int_eq(c->log_level, i);
        config_free(c);
    }
}
END_TEST

/* --- upstreams --------------------------------------------------------------- */

START_TEST(config_accepts_ipv6_upstream) {
    struct config *c =
        load_ok("upstreams = ( { address = \"2606:4700:4700::1001\"; port = 8853;\n"
                "                auth_name = \"cloudflare-dns.com\"; },\n"
                "              { address = \"::1\"; auth_name = \"localhost\"; } );\n");
    ck_assert_uint_eq(c->n_upstreams, 2);
    check_v6(&c->upstreams[0], "2606:4700:4700::1001", 8853);
    check_v6(&c->upstreams[1], "::1", 853);
    config_free(c);
}
END_TEST

START_TEST(config_port_may_come_before_address) {
    struct config *c = load_ok(
        "upstreams = ( { port = 443; auth_name = \"a.example\"; address = \"192.0.2.1\"; } );\n");
    check_v4(&c->upstreams[0], "192.0.2.1", 443);
    config_free(c);
}
END_TEST

START_TEST(config_rejects_bad_address) {
    static const char *const bad[] = {"",      "1.2.3",       "256.1.1.1", "1.1.1.1.1",
                                      "::g",   "1.1.1.1:853", " 1.1.1.1",  "fe80::1%eth0",
                                      "[::1]", "0x01010101"};
    char text[256];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text),
                 "upstreams = (\n  { auth_name = \"a.b\";\n    address = \"%s\"; }\n);\n", bad[i]);
        expect_error(text, 3, "'upstreams[0].address' must be a numeric IPv4 or IPv6 address");
    }
}
END_TEST

START_TEST(config_rejects_host_name_as_address) {
    expect_error("upstreams = ( { address = \"1.1.1.1\"; auth_name = \"a.b\"; },\n"
                 "  { address = \"dns.google\"; auth_name = \"dns.google\"; } );\n",
                 2,
                 "'upstreams[1].address' must be a numeric IPv4 or IPv6 address, not a host name "
                 "(put the name in auth_name)");
    expect_error("upstreams = ( { address = \"localhost\"; auth_name = \"a.b\"; } );\n", 1,
                 "'upstreams[0].address' must be a numeric IPv4 or IPv6 address, not a host name "
                 "(put the name in auth_name)");
}
END_TEST

START_TEST(config_rejects_upstream_without_address) {
    expect_error("upstreams = (\n  { auth_name = \"dns.quad9.net\"; port = 853; }\n);\n", 2,
                 "'upstreams[0]' has no 'address'");
}
END_TEST

START_TEST(config_rejects_empty_upstream_list) {
    expect_error("\nupstreams = ( );\n", 2,
                 "'upstreams' is empty: give at least one upstream or leave it out");
}
END_TEST

START_TEST(config_rejects_too_many_upstreams_at_first_extra_entry) {
    char text[4096] = "upstreams = (\n";
    for (int i = 0; i < CONFIG_MAX_UPSTREAMS + 2; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text),
                 "%s  { address = \"192.0.2.%d\"; auth_name = \"a.b\"; }", i > 0 ? ",\n" : "",
                 i + 1);
    strcat(text, "\n);\n");
    expect_error(text, CONFIG_MAX_UPSTREAMS + 2, "too many upstreams (at most 16)");
}
END_TEST

START_TEST(config_accepts_max_and_duplicate_upstreams) {
    char text[4096] = "upstreams = (\n";
    for (int i = 0; i < CONFIG_MAX_UPSTREAMS; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text),
                 "  { address = \"1.1.1.1\"; auth_name = \"cloudflare-dns.com\"; }%s\n",
                 i + 1 < CONFIG_MAX_UPSTREAMS ? "," : "");
    strcat(text, ");\n");
    struct config *c = load_ok(text);
    ck_assert_uint_eq(c->n_upstreams, CONFIG_MAX_UPSTREAMS);
    check_v4(&c->upstreams[CONFIG_MAX_UPSTREAMS - 1], "1.1.1.1", 853);
    config_free(c);
}
END_TEST

START_TEST(config_rejects_invalid_auth_name) {
    static const char *const bad[] = {
        "",
        ".",
        "a..b",
        "dns quad9.net",
        "dns/quad9",
        "a.b,c",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b"};
    char text[256];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text),
                 "upstreams = ( { address = \"9.9.9.9\";\n auth_name = \"%s\"; } );\n", bad[i]);
        expect_error(text, 2, "'upstreams[0].auth_name' is not a valid DNS name");
    }
}
END_TEST

START_TEST(config_strips_trailing_dot_from_auth_name) {
    struct config *c =
        load_ok("upstreams = ( { address = \"9.9.9.9\"; auth_name = \"dns.quad9.net.\"; } );\n");
    ck_assert_str_eq(c->upstreams[0].auth_name, "dns.quad9.net");
    config_free(c);
}
END_TEST

/* --- pins -------------------------------------------------------------------- */

START_TEST(config_rejects_pin_with_bad_base64) {
    static const char *const bad[] = {
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",     /* padding missing */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=",    /* non-zero pad bits */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8==",   /* padding over */
        " AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",   /* whitespace */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\\nHh8=", /* line break */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8*",    /* not in the alphabet */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd-_8=",    /* base64url, not base64 */
        "AAEC=wQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",    /* padding in the middle */
        "====",
    };
    char text[256];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text),
                 "upstreams = ( { address = \"9.9.9.9\";\n"
                 "  spki_pins = ( \"" PIN_B "\",\n"
                 "                \"%s\" ); } );\n",
                 bad[i]);
        expect_error(text, 3, "'upstreams[0].spki_pins[1]' is not valid base64");
    }
}
END_TEST

START_TEST(config_rejects_pin_of_wrong_length) {
    expect_error("upstreams = ( { address = \"9.9.9.9\";\n"
                 "  spki_pins = ( \"AAAAAAAAAAAAAAAAAAAAAA==\" ); } );\n",
                 2, "'upstreams[0].spki_pins[0]' decodes to 16 bytes, not 32 (a SHA-256 digest)");
    expect_error("upstreams = ( { address = \"9.9.9.9\";\n"
                 "  spki_pins = ( \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\" ); } );\n",
                 2, "'upstreams[0].spki_pins[0]' decodes to 33 bytes, not 32 (a SHA-256 digest)");
    expect_error("upstreams = ( { address = \"9.9.9.9\";\n"
                 "  spki_pins = ( \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\" ); } );\n",
                 2, "'upstreams[0].spki_pins[0]' decodes to 31 bytes, not 32 (a SHA-256 digest)");
}
END_TEST

START_TEST(config_rejects_empty_pin) {
    expect_error("upstreams = ( { address = \"9.9.9.9\"; auth_name = \"dns.quad9.net\";\n"
                 "  spki_pins = ( \"" PIN_A "\",\n  \"\" ); } );\n",
                 3, "'upstreams[0].spki_pins[1]' is empty");
}
END_TEST

START_TEST(config_rejects_empty_pin_list) {
    expect_error("upstreams = ( { address = \"9.9.9.9\"; auth_name = \"dns.quad9.net\";\n"
                 "  spki_pins = ( ); } );\n",
                 2, "'upstreams[0].spki_pins' is empty: give at least one pin or leave it out");
    expect_error("upstreams = ( { address = \"9.9.9.9\"; auth_name = \"dns.quad9.net\";\n"
                 "  spki_pins = [ ]; } );\n",
                 2, "'upstreams[0].spki_pins' is empty: give at least one pin or leave it out");
}
END_TEST

START_TEST(config_rejects_too_many_pins) {
    char text[2048] = "upstreams = ( { address = \"9.9.9.9\"; spki_pins = (\n";
    for (int i = 0; i < CONFIG_MAX_PINS + 2; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "  \"%s\"%s\n", PIN_A,
                 i < CONFIG_MAX_PINS + 1 ? "," : "");
    strcat(text, "); } );\n");
    expect_error(text, CONFIG_MAX_PINS + 2,
                 "too many pins in 'upstreams[0].spki_pins' (at most 8)");
}
END_TEST

START_TEST(config_accepts_pins_as_array) {
    struct config *c =
        load_ok("upstreams = ( { address = \"9.9.9.9\"; spki_pins = [ \"" PIN_B "\" ]; } );\n");
    ck_assert_uint_eq(c->upstreams[0].n_pins, 1);
    ck_assert_ptr_null(c->upstreams[0].auth_name);
    ck_assert_uint_eq(c->upstreams[0].pins[0][31], 63);
    config_free(c);
}
END_TEST

/* --- strict mode ------------------------------------------------------------- */

START_TEST(config_rejects_strict_upstream_without_auth_name_or_pins) {
    static const char msg[] = "'upstreams[1]' has neither 'auth_name' nor 'spki_pins': strict "
                              "mode cannot authenticate it";
    /* implicit strict */
    expect_error("upstreams = (\n"
                 "  { address = \"9.9.9.9\"; auth_name = \"dns.quad9.net\"; },\n"
                 "  { address = \"149.112.112.112\"; port = 853; }\n"
                 ");\n",
                 3, msg);
    /* explicit strict, written after the upstreams */
    expect_error("upstreams = (\n"
                 "  { address = \"9.9.9.9\"; auth_name = \"dns.quad9.net\"; },\n"
                 "  { address = \"149.112.112.112\"; }\n"
                 ");\n"
                 "mode = \"strict\";\n",
                 3, msg);
}
END_TEST

START_TEST(config_allows_opportunistic_upstream_without_auth) {
    struct config *c = load_ok("upstreams = ( { address = \"192.0.2.53\"; } );\n"
                               "mode = \"opportunistic\";\n");
    ck_assert_int_eq(c->mode, DOT_MODE_OPPORTUNISTIC);
    ck_assert_uint_eq(c->n_upstreams, 1);
    ck_assert_ptr_null(c->upstreams[0].auth_name);
    ck_assert_uint_eq(c->upstreams[0].n_pins, 0);
    check_v4(&c->upstreams[0], "192.0.2.53", 853);
    config_free(c);
}
END_TEST

START_TEST(config_allows_strict_upstream_with_pins_only) {
    struct config *c =
        load_ok("mode = \"strict\";\nupstreams = ( { address = \"9.9.9.9\"; spki_pins = ( \"" PIN_A
                "\" ); } );\n");
    ck_assert_uint_eq(c->upstreams[0].n_pins, 1);
    ck_assert_uint_eq(c->upstreams[0].pins[0][1], 1);
    config_free(c);
}
END_TEST

/* --- search, paths, user ------------------------------------------------------ */

START_TEST(config_search_list_is_checked) {
    expect_error("search = ( \"example.org\",\n \"bad..name\" );\n", 2,
                 "'search[1]' is not a valid DNS name");
    expect_error("search = ( \"example.org\",\n \"\" );\n", 2,
                 "'search[1]' is not a valid DNS name");
    expect_error("search = ( \"a1\", \"a2\", \"a3\", \"a4\", \"a5\", \"a6\",\n \"a7\" );\n", 2,
                 "too many entries in 'search' (at most 6)");
    struct config *c = load_ok("search = ( );\n");
    ck_assert(c->search_set);
    ck_assert_uint_eq(c->n_search, 0);
    ck_assert_int_eq(c->ndots, -1);
    config_free(c);
    c = load_ok("ndots = 3;\n");
    ck_assert(!c->search_set);
    ck_assert_int_eq(c->ndots, 3);
    config_free(c);
}
END_TEST

START_TEST(config_socket_paths_must_be_absolute_and_fit) {
    char text[512], longpath[120];
    memset(longpath, 'x', sizeof(longpath));
    longpath[0] = '/';
    longpath[108] = '\0'; /* 108 bytes: one more than sun_path can hold with its NUL */
    expect_error("\nsocket = \"run/socket\";\n", 2, "'socket' must be an absolute path");
    expect_error("control_socket = \"\";\n", 1, "'control_socket' must be an absolute path");
    snprintf(text, sizeof(text), "socket = \"%s\";\n", longpath);
    expect_error(text, 1, "'socket' is too long (at most 107 bytes)");
    longpath[107] = '\0';
    snprintf(text, sizeof(text), "socket = \"%s\";\n", longpath);
    struct config *c = load_ok(text);
    ck_assert_str_eq(c->socket_path, longpath);
    config_free(c);
}
END_TEST

START_TEST(config_rejects_same_path_for_both_sockets) {
    expect_error("socket = \"/run/x\";\ncontrol_socket = \"/run/x\";\n", 2,
                 "'control_socket' and 'socket' must be different paths");
    expect_error("socket = \"/run/dot-helperd/control\";\n", 1,
                 "'control_socket' and 'socket' must be different paths");
}
END_TEST

START_TEST(config_ca_file_must_be_absolute_but_need_not_exist) {
    expect_error("\nca_file = \"certs/ca.pem\";\n", 2, "'ca_file' must be an absolute path");
    struct config *c = load_ok("ca_file = \"/nonexistent/ca.pem\";\n");
    ck_assert_str_eq(c->ca_file, "/nonexistent/ca.pem");
    config_free(c);
}
END_TEST

START_TEST(config_rejects_invalid_user) {
    static const char *const bad[] = {"",    "-x",     "dot helperd",
                                      "a/b", "root:x", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    char text[128];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "\nuser = \"%s\";\n", bad[i]);
        expect_error(text, 2, "'user' is not a valid user name");
    }
}
END_TEST

int main(void) {
    const struct check_case cases[] = {
        CHECK_CASE(config_empty_file_gives_defaults),
        CHECK_CASE(config_comments_only_file_gives_defaults),
        CHECK_CASE(config_defaults_match_empty_file),
        CHECK_CASE(config_full_file_sets_every_key),
        CHECK_CASE(config_sample_file_is_valid),
        CHECK_CASE(config_reports_missing_file_with_errno),
        CHECK_CASE(config_reports_directory_as_unreadable),
        CHECK_CASE(config_reports_syntax_error_with_line),
        CHECK_CASE(config_reports_duplicate_setting_with_line),
        CHECK_CASE(config_rejects_nul_byte_with_line),
        CHECK_CASE(config_rejects_include),
        CHECK_CASE(config_error_buffer_is_optional_and_truncated_safely),
        CHECK_CASE(config_rejects_unknown_key_with_line),
        CHECK_CASE(config_rejects_unknown_key_in_timeouts),
        CHECK_CASE(config_rejects_unknown_key_in_pool),
        CHECK_CASE(config_rejects_unknown_key_in_cache),
        CHECK_CASE(config_rejects_unknown_key_in_upstream),
        CHECK_CASE(config_rejects_wrong_types),
        CHECK_CASE(config_accepts_64_bit_integer_literals),
        CHECK_CASE(config_rejects_integer_that_libconfig_would_wrap),
        CHECK_CASE(config_rejects_out_of_range_values),
        CHECK_CASE(config_accepts_range_bounds),
        CHECK_CASE(config_rejects_max_ttl_below_min_ttl_at_max_ttl_line),
        CHECK_CASE(config_rejects_unknown_mode_selection_and_log_level),
        CHECK_CASE(config_accepts_every_selection_and_log_level),
        CHECK_CASE(config_accepts_ipv6_upstream),
        CHECK_CASE(config_port_may_come_before_address),
        CHECK_CASE(config_rejects_bad_address),
        CHECK_CASE(config_rejects_host_name_as_address),
        CHECK_CASE(config_rejects_upstream_without_address),
        CHECK_CASE(config_rejects_empty_upstream_list),
        CHECK_CASE(config_rejects_too_many_upstreams_at_first_extra_entry),
        CHECK_CASE(config_accepts_max_and_duplicate_upstreams),
        CHECK_CASE(config_rejects_invalid_auth_name),
        CHECK_CASE(config_strips_trailing_dot_from_auth_name),
        CHECK_CASE(config_rejects_pin_with_bad_base64),
        CHECK_CASE(config_rejects_pin_of_wrong_length),
        CHECK_CASE(config_rejects_empty_pin),
        CHECK_CASE(config_rejects_empty_pin_list),
        CHECK_CASE(config_rejects_too_many_pins),
        CHECK_CASE(config_accepts_pins_as_array),
        CHECK_CASE(config_rejects_strict_upstream_without_auth_name_or_pins),
        CHECK_CASE(config_allows_opportunistic_upstream_without_auth),
        CHECK_CASE(config_allows_strict_upstream_with_pins_only),
        CHECK_CASE(config_search_list_is_checked),
        CHECK_CASE(config_socket_paths_must_be_absolute_and_fit),
        CHECK_CASE(config_rejects_same_path_for_both_sockets),
        CHECK_CASE(config_ca_file_must_be_absolute_but_need_not_exist),
        CHECK_CASE(config_rejects_invalid_user),
    };
    return check_run("config", cases, sizeof(cases) / sizeof(cases[0]), remove_conf);
}

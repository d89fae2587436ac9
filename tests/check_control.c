/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_control.c: unit tests for the control socket's codec
 * (common/control-proto.c): requests and replies round-trip, and anything
 * else is refused whole.
 */
#include "control-proto.h"

#include <check.h>
#include <errno.h>
#include <string.h>

#include "check-run.h"
#include <stdio.h>

/* Decodes text (copied: the decoder splits in place). */
static int decode_req(const char *text, struct ctl_request *req, char *copy, size_t cap) {
    size_t n = strlen(text);
    ck_assert_uint_lt(n, cap);
    memcpy(copy, text, n + 1);
    return ctl_request_decode(copy, n, req);
}

START_TEST(ctl_request_round_trips) {
    char buf[CTL_MAX_REQUEST + 1];
    const char *args[] = {"www.example.org", "AAAA"};
    int n = ctl_request_encode(buf, sizeof(buf), "query", args, 2);
    ck_assert_int_gt(n, 0);
    ck_assert_str_eq(buf, "dot-helperctl/1 query www.example.org AAAA\n");
    struct ctl_request req;
    ck_assert_int_eq(ctl_request_decode(buf, (size_t)n, &req), 0);
    ck_assert_int_eq(req.cmd, CTL_CMD_QUERY);
    ck_assert_uint_eq(req.argc, 2);
    ck_assert_str_eq(req.argv[0], "www.example.org");
    ck_assert_str_eq(req.argv[1], "AAAA");

    n = ctl_request_encode(buf, sizeof(buf), "stats", NULL, 0);
    ck_assert_int_eq(ctl_request_decode(buf, (size_t)n, &req), 0);
    ck_assert_int_eq(req.cmd, CTL_CMD_STATS);
    ck_assert_uint_eq(req.argc, 0);
}
END_TEST

START_TEST(ctl_request_encode_rejects_bad_words) {
    char buf[CTL_MAX_REQUEST + 1];
    const char *space[] = {"a b"};
    const char *empty[] = {""};
    const char *nl[] = {"a\nb"};
    const char *many[] = {"1", "2", "3", "4", "5"};
    ck_assert_int_eq(ctl_request_encode(buf, sizeof(buf), "query", space, 1), -EINVAL);
    ck_assert_int_eq(ctl_request_encode(buf, sizeof(buf), "query", empty, 1), -EINVAL);
    ck_assert_int_eq(ctl_request_encode(buf, sizeof(buf), "query", nl, 1), -EINVAL);
    ck_assert_int_eq(ctl_request_encode(buf, sizeof(buf), "query", many, 5), -EINVAL);
    ck_assert_int_eq(ctl_request_encode(buf, 10, "stats", NULL, 0), -ENOBUFS);
    char big[CTL_MAX_REQUEST];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    const char *toolong[] = {big};
    ck_assert_int_eq(ctl_request_encode(buf, sizeof(buf), "query", toolong, 1), -ENOBUFS);
}
END_TEST

START_TEST(ctl_request_decode_rejects_garbage) {
    static const char *const bad[] = {
        "",
        "\n",
        "dot-helperctl/1 stats",             /* no newline */
        "dot-helperctl/1\n",                 /* no command */
        "dot-helperctl/1  stats\n",          /* two spaces */
        "dot-helperctl/1 stats \n",          /* trailing space */
        " dot-helperctl/1 stats\n",          /* leading space */
        "dot-helperctl/1 st\tats\n",         /* control character */
        "dot-helperctl/1 stats\r\n",         /* CR */
        "GET / HTTP/1.0\n",                  /* not ours */
        "dot-helperctl/1 flush a b c d e\n", /* too many arguments */
        "dot-helperctl/1 stats\nstats\n",    /* trailing bytes */
    };
    char copy[CTL_MAX_REQUEST * 2];
    struct ctl_request req;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(decode_req(bad[i], &req, copy, sizeof(copy)) == -EBADMSG, "accepted %zu", i);
    char nul[] = "dot-helperctl/1 st\0ts\n";
    ck_assert_int_eq(ctl_request_decode(nul, sizeof(nul) - 1, &req), -EBADMSG);
}
END_TEST

START_TEST(ctl_request_decode_tells_version_and_unknown_command) {
    char copy[64];
    struct ctl_request req;
    ck_assert_int_eq(decode_req("dot-helperctl/2 stats\n", &req, copy, sizeof(copy)), -EPROTO);
    ck_assert_int_eq(decode_req("dot-helperctl/1 shutdown\n", &req, copy, sizeof(copy)), -ENOENT);
}
END_TEST

START_TEST(ctl_request_decode_refuses_over_the_bound) {
    static char line[CTL_MAX_REQUEST + 2];
    size_t n = (size_t)snprintf(line, sizeof(line), "%s flush ", CTL_PROTO);
    memset(line + n, 'a', CTL_MAX_REQUEST + 1 - n);
    line[CTL_MAX_REQUEST] = '\n';
    struct ctl_request req;
    ck_assert_int_eq(ctl_request_decode(line, CTL_MAX_REQUEST + 1, &req), -EBADMSG);
    /* exactly at the bound: fine */
    line[CTL_MAX_REQUEST - 1] = '\n';
    ck_assert_int_eq(ctl_request_decode(line, CTL_MAX_REQUEST, &req), 0);
    ck_assert_uint_eq(strlen(req.argv[0]), CTL_MAX_REQUEST - 1 - n);
}
END_TEST

START_TEST(ctl_reply_round_trips_data_and_ok) {
    char buf[4096];
    struct ctl_reply_builder b;
    ctl_reply_begin(&b, buf, sizeof(buf));
    ctl_reply_add(&b, "upstream.0.address", "%s", "127.0.0.1");
    ctl_reply_add(&b, "cache.hits", "%u", 42u);
    ctl_reply_add(&b, "empty", "%s", "");
    size_t n = ctl_reply_ok(&b);
    ck_assert_uint_eq(n, strlen("upstream.0.address=127.0.0.1\ncache.hits=42\nempty=\nok\n"));
    struct ctl_reply_view v;
    ck_assert_int_eq(ctl_reply_decode(buf, n, &v), 0);
    ck_assert(v.ok);
    const char *cur = v.data;
    struct ctl_kv kv;
    ck_assert(ctl_reply_next(&v, &cur, &kv));
    ck_assert_uint_eq(kv.key_len, strlen("upstream.0.address"));
    ck_assert(memcmp(kv.value, "127.0.0.1", kv.value_len) == 0);
    ck_assert(ctl_reply_next(&v, &cur, &kv));
    ck_assert(memcmp(kv.key, "cache.hits", kv.key_len) == 0);
    ck_assert(ctl_reply_next(&v, &cur, &kv));
    ck_assert_uint_eq(kv.value_len, 0);
    ck_assert(!ctl_reply_next(&v, &cur, &kv));
}
END_TEST

START_TEST(ctl_reply_error_carries_code_and_message) {
    char buf[4096];
    struct ctl_reply_builder b;
    ctl_reply_begin(&b, buf, sizeof(buf));
    ctl_reply_add(&b, "dropped", "x");
    size_t n = ctl_reply_error(&b, CTL_ERR_FAILED, "%s:%d: %s", "/etc/x.conf", 3, "bad = value");
    struct ctl_reply_view v;
    ck_assert_int_eq(ctl_reply_decode(buf, n, &v), 0);
    ck_assert(!v.ok);
    ck_assert_int_eq(v.error, CTL_ERR_FAILED);
    ck_assert_uint_eq(v.data_len, 0);
    ck_assert_uint_eq(v.message_len, strlen("/etc/x.conf:3: bad = value"));
    ck_assert(memcmp(v.message, "/etc/x.conf:3: bad = value", v.message_len) == 0);
}
END_TEST

START_TEST(ctl_reply_values_cannot_split_lines) {
    char buf[4096];
    struct ctl_reply_builder b;
    ctl_reply_begin(&b, buf, sizeof(buf));
    ctl_reply_add(&b, "reason", "%s", "evil\nok\n");
    size_t n = ctl_reply_ok(&b);
    ck_assert_str_eq(buf + 0, "reason=evil?ok?\nok\n");
    struct ctl_reply_view v;
    ck_assert_int_eq(ctl_reply_decode(buf, n, &v), 0);
    /* a key the protocol does not allow is an overflow, not a line */
    ctl_reply_begin(&b, buf, sizeof(buf));
    ctl_reply_add(&b, "Bad Key", "1");
    n = ctl_reply_ok(&b);
    ck_assert_int_eq(ctl_reply_decode(buf, n, &v), 0);
    ck_assert(!v.ok);
    ck_assert_int_eq(v.error, CTL_ERR_INTERNAL);
}
END_TEST

START_TEST(ctl_reply_overflow_becomes_an_error) {
    static char buf[CTL_MAX_STATUS + 200];
    struct ctl_reply_builder b;
    ctl_reply_begin(&b, buf, sizeof(buf));
    for (int i = 0; i < 50; i++)
        ctl_reply_add(&b, "k", "%d", i);
    size_t n = ctl_reply_ok(&b);
    ck_assert_uint_le(n, sizeof(buf));
    struct ctl_reply_view v;
    ck_assert_int_eq(ctl_reply_decode(buf, n, &v), 0);
    ck_assert(!v.ok);
    ck_assert_int_eq(v.error, CTL_ERR_INTERNAL);
    ck_assert_uint_eq(v.data_len, 0);
}
END_TEST

START_TEST(ctl_reply_decode_rejects_garbage) {
    static const char *const bad[] = {
        "",
        "ok",                   /* no newline */
        "k=v\n",                /* no status line */
        "k=v\nok\nk=v\n",       /* status not last */
        "novalue\nok\n",        /* data line without = */
        "=v\nok\n",             /* empty key */
        "K=v\nok\n",            /* key outside [a-z0-9_.] */
        "error nosuch thing\n", /* unknown code */
        "error usage\n",        /* no message */
        "OK\n",
        "k=\tv\nok\n", /* control character */
    };
    struct ctl_reply_view v;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(ctl_reply_decode(bad[i], strlen(bad[i]), &v) == -EBADMSG, "accepted %zu", i);
    ck_assert_int_eq(ctl_reply_decode("error busy try later\n", 21, &v), 0);
    ck_assert_int_eq(v.error, CTL_ERR_BUSY);
}
END_TEST

int main(void) {
    const struct check_case cases[] = {
        CHECK_CASE(ctl_request_round_trips),
        CHECK_CASE(ctl_request_encode_rejects_bad_words),
        CHECK_CASE(ctl_request_decode_rejects_garbage),
        CHECK_CASE(ctl_request_decode_tells_version_and_unknown_command),
        CHECK_CASE(ctl_request_decode_refuses_over_the_bound),
        CHECK_CASE(ctl_reply_round_trips_data_and_ok),
        CHECK_CASE(ctl_reply_error_carries_code_and_message),
        CHECK_CASE(ctl_reply_values_cannot_split_lines),
        CHECK_CASE(ctl_reply_overflow_becomes_an_error),
        CHECK_CASE(ctl_reply_decode_rejects_garbage),
    };
    return check_run("control", cases, sizeof(cases) / sizeof(cases[0]), NULL);
}

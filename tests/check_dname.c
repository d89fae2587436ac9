/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_dname.c: unit tests for domain names (common/dname.c): the text to
 * wire conversion as glibc's ns_name_pton does it, wire to text as
 * ns_name_ntop, the one canonical comparison (octet for octet, ASCII-only
 * folding, RFC 4343), and res_hnok.
 *
 * The edges that matter: a 63-octet label and a 255-octet wire name are the
 * largest that fit a DNS message; escapes make text longer than the wire
 * form; and every octet value 0-255 must survive a round trip and compare
 * equal only to itself (and to its other ASCII case).
 */
#include "dname.h"

#include <check.h>

#include "check-run.h"
#include <errno.h>
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

/* Converts and compares with the expected wire bytes. */
static void assert_wire(const char *text, const char *want, size_t want_len) {
    uint8_t w[DNAME_MAX_WIRE];
    int n = dname_from_text(text, w);
    ck_assert_msg(n == (int)want_len, "\"%s\": length %d, want %zu", text, n, want_len);
    ck_assert_msg(memcmp(w, want, want_len) == 0, "\"%s\": wrong octets", text);
}

static bool converts(const char *text) {
    uint8_t w[DNAME_MAX_WIRE];
    return dname_from_text(text, w) > 0;
}

START_TEST(from_text_makes_length_prefixed_labels) {
    assert_wire("a", "\1a", 3);
    assert_wire("www.example.org", "\3www\7example\3org", 17);
    assert_wire("www.example.org.", "\3www\7example\3org", 17);
    assert_wire("1.0.0.127.in-addr.arpa", "\0011\0010\0010\003127\7in-addr\4arpa", 24);
}
END_TEST

START_TEST(from_text_takes_empty_and_dot_as_the_root) {
    /* ns_name_pton: both are the root, one octet. */
    assert_wire("", "", 1);
    assert_wire(".", "", 1);
}
END_TEST

START_TEST(from_text_rejects_empty_labels) {
    ck_assert(!converts(".."));
    ck_assert(!converts("a..b"));
    ck_assert(!converts(".a"));
    ck_assert(!converts(".a."));
    ck_assert(!converts("a.."));
    ck_assert(!converts("..a"));
}
END_TEST

START_TEST(from_text_reads_escapes_as_glibc_does) {
    assert_wire("\\118\\052.test", "\2v4\4test", 9);
    assert_wire("a\\.b.test", "\3a.b\4test", 10);   /* one label with a dot */
    assert_wire("a\\\\b", "\3a\\b", 5);             /* a backslash */
    assert_wire("\\000x", "\2\0x", 4);              /* a zero octet */
    assert_wire("\\255", "\1\377", 3);              /* the largest */
    assert_wire("trailing\\.", "\11trailing.", 11); /* an escaped last dot */
    ck_assert(!converts("\\256"));                  /* over 255 */
    ck_assert(!converts("v\\4.test"));              /* two digits is no escape */
    ck_assert(!converts("v\\40.test"));
    ck_assert(!converts("a\\")); /* a trailing backslash */
    ck_assert(!converts("\\"));
}
END_TEST

START_TEST(from_text_takes_63_octet_labels_not_64) {
    char label[80], name[300];
    ck_assert(converts(repeat(label, 'a', 63)));
    snprintf(name, sizeof(name), "%s.example", label);
    ck_assert(converts(name));
    ck_assert(!converts(repeat(label, 'a', 64)));
    snprintf(name, sizeof(name), "x.%s.example", label);
    ck_assert(!converts(name));
    /* An escape counts as the one octet it stands for. */
    char esc[63 * 4 + 2] = "";
    for (int i = 0; i < 63; i++)
        strcat(esc, "\\097");
    ck_assert(converts(esc));
    strcat(esc, "a");
    ck_assert(!converts(esc));
}
END_TEST

START_TEST(from_text_takes_255_wire_octets_not_256) {
    char name[DNAME_MAX_TEXT + 8];
    /* 253 characters of text: 255 octets on the wire, the most there is. */
    make_name(name, DNAME_MAX_TEXT, DNAME_MAX_LABEL);
    uint8_t w[DNAME_MAX_WIRE];
    ck_assert_int_eq(dname_from_text(name, w), 255);
    strcat(name, ".");
    ck_assert_int_eq(dname_from_text(name, w), 255);
    make_name(name, DNAME_MAX_TEXT + 1, DNAME_MAX_LABEL);
    ck_assert(!converts(name));
    for (size_t len = 1; len <= DNAME_MAX_TEXT + 4; len++) {
        make_name(name, len, 10);
        ck_assert_msg(converts(name) == (len <= DNAME_MAX_TEXT), "length %zu", len);
    }
}
END_TEST

START_TEST(to_text_escapes_as_ns_name_ntop) {
    char t[DNAME_MAX_PRESENTATION];
    ck_assert_int_eq(dname_to_text((const uint8_t *)"", t, sizeof(t)), 1);
    ck_assert_str_eq(t, ".");
    dname_to_text((const uint8_t *)"\3www\7example\3org", t, sizeof(t));
    ck_assert_str_eq(t, "www.example.org");
    dname_to_text((const uint8_t *)"\3a.b\4test", t, sizeof(t));
    ck_assert_str_eq(t, "a\\.b.test");
    dname_to_text((const uint8_t *)"\10\"();@$\\ \4test", t, sizeof(t));
    ck_assert_str_eq(t, "\\\"\\(\\)\\;\\@\\$\\\\\\032.test");
    dname_to_text((const uint8_t *)"\2\303\251", t, sizeof(t));
    ck_assert_str_eq(t, "\\195\\169");
    ck_assert_int_eq(dname_to_text((const uint8_t *)"\3www", t, 3), -ENOBUFS);
    ck_assert_int_eq(dname_to_text((const uint8_t *)"\3www", t, 4), 3);
}
END_TEST

/* Every octet value inside a label: text and back, equal to itself in any
 * ASCII case, and to no other octet. */
START_TEST(every_octet_round_trips_and_compares_as_itself) {
    for (int c = 0; c < 256; c++) {
        uint8_t w[6] = {3, 'x', (uint8_t)c, 'y', 0}, back[DNAME_MAX_WIRE];
        char t[DNAME_MAX_PRESENTATION];
        ck_assert_int_gt(dname_to_text(w, t, sizeof(t)), 0);
        ck_assert_msg(dname_from_text(t, back) == 5 && memcmp(back, w, 5) == 0,
                      "octet %d: \"%s\" does not come back", c, t);
        for (int d = 0; d < 256; d++) {
            uint8_t v[6] = {3, 'x', (uint8_t)d, 'y', 0};
            bool letter = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
            bool same = c == d || (letter && (c | 0x20) == (d | 0x20));
            ck_assert_msg(dname_wire_equal(w, v) == same, "octets %d and %d", c, d);
        }
        uint8_t low[DNAME_MAX_WIRE];
        ck_assert_uint_eq(dname_wire_lower(w, low), 5);
        ck_assert_uint_eq(low[2], (c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
}
END_TEST

START_TEST(wire_equal_needs_the_same_labels) {
    const uint8_t *ab = (const uint8_t *)"\1a\1b", *a_b = (const uint8_t *)"\3a.b";
    ck_assert(!dname_wire_equal(ab, a_b)); /* "a.b" as two labels or one */
    ck_assert(!dname_wire_equal((const uint8_t *)"\1a", (const uint8_t *)"\2ab"));
    ck_assert(!dname_wire_equal((const uint8_t *)"\1a", (const uint8_t *)""));
    ck_assert(dname_wire_equal((const uint8_t *)"", (const uint8_t *)""));
    ck_assert(dname_wire_equal((const uint8_t *)"\3WwW\1X", (const uint8_t *)"\3wWw\1x"));
    ck_assert_uint_eq(dname_wire_labels(ab), 2);
    ck_assert_uint_eq(dname_wire_labels((const uint8_t *)""), 0);
    ck_assert_uint_eq(dname_wire_len(ab), 5);
}
END_TEST

START_TEST(hnok_takes_host_names_as_res_hnok) {
    ck_assert(dname_text_hnok("www.example.org"));
    ck_assert(dname_text_hnok("under_score.example"));
    ck_assert(dname_text_hnok("xn--bcher-kva.example"));
    ck_assert(dname_text_hnok("mid.-dash.example")); /* only the first label */
    ck_assert(dname_text_hnok("\\118\\052.test"));   /* escapes of host name octets */
    ck_assert(dname_text_hnok("a\\065b.test"));
    ck_assert(dname_text_hnok("")); /* the root, as for glibc */
    ck_assert(dname_text_hnok("."));
    ck_assert(!dname_text_hnok("-lead.example"));
    ck_assert(!dname_text_hnok("a b.test"));
    ck_assert(!dname_text_hnok("a@b.test"));
    ck_assert(!dname_text_hnok("a(b.test"));
    ck_assert(!dname_text_hnok("a\"b.test"));
    ck_assert(!dname_text_hnok("caf\xc3\xa9.test"));
    ck_assert(!dname_text_hnok("a\\.b.test"));
    ck_assert(!dname_text_hnok("v\\4.test"));
    ck_assert(!dname_text_hnok("sp\\032ace.test"));
    ck_assert(!dname_text_hnok("a..b"));
}
END_TEST

int main(void) {
    const struct check_case cases[] = {
        CHECK_CASE(from_text_makes_length_prefixed_labels),
        CHECK_CASE(from_text_takes_empty_and_dot_as_the_root),
        CHECK_CASE(from_text_rejects_empty_labels),
        CHECK_CASE(from_text_reads_escapes_as_glibc_does),
        CHECK_CASE(from_text_takes_63_octet_labels_not_64),
        CHECK_CASE(from_text_takes_255_wire_octets_not_256),
        CHECK_CASE(to_text_escapes_as_ns_name_ntop),
        CHECK_CASE(every_octet_round_trips_and_compares_as_itself),
        CHECK_CASE(wire_equal_needs_the_same_labels),
        CHECK_CASE(hnok_takes_host_names_as_res_hnok),
    };
    return check_run("dname", cases, sizeof(cases) / sizeof(cases[0]), NULL);
}

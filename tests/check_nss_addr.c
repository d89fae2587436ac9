/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_nss_addr.c: unit tests for the reverse-lookup address rules
 * (nss/nss-addr.c), each the rule glibc 2.36's nss_dns applies in
 * _nss_dns_gethostbyaddr2_r.
 */
#include "nss-addr.h"

#include <check.h>

#include "check-run.h"
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

/* An address parsed into a zeroed 64-byte buffer, so lengths past 16 read
 * defined bytes. */
struct addr {
    uint8_t b[64];
};

static struct addr parse(int af, const char *text) {
    struct addr a;
    memset(&a, 0, sizeof(a));
    ck_assert_int_eq(inet_pton(af, text, a.b), 1);
    return a;
}

static void expect_target(int af, const struct addr *a, size_t len, int want_af, size_t want_off,
                          size_t want_len) {
    struct nss_reverse r;
    ck_assert_int_eq(nss_reverse_target(af, a->b, len, &r), 0);
    ck_assert_int_eq(r.af, want_af);
    ck_assert_ptr_eq(r.addr, a->b + want_off);
    ck_assert_uint_eq(r.len, want_len);
}

static void expect_refused(int af, const void *addr, size_t len) {
    struct nss_reverse r, before;
    memset(&r, 0x5A, sizeof(r));
    before = r;
    ck_assert_int_eq(nss_reverse_target(af, addr, len, &r), -EAFNOSUPPORT);
    ck_assert_mem_eq(&r, &before, sizeof(r));
}

START_TEST(nss_reverse_unmaps_ipv4_mapped) {
    struct addr a = parse(AF_INET6, "::ffff:192.0.2.2");
    expect_target(AF_INET6, &a, 16, AF_INET, 12, 4);
    a = parse(AF_INET6, "::ffff:0.0.0.1"); /* mapped: the ::1 exception is for compatible only */
    expect_target(AF_INET6, &a, 16, AF_INET, 12, 4);
}
END_TEST

START_TEST(nss_reverse_unmaps_ipv4_compatible) {
    struct addr a = parse(AF_INET6, "::192.0.2.2");
    expect_target(AF_INET6, &a, 16, AF_INET, 12, 4);
    a = parse(AF_INET6, "::0.0.0.2");
    expect_target(AF_INET6, &a, 16, AF_INET, 12, 4);
    a = parse(AF_INET6, "::1.0.0.1");
    expect_target(AF_INET6, &a, 16, AF_INET, 12, 4);
}
END_TEST

START_TEST(nss_reverse_keeps_loopback_ipv6) {
    struct addr a = parse(AF_INET6, "::1");
    expect_target(AF_INET6, &a, 16, AF_INET6, 0, 16);
}
END_TEST

START_TEST(nss_reverse_unmaps_the_unspecified_address_as_nss_dns) {
    /* glibc's gethostbyaddr_r answers HOST_NOT_FOUND for :: before calling
     * a module; called directly, nss_dns asks 0.0.0.0.in-addr.arpa. */
    struct addr a = parse(AF_INET6, "::");
    expect_target(AF_INET6, &a, 16, AF_INET, 12, 4);
}
END_TEST

START_TEST(nss_reverse_keeps_other_ipv6) {
    /* one bit off the mapped or compatible prefix, or not IPv4 at all */
    const char *keep[] = {"2001:db8::2:2",     "::1:0:0:1",   "::fffe:c000:202",
                          "::1:ffff:c000:202", "1::c000:202", "::ffff:0:c000:202"};
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        struct addr a = parse(AF_INET6, keep[i]);
        expect_target(AF_INET6, &a, 16, AF_INET6, 0, 16);
    }
}
END_TEST

START_TEST(nss_reverse_unmaps_only_at_length_16) {
    struct addr a = parse(AF_INET6, "::ffff:192.0.2.2");
    expect_target(AF_INET6, &a, 17, AF_INET6, 0, 17);
    a = parse(AF_INET6, "::192.0.2.2");
    expect_target(AF_INET6, &a, 64, AF_INET6, 0, 64);
    expect_refused(AF_INET6, a.b, 15);
}
END_TEST

START_TEST(nss_reverse_accepts_any_length_from_the_familys) {
    struct addr a = parse(AF_INET, "192.0.2.2");
    for (size_t len = 4; len <= sizeof(a.b); len++)
        expect_target(AF_INET, &a, len, AF_INET, 0, len);
    a = parse(AF_INET6, "2001:db8::2:2");
    for (size_t len = 16; len <= sizeof(a.b); len++)
        expect_target(AF_INET6, &a, len, AF_INET6, 0, len);
    /* glibc's socklen_t is 32 bits: the largest one is a length too */
    expect_target(AF_INET, &a, 0xffffffffu, AF_INET, 0, 0xffffffffu);
}
END_TEST

START_TEST(nss_reverse_refuses_short_lengths_and_other_families) {
    struct addr a = parse(AF_INET6, "2001:db8::2:2");
    for (size_t len = 0; len < 4; len++)
        expect_refused(AF_INET, a.b, len);
    for (size_t len = 0; len < 16; len++)
        expect_refused(AF_INET6, a.b, len);
    const int other[] = {AF_UNSPEC, AF_UNIX, AF_PACKET, -1, 12345};
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        expect_refused(other[i], a.b, 4);
        expect_refused(other[i], a.b, 16);
    }
    expect_refused(AF_INET, NULL, 4);
    expect_refused(AF_INET6, NULL, 16);
}
END_TEST

int main(void) {
    const struct check_case cases[] = {
        CHECK_CASE(nss_reverse_unmaps_ipv4_mapped),
        CHECK_CASE(nss_reverse_unmaps_ipv4_compatible),
        CHECK_CASE(nss_reverse_keeps_loopback_ipv6),
        CHECK_CASE(nss_reverse_unmaps_the_unspecified_address_as_nss_dns),
        CHECK_CASE(nss_reverse_keeps_other_ipv6),
        CHECK_CASE(nss_reverse_unmaps_only_at_length_16),
        CHECK_CASE(nss_reverse_accepts_any_length_from_the_familys),
        CHECK_CASE(nss_reverse_refuses_short_lengths_and_other_families),
    };
    return check_run("nss_addr", cases, sizeof(cases) / sizeof(cases[0]), NULL);
}

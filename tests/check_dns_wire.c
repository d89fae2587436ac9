/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_dns_wire.c: unit tests for the DNS message codec (helperd/dns-wire.c).
 *
 * Responses are assembled byte by byte with the small builder below, so each
 * malformed form is spelled out in the test that needs it.
 */
#include "dns-wire.h"

#include <arpa/inet.h>
#include <check.h>

#include "check-run.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* The codec speaks wire names (dname.h); the tests write text. Each call
 * returns one of a few rotating buffers, enough for one assertion. */
static const uint8_t *W(const char *text) {
    static uint8_t ring[8][DNAME_MAX_WIRE];
    static unsigned next;
    uint8_t *w = ring[next++ % 8];
    ck_assert_msg(dname_from_text(text, w) > 0, "no wire form for \"%s\"", text);
    return w;
}

static const char *T(const uint8_t *wire) {
    static char ring[8][DNAME_MAX_PRESENTATION];
    static unsigned next;
    char *t = ring[next++ % 8];
    ck_assert_int_gt(dname_to_text(wire, t, DNAME_MAX_PRESENTATION), 0);
    return t;
}

/* ---- a tiny message builder ---- */

struct pkt {
    uint8_t b[65535];
    size_t n;
};

static size_t p_u8(struct pkt *p, uint8_t v) {
    ck_assert_uint_lt(p->n, sizeof(p->b));
    p->b[p->n++] = v;
    return p->n - 1;
}

static size_t p_u16(struct pkt *p, uint16_t v) {
    size_t at = p_u8(p, (uint8_t)(v >> 8));
    p_u8(p, (uint8_t)v);
    return at;
}

static void p_u32(struct pkt *p, uint32_t v) {
    p_u16(p, (uint16_t)(v >> 16));
    p_u16(p, (uint16_t)v);
}

static void p_bytes(struct pkt *p, const void *d, size_t n) {
    ck_assert_uint_le(p->n + n, sizeof(p->b));
    memcpy(p->b + p->n, d, n);
    p->n += n;
}

static void p_set16(struct pkt *p, size_t at, uint16_t v) {
    p->b[at] = (uint8_t)(v >> 8);
    p->b[at + 1] = (uint8_t)v;
}

/* Writes the labels of a dotted name (no escapes) without the terminating
 * root octet; returns the offset where it starts. */
static size_t p_labels(struct pkt *p, const char *name) {
    size_t at = p->n;
    while (*name) {
        const char *dot = strchr(name, '.');
        size_t l = dot ? (size_t)(dot - name) : strlen(name);
        p_u8(p, (uint8_t)l);
        p_bytes(p, name, l);
        name += l + (dot ? 1 : 0);
    }
    return at;
}

/* Uncompressed name; returns its offset, for later pointers. */
static size_t p_name(struct pkt *p, const char *name) {
    size_t at = p_labels(p, name);
    p_u8(p, 0);
    return at;
}

static void p_ptr(struct pkt *p, size_t target) {
    p_u16(p, (uint16_t)(0xc000 | target));
}

static void p_header(struct pkt *p, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns,
                     uint16_t ar) {
    p->n = 0;
    p_u16(p, 0x1234);
    p_u16(p, flags);
    p_u16(p, qd);
    p_u16(p, an);
    p_u16(p, ns);
    p_u16(p, ar);
}

#define QR_RD_RA 0x8180

/* Header with QDCOUNT 1 plus the question; returns the qname offset. */
static size_t p_start(struct pkt *p, const char *qname, uint16_t qtype, uint16_t an, uint16_t ns,
                      uint16_t ar) {
    p_header(p, QR_RD_RA, 1, an, ns, ar);
    size_t at = p_name(p, qname);
    p_u16(p, qtype);
    p_u16(p, DNS_CLASS_IN);
    return at;
}

/* Type, class, ttl; returns the offset of rdlength for p_end_rr(). */
static size_t p_rr_fixed(struct pkt *p, uint16_t type, uint16_t class, uint32_t ttl) {
    p_u16(p, type);
    p_u16(p, class);
    p_u32(p, ttl);
    return p_u16(p, 0);
}

static void p_end_rr(struct pkt *p, size_t rdlen_at) {
    p_set16(p, rdlen_at, (uint16_t)(p->n - rdlen_at - 2));
}

static void p_a_ptr(struct pkt *p, size_t owner, uint32_t ttl, uint8_t last) {
    p_ptr(p, owner);
    size_t at = p_rr_fixed(p, DNS_TYPE_A, DNS_CLASS_IN, ttl);
    const uint8_t a[4] = {192, 0, 2, last};
    p_bytes(p, a, 4);
    p_end_rr(p, at);
}

/* CNAME owner (by pointer) -> target (spelled out); returns the target offset. */
static size_t p_cname(struct pkt *p, size_t owner, uint32_t ttl, const char *target) {
    p_ptr(p, owner);
    size_t at = p_rr_fixed(p, DNS_TYPE_CNAME, DNS_CLASS_IN, ttl);
    size_t t = p_name(p, target);
    p_end_rr(p, at);
    return t;
}

static void p_opt(struct pkt *p, uint8_t ext_rcode, int keepalive) {
    p_u8(p, 0);
    p_u16(p, DNS_TYPE_OPT);
    p_u16(p, 1232);
    p_u32(p, (uint32_t)ext_rcode << 24);
    size_t at = p_u16(p, 0);
    if (keepalive >= 0) {
        p_u16(p, 11);
        p_u16(p, 2);
        p_u16(p, (uint16_t)keepalive);
    }
    p_u16(p, 10); /* a cookie option, to be skipped */
    p_u16(p, 8);
    p_bytes(p, "\1\2\3\4\5\6\7\10", 8);
    p_end_rr(p, at);
}

static void p_soa(struct pkt *p, size_t zone, uint32_t ttl, uint32_t minimum) {
    p_ptr(p, zone);
    size_t at = p_rr_fixed(p, DNS_TYPE_SOA, DNS_CLASS_IN, ttl);
    p_labels(p, "ns1");
    p_ptr(p, zone);
    p_labels(p, "hostmaster");
    p_ptr(p, zone);
    p_u32(p, 2024010101);
    p_u32(p, 7200);
    p_u32(p, 3600);
    p_u32(p, 1209600);
    p_u32(p, minimum);
    p_end_rr(p, at);
}

/* Parses a heap copy of exactly the message's bytes, so that ASan reports
 * any read past its end. */
static int parse(const struct pkt *p, struct dns_msg *m) {
    uint8_t *copy = malloc(p->n ? p->n : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, p->b, p->n);
    int r = dns_parse_response(copy, p->n, m);
    free(copy);
    return r;
}

/* A response that exercises every section: CNAME chain, A, SOA, OPT. */
static void build_rich(struct pkt *p) {
    size_t q = p_start(p, "www.example.org", DNS_TYPE_A, 3, 1, 1);
    size_t t = p_cname(p, q, 300, "web.example.org");
    p_a_ptr(p, t, 60, 1);
    p_a_ptr(p, t, 120, 2);
    p_soa(p, q + 4, 3600, 900);
    p_opt(p, 0, 1200);
}

static void expect_bad(const struct pkt *p) {
    struct dns_msg m;
    memset(&m, 0xa5, sizeof(m));
    ck_assert_int_eq(parse(p, &m), -EBADMSG);
    /* Empty on failure: nothing half-filled, nothing to free. */
    ck_assert_uint_eq(m.n_answers, 0);
    ck_assert_ptr_null(m.answers);
    ck_assert_ptr_null(m.qname);
    dns_msg_free(&m);
}

/* ---- queries ---- */

static const struct dns_query_opts plain_opts = {.udp_size = 1232};

START_TEST(dns_query_has_header_question_and_opt) {
    uint8_t buf[512];
    /* clang-format off */
    static const uint8_t want[] = {
        0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1, /* id, RD, QDCOUNT 1, ARCOUNT 1 */
        3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0,
        0, 28, 0, 1,                                     /* AAAA IN */
        0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0,          /* OPT: root, 1232, rdlength 0 */
    };
    /* clang-format on */
    int n =
        dns_build_query(buf, sizeof(buf), 0xabcd, W("www.example.org"), DNS_TYPE_AAAA, &plain_opts);
    ck_assert_int_eq(n, sizeof(want));
    ck_assert_mem_eq(buf, want, sizeof(want));

    /* The trailing dot is optional and changes nothing. */
    uint8_t buf2[512];
    ck_assert_int_eq(dns_build_query(buf2, sizeof(buf2), 0xabcd, W("www.example.org."),
                                     DNS_TYPE_AAAA, &plain_opts),
                     n);
    ck_assert_mem_eq(buf2, want, sizeof(want));
}
END_TEST

/* Returns the offset of the first option in the OPT rdata of a built query,
 * and its rdlength. */
static size_t opt_rdata(const uint8_t *q, size_t n, size_t *ret_rdlen) {
    size_t off = DNS_HEADER_LEN;
    while (q[off] != 0)
        off += 1 + q[off];
    off += 1 + 4; /* root, qtype, qclass */
    ck_assert_uint_eq(q[off], 0);
    ck_assert_uint_eq((q[off + 1] << 8) | q[off + 2], DNS_TYPE_OPT);
    *ret_rdlen = (size_t)((q[off + 9] << 8) | q[off + 10]);
    ck_assert_uint_eq(off + 11 + *ret_rdlen, n);
    return off + 11;
}

START_TEST(dns_query_padding_makes_length_multiple_of_block) {
    const struct dns_query_opts opts = {.udp_size = 1232, .keepalive = true, .pad_block = 128};
    char name[256] = "a";
    for (size_t l = 1; l < 200; l++) {
        uint8_t buf[1024];
        name[l - 1] = (l % 10 == 0) ? '.' : 'x';
        name[l] = '\0';
        if (name[l - 1] == '.')
            continue;
        int n = dns_build_query(buf, sizeof(buf), 1, W(name), DNS_TYPE_A, &opts);
        ck_assert_int_gt(n, 0);
        ck_assert_int_eq(n % 128, 0);
        size_t rdlen, o = opt_rdata(buf, (size_t)n, &rdlen);
        /* keepalive (empty), then padding of zeros filling the rest */
        ck_assert_uint_eq((buf[o] << 8) | buf[o + 1], 11);
        ck_assert_uint_eq((buf[o + 2] << 8) | buf[o + 3], 0);
        ck_assert_uint_eq((buf[o + 4] << 8) | buf[o + 5], 12);
        size_t plen = (size_t)((buf[o + 6] << 8) | buf[o + 7]);
        ck_assert_uint_eq(plen, rdlen - 8);
        for (size_t i = 0; i < plen; i++)
            ck_assert_uint_eq(buf[o + 8 + i], 0);
    }
}
END_TEST

START_TEST(dns_query_keepalive_option_present) {
    const struct dns_query_opts opts = {.udp_size = 4096, .keepalive = true};
    uint8_t buf[512];
    int n = dns_build_query(buf, sizeof(buf), 7, W("example.org"), DNS_TYPE_A, &opts);
    ck_assert_int_gt(n, 0);
    size_t rdlen, o = opt_rdata(buf, (size_t)n, &rdlen);
    ck_assert_uint_eq(rdlen, 4);
    static const uint8_t want[] = {0, 11, 0, 0};
    ck_assert_mem_eq(buf + o, want, 4);
}
END_TEST

START_TEST(dns_query_carries_the_wire_name_octet_for_octet) {
    /* Escaped dots and backslashes are label octets, not separators: the
     * text was turned into labels once (dname_from_text), and the query
     * carries exactly those. */
    uint8_t buf[512];
    ck_assert_int_gt(
        dns_build_query(buf, sizeof(buf), 1, W("\\.\\.\\\\."), DNS_TYPE_A, &plain_opts), 0);
    static const uint8_t want[] = {3, '.', '.', '\\', 0};
    ck_assert_mem_eq(buf + DNS_HEADER_LEN, want, sizeof(want));
    /* The root is a name like any other. */
    ck_assert_int_gt(dns_build_query(buf, sizeof(buf), 1, W("."), DNS_TYPE_A, &plain_opts), 0);
    ck_assert_uint_eq(buf[DNS_HEADER_LEN], 0);
    ck_assert_int_eq(dns_build_query(buf, sizeof(buf), 1, NULL, DNS_TYPE_A, &plain_opts), -EINVAL);
}
END_TEST

START_TEST(dns_query_encodes_escapes) {
    uint8_t buf[512];
    int n = dns_build_query(buf, sizeof(buf), 1, W("a\\.b.\\065\\000\\255z\\\\.org"), DNS_TYPE_A,
                            &plain_opts);
    ck_assert_int_gt(n, 0);
    static const uint8_t want[] = {3,   'a',  '.', 'b', 5,   'A', 0, 255,
                                   'z', '\\', 3,   'o', 'r', 'g', 0};
    ck_assert_mem_eq(buf + DNS_HEADER_LEN, want, sizeof(want));
}
END_TEST

START_TEST(dns_query_reports_enobufs_and_leaves_buffer) {
    uint8_t buf[64];
    const struct dns_query_opts opts = {.udp_size = 1232, .pad_block = 128};
    int need = dns_build_query(buf, sizeof(buf), 1, W("example.org"), DNS_TYPE_A, &plain_opts);
    ck_assert_int_gt(need, 0);
    memset(buf, 0x5a, sizeof(buf));
    ck_assert_int_eq(
        dns_build_query(buf, (size_t)need - 1, 1, W("example.org"), DNS_TYPE_A, &plain_opts),
        -ENOBUFS);
    ck_assert_uint_eq(buf[0], 0x5a);
    ck_assert_int_eq(dns_build_query(buf, sizeof(buf), 1, W("example.org"), DNS_TYPE_A, &opts),
                     -ENOBUFS);
    ck_assert_int_eq(
        dns_build_query(buf, (size_t)need, 1, W("example.org"), DNS_TYPE_A, &plain_opts), need);
    /* No options: the same plain EDNS(0) query. */
    uint8_t buf2[64];
    ck_assert_int_eq(dns_build_query(buf2, sizeof(buf2), 1, W("example.org"), DNS_TYPE_A, NULL),
                     need);
    ck_assert_mem_eq(buf2, buf, (size_t)need);
}
END_TEST

START_TEST(dns_query_round_trips_name_through_parser) {
    /* A query with QR set is a well-formed response with no answers: the
     * parser must give back the presentation form that went in. */
    const char *names[] = {"www.example.org", "a\\.b.\\065\\000x.org", "x\\\\y\\\".\\@\\$"};
    for (size_t i = 0; i < 3; i++) {
        uint8_t buf[512];
        int n = dns_build_query(buf, sizeof(buf), 9, W(names[i]), DNS_TYPE_A, &plain_opts);
        ck_assert_int_gt(n, 0);
        buf[2] |= 0x80;
        struct dns_msg m;
        ck_assert_int_eq(dns_parse_response(buf, (size_t)n, &m), 0);
        ck_assert_str_eq(T(m.qname), i == 1 ? "a\\.b.A\\000x.org" : names[i]);
        dns_msg_free(&m);
    }
}
END_TEST

/* ---- reverse names ---- */

START_TEST(dns_reverse_name_ipv4) {
    const uint8_t a[4] = {192, 0, 2, 10};
    char buf[64];
    ck_assert_int_eq(dns_reverse_name(AF_INET, a, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "10.2.0.192.in-addr.arpa");
    const uint8_t z[4] = {0, 0, 0, 255};
    ck_assert_int_eq(dns_reverse_name(AF_INET, z, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "255.0.0.0.in-addr.arpa");
}
END_TEST

START_TEST(dns_reverse_name_ipv6) {
    uint8_t a[16];
    char buf[128];
    ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::567:89ab", a), 1);
    ck_assert_int_eq(dns_reverse_name(AF_INET6, a, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
                          "8.b.d.0.1.0.0.2.ip6.arpa");
}
END_TEST

START_TEST(dns_reverse_name_checks_buffer_and_family) {
    const uint8_t a[16] = {1, 2, 3, 4};
    char buf[80];
    memset(buf, 0x5a, sizeof(buf));
    /* "4.3.2.1.in-addr.arpa" is 20 characters plus NUL */
    ck_assert_int_eq(dns_reverse_name(AF_INET, a, buf, 20), -ENOBUFS);
    ck_assert_int_eq(buf[0], 0x5a);
    ck_assert_int_eq(dns_reverse_name(AF_INET, a, buf, 21), 0);
    ck_assert_str_eq(buf, "4.3.2.1.in-addr.arpa");
    ck_assert_int_eq(dns_reverse_name(AF_INET6, a, buf, 72), -ENOBUFS);
    ck_assert_int_eq(dns_reverse_name(AF_INET6, a, buf, 73), 0);
    ck_assert_int_eq(dns_reverse_name(AF_UNIX, a, buf, sizeof(buf)), -EINVAL);
}
END_TEST

/* ---- parsing ---- */

START_TEST(dns_parse_simple_a) {
    struct pkt p;
    size_t q = p_start(&p, "Host.Example.ORG", DNS_TYPE_A, 2, 0, 0);
    p_a_ptr(&p, q, 300, 7);
    p_a_ptr(&p, q, 200, 8);
    struct dns_msg m;
    ck_assert_int_eq(parse(&p, &m), 0);
    ck_assert_uint_eq(m.id, 0x1234);
    ck_assert_uint_eq(m.flags, QR_RD_RA);
    ck_assert_uint_eq(m.rcode, DNS_RCODE_NOERROR);
    ck_assert(!m.tc);
    ck_assert_str_eq(T(m.qname), "Host.Example.ORG");
    ck_assert_uint_eq(m.qtype, DNS_TYPE_A);
    ck_assert_uint_eq(m.qclass, DNS_CLASS_IN);
    ck_assert_uint_eq(m.n_answers, 2);
    ck_assert_str_eq(T(m.answers[0].owner), "Host.Example.ORG");
    ck_assert_uint_eq(m.answers[0].type, DNS_TYPE_A);
    ck_assert_uint_eq(m.answers[0].ttl, 300);
    const uint8_t want[4] = {192, 0, 2, 7};
    ck_assert_mem_eq(m.answers[0].u.in4, want, 4);
    ck_assert_uint_eq(m.answers[1].u.in4[3], 8);
    ck_assert(!m.has_soa);
    ck_assert(!m.has_keepalive);

    struct dns_answer a;
    ck_assert_int_eq(dns_answer_follow(&m, W("host.example.org."), DNS_TYPE_A, &a), 0);
    ck_assert_str_eq(T(a.canonical), "Host.Example.ORG");
    ck_assert_uint_eq(a.n_aliases, 0);
    ck_assert_uint_eq(a.n_records, 2);
    ck_assert_uint_eq(a.ttl, 200);
    dns_answer_free(&a);
    dns_answer_free(&a); /* freed answers are empty, freeing again is harmless */
    dns_msg_free(&m);
    dns_msg_free(&m);
    dns_msg_free(NULL);
    dns_answer_free(NULL);
}
END_TEST

START_TEST(dns_parse_aaaa) {
    struct pkt p;
    size_t q = p_start(&p, "v6.example.org", DNS_TYPE_AAAA, 1, 0, 0);
    uint8_t a6[16];
    ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::1", a6), 1);
    p_ptr(&p, q);
    size_t at = p_rr_fixed(&p, DNS_TYPE_AAAA, DNS_CLASS_IN, 42);
    p_bytes(&p, a6, 16);
    p_end_rr(&p, at);
    struct dns_msg m;
    ck_assert_int_eq(parse(&p, &m), 0);
    ck_assert_uint_eq(m.n_answers, 1);
    ck_assert_uint_eq(m.answers[0].type, DNS_TYPE_AAAA);
    ck_assert_mem_eq(m.answers[0].u.in6, a6, 16);
    dns_msg_free(&m);
}
END_TEST

START_TEST(dns_parse_cname_chain) {
    struct pkt p;
    build_rich(&p);
    struct dns_msg m;
    ck_assert_int_eq(parse(&p, &m), 0);
    ck_assert_uint_eq(m.n_answers, 3);
    ck_assert_uint_eq(m.answers[0].type, DNS_TYPE_CNAME);
    ck_assert_str_eq(T(m.answers[0].owner), "www.example.org");
    ck_assert_str_eq(T(m.answers[0].u.target), "web.example.org");
    ck_assert_str_eq(T(m.answers[1].owner), "web.example.org");

    struct dns_answer a;
    ck_assert_int_eq(dns_answer_follow(&m, W("www.example.org"), DNS_TYPE_A, &a), 0);
    ck_assert_str_eq(T(a.canonical), "web.example.org");
    ck_assert_uint_eq(a.n_aliases, 1);
    ck_assert_str_eq(T(a.aliases[0]), "www.example.org");
    ck_assert_uint_eq(a.n_records, 2);
    ck_assert_ptr_eq(a.records[0], &m.answers[1]);
    ck_assert_ptr_eq(a.records[1], &m.answers[2]);
    ck_assert_uint_eq(a.ttl, 60);
    dns_answer_free(&a);
    dns_msg_free(&m);
}
END_TEST

START_TEST(dns_parse_ptr) {
    struct pkt p;
    size_t q = p_start(&p, "10.2.0.192.in-addr.arpa", DNS_TYPE_PTR, 2, 0, 0);
    p_ptr(&p, q);
    size_t at = p_rr_fixed(&p, DNS_TYPE_PTR, DNS_CLASS_IN, 86400);
    size_t t = p_name(&p, "host.example.org");
    p_end_rr(&p, at);
    p_ptr(&p, q);
    at = p_rr_fixed(&p, DNS_TYPE_PTR, DNS_CLASS_IN, 3600);
    p_labels(&p, "alias");
    p_ptr(&p, t + 5); /* "example.org" inside the first target */
    p_end_rr(&p, at);
    struct dns_msg m;
    ck_assert_int_eq(parse(&p, &m), 0);
    ck_assert_uint_eq(m.n_answers, 2);
    ck_assert_str_eq(T(m.answers[0].u.target), "host.example.org");
    ck_assert_str_eq(T(m.answers[1].u.target), "alias.example.org");
    struct dns_answer a;
    ck_assert_int_eq(dns_answer_follow(&m, m.qname, DNS_TYPE_PTR, &a), 0);
    ck_assert_uint_eq(a.n_records, 2);
    ck_assert_uint_eq(a.ttl, 3600);
    dns_answer_free(&a);
    dns_msg_free(&m);
}
END_TEST

START_TEST(dns_parse_escapes_names_in_presentation_form) {
    struct pkt p;
    p_header(&p, QR_RD_RA, 1, 0, 0, 0);
    static const uint8_t name[] = {6, 'a', '.', 'b', ' ', 0xff, '\\', 3, '$', '@', '(', 0};
    p_bytes(&p, name, sizeof(name));
    p_u16(&p, DNS_TYPE_A);
    p_u16(&p, DNS_CLASS_IN);
    struct dns_msg m;
    ck_assert_int_eq(parse(&p, &m), 0);
    ck_assert_str_eq(T(m.qname), "a\\.b\\032\\255\\\\.\\$\\@\\(");
    dns_msg_free(&m);
}
END_TEST

START_TEST(dns_parse_rejects_every_truncation) {
    struct pkt p;
    build_rich(&p);
    struct dns_msg m;
    ck_assert_int_eq(parse(&p, &m), 0);
    dns_msg_free(&m);
    for (size_t len = 0; len < p.n; len++) {
        /* A heap copy of exactly len bytes lets ASan catch any over-read. */
        uint8_t *copy = malloc(len ? len : 1);
        ck_assert_ptr_nonnull(copy);
        memcpy(copy, p.b, len);
        ck_assert_msg(dns_parse_response(copy, len, &m) == -EBADMSG, "length %zu accepted", len);
        free(copy);
    }
}
END_TEST

START_TEST(dns_parse_rejects_compression_loop) {
    struct pkt p;
    /* Two pointers naming each other: the later one is fine, the earlier
     * one points forward. */
    p_header(&p, QR_RD_RA, 1, 1, 0, 0);
    p_name(&p, "a.example");
    p_u16(&p, DNS_TYPE_A);
    p_u16(&p, DNS_CLASS_IN);
    size_t first = p.n;
    p_ptr(&p, first + 2);
    p_ptr(&p, first);
    expect_bad(&p);

    /* A label and then a pointer back to that same label: backwards from the
     * pointer, but not from the start of the name, so it would go round. */
    p_header(&p, QR_RD_RA, 1, 0, 0, 0);
    size_t a_at = p_labels(&p, "a");
    p_ptr(&p, a_at);
    p_u16(&p, DNS_TYPE_A);
    p_u16(&p, DNS_CLASS_IN);
    expect_bad(&p);

    /* The same after a jump: an owner points into the skipped rdata of an
     * earlier record, at a label followed by a pointer back to that label.
     * With tail_ok, the tail points at the question instead: accepted. */
    for (int tail_ok = 0; tail_ok < 2; tail_ok++) {
        size_t q = p_start(&p, "x.example", DNS_TYPE_A, 2, 0, 0);
        p_ptr(&p, q);
        size_t at = p_rr_fixed(&p, 16 /* TXT */, DNS_CLASS_IN, 1);
        size_t x = p_labels(&p, "b");
        p_ptr(&p, tail_ok ? q : x);
        p_end_rr(&p, at);
        p_a_ptr(&p, x, 1, 1);
        if (!tail_ok) {
            expect_bad(&p);
            continue;
        }
        struct dns_msg m;
        ck_assert_int_eq(parse(&p, &m), 0);
        ck_assert_str_eq(T(m.answers[0].owner), "b.x.example");
        dns_msg_free(&m);
    }
}
END_TEST

START_TEST(dns_parse_rejects_pointer_to_itself) {
    struct pkt p;
    p_header(&p, QR_RD_RA, 1, 0, 0, 0);
    p_ptr(&p, DNS_HEADER_LEN);
    p_u16(&p, DNS_TYPE_A);
    p_u16(&p, DNS_CLASS_IN);
    expect_bad(&p);
}
END_TEST

START_TEST(dns_parse_rejects_forward_pointer) {
    struct pkt p;
    p_header(&p, QR_RD_RA, 1, 1, 0, 0);
    size_t q = p_name(&p, "example.org");
    p_u16(&p, DNS_TYPE_A);
    p_u16(&p, DNS_CLASS_IN);
    /* The owner points past itself to a name in its own rdata. */
    p_ptr(&p, p.n + 12);
    size_t at = p_rr_fixed(&p, DNS_TYPE_CNAME, DNS_CLASS_IN, 1);
    p_name(&p, "x");
    p_end_rr(&p, at);
    expect_bad(&p);

    /* Control: a backward pointer in the same place is accepted. */
    p.n = at - 10;
    p_ptr(&p, q);
    at = p_rr_fixed(&p, DNS_TYPE_CNAME, DNS_CLASS_IN, 1);
    p_name(&p, "x");
    p_end_rr(&p, at);
    struct dns_msg m;
    ck_assert_int_eq(parse(&p, &m), 0);
    dns_msg_free(&m);

    /* A pointer beyond the end of the message. */
    p_header(&p, QR_RD_RA, 1, 0, 0, 0);
    p_ptr(&p, 0x3fff);
    p_u16(&p, DNS_TYPE_A);
    p_u16(&p, DNS_CLASS_IN);
    expect_bad(&p);
}
END_TEST

START_TEST(dns_parse_rejects_counts_that_lie) {
    for (int section = 0; section < 3; section++) {
        struct pkt p;
        build_rich(&p);
        size_t at = 6 + 2 * (size_t)section;
        p_set16(&p, at, (uint16_t)(((p.b[at] << 8) | p.b[at + 1]) + 1));
        expect_bad(&p);
        p_set16(&p, at, 0xffff);
        expect_bad(&p);
    }
}
END_TEST

START_TEST(dns_parse_rejects_oversize_names) {
    char l63[64];
    memset(l63, 'x', 63);
    l63[63] = '\0';
    char name[300];

    /* 3 x 63 + 61 octets: 255 on the wire, the most allowed. */
    snprintf(name, sizeof(name), "%s.%s.%s.%.61s", l63, l63, l63, l63);
    struct pkt p;
    p_start(&p, name, DNS_TYPE_A, 0, 0, 0);
    struct dns_msg m;
    ck_assert_int_eq(parse(&p, &m), 0);
    ck_assert_uint_eq(dname_wire_len(m.qname), 255);
    dns_msg_free(&m);

    /* One more octet. */
    snprintf(name, sizeof(name), "%s.%s.%s.%.62s", l63, l63, l63, l63);
    p_start(&p, name, DNS_TYPE_A, 0, 0, 0);
    expect_bad(&p);

    /* Each part fits, the whole assembled through a pointer does not. */
    snprintf(name, sizeof(name), "%s.%s.%s", l63, l63, l63);
    size_t q = p_start(&p, name, DNS_TYPE_A, 1, 0, 0);
    p_labels(&p, l63);
    p_ptr(&p, q);
    size_t at = p_rr_fixed(&p, DNS_TYPE_A, DNS_CLASS_IN, 1);
    p_bytes(&p, "\1\2\3\4", 4);
    p_end_rr(&p, at);
    expect_bad(&p);
}
END_TEST

START_TEST(dns_parse_rejects_reserved_label_types) {
    for (unsigned bits = 0x40; bits <= 0x80; bits += 0x40) {
        struct pkt p;
        p_header(&p, QR_RD_RA, 1, 0, 0, 0);
        /* Followed by exactly as many octets as the byte would give as a
         * length, so only the type bits make it wrong. */
        p_u8(&p, (uint8_t)(bits | 1));
        for (unsigned i = 0; i < (bits | 1); i++)
            p_u8(&p, 'a');
        p_u8(&p, 0);
        p_u16(&p, DNS_TYPE_A);
        p_u16(&p, DNS_CLASS_IN);
        expect_bad(&p);
    }
}
END_TEST

START_TEST(dns_parse_rejects_non_response) {
    struct pkt p;
    build_rich(&p);
    p.b[2] &= 0x7f;
    expect_bad(&p);
}
END_TEST

START_TEST(dns_parse_rejects_qdcount_not_one) {
    struct pkt p;
    build_rich(&p);
    p_set16(&p, 4, 0);
    expect_bad(&p);
    p_set16(&p, 4, 2);
    expect_bad(&p);

    /* Even with a genuine second question present. */
    p_header(&p, QR_RD_RA, 2, 0, 0, 0);
    for (int i = 0; i < 2; i++) {
        p_name(&p, "example.org");
        p_u16(&p, DNS_TYPE_A);
        p_u16(&p, DNS_CLASS_IN);
    }
    expect_bad(&p);
}
END_TEST

START_TEST(dns_parse_rejects_bad_rdata) {
    struct pkt p;
    /* A record with 5 octets of address. */
    size_t q = p_start(&p, "example.org", DNS_TYPE_A, 1, 0, 0);
    p_ptr(&p, q);
    size_t at = p_rr_fixed(&p, DNS_TYPE_A, DNS_CLASS_IN, 1);
    p_bytes(&p, "\1\2\3\4\5", 5);
    p_end_rr(&p, at);
    expect_bad(&p);

    /* AAAA record with 15 octets of address. */
    q = p_start(&p, "example.org", DNS_TYPE_AAAA, 1, 0, 0);
    p_ptr(&p, q);
    at = p_rr_fixed(&p, DNS_TYPE_AAAA, DNS_CLASS_IN, 1);
    p_bytes(&p, "0123456789abcde", 15);
    p_end_rr(&p, at);
    expect_bad(&p);

    /* SOA whose MNAME runs past its rdlength. */
    q = p_start(&p, "example.org", DNS_TYPE_A, 0, 1, 0);
    p_ptr(&p, q);
    at = p_rr_fixed(&p, DNS_TYPE_SOA, DNS_CLASS_IN, 1);
    p_name(&p, "a-long-primary-name-server.example.org");
    p_set16(&p, at, 8);
    expect_bad(&p);

    /* CNAME whose target runs past its rdlength. */
    q = p_start(&p, "example.org", DNS_TYPE_A, 1, 0, 0);
    p_ptr(&p, q);
    at = p_rr_fixed(&p, DNS_TYPE_CNAME, DNS_CLASS_IN, 1);
    p_name(&p, "target.example");
    p_set16(&p, at, 4);
    expect_bad(&p);

    /* CNAME with bytes left over after its target. */
    q = p_start(&p, "example.org", DNS_TYPE_A, 1, 0, 0);
    p_ptr(&p, q);
    at = p_rr_fixed(&p, DNS_TYPE_CNAME, DNS_CLASS_IN, 1);
    p_name(&p, "t");
    p_u8(&p, 0);
    p_end_rr(&p, at);
    expect_bad(&p);

    /* SOA one octet short. */
    q = p_start(&p, "example.org", DNS_TYPE_A, 0, 1, 0);
    p_ptr(&p, q);
    at = p_rr_fixed(&p, DNS_TYPE_SOA, DNS_CLASS_IN, 1);
    p_name(&p, "ns");
    p_name(&p, "hm");
    for (int i = 0; i < 19; i++)
        p_u8(&p, 0);
    p_end_rr(&p, at);
    expect_bad(&p);
    /* ... and one octet long. */
    p_u16(&p, 0);
    p_end_rr(&p, at);
    expect_bad(&p);

    /* OPT owned by something other than the root, and two OPTs. */
    p_start(&p, "example.org", DNS_TYPE_A, 0, 0, 1);
    p_u8(&p, 1);
    p_u8(&p, 'x');
    p_opt(&p, 0, -1);
    expect_bad(&p);
    p_start(&p, "example.org", DNS_TYPE_A, 0, 0, 2);
    p_opt(&p, 0, -1);
    p_opt(&p, 0, -1);
    expect_bad(&p);

    /* OPT option running past the rdata, and a cut option header. */
    for (int cut = 0; cut < 2; cut++) {
        p_start(&p, "example.org", DNS_TYPE_A, 0, 0, 1);
        p_u8(&p, 0);
        p_u16(&p, DNS_TYPE_OPT);
        p_u16(&p, 1232);
        p_u32(&p, 0);
        at = p_u16(&p, 0);
        p_u16(&p, 11);
        if (cut) {
            p_u8(&p, 0);
        } else {
            p_u16(&p, 3); /* claims 3 octets, has 2 */
            p_u16(&p, 5);
        }
        p_end_rr(&p, at);
        expect_bad(&p);
    }
}
END_TEST

START_TEST(dns_parse_skips_other_types_and_classes) {
    struct pkt p;
    size_t q = p_start(&p, "example.org", DNS_TYPE_A, 4, 1, 1);
    p_ptr(&p, q);
    size_t at = p_rr_fixed(&p, 16 /* TXT */, DNS_CLASS_IN, 1);
    p_bytes(&p, "\3abc", 4);
    p_end_rr(&p, at);
    p_ptr(&p, q);
    at = p_rr_fixed(&p, DNS_TYPE_A, 3 /* CH */, 1);
    p_bytes(&p, "\1\2\3\4\5\6", 6); /* not IN: its rdata is not ours to judge */
    p_end_rr(&p, at);
    p_ptr(&p, q);
    at = p_rr_fixed(&p, 46 /* RRSIG */, DNS_CLASS_IN, 1);
    p_end_rr(&p, at);
    p_a_ptr(&p, q, 5, 9);
    p_ptr(&p, q);
    at = p_rr_fixed(&p, 2 /* NS */, DNS_CLASS_IN, 1);
    p_name(&p, "ns.example.org");
    p_end_rr(&p, at);
    p_ptr(&p, q);
    at = p_rr_fixed(&p, DNS_TYPE_A, DNS_CLASS_IN, 1); /* glue: not an answer */
    p_bytes(&p, "\1\2\3\4", 4);
    p_end_rr(&p, at);
    struct dns_msg m;
    ck_assert_int_eq(parse(&p, &m), 0);
    ck_assert_uint_eq(m.n_answers, 1);
    ck_assert_uint_eq(m.answers[0].u.in4[3], 9);
    dns_msg_free(&m);
}
END_TEST

START_TEST(dns_parse_reads_soa_minimum) {
    struct pkt p;
    p_header(&p, 0x8183, 1, 0, 1, 0); /* NXDOMAIN */
    size_t q = p_name(&p, "nx.example.org");
    p_u16(&p, DNS_TYPE_A);
    p_u16(&p, DNS_CLASS_IN);
    p_soa(&p, q + 3, 3600, 300);
    struct dns_msg m;
    ck_assert_int_eq(parse(&p, &m), 0);
    ck_assert_uint_eq(m.rcode, DNS_RCODE_NXDOMAIN);
    ck_assert(m.has_soa);
    ck_assert_uint_eq(m.soa_ttl, 3600);
    ck_assert_uint_eq(m.soa_minimum, 300);
    ck_assert_uint_eq(m.n_answers, 0);
    ck_assert_ptr_null(m.answers);
    dns_msg_free(&m);
}
END_TEST

START_TEST(dns_parse_reads_opt_keepalive) {
    struct pkt p;
    build_rich(&p);
    struct dns_msg m;
    ck_assert_int_eq(parse(&p, &m), 0);
    ck_assert(m.has_keepalive);
    ck_assert_uint_eq(m.keepalive_100ms, 1200);
    ck_assert(m.has_soa);
    ck_assert_uint_eq(m.soa_minimum, 900);
    dns_msg_free(&m);

    /* No option, no timeout. */
    p_start(&p, "example.org", DNS_TYPE_A, 0, 0, 1);
    p_opt(&p, 0, -1);
    ck_assert_int_eq(parse(&p, &m), 0);
    ck_assert(!m.has_keepalive);
    dns_msg_free(&m);
}
END_TEST

START_TEST(dns_parse_extends_rcode_from_opt) {
    struct pkt p;
    p_start(&p, "example.org", DNS_TYPE_A, 0, 0, 1);
    p_opt(&p, 1, -1); /* BADVERS = 16: upper bits 1, header rcode 0 */
    struct dns_msg m;
    ck_assert_int_eq(parse(&p, &m), 0);
    ck_assert_uint_eq(m.rcode, 16);
    dns_msg_free(&m);

    p_start(&p, "example.org", DNS_TYPE_A, 0, 0, 1);
    p.b[3] |= DNS_RCODE_SERVFAIL;
    p_opt(&p, 0xff, -1);
    ck_assert_int_eq(parse(&p, &m), 0);
    ck_assert_uint_eq(m.rcode, 0xff2);
    dns_msg_free(&m);
}
END_TEST

START_TEST(dns_parse_reads_tc_and_clamps_ttl) {
    struct pkt p;
    size_t q = p_start(&p, "example.org", DNS_TYPE_A, 1, 0, 0);
    p.b[2] |= 0x02;
    p_a_ptr(&p, q, 0x80000000u, 1);
    struct dns_msg m;
    ck_assert_int_eq(parse(&p, &m), 0);
    ck_assert(m.tc);
    ck_assert_uint_eq(m.answers[0].ttl, 0); /* RFC 2181: top bit set reads as 0 */
    dns_msg_free(&m);
}
END_TEST

/* ---- following answers ---- */

/* A chain q -> c1 -> ... -> cN, then an A for the last name. With loop, the
 * last CNAME points back at the question instead. */
static void build_chain(struct pkt *p, unsigned hops, bool loop) {
    char name[32];
    size_t q = p_start(p, "q.example", DNS_TYPE_A, (uint16_t)(hops + 1), 0, 0);
    size_t owner = q;
    for (unsigned i = 1; i <= hops; i++) {
        snprintf(name, sizeof(name), "c%u.example", i);
        if (loop && i == hops)
            snprintf(name, sizeof(name), "Q.example");
        owner = p_cname(p, owner, 1000 - i, name);
    }
    p_a_ptr(p, owner, 5000, 1);
}

START_TEST(dns_follow_chain_has_no_fixed_cap) {
    /* 17 hops broke an old cap of 16; 600 is more than any cap would
     * allow, and as far as 14-bit compression pointers reach. */
    static const unsigned lengths[] = {1, 16, 17, 48, 600};
    for (size_t k = 0; k < sizeof(lengths) / sizeof(lengths[0]); k++) {
        unsigned hops = lengths[k];
        struct pkt *p = malloc(sizeof(*p));
        build_chain(p, hops, false);
        struct dns_msg m;
        ck_assert_int_eq(parse(p, &m), 0);
        struct dns_answer a;
        ck_assert_int_eq(dns_answer_follow(&m, W("q.example"), DNS_TYPE_A, &a), 0);
        ck_assert_uint_eq(a.n_aliases, hops);
        ck_assert_str_eq(T(a.aliases[0]), "q.example");
        char want[32];
        snprintf(want, sizeof(want), "c%u.example", hops);
        ck_assert_str_eq(T(a.canonical), want);
        if (hops > 1)
            ck_assert_str_eq(T(a.aliases[1]), "c1.example");
        ck_assert_uint_eq(a.n_records, 1);
        ck_assert_uint_eq(a.ttl, 1000 - hops);
        dns_answer_free(&a);
        dns_msg_free(&m);
        free(p);
    }
}
END_TEST

START_TEST(dns_follow_rejects_loop_of_any_length) {
    static const unsigned lengths[] = {1, 2, 3, 17, 20, 500};
    for (size_t k = 0; k < sizeof(lengths) / sizeof(lengths[0]); k++) {
        struct pkt *p = malloc(sizeof(*p));
        build_chain(p, lengths[k], true);
        struct dns_msg m;
        ck_assert_int_eq(parse(p, &m), 0);
        struct dns_answer a;
        memset(&a, 0x5a, sizeof(a));
        ck_assert_int_eq(dns_answer_follow(&m, W("q.example"), DNS_TYPE_A, &a), -ELOOP);
        /* Empty: whatever the chain took (heap or inline) is given back. */
        ck_assert_uint_eq(a.n_records, 0);
        ck_assert_uint_eq(a.n_aliases, 0);
        ck_assert_ptr_null(a.aliases);
        dns_msg_free(&m);
        free(p);
    }
}
END_TEST

/* The usual answer fits the message's inline room; one with more records
 * than that goes to the heap and reads the same: each side of both limits
 * (DNS_MSG_INLINE_RRS kept records, DNS_ANSWER_INLINE_RRS records used). */
START_TEST(dns_records_beyond_inline_room) {
    static const unsigned counts[] = {0, 1, 15, 16, 17, 40, 255};
    for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
        unsigned n = counts[k];
        struct pkt *p = malloc(sizeof(*p));
        size_t q = p_start(p, "many.example", DNS_TYPE_A, (uint16_t)n, 0, 0);
        for (unsigned i = 0; i < n; i++)
            p_a_ptr(p, q, 100 + i, (uint8_t)(i + 1));
        struct dns_msg m;
        ck_assert_int_eq(parse(p, &m), 0);
        ck_assert_uint_eq(m.n_answers, n);
        struct dns_answer a;
        ck_assert_int_eq(dns_answer_follow(&m, W("many.example"), DNS_TYPE_A, &a), 0);
        ck_assert_uint_eq(a.n_records, n);
        for (unsigned i = 0; i < n; i++) {
            ck_assert_uint_eq(a.records[i]->u.in4[3], (uint8_t)(i + 1));
            ck_assert_str_eq(T(a.records[i]->owner), "many.example");
        }
        if (n > 0)
            ck_assert_uint_eq(a.ttl, 100);
        dns_answer_free(&a);
        dns_answer_free(&a); /* freed answers are empty, freeing again is harmless */
        dns_msg_free(&m);
        free(p);
    }
}
END_TEST

/* A deliberate difference from nss_dns (libnss_dot(8)): a chain whose
 * records come out of order is followed by owner, as RFC 1034 section 3.6.2
 * defines it; glibc 2.36 reads CNAMEs in message order and loses the chain. */
START_TEST(dns_follow_takes_chain_out_of_order) {
    struct pkt p;
    size_t q = p_start(&p, "q.example", DNS_TYPE_A, 3, 0, 0);
    /* c1 -> c2 first, then q -> c1, then c2's address. */
    size_t c1 = p_name(&p, "c1.example");
    size_t at = p_rr_fixed(&p, DNS_TYPE_CNAME, DNS_CLASS_IN, 50);
    size_t c2 = p_name(&p, "c2.example");
    p_end_rr(&p, at);
    p_ptr(&p, q);
    at = p_rr_fixed(&p, DNS_TYPE_CNAME, DNS_CLASS_IN, 60);
    p_ptr(&p, c1);
    p_end_rr(&p, at);
    p_a_ptr(&p, c2, 70, 9);
    struct dns_msg m;
    ck_assert_int_eq(parse(&p, &m), 0);
    struct dns_answer a;
    ck_assert_int_eq(dns_answer_follow(&m, W("q.example"), DNS_TYPE_A, &a), 0);
    ck_assert_uint_eq(a.n_aliases, 2);
    ck_assert_str_eq(T(a.aliases[0]), "q.example");
    ck_assert_str_eq(T(a.aliases[1]), "c1.example");
    ck_assert_str_eq(T(a.canonical), "c2.example");
    ck_assert_uint_eq(a.n_records, 1);
    ck_assert_uint_eq(a.ttl, 50);
    dns_answer_free(&a);
    dns_msg_free(&m);
}
END_TEST

/* Every octet value inside a label, through query building, the answer's
 * question, CNAME following and record matching: each name matches itself
 * in the other ASCII case, spelt out rather than compressed, and nothing
 * else (DESIGN.md invariant 7). */
START_TEST(dns_every_octet_in_a_label_is_matched_as_itself) {
    for (int c = 0; c < 256; c++) {
        int other = (c >= 'a' && c <= 'z') ? c - 32 : (c >= 'A' && c <= 'Z') ? c + 32 : c;
        const uint8_t qname[] = {3, 'q', (uint8_t)c, 'x', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};
        const uint8_t echo[] = {3,   'Q', (uint8_t)other, 'X', 7, 'e', 'x', 'a', 'm', 'p', 'l',
                                'e', 0};
        const uint8_t target[] = {2, 't', (uint8_t)c, 0};
        const uint8_t owner[] = {2, 'T', (uint8_t)other, 0};
        const uint8_t wrong[] = {2, 't', (uint8_t)(c ^ 1), 0};

        uint8_t qbuf[512];
        int n = dns_build_query(qbuf, sizeof(qbuf), 1, qname, DNS_TYPE_A, &plain_opts);
        ck_assert_int_gt(n, 0);
        ck_assert_mem_eq(qbuf + DNS_HEADER_LEN, qname, sizeof(qname));

        struct pkt p;
        p_header(&p, QR_RD_RA, 1, 3, 0, 0);
        p_bytes(&p, echo, sizeof(echo));
        p_u16(&p, DNS_TYPE_A);
        p_u16(&p, DNS_CLASS_IN);
        p_bytes(&p, echo, sizeof(echo)); /* the CNAME's owner, spelt out */
        size_t at = p_rr_fixed(&p, DNS_TYPE_CNAME, DNS_CLASS_IN, 100);
        p_bytes(&p, target, sizeof(target));
        p_end_rr(&p, at);
        p_bytes(&p, wrong, sizeof(wrong)); /* a neighbour octet: not ours */
        at = p_rr_fixed(&p, DNS_TYPE_A, DNS_CLASS_IN, 100);
        p_bytes(&p, "\xc0\0\2\1", 4);
        p_end_rr(&p, at);
        p_bytes(&p, owner, sizeof(owner));
        at = p_rr_fixed(&p, DNS_TYPE_A, DNS_CLASS_IN, 100);
        p_bytes(&p, "\xc0\0\2\2", 4);
        p_end_rr(&p, at);
        struct dns_msg m;
        ck_assert_int_eq(parse(&p, &m), 0);
        ck_assert(dname_wire_equal(m.qname, qname));
        struct dns_answer a;
        ck_assert_msg(dns_answer_follow(&m, qname, DNS_TYPE_A, &a) == 0, "octet %d", c);
        ck_assert_uint_eq(a.n_aliases, 1);
        ck_assert(dname_wire_equal(a.canonical, target));
        ck_assert_msg(a.n_records == 1 && a.records[0]->u.in4[3] == 2, "octet %d", c);
        dns_answer_free(&a);
        ck_assert_int_eq(dns_answer_follow(&m, wrong, DNS_TYPE_A, &a), -EINVAL);
        dns_msg_free(&m);
    }
}
END_TEST

START_TEST(dns_follow_nodata) {
    struct pkt p;
    build_chain(&p, 2, false);
    struct dns_msg m;
    ck_assert_int_eq(parse(&p, &m), 0);
    struct dns_answer a;
    ck_assert_int_eq(dns_answer_follow(&m, W("q.example"), DNS_TYPE_AAAA, &a), 0);
    ck_assert_uint_eq(a.n_records, 0);
    ck_assert_ptr_null(a.records);
    ck_assert_uint_eq(a.n_aliases, 2);
    ck_assert_str_eq(T(a.canonical), "c2.example");
    ck_assert_uint_eq(a.ttl, 998);
    dns_answer_free(&a);

    /* No CNAME, no record: empty, canonical is the question. */
    p_start(&p, "empty.example", DNS_TYPE_A, 0, 0, 0);
    dns_msg_free(&m);
    ck_assert_int_eq(parse(&p, &m), 0);
    ck_assert_int_eq(dns_answer_follow(&m, W("EMPTY.example"), DNS_TYPE_A, &a), 0);
    ck_assert_uint_eq(a.n_records, 0);
    ck_assert_str_eq(T(a.canonical), "empty.example");
    dns_answer_free(&a);

    /* Following from a name that is not the question is a caller bug. */
    ck_assert_int_eq(dns_answer_follow(&m, W("other.example"), DNS_TYPE_A, &a), -EINVAL);
    dns_msg_free(&m);
}
END_TEST

START_TEST(dns_follow_ignores_other_owners) {
    struct pkt p;
    size_t q = p_start(&p, "www.example", DNS_TYPE_A, 5, 0, 0);
    /* CNAME for an unrelated owner: must not be followed. */
    size_t other = p_labels(&p, "other");
    p_ptr(&p, q + 4); /* "example" */
    size_t at = p_rr_fixed(&p, DNS_TYPE_CNAME, DNS_CLASS_IN, 1);
    p_name(&p, "evil.example");
    p_end_rr(&p, at);
    p_a_ptr(&p, other, 1, 66); /* A for other.example: ignored */
    p_a_ptr(&p, q, 400, 1);
    p_a_ptr(&p, q, 500, 2);
    p_ptr(&p, q);
    at = p_rr_fixed(&p, DNS_TYPE_AAAA, DNS_CLASS_IN, 1); /* other type: ignored */
    p_bytes(&p, "0123456789abcdef", 16);
    p_end_rr(&p, at);
    struct dns_msg m;
    ck_assert_int_eq(parse(&p, &m), 0);
    ck_assert_uint_eq(m.n_answers, 5);
    ck_assert_str_eq(T(m.answers[0].owner), "other.example");
    struct dns_answer a;
    ck_assert_int_eq(dns_answer_follow(&m, W("www.example"), DNS_TYPE_A, &a), 0);
    ck_assert_uint_eq(a.n_aliases, 0);
    ck_assert_str_eq(T(a.canonical), "www.example");
    ck_assert_uint_eq(a.n_records, 2);
    ck_assert_uint_eq(a.records[0]->u.in4[3], 1);
    ck_assert_uint_eq(a.records[1]->u.in4[3], 2);
    ck_assert_uint_eq(a.ttl, 400); /* the ignored records' TTL of 1 plays no part */
    dns_answer_free(&a);
    dns_msg_free(&m);
}
END_TEST

START_TEST(dns_follow_ttl_is_minimum_of_used_records) {
    struct pkt p;
    size_t q = p_start(&p, "www.example", DNS_TYPE_A, 3, 0, 0);
    size_t t = p_cname(&p, q, 30, "Web.Example");
    p_a_ptr(&p, t, 600, 1);
    p_a_ptr(&p, t, 20, 2);
    struct dns_msg m;
    ck_assert_int_eq(parse(&p, &m), 0);
    struct dns_answer a;
    ck_assert_int_eq(dns_answer_follow(&m, W("www.example"), DNS_TYPE_A, &a), 0);
    ck_assert_uint_eq(a.ttl, 20);
    dns_answer_free(&a);
    dns_msg_free(&m);

    q = p_start(&p, "www.example", DNS_TYPE_A, 2, 0, 0);
    t = p_cname(&p, q, 30, "web.example");
    p_a_ptr(&p, t, 600, 1);
    ck_assert_int_eq(parse(&p, &m), 0);
    ck_assert_int_eq(dns_answer_follow(&m, W("www.example"), DNS_TYPE_A, &a), 0);
    ck_assert_uint_eq(a.ttl, 30); /* the CNAME counts too */
    dns_answer_free(&a);
    dns_msg_free(&m);
}
END_TEST

int main(void) {
    const struct check_case cases[] = {
        CHECK_CASE(dns_query_has_header_question_and_opt),
        CHECK_CASE(dns_query_padding_makes_length_multiple_of_block),
        CHECK_CASE(dns_query_keepalive_option_present),
        CHECK_CASE(dns_query_carries_the_wire_name_octet_for_octet),
        CHECK_CASE(dns_query_encodes_escapes),
        CHECK_CASE(dns_query_reports_enobufs_and_leaves_buffer),
        CHECK_CASE(dns_query_round_trips_name_through_parser),
        CHECK_CASE(dns_reverse_name_ipv4),
        CHECK_CASE(dns_reverse_name_ipv6),
        CHECK_CASE(dns_reverse_name_checks_buffer_and_family),
        CHECK_CASE(dns_parse_simple_a),
        CHECK_CASE(dns_parse_aaaa),
        CHECK_CASE(dns_parse_cname_chain),
        CHECK_CASE(dns_parse_ptr),
        CHECK_CASE(dns_parse_escapes_names_in_presentation_form),
        CHECK_CASE(dns_parse_rejects_every_truncation),
        CHECK_CASE(dns_parse_rejects_compression_loop),
        CHECK_CASE(dns_parse_rejects_pointer_to_itself),
        CHECK_CASE(dns_parse_rejects_forward_pointer),
        CHECK_CASE(dns_parse_rejects_counts_that_lie),
        CHECK_CASE(dns_parse_rejects_oversize_names),
        CHECK_CASE(dns_parse_rejects_reserved_label_types),
        CHECK_CASE(dns_parse_rejects_non_response),
        CHECK_CASE(dns_parse_rejects_qdcount_not_one),
        CHECK_CASE(dns_parse_rejects_bad_rdata),
        CHECK_CASE(dns_parse_skips_other_types_and_classes),
        CHECK_CASE(dns_parse_reads_soa_minimum),
        CHECK_CASE(dns_parse_reads_opt_keepalive),
        CHECK_CASE(dns_parse_extends_rcode_from_opt),
        CHECK_CASE(dns_parse_reads_tc_and_clamps_ttl),
        CHECK_CASE(dns_follow_chain_has_no_fixed_cap),
        CHECK_CASE(dns_follow_rejects_loop_of_any_length),
        CHECK_CASE(dns_follow_takes_chain_out_of_order),
        CHECK_CASE(dns_records_beyond_inline_room),
        CHECK_CASE(dns_every_octet_in_a_label_is_matched_as_itself),
        CHECK_CASE(dns_follow_nodata),
        CHECK_CASE(dns_follow_ignores_other_owners),
        CHECK_CASE(dns_follow_ttl_is_minimum_of_used_records),
    };
    return check_run("dns_wire", cases, sizeof(cases) / sizeof(cases[0]), NULL);
}

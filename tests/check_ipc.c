/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_ipc.c: unit tests for the module <-> daemon wire contract
 * (common/ipc.c).
 *
 * Good frames come from the encoders; malformed ones are spelled out byte by
 * byte with the small builder below, so each test shows the form it rejects.
 * Every decode reads from a heap copy of exactly the bytes under test, so an
 * over-read is an AddressSanitizer error rather than a silent pass, and every
 * failed decode must leave its output untouched.
 */
#include "ipc.h"

#include <check.h>

#include "check-run.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLY_CAP (IPC_HEADER_LEN + IPC_MAX_REPLY_BODY)

/* ---- a tiny byte builder for hand-made bodies ---- */

struct pkt {
    uint8_t b[REPLY_CAP + 64];
    size_t n;
};

static void p_u8(struct pkt *p, uint8_t v) {
    ck_assert_uint_lt(p->n, sizeof(p->b));
    p->b[p->n++] = v;
}

static void p_u16(struct pkt *p, uint16_t v) {
    p_u8(p, (uint8_t)(v >> 8));
    p_u8(p, (uint8_t)v);
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

static struct pkt *pkt_new(void) {
    struct pkt *p = calloc(1, sizeof(*p));
    ck_assert_ptr_nonnull(p);
    return p;
}

/* BYNAME body with explicit fields, so any of them can lie. */
static void p_byname(struct pkt *p, uint8_t family, uint8_t flags, uint16_t name_len,
                     const void *name, size_t n) {
    p->n = 0;
    p_u8(p, family);
    p_u8(p, flags);
    p_u16(p, name_len);
    p_bytes(p, name, n);
}

static void p_byaddr(struct pkt *p, uint8_t family, uint8_t addr_len, const void *addr, size_t n) {
    p->n = 0;
    p_u8(p, family);
    p_u8(p, addr_len);
    p_bytes(p, addr, n);
}

/* The 12-byte fixed part of a reply body. */
static void p_reply_head(struct pkt *p, uint8_t status, uint8_t flags, uint16_t n_aliases,
                         uint16_t n_addrs, uint16_t canon_len, uint32_t ttl) {
    p->n = 0;
    p_u8(p, status);
    p_u8(p, flags);
    p_u16(p, n_aliases);
    p_u16(p, n_addrs);
    p_u16(p, canon_len);
    p_u32(p, ttl);
}

static void p_alias(struct pkt *p, const char *name) {
    p_u16(p, (uint16_t)strlen(name));
    p_bytes(p, name, strlen(name));
}

static void p_addr(struct pkt *p, uint8_t family, const uint8_t *addr, size_t n) {
    p_u8(p, family);
    p_bytes(p, addr, n);
}

/* ---- fixtures ---- */

static const uint8_t a4[4] = {192, 0, 2, 1};
static const uint8_t b4[4] = {198, 51, 100, 7};
static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t b6[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 9};

/* n name octets, realistic enough (labels of up to 63), NUL-terminated. */
static void fill_name(char *out, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++)
        out[i] = (i % 64 == 63) ? '.' : (char)('a' + (i + seed) % 26);
    out[n] = '\0';
}

static uint8_t *dup_exact(const uint8_t *p, size_t n) {
    uint8_t *c = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(c);
    if (n)
        memcpy(c, p, n);
    return c;
}

/* Decodes a request body from an exact heap copy; the copy is freed. */
static int request_decode_exact(uint8_t op, const uint8_t *body, size_t len,
                                struct ipc_request *ret) {
    uint8_t *c = dup_exact(body, len);
    int r = ipc_request_decode(op, c, len, ret);
    free(c);
    return r;
}

static void expect_request_rejected(uint8_t op, const uint8_t *body, size_t len) {
    struct ipc_request req, poison;
    memset(&req, 0xA5, sizeof(req));
    poison = req;
    ck_assert_int_eq(request_decode_exact(op, body, len, &req), -EBADMSG);
    ck_assert_mem_eq(&req, &poison, sizeof(req));
}

static void expect_reply_rejected(const uint8_t *body, size_t len) {
    struct ipc_reply_view v, poison;
    memset(&v, 0xA5, sizeof(v));
    poison = v;
    uint8_t *c = dup_exact(body, len);
    ck_assert_int_eq(ipc_reply_decode(c, len, &v), -EBADMSG);
    free(c);
    ck_assert_mem_eq(&v, &poison, sizeof(v));
}

/* A decoded frame that owns an exact-size copy of the bytes the view points into. */
struct decoded {
    uint8_t *frame;
    size_t len;
    uint8_t op;
    struct ipc_reply_view v;
};

static void decode_reply_frame(struct decoded *d, const uint8_t *frame, size_t len) {
    ck_assert_uint_ge(len, IPC_HEADER_LEN);
    d->frame = dup_exact(frame, len);
    d->len = len;
    int body = ipc_header_decode(d->frame, &d->op, IPC_MAX_REPLY_BODY);
    ck_assert_int_ge(body, 0);
    ck_assert_uint_eq(d->op, IPC_OP_REPLY);
    ck_assert_uint_eq((size_t)body, len - IPC_HEADER_LEN);
    ck_assert_int_eq(ipc_reply_decode(d->frame + IPC_HEADER_LEN, (size_t)body, &d->v), 0);
}

static void decoded_free(struct decoded *d) {
    free(d->frame);
}

static void expect_name(struct ipc_name_ref r, const char *want) {
    ck_assert_uint_eq(r.len, strlen(want));
    ck_assert_mem_eq(r.p, want, r.len);
}

/* A reply with a canonical name, three aliases and v4/v6 addresses interleaved. */
static const char *const mixed_aliases[] = {"www.example.org", "web.example.org", "w3.example.org"};

static size_t build_mixed_reply(uint8_t *frame, uint32_t ttl) {
    struct ipc_reply_builder b;
    ck_assert_int_eq(ipc_reply_begin(&b, frame, REPLY_CAP, IPC_STATUS_OK, ttl, "host.example.org"),
                     0);
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(ipc_reply_add_alias(&b, mixed_aliases[i]), 0);
    ck_assert_int_eq(ipc_reply_add_addr(&b, IPC_AF_INET, a4), 0);
    ck_assert_int_eq(ipc_reply_add_addr(&b, IPC_AF_INET6, a6), 0);
    ck_assert_int_eq(ipc_reply_add_addr(&b, IPC_AF_INET, b4), 0);
    ck_assert_int_eq(ipc_reply_add_addr(&b, IPC_AF_INET6, b6), 0);
    return ipc_reply_end(&b);
}

/* ---- header ---- */

START_TEST(ipc_header_accepts_each_op) {
    for (uint8_t op = IPC_OP_BYNAME; op <= IPC_OP_REPLY; op++) {
        const uint8_t hdr[IPC_HEADER_LEN] = {0x4E, 0x44, 1, op, 0, 0, 0x01, 0x02};
        uint8_t got = 0;
        ck_assert_int_eq(ipc_header_decode(hdr, &got, 0x102), 0x102);
        ck_assert_uint_eq(got, op);
    }
}
END_TEST

START_TEST(ipc_header_accepts_body_len_at_the_bound) {
    const uint8_t zero[IPC_HEADER_LEN] = {0x4E, 0x44, 1, IPC_OP_REPLY, 0, 0, 0, 0};
    uint8_t op = 0;
    ck_assert_int_eq(ipc_header_decode(zero, &op, 0), 0);
    ck_assert_uint_eq(op, IPC_OP_REPLY);

    uint8_t hdr[IPC_HEADER_LEN] = {0x4E, 0x44, 1, IPC_OP_REPLY};
    hdr[4] = (uint8_t)(IPC_MAX_REPLY_BODY >> 24);
    hdr[5] = (uint8_t)(IPC_MAX_REPLY_BODY >> 16);
    hdr[6] = (uint8_t)(IPC_MAX_REPLY_BODY >> 8);
    hdr[7] = (uint8_t)IPC_MAX_REPLY_BODY;
    ck_assert_int_eq(ipc_header_decode(hdr, &op, IPC_MAX_REPLY_BODY), IPC_MAX_REPLY_BODY);
}
END_TEST

START_TEST(ipc_header_rejects_bad_magic) {
    const uint8_t bad[][2] = {{0x4F, 0x44}, {0x4E, 0x45}, {0x44, 0x4E}, {0, 0}, {0xff, 0xff}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const uint8_t hdr[IPC_HEADER_LEN] = {bad[i][0], bad[i][1], 1, IPC_OP_BYNAME, 0, 0, 0, 5};
        uint8_t op = 0x77;
        ck_assert_int_eq(ipc_header_decode(hdr, &op, IPC_MAX_REQUEST_BODY), -EBADMSG);
        ck_assert_uint_eq(op, 0x77);
    }
}
END_TEST

START_TEST(ipc_header_rejects_bad_version) {
    const uint8_t versions[] = {0, 2, 0x7f, 0xff};
    for (size_t i = 0; i < sizeof(versions); i++) {
        const uint8_t hdr[IPC_HEADER_LEN] = {0x4E, 0x44, versions[i], IPC_OP_BYNAME, 0, 0, 0, 5};
        uint8_t op = 0x77;
        ck_assert_int_eq(ipc_header_decode(hdr, &op, IPC_MAX_REQUEST_BODY), -EPROTO);
        ck_assert_uint_eq(op, 0x77);
    }
}
END_TEST

START_TEST(ipc_header_rejects_bad_op) {
    const uint8_t ops[] = {0, 4, 0x80, 0xff};
    for (size_t i = 0; i < sizeof(ops); i++) {
        const uint8_t hdr[IPC_HEADER_LEN] = {0x4E, 0x44, 1, ops[i], 0, 0, 0, 5};
        uint8_t op = 0x77;
        ck_assert_int_eq(ipc_header_decode(hdr, &op, IPC_MAX_REQUEST_BODY), -EBADMSG);
        ck_assert_uint_eq(op, 0x77);
    }
}
END_TEST

START_TEST(ipc_header_rejects_body_len_over_bound) {
    const uint32_t lens[] = {IPC_MAX_REQUEST_BODY + 1, IPC_MAX_REPLY_BODY, 0x80000000u,
                             0xffffffffu};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        const uint8_t hdr[IPC_HEADER_LEN] = {0x4E,
                                             0x44,
                                             1,
                                             IPC_OP_BYNAME,
                                             (uint8_t)(lens[i] >> 24),
                                             (uint8_t)(lens[i] >> 16),
                                             (uint8_t)(lens[i] >> 8),
                                             (uint8_t)lens[i]};
        uint8_t op = 0x77;
        ck_assert_int_eq(ipc_header_decode(hdr, &op, IPC_MAX_REQUEST_BODY), -EMSGSIZE);
        ck_assert_uint_eq(op, 0x77);
    }
    /* one over the reply bound */
    const uint32_t over = IPC_MAX_REPLY_BODY + 1;
    const uint8_t hdr[IPC_HEADER_LEN] = {0x4E,
                                         0x44,
                                         1,
                                         IPC_OP_REPLY,
                                         (uint8_t)(over >> 24),
                                         (uint8_t)(over >> 16),
                                         (uint8_t)(over >> 8),
                                         (uint8_t)over};
    uint8_t op = 0x77;
    ck_assert_int_eq(ipc_header_decode(hdr, &op, IPC_MAX_REPLY_BODY), -EMSGSIZE);
    ck_assert_uint_eq(op, 0x77);
}
END_TEST

/* ---- requests: round trips ---- */

static void byname_round_trip(uint8_t family, const char *name) {
    uint8_t buf[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY];
    size_t n = strlen(name);
    int len = ipc_request_encode_byname(buf, sizeof(buf), family, name);
    ck_assert_int_eq(len, (int)(IPC_HEADER_LEN + 4 + n));

    /* the layout documented in ipc.h */
    ck_assert_uint_eq(buf[0], 0x4E);
    ck_assert_uint_eq(buf[1], 0x44);
    ck_assert_uint_eq(buf[2], IPC_VERSION);
    ck_assert_uint_eq(buf[3], IPC_OP_BYNAME);
    ck_assert_uint_eq(((uint32_t)buf[4] << 24) | ((uint32_t)buf[5] << 16) |
                          ((uint32_t)buf[6] << 8) | buf[7],
                      4 + n);
    ck_assert_uint_eq(buf[8], family);
    ck_assert_uint_eq(buf[9], 0);
    ck_assert_uint_eq(((unsigned)buf[10] << 8) | buf[11], n);
    ck_assert_mem_eq(buf + 12, name, n);

    uint8_t op = 0;
    int body = ipc_header_decode(buf, &op, IPC_MAX_REQUEST_BODY);
    ck_assert_int_eq(body, (int)(4 + n));
    ck_assert_uint_eq(op, IPC_OP_BYNAME);

    struct ipc_request req;
    memset(&req, 0xA5, sizeof(req));
    ck_assert_int_eq(request_decode_exact(op, buf + IPC_HEADER_LEN, (size_t)body, &req), 0);
    ck_assert_uint_eq(req.op, IPC_OP_BYNAME);
    ck_assert_uint_eq(req.family, family);
    ck_assert_uint_eq(req.name_len, n);
    ck_assert_str_eq(req.name, name);
    ck_assert_uint_eq(req.addr_len, 0);
}

START_TEST(ipc_byname_round_trips_each_family) {
    byname_round_trip(IPC_AF_UNSPEC, "www.example.org");
    byname_round_trip(IPC_AF_INET, "www.example.org");
    byname_round_trip(IPC_AF_INET6, "www.example.org.");
    byname_round_trip(IPC_AF_INET, "x");
}
END_TEST

START_TEST(ipc_byname_round_trips_254_char_name) {
    char name[IPC_MAX_NAME + 1];
    fill_name(name, IPC_MAX_NAME, 0);
    name[IPC_MAX_NAME - 1] = '.'; /* 253 octets plus the trailing dot */
    byname_round_trip(IPC_AF_UNSPEC, name);
    byname_round_trip(IPC_AF_INET6, name);
}
END_TEST

static void byaddr_round_trip(uint8_t family, const uint8_t *addr, size_t n) {
    uint8_t buf[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY];
    int len = ipc_request_encode_byaddr(buf, sizeof(buf), family, addr, n);
    ck_assert_int_eq(len, (int)(IPC_HEADER_LEN + 2 + n));
    ck_assert_uint_eq(buf[3], IPC_OP_BYADDR);
    ck_assert_uint_eq(buf[7], 2 + n);
    ck_assert_uint_eq(buf[8], family);
    ck_assert_uint_eq(buf[9], n);
    ck_assert_mem_eq(buf + 10, addr, n);

    uint8_t op = 0;
    int body = ipc_header_decode(buf, &op, IPC_MAX_REQUEST_BODY);
    ck_assert_int_eq(body, (int)(2 + n));
    ck_assert_uint_eq(op, IPC_OP_BYADDR);

    struct ipc_request req;
    memset(&req, 0xA5, sizeof(req));
    ck_assert_int_eq(request_decode_exact(op, buf + IPC_HEADER_LEN, (size_t)body, &req), 0);
    ck_assert_uint_eq(req.op, IPC_OP_BYADDR);
    ck_assert_uint_eq(req.family, family);
    ck_assert_uint_eq(req.addr_len, n);
    ck_assert_mem_eq(req.addr, addr, n);
    ck_assert_uint_eq(req.name_len, 0);
}

START_TEST(ipc_byaddr_round_trips_ipv4) {
    byaddr_round_trip(IPC_AF_INET, a4, 4);
}
END_TEST

START_TEST(ipc_byaddr_round_trips_ipv6) {
    byaddr_round_trip(IPC_AF_INET6, a6, 16);
}
END_TEST

/* ---- requests: malformed ---- */

START_TEST(ipc_request_decode_rejects_every_truncation) {
    uint8_t buf[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY];
    int len = ipc_request_encode_byname(buf, sizeof(buf), IPC_AF_INET, "www.example.org");
    ck_assert_int_gt(len, IPC_HEADER_LEN);
    for (size_t n = 0; n < (size_t)len - IPC_HEADER_LEN; n++)
        expect_request_rejected(IPC_OP_BYNAME, buf + IPC_HEADER_LEN, n);

    len = ipc_request_encode_byaddr(buf, sizeof(buf), IPC_AF_INET6, a6, 16);
    ck_assert_int_gt(len, IPC_HEADER_LEN);
    for (size_t n = 0; n < (size_t)len - IPC_HEADER_LEN; n++)
        expect_request_rejected(IPC_OP_BYADDR, buf + IPC_HEADER_LEN, n);

    len = ipc_request_encode_byaddr(buf, sizeof(buf), IPC_AF_INET, a4, 4);
    ck_assert_int_gt(len, IPC_HEADER_LEN);
    for (size_t n = 0; n < (size_t)len - IPC_HEADER_LEN; n++)
        expect_request_rejected(IPC_OP_BYADDR, buf + IPC_HEADER_LEN, n);
}
END_TEST

START_TEST(ipc_request_decode_rejects_trailing_bytes) {
    struct pkt *p = pkt_new();
    p_byname(p, IPC_AF_INET, 0, 3, "abc", 3);
    struct ipc_request req;
    ck_assert_int_eq(request_decode_exact(IPC_OP_BYNAME, p->b, p->n, &req), 0);
    p_u8(p, 'd');
    expect_request_rejected(IPC_OP_BYNAME, p->b, p->n);
    p_u8(p, 0);
    expect_request_rejected(IPC_OP_BYNAME, p->b, p->n);

    p_byaddr(p, IPC_AF_INET, 4, a4, 4);
    ck_assert_int_eq(request_decode_exact(IPC_OP_BYADDR, p->b, p->n, &req), 0);
    p_u8(p, 0);
    expect_request_rejected(IPC_OP_BYADDR, p->b, p->n);
    free(p);
}
END_TEST

START_TEST(ipc_request_decode_rejects_name_len_mismatch) {
    struct pkt *p = pkt_new();
    p_byname(p, IPC_AF_INET, 0, 4, "abc", 3); /* says more than is there */
    expect_request_rejected(IPC_OP_BYNAME, p->b, p->n);
    p_byname(p, IPC_AF_INET, 0, 2, "abc", 3); /* says less */
    expect_request_rejected(IPC_OP_BYNAME, p->b, p->n);
    p_byname(p, IPC_AF_INET, 0, 0xffff, "abc", 3);
    expect_request_rejected(IPC_OP_BYNAME, p->b, p->n);
    free(p);
}
END_TEST

START_TEST(ipc_request_decode_rejects_name_with_nul) {
    struct pkt *p = pkt_new();
    p_byname(p, IPC_AF_INET, 0, 4, "ab\0c", 4);
    expect_request_rejected(IPC_OP_BYNAME, p->b, p->n);
    p_byname(p, IPC_AF_INET, 0, 4, "abc\0", 4); /* a terminator is not sent */
    expect_request_rejected(IPC_OP_BYNAME, p->b, p->n);
    p_byname(p, IPC_AF_INET, 0, 1, "\0", 1);
    expect_request_rejected(IPC_OP_BYNAME, p->b, p->n);
    free(p);
}
END_TEST

/* The empty name is a name glibc asks about (it fails in res_search, with
 * NO_RECOVERY): the daemon must see it to answer as nss_dns does. */
START_TEST(ipc_request_decode_takes_the_empty_name) {
    struct pkt *p = pkt_new();
    struct ipc_request req;
    p_byname(p, IPC_AF_UNSPEC, 0, 0, "", 0);
    ck_assert_int_eq(request_decode_exact(IPC_OP_BYNAME, p->b, p->n, &req), 0);
    ck_assert_uint_eq(req.name_len, 0);
    ck_assert_str_eq(req.name, "");
    free(p);
}
END_TEST

START_TEST(ipc_request_decode_rejects_name_over_max) {
    char name[IPC_MAX_QUERY_NAME + 2];
    struct pkt *p = pkt_new();
    struct ipc_request req;
    fill_name(name, IPC_MAX_QUERY_NAME, 1);
    p_byname(p, IPC_AF_INET, 0, IPC_MAX_QUERY_NAME, name, IPC_MAX_QUERY_NAME);
    ck_assert_int_eq(request_decode_exact(IPC_OP_BYNAME, p->b, p->n, &req), 0);
    fill_name(name, IPC_MAX_QUERY_NAME + 1, 1);
    p_byname(p, IPC_AF_INET, 0, IPC_MAX_QUERY_NAME + 1, name, IPC_MAX_QUERY_NAME + 1);
    expect_request_rejected(IPC_OP_BYNAME, p->b, p->n);
    free(p);
}
END_TEST

START_TEST(ipc_request_decode_rejects_reserved_flags) {
    const uint8_t flags[] = {5, 7, 0x08, 0x80, 0xff, 0x81};
    struct pkt *p = pkt_new();
    for (size_t i = 0; i < sizeof(flags); i++) {
        p_byname(p, IPC_AF_INET, flags[i], 3, "abc", 3);
        expect_request_rejected(IPC_OP_BYNAME, p->b, p->n);
    }
    free(p);
}
END_TEST

START_TEST(ipc_request_decode_takes_the_map_fallback_cause) {
    struct pkt *p = pkt_new();
    for (uint8_t f = 0; f <= IPC_ASK_MAX_; f++) {
        struct ipc_request r;
        p->n = 0;
        p_byname(p, IPC_AF_INET, f, 3, "abc", 3);
        ck_assert_int_eq(ipc_request_decode(IPC_OP_BYNAME, p->b, p->n, &r), 0);
        ck_assert_uint_eq(r.flags, f);
        ck_assert_str_eq(r.name, "abc");
    }
    free(p);
}
END_TEST

START_TEST(ipc_request_decode_rejects_wrong_family) {
    const uint8_t byname_bad[] = {1, 2, 5, 7, 10, 0xff};
    struct pkt *p = pkt_new();
    for (size_t i = 0; i < sizeof(byname_bad); i++) {
        p_byname(p, byname_bad[i], 0, 3, "abc", 3);
        expect_request_rejected(IPC_OP_BYNAME, p->b, p->n);
    }
    /* BYADDR has no "unspecified" family */
    p_byaddr(p, IPC_AF_UNSPEC, 0, "", 0);
    expect_request_rejected(IPC_OP_BYADDR, p->b, p->n);
    p_byaddr(p, IPC_AF_UNSPEC, 4, a4, 4);
    expect_request_rejected(IPC_OP_BYADDR, p->b, p->n);
    p_byaddr(p, 5, 4, a4, 4);
    expect_request_rejected(IPC_OP_BYADDR, p->b, p->n);
    p_byaddr(p, 0xff, 16, a6, 16);
    expect_request_rejected(IPC_OP_BYADDR, p->b, p->n);
    free(p);
}
END_TEST

START_TEST(ipc_request_decode_rejects_addr_len_mismatch) {
    struct pkt *p = pkt_new();
    p_byaddr(p, IPC_AF_INET, 16, a6, 16);
    expect_request_rejected(IPC_OP_BYADDR, p->b, p->n);
    p_byaddr(p, IPC_AF_INET6, 4, a4, 4);
    expect_request_rejected(IPC_OP_BYADDR, p->b, p->n);
    p_byaddr(p, IPC_AF_INET, 4, a6, 16); /* addr_len right, body longer */
    expect_request_rejected(IPC_OP_BYADDR, p->b, p->n);
    p_byaddr(p, IPC_AF_INET6, 16, a4, 4); /* addr_len right, body shorter */
    expect_request_rejected(IPC_OP_BYADDR, p->b, p->n);
    p_byaddr(p, IPC_AF_INET, 0, "", 0);
    expect_request_rejected(IPC_OP_BYADDR, p->b, p->n);
    p_byaddr(p, IPC_AF_INET6, 0xff, a6, 16);
    expect_request_rejected(IPC_OP_BYADDR, p->b, p->n);
    free(p);
}
END_TEST

START_TEST(ipc_request_decode_rejects_other_ops) {
    struct pkt *p = pkt_new();
    p_byname(p, IPC_AF_INET, 0, 3, "abc", 3);
    const uint8_t ops[] = {0, IPC_OP_REPLY, 4, 0xff};
    for (size_t i = 0; i < sizeof(ops); i++)
        expect_request_rejected(ops[i], p->b, p->n);
    free(p);
}
END_TEST

/* ---- request encoders ---- */

START_TEST(ipc_request_encode_rejects_bad_input) {
    uint8_t buf[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY];
    char name[IPC_MAX_QUERY_NAME + 2];

    ck_assert_int_gt(ipc_request_encode_byname(buf, sizeof(buf), IPC_AF_INET, ""), 0);
    fill_name(name, IPC_MAX_QUERY_NAME + 1, 2);
    ck_assert_int_eq(ipc_request_encode_byname(buf, sizeof(buf), IPC_AF_INET, name), -EINVAL);
    fill_name(name, IPC_MAX_QUERY_NAME, 2);
    ck_assert_int_gt(ipc_request_encode_byname(buf, sizeof(buf), IPC_AF_INET, name), 0);
    const uint8_t bad_families[] = {1, 2, 5, 10, 0xff};
    for (size_t i = 0; i < sizeof(bad_families); i++)
        ck_assert_int_eq(ipc_request_encode_byname(buf, sizeof(buf), bad_families[i], "a.b"),
                         -EINVAL);

    ck_assert_int_eq(ipc_request_encode_byaddr(buf, sizeof(buf), IPC_AF_UNSPEC, a4, 0), -EINVAL);
    ck_assert_int_eq(ipc_request_encode_byaddr(buf, sizeof(buf), IPC_AF_UNSPEC, a4, 4), -EINVAL);
    ck_assert_int_eq(ipc_request_encode_byaddr(buf, sizeof(buf), IPC_AF_INET, a6, 16), -EINVAL);
    ck_assert_int_eq(ipc_request_encode_byaddr(buf, sizeof(buf), IPC_AF_INET6, a4, 4), -EINVAL);
    ck_assert_int_eq(ipc_request_encode_byaddr(buf, sizeof(buf), 5, a4, 4), -EINVAL);
}
END_TEST

START_TEST(ipc_request_encode_reports_short_buffer) {
    /* Every buffer short of the frame is refused and left alone; the exact
     * size works. */
    const char *name = "www.example.org";
    const size_t need_name = IPC_HEADER_LEN + 4 + strlen(name);
    for (size_t cap = 0; cap <= need_name; cap++) {
        uint8_t *buf = malloc(cap ? cap : 1);
        memset(buf, 0xAA, cap);
        int r = ipc_request_encode_byname(buf, cap, IPC_AF_INET, name);
        if (cap < need_name) {
            ck_assert_int_eq(r, -ENOBUFS);
            for (size_t i = 0; i < cap; i++)
                ck_assert_uint_eq(buf[i], 0xAA);
        } else {
            ck_assert_int_eq(r, (int)need_name);
        }
        free(buf);
    }
    const size_t need_addr = IPC_HEADER_LEN + 2 + 16;
    for (size_t cap = 0; cap <= need_addr; cap++) {
        uint8_t *buf = malloc(cap ? cap : 1);
        memset(buf, 0xAA, cap);
        int r = ipc_request_encode_byaddr(buf, cap, IPC_AF_INET6, a6, 16);
        if (cap < need_addr) {
            ck_assert_int_eq(r, -ENOBUFS);
            for (size_t i = 0; i < cap; i++)
                ck_assert_uint_eq(buf[i], 0xAA);
        } else {
            ck_assert_int_eq(r, (int)need_addr);
        }
        free(buf);
    }
}
END_TEST

/* ---- replies: round trips ---- */

START_TEST(ipc_reply_round_trips_each_status) {
    uint8_t *frame = malloc(REPLY_CAP);
    for (uint8_t st = IPC_STATUS_NXDOMAIN; st <= IPC_STATUS_MAX_; st++) {
        struct ipc_reply_builder b;
        ck_assert_int_eq(ipc_reply_begin(&b, frame, REPLY_CAP, st, 0x01020304u, NULL), 0);
        size_t len = ipc_reply_end(&b);
        ck_assert_uint_eq(len, IPC_HEADER_LEN + 12);

        struct decoded d;
        decode_reply_frame(&d, frame, len);
        ck_assert_uint_eq(d.v.status, st);
        ck_assert_uint_eq(d.v.ttl, 0x01020304u);
        ck_assert_uint_eq(d.v.canon.len, 0);
        ck_assert_uint_eq(d.v.n_aliases, 0);
        ck_assert_uint_eq(d.v.n_addrs, 0);
        decoded_free(&d);
    }
    /* OK with a canonical name and nothing else (a PTR answer without a
     * further target would look like this) */
    struct ipc_reply_builder b;
    ck_assert_int_eq(ipc_reply_begin(&b, frame, REPLY_CAP, IPC_STATUS_OK, 0, "a.example"), 0);
    struct decoded d;
    decode_reply_frame(&d, frame, ipc_reply_end(&b));
    ck_assert_uint_eq(d.v.status, IPC_STATUS_OK);
    expect_name(d.v.canon, "a.example");
    ck_assert_uint_eq(d.v.n_aliases + d.v.n_addrs, 0);
    decoded_free(&d);
    free(frame);
}
END_TEST

START_TEST(ipc_reply_builder_drops_canon_unless_ok) {
    uint8_t *frame = malloc(REPLY_CAP);
    struct ipc_reply_builder b;
    ck_assert_int_eq(ipc_reply_begin(&b, frame, REPLY_CAP, IPC_STATUS_NODATA, 5, "x.example"), 0);
    struct decoded d;
    decode_reply_frame(&d, frame, ipc_reply_end(&b));
    ck_assert_uint_eq(d.v.status, IPC_STATUS_NODATA);
    ck_assert_uint_eq(d.v.canon.len, 0);
    decoded_free(&d);
    free(frame);
}
END_TEST

START_TEST(ipc_reply_wire_layout_matches_header) {
    uint8_t *frame = malloc(REPLY_CAP);
    size_t len = build_mixed_reply(frame, 0xA1B2C3D4u);
    const size_t canon = strlen("host.example.org");
    size_t body = 12 + canon;
    for (size_t i = 0; i < 3; i++)
        body += 2 + strlen(mixed_aliases[i]);
    body += 2 * 5 + 2 * 17;
    ck_assert_uint_eq(len, IPC_HEADER_LEN + body);

    const uint8_t hdr[] = {0x4E,
                           0x44,
                           1,
                           IPC_OP_REPLY,
                           (uint8_t)(body >> 24),
                           (uint8_t)(body >> 16),
                           (uint8_t)(body >> 8),
                           (uint8_t)body};
    ck_assert_mem_eq(frame, hdr, sizeof(hdr));
    const uint8_t *p = frame + IPC_HEADER_LEN;
    const uint8_t fixed[] = {IPC_STATUS_OK,  0,    0,    3,    0,   4, 0,
                             (uint8_t)canon, 0xA1, 0xB2, 0xC3, 0xD4};
    ck_assert_mem_eq(p, fixed, sizeof(fixed));
    p += 12;
    ck_assert_mem_eq(p, "host.example.org", canon);
    p += canon;
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(mixed_aliases[i]);
        ck_assert_uint_eq(p[0], 0);
        ck_assert_uint_eq(p[1], n);
        ck_assert_mem_eq(p + 2, mixed_aliases[i], n);
        p += 2 + n;
    }
    ck_assert_uint_eq(p[0], IPC_AF_INET);
    ck_assert_mem_eq(p + 1, a4, 4);
    ck_assert_uint_eq(p[5], IPC_AF_INET6);
    ck_assert_mem_eq(p + 6, a6, 16);
    ck_assert_uint_eq(p[22], IPC_AF_INET);
    ck_assert_mem_eq(p + 23, b4, 4);
    ck_assert_uint_eq(p[27], IPC_AF_INET6);
    ck_assert_mem_eq(p + 28, b6, 16);
    ck_assert_ptr_eq(p + 44, frame + len);
    free(frame);
}
END_TEST

START_TEST(ipc_reply_round_trips_canon_aliases_and_mixed_addrs) {
    uint8_t *frame = malloc(REPLY_CAP);
    struct decoded d;
    decode_reply_frame(&d, frame, build_mixed_reply(frame, 0xffffffffu));
    free(frame);

    ck_assert_uint_eq(d.v.status, IPC_STATUS_OK);
    ck_assert_uint_eq(d.v.ttl, 0xffffffffu);
    expect_name(d.v.canon, "host.example.org");
    ck_assert_uint_eq(d.v.n_aliases, 3);
    ck_assert_uint_eq(d.v.n_addrs, 4);

    const uint8_t *cur = d.v.aliases;
    for (size_t i = 0; i < 3; i++)
        expect_name(ipc_reply_alias(&cur), mixed_aliases[i]);
    ck_assert_ptr_eq(cur, d.v.addrs);

    const struct {
        uint8_t family;
        const uint8_t *addr;
    } want[] = {{IPC_AF_INET, a4}, {IPC_AF_INET6, a6}, {IPC_AF_INET, b4}, {IPC_AF_INET6, b6}};
    cur = d.v.addrs;
    for (size_t i = 0; i < 4; i++) {
        uint8_t family = 0;
        const uint8_t *a = ipc_reply_addr(&cur, &family);
        ck_assert_uint_eq(family, want[i].family);
        ck_assert_mem_eq(a, want[i].addr, ipc_addr_len(family));
    }
    ck_assert_ptr_eq(cur, d.frame + d.len);
    decoded_free(&d);
}
END_TEST

/* The largest reply the contract allows: it must be exactly IPC_MAX_REPLY_BODY. */
static size_t build_max_reply(uint8_t *frame) {
    char name[IPC_MAX_NAME + 1];
    struct ipc_reply_builder b;
    fill_name(name, IPC_MAX_NAME, 3);
    ck_assert_int_eq(ipc_reply_begin(&b, frame, REPLY_CAP, IPC_STATUS_OK, 60, name), 0);
    for (unsigned i = 0; i < IPC_MAX_ALIASES; i++) {
        fill_name(name, IPC_MAX_NAME, i);
        ck_assert_int_eq(ipc_reply_add_alias(&b, name), 0);
    }
    for (unsigned i = 0; i < IPC_MAX_ADDRS; i++) {
        uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};
        a[14] = (uint8_t)(i >> 8);
        a[15] = (uint8_t)i;
        ck_assert_int_eq(ipc_reply_add_addr(&b, IPC_AF_INET6, a), 0);
    }
    return ipc_reply_end(&b);
}

START_TEST(ipc_reply_round_trips_max_sizes) {
    uint8_t *frame = malloc(REPLY_CAP);
    size_t len = build_max_reply(frame);
    ck_assert_uint_eq(len, REPLY_CAP);

    struct decoded d;
    decode_reply_frame(&d, frame, len);
    free(frame);
    char name[IPC_MAX_NAME + 1];
    fill_name(name, IPC_MAX_NAME, 3);
    expect_name(d.v.canon, name);
    ck_assert_uint_eq(d.v.n_aliases, IPC_MAX_ALIASES);
    ck_assert_uint_eq(d.v.n_addrs, IPC_MAX_ADDRS);
    const uint8_t *cur = d.v.aliases;
    for (unsigned i = 0; i < IPC_MAX_ALIASES; i++) {
        fill_name(name, IPC_MAX_NAME, i);
        expect_name(ipc_reply_alias(&cur), name);
    }
    cur = d.v.addrs;
    for (unsigned i = 0; i < IPC_MAX_ADDRS; i++) {
        uint8_t family = 0;
        const uint8_t *a = ipc_reply_addr(&cur, &family);
        ck_assert_uint_eq(family, IPC_AF_INET6);
        ck_assert_uint_eq(a[14], (uint8_t)(i >> 8));
        ck_assert_uint_eq(a[15], (uint8_t)i);
    }
    ck_assert_ptr_eq(cur, d.frame + d.len);
    decoded_free(&d);
}
END_TEST

/* ---- reply builder: bounds and misuse ---- */

START_TEST(ipc_reply_begin_rejects_bad_input) {
    uint8_t *frame = malloc(REPLY_CAP);
    char name[IPC_MAX_NAME + 2];
    struct ipc_reply_builder b;

    ck_assert_int_eq(ipc_reply_begin(&b, frame, REPLY_CAP, IPC_STATUS_MAX_ + 1, 0, NULL), -EINVAL);
    ck_assert_int_eq(ipc_reply_begin(&b, frame, REPLY_CAP, 0xff, 0, NULL), -EINVAL);
    ck_assert_int_eq(ipc_reply_begin(&b, frame, REPLY_CAP, IPC_STATUS_OK, 0, NULL), -EINVAL);
    ck_assert_int_eq(ipc_reply_begin(&b, frame, REPLY_CAP, IPC_STATUS_OK, 0, ""), -EINVAL);
    fill_name(name, IPC_MAX_NAME + 1, 0);
    ck_assert_int_eq(ipc_reply_begin(&b, frame, REPLY_CAP, IPC_STATUS_OK, 0, name), -EINVAL);
    fill_name(name, IPC_MAX_NAME, 0);
    ck_assert_int_eq(ipc_reply_begin(&b, frame, REPLY_CAP, IPC_STATUS_OK, 0, name), 0);
    free(frame);
}
END_TEST

START_TEST(ipc_reply_begin_reports_short_buffer) {
    const char *canon = "host.example.org";
    const size_t need = IPC_HEADER_LEN + 12 + strlen(canon);
    for (size_t cap = 0; cap <= need; cap++) {
        uint8_t *frame = malloc(cap ? cap : 1);
        struct ipc_reply_builder b;
        int r = ipc_reply_begin(&b, frame, cap, IPC_STATUS_OK, 0, canon);
        if (cap < need) {
            ck_assert_int_eq(r, -ENOBUFS);
        } else {
            ck_assert_int_eq(r, 0);
            /* full: nothing more fits, and the frame still decodes */
            ck_assert_int_eq(ipc_reply_add_alias(&b, "a"), -ENOBUFS);
            ck_assert_int_eq(ipc_reply_add_addr(&b, IPC_AF_INET, a4), -ENOBUFS);
            struct decoded d;
            decode_reply_frame(&d, frame, ipc_reply_end(&b));
            expect_name(d.v.canon, canon);
            decoded_free(&d);
        }
        free(frame);
    }
}
END_TEST

START_TEST(ipc_reply_builder_reports_short_buffer) {
    /* A cap that ends inside an alias or an address refuses that one and
     * keeps what was added before; the frame never overruns the cap. */
    const char *canon = "c.example";
    const size_t base = IPC_HEADER_LEN + 12 + strlen(canon);
    for (size_t extra = 0; extra <= 2 + 5 + 17; extra++) {
        size_t cap = base + extra;
        uint8_t *frame = malloc(cap);
        struct ipc_reply_builder b;
        ck_assert_int_eq(ipc_reply_begin(&b, frame, cap, IPC_STATUS_OK, 0, canon), 0);
        int ra = ipc_reply_add_alias(&b, "xy"); /* 4 bytes */
        ck_assert_int_eq(ra, extra >= 4 ? 0 : -ENOBUFS);
        size_t used = ra == 0 ? 4 : 0;
        int r4 = ipc_reply_add_addr(&b, IPC_AF_INET, a4); /* 5 bytes */
        ck_assert_int_eq(r4, extra >= used + 5 ? 0 : -ENOBUFS);
        used += r4 == 0 ? 5 : 0;
        int r6 = ipc_reply_add_addr(&b, IPC_AF_INET6, a6); /* 17 bytes */
        ck_assert_int_eq(r6, extra >= used + 17 ? 0 : -ENOBUFS);
        used += r6 == 0 ? 17 : 0;

        size_t len = ipc_reply_end(&b);
        ck_assert_uint_eq(len, base + used);
        ck_assert_uint_le(len, cap);
        struct decoded d;
        decode_reply_frame(&d, frame, len);
        ck_assert_uint_eq(d.v.n_aliases, ra == 0 ? 1 : 0);
        ck_assert_uint_eq(d.v.n_addrs, (r4 == 0) + (r6 == 0));
        decoded_free(&d);
        free(frame);
    }
}
END_TEST

START_TEST(ipc_reply_builder_rejects_bad_alias_and_addr) {
    uint8_t *frame = malloc(REPLY_CAP);
    char name[IPC_MAX_NAME + 2];
    struct ipc_reply_builder b;

    ck_assert_int_eq(ipc_reply_begin(&b, frame, REPLY_CAP, IPC_STATUS_OK, 0, "c.example"), 0);
    ck_assert_int_eq(ipc_reply_add_alias(&b, ""), -EINVAL);
    fill_name(name, IPC_MAX_NAME + 1, 0);
    ck_assert_int_eq(ipc_reply_add_alias(&b, name), -EINVAL);
    ck_assert_int_eq(ipc_reply_add_addr(&b, IPC_AF_UNSPEC, a6), -EINVAL);
    ck_assert_int_eq(ipc_reply_add_addr(&b, 5, a6), -EINVAL);
    ck_assert_int_eq(ipc_reply_add_addr(&b, 0xff, a6), -EINVAL);
    struct decoded d;
    decode_reply_frame(&d, frame, ipc_reply_end(&b));
    ck_assert_uint_eq(d.v.n_aliases + d.v.n_addrs, 0);
    decoded_free(&d);

    /* A reply that is not OK carries nothing. */
    ck_assert_int_eq(ipc_reply_begin(&b, frame, REPLY_CAP, IPC_STATUS_NXDOMAIN, 0, NULL), 0);
    ck_assert_int_eq(ipc_reply_add_alias(&b, "a.example"), -EINVAL);
    ck_assert_int_eq(ipc_reply_add_addr(&b, IPC_AF_INET, a4), -EINVAL);
    decode_reply_frame(&d, frame, ipc_reply_end(&b));
    ck_assert_uint_eq(d.v.status, IPC_STATUS_NXDOMAIN);
    ck_assert_uint_eq(d.v.n_aliases + d.v.n_addrs, 0);
    decoded_free(&d);
    free(frame);
}
END_TEST

START_TEST(ipc_reply_builder_refuses_aliases_after_addresses) {
    uint8_t *frame = malloc(REPLY_CAP);
    struct ipc_reply_builder b;
    ck_assert_int_eq(ipc_reply_begin(&b, frame, REPLY_CAP, IPC_STATUS_OK, 0, "c.example"), 0);
    ck_assert_int_eq(ipc_reply_add_alias(&b, "a1.example"), 0);
    ck_assert_int_eq(ipc_reply_add_addr(&b, IPC_AF_INET, a4), 0);
    ck_assert_int_eq(ipc_reply_add_alias(&b, "a2.example"), -EINVAL);
    ck_assert_int_eq(ipc_reply_add_addr(&b, IPC_AF_INET6, a6), 0);
    ck_assert_int_eq(ipc_reply_add_alias(&b, "a3.example"), -EINVAL);

    struct decoded d;
    decode_reply_frame(&d, frame, ipc_reply_end(&b));
    ck_assert_uint_eq(d.v.n_aliases, 1);
    ck_assert_uint_eq(d.v.n_addrs, 2);
    const uint8_t *cur = d.v.aliases;
    expect_name(ipc_reply_alias(&cur), "a1.example");
    decoded_free(&d);
    free(frame);
}
END_TEST

START_TEST(ipc_reply_builder_stops_at_the_maxima) {
    uint8_t *frame = malloc(REPLY_CAP);
    struct ipc_reply_builder b;
    ck_assert_int_eq(ipc_reply_begin(&b, frame, REPLY_CAP, IPC_STATUS_OK, 0, "c.example"), 0);
    for (unsigned i = 0; i < IPC_MAX_ALIASES; i++)
        ck_assert_int_eq(ipc_reply_add_alias(&b, "alias.example"), 0);
    ck_assert_int_eq(ipc_reply_add_alias(&b, "one.too.many"), -ENOBUFS);
    for (unsigned i = 0; i < IPC_MAX_ADDRS; i++)
        ck_assert_int_eq(
            ipc_reply_add_addr(&b, i % 2 ? IPC_AF_INET : IPC_AF_INET6, i % 2 ? a4 : a6), 0);
    ck_assert_int_eq(ipc_reply_add_addr(&b, IPC_AF_INET, b4), -ENOBUFS);
    ck_assert_int_eq(ipc_reply_add_addr(&b, IPC_AF_INET6, b6), -ENOBUFS);

    struct decoded d;
    decode_reply_frame(&d, frame, ipc_reply_end(&b));
    ck_assert_uint_eq(d.v.n_aliases, IPC_MAX_ALIASES);
    ck_assert_uint_eq(d.v.n_addrs, IPC_MAX_ADDRS);
    decoded_free(&d);
    free(frame);
}
END_TEST

/* ---- replies: malformed ---- */

START_TEST(ipc_reply_decode_rejects_every_truncation) {
    uint8_t *frame = malloc(REPLY_CAP);
    size_t len = build_mixed_reply(frame, 300);
    for (size_t n = 0; n < len - IPC_HEADER_LEN; n++)
        expect_reply_rejected(frame + IPC_HEADER_LEN, n);

    /* and the largest frame, where the counts are at their maxima: every
     * cut in its first and last 256 octets, and 256 cuts spread between
     * (each decode reads up to the whole 1.1 MiB frame: every cut would
     * take hours) */
    len = build_max_reply(frame);
    size_t body = len - IPC_HEADER_LEN, step = body / 256;
    for (size_t n = 0; n < body; n += (n < 256 || n + 256 >= body) ? 1 : step)
        expect_reply_rejected(frame + IPC_HEADER_LEN, n);
    free(frame);
}
END_TEST

START_TEST(ipc_reply_decode_rejects_trailing_bytes) {
    struct pkt *p = pkt_new();
    p->n = build_mixed_reply(p->b, 1) - IPC_HEADER_LEN;
    memmove(p->b, p->b + IPC_HEADER_LEN, p->n);
    struct ipc_reply_view v;
    uint8_t *c = dup_exact(p->b, p->n);
    ck_assert_int_eq(ipc_reply_decode(c, p->n, &v), 0);
    free(c);
    p_u8(p, 0);
    expect_reply_rejected(p->b, p->n);
    p_u8(p, IPC_AF_INET); /* half an address more */
    expect_reply_rejected(p->b, p->n);

    p_reply_head(p, IPC_STATUS_NXDOMAIN, 0, 0, 0, 0, 0);
    p_u8(p, 0);
    expect_reply_rejected(p->b, p->n);
    free(p);
}
END_TEST

START_TEST(ipc_reply_decode_rejects_reserved_flags) {
    struct pkt *p = pkt_new();
    const uint8_t flags[] = {1, 0x80, 0xff};
    for (size_t i = 0; i < sizeof(flags); i++) {
        p_reply_head(p, IPC_STATUS_OK, flags[i], 0, 1, 3, 0);
        p_bytes(p, "a.b", 3);
        p_addr(p, IPC_AF_INET, a4, 4);
        expect_reply_rejected(p->b, p->n);
        p_reply_head(p, IPC_STATUS_TRYAGAIN, flags[i], 0, 0, 0, 0);
        expect_reply_rejected(p->b, p->n);
    }
    free(p);
}
END_TEST

START_TEST(ipc_reply_decode_rejects_unknown_status) {
    struct pkt *p = pkt_new();
    const uint8_t st[] = {IPC_STATUS_MAX_ + 1, 0x7f, 0xff};
    for (size_t i = 0; i < sizeof(st); i++) {
        p_reply_head(p, st[i], 0, 0, 0, 0, 0);
        expect_reply_rejected(p->b, p->n);
        p_reply_head(p, st[i], 0, 0, 1, 3, 0);
        p_bytes(p, "a.b", 3);
        p_addr(p, IPC_AF_INET, a4, 4);
        expect_reply_rejected(p->b, p->n);
    }
    free(p);
}
END_TEST

START_TEST(ipc_reply_decode_rejects_non_ok_with_names_or_addrs) {
    struct pkt *p = pkt_new();
    for (uint8_t st = IPC_STATUS_NXDOMAIN; st <= IPC_STATUS_MAX_; st++) {
        p_reply_head(p, st, 0, 0, 0, 3, 0);
        p_bytes(p, "a.b", 3);
        expect_reply_rejected(p->b, p->n);

        p_reply_head(p, st, 0, 1, 0, 0, 0);
        p_alias(p, "a.b");
        expect_reply_rejected(p->b, p->n);

        p_reply_head(p, st, 0, 0, 1, 0, 0);
        p_addr(p, IPC_AF_INET, a4, 4);
        expect_reply_rejected(p->b, p->n);

        p_reply_head(p, st, 0, 1, 1, 3, 0);
        p_bytes(p, "a.b", 3);
        p_alias(p, "c.d");
        p_addr(p, IPC_AF_INET6, a6, 16);
        expect_reply_rejected(p->b, p->n);
    }
    free(p);
}
END_TEST

START_TEST(ipc_reply_decode_rejects_ok_with_empty_canon) {
    struct pkt *p = pkt_new();
    p_reply_head(p, IPC_STATUS_OK, 0, 0, 0, 0, 0);
    expect_reply_rejected(p->b, p->n);
    p_reply_head(p, IPC_STATUS_OK, 0, 0, 1, 0, 0);
    p_addr(p, IPC_AF_INET, a4, 4);
    expect_reply_rejected(p->b, p->n);
    free(p);
}
END_TEST

START_TEST(ipc_reply_decode_rejects_bad_names) {
    struct pkt *p = pkt_new();
    char name[IPC_MAX_NAME + 2];

    p_reply_head(p, IPC_STATUS_OK, 0, 0, 0, 3, 0); /* NUL in canon */
    p_bytes(p, "a\0b", 3);
    expect_reply_rejected(p->b, p->n);

    p_reply_head(p, IPC_STATUS_OK, 0, 1, 0, 3, 0); /* NUL in alias */
    p_bytes(p, "a.b", 3);
    p_u16(p, 4);
    p_bytes(p, "c.d\0", 4);
    expect_reply_rejected(p->b, p->n);

    p_reply_head(p, IPC_STATUS_OK, 0, 1, 0, 3, 0); /* empty alias */
    p_bytes(p, "a.b", 3);
    p_u16(p, 0);
    expect_reply_rejected(p->b, p->n);

    fill_name(name, IPC_MAX_NAME + 1, 0); /* canon over the bound */
    p_reply_head(p, IPC_STATUS_OK, 0, 0, 0, IPC_MAX_NAME + 1, 0);
    p_bytes(p, name, IPC_MAX_NAME + 1);
    expect_reply_rejected(p->b, p->n);

    p_reply_head(p, IPC_STATUS_OK, 0, 1, 0, 3, 0); /* alias over the bound */
    p_bytes(p, "a.b", 3);
    p_alias(p, name);
    expect_reply_rejected(p->b, p->n);

    /* the same shapes at the bound decode */
    struct ipc_reply_view v;
    name[IPC_MAX_NAME] = '\0';
    p_reply_head(p, IPC_STATUS_OK, 0, 1, 0, IPC_MAX_NAME, 0);
    p_bytes(p, name, IPC_MAX_NAME);
    p_alias(p, name);
    uint8_t *c = dup_exact(p->b, p->n);
    ck_assert_int_eq(ipc_reply_decode(c, p->n, &v), 0);
    free(c);
    free(p);
}
END_TEST

START_TEST(ipc_reply_decode_rejects_counts_that_lie) {
    struct pkt *p = pkt_new();
    /* Two aliases and two addresses on the wire; the counts are off by one
     * either way, so names are read as addresses or bytes are left over. */
    for (int da = -1; da <= 1; da++) {
        for (int dn = -1; dn <= 1; dn++) {
            if (da == 0 && dn == 0)
                continue;
            p_reply_head(p, IPC_STATUS_OK, 0, (uint16_t)(2 + da), (uint16_t)(2 + dn), 3, 0);
            p_bytes(p, "a.b", 3);
            p_alias(p, "c.d");
            p_alias(p, "e.f");
            p_addr(p, IPC_AF_INET, a4, 4);
            p_addr(p, IPC_AF_INET6, a6, 16);
            expect_reply_rejected(p->b, p->n);
        }
    }
    /* canon_len that lies */
    for (uint16_t cl = 1; cl <= 8; cl++) {
        if (cl == 3)
            continue;
        p_reply_head(p, IPC_STATUS_OK, 0, 0, 1, cl, 0);
        p_bytes(p, "a.b", 3);
        p_addr(p, IPC_AF_INET, a4, 4);
        expect_reply_rejected(p->b, p->n);
    }
    /* an alias length that runs past the end */
    p_reply_head(p, IPC_STATUS_OK, 0, 1, 0, 3, 0);
    p_bytes(p, "a.b", 3);
    p_u16(p, 4);
    p_bytes(p, "c.d", 3);
    expect_reply_rejected(p->b, p->n);
    /* an alias length that swallows the address */
    p_reply_head(p, IPC_STATUS_OK, 0, 1, 1, 3, 0);
    p_bytes(p, "a.b", 3);
    p_u16(p, 3 + 5);
    p_bytes(p, "c.d", 3);
    p_addr(p, IPC_AF_INET, (const uint8_t *)"wxyz", 4);
    expect_reply_rejected(p->b, p->n);
    free(p);
}
END_TEST

START_TEST(ipc_reply_decode_rejects_bad_address_family) {
    struct pkt *p = pkt_new();
    const uint8_t bad[] = {IPC_AF_UNSPEC, 1, 2, 5, 10, 0xff};
    for (size_t i = 0; i < sizeof(bad); i++) {
        /* padded so that the length fits either address size */
        p_reply_head(p, IPC_STATUS_OK, 0, 0, 1, 3, 0);
        p_bytes(p, "a.b", 3);
        p_addr(p, bad[i], a4, 4);
        expect_reply_rejected(p->b, p->n);
        p_reply_head(p, IPC_STATUS_OK, 0, 0, 1, 3, 0);
        p_bytes(p, "a.b", 3);
        p_addr(p, bad[i], a6, 16);
        expect_reply_rejected(p->b, p->n);
        /* the family byte alone ends the body: no size to skip */
        p_reply_head(p, IPC_STATUS_OK, 0, 0, 1, 3, 0);
        p_bytes(p, "a.b", 3);
        p_u8(p, bad[i]);
        expect_reply_rejected(p->b, p->n);
        /* a good one first, the bad one second */
        p_reply_head(p, IPC_STATUS_OK, 0, 0, 2, 3, 0);
        p_bytes(p, "a.b", 3);
        p_addr(p, IPC_AF_INET, a4, 4);
        p_addr(p, bad[i], a4, 4);
        expect_reply_rejected(p->b, p->n);
    }
    /* a family whose size disagrees with what follows */
    p_reply_head(p, IPC_STATUS_OK, 0, 0, 1, 3, 0);
    p_bytes(p, "a.b", 3);
    p_addr(p, IPC_AF_INET6, a4, 4);
    expect_reply_rejected(p->b, p->n);
    p_reply_head(p, IPC_STATUS_OK, 0, 0, 1, 3, 0);
    p_bytes(p, "a.b", 3);
    p_addr(p, IPC_AF_INET, a6, 16);
    expect_reply_rejected(p->b, p->n);
    free(p);
}
END_TEST

START_TEST(ipc_reply_decode_rejects_counts_over_the_maxima) {
    struct pkt *p = pkt_new();
    /* The bodies really hold that many entries: the count alone must fail. */
    p_reply_head(p, IPC_STATUS_OK, 0, IPC_MAX_ALIASES + 1, 0, 3, 0);
    p_bytes(p, "a.b", 3);
    for (unsigned i = 0; i < IPC_MAX_ALIASES + 1; i++)
        p_alias(p, "x.y");
    expect_reply_rejected(p->b, p->n);

    p_reply_head(p, IPC_STATUS_OK, 0, 0, IPC_MAX_ADDRS + 1, 3, 0);
    p_bytes(p, "a.b", 3);
    for (unsigned i = 0; i < IPC_MAX_ADDRS + 1; i++)
        p_addr(p, IPC_AF_INET, a4, 4);
    expect_reply_rejected(p->b, p->n);

    p_reply_head(p, IPC_STATUS_OK, 0, 0xffff, 0xffff, 0xffff, 0xffffffffu);
    expect_reply_rejected(p->b, p->n);

    /* and at the maxima they decode */
    struct ipc_reply_view v;
    p_reply_head(p, IPC_STATUS_OK, 0, IPC_MAX_ALIASES, IPC_MAX_ADDRS, 3, 0);
    p_bytes(p, "a.b", 3);
    for (unsigned i = 0; i < IPC_MAX_ALIASES; i++)
        p_alias(p, "x.y");
    for (unsigned i = 0; i < IPC_MAX_ADDRS; i++)
        p_addr(p, IPC_AF_INET, a4, 4);
    uint8_t *c = dup_exact(p->b, p->n);
    ck_assert_int_eq(ipc_reply_decode(c, p->n, &v), 0);
    ck_assert_uint_eq(v.n_aliases, IPC_MAX_ALIASES);
    ck_assert_uint_eq(v.n_addrs, IPC_MAX_ADDRS);
    free(c);
    free(p);
}
END_TEST

START_TEST(ipc_addr_len_knows_both_families_only) {
    ck_assert_uint_eq(ipc_addr_len(IPC_AF_INET), 4);
    ck_assert_uint_eq(ipc_addr_len(IPC_AF_INET6), 16);
    ck_assert_uint_eq(ipc_addr_len(IPC_AF_UNSPEC), 0);
    ck_assert_uint_eq(ipc_addr_len(5), 0);
    ck_assert_uint_eq(ipc_addr_len(0xff), 0);
}
END_TEST

int main(void) {
    const struct check_case cases[] = {
        CHECK_CASE(ipc_header_accepts_each_op),
        CHECK_CASE(ipc_header_accepts_body_len_at_the_bound),
        CHECK_CASE(ipc_header_rejects_bad_magic),
        CHECK_CASE(ipc_header_rejects_bad_version),
        CHECK_CASE(ipc_header_rejects_bad_op),
        CHECK_CASE(ipc_header_rejects_body_len_over_bound),
        CHECK_CASE(ipc_byname_round_trips_each_family),
        CHECK_CASE(ipc_byname_round_trips_254_char_name),
        CHECK_CASE(ipc_byaddr_round_trips_ipv4),
        CHECK_CASE(ipc_byaddr_round_trips_ipv6),
        CHECK_CASE(ipc_request_decode_rejects_every_truncation),
        CHECK_CASE(ipc_request_decode_rejects_trailing_bytes),
        CHECK_CASE(ipc_request_decode_rejects_name_len_mismatch),
        CHECK_CASE(ipc_request_decode_rejects_name_with_nul),
        CHECK_CASE(ipc_request_decode_takes_the_empty_name),
        CHECK_CASE(ipc_request_decode_rejects_name_over_max),
        CHECK_CASE(ipc_request_decode_rejects_reserved_flags),
        CHECK_CASE(ipc_request_decode_takes_the_map_fallback_cause),
        CHECK_CASE(ipc_request_decode_rejects_wrong_family),
        CHECK_CASE(ipc_request_decode_rejects_addr_len_mismatch),
        CHECK_CASE(ipc_request_decode_rejects_other_ops),
        CHECK_CASE(ipc_request_encode_rejects_bad_input),
        CHECK_CASE(ipc_request_encode_reports_short_buffer),
        CHECK_CASE(ipc_reply_round_trips_each_status),
        CHECK_CASE(ipc_reply_builder_drops_canon_unless_ok),
        CHECK_CASE(ipc_reply_wire_layout_matches_header),
        CHECK_CASE(ipc_reply_round_trips_canon_aliases_and_mixed_addrs),
        CHECK_CASE(ipc_reply_round_trips_max_sizes),
        CHECK_CASE(ipc_reply_begin_rejects_bad_input),
        CHECK_CASE(ipc_reply_begin_reports_short_buffer),
        CHECK_CASE(ipc_reply_builder_reports_short_buffer),
        CHECK_CASE(ipc_reply_builder_rejects_bad_alias_and_addr),
        CHECK_CASE(ipc_reply_builder_refuses_aliases_after_addresses),
        CHECK_CASE(ipc_reply_builder_stops_at_the_maxima),
        CHECK_CASE(ipc_reply_decode_rejects_every_truncation),
        CHECK_CASE(ipc_reply_decode_rejects_trailing_bytes),
        CHECK_CASE(ipc_reply_decode_rejects_reserved_flags),
        CHECK_CASE(ipc_reply_decode_rejects_unknown_status),
        CHECK_CASE(ipc_reply_decode_rejects_non_ok_with_names_or_addrs),
        CHECK_CASE(ipc_reply_decode_rejects_ok_with_empty_canon),
        CHECK_CASE(ipc_reply_decode_rejects_bad_names),
        CHECK_CASE(ipc_reply_decode_rejects_counts_that_lie),
        CHECK_CASE(ipc_reply_decode_rejects_bad_address_family),
        CHECK_CASE(ipc_reply_decode_rejects_counts_over_the_maxima),
        CHECK_CASE(ipc_addr_len_knows_both_families_only),
    };
    return check_run("ipc", cases, sizeof(cases) / sizeof(cases[0]), NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_map.c: unit tests for the shared answer map (common/map.c): what is
 * put is found by its request only, with the TTL counted down as the daemon
 * counts it, until its expiry; resets, a silent daemon and a retired map end
 * every answer; nothing in the image names a request or an answer; broken
 * slots and headers are refused; and readers in threads racing a churning
 * writer only ever see whole entries (tests/map-tsan.sh runs that case
 * under ThreadSanitizer).
 */
#include "map.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check-run.h"
#include "ipc.h"

#define NOW   1000000 /* ms on the injected clock */
#define SLOTS 64

struct img {
    uint64_t *mem;
    struct map_writer_state w;
    struct map_geom g;
};

static void img_new(struct img *m, uint32_t n_slots) {
    size_t size = map_file_size(n_slots);
    uint8_t salt[MAP_SALT_LEN];
    for (unsigned i = 0; i < MAP_SALT_LEN; i++)
        salt[i] = (uint8_t)(i * 13 + 5);
    m->mem = calloc(1, size);
    ck_assert_ptr_nonnull(m->mem);
    ck_assert_int_eq(map_w_init(&m->w, m->mem, n_slots, salt, 9000), 0);
    map_w_heartbeat(&m->w, NOW + 9000);
    ck_assert_int_eq(map_check_header(m->mem, size, &m->g), 0);
}

static void img_free(struct img *m) {
    map_w_free(&m->w);
    free(m->mem);
}

static size_t req_name(uint8_t *buf, uint8_t family, const char *name) {
    int n = ipc_request_encode_byname(buf, IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY, family, name);
    ck_assert_int_gt(n, 0);
    return (size_t)n;
}

/* An OK reply for name with one IPv4 address ending in last, and a TTL. */
static size_t reply_ok(uint8_t *buf, size_t cap, const char *canon, uint8_t last, uint32_t ttl) {
    struct ipc_reply_builder b;
    uint8_t a4[4] = {192, 0, 2, last};
    ck_assert_int_eq(ipc_reply_begin(&b, buf, cap, IPC_STATUS_OK, ttl, canon), 0);
    ck_assert_int_eq(ipc_reply_add_alias(&b, "alias.example"), 0);
    ck_assert_int_eq(ipc_reply_add_addr(&b, IPC_AF_INET, a4), 0);
    return ipc_reply_end(&b);
}

static size_t reply_status(uint8_t *buf, size_t cap, uint8_t status) {
    struct ipc_reply_builder b;
    ck_assert_int_eq(ipc_reply_begin(&b, buf, cap, status, 0, NULL), 0);
    return ipc_reply_end(&b);
}

static uint32_t body_ttl(const uint8_t *body) {
    return (uint32_t)body[8] << 24 | (uint32_t)body[9] << 16 | (uint32_t)body[10] << 8 | body[11];
}

START_TEST(map_finds_what_was_put_and_counts_the_ttl_down) {
    struct img m;
    img_new(&m, SLOTS);
    uint8_t req[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY], frame[MAP_FRAME_MAX], out[MAP_FRAME_MAX];
    size_t rl = req_name(req, IPC_AF_UNSPEC, "www.example"), len = 0;
    size_t fl = reply_ok(frame, sizeof(frame), "www.example", 7, 300);
    ck_assert_int_eq(map_w_put(&m.w, req, rl, frame, fl, NOW + 300000, NOW + 300000, NOW), 0);
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW, out, &len), MAP_HIT);
    ck_assert_uint_eq(len, fl - IPC_HEADER_LEN);
    ck_assert_mem_eq(out, frame + IPC_HEADER_LEN, len); /* the very reply, TTL 300 */
    /* whole seconds left, rounded down, as the daemon's cache says it */
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW + 1, out, &len), MAP_HIT);
    ck_assert_uint_eq(body_ttl(out), 299);
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW + 1500, out, &len), MAP_HIT);
    ck_assert_uint_eq(body_ttl(out), 298);
    map_w_heartbeat(&m.w, NOW + 299999 + 9000);
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW + 299999, out, &len), MAP_HIT);
    ck_assert_uint_eq(body_ttl(out), 0);
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW + 300000, out, &len), MAP_EXPIRED);
    ck_assert_uint_eq(map_w_count(&m.w, NOW + 299999), 1);
    ck_assert_uint_eq(map_w_count(&m.w, NOW + 300000), 0);
    img_free(&m);
}
END_TEST

START_TEST(map_ttl_counts_down_to_the_first_address_answer_not_the_entry_expiry) {
    /* A and AAAA: the AAAA NODATA expires first (valid_until), the TTL is
     * the A record's. */
    struct img m;
    img_new(&m, SLOTS);
    uint8_t req[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY], frame[MAP_FRAME_MAX], out[MAP_FRAME_MAX];
    size_t rl = req_name(req, IPC_AF_UNSPEC, "v4only.example"), len = 0;
    size_t fl = reply_ok(frame, sizeof(frame), "v4only.example", 1, 3600);
    ck_assert_int_eq(map_w_put(&m.w, req, rl, frame, fl, NOW + 60000, NOW + 3600000, NOW), 0);
    map_w_heartbeat(&m.w, NOW + 60000 + 9000);
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW + 10000, out, &len),
                     MAP_DEAD); /* too far ahead */
    map_w_heartbeat(&m.w, NOW + 10000 + 9000);
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW + 10000, out, &len), MAP_HIT);
    ck_assert_uint_eq(body_ttl(out), 3590);
    map_w_heartbeat(&m.w, NOW + 60000 + 9000);
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW + 60000, out, &len), MAP_EXPIRED);
    img_free(&m);
}
END_TEST

START_TEST(map_negative_answers_keep_ttl_zero) {
    struct img m;
    img_new(&m, SLOTS);
    uint8_t req[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY], frame[MAP_FRAME_MAX], out[MAP_FRAME_MAX];
    size_t rl = req_name(req, IPC_AF_INET, "nx.example"), len = 0;
    size_t fl = reply_status(frame, sizeof(frame), IPC_STATUS_NXDOMAIN);
    ck_assert_int_eq(map_w_put(&m.w, req, rl, frame, fl, NOW + 5000, NOW + 5000, NOW), 0);
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW + 1000, out, &len), MAP_HIT);
    ck_assert_mem_eq(out, frame + IPC_HEADER_LEN, len);
    ck_assert_uint_eq(out[0], IPC_STATUS_NXDOMAIN);
    ck_assert_uint_eq(body_ttl(out), 0);
    img_free(&m);
}
END_TEST

START_TEST(map_finds_an_entry_only_by_its_exact_request) {
    struct img m;
    img_new(&m, SLOTS);
    uint8_t req[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY], other[sizeof(req)], frame[MAP_FRAME_MAX],
        out[MAP_FRAME_MAX];
    size_t rl = req_name(req, IPC_AF_INET, "host.example"), len = 0;
    size_t fl = reply_ok(frame, sizeof(frame), "host.example", 2, 60);
    ck_assert_int_eq(map_w_put(&m.w, req, rl, frame, fl, NOW + 60000, NOW + 60000, NOW), 0);
    /* another family, another spelling (the reply would spell it back), another name */
    size_t ol = req_name(other, IPC_AF_INET6, "host.example");
    ck_assert_int_eq(map_lookup(&m.g, other, ol, NOW, out, &len), MAP_MISS);
    ol = req_name(other, IPC_AF_INET, "HOST.example");
    ck_assert_int_eq(map_lookup(&m.g, other, ol, NOW, out, &len), MAP_MISS);
    ol = req_name(other, IPC_AF_INET, "host.example.");
    ck_assert_int_eq(map_lookup(&m.g, other, ol, NOW, out, &len), MAP_MISS);
    uint8_t a4[4] = {192, 0, 2, 2};
    int n = ipc_request_encode_byaddr(other, sizeof(other), IPC_AF_INET, a4, 4);
    ck_assert_int_eq(map_lookup(&m.g, other, (size_t)n, NOW, out, &len), MAP_MISS);
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW, out, &len), MAP_HIT);
    img_free(&m);
}
END_TEST

START_TEST(map_image_names_no_request_and_no_answer) {
    struct img m;
    img_new(&m, SLOTS);
    uint8_t req[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY], frame[MAP_FRAME_MAX];
    char name[64];
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "secret-%02d.example", i);
        size_t rl = req_name(req, IPC_AF_INET, name);
        size_t fl = reply_ok(frame, sizeof(frame), name, (uint8_t)i, 60);
        ck_assert_int_eq(map_w_put(&m.w, req, rl, frame, fl, NOW + 60000, NOW + 60000, NOW), 0);
    }
    const uint8_t a4[4] = {192, 0, 2, 5};
    ck_assert_ptr_null(memmem(m.mem, m.g.size, "secret", 6));
    ck_assert_ptr_null(memmem(m.mem, m.g.size, "example", 7));
    ck_assert_ptr_null(memmem(m.mem, m.g.size, a4, 4));
    img_free(&m);
}
END_TEST

START_TEST(map_reset_forgets_every_entry) {
    struct img m;
    img_new(&m, SLOTS);
    uint8_t req[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY], frame[MAP_FRAME_MAX], out[MAP_FRAME_MAX];
    size_t rl = req_name(req, IPC_AF_INET, "a.example"), len = 0;
    size_t fl = reply_ok(frame, sizeof(frame), "a.example", 1, 60);
    ck_assert_int_eq(map_w_put(&m.w, req, rl, frame, fl, NOW + 60000, NOW + 60000, NOW), 0);
    uint8_t salt[MAP_SALT_LEN] = {1, 2, 3};
    map_w_reset(&m.w, salt);
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW, out, &len), MAP_MISS);
    ck_assert_uint_eq(map_w_count(&m.w, NOW), 0);
    /* and the map goes on working under the new salt */
    ck_assert_int_eq(map_w_put(&m.w, req, rl, frame, fl, NOW + 60000, NOW + 60000, NOW), 0);
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW, out, &len), MAP_HIT);
    img_free(&m);
}
END_TEST

START_TEST(map_is_dead_without_a_heartbeat_retired_or_on_another_clock) {
    struct img m;
    img_new(&m, SLOTS);
    uint8_t req[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY], frame[MAP_FRAME_MAX], out[MAP_FRAME_MAX];
    size_t rl = req_name(req, IPC_AF_INET, "a.example"), len = 0;
    size_t fl = reply_ok(frame, sizeof(frame), "a.example", 1, 600);
    ck_assert_int_eq(map_w_put(&m.w, req, rl, frame, fl, NOW + 600000, NOW + 600000, NOW), 0);
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW + 8999, out, &len), MAP_HIT);
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW + 9000, out, &len),
                     MAP_DEAD); /* silent daemon */
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW - 1001, out, &len), MAP_DEAD); /* clock behind */
    ck_assert_int_eq(map_lookup(&m.g, req, rl, -5, out, &len), MAP_DEAD);
    map_w_heartbeat(&m.w, NOW + 20000);
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW + 10000, out, &len), MAP_HIT);
    map_w_retire(&m.w);
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW + 10000, out, &len), MAP_DEAD);
    img_free(&m);
}
END_TEST

/* The slot that holds the only entry of the image. */
static uint8_t *only_slot(struct img *m) {
    for (uint32_t i = 0; i < m->g.n_slots; i++) {
        uint8_t *s = (uint8_t *)m->mem + MAP_HEADER_SIZE + (size_t)i * MAP_SLOT_SIZE;
        uint64_t len;
        memcpy(&len, s + 8, 8);
        if (len)
            return s;
    }
    ck_abort_msg("no entry");
    return NULL;
}

START_TEST(map_refuses_torn_corrupt_and_busy_slots) {
    struct img m;
    img_new(&m, SLOTS);
    uint8_t req[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY], frame[MAP_FRAME_MAX], out[MAP_FRAME_MAX];
    size_t rl = req_name(req, IPC_AF_INET, "a.example"), len = 0;
    size_t fl = reply_ok(frame, sizeof(frame), "a.example", 1, 600);
    ck_assert_int_eq(map_w_put(&m.w, req, rl, frame, fl, NOW + 600000, NOW + 600000, NOW), 0);
    uint8_t *s = only_slot(&m);
    s[MAP_SLOT_HEAD + 3] ^= 0x40; /* ciphertext */
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW, out, &len), MAP_INVALID);
    s[MAP_SLOT_HEAD + 3] ^= 0x40;
    s[40] ^= 1; /* Poly1305 tag */
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW, out, &len), MAP_INVALID);
    s[40] ^= 1;
    s[32] ^= 1; /* nonce */
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW, out, &len), MAP_INVALID);
    s[32] ^= 1;
    uint64_t saved, big = MAP_CT_MAX + 1;
    memcpy(&saved, s + 8, 8);
    memcpy(s + 8, &big, 8); /* a length past the slot */
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW, out, &len), MAP_INVALID);
    memcpy(s + 8, &saved, 8);
    s[0] |= 1; /* the writer is in the slot */
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW, out, &len), MAP_BUSY);
    s[0] &= (uint8_t)~1;
    ((uint8_t *)m.mem)[32] |= 1; /* the writer is resetting the map */
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW, out, &len), MAP_BUSY);
    ((uint8_t *)m.mem)[32] &= (uint8_t)~1;
    s[16] ^= 1; /* the tag: another entry */
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW, out, &len), MAP_MISS);
    s[16] ^= 1;
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW, out, &len), MAP_HIT);
    img_free(&m);
}
END_TEST

START_TEST(map_check_header_refuses_what_is_not_a_map) {
    struct img m;
    img_new(&m, SLOTS);
    struct map_geom g;
    uint8_t *h = (uint8_t *)m.mem;
    size_t size = map_file_size(SLOTS);
    ck_assert_int_eq(map_check_header(h, size - 1, &g), -EBADMSG);
    ck_assert_int_eq(map_check_header(h, size + MAP_SLOT_SIZE, &g), -EBADMSG);
    ck_assert_int_eq(map_check_header(h, 100, &g), -EBADMSG);
    static const size_t fields[] = {0, 4, 8, 12, 16, 24};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        h[fields[i]] ^= 0x11;
        ck_assert_int_eq(map_check_header(h, size, &g), -EBADMSG);
        h[fields[i]] ^= 0x11;
    }
    /* a heartbeat window out of bounds */
    static const uint32_t lives[] = {0, MAP_LIVE_MS_MIN - 1, MAP_LIVE_MS_MAX + 1, UINT32_MAX};
    uint32_t saved;
    memcpy(&saved, h + 20, 4);
    for (size_t i = 0; i < sizeof(lives) / sizeof(lives[0]); i++) {
        memcpy(h + 20, &lives[i], 4);
        ck_assert_int_eq(map_check_header(h, size, &g), -EBADMSG);
    }
    memcpy(h + 20, &saved, 4);
    ck_assert_int_eq(map_check_header(h, size, &g), 0);
    ck_assert_int_eq(map_check_header(h + 8, size, &g), -EBADMSG); /* not the start */
    ck_assert_int_eq(map_check_header(h + 1, size, &g), -EBADMSG); /* unaligned */
    img_free(&m);
}
END_TEST

START_TEST(map_writer_replaces_an_entry_and_evicts_without_failing) {
    struct img m;
    img_new(&m, MAP_MIN_SLOTS);
    uint8_t req[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY], frame[MAP_FRAME_MAX], out[MAP_FRAME_MAX];
    size_t rl = req_name(req, IPC_AF_INET, "same.example"), len = 0;
    size_t fl = reply_ok(frame, sizeof(frame), "same.example", 1, 60);
    ck_assert_int_eq(map_w_put(&m.w, req, rl, frame, fl, NOW + 60000, NOW + 60000, NOW), 0);
    fl = reply_ok(frame, sizeof(frame), "same.example", 2, 60);
    ck_assert_int_eq(map_w_put(&m.w, req, rl, frame, fl, NOW + 60000, NOW + 60000, NOW), 0);
    ck_assert_uint_eq(map_w_count(&m.w, NOW), 1);
    ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW, out, &len), MAP_HIT);
    ck_assert_mem_eq(out, frame + IPC_HEADER_LEN, len);
    /* far more entries than slots: each one is found right after its put */
    char name[32];
    for (int i = 0; i < 500; i++) {
        snprintf(name, sizeof(name), "n%d.example", i);
        rl = req_name(req, IPC_AF_INET, name);
        fl = reply_ok(frame, sizeof(frame), name, (uint8_t)i, (uint32_t)(60 + i));
        int64_t until = NOW + (60 + i) * 1000;
        ck_assert_int_eq(map_w_put(&m.w, req, rl, frame, fl, until, until, NOW), 0);
        ck_assert_int_eq(map_lookup(&m.g, req, rl, NOW, out, &len), MAP_HIT);
        ck_assert_mem_eq(out, frame + IPC_HEADER_LEN, len);
    }
    ck_assert_uint_le(map_w_count(&m.w, NOW), MAP_MIN_SLOTS);
    img_free(&m);
}
END_TEST

START_TEST(map_writer_refuses_a_reply_larger_than_a_slot) {
    struct img m;
    img_new(&m, SLOTS);
    uint8_t req[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY], frame[2048];
    size_t rl = req_name(req, IPC_AF_INET, "big.example");
    struct ipc_reply_builder b;
    ck_assert_int_eq(ipc_reply_begin(&b, frame, sizeof(frame), IPC_STATUS_OK, 60, "big.example"),
                     0);
    for (int i = 0; i < 40; i++) {
        uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = (uint8_t)i};
        ck_assert_int_eq(ipc_reply_add_addr(&b, IPC_AF_INET6, a6), 0);
    }
    size_t fl = ipc_reply_end(&b);
    ck_assert_uint_gt(fl, MAP_FRAME_MAX);
    ck_assert_int_eq(map_w_put(&m.w, req, rl, frame, fl, NOW + 60000, NOW + 60000, NOW), -E2BIG);
    ck_assert_int_eq(map_w_put(&m.w, req, rl, frame, MAP_FRAME_MAX, NOW, NOW, NOW), -EINVAL);
    ck_assert_uint_eq(map_w_count(&m.w, NOW), 0);
    img_free(&m);
}
END_TEST

/* --- readers racing a writer ------------------------------------------------------ */

#define KEYS    24
#define READERS 4
#define ROUNDS  3000

struct race {
    struct img m;
    uint8_t req[KEYS][64];
    size_t req_len[KEYS];
    uint8_t frame[KEYS][2][128]; /* two versions of each key's reply */
    size_t frame_len[KEYS][2];
    int stop;
    unsigned long hits, misses;
};

static void *reader(void *arg) {
    struct race *r = arg;
    unsigned long hits = 0, misses = 0;
    uint8_t out[MAP_FRAME_MAX];
    size_t len;
    for (unsigned i = 0; !__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE); i++) {
        unsigned k = i % KEYS;
        enum map_result res = map_lookup(&r->m.g, r->req[k], r->req_len[k], NOW, out, &len);
        if (res != MAP_HIT) {
            ck_assert(res == MAP_MISS || res == MAP_BUSY);
            misses++;
            continue;
        }
        /* one of the two whole replies, never a mix */
        bool v0 = len == r->frame_len[k][0] - IPC_HEADER_LEN &&
                  memcmp(out, r->frame[k][0] + IPC_HEADER_LEN, len) == 0;
        bool v1 = len == r->frame_len[k][1] - IPC_HEADER_LEN &&
                  memcmp(out, r->frame[k][1] + IPC_HEADER_LEN, len) == 0;
        ck_assert(v0 || v1);
        hits++;
    }
    __atomic_fetch_add(&r->hits, hits, __ATOMIC_RELAXED);
    __atomic_fetch_add(&r->misses, misses, __ATOMIC_RELAXED);
    return NULL;
}

START_TEST(map_readers_racing_a_churning_writer_see_whole_entries) {
    static struct race r;
    memset(&r, 0, sizeof(r));
    img_new(&r.m, MAP_MIN_SLOTS); /* few slots: keys evict each other */
    char name[32];
    for (unsigned k = 0; k < KEYS; k++) {
        snprintf(name, sizeof(name), "k%u.example", k);
        r.req_len[k] = req_name(r.req[k], IPC_AF_INET, name);
        r.frame_len[k][0] = reply_ok(r.frame[k][0], sizeof(r.frame[k][0]), name, 1, 100);
        r.frame_len[k][1] = reply_ok(r.frame[k][1], sizeof(r.frame[k][1]), name, 2, 100);
    }
    pthread_t t[READERS];
    for (int i = 0; i < READERS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, reader, &r), 0);
    uint8_t salt[MAP_SALT_LEN] = {9};
    for (unsigned round = 0; round < ROUNDS; round++) {
        for (unsigned k = 0; k < KEYS; k++) {
            unsigned v = (round + k) & 1;
            /* the TTL stays 100 at NOW: the reply is the stored one */
            ck_assert_int_eq(map_w_put(&r.m.w, r.req[k], r.req_len[k], r.frame[k][v],
                                       r.frame_len[k][v], NOW + 100000, NOW + 100000, NOW - 1),
                             0);
        }
        if (round % 500 == 499) {
            salt[1]++;
            map_w_reset(&r.m.w, salt);
        }
    }
    __atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < READERS; i++)
        pthread_join(t[i], NULL);
    ck_assert_uint_gt(r.hits, 0);
    img_free(&r.m);
}
END_TEST

int main(void) {
    const struct check_case cases[] = {
        CHECK_CASE(map_finds_what_was_put_and_counts_the_ttl_down),
        CHECK_CASE(map_ttl_counts_down_to_the_first_address_answer_not_the_entry_expiry),
        CHECK_CASE(map_negative_answers_keep_ttl_zero),
        CHECK_CASE(map_finds_an_entry_only_by_its_exact_request),
        CHECK_CASE(map_image_names_no_request_and_no_answer),
        CHECK_CASE(map_reset_forgets_every_entry),
        CHECK_CASE(map_is_dead_without_a_heartbeat_retired_or_on_another_clock),
        CHECK_CASE(map_refuses_torn_corrupt_and_busy_slots),
        CHECK_CASE(map_check_header_refuses_what_is_not_a_map),
        CHECK_CASE(map_writer_replaces_an_entry_and_evicts_without_failing),
        CHECK_CASE(map_writer_refuses_a_reply_larger_than_a_slot),
        CHECK_CASE(map_readers_racing_a_churning_writer_see_whole_entries),
    };
    return check_run("map", cases, sizeof(cases) / sizeof(cases[0]), NULL);
}

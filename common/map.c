/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* map.c: the shared answer map's format, reader and writer (see map.h). */
#include "map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chacha20.h"
#include "ipc.h"
#include "sha256.h"

/* Header field offsets. */
enum {
    H_MAGIC = 0,
    H_VERSION = 4,
    H_HEADER_SIZE = 8,
    H_SLOT_SIZE = 12,
    H_N_SLOTS = 16,
    H_LIVE_MS = 20,
    H_FILE_SIZE = 24,
    H_GEN = 32,
    H_FLAGS = 40,
    H_ALIVE = 48,
    H_SALT = 64,
};
/* Slot field offsets. */
enum { S_SEQ = 0, S_LEN = 8, S_TAG = 16, S_NONCE = 32, S_MAC = 40, S_CT = MAP_SLOT_HEAD };

#define SLOT_WORDS (MAP_SLOT_SIZE / 8)

/* Every shared word is read and written with atomics: a reader racing the
 * writer reads a stale or a new word, never undefined behaviour, and the
 * sequence numbers tell it whether what it read hangs together. */
static inline uint64_t ld(const uint8_t *p) {
    return __atomic_load_n((const uint64_t *)(const void *)p, __ATOMIC_RELAXED);
}
static inline uint64_t ld_acq(const uint8_t *p) {
    return __atomic_load_n((const uint64_t *)(const void *)p, __ATOMIC_ACQUIRE);
}
static inline uint32_t ld32(const uint8_t *p) {
    return __atomic_load_n((const uint32_t *)(const void *)p, __ATOMIC_RELAXED);
}
static inline void st(uint8_t *p, uint64_t v) {
    __atomic_store_n((uint64_t *)(void *)p, v, __ATOMIC_RELAXED);
}
static inline void st_rel(uint8_t *p, uint64_t v) {
    __atomic_store_n((uint64_t *)(void *)p, v, __ATOMIC_RELEASE);
}
static inline void st32(uint8_t *p, uint32_t v) {
    __atomic_store_n((uint32_t *)(void *)p, v, __ATOMIC_RELAXED);
}

size_t map_file_size(uint32_t n_slots) {
    return MAP_HEADER_SIZE + (size_t)n_slots * MAP_SLOT_SIZE;
}

uint32_t map_slots_for(unsigned entries) {
    uint32_t n = MAP_MIN_SLOTS;
    while (n < entries && n < MAP_MAX_SLOTS)
        n <<= 1;
    return n;
}

int map_check_header(const void *base, size_t size, struct map_geom *ret_geom) {
    const uint8_t *h = base;
    if (((uintptr_t)base & 7) != 0 || size < MAP_HEADER_SIZE)
        return -EBADMSG;
    uint32_t n = ld32(h + H_N_SLOTS), live = ld32(h + H_LIVE_MS);
    if (ld32(h + H_MAGIC) != MAP_MAGIC || ld32(h + H_VERSION) != MAP_VERSION ||
        ld32(h + H_HEADER_SIZE) != MAP_HEADER_SIZE || ld32(h + H_SLOT_SIZE) != MAP_SLOT_SIZE ||
        n < MAP_MIN_SLOTS || n > MAP_MAX_SLOTS || (n & (n - 1)) != 0 ||
        ld(h + H_FILE_SIZE) != map_file_size(n) || size != map_file_size(n) ||
        live < MAP_LIVE_MS_MIN || live > MAP_LIVE_MS_MAX)
        return -EBADMSG;
    *ret_geom = (struct map_geom){.base = h, .size = size, .n_slots = n, .live_ms = live};
    return 0;
}

static const char KEY_DOMAIN[32] = "nss-dot map v1 entry key";
static const char TAG_DOMAIN[] = "nss-dot map v1 tag";

static void derive(const uint8_t salt[MAP_SALT_LEN], const uint8_t *req, size_t len,
                   uint8_t key[32], uint8_t tag[16]) {
    struct sha256 s;
    uint8_t t[32 + sizeof(TAG_DOMAIN) - 1], d[32];
    sha256_init(&s);
    sha256_update(&s, KEY_DOMAIN, sizeof(KEY_DOMAIN));
    sha256_update(&s, salt, MAP_SALT_LEN);
    sha256_update(&s, req, len);
    sha256_final(&s, key);
    memcpy(t, key, 32);
    memcpy(t + 32, TAG_DOMAIN, sizeof(TAG_DOMAIN) - 1);
    sha256(t, sizeof(t), d);
    memcpy(tag, d, 16);
}

static uint64_t first_slot(const uint8_t tag[16], uint32_t n_slots) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | tag[i];
    return v & (n_slots - 1);
}

static void nonce_of(uint64_t counter, uint8_t nonce[CHACHA20_NONCE_LEN]) {
    memset(nonce, 0, 4);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

static inline const uint8_t *slot_at(const uint8_t *base, uint32_t n_slots, uint64_t i) {
    return base + MAP_HEADER_SIZE + (size_t)(i & (n_slots - 1)) * MAP_SLOT_SIZE;
}

/* The opened payload of an entry: check, count the TTL down, copy the body
 * out. */
static enum map_result take(const uint8_t *pt, size_t len, int64_t now_ms, uint8_t *out,
                            size_t *ret_len) {
    int64_t valid_until, ttl_until;
    memcpy(&valid_until, pt, 8);
    memcpy(&ttl_until, pt + 8, 8);
    if (now_ms >= valid_until)
        return MAP_EXPIRED;
    if ((uint64_t)(valid_until - now_ms) > MAP_MAX_LIFE_MS)
        return MAP_INVALID;
    const uint8_t *frame = pt + MAP_PT_HEAD;
    size_t flen = len - MAP_PT_HEAD;
    uint8_t op = 0;
    int blen = ipc_header_decode(frame, &op, MAP_FRAME_MAX);
    struct ipc_reply_view v;
    if (blen < 0 || op != IPC_OP_REPLY || (size_t)blen != flen - IPC_HEADER_LEN ||
        ipc_reply_decode(frame + IPC_HEADER_LEN, (size_t)blen, &v) < 0)
        return MAP_INVALID;
    memcpy(out, frame + IPC_HEADER_LEN, (size_t)blen);
    if (v.status == IPC_STATUS_OK) {
        /* What the daemon hands out: whole seconds left, rounded down. */
        int64_t left = ttl_until > now_ms ? (ttl_until - now_ms) / 1000 : 0;
        uint32_t ttl = left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
        out[8] = (uint8_t)(ttl >> 24);
        out[9] = (uint8_t)(ttl >> 16);
        out[10] = (uint8_t)(ttl >> 8);
        out[11] = (uint8_t)ttl;
    }
    *ret_len = (size_t)blen;
    return MAP_HIT;
}

/* One slot under its seqlock: MAP_MISS when it holds another entry. */
static enum map_result read_slot(const uint8_t *s, const uint8_t tag[16], const uint8_t key[32],
                                 int64_t now_ms, uint8_t *out, size_t *ret_len) {
    for (unsigned tries = 0; tries < MAP_READ_TRIES; tries++) {
        uint64_t seq = ld_acq(s + S_SEQ);
        if (seq & 1)
            continue; /* being written: look again, a bounded number of times */
        uint64_t w[SLOT_WORDS];
        for (unsigned i = 1; i < S_CT / 8; i++)
            w[i] = ld(s + 8 * i);
        uint64_t len = w[S_LEN / 8];
        bool ours = len != 0 && memcmp((const uint8_t *)w + S_TAG, tag, 16) == 0;
        bool sane = len >= MAP_PT_HEAD + IPC_HEADER_LEN && len <= MAP_CT_MAX;
        if (ours && sane)
            for (unsigned i = S_CT / 8; i < (S_CT + len + 7) / 8; i++)
                w[i] = ld(s + 8 * i);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (ld(s + S_SEQ) != seq)
            continue;
        if (!ours)
            return MAP_MISS;
        if (!sane)
            return MAP_INVALID;
        /* A consistent copy: open it. */
        const uint8_t *b = (const uint8_t *)w;
        uint8_t nonce[CHACHA20_NONCE_LEN], pt[MAP_CT_MAX];
        nonce_of(w[S_NONCE / 8], nonce);
        if (chacha20_poly1305_open(key, nonce, tag, 16, b + S_CT, len, b + S_MAC, pt) < 0)
            return MAP_INVALID;
        return take(pt, len, now_ms, out, ret_len);
    }
    return MAP_BUSY;
}

enum map_result map_lookup(const struct map_geom *g, const uint8_t *req, size_t req_len,
                           int64_t now_ms, uint8_t *out, size_t *ret_len) {
    const uint8_t *h = g->base;
    uint64_t gen = ld_acq(h + H_GEN);
    if (gen & 1)
        return MAP_BUSY; /* being reset */
    uint64_t alive = ld(h + H_ALIVE);
    /* The daemon's heartbeat: a retired map, a silent daemon, or a clock
     * that is not the daemon's (a time namespace): ask the socket. */
    if ((ld(h + H_FLAGS) & MAP_F_RETIRED) || now_ms < 0 || (uint64_t)now_ms >= alive ||
        alive - (uint64_t)now_ms > (uint64_t)g->live_ms + MAP_CLOCK_SLACK)
        return MAP_DEAD;
    uint64_t salt_w[MAP_SALT_LEN / 8];
    for (unsigned i = 0; i < MAP_SALT_LEN / 8; i++)
        salt_w[i] = ld(h + H_SALT + 8 * i);
    uint8_t key[32], tag[16];
    derive((const uint8_t *)salt_w, req, req_len, key, tag);
    uint64_t first = first_slot(tag, g->n_slots);
    enum map_result res = MAP_MISS;
    for (unsigned p = 0; p < MAP_PROBES && res == MAP_MISS; p++)
        res = read_slot(slot_at(h, g->n_slots, first + p), tag, key, now_ms, out, ret_len);
    /* Whatever was read must come from one generation of the map. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (ld(h + H_GEN) != gen)
        return MAP_BUSY;
    return res;
}

/* --- the writer ---------------------------------------------------------------------- */

static void write_salt(struct map_writer_state *w, const uint8_t salt[MAP_SALT_LEN]) {
    memcpy(w->salt, salt, MAP_SALT_LEN);
    for (unsigned i = 0; i < MAP_SALT_LEN / 8; i++) {
        uint64_t v;
        memcpy(&v, salt + 8 * i, 8);
        st(w->base + H_SALT + 8 * i, v);
    }
}

int map_w_init(struct map_writer_state *w, void *base, uint32_t n_slots,
               const uint8_t salt[MAP_SALT_LEN], uint32_t live_ms) {
    *w =
        (struct map_writer_state){.base = base, .size = map_file_size(n_slots), .n_slots = n_slots};
    w->expiry = malloc(sizeof(*w->expiry) * n_slots);
    if (!w->expiry)
        return -ENOMEM;
    for (uint32_t i = 0; i < n_slots; i++)
        w->expiry[i] = INT64_MIN;
    uint8_t *h = w->base;
    st32(h + H_MAGIC, MAP_MAGIC);
    st32(h + H_VERSION, MAP_VERSION);
    st32(h + H_HEADER_SIZE, MAP_HEADER_SIZE);
    st32(h + H_SLOT_SIZE, MAP_SLOT_SIZE);
    st32(h + H_N_SLOTS, n_slots);
    st32(h + H_LIVE_MS, live_ms);
    st(h + H_FILE_SIZE, w->size);
    write_salt(w, salt);
    return 0;
}

void map_w_free(struct map_writer_state *w) {
    free(w->expiry);
    w->expiry = NULL;
}

/* Writes a whole slot image (w[0], the sequence, aside) under the slot's seqlock. */
static void slot_write(uint8_t *s, const uint64_t *words) {
    uint64_t seq = ld(s + S_SEQ);
    st(s + S_SEQ, seq + 1);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    for (unsigned i = 1; i < SLOT_WORDS; i++)
        st(s + 8 * i, words[i]);
    st_rel(s + S_SEQ, seq + 2);
}

void map_w_reset(struct map_writer_state *w, const uint8_t salt[MAP_SALT_LEN]) {
    static const uint64_t zero[SLOT_WORDS];
    uint8_t *h = w->base;
    uint64_t gen = ld(h + H_GEN);
    st(h + H_GEN, gen + 1);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    write_salt(w, salt);
    for (uint32_t i = 0; i < w->n_slots; i++)
        if (w->expiry[i] != INT64_MIN) {
            slot_write((uint8_t *)slot_at(h, w->n_slots, i), zero);
            w->expiry[i] = INT64_MIN;
        }
    st_rel(h + H_GEN, gen + 2);
}

int map_w_put(struct map_writer_state *w, const uint8_t *req, size_t req_len, const uint8_t *frame,
              size_t frame_len, int64_t valid_until, int64_t ttl_until, int64_t now_ms) {
    if (frame_len > MAP_FRAME_MAX)
        return -E2BIG;
    if (frame_len < IPC_HEADER_LEN || valid_until <= now_ms)
        return -EINVAL;
    uint8_t key[32], tag[16];
    derive(w->salt, req, req_len, key, tag);
    uint64_t first = first_slot(tag, w->n_slots);
    /* The same request's slot, else an empty or expired one, else the one
     * that expires first. */
    uint64_t pick = first, mask = w->n_slots - 1;
    int64_t pick_exp = INT64_MAX;
    for (unsigned p = 0; p < MAP_PROBES; p++) {
        uint64_t i = (first + p) & mask;
        const uint8_t *s = slot_at(w->base, w->n_slots, i);
        if (w->expiry[i] != INT64_MIN && memcmp(s + S_TAG, tag, 16) == 0) {
            pick = i;
            break;
        }
        int64_t e = w->expiry[i] <= now_ms ? INT64_MIN : w->expiry[i];
        if (e < pick_exp) {
            pick = i;
            pick_exp = e;
        }
    }
    uint64_t words[SLOT_WORDS] = {0};
    uint8_t *b = (uint8_t *)words, nonce[CHACHA20_NONCE_LEN], pt[MAP_CT_MAX];
    size_t len = MAP_PT_HEAD + frame_len;
    memcpy(pt, &valid_until, 8);
    memcpy(pt + 8, &ttl_until, 8);
    memcpy(pt + MAP_PT_HEAD, frame, frame_len);
    words[S_LEN / 8] = len;
    memcpy(b + S_TAG, tag, 16);
    words[S_NONCE / 8] = ++w->nonce;
    nonce_of(w->nonce, nonce);
    chacha20_poly1305_seal(key, nonce, tag, 16, pt, len, b + S_CT, b + S_MAC);
    slot_write((uint8_t *)slot_at(w->base, w->n_slots, pick), words);
    w->expiry[pick] = valid_until;
    return 0;
}

void map_w_heartbeat(struct map_writer_state *w, int64_t alive_until) {
    st_rel(w->base + H_ALIVE, (uint64_t)alive_until);
}

void map_w_retire(struct map_writer_state *w) {
    st_rel(w->base + H_FLAGS, ld(w->base + H_FLAGS) | MAP_F_RETIRED);
}

size_t map_w_count(const struct map_writer_state *w, int64_t now_ms) {
    size_t n = 0;
    for (uint32_t i = 0; i < w->n_slots; i++)
        n += w->expiry[i] != INT64_MIN && w->expiry[i] > now_ms;
    return n;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * map.h: the shared answer map, the format and its pure reader and writer.
 * libc only; no I/O, no logging, no globals; time comes in as an argument
 * (milliseconds on CLOCK_BOOTTIME), so the tests drive it with an injected
 * clock and the fuzz target feeds the reader any image.
 *
 * The daemon (helperd/map-writer.c) publishes into a file every reply it
 * gives that the socket would give again, unchanged, until an expiry; the
 * module (nss/nss-map.c) maps the file read-only and answers from it with no
 * syscall. Private by construction: an entry is found by a tag and sealed
 * under a key, both derived from the request (what the module sends: op,
 * family, name or address) and the map's random salt:
 *
 *   K   = SHA-256("nss-dot map v1 entry key" padded to 32 || salt || request)
 *   tag = SHA-256(K || "nss-dot map v1 tag")[0..16]       (stored in clear)
 *   slot: (tag as a little-endian 64-bit number) mod n_slots, then the next
 *         MAP_PROBES - 1 slots
 *   payload = ChaCha20-Poly1305(K, nonce = 0^4 || a 64-bit counter, AAD = tag)
 *             of { valid_until u64, ttl_until u64, the reply frame }
 *
 * Whoever does not already know a request cannot find its slot nor read it:
 * the map lists no names. The Poly1305 tag makes a wrong key, a torn or a
 * corrupted payload fail the check (forging one needs K); a torn slot is
 * caught first by the slot's sequence number.
 *
 * Layout (native byte order and alignment: the file never leaves the host;
 * the magic tells a foreign one):
 *   header, MAP_HEADER_SIZE bytes:
 *     0  u32 magic  4 u32 version  8 u32 header_size  12 u32 slot_size
 *     16 u32 n_slots (a power of two)  20 u32 live_ms
 *     24 u64 file_size (header_size + n_slots * slot_size)
 *     32 u64 gen    odd while the writer resets the map (new salt, empty slots)
 *     40 u64 flags  MAP_F_RETIRED: the daemon let go of this file for good
 *     48 u64 alive_until  CLOCK_BOOTTIME ms: the daemon's heartbeat, at most
 *                         live_ms ahead; past it the map is not used
 *     64 u8  salt[32]
 *   n_slots slots of MAP_SLOT_SIZE bytes:
 *     0  u64 seq    odd while the writer changes the slot
 *     8  u64 len    ciphertext bytes, 0: empty
 *     16 u8  tag[16]   32 u64 nonce   40 u8 mac[16]   56 ciphertext
 *
 * Concurrency: one writer, which never waits; any number of readers, which
 * read every shared word with relaxed atomic loads between an acquire load
 * of a sequence word and a re-check after an acquire fence (a seqlock, both
 * for the header's gen and for each slot), and give up after MAP_READ_TRIES.
 *
 * Time: valid_until, ttl_until and alive_until are CLOCK_BOOTTIME
 * milliseconds. CLOCK_BOOTTIME, not the daemon's CLOCK_MONOTONIC: a host that
 * slept must not find entries that outlived their TTL in wall time (the
 * map then expires them earlier than the daemon's cache, and the socket
 * answers); CLOCK_REALTIME can be set back. Both are read through the vDSO.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAP_MAGIC       0x504d444eu /* "NDMP" */
#define MAP_VERSION     1u
#define MAP_HEADER_SIZE 256u
#define MAP_SLOT_SIZE   512u
#define MAP_SLOT_HEAD   56u
#define MAP_CT_MAX      (MAP_SLOT_SIZE - MAP_SLOT_HEAD)
#define MAP_PT_HEAD     16u /* valid_until, ttl_until */
#define MAP_FRAME_MAX   (MAP_CT_MAX - MAP_PT_HEAD)
#define MAP_MIN_SLOTS   16u
#define MAP_MAX_SLOTS   (1u << 18) /* 128 MiB */
#define MAP_PROBES      8u
#define MAP_READ_TRIES  4u
#define MAP_SALT_LEN    32u
#define MAP_F_RETIRED   1u
/* The heartbeat window a reader accepts, and how far its clock may lag the
 * daemon's (both run on one host: only a time namespace makes them differ). */
#define MAP_LIVE_MS_MIN 1000u
#define MAP_LIVE_MS_MAX 60000u
#define MAP_CLOCK_SLACK 1000u
/* No entry lives longer than this (cache.max_ttl's bound): a later expiry
 * is a broken entry. */
#define MAP_MAX_LIFE_MS (604800ull * 1000)

/* What a lookup found. Anything but MAP_HIT: ask the socket. */
enum map_result {
    MAP_HIT = 0,
    MAP_MISS,    /* no entry for the request */
    MAP_EXPIRED, /* an entry past its expiry */
    MAP_BUSY,    /* the writer kept changing the slot or the map */
    MAP_INVALID, /* an entry that does not open or does not parse */
    MAP_DEAD,    /* the map is retired, being reset, or its daemon is silent */
};

/* The header's fixed fields, checked once per mapping. */
struct map_geom {
    const uint8_t *base; /* 8-byte aligned */
    size_t size;
    uint32_t n_slots;
    uint32_t live_ms;
};

/* Bytes of a map with n_slots slots. */
size_t map_file_size(uint32_t n_slots);
/* Slots for a map of about `entries` entries: a power of two, clamped. */
uint32_t map_slots_for(unsigned entries);

/* Checks an image of size bytes (whatever its content): 0 and *ret_geom,
 * or -EBADMSG. */
int map_check_header(const void *base, size_t size, struct map_geom *ret_geom);

/* Looks up the request frame (as the module sends it, flags 0). On MAP_HIT
 * the reply body is in out (MAP_FRAME_MAX bytes) with *ret_len its length,
 * its TTL counted down to now_ms as the daemon would; nothing is written
 * otherwise. Reads only inside g->base .. g->base + g->size and ends after
 * at most MAP_PROBES * MAP_READ_TRIES slot reads. */
enum map_result map_lookup(const struct map_geom *g, const uint8_t *req, size_t req_len,
                           int64_t now_ms, uint8_t *out, size_t *ret_len);

/* --- the writer (one, single-threaded) ------------------------------------------ */

struct map_writer_state {
    uint8_t *base;
    size_t size;
    uint32_t n_slots;
    uint64_t nonce;
    int64_t *expiry; /* per slot: its valid_until (INT64_MIN: empty), owned */
    uint8_t salt[MAP_SALT_LEN];
};

/* Lays out a new map of n_slots (map_slots_for) over base (map_file_size
 * bytes, zeroed, 8-byte aligned), empty. 0 or -ENOMEM. */
int map_w_init(struct map_writer_state *w, void *base, uint32_t n_slots,
               const uint8_t salt[MAP_SALT_LEN], uint32_t live_ms);
void map_w_free(struct map_writer_state *w);
/* Empties the map under a new salt: every entry is gone for every reader. */
void map_w_reset(struct map_writer_state *w, const uint8_t salt[MAP_SALT_LEN]);
/* Publishes the reply frame for the request (flags 0) until valid_until,
 * its TTL counting down to ttl_until (both CLOCK_BOOTTIME ms; ttl_until is
 * only read for an IPC_STATUS_OK reply). Overwrites the entry of the same
 * request, or an empty or expired slot among its probes, or else the one
 * that expires first. 0, -E2BIG (the frame does not fit a slot) or -EINVAL. */
int map_w_put(struct map_writer_state *w, const uint8_t *req, size_t req_len, const uint8_t *frame,
              size_t frame_len, int64_t valid_until, int64_t ttl_until, int64_t now_ms);
/* The daemon is alive until then (CLOCK_BOOTTIME ms). */
void map_w_heartbeat(struct map_writer_state *w, int64_t alive_until);
/* For good: readers stop using the map at their next lookup. */
void map_w_retire(struct map_writer_state *w);
/* Entries not yet expired at now_ms. */
size_t map_w_count(const struct map_writer_state *w, int64_t now_ms);

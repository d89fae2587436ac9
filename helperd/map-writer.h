/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * map-writer.h: the daemon's side of the shared answer map (common/map.h),
 * beside the cache it mirrors. Owns the map file, the socket's path +
 * ".map": created under a temporary name (mode 0444, in the socket's
 * directory, so that the module trusts it by the rule of common/peer.h) and
 * renamed into place; a heartbeat on the loop (every MAP_WRITER_LIVE_MS / 3)
 * that tells readers the daemon is alive; a reset (new salt, no entries) on
 * flush, reload and resolv.conf change; and at exit the file is retired
 * (readers stop at once) and removed.
 *
 * What goes in is decided by the resolver (resolver.h): the replies that
 * the socket would give again, byte for byte, until an expiry. The writer
 * never waits: a publish overwrites a slot.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "loop.h"

/* How long readers trust the map after the last heartbeat: what a crashed
 * or frozen daemon's map may still answer for (each answer within its TTL). */
#define MAP_WRITER_LIVE_MS 9000

struct map_writer;

struct map_writer_stats {
    size_t slots;
    size_t entries;     /* published and not yet expired */
    uint64_t published; /* replies written into the map */
    uint64_t too_big;   /* replies too large for a slot (the socket answers them) */
    uint64_t resets;    /* flushes, reloads, resolv.conf changes */
};

/* Creates the map for about `entries` answers next to the socket at
 * socket_path. 0 or -errno (no file is left). */
int map_writer_new(struct loop *l, const char *socket_path, unsigned entries,
                   struct map_writer **ret_map);
/* Retires and removes the file. NULL is a no-op. */
void map_writer_free(struct map_writer *m);

/* Publishes the reply frame to the request frame (flags 0); valid_until
 * and ttl_until are on the loop's clock (loop_now()). */
void map_writer_publish(struct map_writer *m, const uint8_t *req, size_t req_len,
                        const uint8_t *frame, size_t len, int64_t valid_until, int64_t ttl_until);
/* Every entry goes, for every reader. */
void map_writer_reset(struct map_writer *m);
void map_writer_get_stats(const struct map_writer *m, struct map_writer_stats *ret_stats);

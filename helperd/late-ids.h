/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * late-ids.h: DNS message IDs held back on one connection after their
 * query left it with an answer still to come: the second copy of a nudged
 * question (upstream.h), the first one of a try that timed out. While an ID
 * is held, no new query on that connection takes it, so the late answer
 * finds no query and is dropped as late, instead of matching another
 * question (which reads as a broken server and fails the connection).
 * RFC 7766 section 7 asks for IDs unique per connection among queries in
 * flight; this extends "in flight" to answers that may still arrive.
 *
 * At most LATE_IDS_MAX are held; holding one more releases the oldest. A
 * ring for the order, a bitmap of all 65,536 IDs for an O(1) test.
 * Pure: no allocation, no I/O.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define LATE_IDS_MAX 256

struct late_ids {
    uint16_t ring[LATE_IDS_MAX];
    unsigned n, next;
    uint8_t map[65536 / 8];
};

static inline bool late_ids_held(const struct late_ids *l, uint16_t id) {
    return l->map[id / 8] & (1u << (id % 8));
}

/* Holds id (a no-op when held already), releasing the oldest when full. */
static inline void late_ids_hold(struct late_ids *l, uint16_t id) {
    if (late_ids_held(l, id))
        return;
    if (l->n == LATE_IDS_MAX) {
        uint16_t old = l->ring[l->next];
        l->map[old / 8] &= (uint8_t) ~(1u << (old % 8));
    } else {
        l->n++;
    }
    l->ring[l->next] = id;
    l->next = (l->next + 1) % LATE_IDS_MAX;
    l->map[id / 8] |= (uint8_t)(1u << (id % 8));
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nss-map.h: the module's reader of dot-helperd's answer map (common/map.h),
 * beside the socket client (nss-client.h) that answers everything the map
 * does not.
 *
 * The map file (the socket's path + ".map") is mapped read-only once per
 * process and its descriptor closed at once: nothing leaks into exec, a
 * program that closes every descriptor loses nothing, and a child after
 * fork inherits the mapping. It is used only when it comes from the daemon
 * by the rule of common/peer.h (owned by root, or by the owner of a
 * directory nobody else may write in), is a regular file with one link
 * that nobody else may write, and its header checks out. When the map dies
 * (retired by a stopping daemon, or its heartbeat stops), the next lookup
 * looks at the path once: a new file (a new daemon) is mapped; the old
 * mapping is kept, as another thread may still be reading it, so a process
 * maps at most NSS_MAP_MAX_MAPS files in its life and then asks the socket.
 * A look that finds nothing to map (no file: the map off or no daemon; the
 * same dead file) is not repeated for MAP_LIVE_MS_MIN, so those lookups
 * cost the socket path no extra syscall; a new daemon's map is picked up
 * within a second. The only mutable state is the pointer to the current
 * mapping, set with an atomic compare-and-swap, and the time of the next
 * look (DESIGN.md invariant 2).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "map.h"

#define NSS_MAP_MAX_MAPS 8

/* Looks the request frame (flags 0) up in the map; MAP_HIT puts the reply
 * body (MAP_FRAME_MAX bytes at most) in out. Never blocks: on a hit, no
 * syscall but the vDSO clock. */
enum map_result nss_map_lookup(const uint8_t *req, size_t req_len, uint8_t *out, size_t *ret_len);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sha256.h: SHA-256 (FIPS 180-4), libc only, for the answer map (map.h):
 * the module derives a map entry's slot tag and key from it. Pure: no
 * globals, no I/O. Constant-time by construction (no branches or table
 * lookups on the data).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

struct sha256 {
    uint32_t h[8];
    uint64_t total; /* bytes absorbed */
    uint8_t buf[64];
    size_t n; /* bytes in buf */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* Writes the digest; s must be initialised again before reuse. */
void sha256_final(struct sha256 *s, uint8_t out[SHA256_LEN]);
void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);

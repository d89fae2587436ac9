/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * chacha20.h: the ChaCha20-Poly1305 AEAD of RFC 8439 (ChaCha20, section
 * 2.4; Poly1305, 2.5; the AEAD construction, 2.8), libc only, for sealing
 * the answer map's entries (map.h). Pure: no globals, no I/O. Constant
 * time: ChaCha20 and Poly1305 (32-bit limbs, after poly1305-donna) have no
 * branch or table lookup on secret data, and the tag check compares every
 * byte.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define CHACHA20_KEY_LEN   32
#define CHACHA20_NONCE_LEN 12
#define POLY1305_TAG_LEN   16

/* One 64-byte block of key stream (section 2.3). */
void chacha20_block(const uint8_t key[CHACHA20_KEY_LEN], uint32_t counter,
                    const uint8_t nonce[CHACHA20_NONCE_LEN], uint8_t out[64]);
/* out = in XOR the key stream from block `counter` on (section 2.4); out
 * may be in. */
void chacha20_xor(const uint8_t key[CHACHA20_KEY_LEN], uint32_t counter,
                  const uint8_t nonce[CHACHA20_NONCE_LEN], const uint8_t *in, uint8_t *out,
                  size_t len);
/* Poly1305 of msg under a one-time key (section 2.5). */
void poly1305(const uint8_t key[32], const uint8_t *msg, size_t len, uint8_t tag[POLY1305_TAG_LEN]);

/* AEAD_CHACHA20_POLY1305 (section 2.8): ct may be pt. */
void chacha20_poly1305_seal(const uint8_t key[CHACHA20_KEY_LEN],
                            const uint8_t nonce[CHACHA20_NONCE_LEN], const uint8_t *aad,
                            size_t aad_len, const uint8_t *pt, size_t len, uint8_t *ct,
                            uint8_t tag[POLY1305_TAG_LEN]);
/* Checks the tag first (in constant time), then decrypts: 0, or -EBADMSG
 * with nothing written to pt. pt may be ct. */
int chacha20_poly1305_open(const uint8_t key[CHACHA20_KEY_LEN],
                           const uint8_t nonce[CHACHA20_NONCE_LEN], const uint8_t *aad,
                           size_t aad_len, const uint8_t *ct, size_t len,
                           const uint8_t tag[POLY1305_TAG_LEN], uint8_t *pt);

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_crypto.c: the answer map's primitives against their standards'
 * test vectors: SHA-256 (FIPS 180-4 examples, NIST's long messages) and
 * ChaCha20, Poly1305 and AEAD_CHACHA20_POLY1305 (RFC 8439 sections 2.3.2,
 * 2.4.2, 2.5.2, 2.8.2 and appendix A.3).
 */
#include "chacha20.h"
#include "sha256.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check-run.h"

/* Hex (spaces and colons ignored) into out; returns the length. */
static size_t unhex(const char *s, uint8_t *out) {
    size_t n = 0;
    int hi = -1;
    for (; *s; s++) {
        int v = *s >= '0' && *s <= '9'   ? *s - '0'
                : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
                : *s >= 'A' && *s <= 'F' ? *s - 'A' + 10
                                         : -1;
        if (v < 0)
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return n;
}

static void check_sha(const void *msg, size_t len, const char *hex) {
    uint8_t want[32], got[32];
    unhex(hex, want);
    sha256(msg, len, got);
    ck_assert_mem_eq(got, want, 32);
}

static const char SUNSCREEN[] =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, "
    "sunscreen would be it.";

START_TEST(sha256_matches_fips_180_examples) {
    check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check_sha(two, strlen(two), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *four =
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
        "klmnopqrlmnopqrsmnopqrstnopqrstu";
    check_sha(four, strlen(four),
              "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}
END_TEST

START_TEST(sha256_of_a_million_a_in_uneven_pieces) {
    static uint8_t a[1000000];
    memset(a, 'a', sizeof(a));
    uint8_t want[32], got[32];
    unhex("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", want);
    struct sha256 s;
    sha256_init(&s);
    /* pieces that straddle block boundaries in every way */
    for (size_t off = 0, step = 1; off < sizeof(a); step = step % 131 + 1) {
        size_t n = sizeof(a) - off < step ? sizeof(a) - off : step;
        sha256_update(&s, a + off, n);
        off += n;
    }
    sha256_final(&s, got);
    ck_assert_mem_eq(got, want, 32);
}
END_TEST

START_TEST(sha256_padding_edges_agree_one_shot_and_bytewise) {
    /* 55, 56, 63, 64 and 65 bytes: the length field fits, or needs a block */
    static const size_t lens[] = {55, 56, 63, 64, 65, 119, 120};
    uint8_t msg[128], one[32], bytewise[32];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 7 + 1);
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        sha256(msg, lens[k], one);
        struct sha256 s;
        sha256_init(&s);
        for (size_t i = 0; i < lens[k]; i++)
            sha256_update(&s, msg + i, 1);
        sha256_final(&s, bytewise);
        ck_assert_mem_eq(one, bytewise, 32);
    }
    /* 448 bits of "abcdbcde..." is the FIPS example that needs a second block */
}
END_TEST

START_TEST(chacha20_block_matches_rfc8439_2_3_2) {
    uint8_t key[32], nonce[12], want[64], got[64];
    unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", key);
    unhex("000000090000004a00000000", nonce);
    unhex("10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
          "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e",
          want);
    chacha20_block(key, 1, nonce, got);
    ck_assert_mem_eq(got, want, 64);
}
END_TEST

START_TEST(chacha20_encryption_matches_rfc8439_2_4_2) {
    uint8_t key[32], nonce[12], want[128], got[128];
    unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", key);
    unhex("000000000000004a00000000", nonce);
    size_t n = unhex("6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
                     "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
                     "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
                     "5af90bbf74a35be6b40b8eedf2785e42874d",
                     want);
    ck_assert_uint_eq(n, strlen(SUNSCREEN));
    chacha20_xor(key, 1, nonce, (const uint8_t *)SUNSCREEN, got, n);
    ck_assert_mem_eq(got, want, n);
    chacha20_xor(key, 1, nonce, got, got, n); /* in place, back again */
    ck_assert_mem_eq(got, SUNSCREEN, n);
}
END_TEST

START_TEST(poly1305_matches_rfc8439_2_5_2_and_a_3) {
    uint8_t key[32], want[16], got[16], msg[64];
    unhex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b", key);
    unhex("a8061dc1305136c6c22b8baf0c0127a9", want);
    const char *m = "Cryptographic Forum Research Group";
    poly1305(key, (const uint8_t *)m, strlen(m), got);
    ck_assert_mem_eq(got, want, 16);
    /* A.3 #5: h reaches p exactly (the final reduction) */
    memset(key, 0, 32);
    key[0] = 2;
    memset(msg, 0xff, 16);
    poly1305(key, msg, 16, got);
    unhex("03000000000000000000000000000000", want);
    ck_assert_mem_eq(got, want, 16);
    /* A.3 #6: s overflows 2^128 */
    memset(key + 16, 0xff, 16);
    memset(msg, 0, 16);
    msg[0] = 2;
    poly1305(key, msg, 16, got);
    ck_assert_mem_eq(got, want, 16);
    /* A.3 #7: carries through every limb */
    memset(key, 0, 32);
    key[0] = 1;
    size_t n = unhex("ffffffffffffffffffffffffffffffff f0ffffffffffffffffffffffffffffff"
                     "11000000000000000000000000000000",
                     msg);
    poly1305(key, msg, n, got);
    unhex("05000000000000000000000000000000", want);
    ck_assert_mem_eq(got, want, 16);
}
END_TEST

START_TEST(aead_matches_rfc8439_2_8_2_and_rejects_any_change) {
    uint8_t key[32], nonce[12], aad[12], want[128], ct[128], pt[128], tag[16], want_tag[16];
    unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", key);
    unhex("070000004041424344454647", nonce);
    unhex("50515253c0c1c2c3c4c5c6c7", aad);
    size_t n = unhex("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
                     "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
                     "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
                     "3ff4def08e4b7a9de576d26586cec64b6116",
                     want);
    unhex("1ae10b594f09e26a7e902ecbd0600691", want_tag);
    chacha20_poly1305_seal(key, nonce, aad, sizeof(aad), (const uint8_t *)SUNSCREEN, n, ct, tag);
    ck_assert_mem_eq(ct, want, n);
    ck_assert_mem_eq(tag, want_tag, 16);
    ck_assert_int_eq(chacha20_poly1305_open(key, nonce, aad, sizeof(aad), ct, n, tag, pt), 0);
    ck_assert_mem_eq(pt, SUNSCREEN, n);
    /* one bit anywhere (ciphertext, tag, aad, key, nonce): refused, nothing written */
    memset(pt, 0xA5, sizeof(pt));
    ct[n - 1] ^= 1;
    ck_assert_int_eq(chacha20_poly1305_open(key, nonce, aad, sizeof(aad), ct, n, tag, pt),
                     -EBADMSG);
    ct[n - 1] ^= 1;
    tag[15] ^= 0x80;
    ck_assert_int_eq(chacha20_poly1305_open(key, nonce, aad, sizeof(aad), ct, n, tag, pt),
                     -EBADMSG);
    tag[15] ^= 0x80;
    aad[0] ^= 1;
    ck_assert_int_eq(chacha20_poly1305_open(key, nonce, aad, sizeof(aad), ct, n, tag, pt),
                     -EBADMSG);
    aad[0] ^= 1;
    key[31] ^= 1;
    ck_assert_int_eq(chacha20_poly1305_open(key, nonce, aad, sizeof(aad), ct, n, tag, pt),
                     -EBADMSG);
    key[31] ^= 1;
    nonce[0] ^= 1;
    ck_assert_int_eq(chacha20_poly1305_open(key, nonce, aad, sizeof(aad), ct, n, tag, pt),
                     -EBADMSG);
    for (size_t i = 0; i < sizeof(pt); i++)
        ck_assert_uint_eq(pt[i], 0xA5);
}
END_TEST

int main(void) {
    const struct check_case cases[] = {
        CHECK_CASE(sha256_matches_fips_180_examples),
        CHECK_CASE(sha256_of_a_million_a_in_uneven_pieces),
        CHECK_CASE(sha256_padding_edges_agree_one_shot_and_bytewise),
        CHECK_CASE(chacha20_block_matches_rfc8439_2_3_2),
        CHECK_CASE(chacha20_encryption_matches_rfc8439_2_4_2),
        CHECK_CASE(poly1305_matches_rfc8439_2_5_2_and_a_3),
        CHECK_CASE(aead_matches_rfc8439_2_8_2_and_rejects_any_change),
    };
    return check_run("crypto", cases, sizeof(cases) / sizeof(cases[0]), NULL);
}

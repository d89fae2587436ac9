/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_map.c: libFuzzer target for the answer map's reader (common/map.c),
 * which the module runs over a file another process writes.
 *
 * First byte even: the rest is a whole map image (any bytes, any size);
 * whatever passes map_check_header is looked up for a few requests at a
 * few times, so every slot the probes reach is read, however broken.
 * First byte odd: a well-formed map whose one entry holds the fuzzer's
 * bytes as its sealed payload (times and reply frame), so that what comes
 * after the Poly1305 check is fuzzed too. Either way the reader must stay
 * inside the image, end, and hand back only a reply body that decodes.
 */
#include "ipc.h"
#include "map.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEED_SLOTS MAP_MIN_SLOTS

static const char *const names[] = {"v4.test", "nx.test", "a"};
static const int64_t times[] = {0, 1000, 1000000, INT64_MAX / 2};

static void look(const struct map_geom *g) {
    uint8_t req[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY], out[MAP_FRAME_MAX];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        int n = ipc_request_encode_byname(req, sizeof(req), IPC_AF_INET, names[i]);
        assert(n > 0);
        for (size_t t = 0; t < sizeof(times) / sizeof(times[0]); t++) {
            size_t len = 0;
            if (map_lookup(g, req, (size_t)n, times[t], out, &len) == MAP_HIT) {
                struct ipc_reply_view v;
                assert(len <= MAP_FRAME_MAX);
                assert(ipc_reply_decode(out, len, &v) == 0);
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    if ((data[0] & 1) == 0) {
        size_t n = size - 1;
        /* The module maps whole pages: the image starts 8-aligned. */
        uint64_t *img = malloc(n ? n : 1);
        if (!img)
            return 0;
        memcpy(img, data + 1, n);
        struct map_geom g;
        if (map_check_header(img, n, &g) == 0)
            look(&g);
        free(img);
        return 0;
    }
    /* A map of the fuzzer's one entry: valid_until, ttl_until, frame. */
    if (size < 1 + 16 || size - 17 > MAP_FRAME_MAX)
        return 0;
    size_t img_size = map_file_size(SEED_SLOTS);
    uint64_t *img = calloc(1, img_size);
    struct map_writer_state w;
    uint8_t salt[MAP_SALT_LEN] = {1}, req[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY];
    if (!img || map_w_init(&w, img, SEED_SLOTS, salt, 9000) < 0) {
        free(img);
        return 0;
    }
    int64_t valid, ttl;
    memcpy(&valid, data + 1, 8);
    memcpy(&ttl, data + 9, 8);
    int n = ipc_request_encode_byname(req, sizeof(req), IPC_AF_INET, names[(size >> 1) % 3]);
    map_w_heartbeat(&w, 1000000 + 5000);
    (void)map_w_put(&w, req, (size_t)n, data + 17, size - 17, valid, ttl, INT64_MIN);
    struct map_geom g;
    assert(map_check_header(img, img_size, &g) == 0);
    look(&g);
    map_w_free(&w);
    free(img);
    return 0;
}

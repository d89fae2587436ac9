/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_config.c: libFuzzer target for the config loader (helperd/config.c
 * over libconfig): text in, a config or one "FILE:LINE: message" (or
 * "FILE: message") error out, nothing else, for any bytes.
 *
 * The input becomes a memfd so the loader reads it through its own path
 * (/proc/self/fd/N). A loaded config must be internally sound (every bound
 * the rest of the daemon relies on), and loading the same bytes twice must
 * give the same verdict. Seeds are in corpus_config/.
 */
#include "config.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int load(int fd, const char *path, const uint8_t *data, size_t size, struct config **cfg,
                char *err, size_t errlen) {
    assert(ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0);
    assert(size == 0 || write(fd, data, size) == (ssize_t)size);
    return config_load(path, cfg, err, errlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz-config", MFD_CLOEXEC);
        assert(fd >= 0);
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }
    struct config *cfg = NULL;
    char err[512] = "";
    int r = load(fd, path, data, size, &cfg, err, sizeof(err));
    if (r < 0) {
        /* One error, naming the file, then a line number or a message. */
        assert(cfg == NULL);
        assert(strncmp(err, path, strlen(path)) == 0 && err[strlen(path)] == ':');
        assert(strchr(err, '\n') == NULL);
    } else {
        assert(cfg != NULL);
        assert(cfg->n_upstreams >= 1);
        assert(cfg->timeouts.query_ms > 0 && cfg->timeouts.connect_ms > 0);
        assert(cfg->socket_path[0] == '/');
        for (size_t i = 0; i < cfg->n_upstreams; i++)
            assert(cfg->mode != DOT_MODE_STRICT || cfg->upstreams[i].auth_name ||
                   cfg->upstreams[i].n_pins > 0);
        config_free(cfg);
    }
    /* The same bytes, the same verdict. */
    struct config *again = NULL;
    char err2[512] = "";
    int r2 = load(fd, path, data, size, &again, err2, sizeof(err2));
    assert((r < 0) == (r2 < 0));
    assert(r >= 0 || strcmp(err, err2) == 0);
    config_free(again);
    return 0;
}

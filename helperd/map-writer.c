/* SPDX-License-Identifier: GPL-2.0-or-later */
/* map-writer.c: the daemon's answer map file (see map-writer.h). */
#include "map-writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "map.h"

struct map_writer {
    struct loop *loop;
    struct map_writer_state w;
    struct loop_timer heartbeat;
    struct map_writer_stats stats;
    dev_t dev;
    ino_t ino;
    char *path;
};

#define M_OF_TIMER(t) ((struct map_writer *)((char *)(t)-offsetof(struct map_writer, heartbeat)))

static int64_t clock_ms(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The loop's clock (CLOCK_MONOTONIC) to the map's (CLOCK_BOOTTIME). */
static int64_t boot_offset(void) {
    return clock_ms(CLOCK_BOOTTIME) - clock_ms(CLOCK_MONOTONIC);
}

static int new_salt(uint8_t salt[MAP_SALT_LEN]) {
    ssize_t n = getrandom(salt, MAP_SALT_LEN, GRND_NONBLOCK);
    return n == MAP_SALT_LEN ? 0 : n < 0 ? -errno : -EIO;
}

static void on_heartbeat(struct loop_timer *t) {
    struct map_writer *m = M_OF_TIMER(t);
    map_w_heartbeat(&m->w, clock_ms(CLOCK_BOOTTIME) + MAP_WRITER_LIVE_MS);
    loop_timer_at(m->loop, &m->heartbeat, loop_now(m->loop) + MAP_WRITER_LIVE_MS / 3, on_heartbeat);
}

int map_writer_new(struct loop *l, const char *socket_path, unsigned entries,
                   struct map_writer **ret_map) {
    struct map_writer *m = calloc(1, sizeof(*m));
    uint8_t salt[MAP_SALT_LEN];
    uint32_t n_slots = map_slots_for(entries);
    size_t size = map_file_size(n_slots);
    int r = -ENOMEM, fd = -1;
    char *tmp = NULL;
    void *base = MAP_FAILED;
    if (!m || asprintf(&m->path, "%s.map", socket_path) < 0 ||
        asprintf(&tmp, "%s.map.XXXXXX", socket_path) < 0) {
        if (m)
            m->path = NULL;
        tmp = NULL;
        goto fail;
    }
    if ((r = new_salt(salt)) < 0)
        goto fail;
    struct stat st;
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0 || fchmod(fd, 0444) < 0) {
        r = -errno;
        goto fail;
    }
    /* Every page allocated now, not a sparse file: on a tmpfs (/run) that
     * fills up later, touching a hole would raise SIGBUS, in the daemon
     * writing a slot and in every program whose module reads one. Without
     * the room, no map (the socket answers). */
    if ((r = posix_fallocate(fd, 0, (off_t)size)) != 0) {
        r = -r;
        goto fail;
    }
    if (fstat(fd, &st) < 0 ||
        (base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
        r = -errno;
        goto fail;
    }
    m->dev = st.st_dev;
    m->ino = st.st_ino;
    if ((r = map_w_init(&m->w, base, n_slots, salt, MAP_WRITER_LIVE_MS)) < 0)
        goto fail;
    m->loop = l;
    m->stats.slots = n_slots;
    on_heartbeat(&m->heartbeat);
    if (rename(tmp, m->path) < 0) {
        r = -errno;
        goto fail;
    }
    close(fd);
    free(tmp);
    *ret_map = m;
    return 0;
fail:
    if (m && m->w.expiry)
        map_w_free(&m->w);
    if (m && m->loop)
        loop_timer_cancel(l, &m->heartbeat);
    if (base != MAP_FAILED)
        munmap(base, size);
    if (fd >= 0) {
        unlink(tmp);
        close(fd);
    }
    free(tmp);
    if (m)
        free(m->path);
    free(m);
    return r;
}

void map_writer_free(struct map_writer *m) {
    if (!m)
        return;
    map_w_retire(&m->w);
    loop_timer_cancel(m->loop, &m->heartbeat);
    /* Only our own file: a newer daemon may have put its own in place. */
    struct stat st;
    if (stat(m->path, &st) == 0 && st.st_dev == m->dev && st.st_ino == m->ino)
        unlink(m->path);
    munmap(m->w.base, m->w.size);
    map_w_free(&m->w);
    free(m->path);
    free(m);
}

void map_writer_publish(struct map_writer *m, const uint8_t *req, size_t req_len,
                        const uint8_t *frame, size_t len, int64_t valid_until, int64_t ttl_until) {
    int64_t off = boot_offset();
    int r = map_w_put(&m->w, req, req_len, frame, len, valid_until + off, ttl_until + off,
                      loop_now(m->loop) + off);
    if (r == 0)
        m->stats.published++;
    else if (r == -E2BIG)
        m->stats.too_big++;
}

void map_writer_reset(struct map_writer *m) {
    uint8_t salt[MAP_SALT_LEN];
    /* Without a new salt the old entries would still be found: retire the
     * map instead (the module asks the socket from then on). */
    if (new_salt(salt) < 0) {
        map_w_retire(&m->w);
        return;
    }
    map_w_reset(&m->w, salt);
    m->stats.resets++;
}

void map_writer_get_stats(const struct map_writer *m, struct map_writer_stats *ret_stats) {
    *ret_stats = m->stats;
    ret_stats->entries = map_w_count(&m->w, loop_now(m->loop) + boot_offset());
}

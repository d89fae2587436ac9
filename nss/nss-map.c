/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nss-map.c: maps the daemon's answer map and reads it (see nss-map.h). */
#include "nss-map.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "nss-client.h"
#include "peer.h"

#define MAP_SUFFIX ".map"

struct view {
    struct map_geom g;
    dev_t dev;
    ino_t ino;
    unsigned n; /* files this process has mapped, this one included */
};

/* The process's mapping: NULL until the first lookup finds a map. */
static struct view *current;
/* No new look at the path before this (CLOCK_BOOTTIME ms): one failed look
 * (no map, the map off, the same dead file) holds for MAP_LIVE_MS_MIN. */
static int64_t next_look_ms;

static int64_t boottime_ms(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
        return -1;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The file at the socket's path + ".map", when it is the daemon's and not
 * the one old already maps; NULL otherwise. */
static struct view *open_view(const struct view *old) {
    const char *sock = nss_client_socket_path();
    char path[sizeof(((struct sockaddr_un *)0)->sun_path) + sizeof(MAP_SUFFIX)];
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    size_t n = strlen(sock);
    if (n >= sizeof(dir) || peer_socket_dir(sock, dir, sizeof(dir)) < 0)
        return NULL;
    memcpy(path, sock, n);
    memcpy(path + n, MAP_SUFFIX, sizeof(MAP_SUFFIX));
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return NULL;
    struct stat st, ds;
    bool ok =
        fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 &&
        (st.st_mode & (S_IWGRP | S_IWOTH)) == 0 &&
        st.st_size >= (off_t)map_file_size(MAP_MIN_SLOTS) &&
        st.st_size <= (off_t)map_file_size(MAP_MAX_SLOTS) &&
        !(old && old->dev == st.st_dev && old->ino == st.st_ino) &&
        (st.st_uid == 0 || (stat(dir, &ds) == 0 && peer_trusted(st.st_uid, ds.st_uid, ds.st_mode)));
    void *p = ok ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
    close(fd);
    if (p == MAP_FAILED)
        return NULL;
    struct view *v = malloc(sizeof(*v));
    if (!v || map_check_header(p, (size_t)st.st_size, &v->g) < 0) {
        free(v);
        munmap(p, (size_t)st.st_size);
        return NULL;
    }
    v->dev = st.st_dev;
    v->ino = st.st_ino;
    v->n = old ? old->n + 1 : 1;
    return v;
}

enum map_result nss_map_lookup(const uint8_t *req, size_t req_len, uint8_t *out, size_t *ret_len) {
    int64_t now = boottime_ms();
    struct view *v = __atomic_load_n(&current, __ATOMIC_ACQUIRE);
    enum map_result r = v ? map_lookup(&v->g, req, req_len, now, out, ret_len) : MAP_DEAD;
    if (r != MAP_DEAD || (v && v->n >= NSS_MAP_MAX_MAPS))
        return r;
    /* No map yet, or a dead one: look at the path, at most once a second. */
    if (now < __atomic_load_n(&next_look_ms, __ATOMIC_RELAXED))
        return MAP_DEAD;
    struct view *nv = open_view(v);
    if (!nv) {
        __atomic_store_n(&next_look_ms, now + MAP_LIVE_MS_MIN, __ATOMIC_RELAXED);
        return MAP_DEAD;
    }
    if (!__atomic_compare_exchange_n(&current, &v, nv, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        /* Another thread installed one first: ours was never shared. */
        munmap((void *)nv->g.base, nv->g.size);
        free(nv);
        nv = v;
    }
    /* The old mapping stays: a thread may still be reading it. */
    return map_lookup(&nv->g, req, req_len, now, out, ret_len);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* peer.c: the module's rule for trusting the other end (see peer.h). */
#include "peer.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

bool peer_trusted(uid_t peer_uid, uid_t dir_uid, mode_t dir_mode) {
    if (peer_uid == 0)
        return true;
    return peer_uid == dir_uid && (dir_mode & (S_IWGRP | S_IWOTH)) == 0;
}

int peer_socket_dir(const char *path, char *buf, size_t buflen) {
    const char *slash = strrchr(path, '/');
    const char *dir = slash ? path : ".";
    size_t n = slash ? (size_t)(slash - path) : 1;
    if (slash && n == 0)
        n = 1; /* "/socket": the root directory */
    if (n >= buflen)
        return -ENAMETOOLONG;
    memcpy(buf, dir, n);
    buf[n] = '\0';
    return 0;
}

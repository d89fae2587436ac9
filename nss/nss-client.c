/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nss-client.c: the module's socket I/O, all of it non-blocking under a deadline. */
#include "nss-client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "peer.h"
#include "query-ms.h"

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline; 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, int64_t deadline) {
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, (int)left);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            return -ETIMEDOUT;
        if (p.revents & (events | POLLHUP | POLLERR))
            return 0;
    }
}

static int send_all(int fd, const uint8_t *p, size_t len, int64_t deadline) {
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return -errno;
            int r = wait_fd(fd, POLLOUT, deadline);
            if (r < 0)
                return r;
            continue;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int recv_all(int fd, uint8_t *p, size_t len, int64_t deadline) {
    while (len > 0) {
        ssize_t n = recv(fd, p, len, MSG_DONTWAIT);
        if (n == 0)
            return -EPROTO; /* the daemon closed before a whole reply */
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return -errno;
            int r = wait_fd(fd, POLLIN, deadline);
            if (r < 0)
                return r;
            continue;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

const char *nss_client_socket_path(void) {
    const char *path = secure_getenv("NSS_DOT_SOCKET");
    return path && *path ? path : DOT_DEFAULT_SOCKET;
}

/* The deadline for one exchange, from the daemon's published query_ms: one
 * readlink(), no round trip. Anything missing or malformed: the default. */
static int64_t deadline_from(int64_t start, const char *path) {
    char link[sizeof(((struct sockaddr_un *)0)->sun_path) + sizeof(QUERY_MS_SUFFIX)];
    char text[QUERY_MS_TEXT + 1]; /* one more, so that a longer target shows */
    int64_t budget = NSS_DOT_DEFAULT_MS;
    if (query_ms_path(path, link, sizeof(link)) == 0) {
        ssize_t n = readlink(link, text, sizeof(text));
        int q = n > 0 ? query_ms_parse(text, (size_t)n) : -EINVAL;
        if (q > 0)
            budget = q + NSS_DOT_GRACE_MS;
    }
    return start + (budget < NSS_DOT_DEADLINE_MS ? budget : NSS_DOT_DEADLINE_MS);
}

static int connect_daemon(const char *path) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(path);
    if (n >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, path, n + 1);

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    /* A Unix stream connect never returns EINPROGRESS: it connects at once
     * or fails at once. */
    for (;;) {
        if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0)
            return fd;
        int e = errno;
        if (e == EINTR)
            continue;
        /* ENOENT, ECONNREFUSED: no daemon. EAGAIN: its backlog is full;
         * both fail at once rather than make the program wait. */
        close(fd);
        return -e;
    }
}

/* The other end must be the daemon (peer.h) before the name is sent to it:
 * -EPERM otherwise, and nothing is read from it. */
static int check_peer(int fd, const char *path) {
    struct ucred cred;
    socklen_t len = sizeof(cred);
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct stat st;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return -errno;
    if (cred.uid == 0)
        return 0;
    if (peer_socket_dir(path, dir, sizeof(dir)) < 0 || stat(dir, &st) < 0)
        return -EPERM;
    return peer_trusted(cred.uid, st.st_uid, st.st_mode) ? 0 : -EPERM;
}

/* Most replies are small: one recv() into this much takes the whole frame. */
#define FIRST_READ 1024

int nss_client_transact(const uint8_t *req, size_t req_len, uint8_t **ret_body, size_t *ret_len) {
    const char *path = nss_client_socket_path();
    int64_t deadline = deadline_from(now_ms(), path);
    int fd = connect_daemon(path);
    if (fd < 0)
        return fd;
    int r = check_peer(fd, path);
    if (r < 0) {
        close(fd);
        return r;
    }

    uint8_t first[FIRST_READ];
    size_t got = 0;
    uint8_t *body = NULL;
    uint8_t op = 0;
    r = send_all(fd, req, req_len, deadline);
    /* The header, and with it as much of the body as has arrived. */
    while (r == 0 && got < IPC_HEADER_LEN) {
        r = wait_fd(fd, POLLIN, deadline);
        if (r < 0)
            break;
        ssize_t n = recv(fd, first + got, sizeof(first) - got, MSG_DONTWAIT);
        if (n == 0)
            r = -EPROTO; /* the daemon closed before a whole reply */
        else if (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            r = -errno;
        else if (n > 0)
            got += (size_t)n;
    }
    if (r == 0)
        r = ipc_header_decode(first, &op, IPC_MAX_REPLY_BODY);
    if (r >= 0 && op != IPC_OP_REPLY)
        r = -EBADMSG;
    if (r >= 0) {
        size_t len = (size_t)r, have = got - IPC_HEADER_LEN;
        if (have > len) {
            r = -EBADMSG; /* more than one frame: not our daemon */
        } else if (!(body = malloc(len ? len : 1))) {
            r = -ENOMEM;
        } else {
            memcpy(body, first + IPC_HEADER_LEN, have);
            r = recv_all(fd, body + have, len - have, deadline);
        }
        if (r == 0) {
            *ret_body = body;
            *ret_len = len;
            body = NULL;
        }
    }
    free(body);
    close(fd);
    /* Sent or half sent, the daemon has the name (nss-client.h). */
    if (r < 0 && r != -ETIMEDOUT)
        r = -EPROTO;
    return r < 0 ? r : 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * notify-sink: a stand-in for the service manager's $NOTIFY_SOCKET
 * (sd_notify(3)), for tests/e2e/shutdown.sh. Binds a datagram socket at
 * PATH (mode 0666, so a daemon that dropped root can still send to it),
 * creates READY_FILE once bound, and appends every datagram it receives to
 * LOG as one line, flushed at once, until killed.
 *
 *   notify-sink PATH LOG READY_FILE
 *
 * Built by the test itself with $CC; libc only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: notify-sink PATH LOG READY_FILE\n");
        return 2;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(argv[1]) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "notify-sink: path too long\n");
        return 2;
    }
    strcpy(sa.sun_path, argv[1]);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    unlink(argv[1]);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(argv[1], 0666) < 0) {
        perror("notify-sink");
        return 1;
    }
    FILE *log = fopen(argv[2], "a");
    FILE *ready = fopen(argv[3], "w");
    if (!log || !ready) {
        perror("notify-sink");
        return 1;
    }
    fclose(ready);
    for (;;) {
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            perror("notify-sink: recv");
            return 1;
        }
        buf[n] = '\0';
        fprintf(log, "%s\n", buf);
        fflush(log);
    }
}

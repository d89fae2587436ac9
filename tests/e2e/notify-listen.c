/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * notify-listen.c: a stand-in for systemd's $NOTIFY_SOCKET in the end-to-end
 * tests (CI installs no socat or python). Binds a datagram Unix socket at
 * PATH, creates READY once bound, and appends every message it receives to
 * LOG as one line (the newlines between assignments become spaces), flushed
 * at once. Runs until killed.
 *
 *   notify-listen PATH LOG READY
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: notify-listen PATH LOG READY\n");
        return 2;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(argv[1]) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "notify-listen: path too long\n");
        return 2;
    }
    strcpy(sa.sun_path, argv[1]);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    unlink(argv[1]);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror("notify-listen: bind");
        return 1;
    }
    FILE *log = fopen(argv[2], "a");
    int ready = open(argv[3], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (!log || ready < 0) {
        perror("notify-listen: open");
        return 1;
    }
    close(ready);
    for (;;) {
        char msg[4096];
        ssize_t n = recv(fd, msg, sizeof(msg) - 1, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("notify-listen: recv");
            return 1;
        }
        for (ssize_t i = 0; i < n; i++)
            if (msg[i] == '\n')
                msg[i] = ' ';
        msg[n] = '\0';
        fprintf(log, "%s\n", msg);
        fflush(log);
    }
}

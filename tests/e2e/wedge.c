/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * wedge.c: the two tools tests/e2e/wedged.sh needs, libc only, built by the
 * test with $CC.
 *   wedge mute PATH SECONDS  listen on the Unix socket PATH, accept every
 *                            connection, read what comes and never answer;
 *                            exit after SECONDS (a bound, the test stops it
 *                            by PID before)
 *   wedge time CMD ARGS...   run CMD, then print "elapsed_ms N" on stderr
 *                            (CLOCK_MONOTONIC) and exit with CMD's status
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_HELD 256

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int mute(const char *path, int seconds) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "wedge: path too long\n");
        return 99;
    }
    strcpy(sa.sun_path, path);
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(path);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 64) < 0) {
        perror("wedge: listen");
        return 99;
    }
    struct pollfd p[1 + MAX_HELD];
    int held = 0;
    long long end = now_ms() + (long long)seconds * 1000;
    for (long long left; (left = end - now_ms()) > 0;) {
        p[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
        if (poll(p, (nfds_t)(1 + held), (int)left) < 0 && errno != EINTR)
            break;
        /* Drain what the clients send, keep them open, answer nothing. */
        for (int i = 1; i <= held; i++) {
            char buf[512];
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (read(p[i].fd, buf, sizeof(buf)) <= 0) {
                close(p[i].fd);
                p[i--] = p[held--];
            }
        }
        if (p[0].revents & POLLIN) {
            int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0 && held < MAX_HELD)
                p[++held] = (struct pollfd){.fd = fd, .events = POLLIN};
            else if (fd >= 0)
                close(fd);
        }
    }
    unlink(path);
    return 0;
}

static int timed(char **argv) {
    long long t0 = now_ms();
    pid_t pid = fork();
    if (pid < 0) {
        perror("wedge: fork");
        return 99;
    }
    if (pid == 0) {
        execvp(argv[0], argv);
        perror("wedge: exec");
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    fprintf(stderr, "elapsed_ms %lld\n", now_ms() - t0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "mute") == 0)
        return mute(argv[2], atoi(argv[3]));
    if (argc >= 3 && strcmp(argv[1], "time") == 0)
        return timed(argv + 2);
    fprintf(stderr, "usage: wedge mute PATH SECONDS | wedge time CMD [ARGS...]\n");
    return 2;
}

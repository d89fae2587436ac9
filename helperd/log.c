/* SPDX-License-Identifier: GPL-2.0-or-later */
/* log.c: leveled logging to stderr or syslog (see log.h). */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

static enum log_level current_level = LOG_LEVEL_INFO;
static int use_stderr = 1;

void log_init(const char *ident, int to_stderr) {
    use_stderr = to_stderr;
    if (!to_stderr)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(enum log_level level) {
    current_level = level;
}

enum log_level log_get_level(void) {
    return current_level;
}

int log_level_parse(const char *s, enum log_level *ret) {
    static const char *const names[] = {"error", "warning", "info", "debug"};
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i]) == 0) {
            *ret = (enum log_level)i;
            return 0;
        }
    return -EINVAL;
}

static void vlog(enum log_level level, const char *suffix, const char *fmt, va_list ap) {
    static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    static const char *const tag[] = {"error", "warning", "info", "debug"};
    char msg[1024];
    if (level > current_level)
        return;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (use_stderr)
        fprintf(stderr, "dot-helperd: %s: %s%s%s\n", tag[level], msg, suffix ? ": " : "",
                suffix ? suffix : "");
    else
        syslog(prio[level], "%s%s%s", msg, suffix ? ": " : "", suffix ? suffix : "");
}

#define DEFINE_LOG(fn, level)                                                                      \
    void fn(const char *fmt, ...) {                                                                \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        vlog(level, NULL, fmt, ap);                                                                \
        va_end(ap);                                                                                \
    }
DEFINE_LOG(log_error, LOG_LEVEL_ERROR)
DEFINE_LOG(log_warnx, LOG_LEVEL_WARNING)
DEFINE_LOG(log_info, LOG_LEVEL_INFO)
DEFINE_LOG(log_debug, LOG_LEVEL_DEBUG)

void log_warn(const char *fmt, ...) {
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    vlog(LOG_LEVEL_WARNING, strerror(saved), fmt, ap);
    va_end(ap);
}

void fatalx(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog(LOG_LEVEL_ERROR, NULL, fmt, ap);
    va_end(ap);
    exit(1);
}

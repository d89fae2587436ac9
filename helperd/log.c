/* SPDX-License-Identifier: GPL-2.0-or-later */
/* log.c: leveled logging to stderr or syslog (see log.h). */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

static enum log_level current_level = LOG_LEVEL_INFO;
static int use_stderr = 1;
static bool stderr_is_journal;

/* systemd sets JOURNAL_STREAM=DEV:INO for a service whose stderr goes to the
 * journal; a child whose stderr was redirected since inherits the variable,
 * so the descriptor itself must still be that stream. */
static bool journal_stream(void) {
    const char *e = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    char end;
    struct stat st;
    if (!e || sscanf(e, "%llu:%llu%c", &dev, &ino, &end) != 2 || fstat(STDERR_FILENO, &st) < 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(const char *ident, int to_stderr) {
    use_stderr = to_stderr;
    if (to_stderr)
        stderr_is_journal = journal_stream();
    else
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
    char msg[2048];
    if (level > current_level)
        return;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    if (use_stderr && stderr_is_journal)
        fprintf(stderr, "<%d>%s%s%s\n", prio[level], msg, suffix ? ": " : "", suffix ? suffix : "");
    else if (use_stderr)
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

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log.h: the daemon's only way to say something. In the foreground (-f) to
 * stderr: as "<N>message" with the syslog priority N (sd-daemon(3)) when
 * stderr is the journal (JOURNAL_STREAM names its device and inode), else as
 * "dot-helperd: level: message" for a terminal or a file. Without -f to
 * syslog (facility daemon). Control characters in a message are written as
 * '?', so one call is one line. Query names are logged at debug only.
 */
#pragma once

enum log_level {
    LOG_LEVEL_ERROR = 0,
    LOG_LEVEL_WARNING = 1,
    LOG_LEVEL_INFO = 2,
    LOG_LEVEL_DEBUG = 3,
};

/* to_stderr: -f. Decides once between the three outputs above. */
void log_init(const char *ident, int to_stderr);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error" | "warning" | "info" | "debug"; 0 or -EINVAL. */
int log_level_parse(const char *s, enum log_level *ret);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* As log_warnx, with ": strerror(errno)" appended. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Broken internal invariant: log and exit(1). Never for bad input. */
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log.h: the daemon's only way to say something. To stderr in the
 * foreground (-f), to syslog otherwise. Query names are logged at debug only.
 */
#pragma once

enum log_level {
    LOG_LEVEL_ERROR = 0,
    LOG_LEVEL_WARNING = 1,
    LOG_LEVEL_INFO = 2,
    LOG_LEVEL_DEBUG = 3,
};

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

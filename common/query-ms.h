/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * query-ms.h: the daemon's running query timeout, as the module learns it
 * without asking. Pure, libc only; shared by dot-helperd (the writer, in
 * helperd/server.c) and the module (the reader, in nss/nss-client.c).
 *
 * Next to its lookup socket the daemon keeps a symbolic link named
 * SOCKET + QUERY_MS_SUFFIX whose target is timeouts.query_ms in decimal
 * ("2000"): one readlink(2) reads it, with no file to open and no round trip
 * (systemd keeps small data in symlinks the same way). It is made under a
 * temporary name and renamed over, so a reader sees the old value or the new
 * one, and it exists before the socket is published and goes with it.
 */
#pragma once

#include <stddef.h>

#define QUERY_MS_SUFFIX ".query_ms"
#define QUERY_MS_MIN    1
#define QUERY_MS_MAX    60000 /* the config's upper bound for timeouts.query_ms */
#define QUERY_MS_TEXT   5     /* digits of QUERY_MS_MAX */

/* The link's path for socket_path into buf; 0 or -ENAMETOOLONG. */
int query_ms_path(const char *socket_path, char *buf, size_t len);

/* Parses a link target of len bytes (not NUL-terminated): decimal digits
 * only, no sign, space or leading zero, QUERY_MS_MIN..QUERY_MS_MAX. Returns
 * the value, or -EINVAL. */
int query_ms_parse(const char *text, size_t len);

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * server.h: the lookup socket's clients. Accepts module connections, reads
 * one bounded request each under a deadline, hands it to the resolver and
 * writes the reply back; at most SERVER_MAX_CLIENTS at once, the rest are
 * told TRYAGAIN at once. Garbage on the socket closes that client only.
 */
#pragma once

#include "config.h"
#include "loop.h"
#include "resolver.h"

#define SERVER_MAX_CLIENTS 1024
#define SERVER_REQUEST_MS  2000 /* a client must have sent its request by then */

struct server;

/* Takes ownership of listen_fd (a listening, non-blocking Unix socket). */
int server_new(struct loop *l, const struct config *cfg, struct resolver *r, int listen_fd,
               struct server **ret_server);
void server_free(struct server *s);
/* For a reload: cfg (which must outlive the server or the next reload). */
void server_set_config(struct server *s, const struct config *cfg);

/* Opens a listening socket for path, bound under a temporary name
 * (path + ".new") and made mode 0666; server_publish() renames it into place
 * once the daemon is ready, so that a client never finds a socket that
 * refuses it or a daemon still connecting to its upstreams. Returns the fd
 * or -errno. */
int server_listen(const char *path);
int server_publish(const char *path);
/* Publishes timeouts.query_ms next to the socket at path, as the symbolic
 * link path + ".query_ms" (see common/query-ms.h) that bounds how long the
 * module waits; atomically (symlink under a temporary name, then rename), so
 * call it again whenever query_ms changes. Call before server_publish(). On
 * failure no link is left (the module falls back to its default). 0 or
 * -errno. */
int server_publish_query_ms(const char *path, unsigned query_ms);
/* Removes the socket and its query_ms link, published or not. */
void server_unlink(const char *path);

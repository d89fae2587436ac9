/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * server.h: the lookup socket's clients. Accepts module connections, reads
 * one bounded request each under a deadline, hands it to the resolver and
 * writes the reply back. Garbage on the socket closes that client only.
 *
 * Limits (DESIGN.md invariant 4), all answered with TRYAGAIN at once:
 * clients.max connections at once (bounded by RLIMIT_NOFILE, so upstream
 * connections always find descriptors); clients.per_user for one uid
 * (SO_PEERCRED at accept); and (in the resolver) clients.lookups_per_user
 * new upstream queries of one uid in flight. When clients.max is reached, the uid holding
 * the most connections gives up its oldest to a uid holding fewer: one
 * user's flood never locks another out. Every client state has a deadline:
 * the request within SERVER_REQUEST_MS of the accept, the answer by the
 * query timeout (plus a backstop), the reply taken within SERVER_REQUEST_MS
 * of a write that blocked.
 */
#pragma once

#include <stdint.h>

#include "config.h"
#include "loop.h"
#include "resolver.h"

#define SERVER_REQUEST_MS 2000 /* a client must have sent its request by then */

struct server;

struct server_stats {
    unsigned clients, max_clients; /* now, and the bound in force */
    size_t users;                  /* uids with a connection now */
    uint64_t shed_per_user;        /* refused: the uid held clients.per_user */
    uint64_t shed_full;            /* refused: clients.max, the uid not below the top */
    uint64_t evicted;              /* given up by the top uid to a uid holding fewer */
    uint64_t timed_out;            /* a client past one of its deadlines */
};

/* Takes ownership of listen_fd (a listening, non-blocking Unix socket). */
int server_new(struct loop *l, const struct config *cfg, struct resolver *r, int listen_fd,
               struct server **ret_server);
void server_free(struct server *s);
void server_get_stats(const struct server *s, struct server_stats *ret_stats);
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

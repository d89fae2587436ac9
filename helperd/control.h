/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * control.h: the control socket that dot-helperctl talks to, beside the
 * lookup socket (server.h). The protocol is common/control-proto.h.
 *
 * Owns the control clients: at most CONTROL_MAX_CLIENTS at once (more are
 * told "busy"), one request and one reply each, the request read and the
 * reply written within CONTROL_IO_MS, nothing ever blocking the loop.
 * Only root and the socket's owner (the user that bound it: root on a root
 * start, or the daemon's own user when started unprivileged, as under
 * systemd with User=) may use it: the socket is mode 0600, and the peer's
 * SO_PEERCRED uid is checked again, so a socket made more open by mistake
 * still refuses everyone else with "error denied".
 *
 * What the commands read or change belongs to others: the resolver (query,
 * flush, the cache and lookup counters), the pool (the upstream table) and
 * the daemon (reload, the config file), reached through control_hooks.
 */
#pragma once

#include "server.h"

#include <stdint.h>
#include <sys/types.h>

#include "loop.h"
#include "resolver.h"
#include "upstream.h"

#define CONTROL_MAX_CLIENTS 16
#define CONTROL_IO_MS       2000

struct control;

struct control_daemon_info {
    const char *config_path;
    int64_t config_loaded_at;    /* Unix seconds */
    const char *mode;            /* "strict" | "opportunistic" */
    struct server_stats clients; /* the lookup socket's clients and limits */
};

struct control_hooks {
    /* Reads the config file again and applies it; 0, or -errno with a
     * "FILE:LINE: message" in err (the old config still running). */
    int (*reload)(void *userdata, char *err, size_t errlen);
    void (*daemon_info)(void *userdata, struct control_daemon_info *ret_info);
};

/* Binds a listening, non-blocking socket at path, mode 0600. A live daemon
 * answering there is -EADDRINUSE; a stale file is replaced. fd or -errno. */
int control_listen(const char *path);
/* Removes the socket file. */
void control_unlink(const char *path);

/* Takes ownership of listen_fd. owner: the uid allowed besides root. The
 * resolver and pool must outlive the control (a reload keeps both). */
int control_new(struct loop *l, int listen_fd, uid_t owner, struct resolver *r,
                struct upstream_pool *pool, const struct control_hooks *hooks, void *userdata,
                struct control **ret_control);
/* Queries still running are answered "error failed shutting down". */
void control_free(struct control *c);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * peer.h: whom the module believes (DESIGN.md invariant 6). Pure, libc only.
 *
 * The module runs in every process, setuid programs included, and uses an
 * answer only from the daemon. The rule, in one place (the answer map of a
 * later change is judged by it too):
 *
 *   the peer is trusted when its uid is 0 (root), or when its uid owns the
 *   directory that holds the socket and nobody else may write in that
 *   directory (no group or other write bit).
 *
 * Why it holds: under systemd the service manager creates the directory
 * (RuntimeDirectory=) owned by the daemon's User=; at a root start the
 * daemon listens as root (SO_PEERCRED reports the credentials of whoever
 * called listen()) in a directory it owns or hands to its user. Anyone else
 * can only listen in a directory they own themselves (and then fools no one
 * but themselves: NSS_DOT_SOCKET is ignored in setuid programs) or in a
 * shared one like /tmp, which the write-bit test refuses.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* peer_uid: SO_PEERCRED's uid; dir_uid and dir_mode: stat() of the
 * socket's directory. */
bool peer_trusted(uid_t peer_uid, uid_t dir_uid, mode_t dir_mode);

/* The directory part of a socket path into buf ("." for a bare name, "/"
 * for a path in the root). 0, or -ENAMETOOLONG. */
int peer_socket_dir(const char *path, char *buf, size_t buflen);

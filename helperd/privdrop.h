/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * privdrop.h: a start as root. Owns the three steps that let a daemon started
 * as root give up root for the configured user and still publish and remove
 * its sockets afterwards:
 *   1. priv_lookup(): who to become (no switch unless euid 0 and a user
 *      whose uid is not 0);
 *   2. priv_prepare_dirs(): make each socket's directory one that user may
 *      create, rename and remove files in (the rule is in dot-helperd(8),
 *      "START AS ROOT": create it, keep it, take over a directory only the
 *      daemon ever used, or refuse; never a shared one like /run or /tmp);
 *   3. priv_drop(): setgroups, setgid, no_new_privs, empty capability
 *      bounding set, setuid, then verify that root cannot be regained and no
 *      capability is left.
 * Errors come back as a message in the caller's buffer; nothing here logs
 * but the one line saying a directory was created or taken over.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

struct priv_user {
    char name[64];
    uid_t uid;
    gid_t gid;
};

/* 1 and *ret_user filled when this start switches to user (euid 0, and user
 * is not root); 0 when it does not (*ret_user untouched); -ESRCH (message in
 * err) when the user does not exist. */
int priv_lookup(const char *user, struct priv_user *ret_user, char *err, size_t errlen);

/* For the parent directory of each of the n socket paths: create it when
 * missing (mode 0755, owned by u when u is not NULL); with u, check or take it
 * as dot-helperd(8) says. 0, or -errno with the message in err. */
int priv_prepare_dirs(const char *const *socket_paths, size_t n, const struct priv_user *u,
                      char *err, size_t errlen);

/* Becomes u for good and checks it. 0, or -errno with the message in err (the
 * caller must then exit: the process may be half switched). */
int priv_drop(const struct priv_user *u, char *err, size_t errlen);

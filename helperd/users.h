/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * users.h: what each local user holds (DESIGN.md invariants 4 and 6), per
 * uid (SO_PEERCRED at accept). Pure: no I/O, no logging. The server keeps
 * one table of open connections (clients.per_user, and who gives way when
 * clients.max is reached); the resolver keeps one of the upstream queries
 * each user started and that are still in flight (clients.lookups_per_user),
 * so that no user can starve another.
 *
 * Entries are created on first use and given back when they hold nothing
 * (kept for reuse, freelist.h); the table never holds more entries than
 * there are clients.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "dlist.h"

struct user_use {
    uid_t uid;
    unsigned clients; /* open connections */
    unsigned lookups; /* upstream queries in flight */
    /* Upstream queries waiting for one of the user's lookups_per_user slots,
     * oldest first (the resolver's own list of its fetches), and whether the
     * user is on the resolver's list of users to serve. */
    unsigned queued;
    struct dlist queue;
    bool listed;
    struct user_use *list_next;
    struct user_use *next; /* (the table's chain) */
};

struct users;

int users_new(struct users **ret_users);
/* NULL is a no-op. */
void users_free(struct users *u);

/* The entry of uid, created (all zero) when missing; NULL without memory. */
struct user_use *users_get(struct users *u, uid_t uid);
/* Frees e once it holds nothing, queues nothing and is listed nowhere (call
 * after each decrement). */
void users_release(struct users *u, struct user_use *e);
/* The user holding the most connections (ties: any), NULL when none. */
struct user_use *users_top(const struct users *u);
/* Users with an entry. */
size_t users_count(const struct users *u);

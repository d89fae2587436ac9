/* SPDX-License-Identifier: GPL-2.0-or-later */
/* users.c: per-uid usage of the lookup socket (see users.h). */
#include "users.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "freelist.h"

#define USERS_BUCKETS 256 /* users with open connections at once are few */

struct users {
    struct user_use *buckets[USERS_BUCKETS];
    size_t count;
    /* Entries that held nothing: one user's entry comes and goes with
     * each of its lookups when they do not overlap. */
    struct freelist spare;
};

static size_t bucket(uid_t uid) {
    /* Fibonacci hashing: consecutive uids spread over the buckets. */
    return (size_t)(((uint32_t)uid * 2654435769u) >> 24) % USERS_BUCKETS;
}

int users_new(struct users **ret_users) {
    struct users *u = calloc(1, sizeof(*u));
    if (!u)
        return -ENOMEM;
    freelist_init(&u->spare, sizeof(struct user_use), FREELIST_KEEP);
    *ret_users = u;
    return 0;
}

void users_free(struct users *u) {
    if (!u)
        return;
    for (size_t i = 0; i < USERS_BUCKETS; i++)
        while (u->buckets[i]) {
            struct user_use *e = u->buckets[i];
            u->buckets[i] = e->next;
            free(e);
        }
    freelist_clear(&u->spare);
    free(u);
}

struct user_use *users_get(struct users *u, uid_t uid) {
    struct user_use **pp = &u->buckets[bucket(uid)];
    for (struct user_use *e = *pp; e; e = e->next)
        if (e->uid == uid)
            return e;
    struct user_use *e = freelist_get(&u->spare);
    if (!e)
        return NULL;
    e->uid = uid;
    e->next = *pp;
    *pp = e;
    u->count++;
    return e;
}

void users_release(struct users *u, struct user_use *e) {
    if (!e || e->clients || e->lookups || e->queued || e->listed)
        return;
    for (struct user_use **pp = &u->buckets[bucket(e->uid)]; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            freelist_put(&u->spare, e);
            u->count--;
            return;
        }
}

struct user_use *users_top(const struct users *u) {
    struct user_use *top = NULL;
    for (size_t i = 0; i < USERS_BUCKETS; i++)
        for (struct user_use *e = u->buckets[i]; e; e = e->next)
            if (!top || e->clients > top->clients)
                top = e;
    return top;
}

size_t users_count(const struct users *u) {
    return u->count;
}

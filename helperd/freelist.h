/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * freelist.h: recycled objects of one size, so that a lookup allocates
 * nothing once the daemon is warm (issue 15). Each object type of the
 * lookup path has one, owned by the module that owns the type: the
 * server's clients, the resolver's jobs and fetches, the pool's upstream
 * queries, a users table's entries.
 *
 * LIFO: the object given back last is the next one handed out, still warm
 * in the CPU's cache. At most `keep` free objects are held; past that an
 * object goes back to malloc, so a burst's memory does not stay with the
 * list. An object comes out zeroed, as from calloc.
 *
 * A recycled object would hide a use after free from the tools that find
 * them: the next owner's writes land where the stale pointer writes. So
 * under AddressSanitizer, and under valgrind when configure found its
 * header, nothing is recycled: put frees at once and get allocates, and
 * the checkers keep their full quarantine for these objects. Only the
 * list's own code (tests/check_freelist.c) then goes unchecked by them.
 *
 * Not thread-safe: one list per owner, used from the loop's thread only.
 */
#pragma once

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#if !defined(__SANITIZE_ADDRESS__) && defined(HAVE_VALGRIND_MEMCHECK_H)
#include <valgrind/memcheck.h>
#endif

/* Free objects a list holds at most: about what a thousand client threads
 * in lookups at once swing through (with 1,024 of them back to back, 0.02
 * of a lookup's 8 objects came from calloc; 0.10 with 256 held), a few MB
 * for the biggest type, and a quarter of what a burst of clients.max
 * (4,096) leaves. */
#define FREELIST_KEEP 1024

struct freelist_item {
    struct freelist_item *next;
};

struct freelist {
    struct freelist_item *head;
    size_t size;   /* bytes per object, at least a pointer's */
    unsigned n;    /* free objects held */
    unsigned keep; /* at most this many */
};

/* Whether objects go straight back to malloc (see above). */
static inline bool freelist_bypassed(void) {
#if defined(__SANITIZE_ADDRESS__)
    return true;
#elif defined(HAVE_VALGRIND_MEMCHECK_H)
    return RUNNING_ON_VALGRIND != 0;
#else
    return false;
#endif
}

static inline void freelist_init(struct freelist *fl, size_t size, unsigned keep) {
    *fl = (struct freelist){
        .size = size < sizeof(struct freelist_item) ? sizeof(struct freelist_item) : size,
        .keep = keep,
    };
}

/* A zeroed object of fl->size bytes: a held one, else from calloc. NULL
 * without memory. Free it with freelist_put(). */
static inline void *freelist_get(struct freelist *fl) {
    struct freelist_item *it = fl->head;
    if (!it)
        return calloc(1, fl->size);
    fl->head = it->next;
    fl->n--;
    memset(it, 0, fl->size);
    return it;
}

/* Gives p (from freelist_get() of the same list, or NULL) back. */
static inline void freelist_put(struct freelist *fl, void *p) {
    if (!p)
        return;
    if (fl->n >= fl->keep || freelist_bypassed()) {
        free(p);
        return;
    }
    struct freelist_item *it = p;
    it->next = fl->head;
    fl->head = it;
    fl->n++;
}

/* Frees every held object (the owner's teardown). The list stays usable. */
static inline void freelist_clear(struct freelist *fl) {
    while (fl->head) {
        struct freelist_item *it = fl->head;
        fl->head = it->next;
        free(it);
    }
    fl->n = 0;
}

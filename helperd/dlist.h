/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dlist.h: an intrusive doubly linked list with a head and a tail, for the
 * daemon's queues (the cache's LRU, the pool's wait queue, each user's
 * queue of upstream queries, each connection's queries, the loop's posted
 * tasks): O(1) insert at
 * either end and removal from anywhere, no allocation. The owner embeds a
 * struct dlist_node in its struct and gets back to it with DLIST_ENTRY;
 * a node is in at most one list at a time, and a removed node has both
 * links NULL. Nothing here knows whether a node is in a list: the owners
 * keep that (a flag, a count) where they need it.
 */
#pragma once

#include <stddef.h>

struct dlist_node {
    struct dlist_node *prev, *next;
};

struct dlist {
    struct dlist_node *head, *tail;
};

/* The struct of type that holds node as its member (NULL for NULL). */
#define DLIST_ENTRY(node, type, member)                                                            \
    ((node) ? (type *)(void *)((char *)(node)-offsetof(type, member)) : (type *)NULL)

static inline void dlist_push_tail(struct dlist *l, struct dlist_node *n) {
    n->next = NULL;
    n->prev = l->tail;
    if (l->tail)
        l->tail->next = n;
    else
        l->head = n;
    l->tail = n;
}

static inline void dlist_push_head(struct dlist *l, struct dlist_node *n) {
    n->prev = NULL;
    n->next = l->head;
    if (l->head)
        l->head->prev = n;
    else
        l->tail = n;
    l->head = n;
}

/* n must be in l. */
static inline void dlist_remove(struct dlist *l, struct dlist_node *n) {
    if (n->prev)
        n->prev->next = n->next;
    else
        l->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        l->tail = n->prev;
    n->prev = n->next = NULL;
}

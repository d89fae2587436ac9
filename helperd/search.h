/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * search.h: the search list and ndots, as glibc's resolver applies them.
 * Pure: no I/O, no logging, no globals (resolvconf.c reads /etc/resolv.conf
 * and the host name and hands them in).
 *
 * search_conf_parse() reads resolv.conf text the way glibc 2.36's res_init
 * does: "domain X" and "search X Y ..." (the last such line wins; "domain"
 * makes a one-entry list), "options ndots:N" (capped at 15) and
 * "no-tld-query"; lines starting with '#' or ';' are comments. With no
 * search list, the host name's domain (after its first dot) is the list.
 * LOCALDOMAIN and RES_OPTIONS are per-process settings of a program and are
 * not looked at. At most SEARCH_MAX_DOMAINS entries are kept.
 *
 * search_begin/next/report walk the names to ask for one looked-up name,
 * exactly as glibc's res_search does: a name with at least ndots dots (or a
 * trailing dot) is tried as is first; a trailing dot ends the search there;
 * then each search domain; then the name as is, if not yet tried. A name
 * found (an answer with records) ends the search; NXDOMAIN and NODATA go on
 * to the next name, as does SERVFAIL; anything else ends the search list
 * (the as-is name is still tried). When nothing is found, the verdict is
 * that of the first as-is try, else NODATA if any name had no data, else
 * TRYAGAIN if any SERVFAIL, else that of the last name tried.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "dname.h"

#define SEARCH_MAX_DOMAINS 32
#define SEARCH_MAX_NDOTS   15
/* A name to ask, as text: glibc's MAXDNAME (1025, with the NUL). Names are
 * joined and measured as text, as glibc's res_search joins them; the
 * resolver then converts each to wire form (dname.h). */
#define SEARCH_MAX_NAME DNAME_MAX_PRESENTATION

struct search_conf {
    unsigned refs; /* owned by the resolver; jobs hold references */
    unsigned ndots;
    bool no_tld_query;
    size_t n_domains;
    char domains[SEARCH_MAX_DOMAINS][SEARCH_MAX_NAME];
};

/* Fills conf (refs untouched) from resolv.conf text (len bytes, need not be
 * NUL-terminated; NULL for "no file") and the host name (may be NULL). */
void search_conf_parse(struct search_conf *conf, const char *text, size_t len,
                       const char *hostname);

/* The daemon's own settings win over resolv.conf: a set search list
 * replaces the list (even when empty), ndots >= 0 replaces ndots. */
void search_conf_override(struct search_conf *conf, bool search_set, char *const *search,
                          size_t n_search, int ndots);

/* Whether a and b make every lookup ask the same names (refs not compared). */
bool search_conf_equal(const struct search_conf *a, const struct search_conf *b);

/* How one name fared (A and AAAA merged as res_query merges them). */
enum search_outcome {
    SEARCH_FOUND,      /* NOERROR with records: the search ends */
    SEARCH_NXDOMAIN,   /* HOST_NOT_FOUND */
    SEARCH_NODATA,     /* NO_DATA */
    SEARCH_SERVFAIL,   /* TRY_AGAIN from a SERVFAIL: the search goes on */
    SEARCH_TRYAGAIN,   /* TRY_AGAIN otherwise (timeout): the list ends */
    SEARCH_NORECOVERY, /* NO_RECOVERY (an unusable name, a strange rcode) */
};

struct search_iter {
    const struct search_conf *conf;
    const char *name;
    unsigned dots;
    bool trailing_dot;
    int phase;
    size_t idx;
    int saved; /* outcome of the first as-is try, -1: none */
    int last;  /* outcome of the last name tried */
    bool tried_as_is, root_on_list, searched, list_done, got_nodata, got_servfail, found;
};

/* name must stay valid (and unchanged) while the iterator is used. */
void search_begin(struct search_iter *it, const struct search_conf *conf, const char *name);
/* Writes the next name to ask into buf (SEARCH_MAX_NAME bytes); false when
 * the search is over. Names that cannot be asked because they are too long
 * as text (glibc's res_querydomain: name + "." + domain of MAXDNAME octets
 * or more) are skipped here, counted as NO_RECOVERY, as glibc counts them;
 * a name that has no wire form is the caller's to report. */
bool search_next(struct search_iter *it, char buf[SEARCH_MAX_NAME]);
/* Reports how the name from the last search_next() fared. */
void search_report(struct search_iter *it, enum search_outcome o);
/* The verdict (IPC_STATUS_*) for one outcome. */
unsigned search_outcome_status(int outcome);
/* The verdict (IPC_STATUS_*) when the search ended without FOUND. */
unsigned search_status(const struct search_iter *it);

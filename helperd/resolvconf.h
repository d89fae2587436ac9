/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * resolvconf.h: owns reading /etc/resolv.conf for the search list and ndots.
 *
 * The file is parsed (search.h), the config's search/ndots put over it (they
 * win), and the result handed to the callback. A file that cannot be read
 * (missing, not a regular file, no permission) gives glibc's defaults for a
 * missing file (no search list but the host name's domain, ndots 1), with a
 * warning.
 */
#pragma once

#include "config.h"
#include "loop.h"
#include "search.h"

#define RESOLVCONF_PATH "/etc/resolv.conf"

struct resolvconf;

/* Receives a new list, with one reference (refs == 1) that becomes the
 * callee's; it is malloc()ed, and free() releases it. */
typedef void (*resolvconf_cb)(void *userdata, struct search_conf *conf);

/* Reads path (absolute) and calls cb with the list before returning 0. cfg
 * must outlive the reader or the next resolvconf_set_config(). -ENOMEM. */
int resolvconf_new(struct loop *l, const char *path, const struct config *cfg, resolvconf_cb cb,
                   void *userdata, struct resolvconf **ret_watch);
/* For a reload: the config's search/ndots from now on (cb runs at once when
 * the list changes). */
void resolvconf_set_config(struct resolvconf *w, const struct config *cfg);
void resolvconf_free(struct resolvconf *w);

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * resolvconf.h: owns reading /etc/resolv.conf for the search list and ndots,
 * and noticing on its own when it changes while the daemon runs (glibc since
 * 2.26 re-reads it too, and VPN and DHCP clients change the search list).
 *
 * Watching: inotify on the directory holding the file and, when the path is a
 * symlink, on the directory of every link of the chain and of the file it
 * ends at (re-resolved after each change: resolvconf and NetworkManager swap
 * symlinks and rename files over their targets). That sees a file written in
 * place, renamed over, removed, or a symlink swapped. Events settle for
 * RESOLVCONF_SETTLE_MS; then a stat of the path (device, inode, size, mtime,
 * ctime, as glibc compares them) decides whether to read the file again. The
 * same stat also runs every RESOLVCONF_POLL_MS (RESOLVCONF_POLL_DEGRADED_MS
 * while a directory could not be watched), for what inotify cannot report,
 * such as a mount over the file.
 *
 * Each read is parsed (search.h), the config's search/ndots put over it (they
 * win), and the result handed to the callback only when it differs from the
 * last one handed over. A file that cannot be read (missing, not a regular
 * file, no permission) keeps the last good list, with one warning until it
 * can be read again; at start, with no good list yet, glibc's defaults for a
 * missing file apply (no search list but the host name's domain, ndots 1).
 */
#pragma once

#include "config.h"
#include "loop.h"
#include "search.h"

#define RESOLVCONF_PATH             "/etc/resolv.conf"
#define RESOLVCONF_SETTLE_MS        100
#define RESOLVCONF_POLL_MS          5000
#define RESOLVCONF_POLL_DEGRADED_MS 1000

struct resolvconf;

/* Receives a new list, with one reference (refs == 1) that becomes the
 * callee's; it is malloc()ed, and free() releases it. */
typedef void (*resolvconf_cb)(void *userdata, struct search_conf *conf);

/* Reads path (absolute) and calls cb with the first list before returning 0;
 * later calls come from the loop. cfg must outlive the watcher or the next
 * resolvconf_set_config(). -ENOMEM; a failure to watch is not an error (it is
 * logged, and the periodic stat takes over). */
int resolvconf_new(struct loop *l, const char *path, const struct config *cfg, resolvconf_cb cb,
                   void *userdata, struct resolvconf **ret_watch);
/* For a reload: the config's search/ndots from now on (cb runs at once when
 * the list changes). */
void resolvconf_set_config(struct resolvconf *w, const struct config *cfg);
void resolvconf_free(struct resolvconf *w);

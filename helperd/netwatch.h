/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netwatch.h: tells the daemon when the host's addresses or routes change
 * (rtnetlink), so the upstream pool can forget backoff and re-check its
 * connections. Bursts of kernel messages are coalesced into one callback.
 */
#pragma once

#include "loop.h"

struct netwatch;

/* cb runs from the loop, at most once per NETWATCH_SETTLE_MS burst. */
int netwatch_new(struct loop *l, void (*cb)(void *userdata), void *userdata,
                 struct netwatch **ret_watch);
void netwatch_free(struct netwatch *w);

#define NETWATCH_SETTLE_MS 200

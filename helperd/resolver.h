/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * resolver.h: turns one module request into DNS questions and one reply.
 *
 * Owns the lookup semantics: A and AAAA in parallel for AF_UNSPEC (A first
 * in the reply, as nss_dns orders them), PTR names for reverse lookups,
 * CNAME chains (canonical name + aliases), the smallest TTL, and the
 * verdict (OK / NXDOMAIN / NODATA / TRYAGAIN) that the module maps to NSS
 * status codes. Every job ends by the query deadline (timeouts.query_ms).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ipc.h"
#include "loop.h"
#include "upstream.h"

struct resolver;
struct resolver_job;

/* Receives the encoded reply frame (valid during the call). Never called
 * before resolver_start() returns; not called after resolver_cancel(). The
 * job is gone once it has been called. */
typedef void (*resolver_cb)(void *userdata, const uint8_t *frame, size_t len);

int resolver_new(struct loop *l, const struct config *cfg, struct upstream_pool *pool,
                 struct resolver **ret_resolver);
/* Cancels every job still running (no callbacks). */
void resolver_free(struct resolver *r);

int resolver_start(struct resolver *r, const struct ipc_request *req, resolver_cb cb,
                   void *userdata, struct resolver_job **ret_job);
void resolver_cancel(struct resolver_job *job);

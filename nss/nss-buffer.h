/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nss-buffer.h: packs a decoded daemon reply into the caller's buffer as a
 * struct hostent or a gaih_addrtuple list. The size is computed first; when
 * it does not fit, nothing is written and -ERANGE comes back, which the entry
 * points turn into NSS_STATUS_TRYAGAIN + ERANGE so glibc retries larger.
 */
#pragma once

#include <netdb.h>
#include <nss.h>
#include <stddef.h>

#include "ipc.h"

/* hostent with h_name = canonical name, h_aliases = the view's aliases, and
 * the view's addresses of family af (AF_INET or AF_INET6) only. 0, -ERANGE,
 * or -ENOENT when the view has no address of that family. */
int nss_pack_hostent(const struct ipc_reply_view *v, int af, struct hostent *ret_host, char *buf,
                     size_t buflen);

/* hostent for a reverse lookup: h_name and h_aliases from the view, and one
 * address, the len bytes at addr (the caller's address, whatever its length:
 * see nss-addr.h), with h_addrtype = af and h_length = len. 0, -ERANGE, or
 * -ENOENT when the view is not an answer. */
int nss_pack_hostent_addr(const struct ipc_reply_view *v, int af, const void *addr, size_t len,
                          struct hostent *ret_host, char *buf, size_t buflen);

/* A gaih_addrtuple list over every address in the view, each tuple naming the
 * canonical name; *ret_pat is set as glibc expects (when it already points at
 * a tuple, that tuple receives the first entry). 0, -ERANGE or -ENOENT. */
int nss_pack_gaih(const struct ipc_reply_view *v, struct gaih_addrtuple **ret_pat, char *buf,
                  size_t buflen);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nss-addr.h: which address a reverse lookup asks for, and which address its
 * hostent carries, decided as glibc's nss_dns decides (glibc 2.36,
 * resolv/nss_dns/dns-host.c, _nss_dns_gethostbyaddr2_r). Pure, libc only.
 *
 * - AF_INET6 with a length of exactly 16 that is IPv4-mapped (::ffff:a.b.c.d)
 *   or IPv4-compatible (::a.b.c.d, the first 12 bytes zero) is "unmapped":
 *   looked up as the IPv4 address a.b.c.d in in-addr.arpa, and answered as
 *   AF_INET with length 4. ::1 (::0.0.0.1) is the one compatible address
 *   that stays IPv6. :: itself unmaps to 0.0.0.0 here, as in nss_dns; glibc's
 *   gethostbyaddr_r answers HOST_NOT_FOUND for an all-zero 16-byte address
 *   before any module is called, so only a direct call gets that far.
 * - Otherwise the length must be at least the family's (4 or 16); the first
 *   4 or 16 bytes are looked up, and the hostent carries all len bytes the
 *   caller passed, with h_length = len. nss_dns copies them into a 16-byte
 *   slot and overruns it past 16; the module copies them into the caller's
 *   buffer instead (ERANGE when they do not fit), so any length is safe.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct nss_reverse {
    int af;              /* AF_INET or AF_INET6, after unmapping: h_addrtype */
    const uint8_t *addr; /* points into the caller's address; its first 4 or
                            16 bytes are looked up, all len go in the hostent */
    size_t len;          /* h_length */
};

/* 0, or -EAFNOSUPPORT for another family, a length short of the family's,
 * or a NULL address (nss_dns: UNAVAIL, EAFNOSUPPORT, NETDB_INTERNAL). */
int nss_reverse_target(int af, const void *addr, size_t len, struct nss_reverse *ret);

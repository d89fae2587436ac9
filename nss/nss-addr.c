/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nss-addr.c: the reverse-lookup address rules described in nss-addr.h. */
#include "nss-addr.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

int nss_reverse_target(int af, const void *addr, size_t len, struct nss_reverse *ret) {
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t zeros[12] = {0};
    static const uint8_t loopback4[4] = {0, 0, 0, 1};
    const uint8_t *a = addr;
    if (!a)
        return -EAFNOSUPPORT;
    if (af == AF_INET6 && len == 16 &&
        (memcmp(a, mapped, 12) == 0 ||
         (memcmp(a, zeros, 12) == 0 && memcmp(a + 12, loopback4, 4) != 0))) {
        a += 12;
        len = 4;
        af = AF_INET;
    }
    size_t need = af == AF_INET ? 4 : af == AF_INET6 ? 16 : 0;
    if (need == 0 || len < need)
        return -EAFNOSUPPORT;
    *ret = (struct nss_reverse){.af = af, .addr = a, .len = len};
    return 0;
}

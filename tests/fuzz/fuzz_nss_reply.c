/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz_nss_reply.c: libFuzzer target for the module's side of a reply: the
 * IPC reply decoder (common/ipc.c) and the packing of a decoded reply into
 * the caller's buffer (nss/nss-buffer.c), which is what runs inside every
 * program.
 *
 * Input: 2 octets of buffer length (0..65535), 1 octet choosing the packer
 * and family, then the reply body. Whatever decodes is packed into a buffer
 * of exactly that length (ASan sees any write past it); a result must point
 * only inside the buffer, and -ERANGE must leave the buffer untouched.
 * Seeds are in corpus_nss_reply/.
 */
#include "ipc.h"
#include "nss-buffer.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const void *p, size_t n, const char *buf, size_t buflen) {
    const char *c = p;
    return c >= buf && c + n <= buf + buflen;
}

static void check_hostent(const struct hostent *h, const char *buf, size_t buflen) {
    assert(inside(h->h_name, strlen(h->h_name) + 1, buf, buflen));
    for (char **a = h->h_aliases;; a++) {
        assert(inside(a, sizeof(*a), buf, buflen));
        if (!*a)
            break;
        assert(inside(*a, strlen(*a) + 1, buf, buflen));
    }
    for (char **a = h->h_addr_list;; a++) {
        assert(inside(a, sizeof(*a), buf, buflen));
        if (!*a)
            break;
        assert(inside(*a, (size_t)h->h_length, buf, buflen));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3)
        return 0;
    size_t buflen = ((size_t)data[0] << 8) | data[1];
    uint8_t mode = data[2];
    data += 3;
    size -= 3;

    /* The decoder reads exactly the body it is given: a copy of that size. */
    uint8_t *body = malloc(size ? size : 1);
    memcpy(body, data, size);
    struct ipc_reply_view v;
    if (ipc_reply_decode(body, size, &v) < 0) {
        free(body);
        return 0;
    }
    char *buf = malloc(buflen ? buflen : 1);
    memset(buf, 0xA5, buflen);
    int af = (mode & 1) ? AF_INET6 : AF_INET;
    int r;
    switch ((mode >> 1) % 3) {
    case 0: {
        struct hostent h;
        r = nss_pack_hostent(&v, af, &h, buf, buflen);
        if (r == 0)
            check_hostent(&h, buf, buflen);
        break;
    }
    case 1: {
        static const uint8_t addr[20] = {192, 0, 2, 1, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
        size_t alen = (af == AF_INET ? 4 : 16) + (mode >> 3) % 5;
        struct hostent h;
        r = nss_pack_hostent_addr(&v, af, addr, alen, &h, buf, buflen);
        if (r == 0) {
            check_hostent(&h, buf, buflen);
            assert((size_t)h.h_length == alen);
        }
        break;
    }
    default: {
        struct gaih_addrtuple caller = {0}, *pat = (mode & 8) ? &caller : NULL;
        r = nss_pack_gaih(&v, &pat, buf, buflen);
        if (r == 0) {
            unsigned n = 0;
            for (struct gaih_addrtuple *t = pat; t; t = t->next, n++) {
                assert(t == &caller || inside(t, sizeof(*t), buf, buflen));
                assert(!t->name || inside(t->name, strlen(t->name) + 1, buf, buflen));
                assert(t->family == AF_INET || t->family == AF_INET6);
            }
            assert(n == v.n_addrs);
        }
        break;
    }
    }
    assert(r == 0 || r == -ERANGE || r == -ENOENT);
    if (r == -ERANGE)
        for (size_t i = 0; i < buflen; i++)
            assert((uint8_t)buf[i] == 0xA5);
    free(buf);
    free(body);
    return 0;
}

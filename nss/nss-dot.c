/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nss-dot.c: the glibc NSS entry points of libnss_dot.so.2. Each one chains
 * down to lookup(), which asks dot-helperd and maps its verdict.
 *
 * Status policy (as nss_dns, see DESIGN.md invariant 3):
 *   found                      SUCCESS
 *   NXDOMAIN, not a host name  NOTFOUND, h_errno HOST_NOT_FOUND (the latter
 *                              without asking, except in gethostbyname3_r)
 *   no address of that family  NOTFOUND, h_errno NO_DATA
 *   records, but none usable (e.g. a CNAME chain without an address of that
 *   family)                    TRYAGAIN, errno ENOENT, h_errno NO_RECOVERY
 *   SERVFAIL, timeout, no upstream usable, daemon too slow or its backlog full,
 *   daemon closed after taking the request
 *                              TRYAGAIN, errno EAGAIN, h_errno TRY_AGAIN
 *   search list: a SERVFAIL, then the last name NXDOMAIN/NODATA
 *                              NOTFOUND, errno EAGAIN, h_errno TRY_AGAIN
 *   a name that can't be asked (no wire form, empty, too long), a refusing
 *   server, a first PTR name that is not a host name
 *                              NOTFOUND, h_errno NO_RECOVERY
 *   by address: SERVFAIL, timeout, daemon too slow or full
 *                              NOTFOUND, errno untouched, h_errno TRY_AGAIN
 *   buffer too small           TRYAGAIN, errno ERANGE, h_errno NETDB_INTERNAL
 *   no daemon, bad reply       UNAVAIL, errno from the socket, h_errno NO_RECOVERY
 *   unsupported family         UNAVAIL, errno EAFNOSUPPORT, h_errno NO_DATA (by name)
 *                              or NETDB_INTERNAL (by address), as nss_dns
 * errno is left as found unless *errnop is set (glibc passes &errno).
 * Output parameters are untouched on failure.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <nss.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dname.h"
#include "ipc.h"
#include "nss-addr.h"
#include "nss-buffer.h"
#include "nss-client.h"
#include "nss-map.h"

#define EXPORT __attribute__((visibility("default")))

EXPORT enum nss_status _nss_dot_gethostbyname4_r(const char *name, struct gaih_addrtuple **pat,
                                                 char *buffer, size_t buflen, int *errnop,
                                                 int *h_errnop, int32_t *ttlp);
EXPORT enum nss_status _nss_dot_gethostbyname3_r(const char *name, int af, struct hostent *host,
                                                 char *buffer, size_t buflen, int *errnop,
                                                 int *h_errnop, int32_t *ttlp, char **canonp);
EXPORT enum nss_status _nss_dot_gethostbyname2_r(const char *name, int af, struct hostent *host,
                                                 char *buffer, size_t buflen, int *errnop,
                                                 int *h_errnop);
EXPORT enum nss_status _nss_dot_gethostbyname_r(const char *name, struct hostent *host,
                                                char *buffer, size_t buflen, int *errnop,
                                                int *h_errnop);
EXPORT enum nss_status _nss_dot_gethostbyaddr2_r(const void *addr, socklen_t len, int af,
                                                 struct hostent *host, char *buffer, size_t buflen,
                                                 int *errnop, int *h_errnop, int32_t *ttlp);
EXPORT enum nss_status _nss_dot_gethostbyaddr_r(const void *addr, socklen_t len, int af,
                                                struct hostent *host, char *buffer, size_t buflen,
                                                int *errnop, int *h_errnop);

/* Where a lookup's answer goes: a hostent, or a gaih_addrtuple list. */
struct result {
    int af;                      /* AF_INET/AF_INET6 for hostent, AF_UNSPEC for gaih */
    struct hostent *host;        /* hostent results */
    struct gaih_addrtuple **pat; /* gaih results */
    char **canonp;
    int32_t *ttlp;
    /* nss_dns's check_name: gethostbyname_r, _2_r and _4_r answer a name
     * that is not a host name (res_hnok) NOTFOUND / HOST_NOT_FOUND without
     * asking; gethostbyname3_r asks for any name. */
    bool check_name;
    const void *addr; /* reverse lookups: the address the hostent carries */
    size_t addr_len;
};

struct verdict {
    enum nss_status status;
    int err; /* 0: leave errno alone */
    int herr;
};

static struct verdict verdict(enum nss_status status, int err, int herr) {
    return (struct verdict){status, err, herr};
}

/* Signals that could interrupt us half way; blocked for the socket round
 * trip, as nss-resolve does, so a handler can't run with our socket half
 * read. An answer from the map makes no syscall, so needs no mask. */
static void block_signals(sigset_t *old) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    sigaddset(&set, SIGVTALRM);
    sigaddset(&set, SIGPIPE);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTSTP);
    sigaddset(&set, SIGIO);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGPROF);
    sigaddset(&set, SIGURG);
    sigaddset(&set, SIGWINCH);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

static struct verdict map_status(uint8_t st) {
    switch (st) {
    case IPC_STATUS_NXDOMAIN:
        return verdict(NSS_STATUS_NOTFOUND, 0, HOST_NOT_FOUND);
    case IPC_STATUS_NODATA:
        return verdict(NSS_STATUS_NOTFOUND, 0, NO_DATA);
    case IPC_STATUS_TRYAGAIN:
        return verdict(NSS_STATUS_TRYAGAIN, EAGAIN, TRY_AGAIN);
    case IPC_STATUS_NORECOVERY:
        return verdict(NSS_STATUS_TRYAGAIN, ENOENT, NO_RECOVERY);
    case IPC_STATUS_NOTFOUND_TRYAGAIN:
        return verdict(NSS_STATUS_NOTFOUND, EAGAIN, TRY_AGAIN);
    case IPC_STATUS_NOTFOUND_NORECOVERY:
        return verdict(NSS_STATUS_NOTFOUND, 0, NO_RECOVERY);
    default:
        return verdict(NSS_STATUS_UNAVAIL, EPROTO, NO_RECOVERY);
    }
}

/* Why a request that the live map could not answer goes to the socket. */
static uint8_t ask_cause(enum map_result m) {
    switch (m) {
    case MAP_MISS:
        return IPC_ASK_MAP_MISS;
    case MAP_EXPIRED:
        return IPC_ASK_MAP_EXPIRED;
    case MAP_BUSY:
        return IPC_ASK_MAP_BUSY;
    case MAP_INVALID:
        return IPC_ASK_MAP_INVALID;
    default:
        return IPC_ASK_PLAIN;
    }
}

/* The daemon's answer: from its answer map when it has one (no syscall),
 * else over the socket. Either way the same reply body. */
static struct verdict transact(uint8_t *req, size_t req_len, struct result *res, char *buffer,
                               size_t buflen) {
    uint8_t mapped[MAP_FRAME_MAX];
    uint8_t *body = NULL;
    size_t len = 0;
    int r = 0;
    enum map_result m = nss_map_lookup(req, req_len, mapped, &len);
    if (m == MAP_HIT) {
        body = mapped;
    } else {
        /* The map keys on the request with flags 0; the cause only goes to
         * a daemon whose map is live, which knows the bits. */
        if (m != MAP_DEAD && req[3] == IPC_OP_BYNAME)
            req[IPC_HEADER_LEN + 1] = ask_cause(m);
        sigset_t old;
        block_signals(&old);
        r = nss_client_transact(req, req_len, &body, &len);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    /* A daemon that is there but slow or full is not "unavailable": under
     * "dot [!UNAVAIL=return] dns" that would send the name out in plaintext.
     * Nor is one that took the request and then failed it in any way (closed
     * early, shed this client, died, replied with garbage: -EPROTO): it was
     * there, the name was asked, and only a retry is right. */
    if (r == -ETIMEDOUT || r == -EAGAIN || r == -EPROTO)
        return verdict(NSS_STATUS_TRYAGAIN, EAGAIN, TRY_AGAIN);
    if (r < 0)
        return verdict(NSS_STATUS_UNAVAIL, -r, NO_RECOVERY);

    struct ipc_reply_view v;
    struct verdict out;
    if (ipc_reply_decode(body, len, &v) < 0) {
        out = verdict(NSS_STATUS_TRYAGAIN, EAGAIN, TRY_AGAIN); /* as above */
    } else if (v.status != IPC_STATUS_OK) {
        out = map_status(v.status);
    } else {
        if (res->pat)
            r = nss_pack_gaih(&v, res->pat, buffer, buflen);
        else if (res->addr)
            r = nss_pack_hostent_addr(&v, res->af, res->addr, res->addr_len, res->host, buffer,
                                      buflen);
        else
            r = nss_pack_hostent(&v, res->af, res->host, buffer, buflen);
        if (r == -ERANGE) {
            out = verdict(NSS_STATUS_TRYAGAIN, ERANGE, NETDB_INTERNAL);
        } else if (r < 0) {
            out = verdict(NSS_STATUS_NOTFOUND, 0, NO_DATA);
        } else {
            out = verdict(NSS_STATUS_SUCCESS, 0, NETDB_SUCCESS);
            if (res->ttlp)
                *res->ttlp = (int32_t)(v.ttl > INT32_MAX ? INT32_MAX : v.ttl);
            if (res->canonp && res->host)
                *res->canonp = res->host->h_name;
        }
    }
    if (body != mapped)
        free(body);
    return out;
}

/* Reports a lookup's verdict, errno as it was unless the verdict sets it. */
static enum nss_status finish(struct verdict v, int saved_errno, int *errnop, int *h_errnop) {
    errno = saved_errno;
    if (v.err)
        *errnop = v.err;
    *h_errnop = v.herr;
    return v.status;
}

static enum nss_status lookup_name(const char *name, struct result *res, char *buffer,
                                   size_t buflen, int *errnop, int *h_errnop) {
    int saved_errno = errno;
    struct verdict v;
    uint8_t family = res->af == AF_INET    ? IPC_AF_INET
                     : res->af == AF_INET6 ? IPC_AF_INET6
                                           : IPC_AF_UNSPEC;
    uint8_t req[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY];
    int n;
    /* The name first, then the family, in nss_dns's order. */
    if (!name || (res->check_name && !dname_text_hnok(name)))
        v = verdict(NSS_STATUS_NOTFOUND, 0, HOST_NOT_FOUND);
    else if (res->af != AF_INET && res->af != AF_INET6 && res->af != AF_UNSPEC)
        v = verdict(NSS_STATUS_UNAVAIL, EAFNOSUPPORT, NO_DATA); /* as nss_dns */
    else if ((n = ipc_request_encode_byname(req, sizeof(req), family, name)) < 0)
        /* Longer than glibc's resolver takes (MAXDNAME): res_search fails
         * with NO_RECOVERY before asking. */
        v = verdict(NSS_STATUS_NOTFOUND, 0, NO_RECOVERY);
    else
        v = transact(req, (size_t)n, res, buffer, buflen);
    return finish(v, saved_errno, errnop, h_errnop);
}

enum nss_status _nss_dot_gethostbyname4_r(const char *name, struct gaih_addrtuple **pat,
                                          char *buffer, size_t buflen, int *errnop, int *h_errnop,
                                          int32_t *ttlp) {
    struct result res = {.af = AF_UNSPEC, .pat = pat, .ttlp = ttlp, .check_name = true};
    return lookup_name(name, &res, buffer, buflen, errnop, h_errnop);
}

static enum nss_status by_name_hostent(const char *name, int af, struct hostent *host, char *buffer,
                                       size_t buflen, int *errnop, int *h_errnop, int32_t *ttlp,
                                       char **canonp, bool check_name) {
    /* A hostent holds one family: AF_UNSPEC is refused with EAFNOSUPPORT,
     * as nss_dns does (lookup_name() refuses any other family). */
    struct result res = {.af = af == AF_UNSPEC ? -1 : af,
                         .host = host,
                         .ttlp = ttlp,
                         .canonp = canonp,
                         .check_name = check_name};
    return lookup_name(name, &res, buffer, buflen, errnop, h_errnop);
}

enum nss_status _nss_dot_gethostbyname3_r(const char *name, int af, struct hostent *host,
                                          char *buffer, size_t buflen, int *errnop, int *h_errnop,
                                          int32_t *ttlp, char **canonp) {
    return by_name_hostent(name, af, host, buffer, buflen, errnop, h_errnop, ttlp, canonp, false);
}

enum nss_status _nss_dot_gethostbyname2_r(const char *name, int af, struct hostent *host,
                                          char *buffer, size_t buflen, int *errnop, int *h_errnop) {
    return by_name_hostent(name, af, host, buffer, buflen, errnop, h_errnop, NULL, NULL, true);
}

enum nss_status _nss_dot_gethostbyname_r(const char *name, struct hostent *host, char *buffer,
                                         size_t buflen, int *errnop, int *h_errnop) {
    return by_name_hostent(name, AF_INET, host, buffer, buflen, errnop, h_errnop, NULL, NULL, true);
}

enum nss_status _nss_dot_gethostbyaddr2_r(const void *addr, socklen_t len, int af,
                                          struct hostent *host, char *buffer, size_t buflen,
                                          int *errnop, int *h_errnop, int32_t *ttlp) {
    int saved_errno = errno;
    struct verdict v;
    struct nss_reverse rev;
    uint8_t req[IPC_HEADER_LEN + IPC_MAX_REQUEST_BODY];
    int n;
    /* Which address is asked for, and which the answer carries: as nss_dns
     * (mapped and compatible IPv4 in IPv6, any length from the family's up). */
    if (nss_reverse_target(af, addr, len, &rev) < 0)
        v = verdict(NSS_STATUS_UNAVAIL, EAFNOSUPPORT, NETDB_INTERNAL);
    else if ((n = ipc_request_encode_byaddr(req, sizeof(req),
                                            rev.af == AF_INET ? IPC_AF_INET : IPC_AF_INET6,
                                            rev.addr, rev.af == AF_INET ? 4 : 16)) < 0)
        v = verdict(NSS_STATUS_UNAVAIL, EINVAL, NETDB_INTERNAL);
    else {
        struct result res = {
            .af = rev.af, .host = host, .ttlp = ttlp, .addr = rev.addr, .addr_len = rev.len};
        v = transact(req, (size_t)n, &res, buffer, buflen);
        /* nss_dns reports every failed PTR query as NOTFOUND, the resolver's
         * h_errno kept (SERVFAIL, timeout: TRY_AGAIN); ERANGE stays TRYAGAIN. */
        if (v.status == NSS_STATUS_TRYAGAIN && v.err == EAGAIN)
            v = verdict(NSS_STATUS_NOTFOUND, 0, TRY_AGAIN);
    }
    return finish(v, saved_errno, errnop, h_errnop);
}

enum nss_status _nss_dot_gethostbyaddr_r(const void *addr, socklen_t len, int af,
                                         struct hostent *host, char *buffer, size_t buflen,
                                         int *errnop, int *h_errnop) {
    return _nss_dot_gethostbyaddr2_r(addr, len, af, host, buffer, buflen, errnop, h_errnop, NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ipc.h: the wire contract between libnss_dot.so.2 and dot-helperd.
 *
 * Compiled into both sides; libc only, pure (no I/O, no globals, no logging).
 * One request and one reply per connection; the module closes after the reply.
 * All integers are big-endian.
 *
 * Frame (both directions):
 *   off  size  field
 *   0    2     magic      0x4E 0x44 ("ND")
 *   2    1     version    IPC_VERSION (1); a peer answers any other with
 *                         IPC_STATUS_UNAVAIL and closes
 *   3    1     op         IPC_OP_*
 *   4    4     body_len   bytes that follow; <= IPC_MAX_REQUEST_BODY for
 *                         requests, <= IPC_MAX_REPLY_BODY for replies
 *
 * IPC_OP_BYNAME body:
 *   0    1     family     IPC_AF_UNSPEC | IPC_AF_INET | IPC_AF_INET6
 *   1    1     flags      bits 0-2: why the module asks (IPC_ASK_*): 0, or
 *                         the reason the answer map could not answer, set
 *                         only while a map of the daemon is live (so never
 *                         to a daemon that does not publish one); bits 3-7
 *                         reserved, must be 0
 *   2    2     name_len   0..IPC_MAX_QUERY_NAME, no NUL inside, no terminator
 *                         sent: the name as the program gave it (text, with
 *                         any escapes; the daemon converts it as glibc does)
 *   4    n     name
 *
 * IPC_OP_BYADDR body:
 *   0    1     family     IPC_AF_INET (addr_len 4) | IPC_AF_INET6 (addr_len 16)
 *   1    1     addr_len
 *   2    n     address, network order
 *
 * IPC_OP_REPLY body:
 *   0    1     status     IPC_STATUS_*
 *   1    1     flags      0 (reserved)
 *   2    2     n_aliases  <= IPC_MAX_ALIASES
 *   4    2     n_addrs    <= IPC_MAX_ADDRS
 *   6    2     canon_len  0..IPC_MAX_NAME (0 unless status is OK)
 *   8    4     ttl        seconds, the smallest TTL of the records used
 *   12   n     canonical name
 *   then n_aliases x { 2 len (1..IPC_MAX_NAME), name }
 *   then n_addrs   x { 1 family (IPC_AF_INET|IPC_AF_INET6), 4 or 16 bytes }
 *
 * For BYNAME, canon is the name that owns the addresses (end of the CNAME
 * chain) and the aliases are the names the chain went through. For BYADDR,
 * canon is the target of the first PTR record owned by the end of the chain,
 * which must be a host name (res_hnok) or the lookup is NORECOVERY, as
 * nss_dns reads it (it returns only that one name); no aliases, and the
 * single address is the one asked for.
 *
 * Decoders reject a wrong magic, version or op, any length over its bound,
 * short bodies and trailing bytes: a frame decodes exactly or not at all.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPC_MAGIC0     0x4E
#define IPC_MAGIC1     0x44
#define IPC_VERSION    1
#define IPC_HEADER_LEN 8

/*
 * Why each bound is what it is. None may cut an answer short: nss_dns hands
 * back everything one DNS message over TCP (64 KiB) carries, and so must we.
 *   IPC_MAX_QUERY_NAME  glibc's resolver takes names as text of up to
 *                       MAXDNAME - 1 (1024) characters (escapes make text
 *                       longer than the 255 octets on the wire).
 *   IPC_MAX_NAME        names in replies are host names (res_hnok): no
 *                       escapes, so at most 253 characters, plus one
 *                       trailing dot for good measure.
 *   IPC_MAX_ALIASES     the most CNAME hops one 65535-octet message holds:
 *                       after the 12-octet header and a 5-octet question,
 *                       each hop takes at least 16 octets (compressed owner
 *                       2, fixed fields 10, a target of one new 1-octet
 *                       label and a pointer 4): 65518 / 16 = 4094.
 *   IPC_MAX_ADDRS       the most addresses an AF_UNSPEC lookup merges: one
 *                       message of A records (16 octets each: 4094) plus
 *                       one of AAAA records (28 octets each: 2339).
 * The largest reply is then about 1.1 MiB; the module reads the length
 * first and allocates what the reply needs, not the bound.
 */
#define IPC_MAX_QUERY_NAME   1024
#define IPC_MAX_NAME         254
#define IPC_MAX_ALIASES      4094
#define IPC_MAX_ADDRS        (4094 + 2339)
#define IPC_MAX_REQUEST_BODY (4 + IPC_MAX_QUERY_NAME)
#define IPC_MAX_REPLY_BODY                                                                         \
    (12 + IPC_MAX_NAME + IPC_MAX_ALIASES * (2 + IPC_MAX_NAME) + IPC_MAX_ADDRS * 17)

enum ipc_op {
    IPC_OP_BYNAME = 1,
    IPC_OP_BYADDR = 2,
    IPC_OP_REPLY = 3,
};

enum ipc_family {
    IPC_AF_UNSPEC = 0,
    IPC_AF_INET = 4,
    IPC_AF_INET6 = 6,
};

/* The daemon's verdict; the module maps it to NSS status and h_errno. */
enum ipc_status {
    IPC_STATUS_OK = 0,
    IPC_STATUS_NXDOMAIN = 1, /* NOTFOUND / HOST_NOT_FOUND */
    IPC_STATUS_NODATA = 2,   /* NOTFOUND / NO_DATA */
    IPC_STATUS_TRYAGAIN = 3, /* SERVFAIL, timeout, no upstream usable */
    IPC_STATUS_UNAVAIL = 4,  /* the daemon can't serve this (bad request, overload) */
    /* An answer with records (a CNAME chain, other types) but none usable:
     * nss_dns calls that unrecoverable (TRYAGAIN / NO_RECOVERY, errno ENOENT). */
    IPC_STATUS_NORECOVERY = 5,
    /* The search list met a SERVFAIL, went on, and its last name was
     * answered (NXDOMAIN/NODATA): nss_dns then says NOTFOUND with h_errno
     * TRY_AGAIN (errno EAGAIN). */
    IPC_STATUS_NOTFOUND_TRYAGAIN = 6,
    /* The name could not be asked (no wire form, an empty name, too long
     * with a search domain), the server refused it (REFUSED, FORMERR,
     * NOTIMP), or the first PTR name is not a host name: nss_dns says
     * NOTFOUND (UNAVAIL for the PTR, see libnss_dot(8)) with h_errno
     * NO_RECOVERY and errno untouched. */
    IPC_STATUS_NOTFOUND_NORECOVERY = 7,
    IPC_STATUS_MAX_ = 7,
};

/* Why a BYNAME request reached the socket (the flags byte, bits 0-2). The
 * daemon counts them (dot-helperctl stats): the map's misses cost no syscall
 * to count. Reverse requests carry no flags byte. */
enum ipc_ask {
    IPC_ASK_PLAIN = 0,       /* no live map (or an older module) */
    IPC_ASK_MAP_MISS = 1,    /* the map has no entry for it */
    IPC_ASK_MAP_EXPIRED = 2, /* its entry expired */
    IPC_ASK_MAP_BUSY = 3,    /* the daemon was writing the entry or the map */
    IPC_ASK_MAP_INVALID = 4, /* its entry did not open (never expected) */
    IPC_ASK_MAX_ = 4,
};
#define IPC_FLAGS_ASK_MASK 0x07

struct ipc_request {
    uint8_t op; /* IPC_OP_BYNAME or IPC_OP_BYADDR */
    uint8_t family;
    uint8_t flags; /* BYNAME: enum ipc_ask in bits 0-2 */
    uint16_t name_len;
    char name[IPC_MAX_QUERY_NAME + 1]; /* NUL-terminated after decode */
    uint8_t addr_len;
    uint8_t addr[16];
};

struct ipc_addr {
    uint8_t family; /* IPC_AF_INET or IPC_AF_INET6 */
    uint8_t addr[16];
};

/* A decoded reply points into the frame it was decoded from (no copies):
 * the frame must outlive it. Names are not NUL-terminated on the wire; the
 * lengths say where they end. */
struct ipc_name_ref {
    const char *p;
    uint16_t len;
};

struct ipc_reply_view {
    uint8_t status;
    uint32_t ttl;
    struct ipc_name_ref canon;
    uint16_t n_aliases;
    uint16_t n_addrs;
    const uint8_t *aliases; /* n_aliases length-prefixed names, validated */
    const uint8_t *addrs;   /* n_addrs family-tagged addresses, validated */
};

static inline size_t ipc_addr_len(uint8_t family) {
    return family == IPC_AF_INET ? 4 : family == IPC_AF_INET6 ? 16 : 0;
}

/* Reads the header; returns the body length or -EBADMSG/-EPROTO/-EMSGSIZE.
 * max_body bounds what the caller is willing to read. */
int ipc_header_decode(const uint8_t hdr[IPC_HEADER_LEN], uint8_t *ret_op, size_t max_body);

/* Encodes a request into buf; returns the frame length or -EINVAL/-ENOBUFS. */
int ipc_request_encode_byname(uint8_t *buf, size_t buflen, uint8_t family, const char *name);
int ipc_request_encode_byaddr(uint8_t *buf, size_t buflen, uint8_t family, const void *addr,
                              size_t addr_len);

/* Decodes a request body (after the header); 0 or -EBADMSG. */
int ipc_request_decode(uint8_t op, const uint8_t *body, size_t len, struct ipc_request *ret_req);

/* Reply encoder: a builder over a caller-owned buffer of IPC_HEADER_LEN +
 * IPC_MAX_REPLY_BODY bytes. Adds fail with -ENOBUFS past a bound. */
struct ipc_reply_builder {
    uint8_t *buf;
    size_t cap;
    size_t len;
    uint16_t n_aliases;
    uint16_t n_addrs;
    bool names_done;
};
int ipc_reply_begin(struct ipc_reply_builder *b, uint8_t *buf, size_t cap, uint8_t status,
                    uint32_t ttl, const char *canon);
int ipc_reply_add_alias(struct ipc_reply_builder *b, const char *alias);
int ipc_reply_add_addr(struct ipc_reply_builder *b, uint8_t family, const void *addr);
/* Returns the frame length. */
size_t ipc_reply_end(struct ipc_reply_builder *b);

/* Decodes a reply body; 0 or -EBADMSG. */
int ipc_reply_decode(const uint8_t *body, size_t len, struct ipc_reply_view *ret_view);

/* Iterators over a decoded view (the view was validated, these can't fail). */
struct ipc_name_ref ipc_reply_alias(const uint8_t **cursor);
const uint8_t *ipc_reply_addr(const uint8_t **cursor, uint8_t *ret_family);

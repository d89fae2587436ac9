/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ipc.c: encode and decode the module <-> daemon frames described in ipc.h. */
#include "ipc.h"

#include <errno.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p) {
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put_header(uint8_t *p, uint8_t op, size_t body_len) {
    p[0] = IPC_MAGIC0;
    p[1] = IPC_MAGIC1;
    p[2] = IPC_VERSION;
    p[3] = op;
    put32(p + 4, (uint32_t)body_len);
}

int ipc_header_decode(const uint8_t hdr[IPC_HEADER_LEN], uint8_t *ret_op, size_t max_body) {
    if (hdr[0] != IPC_MAGIC0 || hdr[1] != IPC_MAGIC1)
        return -EBADMSG;
    if (hdr[2] != IPC_VERSION)
        return -EPROTO;
    if (hdr[3] < IPC_OP_BYNAME || hdr[3] > IPC_OP_REPLY)
        return -EBADMSG;
    uint32_t len = get32(hdr + 4);
    if (len > max_body)
        return -EMSGSIZE;
    *ret_op = hdr[3];
    return (int)len;
}

/* A name in a reply: 1..IPC_MAX_NAME bytes, no NUL. */
static bool name_ok(const uint8_t *p, size_t len) {
    return len >= 1 && len <= IPC_MAX_NAME && memchr(p, '\0', len) == NULL;
}

/* The name asked for: 0..IPC_MAX_QUERY_NAME bytes, no NUL. */
static bool query_name_ok(const uint8_t *p, size_t len) {
    return len <= IPC_MAX_QUERY_NAME && memchr(p, '\0', len) == NULL;
}

int ipc_request_encode_byname(uint8_t *buf, size_t buflen, uint8_t family, const char *name) {
    size_t n = strlen(name);
    if (!query_name_ok((const uint8_t *)name, n))
        return -EINVAL;
    if (family != IPC_AF_UNSPEC && family != IPC_AF_INET && family != IPC_AF_INET6)
        return -EINVAL;
    size_t body = 4 + n;
    if (buflen < IPC_HEADER_LEN + body)
        return -ENOBUFS;
    put_header(buf, IPC_OP_BYNAME, body);
    uint8_t *p = buf + IPC_HEADER_LEN;
    p[0] = family;
    p[1] = 0;
    put16(p + 2, (uint16_t)n);
    memcpy(p + 4, name, n);
    return (int)(IPC_HEADER_LEN + body);
}

int ipc_request_encode_byaddr(uint8_t *buf, size_t buflen, uint8_t family, const void *addr,
                              size_t addr_len) {
    if (addr_len == 0 || ipc_addr_len(family) != addr_len)
        return -EINVAL;
    size_t body = 2 + addr_len;
    if (buflen < IPC_HEADER_LEN + body)
        return -ENOBUFS;
    put_header(buf, IPC_OP_BYADDR, body);
    uint8_t *p = buf + IPC_HEADER_LEN;
    p[0] = family;
    p[1] = (uint8_t)addr_len;
    memcpy(p + 2, addr, addr_len);
    return (int)(IPC_HEADER_LEN + body);
}

int ipc_request_decode(uint8_t op, const uint8_t *body, size_t len, struct ipc_request *ret_req) {
    struct ipc_request r;
    memset(&r, 0, sizeof(r));
    r.op = op;
    if (op == IPC_OP_BYNAME) {
        if (len < 4)
            return -EBADMSG;
        r.family = body[0];
        if (r.family != IPC_AF_UNSPEC && r.family != IPC_AF_INET && r.family != IPC_AF_INET6)
            return -EBADMSG;
        if ((body[1] & ~IPC_FLAGS_ASK_MASK) != 0 || (body[1] & IPC_FLAGS_ASK_MASK) > IPC_ASK_MAX_)
            return -EBADMSG;
        r.flags = body[1];
        r.name_len = get16(body + 2);
        if (len != 4 + (size_t)r.name_len || !query_name_ok(body + 4, r.name_len))
            return -EBADMSG;
        memcpy(r.name, body + 4, r.name_len);
        r.name[r.name_len] = '\0';
    } else if (op == IPC_OP_BYADDR) {
        if (len < 2)
            return -EBADMSG;
        r.family = body[0];
        r.addr_len = body[1];
        if (ipc_addr_len(r.family) == 0 || r.addr_len != ipc_addr_len(r.family) ||
            len != 2 + (size_t)r.addr_len)
            return -EBADMSG;
        memcpy(r.addr, body + 2, r.addr_len);
    } else {
        return -EBADMSG;
    }
    *ret_req = r;
    return 0;
}

int ipc_reply_begin(struct ipc_reply_builder *b, uint8_t *buf, size_t cap, uint8_t status,
                    uint32_t ttl, const char *canon) {
    size_t n = canon ? strlen(canon) : 0;
    if (status > IPC_STATUS_MAX_ || n > IPC_MAX_NAME)
        return -EINVAL;
    if (status == IPC_STATUS_OK && n == 0)
        return -EINVAL;
    if (status != IPC_STATUS_OK)
        n = 0;
    if (cap < IPC_HEADER_LEN + 12 + n)
        return -ENOBUFS;
    memset(b, 0, sizeof(*b));
    b->buf = buf;
    b->cap = cap;
    uint8_t *p = buf + IPC_HEADER_LEN;
    p[0] = status;
    p[1] = 0;
    put16(p + 2, 0);
    put16(p + 4, 0);
    put16(p + 6, (uint16_t)n);
    put32(p + 8, ttl);
    if (n)
        memcpy(p + 12, canon, n);
    b->len = IPC_HEADER_LEN + 12 + n;
    return 0;
}

int ipc_reply_add_alias(struct ipc_reply_builder *b, const char *alias) {
    size_t n = strlen(alias);
    if (b->names_done || b->buf[IPC_HEADER_LEN] != IPC_STATUS_OK)
        return -EINVAL;
    if (!name_ok((const uint8_t *)alias, n))
        return -EINVAL;
    if (b->n_aliases >= IPC_MAX_ALIASES || b->cap - b->len < 2 + n)
        return -ENOBUFS;
    put16(b->buf + b->len, (uint16_t)n);
    memcpy(b->buf + b->len + 2, alias, n);
    b->len += 2 + n;
    b->n_aliases++;
    return 0;
}

int ipc_reply_add_addr(struct ipc_reply_builder *b, uint8_t family, const void *addr) {
    size_t n = ipc_addr_len(family);
    if (n == 0 || b->buf[IPC_HEADER_LEN] != IPC_STATUS_OK)
        return -EINVAL;
    if (b->n_addrs >= IPC_MAX_ADDRS || b->cap - b->len < 1 + n)
        return -ENOBUFS;
    b->names_done = true;
    b->buf[b->len] = family;
    memcpy(b->buf + b->len + 1, addr, n);
    b->len += 1 + n;
    b->n_addrs++;
    return 0;
}

size_t ipc_reply_end(struct ipc_reply_builder *b) {
    put16(b->buf + IPC_HEADER_LEN + 2, b->n_aliases);
    put16(b->buf + IPC_HEADER_LEN + 4, b->n_addrs);
    put_header(b->buf, IPC_OP_REPLY, b->len - IPC_HEADER_LEN);
    return b->len;
}

int ipc_reply_decode(const uint8_t *body, size_t len, struct ipc_reply_view *ret_view) {
    struct ipc_reply_view v;
    memset(&v, 0, sizeof(v));
    if (len < 12)
        return -EBADMSG;
    v.status = body[0];
    if (v.status > IPC_STATUS_MAX_ || body[1] != 0)
        return -EBADMSG;
    v.n_aliases = get16(body + 2);
    v.n_addrs = get16(body + 4);
    v.canon.len = get16(body + 6);
    v.ttl = get32(body + 8);
    if (v.n_aliases > IPC_MAX_ALIASES || v.n_addrs > IPC_MAX_ADDRS || v.canon.len > IPC_MAX_NAME)
        return -EBADMSG;
    if (v.status == IPC_STATUS_OK) {
        if (v.canon.len == 0)
            return -EBADMSG;
    } else if (v.canon.len || v.n_aliases || v.n_addrs) {
        return -EBADMSG;
    }
    size_t off = 12;
    if (len - off < v.canon.len || !(v.canon.len == 0 || name_ok(body + off, v.canon.len)))
        return -EBADMSG;
    v.canon.p = (const char *)body + off;
    off += v.canon.len;

    v.aliases = body + off;
    for (unsigned i = 0; i < v.n_aliases; i++) {
        if (len - off < 2)
            return -EBADMSG;
        size_t n = get16(body + off);
        off += 2;
        if (len - off < n || !name_ok(body + off, n))
            return -EBADMSG;
        off += n;
    }
    v.addrs = body + off;
    for (unsigned i = 0; i < v.n_addrs; i++) {
        if (len - off < 1)
            return -EBADMSG;
        size_t n = ipc_addr_len(body[off]);
        off += 1;
        if (n == 0 || len - off < n)
            return -EBADMSG;
        off += n;
    }
    if (off != len)
        return -EBADMSG;
    *ret_view = v;
    return 0;
}

struct ipc_name_ref ipc_reply_alias(const uint8_t **cursor) {
    struct ipc_name_ref r;
    r.len = get16(*cursor);
    r.p = (const char *)*cursor + 2;
    *cursor += 2 + r.len;
    return r;
}

const uint8_t *ipc_reply_addr(const uint8_t **cursor, uint8_t *ret_family) {
    const uint8_t *p = *cursor;
    *ret_family = p[0];
    *cursor += 1 + ipc_addr_len(p[0]);
    return p + 1;
}

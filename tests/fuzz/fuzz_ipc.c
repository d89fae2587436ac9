/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_ipc.c: libFuzzer target for the module <-> daemon frame codec
 * (common/ipc.c), the bytes each side reads from the other.
 *
 * The input is tried as a header, as a whole frame (header + body) and as a
 * bare body of each op. Whatever decodes is walked the way its reader walks
 * it (every alias and address of a reply), and encoded again with the real
 * encoders: the contract says a frame decodes exactly or not at all, so the
 * re-encoded bytes must be the input bytes.
 */
#include "ipc.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t frame[IPC_HEADER_LEN + IPC_MAX_REPLY_BODY];

static void copy_name(char out[IPC_MAX_NAME + 1], struct ipc_name_ref r) {
    assert(r.len >= 1 && r.len <= IPC_MAX_NAME);
    assert(memchr(r.p, '\0', r.len) == NULL);
    memcpy(out, r.p, r.len);
    out[r.len] = '\0';
}

static void check_request(uint8_t op, const uint8_t *body, size_t len) {
    struct ipc_request req;
    if (ipc_request_decode(op, body, len, &req) < 0)
        return;
    assert(req.op == op);
    int n;
    if (op == IPC_OP_BYNAME) {
        assert(req.name_len <= IPC_MAX_QUERY_NAME);
        assert(strlen(req.name) == req.name_len);
        n = ipc_request_encode_byname(frame, sizeof(frame), req.family, req.name);
        /* The encoder writes flags 0; the module sets why it asks after. */
        if (n >= IPC_HEADER_LEN + 2)
            frame[IPC_HEADER_LEN + 1] = req.flags;
    } else {
        assert(req.addr_len == ipc_addr_len(req.family) && req.addr_len != 0);
        n = ipc_request_encode_byaddr(frame, sizeof(frame), req.family, req.addr, req.addr_len);
    }
    assert(n >= IPC_HEADER_LEN && (size_t)n - IPC_HEADER_LEN == len);
    assert(memcmp(frame + IPC_HEADER_LEN, body, len) == 0);
}

static void check_reply(const uint8_t *body, size_t len) {
    struct ipc_reply_view v;
    if (ipc_reply_decode(body, len, &v) < 0)
        return;
    assert(v.status <= IPC_STATUS_MAX_);
    assert(v.n_aliases <= IPC_MAX_ALIASES && v.n_addrs <= IPC_MAX_ADDRS);
    assert(len <= IPC_MAX_REPLY_BODY);

    char name[IPC_MAX_NAME + 1];
    struct ipc_reply_builder b;
    int r;
    if (v.status == IPC_STATUS_OK) {
        copy_name(name, v.canon);
        r = ipc_reply_begin(&b, frame, sizeof(frame), v.status, v.ttl, name);
    } else {
        assert(v.canon.len == 0 && v.n_aliases == 0 && v.n_addrs == 0);
        r = ipc_reply_begin(&b, frame, sizeof(frame), v.status, v.ttl, NULL);
    }
    assert(r == 0);

    const uint8_t *cur = v.aliases;
    for (unsigned i = 0; i < v.n_aliases; i++) {
        struct ipc_name_ref a = ipc_reply_alias(&cur);
        assert((const uint8_t *)a.p >= body && (const uint8_t *)a.p + a.len <= body + len);
        copy_name(name, a);
        r = ipc_reply_add_alias(&b, name);
        assert(r == 0);
    }
    assert(cur == v.addrs);
    for (unsigned i = 0; i < v.n_addrs; i++) {
        uint8_t family;
        const uint8_t *a = ipc_reply_addr(&cur, &family);
        size_t alen = ipc_addr_len(family);
        assert(alen != 0 && a >= body && a + alen <= body + len);
        r = ipc_reply_add_addr(&b, family, a);
        assert(r == 0);
    }
    assert(cur == body + len);

    size_t n = ipc_reply_end(&b);
    assert(n - IPC_HEADER_LEN == len);
    assert(memcmp(frame + IPC_HEADER_LEN, body, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* as a bare body of each op */
    check_request(IPC_OP_BYNAME, data, size);
    check_request(IPC_OP_BYADDR, data, size);
    check_reply(data, size);
    {
        struct ipc_request req;
        assert(ipc_request_decode(IPC_OP_REPLY, data, size, &req) == -EBADMSG);
    }

    /* as a frame: the header bounds the body, which must fill the rest */
    if (size < IPC_HEADER_LEN)
        return 0;
    uint8_t op = 0;
    int len = ipc_header_decode(data, &op, IPC_MAX_REPLY_BODY);
    if (len < 0) {
        assert(len == -EBADMSG || len == -EPROTO || len == -EMSGSIZE);
        return 0;
    }
    assert(len <= IPC_MAX_REPLY_BODY);
    assert(op >= IPC_OP_BYNAME && op <= IPC_OP_REPLY);
    uint8_t op2 = 0;
    int len2 = ipc_header_decode(data, &op2, IPC_MAX_REQUEST_BODY);
    assert(len <= IPC_MAX_REQUEST_BODY ? (len2 == len && op2 == op) : len2 == -EMSGSIZE);
    if ((size_t)len != size - IPC_HEADER_LEN)
        return 0;
    if (op == IPC_OP_REPLY)
        check_reply(data + IPC_HEADER_LEN, (size_t)len);
    else
        check_request(op, data + IPC_HEADER_LEN, (size_t)len);
    return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * control-proto.h: the wire contract between dot-helperctl and dot-helperd's
 * control socket. Compiled into both; libc only, pure (no I/O, no globals,
 * no logging). One request and one reply per connection.
 *
 * Request: one line of at most CTL_MAX_REQUEST bytes, LF included:
 *     "dot-helperctl/1" SP command *( SP argument ) LF
 *   command and arguments are words of 1..CTL_MAX_WORD printable ASCII
 *   characters other than space (0x21..0x7e), separated by one space; at most
 *   CTL_MAX_ARGS arguments. Commands (arguments):
 *     stats                 the counters, as the data lines of the reply
 *     query NAME [TYPE]     resolve as the module would (TYPE: A, AAAA, ANY
 *                           for both, PTR for an address); the answer as data
 *     flush [NAME]          the whole cache, or every entry of NAME
 *     reload                read the config file again
 *   A peer speaking another version gets "error version ...".
 *
 * Reply: lines ending in LF, at most CTL_MAX_REPLY bytes in all. Every line
 * but the last is a data line "key=value" (key: [a-z0-9_.]+; value:
 * printable ASCII and spaces, possibly empty). The last line is the status:
 *     "ok"  or  "error" SP code SP message
 * with code one of the ctl_error names ("usage", "failed", ...).
 *
 * Decoders reject anything else: a frame decodes exactly or not at all.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define CTL_PROTO       "dot-helperctl/1"
#define CTL_MAX_REQUEST 1024
#define CTL_MAX_WORD    1024
#define CTL_MAX_ARGS    4
/* Room for 16 upstreams' worth of stats many times over. */
#define CTL_MAX_REPLY 65536
/* Kept free at the end of a reply for its status line. */
#define CTL_MAX_STATUS 600

enum ctl_cmd {
    CTL_CMD_STATS = 0,
    CTL_CMD_QUERY,
    CTL_CMD_FLUSH,
    CTL_CMD_RELOAD,
};

enum ctl_error {
    CTL_ERR_USAGE = 0, /* a request the daemon understood to be wrong */
    CTL_ERR_FAILED,    /* the command ran and failed (a reload refused) */
    CTL_ERR_DENIED,    /* the peer is not allowed */
    CTL_ERR_BUSY,      /* too many control clients at once */
    CTL_ERR_VERSION,   /* another protocol version */
    CTL_ERR_INTERNAL,  /* out of memory, a reply too long */
    CTL_ERR_MAX_ = CTL_ERR_INTERNAL,
};

const char *ctl_error_name(enum ctl_error e);

struct ctl_request {
    enum ctl_cmd cmd;
    unsigned argc;
    const char *argv[CTL_MAX_ARGS]; /* NUL-terminated, inside the decoded buffer */
};

/* Encodes a request line into buf; returns its length or -EINVAL (a word
 * that is empty, too long or not printable; too many args) / -ENOBUFS. */
int ctl_request_encode(char *buf, size_t cap, const char *cmd, const char *const *args,
                       size_t n_args);

/* Decodes the request line in buf[0..len) (LF included, nothing after it),
 * splitting it in place (buf is modified; argv points into it). 0, or
 * -EPROTO (another version), -ENOENT (unknown command), -EBADMSG. */
int ctl_request_decode(char *buf, size_t len, struct ctl_request *ret_req);

/* Reply builder over a caller-owned buffer (cap >= CTL_MAX_STATUS + 64,
 * at most CTL_MAX_REPLY used). Lines that don't fit are dropped and the
 * reply ends as an internal error; control characters in values become '?'. */
struct ctl_reply_builder {
    char *buf;
    size_t cap, len;
    bool overflow;
};
void ctl_reply_begin(struct ctl_reply_builder *b, char *buf, size_t cap);
/* Adds "key=value" with the value formatted from fmt. */
void ctl_reply_add(struct ctl_reply_builder *b, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ends the reply with "ok" (or the overflow error); returns its length. */
size_t ctl_reply_ok(struct ctl_reply_builder *b);
/* Ends it with "error CODE message"; returns its length. */
size_t ctl_reply_error(struct ctl_reply_builder *b, enum ctl_error code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A decoded reply points into the buffer it was decoded from. */
struct ctl_reply_view {
    const char *data; /* the data lines, each ending in LF */
    size_t data_len;
    bool ok;
    enum ctl_error error; /* when !ok */
    const char *message;  /* when !ok; not NUL-terminated */
    size_t message_len;
};
/* 0 or -EBADMSG. */
int ctl_reply_decode(const char *buf, size_t len, struct ctl_reply_view *ret_view);

struct ctl_kv {
    const char *key, *value;
    size_t key_len, value_len;
};
/* Iterates the data lines of a decoded view: *cursor starts at view.data;
 * false at the end. */
bool ctl_reply_next(const struct ctl_reply_view *v, const char **cursor, struct ctl_kv *ret_kv);

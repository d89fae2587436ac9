/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* control-proto.c: the control socket's request and reply codec. */
#include "control-proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const cmd_names[] = {
    [CTL_CMD_STATS] = "stats",
    [CTL_CMD_QUERY] = "query",
    [CTL_CMD_FLUSH] = "flush",
    [CTL_CMD_RELOAD] = "reload",
};

static const char *const error_names[] = {
    [CTL_ERR_USAGE] = "usage", [CTL_ERR_FAILED] = "failed",   [CTL_ERR_DENIED] = "denied",
    [CTL_ERR_BUSY] = "busy",   [CTL_ERR_VERSION] = "version", [CTL_ERR_INTERNAL] = "internal",
};

const char *ctl_error_name(enum ctl_error e) {
    return (unsigned)e <= CTL_ERR_MAX_ ? error_names[e] : "internal";
}

static bool word_ok(const char *w, size_t n) {
    if (n == 0 || n > CTL_MAX_WORD)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)w[i] < 0x21 || (unsigned char)w[i] > 0x7e)
            return false;
    return true;
}

int ctl_request_encode(char *buf, size_t cap, const char *cmd, const char *const *args,
                       size_t n_args) {
    if (!cmd || n_args > CTL_MAX_ARGS || !word_ok(cmd, strlen(cmd)))
        return -EINVAL;
    for (size_t i = 0; i < n_args; i++)
        if (!args[i] || !word_ok(args[i], strlen(args[i])))
            return -EINVAL;
    size_t len = strlen(CTL_PROTO) + 1 + strlen(cmd) + 1;
    for (size_t i = 0; i < n_args; i++)
        len += 1 + strlen(args[i]);
    if (len > CTL_MAX_REQUEST || len + 1 > cap)
        return -ENOBUFS;
    size_t off = (size_t)snprintf(buf, cap, "%s %s", CTL_PROTO, cmd);
    for (size_t i = 0; i < n_args; i++)
        off += (size_t)snprintf(buf + off, cap - off, " %s", args[i]);
    buf[off++] = '\n';
    buf[off] = '\0';
    return (int)off;
}

int ctl_request_decode(char *buf, size_t len, struct ctl_request *ret_req) {
    if (len < 2 || len > CTL_MAX_REQUEST || buf[len - 1] != '\n')
        return -EBADMSG;
    char *words[2 + CTL_MAX_ARGS];
    size_t n = 0;
    char *p = buf, *end = buf + len - 1;
    /* Single spaces between words, none at either end. */
    while (p < end) {
        char *sp = memchr(p, ' ', (size_t)(end - p));
        char *w_end = sp ? sp : end;
        if (!word_ok(p, (size_t)(w_end - p)))
            return -EBADMSG;
        if (n == sizeof(words) / sizeof(words[0]))
            return -EBADMSG;
        words[n++] = p;
        *w_end = '\0';
        p = w_end + 1;
        if (sp && p == end)
            return -EBADMSG; /* a trailing space */
    }
    if (n == 0)
        return -EBADMSG;
    if (strcmp(words[0], CTL_PROTO) != 0)
        return strncmp(words[0], "dot-helperctl/", 14) == 0 ? -EPROTO : -EBADMSG;
    if (n < 2)
        return -EBADMSG;
    struct ctl_request req = {0};
    size_t i;
    for (i = 0; i < sizeof(cmd_names) / sizeof(cmd_names[0]); i++)
        if (strcmp(words[1], cmd_names[i]) == 0)
            break;
    if (i == sizeof(cmd_names) / sizeof(cmd_names[0]))
        return -ENOENT;
    req.cmd = (enum ctl_cmd)i;
    req.argc = (unsigned)(n - 2);
    for (size_t k = 2; k < n; k++)
        req.argv[k - 2] = words[k];
    *ret_req = req;
    return 0;
}

void ctl_reply_begin(struct ctl_reply_builder *b, char *buf, size_t cap) {
    *b = (struct ctl_reply_builder){.buf = buf, .cap = cap > CTL_MAX_REPLY ? CTL_MAX_REPLY : cap};
}

/* Control characters (a newline above all) would split a line. */
static void sanitize(char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
            p[i] = '?';
}

static bool key_ok(const char *k) {
    if (!*k)
        return false;
    for (; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_' || *k == '.'))
            return false;
    return true;
}

void ctl_reply_add(struct ctl_reply_builder *b, const char *key, const char *fmt, ...) {
    if (b->overflow)
        return;
    size_t room = b->cap - CTL_MAX_STATUS - b->len;
    if (!key_ok(key) || b->cap < CTL_MAX_STATUS + b->len) {
        b->overflow = true;
        return;
    }
    char *p = b->buf + b->len;
    int k = snprintf(p, room, "%s=", key);
    if (k < 0 || (size_t)k >= room) {
        b->overflow = true;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int v = vsnprintf(p + k, room - (size_t)k, fmt, ap);
    va_end(ap);
    if (v < 0 || (size_t)k + (size_t)v + 1 >= room) {
        b->overflow = true;
        return;
    }
    sanitize(p + k, (size_t)v);
    p[k + v] = '\n';
    b->len += (size_t)k + (size_t)v + 1;
}

/* Ends the reply with an error line; the message is cut to fit. */
static size_t finish_error(struct ctl_reply_builder *b, enum ctl_error code, const char *msg) {
    char *p = b->buf + b->len;
    size_t room = b->cap - b->len; /* >= CTL_MAX_STATUS */
    int k = snprintf(p, room, "error %s %s", ctl_error_name(code), msg);
    size_t n = k < 0 ? 0 : (size_t)k < room - 1 ? (size_t)k : room - 2;
    sanitize(p, n);
    p[n] = '\n';
    b->len += n + 1;
    return b->len;
}

size_t ctl_reply_ok(struct ctl_reply_builder *b) {
    if (b->overflow) {
        b->len = 0;
        return finish_error(b, CTL_ERR_INTERNAL, "reply too long");
    }
    memcpy(b->buf + b->len, "ok\n", 3);
    b->len += 3;
    return b->len;
}

size_t ctl_reply_error(struct ctl_reply_builder *b, enum ctl_error code, const char *fmt, ...) {
    char msg[CTL_MAX_STATUS];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n <= 0)
        snprintf(msg, sizeof(msg), "%s", ctl_error_name(code));
    b->len = 0; /* an error carries no data */
    return finish_error(b, code, msg);
}

static bool line_printable(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
            return false;
    return true;
}

/* A data line: key=value, the key as ctl_reply_add() allows it. */
static bool data_line_ok(const char *p, size_t n) {
    const char *eq = memchr(p, '=', n);
    if (!eq || eq == p || !line_printable(p, n))
        return false;
    for (const char *k = p; k < eq; k++)
        if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_' || *k == '.'))
            return false;
    return true;
}

int ctl_reply_decode(const char *buf, size_t len, struct ctl_reply_view *ret_view) {
    if (len < 3 || len > CTL_MAX_REPLY || buf[len - 1] != '\n')
        return -EBADMSG;
    /* The status line: the last one. */
    const char *last = buf + len - 1;
    while (last > buf && last[-1] != '\n')
        last--;
    size_t last_len = (size_t)(buf + len - 1 - last);
    if (!line_printable(last, last_len))
        return -EBADMSG;
    struct ctl_reply_view v = {.data = buf, .data_len = (size_t)(last - buf)};
    if (last_len == 2 && memcmp(last, "ok", 2) == 0) {
        v.ok = true;
    } else if (last_len > 6 && memcmp(last, "error ", 6) == 0) {
        const char *code = last + 6, *end = last + last_len;
        const char *sp = memchr(code, ' ', (size_t)(end - code));
        if (!sp)
            return -EBADMSG;
        size_t i;
        for (i = 0; i <= CTL_ERR_MAX_; i++)
            if (strlen(error_names[i]) == (size_t)(sp - code) &&
                memcmp(error_names[i], code, (size_t)(sp - code)) == 0)
                break;
        if (i > CTL_ERR_MAX_)
            return -EBADMSG;
        v.error = (enum ctl_error)i;
        v.message = sp + 1;
        v.message_len = (size_t)(end - sp - 1);
    } else {
        return -EBADMSG;
    }
    for (const char *p = buf; p < last;) {
        const char *nl = memchr(p, '\n', (size_t)(last - p));
        if (!nl || !data_line_ok(p, (size_t)(nl - p)))
            return -EBADMSG;
        p = nl + 1;
    }
    *ret_view = v;
    return 0;
}

bool ctl_reply_next(const struct ctl_reply_view *v, const char **cursor, struct ctl_kv *ret_kv) {
    const char *end = v->data + v->data_len;
    if (*cursor < v->data || *cursor >= end)
        return false;
    const char *p = *cursor;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *eq = memchr(p, '=', (size_t)(nl - p));
    *ret_kv = (struct ctl_kv){
        .key = p, .key_len = (size_t)(eq - p), .value = eq + 1, .value_len = (size_t)(nl - eq - 1)};
    *cursor = nl + 1;
    return true;
}

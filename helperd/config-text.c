/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config-text.c: raw-text and base64 checks of the configuration (see config-text.h). */
#include "config-text.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 5, 6))) static int
report(unsigned *ret_line, unsigned line, char *msg, size_t msglen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, msglen, fmt, ap);
    va_end(ap);
    *ret_line = line;
    return -EINVAL;
}

static bool is_token_char(char ch) {
    return ch != '\0' &&
           strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_*.+-", ch);
}

/* libconfig 1.5 reads integer literals with atoi(): 4294967296 silently becomes 0
 * and 4294969296 becomes 2000, which passes every range check. So before trusting
 * any value, find plain (non-L) integer literals that do not fit an int. The scan
 * also refuses NUL bytes, after which libconfig would silently stop reading, and
 * @include, so that the file checked is the whole configuration. A rough lexer
 * is enough: text it cannot make sense of is a syntax error for libconfig. */
int config_text_check(const char *t, size_t len, unsigned *ret_line, char *msg, size_t msglen) {
    const char *p = t, *end = t + len, *nul = memchr(t, '\0', len);
    unsigned line = 1;

    for (; nul && p < nul; p++)
        line += *p == '\n';
    if (nul)
        return report(ret_line, line, msg, msglen, "NUL byte in file");
    while (p < end) {
        const char *q = p + 1;
        if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
            q = p + strcspn(p, "\n");
        } else if (p[0] == '/' && p[1] == '*') {
            q = strstr(p + 2, "*/");
            q = q ? q + 2 : end;
        } else if (*p == '"') {
            while (q < end && *q != '"')
                q += *q == '\\' && q + 1 < end ? 2 : 1;
            q += q < end;
        } else if (*p == '@' && strncmp(p, "@include", 8) == 0) {
            return report(ret_line, line, msg, msglen,
                          "@include is not supported: keep the configuration in one file");
        } else if (is_token_char(*p)) {
            size_t n = 1;
            while (is_token_char(p[n]))
                n++;
            q = p + n;
            const char *d = p + (*p == '-' || *p == '+');
            bool hex = d[0] == '0' && (d[1] | 0x20) == 'x';
            /* Floats are not ints, and with an L suffix libconfig reads 64 bits correctly. */
            bool integer = *d >= '0' && *d <= '9' && !memchr(p, '.', n) && (q[-1] | 0x20) != 'l' &&
                           (hex || (!memchr(p, 'e', n) && !memchr(p, 'E', n)));
            errno = 0;
            if (integer && (strtoull(d, NULL, hex ? 16 : 10) > INT_MAX || errno == ERANGE))
                return report(ret_line, line, msg, msglen, "number %.*s is too large", (int)n, p);
        }
        for (; p < q; p++)
            line += *p == '\n';
    }
    return 0;
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard padded base64 (RFC 4648 section 4), strictly: no whitespace, padding
 * exactly where due and zero pad bits, so each pin has one spelling only (the one
 * kdig and openssl print). Writes at most outlen bytes and returns the full
 * decoded length, or -1 when the text is not base64. */
ssize_t config_b64_decode(const char *in, uint8_t *out, size_t outlen) {
    size_t len = strlen(in), body = strspn(in, b64_alphabet), n = 0;
    uint32_t acc = 0;
    unsigned bits = 0;

    if (len == 0 || len % 4 != 0 || len - body > 2 || strspn(in + body, "=") != len - body)
        return -1;
    for (size_t i = 0; i < body; i++) {
        acc = acc << 6 | (uint32_t)(strchr(b64_alphabet, in[i]) - b64_alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n < outlen)
                out[n] = (uint8_t)(acc >> bits);
            n++;
            acc &= (1u << bits) - 1;
        }
    }
    return acc == 0 ? (ssize_t)n : -1;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dname.c: wire-form domain names and their text form (see dname.h). */
#include "dname.h"

#include <errno.h>
#include <string.h>

static bool is_digit(int c) {
    return c >= '0' && c <= '9';
}

static uint8_t fold(uint8_t c) {
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c - 'A' + 'a') : c;
}

int dname_from_text(const char *text, uint8_t out[static DNAME_MAX_WIRE]) {
    const unsigned char *p = (const unsigned char *)text;
    size_t label = 0, w = 1; /* out[label] is the open label's length octet */

    out[0] = 0;
    while (*p != '\0') {
        int c = *p++;
        if (c == '.') {
            if (*p == '\0') {
                /* The trailing dot ("." alone is the root). */
                if (out[label] == 0)
                    return label == 0 ? 1 : -EINVAL;
                break;
            }
            if (out[label] == 0 || *p == '.')
                return -EINVAL; /* ".a", "a..b" */
            if (w >= DNAME_MAX_WIRE)
                return -EINVAL;
            label = w++;
            out[label] = 0;
            continue;
        }
        if (c == '\\') {
            c = *p++;
            if (c == '\0')
                return -EINVAL; /* a trailing backslash */
            if (is_digit(c)) {
                if (!is_digit(p[0]) || !is_digit(p[1]))
                    return -EINVAL;
                c = (c - '0') * 100 + (p[0] - '0') * 10 + (p[1] - '0');
                p += 2;
                if (c > 255)
                    return -EINVAL;
            }
        }
        if (out[label] == DNAME_MAX_LABEL || w >= DNAME_MAX_WIRE)
            return -EINVAL;
        out[label]++;
        out[w++] = (uint8_t)c;
    }
    if (out[label] == 0)
        return label == 0 ? 1 : -EINVAL; /* "" is the root */
    if (w >= DNAME_MAX_WIRE)
        return -EINVAL;
    out[w++] = 0;
    return (int)w;
}

static bool special(uint8_t c) {
    return c == '"' || c == '.' || c == ';' || c == '\\' || c == '(' || c == ')' || c == '@' ||
           c == '$';
}

int dname_to_text(const uint8_t *wire, char *buf, size_t buflen) {
    size_t n = 0;

    for (const uint8_t *p = wire; *p != 0; p += 1 + *p) {
        if (p != wire) {
            if (n + 1 >= buflen)
                return -ENOBUFS;
            buf[n++] = '.';
        }
        for (size_t i = 1; i <= *p; i++) {
            uint8_t c = p[i];
            size_t need = special(c) ? 2 : (c > 0x20 && c < 0x7f) ? 1 : 4;
            if (n + need >= buflen)
                return -ENOBUFS;
            if (need == 4) {
                buf[n++] = '\\';
                buf[n++] = (char)('0' + c / 100);
                buf[n++] = (char)('0' + c / 10 % 10);
                buf[n++] = (char)('0' + c % 10);
            } else {
                if (need == 2)
                    buf[n++] = '\\';
                buf[n++] = (char)c;
            }
        }
    }
    if (n == 0) {
        if (buflen < 2)
            return -ENOBUFS;
        buf[n++] = '.';
    }
    if (n >= buflen)
        return -ENOBUFS;
    buf[n] = '\0';
    return (int)n;
}

size_t dname_wire_len(const uint8_t *wire) {
    const uint8_t *p = wire;
    while (*p != 0)
        p += 1 + *p;
    return (size_t)(p - wire) + 1;
}

bool dname_wire_equal(const uint8_t *a, const uint8_t *b) {
    size_t n = dname_wire_len(a);
    if (n != dname_wire_len(b))
        return false;
    /* Length octets are at most 63, below 'A': folding them is harmless,
     * and equal names have them in the same places. */
    for (size_t i = 0; i < n; i++)
        if (fold(a[i]) != fold(b[i]))
            return false;
    return true;
}

size_t dname_wire_lower(const uint8_t *wire, uint8_t out[static DNAME_MAX_WIRE]) {
    size_t n = dname_wire_len(wire);
    for (size_t i = 0; i < n; i++)
        out[i] = fold(wire[i]);
    return n;
}

unsigned dname_wire_labels(const uint8_t *wire) {
    unsigned n = 0;
    for (const uint8_t *p = wire; *p != 0; p += 1 + *p)
        n++;
    return n;
}

bool dname_hnok(const uint8_t *wire) {
    if (wire[0] > 0 && wire[1] == '-')
        return false;
    for (const uint8_t *p = wire; *p != 0; p += 1 + *p)
        for (size_t i = 1; i <= *p; i++) {
            uint8_t c = fold(p[i]);
            if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '_'))
                return false;
        }
    return true;
}

bool dname_text_hnok(const char *text) {
    uint8_t wire[DNAME_MAX_WIRE];
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (*p <= ' ' || *p > '~')
            return false;
    return dname_from_text(text, wire) > 0 && dname_hnok(wire);
}

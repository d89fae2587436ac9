/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dname.c: syntactic checks on host names (see dname.h). */
#include "dname.h"

#include <string.h>

bool dname_valid(const char *name) {
    size_t len = strlen(name);
    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0 || len > DNAME_MAX_TEXT)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        if (name[i] == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if (++label > DNAME_MAX_LABEL) {
            return false;
        }
    }
    return label > 0;
}

static char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool dname_equal(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 0 && a[la - 1] == '.')
        la--;
    if (lb > 0 && b[lb - 1] == '.')
        lb--;
    if (la != lb)
        return false;
    for (size_t i = 0; i < la; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

unsigned dname_dots(const char *name) {
    size_t len = strlen(name);
    unsigned n = 0;
    if (len > 0 && name[len - 1] == '.')
        len--;
    for (size_t i = 0; i < len; i++)
        if (name[i] == '.')
            n++;
    return n;
}

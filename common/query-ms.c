/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* query-ms.c: the name and form of the published query timeout (query-ms.h). */
#include "query-ms.h"

#include <errno.h>
#include <stdio.h>

int query_ms_path(const char *socket_path, char *buf, size_t len) {
    int n = snprintf(buf, len, "%s%s", socket_path, QUERY_MS_SUFFIX);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int query_ms_parse(const char *text, size_t len) {
    if (len == 0 || len > QUERY_MS_TEXT || text[0] == '0')
        return -EINVAL;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -EINVAL;
        v = v * 10 + (text[i] - '0');
    }
    return v >= QUERY_MS_MIN && v <= QUERY_MS_MAX ? v : -EINVAL;
}

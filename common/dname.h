/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dname.h: host name checks shared by the module and the daemon. Pure, libc only.
 *
 * A name is accepted when it is 1..253 octets (plus an optional trailing
 * dot), has no empty label, no label over 63 octets and no NUL; "." alone is
 * rejected. Anything else is answered NOTFOUND without a query.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define DNAME_MAX_TEXT  253
#define DNAME_MAX_LABEL 63

/* True when name is a syntactically valid DNS name as above. */
bool dname_valid(const char *name);

/* Case-insensitive (ASCII) comparison of two names, ignoring one trailing dot. */
bool dname_equal(const char *a, const char *b);

/* Number of dots in name, not counting a trailing one. */
unsigned dname_dots(const char *name);

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config-text.h: the checks on the configuration file that libconfig can't
 * make itself: its raw text (integers that don't fit, NUL bytes, @include)
 * and the strict base64 of SPKI pins. Pure: no I/O, no logging, no globals.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Scans the whole file text before libconfig reads it. 0, or -EINVAL with
 * *ret_line (1-based) and msg set. */
int config_text_check(const char *text, size_t len, unsigned *ret_line, char *msg, size_t msglen);

/* Standard padded base64 (RFC 4648 section 4), strictly: no whitespace,
 * padding exactly where due and zero pad bits. Writes at most outlen bytes
 * and returns the full decoded length, or -1 when in is not base64. */
ssize_t config_b64_decode(const char *in, uint8_t *out, size_t outlen);

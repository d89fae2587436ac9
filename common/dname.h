/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dname.h: domain names, shared by the module and the daemon. Pure, libc only.
 *
 * One canonical form (DESIGN.md invariant 7): a name is compared, hashed and
 * cached as its uncompressed wire form (RFC 1035 section 3.1: length-prefixed
 * labels ending with the root's zero octet, at most DNAME_MAX_WIRE octets),
 * octet for octet, with ASCII-only case folding (RFC 4343 section 3). Text is
 * for input and output only, converted at the edges exactly as glibc 2.36's
 * resolver converts it:
 *   - text to wire is ns_name_pton: "\DDD" is the octet DDD (exactly three
 *     digits, at most 255), "\X" is X, "." ends a label; "" and "." are the
 *     root; an empty label elsewhere, a label over 63 octets, a name over 255
 *     wire octets or a trailing backslash is an error;
 *   - wire to text is ns_name_ntop: '.', '\\', '"', '(', ')', ';', '@' and
 *     '$' get a backslash, octets outside 0x21..0x7e become "\DDD", the root
 *     is ".", and no trailing dot otherwise;
 *   - a host name is what res_hnok accepts: every label of [0-9A-Za-z_-],
 *     the first not starting with '-' (glibc resolv/res-name-checking.c).
 *     nss_dns refuses other names before asking (check_name) and rejects
 *     answers that carry them.
 * Wire names handed to these functions are well formed (made by
 * dname_from_text or by the DNS parser, which bounds every label).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNAME_MAX_WIRE  255 /* RFC 1035 section 3.1, with the root octet */
#define DNAME_MAX_LABEL 63
/* Longest host name in text: 255 wire octets less the first length octet
 * and the root make 253 characters (labels and dots). */
#define DNAME_MAX_TEXT 253
/* Longest text a wire name can take: every octet as "\DDD", the dots, the
 * NUL (glibc's MAXDNAME is 1025 for the same reason). */
#define DNAME_MAX_PRESENTATION 1025

/* ns_name_pton: text (NUL-terminated) to wire form in out. Returns the wire
 * length (1 for the root) or -EINVAL; out is undefined on error. */
int dname_from_text(const char *text, uint8_t out[static DNAME_MAX_WIRE]);

/* ns_name_ntop: wire to text in buf (NUL-terminated). Returns the text
 * length or -ENOBUFS (buflen DNAME_MAX_PRESENTATION always suffices). */
int dname_to_text(const uint8_t *wire, char *buf, size_t buflen);

/* Octets of a well-formed wire name, the root octet included (1..255). */
size_t dname_wire_len(const uint8_t *wire);

/* Same name: same labels, octet for octet, ASCII letters folded. */
bool dname_wire_equal(const uint8_t *a, const uint8_t *b);

/* Copies wire to out with ASCII letters lower-cased; returns the length. */
size_t dname_wire_lower(const uint8_t *wire, uint8_t out[static DNAME_MAX_WIRE]);

/* Number of labels (0 for the root). */
unsigned dname_wire_labels(const uint8_t *wire);

/* res_hnok on a wire name (see above). The root is a host name, as for glibc. */
bool dname_hnok(const uint8_t *wire);

/* res_hnok on text: printable ASCII only, converts, and dname_hnok(). */
bool dname_text_hnok(const char *text);

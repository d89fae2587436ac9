/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dns-wire.h: the DNS message codec, the one place that touches RFC 1035 wire
 * format. Pure: no I/O, no logging, no globals. Fuzzed (tests/fuzz/).
 *
 * Queries: one question, RD set, EDNS(0) OPT with optional RFC 7828
 * edns-tcp-keepalive and RFC 7830 padding to a block size (RFC 8467).
 * Responses: parsed with strict bounds: compression pointers must point
 * strictly backwards (no loops, no forward references), names are limited to
 * 255 wire octets, counts that claim more records than the message holds are
 * errors. Only class IN A, AAAA, CNAME and PTR answers are kept; the SOA in
 * the authority section is read for RFC 2308 negative TTLs, the OPT record
 * for the server's keepalive timeout.
 *
 * Names are in uncompressed wire form (dname.h): the one canonical form that
 * every comparison uses (DESIGN.md invariant 7). Text is made from them only
 * for the module's replies and for logs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dname.h"

#define DNS_TYPE_A         1
#define DNS_TYPE_CNAME     5
#define DNS_TYPE_SOA       6
#define DNS_TYPE_PTR       12
#define DNS_TYPE_AAAA      28
#define DNS_TYPE_OPT       41
#define DNS_CLASS_IN       1

#define DNS_RCODE_NOERROR  0
#define DNS_RCODE_FORMERR  1
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3
#define DNS_RCODE_REFUSED  5

#define DNS_HEADER_LEN     12
#define DNS_MAX_MESSAGE    65535
#define DNS_NAME_MAX_WIRE  DNAME_MAX_WIRE

struct dns_query_opts {
    uint16_t udp_size;  /* advertised EDNS buffer size, e.g. 1232 */
    bool keepalive;     /* add an empty edns-tcp-keepalive option */
    unsigned pad_block; /* 0: no padding; else pad the message to a multiple */
};

/* Builds a query for qname (wire form, see dname.h) into buf. Returns the
 * length, -EINVAL (no name) or -ENOBUFS. No TCP length prefix is written.
 * opts NULL: udp_size 1232, no options. */
int dns_build_query(uint8_t *buf, size_t buflen, uint16_t id, const uint8_t *qname, uint16_t qtype,
                    const struct dns_query_opts *opts);

/* Reverse name for an address: "4.3.2.1.in-addr.arpa" or the ip6.arpa nibbles.
 * family is AF_INET or AF_INET6. Returns 0 or -EINVAL/-ENOBUFS. */
int dns_reverse_name(int family, const uint8_t *addr, char *buf, size_t buflen);

struct dns_rr {
    uint16_t type; /* DNS_TYPE_A, AAAA, CNAME or PTR */
    uint32_t ttl;
    const uint8_t *owner; /* wire form, in the message's name arena */
    union {
        uint8_t in4[4];
        uint8_t in6[16];
        const uint8_t *target; /* CNAME and PTR, wire form */
    } u;
};

/* Room inside struct dns_msg and struct dns_answer for what the usual
 * answer holds, so that parsing it allocates nothing (issue 15); a bigger
 * one (long CNAME chains, many records) goes to the heap. The usual answer
 * of a lookup: its question, up to a few CNAMEs, a handful of addresses. */
#define DNS_MSG_INLINE_NAMES      1024 /* octets of names (the question, owners, targets) */
#define DNS_MSG_INLINE_RRS        16   /* kept answer records */
#define DNS_ANSWER_INLINE_RRS     16
#define DNS_ANSWER_INLINE_ALIASES 8

/* A parsed response. Its pointers may point into the struct itself: never
 * copy one (pass a pointer), and free it with dns_msg_free(). */
struct dns_msg {
    uint16_t id;
    uint16_t flags; /* the 16 header flag bits, rcode in the low 4 */
    uint16_t rcode; /* extended with the OPT record's upper bits when present (12 bits) */
    bool tc;
    const uint8_t *qname; /* the question as the server echoed it, wire form */
    uint16_t qtype, qclass;
    uint16_t ancount; /* the header's count: records of every type and class */
    size_t n_answers;
    struct dns_rr *answers; /* kept answer-section records, in message order */
    bool has_soa;
    uint32_t soa_ttl;     /* TTL of the SOA record in the authority section */
    uint32_t soa_minimum; /* its MINIMUM field */
    bool has_keepalive;
    uint16_t keepalive_100ms; /* the server's edns-tcp-keepalive timeout */
    /* Storage: the inline room, or the heap when the message needs more. */
    uint8_t *arena_; /* the names */
    struct dns_rr answers_inline_[DNS_MSG_INLINE_RRS];
    uint8_t arena_inline_[DNS_MSG_INLINE_NAMES];
};

/* Parses a response (no TCP length prefix) into *m. Rejects messages
 * without QR, with QDCOUNT != 1, truncated anywhere, or malformed. 0 or
 * -EBADMSG/-ENOMEM/-EINVAL. m is the parse's storage, not a ret_ output
 * left untouched on failure (STYLE.md): it is filled in place, and left
 * empty on failure (nothing to free, dns_msg_free() harmless). On success
 * the caller frees its contents with dns_msg_free(). */
int dns_parse_response(const uint8_t *pkt, size_t len, struct dns_msg *m);
void dns_msg_free(struct dns_msg *m);

/* The part of an answer that a lookup uses: starting at qname, follow the
 * CNAME whose owner is the current name (dname_wire_equal), whatever the
 * order of the records, for as long as there is one (no fixed cap: a chain
 * as long as one message holds is followed; a loop, of any length, is
 * known by needing more hops than the message has CNAME records); then take
 * every record of qtype owned by the final name. Like struct dns_msg, never
 * copied: its arrays may be its own inline room. */
struct dns_answer {
    const uint8_t *canonical; /* final name (points into the msg), never NULL on success */
    size_t n_aliases;
    const uint8_t **aliases; /* owners of the CNAMEs followed, in order */
    size_t n_records;
    const struct dns_rr **records; /* pointers into msg->answers */
    uint32_t ttl;                  /* smallest TTL among CNAMEs followed and records */
    const uint8_t *aliases_inline_[DNS_ANSWER_INLINE_ALIASES];
    const struct dns_rr *records_inline_[DNS_ANSWER_INLINE_RRS];
};

/* Fills *a in place, as dns_parse_response fills its message: 0 on success
 * (n_records may be 0: NODATA), -ELOOP for a CNAME loop, -EINVAL when
 * qname is not m's question, -ENOMEM; left empty on failure. On success
 * free with dns_answer_free(). */
int dns_answer_follow(const struct dns_msg *m, const uint8_t *qname, uint16_t qtype,
                      struct dns_answer *a);
void dns_answer_free(struct dns_answer *a);

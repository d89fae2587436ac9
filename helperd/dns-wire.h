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
 * Names are in presentation form without the trailing dot ("www.example.org";
 * the root is ""), with ns_name_ntop-style escapes: '.', '\\', '"', '(',
 * ')', ';', '@', '$' get a backslash, bytes outside 0x21..0x7e become \DDD.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
#define DNS_NAME_MAX_WIRE  255
/* Longest presentation form: every octet escaped as \DDD. */
#define DNS_NAME_MAX_TEXT 1020
#define DNS_CHAIN_MAX     16 /* CNAME hops followed before giving up (loop) */

struct dns_query_opts {
    uint16_t udp_size;  /* advertised EDNS buffer size, e.g. 1232 */
    bool keepalive;     /* add an empty edns-tcp-keepalive option */
    unsigned pad_block; /* 0: no padding; else pad the message to a multiple */
};

/* Builds a query for name (presentation form, trailing dot optional; name
 * must pass dname_valid) into buf. Returns the length or -EINVAL (bad name)
 * or -ENOBUFS. No TCP length prefix is written. opts NULL: udp_size 1232,
 * no options. */
int dns_build_query(uint8_t *buf, size_t buflen, uint16_t id, const char *name, uint16_t qtype,
                    const struct dns_query_opts *opts);

/* Reverse name for an address: "4.3.2.1.in-addr.arpa" or the ip6.arpa nibbles.
 * family is AF_INET or AF_INET6. Returns 0 or -EINVAL/-ENOBUFS. */
int dns_reverse_name(int family, const uint8_t *addr, char *buf, size_t buflen);

struct dns_rr {
    uint16_t type; /* DNS_TYPE_A, AAAA, CNAME or PTR */
    uint32_t ttl;
    char *owner; /* presentation form, points into the message's name arena */
    union {
        uint8_t in4[4];
        uint8_t in6[16];
        char *target; /* CNAME and PTR */
    } u;
};

struct dns_msg {
    uint16_t id;
    uint16_t flags; /* the 16 header flag bits, rcode in the low 4 */
    uint16_t rcode; /* extended with the OPT record's upper bits when present (12 bits) */
    bool tc;
    char *qname; /* the question as the server echoed it */
    uint16_t qtype, qclass;
    uint16_t ancount; /* the header's count: records of every type and class */
    size_t n_answers;
    struct dns_rr *answers; /* kept answer-section records, in message order */
    bool has_soa;
    uint32_t soa_ttl;     /* TTL of the SOA record in the authority section */
    uint32_t soa_minimum; /* its MINIMUM field */
    bool has_keepalive;
    uint16_t keepalive_100ms; /* the server's edns-tcp-keepalive timeout */
    char *arena_;             /* owned storage for the names */
};

/* Parses a response (no TCP length prefix). Rejects messages without QR, with
 * QDCOUNT != 1, truncated anywhere, or malformed. 0 or -EBADMSG/-ENOMEM.
 * On success the caller frees *ret_msg's contents with dns_msg_free(). */
int dns_parse_response(const uint8_t *pkt, size_t len, struct dns_msg *ret_msg);
void dns_msg_free(struct dns_msg *m);

/* The part of an answer that a lookup uses, as nss_dns reads it: starting at
 * qname, follow CNAMEs whose owner equals the current name (case-insensitive),
 * at most DNS_CHAIN_MAX hops; then take every record of qtype owned by the
 * final name. */
struct dns_answer {
    const char *canonical; /* final name (points into the msg), never NULL on success */
    size_t n_aliases;
    const char *aliases[DNS_CHAIN_MAX]; /* owners of the CNAMEs followed, in order */
    size_t n_records;
    const struct dns_rr **records; /* malloc'd array of pointers into msg->answers */
    uint32_t ttl;                  /* smallest TTL among CNAMEs followed and records */
};

/* 0 on success (n_records may be 0: NODATA), -ELOOP for a chain longer than
 * DNS_CHAIN_MAX or a loop, -EINVAL when qname is not m's question, -ENOMEM.
 * Free with dns_answer_free(). */
int dns_answer_follow(const struct dns_msg *m, const char *qname, uint16_t qtype,
                      struct dns_answer *ret_answer);
void dns_answer_free(struct dns_answer *a);

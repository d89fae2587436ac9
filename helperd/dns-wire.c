/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dns-wire.c: RFC 1035 message building and parsing (see dns-wire.h).
 *
 * The parser makes two passes over the same bytes with the same code: the
 * first validates everything and measures (kept records, name arena size),
 * the second fills them in: into the message's inline room when they fit
 * (the usual answer: no allocation), else into one allocation of each.
 * Nothing is allocated for a message that turns out malformed.
 * Everything read from the message is bounds-checked against its length;
 * no count is trusted before the bytes it describes have been seen.
 */
#include "dns-wire.h"

#include "dname.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define FLAG_QR            0x8000
#define FLAG_TC            0x0200
#define FLAG_RD            0x0100

#define EDNS_OPT_KEEPALIVE 11 /* RFC 7828 */
#define EDNS_OPT_PADDING   12 /* RFC 7830 */

/* Smallest resource record: root owner (1) + type, class, ttl, rdlength (10). */
#define RR_MIN_LEN    11
#define RR_FIXED_LEN  10
#define SOA_FIXED_LEN 20

static void put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p) {
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int dns_build_query(uint8_t *buf, size_t buflen, uint16_t id, const uint8_t *qname, uint16_t qtype,
                    const struct dns_query_opts *opts) {
    static const struct dns_query_opts default_opts = {.udp_size = 1232};

    if (!opts)
        opts = &default_opts;
    if (!qname)
        return -EINVAL;
    size_t wire_len = dname_wire_len(qname);
    size_t qlen = wire_len + 4;
    size_t rdlen = opts->keepalive ? 4 : 0;
    size_t base = DNS_HEADER_LEN + qlen + 1 + RR_FIXED_LEN + rdlen;
    size_t pad = 0;
    if (opts->pad_block > 0) {
        /* RFC 8467 block-length padding: the whole message, option header
         * included, becomes a multiple of the block. */
        size_t with_opt = base + 4;
        pad = (opts->pad_block - with_opt % opts->pad_block) % opts->pad_block;
        rdlen += 4 + pad;
    }
    size_t total = DNS_HEADER_LEN + qlen + 1 + RR_FIXED_LEN + rdlen;
    if (total > DNS_MAX_MESSAGE || total > buflen)
        return -ENOBUFS;

    uint8_t *p = buf;
    put16(p, id);
    put16(p + 2, FLAG_RD);
    put16(p + 4, 1);  /* QDCOUNT */
    put16(p + 6, 0);  /* ANCOUNT */
    put16(p + 8, 0);  /* NSCOUNT */
    put16(p + 10, 1); /* ARCOUNT: the OPT record */
    p += DNS_HEADER_LEN;
    memcpy(p, qname, wire_len);
    p += wire_len;
    put16(p, qtype);
    put16(p + 2, DNS_CLASS_IN);
    p += 4;

    *p++ = 0; /* OPT owner: root */
    put16(p, DNS_TYPE_OPT);
    put16(p + 2, opts->udp_size);
    memset(p + 4, 0, 4); /* extended rcode 0, version 0, no DO */
    put16(p + 8, (uint16_t)rdlen);
    p += RR_FIXED_LEN;
    if (opts->keepalive) {
        /* Empty in queries (RFC 7828 section 3.2.1): the server sets it. */
        put16(p, EDNS_OPT_KEEPALIVE);
        put16(p + 2, 0);
        p += 4;
    }
    if (opts->pad_block > 0) {
        put16(p, EDNS_OPT_PADDING);
        put16(p + 2, (uint16_t)pad);
        memset(p + 4, 0, pad); /* RFC 7830: the padding octets are zero */
        p += 4 + pad;
    }
    return (int)(p - buf);
}

int dns_reverse_name(int family, const uint8_t *addr, char *buf, size_t buflen) {
    static const char hex[] = "0123456789abcdef";
    char tmp[4 * 16 + sizeof("ip6.arpa")]; /* the longer of the two forms */
    size_t n = 0;

    if (!addr || !buf)
        return -EINVAL;
    if (family == AF_INET) {
        for (int i = 3; i >= 0; i--) {
            unsigned v = addr[i];
            if (v >= 100)
                tmp[n++] = (char)('0' + v / 100);
            if (v >= 10)
                tmp[n++] = (char)('0' + v / 10 % 10);
            tmp[n++] = (char)('0' + v % 10);
            tmp[n++] = '.';
        }
        memcpy(tmp + n, "in-addr.arpa", sizeof("in-addr.arpa"));
        n += sizeof("in-addr.arpa");
    } else if (family == AF_INET6) {
        for (int i = 15; i >= 0; i--) {
            tmp[n++] = hex[addr[i] & 0xf];
            tmp[n++] = '.';
            tmp[n++] = hex[addr[i] >> 4];
            tmp[n++] = '.';
        }
        memcpy(tmp + n, "ip6.arpa", sizeof("ip6.arpa"));
        n += sizeof("ip6.arpa");
    } else {
        return -EINVAL;
    }
    if (n > buflen)
        return -ENOBUFS;
    memcpy(buf, tmp, n);
    return 0;
}

/* Reads the (possibly compressed) name at *off. Each compression pointer must
 * point below the start of the run of labels it ends, which is where the
 * previous jump landed (or the name itself began): the bound only decreases,
 * so every walk terminates, and loops and forward references are errors.
 * With out non-NULL, writes the uncompressed wire form there (at most
 * DNS_NAME_MAX_WIRE octets). On success advances *off past the name's bytes
 * in place and returns the wire length (1 for the root). */
static int read_name(const uint8_t *pkt, size_t len, size_t *off, uint8_t *out) {
    size_t pos = *off, limit = *off, end = 0, wire = 0;

    for (;;) {
        if (pos >= len)
            return -EBADMSG;
        uint8_t c = pkt[pos];
        if ((c & 0xc0) == 0xc0) {
            if (pos + 1 >= len)
                return -EBADMSG;
            size_t target = ((size_t)(c & 0x3f) << 8) | pkt[pos + 1];
            if (target >= limit)
                return -EBADMSG;
            if (end == 0)
                end = pos + 2;
            pos = limit = target;
            continue;
        }
        if (c & 0xc0)
            return -EBADMSG; /* 01 and 10: extended/obsolete label types */
        if (wire + 1 + (size_t)c > DNS_NAME_MAX_WIRE)
            return -EBADMSG;
        if (c != 0 && pos + 1 + c > len)
            return -EBADMSG;
        if (out)
            memcpy(out + wire, pkt + pos, 1 + (size_t)c);
        wire += 1 + (size_t)c;
        if (c == 0)
            break;
        pos += 1 + (size_t)c;
    }
    *off = end != 0 ? end : pos + 1;
    return (int)wire;
}

/* One parse pass. With arena NULL it only validates and measures; with the
 * arena and answers allocated to those measures it fills them in. */
struct parse {
    const uint8_t *pkt;
    size_t len;
    struct dns_msg *m;
    uint8_t *arena;
    size_t arena_used;
    size_t n_kept;
    bool has_opt;
};

/* Reads the name at *off, storing it in the arena in the filling pass. */
static int take_name(struct parse *ps, size_t *off, const uint8_t **ret) {
    uint8_t *t = ps->arena ? ps->arena + ps->arena_used : NULL;
    int r = read_name(ps->pkt, ps->len, off, t);
    if (r < 0)
        return r;
    ps->arena_used += (size_t)r;
    if (ret)
        *ret = t;
    return r;
}

/* A name that must lie inside rdata: it may point backwards out of it, but
 * its own bytes must end by rdend. */
static int skip_rdata_name(struct parse *ps, size_t *off, size_t rdend) {
    int r = read_name(ps->pkt, rdend, off, NULL);
    return r < 0 ? r : 0;
}

static int parse_answer(struct parse *ps, size_t owner_off, uint16_t type, uint32_t ttl, size_t rd,
                        size_t rdlen) {
    struct dns_rr rr = {.type = type, .ttl = ttl};
    size_t off = owner_off, rdend = rd + rdlen;
    int r;

    switch (type) {
    case DNS_TYPE_A:
        if (rdlen != 4)
            return -EBADMSG;
        memcpy(rr.u.in4, ps->pkt + rd, 4);
        break;
    case DNS_TYPE_AAAA:
        if (rdlen != 16)
            return -EBADMSG;
        memcpy(rr.u.in6, ps->pkt + rd, 16);
        break;
    case DNS_TYPE_CNAME:
    case DNS_TYPE_PTR:
        /* The name's own bytes must be exactly the rdata; its pointers may
         * still lead back into earlier parts of the message. */
        off = rd;
        r = read_name(ps->pkt, rdend, &off, NULL);
        if (r < 0 || off != rdend)
            return -EBADMSG;
        off = rd;
        r = take_name(ps, &off, &rr.u.target);
        if (r < 0)
            return r;
        off = owner_off;
        break;
    default:
        return 0; /* not kept */
    }
    r = take_name(ps, &off, &rr.owner);
    if (r < 0)
        return r;
    if (ps->m->answers)
        ps->m->answers[ps->n_kept] = rr;
    ps->n_kept++;
    return 0;
}

static int parse_soa(struct parse *ps, uint32_t ttl, size_t rd, size_t rdlen) {
    size_t off = rd, rdend = rd + rdlen;

    if (skip_rdata_name(ps, &off, rdend) < 0 || skip_rdata_name(ps, &off, rdend) < 0)
        return -EBADMSG;
    if (rdend - off != SOA_FIXED_LEN)
        return -EBADMSG;
    if (!ps->m->has_soa) {
        ps->m->has_soa = true;
        ps->m->soa_ttl = ttl;
        ps->m->soa_minimum = get32(ps->pkt + off + 16);
    }
    return 0;
}

static int parse_opt(struct parse *ps, int owner_len, uint32_t raw_ttl, size_t rd, size_t rdlen) {
    const uint8_t *p = ps->pkt + rd, *end = p + rdlen;

    /* RFC 6891 section 6.1.1: one OPT, owned by the root. */
    if (owner_len != 1 || ps->has_opt)
        return -EBADMSG;
    ps->has_opt = true;
    ps->m->rcode = (uint16_t)(((raw_ttl >> 24) << 4) | (ps->m->flags & 0x0f));
    while (p < end) {
        if (end - p < 4)
            return -EBADMSG;
        uint16_t code = get16(p), olen = get16(p + 2);
        p += 4;
        if (end - p < olen)
            return -EBADMSG;
        /* Only the 2-octet form carries a timeout; other lengths are not
         * worth failing the answer over, so they are ignored. */
        if (code == EDNS_OPT_KEEPALIVE && olen == 2) {
            ps->m->has_keepalive = true;
            ps->m->keepalive_100ms = get16(p);
        }
        p += olen;
    }
    return 0;
}

static int parse_pass(struct parse *ps) {
    const uint8_t *pkt = ps->pkt;
    struct dns_msg *m = ps->m;
    size_t off = DNS_HEADER_LEN;
    int r;

    if (ps->len < DNS_HEADER_LEN)
        return -EBADMSG;
    m->id = get16(pkt);
    m->flags = get16(pkt + 2);
    m->rcode = m->flags & 0x0f;
    m->tc = (m->flags & FLAG_TC) != 0;
    if (!(m->flags & FLAG_QR) || get16(pkt + 4) != 1)
        return -EBADMSG;
    size_t counts[3] = {get16(pkt + 6), get16(pkt + 8), get16(pkt + 10)};
    m->ancount = (uint16_t)counts[0];

    r = take_name(ps, &off, &m->qname);
    if (r < 0)
        return r;
    if (ps->len - off < 4)
        return -EBADMSG;
    m->qtype = get16(pkt + off);
    m->qclass = get16(pkt + off + 2);
    off += 4;

    /* Cheap early reject of counts that cannot fit before walking them. */
    if ((counts[0] + counts[1] + counts[2]) * RR_MIN_LEN > ps->len - off)
        return -EBADMSG;

    for (int section = 0; section < 3; section++) {
        for (size_t i = 0; i < counts[section]; i++) {
            size_t owner_off = off;
            int owner_len = read_name(pkt, ps->len, &off, NULL);
            if (owner_len < 0)
                return owner_len;
            if (ps->len - off < RR_FIXED_LEN)
                return -EBADMSG;
            uint16_t type = get16(pkt + off), class = get16(pkt + off + 2);
            uint32_t raw_ttl = get32(pkt + off + 4);
            size_t rdlen = get16(pkt + off + 8);
            size_t rd = off + RR_FIXED_LEN;
            if (ps->len - rd < rdlen)
                return -EBADMSG;
            off = rd + rdlen;

            /* RFC 2181 section 8: a TTL with the top bit set reads as zero. */
            uint32_t ttl = raw_ttl > INT32_MAX ? 0 : raw_ttl;
            if (section == 0 && class == DNS_CLASS_IN)
                r = parse_answer(ps, owner_off, type, ttl, rd, rdlen);
            else if (section == 1 && class == DNS_CLASS_IN && type == DNS_TYPE_SOA)
                r = parse_soa(ps, ttl, rd, rdlen);
            else if (section == 2 && type == DNS_TYPE_OPT)
                r = parse_opt(ps, owner_len, raw_ttl, rd, rdlen);
            else
                r = 0;
            if (r < 0)
                return r;
        }
    }
    /* Bytes after the last counted record are ignored, as resolvers do. */
    return 0;
}

/* The header part of m, zeroed: everything before the inline room. */
static void msg_reset(struct dns_msg *m) {
    memset(m, 0, offsetof(struct dns_msg, answers_inline_));
}

/* Frees what m took from the heap (not its inline room). */
static void msg_release(struct dns_msg *m) {
    if (m->answers != m->answers_inline_)
        free(m->answers);
    if (m->arena_ != m->arena_inline_)
        free(m->arena_);
    msg_reset(m);
}

int dns_parse_response(const uint8_t *pkt, size_t len, struct dns_msg *m) {
    if (!m)
        return -EINVAL;
    msg_reset(m);
    if (!pkt)
        return -EINVAL;
    struct parse ps = {.pkt = pkt, .len = len, .m = m};
    int r = parse_pass(&ps);
    if (r < 0) {
        msg_reset(m);
        return r;
    }

    size_t arena_size = ps.arena_used, n_kept = ps.n_kept;
    msg_reset(m);
    m->arena_ = arena_size <= sizeof(m->arena_inline_) ? m->arena_inline_ : malloc(arena_size);
    if (n_kept > 0)
        m->answers =
            n_kept <= DNS_MSG_INLINE_RRS ? m->answers_inline_ : calloc(n_kept, sizeof(*m->answers));
    if (!m->arena_ || (n_kept > 0 && !m->answers)) {
        msg_release(m);
        return -ENOMEM;
    }
    ps = (struct parse){.pkt = pkt, .len = len, .m = m, .arena = m->arena_};
    r = parse_pass(&ps);
    /* Same bytes, same code: the second pass cannot disagree with the first. */
    if (r < 0 || ps.arena_used != arena_size || ps.n_kept != n_kept) {
        msg_release(m);
        return r < 0 ? r : -EBADMSG;
    }
    m->n_answers = n_kept;
    return 0;
}

void dns_msg_free(struct dns_msg *m) {
    if (m)
        msg_release(m);
}

static const struct dns_rr *find_cname(const struct dns_msg *m, const uint8_t *owner) {
    for (size_t i = 0; i < m->n_answers; i++)
        if (m->answers[i].type == DNS_TYPE_CNAME && dname_wire_equal(m->answers[i].owner, owner))
            return &m->answers[i];
    return NULL;
}

static uint32_t min_ttl(bool *have, uint32_t ttl, uint32_t v) {
    uint32_t r = *have && ttl < v ? ttl : v;
    *have = true;
    return r;
}

/* The public part of a, zeroed: everything before the inline room. */
static void answer_reset(struct dns_answer *a) {
    memset(a, 0, offsetof(struct dns_answer, aliases_inline_));
}

int dns_answer_follow(const struct dns_msg *m, const uint8_t *qname, uint16_t qtype,
                      struct dns_answer *a) {
    const uint8_t *cur;
    bool have_ttl = false;
    size_t n_cnames = 0;

    if (!a)
        return -EINVAL;
    answer_reset(a);
    if (!m || !qname || !m->qname)
        return -EINVAL;
    /* The canonical name must point into the message; the chain starts at
     * the question, which is also what nss_dns calls the name with no CNAME. */
    if (!dname_wire_equal(qname, m->qname))
        return -EINVAL;
    cur = m->qname;

    for (size_t i = 0; i < m->n_answers; i++)
        n_cnames += m->answers[i].type == DNS_TYPE_CNAME;
    /* A CNAME query is answered by the CNAME itself, not what it points to. */
    if (qtype != DNS_TYPE_CNAME && n_cnames > 0) {
        a->aliases = n_cnames <= DNS_ANSWER_INLINE_ALIASES ? a->aliases_inline_
                                                           : calloc(n_cnames, sizeof(*a->aliases));
        if (!a->aliases)
            return -ENOMEM;
        for (;;) {
            const struct dns_rr *c = find_cname(m, cur);
            if (!c)
                break;
            /* A chain without a loop uses each CNAME record at most once, so
             * one hop more than there are records is a loop, of any length. */
            if (a->n_aliases == n_cnames) {
                dns_answer_free(a);
                return -ELOOP;
            }
            a->aliases[a->n_aliases++] = c->owner;
            a->ttl = min_ttl(&have_ttl, a->ttl, c->ttl);
            cur = c->u.target;
        }
    }
    a->canonical = cur;

    size_t n_records = 0;
    for (size_t i = 0; i < m->n_answers; i++)
        if (m->answers[i].type == qtype && dname_wire_equal(m->answers[i].owner, cur))
            n_records++;
    if (n_records > 0) {
        a->records = n_records <= DNS_ANSWER_INLINE_RRS ? a->records_inline_
                                                        : calloc(n_records, sizeof(*a->records));
        if (!a->records) {
            dns_answer_free(a);
            return -ENOMEM;
        }
        for (size_t i = 0; i < m->n_answers; i++) {
            const struct dns_rr *rr = &m->answers[i];
            if (rr->type != qtype || !dname_wire_equal(rr->owner, cur))
                continue;
            a->records[a->n_records++] = rr;
            a->ttl = min_ttl(&have_ttl, a->ttl, rr->ttl);
        }
    }
    return 0;
}

void dns_answer_free(struct dns_answer *a) {
    if (!a)
        return;
    if (a->aliases != a->aliases_inline_)
        free(a->aliases);
    if (a->records != a->records_inline_)
        free(a->records);
    answer_reset(a);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_dns_wire.c: libFuzzer target for the DNS response parser, the one
 * place where bytes from the network are read (helperd/dns-wire.c).
 *
 * Parses the input and, when it parses, walks it the way the resolver does
 * (CNAME chain for A, AAAA and PTR) and touches every name, in wire form and
 * as text, so a bad arena offset or a malformed name shows up under ASan.
 * Seeds are in corpus_dns_wire/.
 */
#include "dns-wire.h"

#include "dname.h"

#include <assert.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A parsed name is well formed: at most 255 octets, and its text converts
 * back to the same octets. */
static void check_name(const uint8_t *w) {
    char text[DNAME_MAX_PRESENTATION];
    uint8_t back[DNAME_MAX_WIRE];
    size_t n = dname_wire_len(w);
    assert(n >= 1 && n <= DNAME_MAX_WIRE);
    assert(dname_to_text(w, text, sizeof(text)) > 0);
    assert(dname_from_text(text, back) == (int)n && memcmp(back, w, n) == 0);
    assert(dname_wire_equal(w, back));
}

static void use_answer(const struct dns_msg *m, uint16_t qtype) {
    struct dns_answer a;

    if (dns_answer_follow(m, m->qname, qtype, &a) < 0)
        return;
    assert(a.canonical != NULL);
    check_name(a.canonical);
    /* No loop: each CNAME record is used at most once. */
    assert(a.n_aliases <= m->n_answers);
    for (size_t i = 0; i < a.n_aliases; i++)
        check_name(a.aliases[i]);
    for (size_t i = 0; i < a.n_records; i++)
        assert(a.records[i]->type == qtype);
    dns_answer_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct dns_msg m;

    if (dns_parse_response(data, size, &m) < 0)
        return 0;
    check_name(m.qname);
    for (size_t i = 0; i < m.n_answers; i++) {
        const struct dns_rr *rr = &m.answers[i];
        check_name(rr->owner);
        if (rr->type == DNS_TYPE_CNAME || rr->type == DNS_TYPE_PTR)
            check_name(rr->u.target);
    }
    use_answer(&m, DNS_TYPE_A);
    use_answer(&m, DNS_TYPE_AAAA);
    use_answer(&m, DNS_TYPE_PTR);
    dns_msg_free(&m);
    return 0;
}

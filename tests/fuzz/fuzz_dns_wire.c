/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_dns_wire.c: libFuzzer target for the DNS response parser, the one
 * place where bytes from the network are read (helperd/dns-wire.c).
 *
 * Parses the input and, when it parses, walks it the way the resolver does
 * (CNAME chain for A, AAAA and PTR) and touches every string, so a bad arena
 * offset or an unterminated name shows up under ASan. Seeds are in
 * corpus_dns_wire/.
 */
#include "dns-wire.h"

#include <assert.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void use_answer(const struct dns_msg *m, uint16_t qtype) {
    struct dns_answer a;

    if (dns_answer_follow(m, m->qname, qtype, &a) < 0)
        return;
    assert(a.canonical != NULL);
    assert(a.n_aliases <= DNS_CHAIN_MAX);
    assert(strlen(a.canonical) <= DNS_NAME_MAX_TEXT);
    for (size_t i = 0; i < a.n_aliases; i++)
        assert(strlen(a.aliases[i]) <= DNS_NAME_MAX_TEXT);
    for (size_t i = 0; i < a.n_records; i++)
        assert(a.records[i]->type == qtype);
    dns_answer_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct dns_msg m;

    if (dns_parse_response(data, size, &m) < 0)
        return 0;
    assert(strlen(m.qname) <= DNS_NAME_MAX_TEXT);
    for (size_t i = 0; i < m.n_answers; i++) {
        const struct dns_rr *rr = &m.answers[i];
        assert(strlen(rr->owner) <= DNS_NAME_MAX_TEXT);
        if (rr->type == DNS_TYPE_CNAME || rr->type == DNS_TYPE_PTR)
            assert(strlen(rr->u.target) <= DNS_NAME_MAX_TEXT);
    }
    use_answer(&m, DNS_TYPE_A);
    use_answer(&m, DNS_TYPE_AAAA);
    use_answer(&m, DNS_TYPE_PTR);
    dns_msg_free(&m);
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_resolvconf.c: libFuzzer target for the resolv.conf parser and the
 * search walk (helperd/search.c), fed any bytes as a file's text.
 *
 * The parsed settings must stay inside their bounds, and walking the search
 * list for a few names must end, each name asked being one the caller can
 * hold. Seeds are in corpus_resolvconf/.
 */
#include "search.h"

#include <assert.h>
#include <string.h>

#include "ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const struct search_conf *c, const char *name) {
    struct search_iter it;
    char buf[SEARCH_MAX_NAME];
    unsigned n = 0;
    search_begin(&it, c, name);
    while (search_next(&it, buf)) {
        assert(strlen(buf) < SEARCH_MAX_NAME);
        assert(++n <= SEARCH_MAX_DOMAINS + 2);
        /* Alternate outcomes so both kinds of path are walked. */
        search_report(&it, (n % 3) == 0   ? SEARCH_NODATA
                           : (n % 3) == 1 ? SEARCH_NXDOMAIN
                                          : SEARCH_SERVFAIL);
    }
    assert(search_status(&it) <= IPC_STATUS_MAX_);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static struct search_conf c;
    memset(&c, 0, sizeof(c));
    search_conf_parse(&c, (const char *)data, size, "host.example.org");
    assert(c.ndots <= SEARCH_MAX_NDOTS);
    assert(c.n_domains <= SEARCH_MAX_DOMAINS);
    for (size_t i = 0; i < c.n_domains; i++)
        assert(memchr(c.domains[i], '\0', SEARCH_MAX_NAME) != NULL);
    walk(&c, "host");
    walk(&c, "a.b");
    walk(&c, "trailing.");
    walk(&c, "");
    return 0;
}

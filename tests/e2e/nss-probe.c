/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nss-probe: what getent hides. getent exits 2 for NXDOMAIN, "no address"
 * and "try again" alike; DESIGN.md invariant 3 wants the module to report
 * exactly what nss_dns reports. This prints, for one name or address, the
 * h_errno of gethostbyname2_r (AF_INET and AF_INET6) or gethostbyaddr_r, the
 * canonical name, aliases and addresses, and getaddrinfo's error code, so
 * that tests/e2e/lookup.sh can compare the output through "dot" and "dns".
 *
 * "name4 NAME" makes one lookup only, gethostbyname2_r(AF_INET) (a wedged
 * daemon costs each lookup its deadline: tests/e2e/wedged.sh).
 * For reverse lookups with an explicit family and length (tests/e2e/reverse.sh):
 *   addrx FAMILY LEN ADDRESS   gethostbyaddr_r(ADDRESS, LEN, FAMILY)
 *   direct FAMILY LEN ADDRESS  _nss_M_gethostbyaddr2_r of the module M that
 *                              /etc/nsswitch.conf names after "files" on its
 *                              hosts line, called directly (no glibc wrapper)
 *   hits NAME                  _nss_M_gethostbyname4_r(NAME) of that module,
 *                              once, then three times between two
 *                              getppid() calls: strace shows what a lookup
 *                              the answer map holds costs (tests/e2e/map.sh)
 * FAMILY is AF_INET, AF_INET6 or a number; ADDRESS is IPv4 or IPv6 text,
 * written into a zeroed 64-byte buffer (so LEN may exceed 16). Both print
 * h_addrtype, h_length and the first min(h_length, 16) bytes as well: past
 * 16, nss_dns hands back bytes of its own buffer, not the caller's.
 * Built by the test itself with $CC; libc only.
 */
#define _GNU_SOURCE /* EAI_NODATA, EAI_ADDRFAMILY, gethostbyname2_r */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <nss.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *herr_name(int h) {
    switch (h) {
    case 0:
        return "0";
    case HOST_NOT_FOUND:
        return "HOST_NOT_FOUND";
    case TRY_AGAIN:
        return "TRY_AGAIN";
    case NO_RECOVERY:
        return "NO_RECOVERY";
    case NO_DATA:
        return "NO_DATA";
    case NETDB_INTERNAL:
        return "NETDB_INTERNAL";
    default:
        return "?";
    }
}

static const char *eai_name(int e) {
    switch (e) {
    case 0:
        return "0";
    case EAI_NONAME:
        return "EAI_NONAME";
    case EAI_AGAIN:
        return "EAI_AGAIN";
    case EAI_FAIL:
        return "EAI_FAIL";
    case EAI_NODATA:
        return "EAI_NODATA";
    case EAI_FAMILY:
        return "EAI_FAMILY";
    case EAI_MEMORY:
        return "EAI_MEMORY";
    case EAI_SYSTEM:
        return "EAI_SYSTEM";
    case EAI_ADDRFAMILY:
        return "EAI_ADDRFAMILY";
    default:
        return "?";
    }
}

static void print_hostent(const char *what, int rc, const struct hostent *h, int herr) {
    char addr[INET6_ADDRSTRLEN];

    /* h_errno means something only when there is no result. */
    if (h == NULL) {
        printf("%s: rc=%s h_errno=%s\n", what, rc == 0 ? "0" : strerror(rc), herr_name(herr));
        return;
    }
    printf("%s: rc=%s\n", what, rc == 0 ? "0" : strerror(rc));
    printf("%s: name %s\n", what, h->h_name);
    for (char **a = h->h_aliases; *a != NULL; a++)
        printf("%s: alias %s\n", what, *a);
    for (char **a = h->h_addr_list; *a != NULL; a++)
        printf("%s: addr %s\n", what, inet_ntop(h->h_addrtype, *a, addr, sizeof(addr)));
}

static void by_name(const char *name, int af) {
    static char buf[65536];
    struct hostent he, *h = NULL;
    int herr = 0;
    int rc = gethostbyname2_r(name, af, &he, buf, sizeof(buf), &h, &herr);

    print_hostent(af == AF_INET ? "gethostbyname2(AF_INET)" : "gethostbyname2(AF_INET6)", rc, h,
                  herr);
}

static void by_addr(const char *text) {
    static char buf[65536];
    unsigned char a[16];
    struct hostent he, *h = NULL;
    int herr = 0, af = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;
    int rc;

    if (inet_pton(af, text, a) != 1) {
        printf("bad address %s\n", text);
        return;
    }
    rc = gethostbyaddr_r(a, af == AF_INET ? 4 : 16, af, &he, buf, sizeof(buf), &h, &herr);
    print_hostent("gethostbyaddr", rc, h, herr);
}

/* h_addrtype, h_length and the address bytes, which getent never shows. */
static void print_shape(const char *what, const struct hostent *h) {
    printf("%s: h_addrtype %d h_length %d\n", what, h->h_addrtype, h->h_length);
    for (char **a = h->h_addr_list; *a != NULL; a++) {
        int n = h->h_length < 16 ? h->h_length : 16;
        printf("%s: bytes", what);
        for (int i = 0; i < n; i++)
            printf(" %02x", (unsigned char)(*a)[i]);
        printf("\n");
    }
}

static int parse_family(const char *s) {
    if (strcmp(s, "AF_INET") == 0)
        return AF_INET;
    if (strcmp(s, "AF_INET6") == 0)
        return AF_INET6;
    return atoi(s);
}

/* ADDRESS into a zeroed buffer; 0 or -1. */
static int parse_addr(const char *text, unsigned char *buf, size_t len) {
    memset(buf, 0, len);
    return inet_pton(strchr(text, ':') != NULL ? AF_INET6 : AF_INET, text, buf) == 1 ? 0 : -1;
}

static void by_addr_explicit(int af, socklen_t len, const char *text) {
    static char buf[65536];
    unsigned char a[64];
    struct hostent he, *h = NULL;
    int herr = 0;

    if (parse_addr(text, a, sizeof(a)) < 0 || len > sizeof(a)) {
        printf("bad address %s or length %u\n", text, (unsigned)len);
        return;
    }
    int rc = gethostbyaddr_r(a, len, af, &he, buf, sizeof(buf), &h, &herr);
    print_hostent("gethostbyaddr", rc, h, herr);
    if (h != NULL)
        print_shape("gethostbyaddr", h);
}

/* The hosts module after "files" in /etc/nsswitch.conf, or NULL. */
static const char *hosts_module(char *out, size_t outlen) {
    char line[512];
    const char *found = NULL;
    FILE *f = fopen("/etc/nsswitch.conf", "re");
    if (f == NULL)
        return NULL;
    while (found == NULL && fgets(line, sizeof(line), f) != NULL) {
        char first[64], second[64];
        if (sscanf(line, " hosts: %63s %63s", first, second) == 2 && strcmp(first, "files") == 0 &&
            strlen(second) < outlen) {
            strcpy(out, second);
            found = out;
        }
    }
    fclose(f);
    return found;
}

typedef enum nss_status addr2_fn(const void *, socklen_t, int, struct hostent *, char *, size_t,
                                 int *, int *, int32_t *);

static const char *status_name(enum nss_status st) {
    switch (st) {
    case NSS_STATUS_SUCCESS:
        return "SUCCESS";
    case NSS_STATUS_NOTFOUND:
        return "NOTFOUND";
    case NSS_STATUS_TRYAGAIN:
        return "TRYAGAIN";
    case NSS_STATUS_UNAVAIL:
        return "UNAVAIL";
    default:
        return "?";
    }
}

static int by_addr_direct(int af, socklen_t len, const char *text) {
    static char buf[65536];
    unsigned char a[64];
    char module[64], lib[128], sym[128];
    struct hostent he;
    int err = 0, herr = 0;
    int32_t ttl = 0;

    if (parse_addr(text, a, sizeof(a)) < 0 || len > sizeof(a)) {
        printf("bad address %s or length %u\n", text, (unsigned)len);
        return 2;
    }
    if (hosts_module(module, sizeof(module)) == NULL) {
        fprintf(stderr, "no \"hosts: files MODULE\" line in /etc/nsswitch.conf\n");
        return 2;
    }
    snprintf(lib, sizeof(lib), "libnss_%s.so.2", module);
    snprintf(sym, sizeof(sym), "_nss_%s_gethostbyaddr2_r", module);
    /* glibc 2.34+ keeps nss_dns in libc itself; dlsym on the stub library
     * searches its dependencies, libc included. */
    void *dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    addr2_fn *fn = dl != NULL ? (addr2_fn *)dlsym(dl, sym) : NULL;
    if (fn == NULL) {
        fprintf(stderr, "cannot find %s in %s: %s\n", sym, lib, dlerror());
        return 2;
    }
    enum nss_status st = fn(a, len, af, &he, buf, sizeof(buf), &err, &herr, &ttl);
    /* The module's name differs between the two runs: print none of it. */
    if (st != NSS_STATUS_SUCCESS) {
        printf("direct: %s errno=%s h_errno=%s\n", status_name(st), err ? strerror(err) : "0",
               herr_name(herr));
        return 0;
    }
    printf("direct: SUCCESS h_errno=%s\n", herr_name(herr));
    print_hostent("direct", 0, &he, 0);
    print_shape("direct", &he);
    return 0;
}

typedef enum nss_status name4_fn(const char *, struct gaih_addrtuple **, char *, size_t, int *,
                                 int *, int32_t *);

static int hits_direct(const char *name) {
    static char buf[65536];
    char module[64], lib[128], sym[128];
    if (hosts_module(module, sizeof(module)) == NULL) {
        fprintf(stderr, "no \"hosts: files MODULE\" line in /etc/nsswitch.conf\n");
        return 2;
    }
    snprintf(lib, sizeof(lib), "libnss_%s.so.2", module);
    snprintf(sym, sizeof(sym), "_nss_%s_gethostbyname4_r", module);
    void *dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    name4_fn *fn = dl != NULL ? (name4_fn *)dlsym(dl, sym) : NULL;
    if (fn == NULL) {
        fprintf(stderr, "cannot find %s in %s: %s\n", sym, lib, dlerror());
        return 2;
    }
    enum nss_status st[4];
    for (int i = 0; i < 4; i++) {
        /* The markers: a syscall nothing else here makes, raw (no cache). */
        if (i == 1)
            syscall(SYS_getppid);
        struct gaih_addrtuple *pat = NULL;
        int err = 0, herr = 0;
        int32_t ttl = 0;
        st[i] = fn(name, &pat, buf, sizeof(buf), &err, &herr, &ttl);
    }
    syscall(SYS_getppid);
    printf("hits: %s %s %s %s\n", status_name(st[0]), status_name(st[1]), status_name(st[2]),
           status_name(st[3]));
    return 0;
}

static void gai(const char *name, int family) {
    struct addrinfo hints = {
        .ai_family = family, .ai_socktype = SOCK_STREAM, .ai_flags = AI_CANONNAME};
    struct addrinfo *res = NULL;
    int e = getaddrinfo(name, NULL, &hints, &res);
    const char *fam = family == AF_INET ? "AF_INET" : family == AF_INET6 ? "AF_INET6" : "AF_UNSPEC";

    printf("getaddrinfo(%s): %s\n", fam, eai_name(e));
    if (e == 0 && res->ai_canonname != NULL)
        printf("getaddrinfo(%s): canonname %s\n", fam, res->ai_canonname);
    if (e == 0)
        freeaddrinfo(res);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "name4") == 0) { /* one lookup only (wedged.sh) */
        by_name(argv[2], AF_INET);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "addrx") == 0) {
        by_addr_explicit(parse_family(argv[2]), (socklen_t)strtoul(argv[3], NULL, 10), argv[4]);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "direct") == 0)
        return by_addr_direct(parse_family(argv[2]), (socklen_t)strtoul(argv[3], NULL, 10),
                              argv[4]);
    if (argc == 3 && strcmp(argv[1], "hits") == 0)
        return hits_direct(argv[2]);
    if (argc != 3 || (strcmp(argv[1], "name") != 0 && strcmp(argv[1], "addr") != 0)) {
        fprintf(stderr, "usage: nss-probe name NAME | name4 NAME | addr ADDRESS |\n"
                        "       addrx FAMILY LEN ADDRESS | direct FAMILY LEN ADDRESS |\n"
                        "       hits NAME\n");
        return 2;
    }
    if (strcmp(argv[1], "addr") == 0) {
        by_addr(argv[2]);
    } else {
        by_name(argv[2], AF_INET);
        by_name(argv[2], AF_INET6);
        gai(argv[2], AF_UNSPEC);
        gai(argv[2], AF_INET);
        gai(argv[2], AF_INET6);
    }
    return 0;
}

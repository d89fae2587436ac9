/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nss-probe: what getent hides. getent exits 2 for NXDOMAIN, "no address"
 * and "try again" alike; DESIGN.md invariant 3 wants the module to report
 * exactly what nss_dns reports. This prints, for one name or address, the
 * h_errno of gethostbyname2_r (AF_INET and AF_INET6) or gethostbyaddr_r, the
 * canonical name, aliases and addresses, and getaddrinfo's error code, so
 * that tests/e2e/lookup.sh can compare the output through "dot" and "dns".
 * Built by the test itself with $CC; libc only.
 */
#define _GNU_SOURCE /* EAI_NODATA, EAI_ADDRFAMILY, gethostbyname2_r */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

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
    if (argc != 3 || (strcmp(argv[1], "name") != 0 && strcmp(argv[1], "addr") != 0)) {
        fprintf(stderr, "usage: nss-probe name NAME | addr ADDRESS\n");
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

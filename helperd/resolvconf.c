/* SPDX-License-Identifier: GPL-2.0-or-later */
/* resolvconf.c: reads resolv.conf for the search list (see resolvconf.h). */
#include "resolvconf.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* glibc reads the whole file; a longer one is cut here (the search list
 * and options are a few lines). */
#define TEXT_MAX 65536

struct resolvconf {
    struct loop *loop;
    const struct config *cfg;
    resolvconf_cb cb;
    void *userdata;
    bool failing; /* warned */
    bool published;
    struct search_conf file; /* parsed from the last good read */
    struct search_conf last; /* handed to cb last (with the config's settings) */
    char path[PATH_MAX];
    char text[TEXT_MAX];
};

/* Reads at most TEXT_MAX bytes of a regular file into w->text. A FIFO or a
 * device in its place must not block the loop, hence O_NONBLOCK. */
static int read_text(struct resolvconf *w, size_t *ret_len, struct stat *ret_st) {
    int fd = open(w->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return -errno;
    struct stat st;
    int r = 0;
    size_t len = 0;
    if (fstat(fd, &st) < 0)
        r = -errno;
    else if (!S_ISREG(st.st_mode))
        r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
    for (int i = 0; r == 0 && len < TEXT_MAX && i < 1024; i++) {
        ssize_t k = read(fd, w->text + len, TEXT_MAX - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            r = -errno;
        if (k <= 0)
            break;
        len += (size_t)k;
    }
    close(fd);
    if (r == 0) {
        *ret_len = len;
        *ret_st = st;
    }
    return r;
}

static void host_name(char host[static 256]) {
    if (gethostname(host, 255) < 0)
        host[0] = '\0';
    host[255] = '\0';
}

/* Reads and parses the file into w->file; on failure w->file stays. */
static int load(struct resolvconf *w) {
    size_t len = 0;
    struct stat st = {0};
    int r = read_text(w, &len, &st);
    if (r < 0) {
        if (!w->failing)
            log_warnx("cannot read %s: %s; the search list stays as it was", w->path, strerror(-r));
        else
            log_debug("still cannot read %s: %s", w->path, strerror(-r));
        w->failing = true;
        return r;
    }
    if (w->failing)
        log_info("%s can be read again", w->path);
    w->failing = false;
    char host[256];
    host_name(host);
    search_conf_parse(&w->file, w->text, len, host);
    log_debug("read %s (%zu bytes)", w->path, len);
    return 0;
}

static const char *overridden(const struct config *cfg) {
    if (cfg->search_set)
        return cfg->ndots >= 0 ? " (search and ndots set in the config)"
                               : " (search set in the config)";
    return cfg->ndots >= 0 ? " (ndots set in the config)" : "";
}

/* Hands the file's list, with the config's settings over it, to cb when it
 * differs from what cb has. */
static int publish(struct resolvconf *w, const char *why) {
    struct search_conf *c = malloc(sizeof(*c));
    if (!c) {
        log_warnx("out of memory: the search list stays as it was");
        return -ENOMEM;
    }
    *c = w->file;
    c->refs = 1;
    search_conf_override(c, w->cfg->search_set, w->cfg->search, w->cfg->n_search, w->cfg->ndots);
    if (w->published && search_conf_equal(c, &w->last)) {
        free(c);
        return 0;
    }
    w->last = *c;
    w->published = true;
    log_info("search list from %s, %s: %zu domain(s), ndots %u%s", w->path, why, c->n_domains,
             c->ndots, overridden(w->cfg));
    log_debug("search list: %zu domain(s)%s%s, ndots %u", c->n_domains,
              c->n_domains ? ", first " : "", c->n_domains ? c->domains[0] : "", c->ndots);
    w->cb(w->userdata, c);
    return 0;
}

int resolvconf_new(struct loop *l, const char *path, const struct config *cfg, resolvconf_cb cb,
                   void *userdata, struct resolvconf **ret_watch) {
    assert(path[0] == '/');
    struct resolvconf *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    if (strlen(path) >= sizeof(w->path)) {
        free(w);
        return -ENAMETOOLONG;
    }
    memcpy(w->path, path, strlen(path) + 1);
    w->loop = l;
    w->cfg = cfg;
    w->cb = cb;
    w->userdata = userdata;
    /* No good read yet: what glibc does without the file. */
    char host[256];
    host_name(host);
    search_conf_parse(&w->file, NULL, 0, host);
    load(w);
    int r = publish(w, "at start");
    if (r < 0) {
        resolvconf_free(w);
        return r;
    }
    *ret_watch = w;
    return 0;
}

void resolvconf_set_config(struct resolvconf *w, const struct config *cfg) {
    w->cfg = cfg;
    publish(w, "config reloaded");
}

void resolvconf_free(struct resolvconf *w) {
    if (!w)
        return;
    free(w);
}

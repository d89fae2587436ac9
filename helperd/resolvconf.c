/* SPDX-License-Identifier: GPL-2.0-or-later */
/* resolvconf.c: reads and watches resolv.conf for the search list (see resolvconf.h). */
#include "resolvconf.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* glibc reads the whole file; a longer one is cut here (the search list
 * and options are a few lines). */
#define TEXT_MAX  65536
#define MAX_LINKS 8 /* symlinks followed; a longer chain is polled */
#define MAX_DIRS  (MAX_LINKS + 1)
/* Everything that can replace or change a file in a directory. Not
 * IN_MODIFY: an in-place writer is read once it closes the file, not
 * halfway through (the periodic stat catches one that never closes). */
#define WATCH_MASK                                                                                 \
    (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB |            \
     IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

/* What glibc compares to decide that resolv.conf changed. */
struct file_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
};

struct resolvconf {
    struct loop *loop;
    const struct config *cfg;
    resolvconf_cb cb;
    void *userdata;
    struct loop_io io;        /* inotify; fd -1 without it */
    struct loop_timer settle; /* events settle, then check */
    struct loop_timer poll;   /* the periodic stat */
    int wds[MAX_DIRS];        /* the directories watched now */
    size_t n_wds;
    bool degraded;         /* some directory on the chain is not watched */
    bool have_id, failing; /* id: of the file last read; failing: warned */
    bool published;
    struct file_id id;
    struct search_conf file; /* parsed from the last good read */
    struct search_conf last; /* handed to cb last (with the config's settings) */
    char path[PATH_MAX];
    char text[TEXT_MAX];
};

#define WATCH_OF_IO(p)     ((struct resolvconf *)((char *)(p)-offsetof(struct resolvconf, io)))
#define WATCH_OF_SETTLE(p) ((struct resolvconf *)((char *)(p)-offsetof(struct resolvconf, settle)))
#define WATCH_OF_POLL(p)   ((struct resolvconf *)((char *)(p)-offsetof(struct resolvconf, poll)))

static struct file_id id_of(const struct stat *st) {
    return (struct file_id){.dev = st->st_dev,
                            .ino = st->st_ino,
                            .size = st->st_size,
                            .mtime = st->st_mtim,
                            .ctime = st->st_ctim};
}

static bool same_time(struct timespec a, struct timespec b) {
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static bool same_file(const struct file_id *a, const struct file_id *b) {
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           same_time(a->mtime, b->mtime) && same_time(a->ctime, b->ctime);
}

static bool has_wd(const int *wds, size_t n, int wd) {
    for (size_t i = 0; i < n; i++)
        if (wds[i] == wd)
            return true;
    return false;
}

/* Watches the directory of every link from path to the file, and nothing
 * else: a swapped symlink moves the watch to its new target's directory. */
static void watch_chain(struct resolvconf *w) {
    int wds[MAX_DIRS];
    size_t n = 0;
    bool degraded = w->io.fd < 0;
    char cur[PATH_MAX], dir[PATH_MAX], link[PATH_MAX];
    snprintf(cur, sizeof(cur), "%s", w->path);
    for (size_t hop = 0; hop < MAX_DIRS; hop++) {
        const char *slash = strrchr(cur, '/');
        size_t dlen = slash == cur ? 1 : (size_t)(slash - cur);
        memcpy(dir, cur, dlen);
        dir[dlen] = '\0';
        if (w->io.fd >= 0) {
            int wd = inotify_add_watch(w->io.fd, dir, WATCH_MASK);
            if (wd < 0)
                degraded = true; /* e.g. a directory that does not exist yet */
            else if (!has_wd(wds, n, wd))
                wds[n++] = wd;
        }
        ssize_t k = readlink(cur, link, sizeof(link) - 1);
        if (k < 0)
            break; /* not a symlink, or missing: the end of the chain */
        link[k] = '\0';
        int m = link[0] == '/' ? snprintf(cur, sizeof(cur), "%s", link)
                               : snprintf(cur, sizeof(cur), "%s/%s", dir, link);
        if ((size_t)k == sizeof(link) - 1 || m < 0 || (size_t)m >= sizeof(cur) ||
            hop + 1 == MAX_DIRS) {
            degraded = true;
            break;
        }
    }
    for (size_t i = 0; i < w->n_wds; i++)
        if (!has_wd(wds, n, w->wds[i]))
            inotify_rm_watch(w->io.fd, w->wds[i]);
    memcpy(w->wds, wds, n * sizeof(wds[0]));
    w->n_wds = n;
    if (degraded && !w->degraded)
        log_debug("cannot watch every directory on the way to %s: checking it every %d ms", w->path,
                  RESOLVCONF_POLL_DEGRADED_MS);
    w->degraded = degraded;
}

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

static void on_poll(struct loop_timer *t);

static void arm_poll(struct resolvconf *w) {
    int ms = w->degraded ? RESOLVCONF_POLL_DEGRADED_MS : RESOLVCONF_POLL_MS;
    loop_timer_at(w->loop, &w->poll, loop_now(w->loop) + ms, on_poll);
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
        w->have_id = false;
        return r;
    }
    if (w->failing)
        log_info("%s can be read again", w->path);
    w->failing = false;
    w->have_id = true;
    w->id = id_of(&st);
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

/* Follows the chain again, and reads the file when it is not the one read
 * last (or the last read failed). */
static void check(struct resolvconf *w) {
    watch_chain(w);
    struct stat st;
    if (w->have_id && stat(w->path, &st) == 0) {
        struct file_id now = id_of(&st);
        if (same_file(&w->id, &now))
            goto out;
    }
    if (load(w) == 0)
        publish(w, "changed");
out:
    arm_poll(w);
}

static void on_poll(struct loop_timer *t) {
    check(WATCH_OF_POLL(t));
}

static void on_settled(struct loop_timer *t) {
    check(WATCH_OF_SETTLE(t));
}

static void on_inotify(struct loop_io *io, uint32_t revents) {
    struct resolvconf *w = WATCH_OF_IO(io);
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool any = false;
    (void)revents;
    /* Which name changed does not matter: the stat after settling decides
     * (and IN_Q_OVERFLOW means that something did). */
    for (int i = 0; i < 64; i++) {
        ssize_t n = read(io->fd, buf, sizeof(buf));
        if (n > 0) {
            any = true;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        break;
    }
    if (any && !loop_timer_armed(&w->settle))
        loop_timer_at(w->loop, &w->settle, loop_now(w->loop) + RESOLVCONF_SETTLE_MS, on_settled);
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
    w->io.fd = -1;
    int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    int r = fd < 0 ? -errno : loop_io_add(l, &w->io, fd, EPOLLIN, on_inotify);
    if (r < 0) {
        if (fd >= 0)
            close(fd);
        log_warnx("cannot watch %s for changes (%s): checking it every %d ms", path, strerror(-r),
                  RESOLVCONF_POLL_DEGRADED_MS);
    }
    /* No good read yet: what glibc does without the file. */
    char host[256];
    host_name(host);
    search_conf_parse(&w->file, NULL, 0, host);
    watch_chain(w);
    load(w);
    r = publish(w, "at start");
    if (r < 0) {
        resolvconf_free(w);
        return r;
    }
    arm_poll(w);
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
    loop_timer_cancel(w->loop, &w->settle);
    loop_timer_cancel(w->loop, &w->poll);
    loop_io_close(w->loop, &w->io);
    free(w);
}

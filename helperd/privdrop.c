/* SPDX-License-Identifier: GPL-2.0-or-later */
/* privdrop.c: a start as root: the socket directories and the switch to the
 * configured user (see privdrop.h). */
#include "privdrop.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

#define PATH_LEN sizeof(((struct sockaddr_un *)0)->sun_path)

int priv_lookup(const char *user, struct priv_user *ret_user, char *err, size_t errlen) {
    if (geteuid() != 0 || !user || strcmp(user, "root") == 0)
        return 0;
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        snprintf(err, errlen, "user %s does not exist", user);
        return -ESRCH;
    }
    if (pw->pw_uid == 0)
        return 0; /* another name for root: nothing to switch to */
    snprintf(ret_user->name, sizeof(ret_user->name), "%s", user);
    ret_user->uid = pw->pw_uid;
    ret_user->gid = pw->pw_gid;
    return 1;
}

static void dir_of(const char *path, char *dir) {
    snprintf(dir, PATH_LEN, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, PATH_LEN, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
}

enum own_kind { OWN_NONE, OWN_NAME, OWN_SCRATCH };

/* Whether name is one the daemon itself puts in dir, as a daemon that was
 * killed may leave them: a socket, its ".new" while it is being bound, its
 * ".query_ms" link and that link's ".new", its answer map ".map"; and
 * OWN_SCRATCH for the map's mkstemp file ".map.XXXXXX", which no daemon
 * keeps (it is renamed or removed at once), so a leftover one is garbage. */
static enum own_kind own_name_kind(const char *name, const char *dir, const char *const *paths,
                                   size_t n) {
    static const char *const suffixes[] = {"", ".new", ".query_ms", ".query_ms.new", ".map"};
    char d[PATH_LEN];
    for (size_t i = 0; i < n; i++) {
        dir_of(paths[i], d);
        if (strcmp(d, dir) != 0)
            continue;
        const char *slash = strrchr(paths[i], '/');
        const char *base = slash ? slash + 1 : paths[i];
        size_t len = strlen(base);
        if (strncmp(name, base, len) != 0)
            continue;
        for (size_t k = 0; k < sizeof(suffixes) / sizeof(suffixes[0]); k++)
            if (strcmp(name + len, suffixes[k]) == 0)
                return OWN_NAME;
        if (strncmp(name + len, ".map.", 5) == 0 && strlen(name + len + 5) == 6)
            return OWN_SCRATCH;
    }
    return OWN_NONE;
}

/* The first entry of the directory at fd that is not the daemon's, into
 * foreign; false when there is none. At most the daemon's few names pass, so
 * the walk is short; a leftover map scratch file is removed on the way (the
 * directory is root's alone here). -errno when the directory cannot be read. */
static int find_foreign(int fd, const char *dir, const char *const *paths, size_t n, char *foreign,
                        size_t len) {
    int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    DIR *dp = fdopendir(dfd);
    if (!dp) {
        int e = -errno;
        close(dfd);
        return e;
    }
    int found = 0;
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        enum own_kind k = own_name_kind(de->d_name, dir, paths, n);
        if (k == OWN_SCRATCH)
            (void)unlinkat(dirfd(dp), de->d_name, 0);
        if (k != OWN_NONE)
            continue;
        snprintf(foreign, len, "%s", de->d_name);
        found = 1;
        break;
    }
    closedir(dp);
    return found;
}

/* Whether u can create, rename and remove files in a directory with st,
 * the sockets bound there by root included (a sticky directory allows the
 * last two only for files of one's own, or to its owner). */
static bool usable_by(const struct stat *st, const struct priv_user *u) {
    if (st->st_uid == u->uid)
        return (st->st_mode & S_IWUSR) != 0;
    if (st->st_mode & S_ISVTX)
        return false;
    if (st->st_gid == u->gid)
        return (st->st_mode & S_IWGRP) != 0;
    return (st->st_mode & S_IWOTH) != 0;
}

static int prepare_dir(const char *dir, const char *const *paths, size_t n,
                       const struct priv_user *u, char *err, size_t errlen) {
    /* As root, a symbolic link in the last place could point anywhere. */
    int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (u ? O_NOFOLLOW : 0);
    bool created = false;
    int fd = open(dir, flags);
    if (fd < 0 && errno == ENOENT) {
        if (mkdir(dir, 0755) == 0)
            created = true; /* only then is it ours without a look inside */
        else if (errno != EEXIST) {
            int e = errno;
            snprintf(err, errlen, "cannot create %s: %s", dir, strerror(e));
            return -e;
        }
        fd = open(dir, flags);
    }
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot use %s as the sockets' directory: %s", dir,
                 e == ELOOP ? "it is a symbolic link" : strerror(e));
        return -e;
    }
    if (!u) {
        close(fd);
        return 0;
    }
    struct stat st;
    char foreign[256] = "";
    const char *why = NULL;
    char why_buf[300];
    int r = 0;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        snprintf(err, errlen, "cannot stat %s: %s", dir, strerror(-r));
        goto out;
    }
    if (created && st.st_uid == 0) {
        /* Ours from the start: the mode in spite of the umask, then the owner. */
        if (fchmod(fd, 0755) < 0 || fchown(fd, u->uid, u->gid) < 0) {
            r = -errno;
            snprintf(err, errlen, "cannot give %s to user %s: %s", dir, u->name, strerror(-r));
            goto out;
        }
        log_info("created %s for user %s", dir, u->name);
        goto out;
    }
    if (usable_by(&st, u))
        goto out;
    /* A directory only root may write in that holds nothing but the daemon's
     * own files was made for the daemon (by an earlier start as root, or an
     * admin's mkdir): take it. Anything else may be shared, and is left as is. */
    if (st.st_uid == u->uid) {
        why = "its owner may not write in it";
    } else if (st.st_uid != 0) {
        snprintf(why_buf, sizeof(why_buf), "it belongs to uid %u", (unsigned)st.st_uid);
        why = why_buf;
    } else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(why_buf, sizeof(why_buf), "it is writable by others (mode %04o)",
                 (unsigned)(st.st_mode & 07777));
        why = why_buf;
    } else if ((r = find_foreign(fd, dir, paths, n, foreign, sizeof(foreign))) != 0) {
        if (r < 0)
            snprintf(why_buf, sizeof(why_buf), "cannot read it: %s", strerror(-r));
        else
            snprintf(why_buf, sizeof(why_buf), "it holds files that are not the daemon's (%s)",
                     foreign);
        why = why_buf;
    } else if (fchown(fd, u->uid, u->gid) < 0) {
        snprintf(why_buf, sizeof(why_buf), "cannot change its owner: %s", strerror(errno));
        why = why_buf;
    } else {
        log_info("took over %s for user %s (it held only the daemon's own files)", dir, u->name);
    }
    if (why) {
        snprintf(err, errlen,
                 "cannot publish sockets in %s as user %s: %s; give the sockets a directory "
                 "owned by %s (systemd: RuntimeDirectory=)",
                 dir, u->name, why, u->name);
        r = -EACCES;
    } else {
        r = 0;
    }
out:
    close(fd);
    return r;
}

int priv_prepare_dirs(const char *const *socket_paths, size_t n, const struct priv_user *u,
                      char *err, size_t errlen) {
    char dir[PATH_LEN], prev[PATH_LEN];
    for (size_t i = 0; i < n; i++) {
        dir_of(socket_paths[i], dir);
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) {
            dir_of(socket_paths[j], prev);
            seen = strcmp(prev, dir) == 0;
        }
        if (seen)
            continue;
        int r = prepare_dir(dir, socket_paths, n, u, err, errlen);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Whether any capability is left in the permitted, effective or inheritable
 * set (the ambient set is a subset of permitted and inheritable). */
static int caps_left(bool *ret_left) {
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capget, &hdr, data) < 0)
        return -errno;
    bool left = false;
    for (size_t i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
        left |= data[i].permitted || data[i].effective || data[i].inheritable;
    *ret_left = left;
    return 0;
}

int priv_drop(const struct priv_user *u, char *err, size_t errlen) {
    if (setgroups(0, NULL) < 0 || setgid(u->gid) < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot switch to the group of user %s: %s", u->name, strerror(e));
        return -e;
    }
    /* The daemon never runs a program, so nothing it could exec (a setuid
     * binary, a file with capabilities) may give privileges back. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(e));
        return -e;
    }
    /* An empty bounding set as well, where root may empty it (a container
     * without CAP_SETPCAP may not: no_new_privs covers that case). */
    for (int cap = 0; cap <= 63; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno == EINVAL)
            break; /* past the last capability this kernel knows */
    if (setuid(u->uid) < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot switch to user %s: %s", u->name, strerror(e));
        return -e;
    }
    /* Verified, not assumed: a kernel or a security module with other
     * rules would otherwise leave a way back. */
    bool left = true;
    int r = caps_left(&left);
    if (setuid(0) == 0 || setgid(0) == 0 || geteuid() != u->uid || getegid() != u->gid || r < 0 ||
        left) {
        snprintf(err, errlen, "switched to user %s, but root could be regained%s", u->name,
                 r < 0  ? " (cannot read the capabilities)"
                 : left ? " (capabilities left)"
                        : "");
        return -EPERM;
    }
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_peer.c: unit tests for the module's trust rule (common/peer.c):
 * root always; otherwise only the owner of a socket directory that nobody
 * else may write in.
 */
#include "peer.h"

#include <check.h>

#include "check-run.h"
#include <errno.h>
#include <sys/stat.h>

START_TEST(peer_root_is_always_trusted) {
    ck_assert(peer_trusted(0, 0, 0755));
    ck_assert(peer_trusted(0, 1000, 0700));
    ck_assert(peer_trusted(0, 0, 01777)); /* even in /tmp: root can do anything */
}
END_TEST

START_TEST(peer_directory_owner_is_trusted_in_a_private_directory) {
    ck_assert(peer_trusted(105, 105, 0755)); /* /run/dot-helperd, RuntimeDirectory= */
    ck_assert(peer_trusted(105, 105, 0700));
    ck_assert(peer_trusted(105, 105, 0555));
}
END_TEST

START_TEST(peer_others_are_not_trusted) {
    ck_assert(!peer_trusted(1000, 105, 0755));  /* someone else's directory */
    ck_assert(!peer_trusted(1000, 0, 0755));    /* a root directory, not root */
    ck_assert(!peer_trusted(1000, 0, 01777));   /* /tmp */
    ck_assert(!peer_trusted(1000, 1000, 0775)); /* group may write: may be replaced */
    ck_assert(!peer_trusted(1000, 1000, 0757)); /* others may write */
    ck_assert(!peer_trusted(1000, 1000, 01777));
}
END_TEST

START_TEST(peer_socket_dir_takes_the_directory_part) {
    char b[64];
    ck_assert_int_eq(peer_socket_dir("/run/dot-helperd/socket", b, sizeof(b)), 0);
    ck_assert_str_eq(b, "/run/dot-helperd");
    ck_assert_int_eq(peer_socket_dir("/socket", b, sizeof(b)), 0);
    ck_assert_str_eq(b, "/");
    ck_assert_int_eq(peer_socket_dir("socket", b, sizeof(b)), 0);
    ck_assert_str_eq(b, ".");
    ck_assert_int_eq(peer_socket_dir("run/x/socket", b, sizeof(b)), 0);
    ck_assert_str_eq(b, "run/x");
    ck_assert_int_eq(peer_socket_dir("/run/dot-helperd/socket", b, 16), -ENAMETOOLONG);
    ck_assert_int_eq(peer_socket_dir("/run/dot-helperd/socket", b, 17), 0);
}
END_TEST

int main(void) {
    const struct check_case cases[] = {
        CHECK_CASE(peer_root_is_always_trusted),
        CHECK_CASE(peer_directory_owner_is_trusted_in_a_private_directory),
        CHECK_CASE(peer_others_are_not_trusted),
        CHECK_CASE(peer_socket_dir_takes_the_directory_part),
    };
    return check_run("peer", cases, sizeof(cases) / sizeof(cases[0]), NULL);
}

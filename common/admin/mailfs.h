/*
 * mailfs - file operations on mail homes, confined to the mail root.
 *
 * Every path is relative to an open directory (the mail root) and is walked
 * one component at a time with openat(O_NOFOLLOW): a symbolic link anywhere
 * in a path is refused, so an operation never leaves the mail root whatever a
 * user (or an attacker with write access to a mail directory) has put there.
 * Paths with "..", "." or empty components are refused too. Removal never
 * follows links inside the tree either: a link is unlinked, not descended.
 *
 * Functions return 0, or -1 with errno set and *error_r saying what failed.
 */
#ifndef MODO_MAILFS_H
#define MODO_MAILFS_H

#include <stdbool.h>
#include <sys/types.h>

/* The path of `abs` relative to `root` (both absolute, clean), or NULL if it is not under it. */
const char *mailfs_relative(const char *root, const char *abs);

/* Does rel exist (as anything)? 1, 0, or -1 (a link on the way, or another error). */
int mailfs_exists(int root_fd, const char *rel, const char **error_r);

/*
 * Rename rel_old to rel_new, creating the missing parents of rel_new (mode 0700,
 * owned by uid/gid when they are not -1). The target must not exist.
 */
int mailfs_rename(int root_fd, const char *rel_old, const char *rel_new, uid_t uid, gid_t gid,
                  const char **error_r);

/* Remove rel and everything below it. */
int mailfs_remove(int root_fd, const char *rel, const char **error_r);

#endif

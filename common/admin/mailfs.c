/*
 * mailfs - file operations confined to the mail root; see mailfs.h.
 */
#include "mailfs.h"
#include "strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* renameat */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *mailfs_relative(const char *root, const char *abs)
{
    size_t n = strlen(root);

    while (n > 1 && root[n - 1] == '/')
        n--;
    if (strncmp(abs, root, n) != 0 || abs[n] != '/')
        return NULL;
    abs += n;
    while (*abs == '/')
        abs++;
    return *abs ? abs : NULL;
}

/* Check the components of rel: no "", ".", "..". */
static int check_path(const char *rel, const char **error_r)
{
    const char *p = rel;

    if (rel == NULL || rel[0] == '\0' || rel[0] == '/') {
        *error_r = "not a relative path";
        errno = EINVAL;
        return -1;
    }
    while (*p) {
        size_t len = strcspn(p, "/");
        if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) {
            *error_r = "a path with an empty, \".\" or \"..\" component";
            errno = EINVAL;
            return -1;
        }
        p += len;
        if (*p == '/')
            p++;
    }
    return 0;
}

/*
 * Open the directory holding the last component of rel (never following links);
 * *last points at that component. With create, missing directories are made.
 */
static int open_parent(int root_fd, const char *rel, bool create, uid_t uid, gid_t gid,
                       const char **last, const char **error_r)
{
    char *copy, *p, *slash;
    int fd, next;

    if (check_path(rel, error_r) < 0)
        return -1;
    fd = dup(root_fd);
    if (fd < 0) {
        *error_r = "dup";
        return -1;
    }
    copy = xstrdup(rel);
    p = copy;
    while ((slash = strchr(p, '/')) != NULL) {
        *slash = '\0';
        next = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(fd, p, 0700) < 0 && errno != EEXIST) {
                *error_r = "cannot create a parent directory";
                goto fail;
            }
            next = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (next >= 0 && (uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(next, uid, gid) < 0) {
                int e = errno;
                close(next);
                errno = e;
                *error_r = "cannot give a new parent directory to the mail user";
                goto fail;
            }
        }
        if (next < 0) {
            *error_r = errno == ELOOP || errno == ENOTDIR
                           ? "a symbolic link or a file on the way (refused)"
                           : "cannot open a parent directory";
            goto fail;
        }
        close(fd);
        fd = next;
        p = slash + 1;
    }
    *last = rel + (p - copy);
    free(copy);
    return fd;
fail: {
    int e = errno;
    close(fd);
    free(copy);
    errno = e;
    return -1;
}
}

int mailfs_exists(int root_fd, const char *rel, const char **error_r)
{
    const char *last;
    struct stat st;
    int fd = open_parent(root_fd, rel, false, (uid_t)-1, (gid_t)-1, &last, error_r);

    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    if (fstatat(fd, last, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        if (e == ENOENT)
            return 0;
        *error_r = "cannot stat";
        return -1;
    }
    close(fd);
    if (S_ISLNK(st.st_mode)) {
        *error_r = "a symbolic link (refused)";
        errno = ELOOP;
        return -1;
    }
    return 1;
}

int mailfs_rename(int root_fd, const char *rel_old, const char *rel_new, uid_t uid, gid_t gid,
                  const char **error_r)
{
    const char *old_last, *new_last;
    struct stat st;
    int ofd, nfd, rc, e;

    if ((ofd = open_parent(root_fd, rel_old, false, (uid_t)-1, (gid_t)-1, &old_last, error_r)) < 0)
        return -1;
    if (fstatat(ofd, old_last, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISLNK(st.st_mode)) {
        e = S_ISLNK(st.st_mode) ? ELOOP : errno;
        *error_r = e == ELOOP ? "the old home is a symbolic link (refused)" : "no old home";
        close(ofd);
        errno = e;
        return -1;
    }
    if ((nfd = open_parent(root_fd, rel_new, true, uid, gid, &new_last, error_r)) < 0) {
        e = errno;
        close(ofd);
        errno = e;
        return -1;
    }
    if (fstatat(nfd, new_last, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        *error_r = "the new home exists already";
        close(ofd);
        close(nfd);
        errno = EEXIST;
        return -1;
    }
    rc = renameat(ofd, old_last, nfd, new_last);
    e = errno;
    if (rc < 0)
        *error_r = e == EXDEV ? "the new home is on another file system" : "rename failed";
    close(ofd);
    close(nfd);
    errno = e;
    return rc;
}

/* Remove the contents of an open directory, then nothing else (the caller removes it). */
static int remove_contents(int dfd, int depth, const char **error_r)
{
    DIR *d;
    struct dirent *de;
    int rc = 0;

    if (depth > 64) {
        *error_r = "directory tree too deep";
        errno = ELOOP;
        close(dfd);
        return -1;
    }
    if ((d = fdopendir(dfd)) == NULL) {
        *error_r = "cannot read a directory";
        close(dfd);
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            rc = -1;
            *error_r = "cannot stat an entry";
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0 || remove_contents(sub, depth + 1, error_r) < 0) {
                if (sub < 0)
                    *error_r = "cannot open a directory";
                rc = -1;
                continue;
            }
            if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0) {
                *error_r = "cannot remove a directory";
                rc = -1;
            }
        } else if (unlinkat(dirfd(d), de->d_name, 0) < 0) {
            *error_r = "cannot remove a file";
            rc = -1;
        }
    }
    closedir(d);
    return rc;
}

int mailfs_remove(int root_fd, const char *rel, const char **error_r)
{
    const char *last;
    struct stat st;
    int pfd, dfd, rc = 0, e;

    if ((pfd = open_parent(root_fd, rel, false, (uid_t)-1, (gid_t)-1, &last, error_r)) < 0)
        return -1;
    if (fstatat(pfd, last, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        e = errno;
        *error_r = "no such home";
        close(pfd);
        errno = e;
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        dfd = openat(pfd, last, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0 || remove_contents(dfd, 0, error_r) < 0)
            rc = -1;
        if (dfd < 0)
            *error_r = "cannot open the home";
        if (rc == 0 && unlinkat(pfd, last, AT_REMOVEDIR) < 0) {
            *error_r = "cannot remove the home";
            rc = -1;
        }
    } else if (unlinkat(pfd, last, 0) < 0) { /* a link or a file in place of a home */
        *error_r = "cannot remove";
        rc = -1;
    }
    e = errno;
    close(pfd);
    errno = e;
    return rc;
}

/*
 * logfollow - read a growing log file line by line across rotation; see logfollow.h.
 */
#include "logfollow.h"

#include "strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct logfollow {
    char *path;
    int fd;
    struct logfollow_pos pos;
    bool skipping; /* inside a line longer than max_line */
    size_t max_line;
    char *buf;
    size_t cap;
    unsigned long long overlong;
};

/* FNV-1a of the first len bytes of fd; false if it has fewer */
static bool head_of(int fd, unsigned len, unsigned *hash)
{
    char b[64];

    if (len > sizeof(b) || pread(fd, b, len, 0) != (ssize_t)len)
        return false;
    *hash = str_hash(b, len);
    return true;
}

/* Is the file at path (fd) the one pos was taken in? Same inode, and the same first bytes. */
static bool same_file(int fd, const struct stat *st, const struct logfollow_pos *pos)
{
    unsigned h;

    return st->st_dev == pos->dev && st->st_ino == pos->ino &&
           (pos->head_len == 0 || (head_of(fd, pos->head_len, &h) && h == pos->head_hash));
}

static int open_at(struct logfollow *lf, const char *path, off_t offset)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (lf->fd >= 0)
        close(lf->fd);
    lf->fd = fd;
    lf->pos.dev = st.st_dev;
    lf->pos.ino = st.st_ino;
    lf->pos.offset = offset <= st.st_size ? offset : 0; /* shorter: truncated */
    lf->skipping = false;
    return 0;
}

/* Open path and tell whether it is the file of pos (-1: cannot open) */
static int is_file_of(const char *path, const struct logfollow_pos *pos)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC), same;

    if (fd < 0)
        return -1;
    same = fstat(fd, &st) == 0 && same_file(fd, &st, pos);
    close(fd);
    return same;
}

struct logfollow *logfollow_open(const char *path, const struct logfollow_pos *pos,
                                 size_t max_line)
{
    struct logfollow *lf = xcalloc(1, sizeof(*lf));
    struct strbuf old = STRBUF_INIT;
    int rc;

    lf->fd = -1;
    lf->path = xstrdup(path);
    lf->max_line = max_line > 0 ? max_line : 16384;
    lf->cap = lf->max_line + 1 < 65536 ? 65536 : lf->max_line + 1;
    lf->buf = xmalloc(lf->cap);
    if (pos != NULL && is_file_of(path, pos) == 0) {
        /* rotated while nobody read: finish the old file first, if it is still there */
        strbuf_printf(&old, "%s.1", path);
        if (is_file_of(old.data, pos) == 1 && open_at(lf, old.data, pos->offset) == 0) {
            strbuf_free(&old);
            return lf;
        }
        pos = NULL; /* gone: the new file from its start */
    }
    strbuf_free(&old);
    rc = open_at(lf, path, pos != NULL ? pos->offset : 0);
    if (rc < 0) {
        int e = errno;
        logfollow_close(&lf);
        errno = e;
        return NULL;
    }
    return lf;
}

/* Read lines from the current file to its end (or until *budget is spent); *at_end says
 * whether all of it was read. The offset moves past each line as it is delivered. */
static long read_lines(struct logfollow *lf, logfollow_cb *cb, void *arg, bool last, bool *at_end,
                       long *budget)
{
    long delivered = 0;

    *at_end = false;
    for (;;) {
        off_t base = lf->pos.offset;
        ssize_t n;
        const char *p, *end, *nl;

        if (*budget <= 0)
            return delivered;
        n = pread(lf->fd, lf->buf, lf->cap, base);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) {
            *at_end = true;
            return delivered;
        }
        p = lf->buf;
        end = lf->buf + n;
        while (*budget > 0 && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            if (lf->skipping)
                lf->skipping = false; /* the end of an overlong line */
            else if ((size_t)(nl - p) > lf->max_line)
                lf->overlong++;
            else {
                cb(arg, p, (size_t)(nl - p));
                delivered++;
                --*budget;
            }
            p = nl + 1;
            lf->pos.offset = base + (p - lf->buf);
        }
        if (*budget <= 0)
            return delivered;
        if (p == lf->buf && (size_t)n == lf->cap) {
            /* a whole buffer without a newline: a line too long, skipped up to its end */
            if (!lf->skipping)
                lf->overlong++;
            lf->skipping = true;
            p = end;
        }
        if (p == lf->buf && (size_t)n < lf->cap) {
            /* only a line still being written is left */
            if (last && !lf->skipping && (size_t)n <= lf->max_line) {
                cb(arg, lf->buf, (size_t)n); /* a rotated file's last line has no newline */
                delivered++;
                --*budget;
                p = end;
            } else {
                *at_end = true;
                return delivered;
            }
        }
        lf->pos.offset = base + (p - lf->buf);
    }
}

long logfollow_poll(struct logfollow *lf, logfollow_cb *cb, void *arg)
{
    return logfollow_poll_some(lf, cb, arg, LONG_MAX);
}

long logfollow_poll_some(struct logfollow *lf, logfollow_cb *cb, void *arg, long max)
{
    long total = 0, n, budget = max > 0 ? max : LONG_MAX;
    struct stat cur, named;
    bool at_end;

    for (;;) {
        if (fstat(lf->fd, &cur) == 0 && cur.st_size < lf->pos.offset) {
            lf->pos.offset = 0; /* copytruncate */
            lf->skipping = false;
        }
        n = read_lines(lf, cb, arg, false, &at_end, &budget);
        if (n < 0)
            return -1;
        total += n;
        if (!at_end)
            return total; /* the budget is spent: the rest at the next poll */
        /* rotated: the path names another file; this one is done once read to its end */
        if (stat(lf->path, &named) < 0 || (named.st_dev == lf->pos.dev && named.st_ino == lf->pos.ino))
            return total;
        if ((n = read_lines(lf, cb, arg, true, &at_end, &budget)) < 0)
            return -1;
        total += n;
        if (!at_end && budget <= 0)
            return total;
        if (open_at(lf, lf->path, 0) < 0)
            return total; /* not there yet: next poll */
    }
}

void logfollow_pos(const struct logfollow *lf, struct logfollow_pos *pos)
{
    *pos = lf->pos;
    pos->head_len = lf->pos.offset < 64 ? (unsigned)lf->pos.offset : 64;
    if (!head_of(lf->fd, pos->head_len, &pos->head_hash))
        pos->head_len = 0;
}

unsigned long long logfollow_overlong(const struct logfollow *lf)
{
    return lf->overlong;
}

void logfollow_close(struct logfollow **lfp)
{
    struct logfollow *lf = *lfp;

    if (lf == NULL)
        return;
    if (lf->fd >= 0)
        close(lf->fd);
    free(lf->buf);
    free(lf->path);
    free(lf);
    *lfp = NULL;
}

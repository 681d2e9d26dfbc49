/*
 * logfollow - read a growing log file line by line, across rotation and copytruncate,
 * from a checkpoint (device, inode, offset) that survives restarts: no line read twice,
 * none skipped.
 *
 *  - Lines are delivered whole, without their '\n'; a last line still being written is
 *    kept for the next poll. The checkpoint is always the first byte not yet delivered.
 *  - Rotation (the path names another file): the old file is read to its end first (its
 *    last line too, newline or not), then the new one from its start.
 *  - copytruncate (the file is shorter than the checkpoint): read again from the start.
 *  - A checkpoint whose file was rotated while nobody read: the old file is looked for as
 *    PATH.1 (logrotate's name) and read from the checkpoint first.
 *  - A line longer than max_line is skipped and counted, never delivered in pieces.
 */
#ifndef MODO_LOGFOLLOW_H
#define MODO_LOGFOLLOW_H

#include <stddef.h>
#include <sys/types.h>

struct logfollow_pos {
    dev_t dev;
    ino_t ino;
    off_t offset;
    /* the file's first bytes (up to 64, never past offset): an inode number reused by a new
     * file after rotation is told from the file it was */
    unsigned head_len;
    unsigned head_hash;
};

struct logfollow;

typedef void logfollow_cb(void *arg, const char *line, size_t len);

/* Follow path from pos (NULL: from the start of the file there now). NULL with errno. */
struct logfollow *logfollow_open(const char *path, const struct logfollow_pos *pos,
                                 size_t max_line);
/* Deliver every complete new line; the number delivered, or -1 with errno. */
long logfollow_poll(struct logfollow *lf, logfollow_cb *cb, void *arg);
/* The same, stopping after max lines (the checkpoint is then just past the last one). */
long logfollow_poll_some(struct logfollow *lf, logfollow_cb *cb, void *arg, long max);
/* The checkpoint to store: the first byte not yet delivered, in the file being read. */
void logfollow_pos(const struct logfollow *lf, struct logfollow_pos *pos);
/* Lines skipped for being longer than max_line. */
unsigned long long logfollow_overlong(const struct logfollow *lf);
void logfollow_close(struct logfollow **lf);

#endif

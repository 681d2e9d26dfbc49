/*
 * Following a log file: whole lines only, checkpoints across restarts, rotation (also while
 * nobody read), copytruncate, overlong lines.
 */
#include "logfollow.h"
#include "strbuf.h"
#include "tap.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct strbuf got;
static char dir[] = "/tmp/modo-logfollow.XXXXXX";
static char path[256], rotated[256];

static void line(void *arg, const char *l, size_t len)
{
    (void)arg;
    strbuf_append(&got, l, len);
    strbuf_putc(&got, '|');
}

static void append(const char *p, const char *text)
{
    FILE *f = fopen(p, "a");
    fputs(text, f);
    fclose(f);
}

static const char *poll_all(struct logfollow *lf)
{
    strbuf_reset(&got);
    strbuf_puts(&got, "");
    logfollow_poll(lf, line, NULL);
    return got.data;
}

int main(void)
{
    struct logfollow *lf;
    struct logfollow_pos pos;

    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof(path), "%s/mail.log", dir);
    snprintf(rotated, sizeof(rotated), "%s/mail.log.1", dir);
    append(path, "one\ntwo\nthr");
    lf = logfollow_open(path, NULL, 64);
    ok(lf != NULL, "open");
    is_str(poll_all(lf), "one|two|", "whole lines only: a line being written waits");
    logfollow_pos(lf, &pos);
    is_int(pos.offset, 8, "the checkpoint is the first byte not delivered");
    append(path, "ee\nfour\n");
    is_str(poll_all(lf), "three|four|", "the rest of the line, then the next");
    is_str(poll_all(lf), "", "nothing new: nothing");
    logfollow_pos(lf, &pos);
    logfollow_close(&lf);

    /* restart from the checkpoint */
    append(path, "five\n");
    lf = logfollow_open(path, &pos, 64);
    is_str(poll_all(lf), "five|", "restarted from its checkpoint: only what is new");

    /* rotation while running: syslog writes a last line to the old file, without newline */
    rename(path, rotated);
    append(rotated, "six\nseven");
    append(path, "eight\n");
    is_str(poll_all(lf), "six|seven|eight|", "rotated: the old file to its end (its last line too), then the new");
    logfollow_pos(lf, &pos);
    logfollow_close(&lf);

    /* rotated while nobody read */
    append(path, "nine\n");
    rename(path, rotated);
    append(path, "ten\n");
    lf = logfollow_open(path, &pos, 64);
    is_str(poll_all(lf), "nine|ten|", "rotated while stopped: the rest of PATH.1, then the new file");
    logfollow_pos(lf, &pos);
    logfollow_close(&lf);
    unlink(rotated);
    rename(path, rotated);
    unlink(rotated);
    append(path, "eleven\n");
    lf = logfollow_open(path, &pos, 64);
    is_str(poll_all(lf), "eleven|", "the old file gone too: the new file from its start");

    /* copytruncate */
    append(path, "twelve\n");
    is_str(poll_all(lf), "twelve|", "before copytruncate");
    ok(truncate(path, 0) == 0, "truncated");
    append(path, "13\n");
    is_str(poll_all(lf), "13|", "copytruncate: read again from the start");

    /* overlong lines */
    {
        char big[200];
        memset(big, 'x', sizeof(big) - 2);
        big[sizeof(big) - 2] = '\n';
        big[sizeof(big) - 1] = '\0';
        append(path, big);
        append(path, "fourteen\n");
        is_str(poll_all(lf), "fourteen|", "a line over max_line is skipped");
        is_int((long long)logfollow_overlong(lf), 1, "... and counted");
    }
    logfollow_close(&lf);
    {
        /* longer than the read buffer (64 KiB), arriving in two parts */
        size_t n = 100000;
        char *huge = malloc(n + 1);
        memset(huge, 'y', n);
        huge[n] = '\0';
        lf = logfollow_open(path, NULL, 64);
        poll_all(lf);
        append(path, huge);
        is_str(poll_all(lf), "", "a 100,000-byte line without its end yet: nothing");
        append(path, "y\nfifteen\n");
        is_str(poll_all(lf), "fifteen|", "... its end: skipped whole, the next line read");
        is_int((long long)logfollow_overlong(lf), 2, "... counted once (with the earlier one)");
        free(huge);
        logfollow_close(&lf);
    }
    {
        /* a budget: the checkpoint just past the last line delivered, in a rotated file too */
        unlink(path);
        append(path, "a1\na2\na3\na4\na5\n");
        lf = logfollow_open(path, NULL, 64);
        strbuf_reset(&got);
        strbuf_puts(&got, "");
        is_int(logfollow_poll_some(lf, line, NULL, 2), 2, "budget 2: two lines");
        is_str(got.data, "a1|a2|", "... the first two");
        logfollow_pos(lf, &pos);
        is_int(pos.offset, 6, "... the checkpoint just past the second");
        logfollow_close(&lf);
        lf = logfollow_open(path, &pos, 64);
        if (rename(path, rotated) != 0)
            return 1;
        append(rotated, "a6");
        append(path, "b1\nb2\n");
        strbuf_reset(&got);
        strbuf_puts(&got, "");
        is_int(logfollow_poll_some(lf, line, NULL, 4), 4, "rotated: budget 4");
        is_str(got.data, "a3|a4|a5|a6|", "... the old file's rest, its last line without newline");
        is_str(poll_all(lf), "b1|b2|", "... then the new file");
        logfollow_close(&lf);
        unlink(rotated);
    }
    ok(logfollow_open("/nonexistent/mail.log", NULL, 64) == NULL, "a file that is not there: NULL");
    unlink(path);
    rmdir(dir);
    strbuf_free(&got);
    return done_testing();
}

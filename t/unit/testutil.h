/*
 * testutil - small helpers shared by the C tests.
 */
#ifndef MODO_TESTUTIL_H
#define MODO_TESTUTIL_H

#include "store.h"
#include "strbuf.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The whole file, NUL-terminated, or NULL. */
static inline char *slurp(const char *path, size_t *len_r)
{
    struct strbuf sb = STRBUF_INIT;

    if (strbuf_read_file(&sb, path) < 0) {
        strbuf_free(&sb);
        return NULL;
    }
    if (len_r != NULL)
        *len_r = sb.len;
    return strbuf_steal(&sb);
}

static int testutil_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * An answer as text: cells joined by '|' (NULL as "NULL"), rows sorted and
 * joined by ';'. With first_column_only, only each row's first cell. Malloc'd.
 */
static inline char *answer_text(const struct store_answer *ans, int first_column_only)
{
    char **rows = xcalloc(ans->nrows + 1, sizeof(*rows));
    struct strbuf out = STRBUF_INIT;
    size_t r, c, ncols = first_column_only && ans->ncols ? 1 : ans->ncols;

    for (r = 0; r < ans->nrows; r++) {
        struct strbuf row = STRBUF_INIT;
        for (c = 0; c < ncols; c++) {
            const char *v = ans->cells[r * ans->ncols + c];
            if (c)
                strbuf_putc(&row, '|');
            strbuf_puts(&row, v ? v : "NULL");
        }
        rows[r] = strbuf_steal(&row);
    }
    qsort(rows, ans->nrows, sizeof(*rows), testutil_cmp_str);
    for (r = 0; r < ans->nrows; r++) {
        if (r)
            strbuf_putc(&out, ';');
        strbuf_puts(&out, rows[r]);
        free(rows[r]);
    }
    free(rows);
    return strbuf_steal(&out);
}

/* An answer waited for: done once the callback ran; rows as answer_text(ans, 1). */
struct got {
    bool done;
    int status;
    char *rows;
};

static inline void got_first_column(const struct store_answer *ans, void *arg)
{
    struct got *g = arg;

    g->done = true;
    g->status = ans->status;
    g->rows = answer_text(ans, 1);
}

static inline double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Run the event loop for ms milliseconds (timers, notifications, Redis replies). */
static inline void run_loop_ms(struct event_base *base, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

#endif

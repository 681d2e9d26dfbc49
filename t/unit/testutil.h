/*
 * testutil - small helpers shared by the C tests.
 */
#ifndef MODO_TESTUTIL_H
#define MODO_TESTUTIL_H

#include "store.h"
#include "strbuf.h"

#include <stdlib.h>
#include <string.h>

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

#endif

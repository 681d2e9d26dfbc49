/*
 * The encoding of answers in L1 and Redis: round trips, and garbage (a Redis
 * shared with other programs may hold anything) refused rather than trusted.
 */
#include "tap.h"

#include "cache.h"

#include <stdlib.h>

static void roundtrip(const struct store_answer *a, const char *name)
{
    struct store_answer b;
    char *arena = NULL, *enc;
    size_t len, i;
    int same;

    enc = cache_encode_answer(a, &len);
    if (!ok(cache_decode_answer(enc, len, &b, &arena) == 0, "%s: decodes (%s)", name, enc)) {
        free(enc);
        return;
    }
    same = b.status == a->status && b.nrows == a->nrows && b.ncols == a->ncols &&
           b.valid_until == a->valid_until;
    for (i = 0; same && i < a->nrows * a->ncols; i++)
        same = (a->cells[i] == NULL && b.cells[i] == NULL) ||
               (a->cells[i] && b.cells[i] && strcmp(a->cells[i], b.cells[i]) == 0);
    ok(same, "%s: same answer back", name);
    free(arena);
    free(enc);
}

static void garbage(const char *data, const char *name)
{
    struct store_answer b;
    char *arena = NULL;

    ok(cache_decode_answer(data, strlen(data), &b, &arena) == -1, "refused: %s", name);
}

int main(void)
{
    const char *cells1[] = {"user@test.com", "copy@external.test"};
    const char *cells2[] = {"a:b", NULL, "", "x,y"};
    struct store_answer none = {0};
    struct store_answer one = {.status = 1, .nrows = 2, .ncols = 1, .cells = cells1};
    struct store_answer nulls = {.status = 1, .nrows = 2, .ncols = 2, .cells = cells2,
                                 .valid_until = 32472144000};

    roundtrip(&none, "not found");
    roundtrip(&one, "two rows");
    roundtrip(&nulls, "NULL, empty and ':' cells, with expiry");
    garbage("", "empty");
    garbage("1:1:1:0:", "missing cell");
    garbage("1:1:1:0:5:abc", "short cell");
    garbage("1:1:1:0:3:abcdef", "trailing bytes");
    garbage("2:1:1:0:1:a", "status 2");
    garbage("-1:0:0:0:", "error status");
    garbage("1:99:99:0:", "more cells than bytes");
    garbage("1:1:1:0:-3:abc", "negative length");
    garbage("x:1:1:0:1:a", "not a number");
    garbage("1:1:1:99999999999999999999:1:a", "overflowing number");
    garbage("1:1", "truncated header");
    return done_testing();
}

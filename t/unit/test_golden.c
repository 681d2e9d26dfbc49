/*
 * Golden transcripts of every codec: each t/data/golden/<codec>-<name>.in is
 * decoded whole and in chunks of 1, 2 and 7 bytes; every run must print
 * exactly <codec>-<name>.ref. MODO_GOLDEN_UPDATE=1 rewrites the .ref files
 * (review the diff before committing).
 */
#include "tap.h"
#include "codec_dump.h"
#include "testutil.h"

#include <dirent.h>
#include <stdlib.h>

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    const char *srcdir = getenv("srcdir") ? getenv("srcdir") : ".";
    static const size_t chunks[] = {0, 1, 2, 7};
    char dir[1024], *names[256];
    size_t nnames = 0, i, c;
    struct dirent *de;
    DIR *d;
    int update = getenv("MODO_GOLDEN_UPDATE") != NULL;

    snprintf(dir, sizeof(dir), "%s/t/data/golden", srcdir);
    d = opendir(dir);
    if (!ok(d != NULL, "golden directory %s exists", dir))
        return done_testing();
    while ((de = readdir(d)) != NULL && nnames < 256) {
        size_t l = strlen(de->d_name);
        if (l > 3 && strcmp(de->d_name + l - 3, ".in") == 0)
            names[nnames++] = xstrndup(de->d_name, l - 3);
    }
    closedir(d);
    qsort(names, nnames, sizeof(names[0]), cmp_names);
    ok(nnames >= 20, "found %zu golden transcripts", nnames);
    for (i = 0; i < nnames; i++) {
        char path[2048], codec[64];
        size_t inlen = 0, reflen = 0;
        char *in, *ref;
        const char *dash = strchr(names[i], '-');

        snprintf(codec, sizeof(codec), "%.*s", (int)(dash - names[i]), names[i]);
        snprintf(path, sizeof(path), "%s/%s.in", dir, names[i]);
        in = slurp(path, &inlen);
        if (!ok(in != NULL, "read %s", path))
            continue;
        snprintf(path, sizeof(path), "%s/%s.ref", dir, names[i]);
        if (update) {
            struct strbuf out = STRBUF_INIT;
            FILE *fp = fopen(path, "w");
            codec_dump(codec, in, inlen, 0, &out);
            fwrite(out.data, 1, out.len, fp);
            fclose(fp);
            strbuf_free(&out);
        }
        ref = slurp(path, &reflen);
        if (!ok(ref != NULL, "read %s", path)) {
            free(in);
            continue;
        }
        for (c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
            struct strbuf out = STRBUF_INIT;
            codec_dump(codec, in, inlen, chunks[c], &out);
            if (!is_str(out.data, ref, "%s in chunks of %zu", names[i], chunks[c]))
                break;
            strbuf_free(&out);
        }
        free(in);
        free(ref);
        free(names[i]);
    }
    return done_testing();
}

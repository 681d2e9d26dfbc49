/*
 * libFuzzer harness for the CSV reader and writer (modoctl import/export): whatever
 * the input, reading never crashes, and every record read, written back and read
 * again gives the same fields (an export imports back unchanged).
 */
#include "csv.h"
#include "strbuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data + 1, *err;
    size_t len, pos = 0, line = 1, i;
    struct csv_record rec, again;
    char sep;

    if (size == 0)
        return 0;
    sep = data[0] % 2 ? ';' : ',';
    len = size - 1;
    while (csv_next(text, len, &pos, &line, sep, &rec, &err) == 1) {
        struct strbuf out = STRBUF_INIT;
        size_t p2 = 0, l2 = 1;
        csv_write(&out, sep, (const char *const *)rec.fields, rec.nfields);
        if (csv_next(out.data, out.len, &p2, &l2, sep, &again, &err) != 1 || p2 != out.len ||
            again.nfields != rec.nfields)
            abort();
        for (i = 0; i < rec.nfields; i++)
            if (strcmp(rec.fields[i], again.fields[i]) != 0)
                abort();
        csv_record_free(&again);
        csv_record_free(&rec);
        strbuf_free(&out);
        if (pos > len)
            abort();
    }
    return 0;
}

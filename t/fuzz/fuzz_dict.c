/*
 * libFuzzer harness for the dict codec: the input is decoded whole and again
 * in chunks whose size comes from the first byte; both runs must print the
 * same events (splitting a stream never changes what a server sees).
 */
#include "codec_dump.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct strbuf whole = STRBUF_INIT, split = STRBUF_INIT;
    size_t chunk;

    if (size == 0)
        return 0;
    chunk = (size_t)(data[0] % 16) + 1;
    codec_dump("dict", (const char *)data + 1, size - 1, 0, &whole);
    codec_dump("dict", (const char *)data + 1, size - 1, chunk, &split);
    if (whole.len != split.len || memcmp(whole.data, split.data, whole.len) != 0)
        abort();
    strbuf_free(&whole);
    strbuf_free(&split);
    return 0;
}

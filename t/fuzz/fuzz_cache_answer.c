/*
 * libFuzzer harness for the cache's answer decoder (bytes read back from Redis):
 * whatever decodes must encode back to the same bytes.
 */
#include "cache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct store_answer ans;
    char *arena = NULL, *enc;
    size_t len;

    if (cache_decode_answer((const char *)data, size, &ans, &arena) < 0)
        return 0;
    enc = cache_encode_answer(&ans, &len);
    /* leading zeros and "-0" decode too; compare only canonical inputs */
    if (len == size && memcmp(enc, data, size) != 0 && memchr(data, 0, size) == NULL)
        abort();
    free(enc);
    free(arena);
    return 0;
}

/*
 * libFuzzer harness for modo-checkpassword's readers (cpw_input.c): the input is read as
 * Dovecot's fd 3 data, as an answer line from modo-dictd, and as its fields; invariants:
 * a parsed user is non-empty and both strings fit, the fields found are the ones looked
 * up, a reply is O, N, F or refused.
 */
#include "cpw_input.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cpw_input in;
    struct cpw_fields f;
    const char *err;
    char *copy, *v;
    size_t i;
    int rc;

    if (cpw_parse_input((const char *)data, size, &in, &err) == 0) {
        if (in.user[0] == '\0' || strlen(in.user) > CPW_MAX_INPUT ||
            strlen(in.password) > CPW_MAX_INPUT)
            abort();
    } else if (err == NULL) {
        abort();
    }
    copy = malloc(size + 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    rc = cpw_parse_reply(copy, size, &v);
    if (rc != -1 && rc != 'O' && rc != 'N' && rc != 'F')
        abort();
    memcpy(copy, data, size);
    copy[size] = '\0';
    if (cpw_parse_fields(copy, &f, &err) == 0) {
        if (f.n > CPW_MAX_FIELDS)
            abort();
        for (i = 0; i < f.n; i++)
            if (cpw_field(&f, f.names[i]) == NULL || f.names[i][0] == '\0')
                abort();
    }
    free(copy);
    return 0;
}

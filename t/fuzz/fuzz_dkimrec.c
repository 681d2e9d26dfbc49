/*
 * libFuzzer harness for the DKIM record reader (dkimrec.c): served TXT data is untrusted.
 * Invariants: a parsed record has its key (possibly empty: revoked), a revoked record has
 * no key bytes, an ed25519 key is 32 bytes, and the record carries its own key.
 */
#include "dkimrec.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dkim_record r;
    const char *err = NULL;

    if (dkim_record_parse((const char *)data, size, &r, &err) == 0) {
        if (r.p == NULL || (r.revoked && r.key_bytes != 0) ||
            (!r.revoked && r.type == DKIM_KEY_ED25519 && r.key_bytes != 32) ||
            !dkim_record_has_key(&r, r.p))
            abort();
        dkim_record_free(&r);
    } else if (err == NULL) {
        abort();
    }
    return 0;
}

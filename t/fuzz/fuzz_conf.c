/*
 * libFuzzer harness for the modo.conf loader (libinih behind modo's own line reader,
 * which hands it lines of any length): whatever the text, loading never crashes, and
 * it either gives a configuration or an error that names the file.
 */
#include "conf.h"
#include "strbuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = xstrndup((const char *)data, size), *err = NULL;
    struct conf *c = conf_load_string("fuzz.conf", text, &err);

    if (c == NULL) {
        if (err == NULL || strncmp(err, "fuzz.conf:", 10) != 0)
            abort();
        free(err);
    } else {
        /* a value set from the text says where: "fuzz.conf:LINE" */
        const char *o = conf_origin(c, "lookupd", "listen");
        if (strcmp(o, "default") != 0 && strncmp(o, "fuzz.conf:", 10) != 0)
            abort();
        conf_free(&c);
    }
    free(text);
    return 0;
}

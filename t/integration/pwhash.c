/*
 * Print "{SCHEME}hash" for a password with each scheme given (Modoboa's
 * default parameters), one per line, so that the test can have Dovecot
 * verify them: pwhash PASSWORD SCHEME...
 */
#include "password.h"
#include "strbuf.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    int i, rc = 0;

    if (argc < 3) {
        fprintf(stderr, "usage: pwhash PASSWORD SCHEME...\n");
        return 2;
    }
    for (i = 2; i < argc; i++) {
        struct strbuf sb = STRBUF_INIT;
        const char *err;
        if (password_hash(argv[i], argv[1], NULL, &sb, &err) < 0) {
            fprintf(stderr, "pwhash: %s: %s\n", argv[i], err);
            rc = 1;
        } else {
            printf("%s\n", sb.data);
        }
        strbuf_free(&sb);
    }
    return rc;
}

/*
 * modoctl db doctor [--json]: what modo needs of the database and what is missing or wrong,
 * each finding with its fix (common/admin/admin_doctor.c). Exit 0: modo can run on it;
 * 1: it cannot (an error); 4: the database cannot be reached.
 */
#include "modoctl.h"

#include "admin.h"
#include "auth.h"
#include "strbuf.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct report {
    bool json;
    size_t n, errors, warnings;
    struct strbuf out;
};

static void print_finding(void *arg, const char *severity, const char *check, const char *text,
                          const char *fix)
{
    struct report *r = arg;

    r->errors += strcmp(severity, "error") == 0;
    r->warnings += strcmp(severity, "warning") == 0;
    if (!r->json) {
        printf("%-8s %-13s %s\n", severity, check, text);
        if (fix != NULL)
            printf("%-8s %-13s fix: %s\n", "", "", fix);
        return;
    }
    strbuf_puts(&r->out, r->n++ ? ",\n  {\"severity\": " : "\n  {\"severity\": ");
    auth_json_string(&r->out, severity);
    strbuf_puts(&r->out, ", \"check\": ");
    auth_json_string(&r->out, check);
    strbuf_puts(&r->out, ", \"text\": ");
    auth_json_string(&r->out, text);
    strbuf_puts(&r->out, ", \"fix\": ");
    if (fix != NULL)
        auth_json_string(&r->out, fix);
    else
        strbuf_puts(&r->out, "null");
    strbuf_putc(&r->out, '}');
}

int doctor_command(const struct conf *conf, int argc, char **argv)
{
    struct report r = {0};
    struct admin *a;
    int rc;

    if (argc == 3 && strcmp(argv[2], "--json") == 0) {
        r.json = true;
    } else if (argc != 2) {
        fprintf(stderr, "usage: modoctl db doctor [--json]\n");
        return EXIT_USAGE;
    }
    if ((a = open_admin(conf)) == NULL)
        return EXIT_TEMPFAIL;
    strbuf_init(&r.out);
    rc = admin_doctor(a, print_finding, &r);
    close_admin(&a);
    if (r.json) {
        printf("{\"ready\": %s, \"errors\": %zu, \"warnings\": %zu, \"findings\": [%s\n]}\n",
               rc == 0 ? "true" : "false", r.errors, r.warnings, r.out.data ? r.out.data : "");
    } else if (rc == 0) {
        printf("ready: modo can run on this database (%zu warning%s)\n", r.warnings,
               r.warnings == 1 ? "" : "s");
    } else {
        printf("not ready: %zu error%s, %zu warning%s\n", r.errors, r.errors == 1 ? "" : "s",
               r.warnings, r.warnings == 1 ? "" : "s");
    }
    strbuf_free(&r.out);
    return rc == 0 ? 0 : 1;
}

/*
 * libFuzzer harness for the rules modo-dnscheck applies to served records (spf.c,
 * dmarc.c): TXT data from the Internet is untrusted. The input is an SPF record, a DMARC
 * record and a DNSBL answer at once; check_host() runs over a DNS whose every TXT is the
 * input itself (includes and redirects loop back into it), so the lookup limits must end
 * every evaluation. Invariants: a refusal has a message; a valid DMARC record has p=;
 * check_host() never exceeds its limits by more than one lookup.
 */
#include "dmarc.h"
#include "dns.h"
#include "spf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *record;

static void ask(void *ctx, const char *name, const char *type, struct dns_answer *out)
{
    (void)ctx;
    memset(out, 0, sizeof(*out));
    out->status = DNS_OK;
    if (strcmp(type, "TXT") == 0 || strcmp(type, "A") == 0 || strcmp(type, "MX") == 0) {
        out->values = malloc(sizeof(char *));
        out->values[0] = strdup(strcmp(type, "TXT") == 0 ? record
                                : strcmp(type, "A") == 0 ? "192.0.2.1"
                                                         : "10 mx.example");
        out->n = 1;
    }
    (void)name;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[160] = "", name[512];
    struct dmarc_record d;
    struct spf_dns dns = {NULL, ask};
    struct spf_eval e;
    size_t pos = 0;
    char dom[256];

    if (size > 4096)
        return 0;
    record = malloc(size + 1);
    memcpy(record, data, size);
    record[size] = '\0';
    if (spf_check_syntax(record, err, sizeof(err)) < 0 && err[0] == '\0')
        abort();
    err[0] = '\0';
    if (dmarc_parse(record, &d, err, sizeof(err)) < 0) {
        if (err[0] == '\0')
            abort();
    } else {
        if (d.p[0] == '\0')
            abort();
        while (dmarc_next_mailto_domain(d.rua, &pos, dom, sizeof(dom)))
            ;
    }
    spf_check_host(&dns, "192.0.2.1", "example.com", &e);
    if (e.lookups > 11 || e.voids > 3)
        abort();
    dnsbl_query_name(record, "bl.example", name, sizeof(name));
    (void)dnsbl_answer(record);
    free(record);
    return 0;
}

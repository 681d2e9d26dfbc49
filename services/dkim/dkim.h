/*
 * modo-dkim - what its files share.
 */
#ifndef MODO_DKIM_H
#define MODO_DKIM_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "dkimkey.h"

struct admin;
struct conf;
struct db_result;
struct dns;

struct dkim_run {
    const struct conf *conf;
    struct admin *a;
    char dir[PATH_MAX]; /* key storage */
    int bits;           /* default RSA bits */
    uid_t uid;          /* the signer's: owns the keys (-1: whoever runs) */
    gid_t gid;
    bool json;
    int failures;
    struct dns *dns; /* made on first use */
};

/* Columns of admin_dkim_domains(). */
enum { DOM_ID, DOM_NAME, DOM_ENABLED, DOM_SELECTOR, DOM_BITS, DOM_PATH, DOM_PUBLIC };

/*
 * Make a key for domain/selector: generate, check with libopendkim against its record, write
 * dir/file (0600, the signer's), audit it as OpenDKIM would. 0 with *k filled, or -1 (said).
 */
int dkim_make_key(struct dkim_run *r, const char *domain, const char *selector,
                  enum dkim_keytype type, int bits, const char *file, struct dkimkey *k);
/* The RSA bits of a domain row: its dkim_key_length if one of 1024/2048/4096, else the
 * default (never below 1024). */
int dkim_domain_bits(const struct dkim_run *r, const char *key_length);
/* Print a record to publish: display form, then the zone line. */
void dkim_print_record(const char *selector, const char *domain, enum dkim_keytype type,
                       const char *p);
/* rspamd: rewrite the selector and path maps from the database (signer = rspamd). */
int dkim_write_rspamd_maps(struct dkim_run *r);
/* The resolver, made on first use; NULL (said) if it cannot be. */
struct dns *dkim_dns(struct dkim_run *r);

/* modo-dkim rotate --domain D: start a rotation, or move it one step. */
int dkim_rotate(struct dkim_run *r, const char *domain, bool start);
/* Every rotation in progress, one step each (the timer's run). */
int dkim_rotate_all(struct dkim_run *r);

#endif

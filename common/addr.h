/*
 * addr - mail addresses and domains as modo compares them.
 *
 * addr_parse() folds an address the way Postfix folds keys for its own
 * hash and SQL maps: ASCII letters to lower case, the domain without a
 * trailing dot and in A-labels (IDNA2008 via libidn2). Keys that cannot be
 * a hosted address are refused (-1 with a reason): empty, no '@' or several,
 * quoted or source-routed local parts, domain literals, control characters,
 * over-long parts. Callers answer such keys "not found".
 *
 * addr_split_extension() applies Postfix's recipient_delimiter rules
 * (split_addr.c): the extension starts at the first delimiter character;
 * postmaster, mailer-daemon and double-bounce are never split, nor a local
 * part that starts with a delimiter, nor (when '-' is a delimiter and
 * owner_request_special is on) owner-* and *-request.
 */
#ifndef MODO_ADDR_H
#define MODO_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#define ADDR_MAX_LOCAL 64 * 4  /* RFC 5321 says 64 octets; be lenient with UTF-8 */
#define ADDR_MAX_DOMAIN 253
#define ADDR_MAX 320

struct addr {
    char local[ADDR_MAX_LOCAL + 1];
    char domain[ADDR_MAX_DOMAIN + 1];
    char full[ADDR_MAX_LOCAL + ADDR_MAX_DOMAIN + 2];
};

/* Fold a bare domain name into *out (ADDR_MAX_DOMAIN + 1 bytes). */
int addr_fold_domain(const char *in, size_t len, char *out, const char **error_r);

/* Parse and fold "local@domain". */
int addr_parse(const char *in, size_t len, struct addr *out, const char **error_r);

/*
 * The same, keeping a UTF-8 domain in UTF-8 (ASCII letters still folded):
 * for databases that store internationalized names as U-labels.
 */
#define ADDR_KEEP_UNICODE 1
/*
 * Accept an empty local part, "@domain" or '""@domain' (Postfix's external form, as
 * cleanup sends it): local is "" and full is '""@domain'.
 */
#define ADDR_ALLOW_EMPTY_LOCAL 2
int addr_fold_domain_flags(const char *in, size_t len, char *out, int flags,
                           const char **error_r);
int addr_parse_flags(const char *in, size_t len, struct addr *out, int flags,
                     const char **error_r);

/*
 * The U-label spelling of a folded domain that has A-labels ("xn--"), in *out
 * (size bytes). Returns 1 when there is one, 0 when the domain is plain ASCII,
 * -1 when it cannot be converted.
 */
int addr_domain_unicode(const char *domain, char *out, size_t size);

/* Does the key look like an address (has an '@')? Bare domains do not. */
bool addr_is_address(const char *in, size_t len);

struct addr_delimiters {
    char set[32];               /* recipient_delimiter: a set of characters, "" = none */
    bool owner_request_special; /* Postfix owner_request_special (default yes) */
};

/*
 * Find the extension of a (folded) local part. Returns the length of the
 * local part without extension; if there is no extension, strlen(local).
 * *ext_r points at the delimiter that starts the extension, or at the end.
 */
size_t addr_split_extension(const char *local, const struct addr_delimiters *delims,
                            const char **ext_r);

#endif

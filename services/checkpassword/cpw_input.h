/*
 * cpw_input - what modo-checkpassword reads: Dovecot's fd 3 input and modo-dictd's answer.
 * Pure functions, no I/O (fuzzed: t/fuzz/fuzz_checkpassword).
 */
#ifndef MODO_CPW_INPUT_H
#define MODO_CPW_INPUT_H

#include <stddef.h>

/* Dovecot never sends more (checkpassword: "Username+password combination too long"). */
#define CPW_MAX_INPUT 512

struct cpw_input {
    char user[CPW_MAX_INPUT + 1];
    char password[CPW_MAX_INPUT + 1];
};

/*
 * "user\0password\0timestamp\0" (the timestamp and the last NUL may be missing; a password
 * may be empty, as in lookups). 0, or -1 with *error_r: more than CPW_MAX_INPUT bytes, no
 * NUL after the user, an empty user.
 */
int cpw_parse_input(const char *buf, size_t len, struct cpw_input *in, const char **error_r);

/* The fields of an answer: "name=value" separated by TAB, values \001-escaped (auth.h,
 * AUTH_FIELDS). */
#define CPW_MAX_FIELDS 16
struct cpw_fields {
    size_t n;
    char *names[CPW_MAX_FIELDS];
    char *values[CPW_MAX_FIELDS];
};

/* Split s in place. 0, or -1 with *error_r when a field has no '=' or there are too many. */
int cpw_parse_fields(char *s, struct cpw_fields *f, const char **error_r);
/* The value of a field, or NULL. */
const char *cpw_field(const struct cpw_fields *f, const char *name);

/*
 * One reply line of the dict protocol (without its LF): 'O' with the unescaped value (in
 * place) in *value_r, 'N', or 'F' (*value_r: the reason). Anything else is -1.
 */
int cpw_parse_reply(char *line, size_t len, char **value_r);

#endif

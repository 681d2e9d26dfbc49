/*
 * conf - modo.conf, one INI file for every program.
 *
 * Every setting is one row of a table (conf.c): section, name, type,
 * default, bounds and help. Parsing, validation, defaults and `--help`-style
 * listings all come from that table. Unknown sections, unknown keys and bad
 * values are errors naming file:line and [section] key.
 *
 * Types: string, integer (with bounds), boolean (yes/no/true/false/on/off/1/0),
 * duration (a number with unit ms, s, m, h or d; a bare number is seconds;
 * stored in milliseconds), enum (one word of a '|' list) and mode (a file mode in octal,
 * 0000 to 7777; read with conf_int).
 *
 * Lines may be of any length (libinih's own limit is worked around). A value's origin
 * is "file:line", so later checks (a socket owner that does not exist) can name it.
 */
#ifndef MODO_CONF_H
#define MODO_CONF_H

#include <stdbool.h>
#include <stdio.h>

enum conf_type { CONF_STRING, CONF_INT, CONF_BOOL, CONF_DURATION, CONF_ENUM, CONF_MODE };

struct conf_setting {
    const char *section;
    const char *name;
    enum conf_type type;
    const char *def;
    long long min, max;  /* CONF_INT, CONF_DURATION (ms) */
    const char *choices; /* CONF_ENUM: "a|b|c" */
    const char *help;
};

struct conf;

/* Built-in defaults only. */
struct conf *conf_defaults(void);
/*
 * Read a file over the defaults. Returns NULL and fills *error_r (malloc'd,
 * "file:line: [section] key: reason") on any error.
 */
struct conf *conf_load(const char *path, char **error_r);
/* Parse text as if read from a file named `name` (tests, `modoctl config check`). */
struct conf *conf_load_string(const char *name, const char *text, char **error_r);
void conf_free(struct conf **conf);

/* Accessors panic on a name that is not in the table: that is a bug. */
const char *conf_str(const struct conf *conf, const char *section, const char *name);
long long conf_int(const struct conf *conf, const char *section, const char *name);
bool conf_bool(const struct conf *conf, const char *section, const char *name);
long long conf_ms(const struct conf *conf, const char *section, const char *name);
/* Where the value came from: "default", or "file:line". */
const char *conf_origin(const struct conf *conf, const char *section, const char *name);
/*
 * The first untagged endpoint of [section] listen (separated by spaces, tabs or commas, as
 * the server reads it; TAG=ENDPOINT ones serve another protocol and are skipped) that
 * starts with one of the prefixes given ("unix:", "inet:"), prefix included, malloc'd; NULL
 * if there is none. For the programs that talk to a daemon (modoctl's fragments,
 * modo-checkpassword).
 */
char *conf_listen_first(const struct conf *conf, const char *section, const char *prefix1,
                        const char *prefix2);

/* Does a setting ([section] name), or with name NULL any setting of [section], have a
 * different value in a and b? (A reload decides what to renew.) */
bool conf_differs(const struct conf *a, const struct conf *b, const char *section,
                  const char *name);

/* Value parsers shared with other modules; 0 on success, -1 with *error_r. */
int conf_parse_bool(const char *s, bool *v, const char **error_r);
int conf_parse_duration(const char *s, long long *ms, const char **error_r);
int conf_parse_int(const char *s, long long *v, const char **error_r);

/* Print every setting with its default and help (modo.conf(5) is built from this). */
void conf_print_reference(FILE *fp);

#endif

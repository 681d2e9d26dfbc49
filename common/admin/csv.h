/*
 * csv - records as Python's csv module reads and writes them (the "excel"
 * dialect Modoboa's import and export use): a one-character separator,
 * fields quoted with '"' when they hold the separator, a quote or a line
 * break, quotes doubled inside, records ending in "\r\n" or "\n". A pure
 * codec: text in, fields out.
 */
#ifndef MODO_CSV_H
#define MODO_CSV_H

#include <stddef.h>

struct strbuf;

#define CSV_MAX_FIELDS 1024
#define CSV_MAX_FIELD 65536

struct csv_record {
    size_t nfields;
    char **fields; /* NUL-terminated copies */
    size_t line;   /* the line the record starts on (1-based) */
};

/*
 * Read the record at *pos of text[0..len). Returns 1 (a record, *pos moved past it),
 * 0 at the end, -1 on an error (*error_r: an unterminated quote, too many or too
 * long fields). *line counts lines; start it at 1.
 */
int csv_next(const char *text, size_t len, size_t *pos, size_t *line, char sep,
             struct csv_record *rec, const char **error_r);
void csv_record_free(struct csv_record *rec);

/* Append one record (fields quoted as needed) ending in "\r\n". */
void csv_write(struct strbuf *out, char sep, const char *const *fields, size_t n);

/* Is text valid UTF-8? If not, csv_latin1_to_utf8 converts it (ISO-8859-1). */
int csv_is_utf8(const char *text, size_t len);
char *csv_latin1_to_utf8(const char *text, size_t len, size_t *out_len);

#endif

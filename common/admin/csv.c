/*
 * csv - Python csv module's "excel" dialect; see csv.h.
 */
#include "csv.h"
#include "strbuf.h"

#include <stdlib.h>
#include <string.h>

void csv_record_free(struct csv_record *rec)
{
    size_t i;

    for (i = 0; i < rec->nfields; i++)
        free(rec->fields[i]);
    free(rec->fields);
    rec->fields = NULL;
    rec->nfields = 0;
}

static int end_field(struct csv_record *rec, struct strbuf *f, size_t *cap, const char **error_r)
{
    if (rec->nfields == CSV_MAX_FIELDS) {
        *error_r = "too many fields";
        return -1;
    }
    if (rec->nfields == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        rec->fields = xrealloc(rec->fields, *cap * sizeof(char *));
    }
    rec->fields[rec->nfields++] = f->data ? strbuf_steal(f) : xstrdup("");
    return 0;
}

int csv_next(const char *text, size_t len, size_t *pos, size_t *line, char sep,
             struct csv_record *rec, const char **error_r)
{
    struct strbuf f = STRBUF_INIT;
    size_t i = *pos, cap = 0;
    int quoted = 0, was_quoted = 0;

    rec->nfields = 0;
    rec->fields = NULL;
    rec->line = *line;
    if (i >= len)
        return 0;
    for (;;) {
        char c;
        if (i == len) {
            if (quoted) {
                *error_r = "unexpected end of data inside a quoted field";
                goto fail;
            }
            break;
        }
        c = text[i++];
        if (f.len > CSV_MAX_FIELD) {
            *error_r = "field larger than 64 KiB";
            goto fail;
        }
        if (quoted) {
            if (c == '"') {
                if (i < len && text[i] == '"') {
                    strbuf_putc(&f, '"');
                    i++;
                } else {
                    quoted = 0;
                }
            } else {
                if (c == '\n')
                    (*line)++;
                strbuf_putc(&f, c);
            }
            continue;
        }
        if (c == '"' && f.len == 0 && !was_quoted) {
            quoted = was_quoted = 1;
            continue;
        }
        if (c == sep) {
            if (end_field(rec, &f, &cap, error_r) < 0)
                goto fail;
            was_quoted = 0;
            continue;
        }
        if (c == '\r' && i < len && text[i] == '\n')
            continue;
        if (c == '\n') {
            (*line)++;
            break;
        }
        strbuf_putc(&f, c); /* as Python: text after a closing quote is kept */
    }
    if (end_field(rec, &f, &cap, error_r) < 0)
        goto fail;
    /* an empty line is a record without fields, as Python's reader gives [] */
    if (rec->nfields == 1 && rec->fields[0][0] == '\0' && !was_quoted) {
        free(rec->fields[0]);
        free(rec->fields);
        rec->fields = NULL;
        rec->nfields = 0;
    }
    *pos = i;
    return 1;
fail:
    strbuf_free(&f);
    csv_record_free(rec);
    return -1;
}

void csv_write(struct strbuf *out, char sep, const char *const *fields, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        const char *v = fields[i] ? fields[i] : "", *p;
        if (i > 0)
            strbuf_putc(out, sep);
        /* as Python: a lone empty field is quoted, or the line would read as no field */
        if (strchr(v, sep) == NULL && strpbrk(v, "\"\r\n") == NULL && (n > 1 || v[0] != '\0')) {
            strbuf_puts(out, v);
            continue;
        }
        strbuf_putc(out, '"');
        for (p = v; *p; p++) {
            if (*p == '"')
                strbuf_putc(out, '"');
            strbuf_putc(out, *p);
        }
        strbuf_putc(out, '"');
    }
    strbuf_puts(out, "\r\n");
}

int csv_is_utf8(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        size_t n, k;
        unsigned long cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        for (k = 1; k <= n; k++) {
            if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n + 1;
    }
    return 1;
}

char *csv_latin1_to_utf8(const char *text, size_t len, size_t *out_len)
{
    struct strbuf sb = STRBUF_INIT;
    size_t i;

    strbuf_reserve(&sb, len + 1);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x80) {
            strbuf_putc(&sb, (char)c);
        } else {
            strbuf_putc(&sb, (char)(0xc0 | (c >> 6)));
            strbuf_putc(&sb, (char)(0x80 | (c & 0x3f)));
        }
    }
    *out_len = sb.len;
    return strbuf_steal(&sb);
}

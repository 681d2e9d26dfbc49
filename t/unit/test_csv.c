/*
 * csv: records as Python's csv module reads and writes them (Modoboa's import/export).
 */
#include "tap.h"

#include "csv.h"
#include "strbuf.h"

#include <stdlib.h>
#include <string.h>

/* Parse text and compare with the records written as "f1|f2\n" per record. */
static void parse(const char *text, char sep, const char *want, const char *name)
{
    struct strbuf got = STRBUF_INIT;
    struct csv_record rec;
    size_t pos = 0, line = 1, i;
    const char *err = NULL;
    int rc;

    while ((rc = csv_next(text, strlen(text), &pos, &line, sep, &rec, &err)) == 1) {
        strbuf_printf(&got, "%zu:", rec.line);
        for (i = 0; i < rec.nfields; i++)
            strbuf_printf(&got, "%s[%s]", i ? "|" : "", rec.fields[i]);
        strbuf_puts(&got, "\n");
        csv_record_free(&rec);
    }
    if (rc < 0)
        strbuf_printf(&got, "error: %s\n", err);
    is_str(got.data ? got.data : "", want, "%s", name);
    strbuf_free(&got);
}

static void roundtrip(const char *const *fields, size_t n, const char *want, const char *name)
{
    struct strbuf out = STRBUF_INIT;
    struct csv_record rec;
    size_t pos = 0, line = 1, i;
    const char *err;
    int same = 1;

    csv_write(&out, ';', fields, n);
    is_str(out.data, want, "write %s", name);
    ok(csv_next(out.data, out.len, &pos, &line, ';', &rec, &err) == 1 && rec.nfields == n,
       "read back %s", name);
    for (i = 0; i < n && i < rec.nfields; i++)
        same &= strcmp(rec.fields[i], fields[i]) == 0;
    ok(same && pos == out.len, "%s: the same fields", name);
    csv_record_free(&rec);
    strbuf_free(&out);
}

int main(void)
{
    parse("domain;test.com;50;10;True\r\n", ';', "1:[domain]|[test.com]|[50]|[10]|[True]\n",
          "CRLF record");
    parse("a;b\nc;d", ';', "1:[a]|[b]\n2:[c]|[d]\n", "LF, last line without an end");
    parse("a,b;c\n", ',', "1:[a]|[b;c]\n", "another separator");
    parse("\n\na;b\n", ';', "1:\n2:\n3:[a]|[b]\n", "empty lines are records without fields");
    parse("\"a;b\";\"say \"\"hi\"\"\";c\n", ';', "1:[a;b]|[say \"hi\"]|[c]\n",
          "quoted separator and doubled quotes");
    parse("\"two\nlines\";x\ny;z\n", ';', "1:[two\nlines]|[x]\n3:[y]|[z]\n",
          "a line break inside quotes; lines still counted");
    parse("a;;\n", ';', "1:[a]|[]|[]\n", "empty fields");
    parse("\"\"\n", ';', "1:[]\n", "one quoted empty field");
    parse("ab\"c;d\n", ';', "1:[ab\"c]|[d]\n", "a quote inside an unquoted field is kept");
    parse("\"ab\"cd;e\n", ';', "1:[abcd]|[e]\n", "text after a closing quote is kept");
    parse("a;\"open\n", ';', "error: unexpected end of data inside a quoted field\n",
          "unterminated quote");
    parse(" a ; b \n", ';', "1:[ a ]|[ b ]\n", "spaces kept (the importer strips)");
    {
        static const char *const f1[] = {"alias", "@test.com", "True", "a@test.com"};
        static const char *const f2[] = {"x;y", "say \"hi\"", "two\nlines", ""};
        roundtrip(f1, 4, "alias;@test.com;True;a@test.com\r\n", "a catch-all row, unquoted");
        roundtrip(f2, 4, "\"x;y\";\"say \"\"hi\"\"\";\"two\nlines\";\r\n", "fields that need quotes");
    }
    {
        char *big = malloc(CSV_MAX_FIELD + 10);
        memset(big, 'x', CSV_MAX_FIELD + 9);
        big[CSV_MAX_FIELD + 9] = '\0';
        parse(big, ';', "error: field larger than 64 KiB\n", "a field over the limit");
        free(big);
    }
    ok(csv_is_utf8("caf\xc3\xa9", 5), "UTF-8 recognised");
    ok(!csv_is_utf8("caf\xe9", 4), "Latin-1 is not UTF-8");
    ok(!csv_is_utf8("\xc0\xaf", 2), "overlong form refused");
    ok(!csv_is_utf8("\xed\xa0\x80", 3), "surrogate refused");
    ok(!csv_is_utf8("ab\xe2\x82", 4), "truncated sequence refused");
    {
        size_t n;
        char *u = csv_latin1_to_utf8("caf\xe9", 4, &n);
        is_str(u, "caf\xc3\xa9", "Latin-1 converted");
        ok(n == 5, "converted length");
        free(u);
    }
    return done_testing();
}

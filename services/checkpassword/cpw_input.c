/*
 * cpw_input - modo-checkpassword's readers; see cpw_input.h.
 */
#include "cpw_input.h"

#include "dict_proto.h"

#include <string.h>

int cpw_parse_input(const char *buf, size_t len, struct cpw_input *in, const char **error_r)
{
    const char *nul, *pw, *end;
    size_t ulen;

    if (len > CPW_MAX_INPUT) {
        *error_r = "input longer than 512 bytes";
        return -1;
    }
    nul = memchr(buf, '\0', len);
    if (nul == NULL) {
        *error_r = "no NUL after the user name";
        return -1;
    }
    ulen = (size_t)(nul - buf);
    if (ulen == 0) {
        *error_r = "empty user name";
        return -1;
    }
    memcpy(in->user, buf, ulen);
    in->user[ulen] = '\0';
    pw = nul + 1;
    end = memchr(pw, '\0', len - (size_t)(pw - buf));
    if (end == NULL)
        end = buf + len;
    memcpy(in->password, pw, (size_t)(end - pw));
    in->password[end - pw] = '\0';
    return 0;
}

int cpw_parse_fields(char *s, struct cpw_fields *f, const char **error_r)
{
    f->n = 0;
    if (*s == '\0')
        return 0;
    for (;;) {
        char *tab = strchr(s, '\t'), *eq;
        if (tab != NULL)
            *tab = '\0';
        eq = strchr(s, '=');
        if (eq == NULL || eq == s) {
            *error_r = "a field without name=value";
            return -1;
        }
        if (f->n == CPW_MAX_FIELDS) {
            *error_r = "too many fields";
            return -1;
        }
        *eq = '\0';
        eq[1 + dict_unescape(eq + 1, strlen(eq + 1))] = '\0';
        f->names[f->n] = s;
        f->values[f->n++] = eq + 1;
        if (tab == NULL)
            return 0;
        s = tab + 1;
    }
}

const char *cpw_field(const struct cpw_fields *f, const char *name)
{
    size_t i;

    for (i = 0; i < f->n; i++)
        if (strcmp(f->names[i], name) == 0)
            return f->values[i];
    return NULL;
}

int cpw_parse_reply(char *line, size_t len, char **value_r)
{
    if (len == 0)
        return -1;
    switch (line[0]) {
    case 'O':
    case 'F':
        line[1 + dict_unescape(line + 1, len - 1)] = '\0';
        *value_r = line + 1;
        return line[0];
    case 'N':
        *value_r = line + 1;
        return len == 1 ? 'N' : -1;
    default:
        return -1;
    }
}

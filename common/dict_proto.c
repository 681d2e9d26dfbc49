/*
 * dict_proto - Dovecot dict proxy protocol; see dict_proto.h.
 */
#include "dict_proto.h"

#include <stdlib.h>
#include <string.h>

void dict_cmd_init(struct dict_cmd *cmd)
{
    cmd->type = 0;
    cmd->nfields = 0;
    cmd->buf = NULL;
}

void dict_cmd_free(struct dict_cmd *cmd)
{
    free(cmd->buf);
    dict_cmd_init(cmd);
}

void dict_escape(struct strbuf *out, const char *s, size_t len)
{
    size_t i, run = 0; /* s[run..i) is copied as it is */

    for (i = 0; i < len; i++) {
        char esc;
        switch (s[i]) {
        case '\001': esc = '1'; break;
        case '\t': esc = 't'; break;
        case '\r': esc = 'r'; break;
        case '\n': esc = 'n'; break;
        case '\0': esc = '0'; break;
        default: continue;
        }
        strbuf_append(out, s + run, i - run);
        strbuf_putc(out, '\001');
        strbuf_putc(out, esc);
        run = i + 1;
    }
    strbuf_append(out, s + run, len - run);
}

size_t dict_unescape(char *s, size_t len)
{
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
        if (s[i] != '\001') {
            s[o++] = s[i];
            continue;
        }
        if (++i == len)
            break; /* a trailing lone \001 is dropped */
        switch (s[i]) {
        case '1': s[o++] = '\001'; break;
        case 't': s[o++] = '\t'; break;
        case 'r': s[o++] = '\r'; break;
        case 'n': s[o++] = '\n'; break;
        case '0': s[o++] = '\0'; break;
        default: s[o++] = s[i]; break;
        }
    }
    return o;
}

/* Minimum and maximum field counts of each command (after the command byte). */
static int dict_field_bounds(char type, size_t *min_r, size_t *max_r)
{
    switch (type) {
    case DICT_CMD_HELLO: *min_r = 5; *max_r = DICT_MAX_FIELDS; return 0;
    case DICT_CMD_LOOKUP: *min_r = 1; *max_r = 2; return 0;
    case DICT_CMD_ITERATE: *min_r = 3; *max_r = 4; return 0;
    case DICT_CMD_BEGIN: *min_r = 1; *max_r = 3; return 0;
    case DICT_CMD_SET: *min_r = 3; *max_r = 3; return 0;
    case DICT_CMD_UNSET: *min_r = 2; *max_r = 2; return 0;
    case DICT_CMD_ATOMIC_INC: *min_r = 3; *max_r = 3; return 0;
    case DICT_CMD_TIMESTAMP: *min_r = 3; *max_r = 3; return 0;
    case DICT_CMD_HIDE_LOG_VALUES: *min_r = 2; *max_r = 2; return 0;
    case DICT_CMD_COMMIT:
    case DICT_CMD_COMMIT_ASYNC:
    case DICT_CMD_ROLLBACK: *min_r = 1; *max_r = 1; return 0;
    default: return -1;
    }
}

enum codec_status dict_decode(const char *data, size_t len, size_t max_line,
                              struct dict_cmd *cmd, size_t *consumed_r, const char **error_r)
{
    const char *nl = memchr(data, '\n', len < max_line + 1 ? len : max_line + 1);
    size_t line_len, pos, minf, maxf;
    char *p;

    dict_cmd_free(cmd);
    if (nl == NULL) {
        if (len > max_line) {
            *error_r = "dict line too long";
            return CODEC_ERROR;
        }
        return CODEC_NEED_MORE;
    }
    line_len = (size_t)(nl - data);
    *consumed_r = line_len + 1;
    if (line_len == 0) {
        *error_r = "empty dict command";
        return CODEC_BAD_REQUEST;
    }
    cmd->type = data[0];
    if (dict_field_bounds(cmd->type, &minf, &maxf) < 0) {
        *error_r = "unknown dict command";
        return CODEC_BAD_REQUEST;
    }
    cmd->buf = malloc(line_len);
    if (cmd->buf == NULL) {
        *error_r = "out of memory";
        return CODEC_ERROR;
    }
    memcpy(cmd->buf, data + 1, line_len - 1);
    cmd->buf[line_len - 1] = '\0';
    /* split at TAB first, then unescape each field */
    for (p = cmd->buf, pos = 0;; pos++) {
        char *tab = strchr(p, '\t');
        if (cmd->nfields == DICT_MAX_FIELDS) {
            *error_r = "too many dict fields";
            goto bad;
        }
        cmd->fields[cmd->nfields++] = p;
        if (tab == NULL)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    for (pos = 0; pos < cmd->nfields; pos++) {
        size_t flen = strlen(cmd->fields[pos]);
        cmd->fields[pos][dict_unescape(cmd->fields[pos], flen)] = '\0';
    }
    if (cmd->nfields < minf || cmd->nfields > maxf) {
        *error_r = "wrong number of fields for dict command";
        goto bad;
    }
    return CODEC_OK;
bad:
    {
        char type = cmd->type;
        dict_cmd_free(cmd);
        cmd->type = type;
    }
    return CODEC_BAD_REQUEST;
}

void dict_encode_reply(struct strbuf *out, char code, const char *const *fields, size_t n)
{
    size_t i;

    strbuf_putc(out, code);
    for (i = 0; i < n; i++) {
        if (i > 0)
            strbuf_putc(out, '\t');
        dict_escape(out, fields[i], strlen(fields[i]));
    }
    strbuf_putc(out, '\n');
}

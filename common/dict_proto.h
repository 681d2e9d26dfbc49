/*
 * dict_proto - Dovecot dict proxy protocol lines (major versions 3 and 4).
 *
 * One command per LF-terminated line: a command character glued to its
 * first TAB-separated field. Fields are \001-escaped (dict_escape /
 * dict_unescape). dict_decode() validates the field count of every known
 * command; an unknown command or a wrong field count is CODEC_BAD_REQUEST
 * (Dovecot's own server logs it and disconnects; so do we), a line longer
 * than the limit is CODEC_ERROR.
 */
#ifndef MODO_DICT_PROTO_H
#define MODO_DICT_PROTO_H

#include <stddef.h>

#include "codec.h"
#include "strbuf.h"

#define DICT_MAX_LINE 65536 /* DICT_CLIENT_MAX_LINE_LENGTH */
#define DICT_MAX_FIELDS 16

enum dict_cmd_type {
    DICT_CMD_HELLO = 'H',
    DICT_CMD_LOOKUP = 'L',
    DICT_CMD_ITERATE = 'I',
    DICT_CMD_BEGIN = 'B',
    DICT_CMD_SET = 'S',
    DICT_CMD_UNSET = 'U',
    DICT_CMD_ATOMIC_INC = 'A',
    DICT_CMD_TIMESTAMP = 'T',
    DICT_CMD_HIDE_LOG_VALUES = 'V',
    DICT_CMD_COMMIT = 'C',
    DICT_CMD_COMMIT_ASYNC = 'D',
    DICT_CMD_ROLLBACK = 'R',
};

struct dict_cmd {
    char type;
    size_t nfields;
    char *fields[DICT_MAX_FIELDS]; /* unescaped, NUL-terminated, into buf */
    char *buf;
};

void dict_cmd_init(struct dict_cmd *cmd);
void dict_cmd_free(struct dict_cmd *cmd);

enum codec_status dict_decode(const char *data, size_t len, size_t max_line,
                              struct dict_cmd *cmd, size_t *consumed_r, const char **error_r);

void dict_escape(struct strbuf *out, const char *s, size_t len);
/* Unescape in place; returns the new length. */
size_t dict_unescape(char *s, size_t len);

/* Append one reply line: code, then the escaped fields joined by TAB, then LF. */
void dict_encode_reply(struct strbuf *out, char code, const char *const *fields, size_t n);

#endif

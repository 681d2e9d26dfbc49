/*
 * tcptable - framing of Postfix tcp_table(5) requests and replies.
 *
 * A request is "get SP <%XX-quoted key> LF"; a reply is "<3 digits> SP
 * <quoted text> LF" of at most TCPTABLE_MAX_REPLY bytes including the LF.
 * tcptable_decode() decodes the key into a caller buffer; lines that are
 * complete but not a valid "get" answer CODEC_BAD_REQUEST (reply 500 and go
 * on); a line longer than the limit is CODEC_ERROR (close).
 */
#ifndef MODO_TCPTABLE_H
#define MODO_TCPTABLE_H

#include <stddef.h>

#include "codec.h"
#include "strbuf.h"

#define TCPTABLE_MAX_REPLY 4096 /* DICT_TCP_MAXLEN, LF included */
#define TCPTABLE_MAX_QUERY 10000

enum codec_status tcptable_decode(const char *data, size_t len, size_t max_line,
                                  struct strbuf *key_out, size_t *consumed_r,
                                  const char **error_r);

/*
 * Append "<code> <quoted text>\n". Code 200 with empty text becomes
 * "500 not-found"; a 200 reply that does not fit TCPTABLE_MAX_REPLY becomes
 * "400 reply too large". Returns the code actually sent.
 */
int tcptable_reply(struct strbuf *out, int code, const char *text, size_t len);

/* Postfix hex_quote(): '%', white space and non-printable bytes as %XX. */
void tcptable_quote(struct strbuf *out, const char *text, size_t len);
/* Decode %XX; -1 on a malformed escape. */
int tcptable_unquote(struct strbuf *out, const char *text, size_t len);

#endif

/*
 * netstring - framing of Postfix socketmap requests and replies.
 *
 * netstring_decode() frames one `<len>:<payload>,` from the bytes at hand;
 * several netstrings per read and a netstring split across reads are both
 * handled by the caller calling again with more bytes. socketmap_* split a
 * request payload into map name and key and build replies with Postfix's
 * rules (never `OK ` with empty data; at most SOCKETMAP_MAX_REPLY bytes).
 */
#ifndef MODO_NETSTRING_H
#define MODO_NETSTRING_H

#include <stddef.h>

#include "codec.h"
#include "strbuf.h"

/* Postfix 3.7 refuses replies over 100000 bytes (DICT_SOCKMAP_DEF_MAX_REPLY). */
#define SOCKETMAP_MAX_REPLY 100000
/* Postfix 3.12's socketmap_max_query_size default. */
#define SOCKETMAP_MAX_QUERY 10000

/*
 * Frame one netstring of at most max_payload bytes. On CODEC_OK the payload
 * points into data and *consumed_r is the number of bytes used. On
 * CODEC_ERROR *error_r says why (static text).
 */
enum codec_status netstring_decode(const char *data, size_t len, size_t max_payload,
                                   const char **payload_r, size_t *payload_len_r,
                                   size_t *consumed_r, const char **error_r);
void netstring_encode(struct strbuf *out, const char *payload, size_t len);

/* Split "<name> <key>" at the first space; -1 if there is no space or no name. */
int socketmap_request_split(const char *payload, size_t len, const char **name_r,
                            size_t *name_len_r, const char **key_r, size_t *key_len_r);

enum socketmap_status { SOCKETMAP_OK, SOCKETMAP_NOTFOUND, SOCKETMAP_TEMP, SOCKETMAP_TIMEOUT,
                        SOCKETMAP_PERM };

/*
 * Append one reply netstring. An OK with empty data becomes NOTFOUND; an OK
 * whose payload would exceed SOCKETMAP_MAX_REPLY becomes "TEMP reply too
 * large" (a temporary failure, as Postfix itself would make of it). Returns
 * the status actually sent.
 */
enum socketmap_status socketmap_reply(struct strbuf *out, enum socketmap_status status,
                                      const char *data, size_t len);

#endif

/*
 * codec - results shared by the protocol codecs (netstring, tcptable,
 * policy_proto, dict_proto). Every decoder looks at bytes already read and
 * answers one of these; it never performs I/O.
 */
#ifndef MODO_CODEC_H
#define MODO_CODEC_H

enum codec_status {
    CODEC_ERROR = -1,     /* framing error: the connection must be closed */
    CODEC_NEED_MORE = 0,  /* an incomplete request: read more bytes */
    CODEC_OK = 1,         /* one complete request was decoded */
    CODEC_BAD_REQUEST = 2 /* complete but malformed: answer the protocol's error, go on */
};

#endif

/*
 * strbuf - a growing byte buffer that is always NUL-terminated.
 *
 * Used by the codecs to build replies and by everything that assembles text.
 * Allocation failure is fatal (log_fatal): modo never runs on after OOM.
 */
#ifndef MODO_STRBUF_H
#define MODO_STRBUF_H

#include <stddef.h>
#include <stdint.h>

struct strbuf {
    char *data;
    size_t len;
    size_t cap;
};

#define STRBUF_INIT {NULL, 0, 0}

void strbuf_init(struct strbuf *sb);
void strbuf_reserve(struct strbuf *sb, size_t extra);
void strbuf_append(struct strbuf *sb, const void *data, size_t len);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_putc(struct strbuf *sb, char c);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_truncate(struct strbuf *sb, size_t len);
void strbuf_reset(struct strbuf *sb);
/* Append a whole file; 0, or -1 with errno set. */
int strbuf_read_file(struct strbuf *sb, const char *path);
/* Hand the buffer to the caller (who frees it) and reset sb. */
char *strbuf_steal(struct strbuf *sb);
/* FNV-1a of len bytes (hash tables of names). */
uint32_t str_hash(const char *s, size_t len);
void strbuf_free(struct strbuf *sb);

/* xmalloc family: abort cleanly on allocation failure. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif

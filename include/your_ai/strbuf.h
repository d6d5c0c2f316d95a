/* strbuf.h — a growable byte buffer, always NUL-terminated once anything was
 * put into it. One type for every module that builds text or bytes (JSON
 * lines, lowered text, SVG, decoded tokens) instead of a private copy each.
 *
 * Out of memory is sticky: after a failed growth every later put fails too, so
 * a caller may put many pieces and check the result once (or check each). */
#ifndef YOUR_AI_STRBUF_H
#define YOUR_AI_STRBUF_H

#include <stddef.h>

typedef struct YaStrBuf {
    char *data; /* NULL until the first put */
    size_t len, cap;
    int oom;
} YaStrBuf;

/* Ensures room for `extra` more bytes plus the NUL. 0, or -1 when out of memory. */
int ya_strbuf_reserve(YaStrBuf *b, size_t extra);
/* Appends n bytes. 0, or -1 when out of memory (now or earlier). */
int ya_strbuf_put(YaStrBuf *b, const void *p, size_t n);
int ya_strbuf_puts(YaStrBuf *b, const char *s);
int ya_strbuf_putc(YaStrBuf *b, char c);
int ya_strbuf_printf(YaStrBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Frees the memory and resets to empty. */
void ya_strbuf_free(YaStrBuf *b);

#endif

/* strbuf.c — the growable byte buffer (see include/your_ai/strbuf.h). */
#include "your_ai/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ya_strbuf_reserve(YaStrBuf *b, size_t extra) {
    if (b->oom) return -1;
    if (b->len + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int ya_strbuf_put(YaStrBuf *b, const void *p, size_t n) {
    if (ya_strbuf_reserve(b, n)) return -1;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int ya_strbuf_puts(YaStrBuf *b, const char *s) { return ya_strbuf_put(b, s, strlen(s)); }

int ya_strbuf_putc(YaStrBuf *b, char c) { return ya_strbuf_put(b, &c, 1); }

int ya_strbuf_printf(YaStrBuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || ya_strbuf_reserve(b, (size_t)n)) {
        b->oom = 1;
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void ya_strbuf_free(YaStrBuf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

/* utf8.c — UTF-8 validation and repair for the tokenizer.
 *
 * HF tokenizers only ever sees valid UTF-8 (Rust &str), so we repair input the
 * way Rust's String::from_utf8_lossy does: each maximal invalid subpart
 * (Unicode §3.9, "substitution of maximal subparts") becomes one U+FFFD. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"

/* The allowed range of the second byte for lead byte c (Table 3-7); 0 if c cannot lead. */
static int lead_info(unsigned char c, unsigned char *lo, unsigned char *hi) {
    *lo = 0x80;
    *hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) return 2;
    if (c == 0xE0) { *lo = 0xA0; return 3; }
    if (c >= 0xE1 && c <= 0xEC) return 3;
    if (c == 0xED) { *hi = 0x9F; return 3; }
    if (c >= 0xEE && c <= 0xEF) return 3;
    if (c == 0xF0) { *lo = 0x90; return 4; }
    if (c >= 0xF1 && c <= 0xF3) return 4;
    if (c == 0xF4) { *hi = 0x8F; return 4; }
    return 0;
}

/* How many bytes at s form a (possibly incomplete) prefix of a valid sequence. */
static size_t valid_prefix(const unsigned char *s, size_t n, size_t *need) {
    if (s[0] < 0x80) { *need = 1; return 1; }
    unsigned char lo, hi;
    int len = lead_info(s[0], &lo, &hi);
    *need = (size_t)len;
    if (!len) return 0;
    size_t i = 1;
    if (i < n && s[1] >= lo && s[1] <= hi) {
        i = 2;
        while (i < (size_t)len && i < n && s[i] >= 0x80 && s[i] <= 0xBF) i++;
    }
    return i;
}

size_t ya_tok_utf8_valid_len(const unsigned char *s, size_t n) {
    size_t need, got = valid_prefix(s, n, &need);
    return got == need ? need : 0;
}

size_t ya_tok_utf8_invalid_len(const unsigned char *s, size_t n) {
    size_t need, got = valid_prefix(s, n, &need);
    return got ? got : 1;
}

int ya_tok_utf8_sanitize(const char *s, size_t n, YaStrBuf *out) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0; /* run: start of the pending valid stretch */
    while (i < n) {
        size_t v = ya_tok_utf8_valid_len(u + i, n - i);
        if (v) { i += v; continue; }
        if (ya_strbuf_put(out, s + run, i - run)) return -1;
        if (ya_strbuf_put(out, "\xEF\xBF\xBD", 3)) return -1;
        i += ya_tok_utf8_invalid_len(u + i, n - i);
        run = i;
    }
    return ya_strbuf_put(out, s + run, n - run);
}

size_t ya_tok_utf8_decode(const char *s, uint32_t *cp) {
    const unsigned char *u = (const unsigned char *)s;
    if (u[0] < 0x80) { *cp = u[0]; return 1; }
    if (u[0] < 0xE0) { *cp = ((uint32_t)(u[0] & 0x1F) << 6) | (u[1] & 0x3F); return 2; }
    if (u[0] < 0xF0) {
        *cp = ((uint32_t)(u[0] & 0x0F) << 12) | ((uint32_t)(u[1] & 0x3F) << 6) | (u[2] & 0x3F);
        return 3;
    }
    *cp = ((uint32_t)(u[0] & 0x07) << 18) | ((uint32_t)(u[1] & 0x3F) << 12) | ((uint32_t)(u[2] & 0x3F) << 6) |
          (u[3] & 0x3F);
    return 4;
}

size_t ya_tok_utf8_encode(uint32_t cp, char out[4]) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) { out[0] = (char)(0xC0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

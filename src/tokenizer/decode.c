/* decode.c — ids → text: the decoder chain (HF `decoders`): ByteLevel,
 * Replace, ByteFallback, Fuse, Strip, Sequence (flattened at load time).
 * Like HF, every step maps a list of token strings to a new list, and the
 * final list is concatenated. Ids outside the vocabulary are skipped (HF's
 * filter_map); special tokens are skipped when asked. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"

typedef struct StrList {
    YaStrBuf *v; // [n]
    size_t n, cap;
} StrList;

static YaStrBuf *list_add(StrList *l) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        YaStrBuf *v = realloc(l->v, cap * sizeof *v);
        if (!v) return NULL;
        l->v = v;
        l->cap = cap;
    }
    YaStrBuf *b = &l->v[l->n++];
    *b = (YaStrBuf){0};
    if (ya_strbuf_put(b, "", 0)) return NULL;
    return b;
}

static void list_free(StrList *l) {
    for (size_t i = 0; i < l->n; i++) ya_strbuf_free(&l->v[i]);
    free(l->v);
    *l = (StrList){0};
}

static const char k_fffd[] = "\xEF\xBF\xBD";

/* GPT-2 alphabet code point → byte, -1 for characters outside it. */
static int byte_of_cp(uint32_t cp) {
    if ((cp >= '!' && cp <= '~') || (cp >= 0xA1 && cp <= 0xAC) || (cp >= 0xAE && cp <= 0xFF)) return (int)cp;
    if (cp < 256 || cp >= 256 + 68) return -1;
    int n = 0;
    for (int b = 0; b < 256; b++) {
        int keep = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        if (!keep && (uint32_t)(256 + n++) == cp) return b;
    }
    return -1;
}

/* ByteLevel: each token's characters back to bytes (a token with a character
 * outside the alphabet contributes its raw UTF-8), then one lossy UTF-8 string. */
static int step_byte_level(StrList *in, StrList *out) {
    YaStrBuf bytes = {0};
    for (size_t i = 0; i < in->n; i++) {
        const char *s = in->v[i].data;
        size_t len = in->v[i].len, start = bytes.len;
        int ok = 1;
        for (size_t k = 0; k < len;) {
            uint32_t cp;
            k += ya_tok_utf8_decode(s + k, &cp);
            int b = byte_of_cp(cp);
            if (b < 0) { ok = 0; break; }
            if (ya_strbuf_putc(&bytes, (char)b)) goto oom;
        }
        if (!ok) {
            bytes.len = start;
            if (ya_strbuf_put(&bytes, s, len)) goto oom;
        }
    }
    YaStrBuf *o = list_add(out);
    if (!o || ya_tok_utf8_sanitize(bytes.data ? bytes.data : "", bytes.len, o)) goto oom;
    ya_strbuf_free(&bytes);
    return 0;
oom:
    ya_strbuf_free(&bytes);
    return -1;
}

static int parse_byte_token(const char *s, size_t len) {
    if (len != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>') return -1;
    int v = 0;
    for (int k = 3; k < 5; k++) {
        char c = s[k];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* ByteFallback: runs of <0xXX> tokens become their UTF-8 string, or one U+FFFD per byte when invalid. */
static int flush_bytes(YaStrBuf *pending, StrList *out) {
    if (pending->len == 0) return 0;
    const unsigned char *u = (const unsigned char *)pending->data;
    int valid = 1;
    for (size_t i = 0; i < pending->len;) {
        size_t v = ya_tok_utf8_valid_len(u + i, pending->len - i);
        if (!v) { valid = 0; break; }
        i += v;
    }
    YaStrBuf *o;
    if (valid) {
        if (!(o = list_add(out)) || ya_strbuf_put(o, pending->data, pending->len)) return -1;
    } else {
        for (size_t i = 0; i < pending->len; i++)
            if (!(o = list_add(out)) || ya_strbuf_put(o, k_fffd, 3)) return -1;
    }
    pending->len = 0;
    return 0;
}

static int step_byte_fallback(StrList *in, StrList *out) {
    YaStrBuf pending = {0};
    for (size_t i = 0; i < in->n; i++) {
        int b = parse_byte_token(in->v[i].data, in->v[i].len);
        if (b >= 0) {
            if (ya_strbuf_putc(&pending, (char)b)) goto oom;
            continue;
        }
        if (flush_bytes(&pending, out)) goto oom;
        YaStrBuf *o = list_add(out);
        if (!o || ya_strbuf_put(o, in->v[i].data, in->v[i].len)) goto oom;
    }
    if (flush_bytes(&pending, out)) goto oom;
    ya_strbuf_free(&pending);
    return 0;
oom:
    ya_strbuf_free(&pending);
    return -1;
}

static int step_each(const YaDecStep *st, StrList *in, StrList *out) {
    if (st->kind == YA_DEC_FUSE) {
        YaStrBuf *o = list_add(out);
        if (!o) return -1;
        for (size_t i = 0; i < in->n; i++)
            if (ya_strbuf_put(o, in->v[i].data, in->v[i].len)) return -1;
        return 0;
    }
    for (size_t i = 0; i < in->n; i++) {
        const char *s = in->v[i].data;
        size_t len = in->v[i].len;
        YaStrBuf *o = list_add(out);
        if (!o) return -1;
        if (st->kind == YA_DEC_REPLACE) {
            size_t k = 0, run = 0;
            while (st->a.len && k + st->a.len <= len) {
                if (memcmp(s + k, st->a.s, st->a.len) == 0) {
                    if (ya_strbuf_put(o, s + run, k - run) || ya_strbuf_put(o, st->b.s, st->b.len)) return -1;
                    k += st->a.len;
                    run = k;
                } else {
                    k++;
                }
            }
            if (ya_strbuf_put(o, s + run, len - run)) return -1;
        } else if (st->kind == YA_DEC_METASPACE) {
            /* replacement → ' ', except that the first token loses its replacements
             * altogether unless the scheme is "never" (HF Metaspace::decode_chain) */
            int drop = i == 0 && st->prepend_scheme != YA_PREPEND_NEVER;
            for (size_t k = 0; k < len;) {
                if (k + st->a.len <= len && memcmp(s + k, st->a.s, st->a.len) == 0) {
                    if (!drop && ya_strbuf_putc(o, ' ')) return -1;
                    k += st->a.len;
                } else {
                    if (ya_strbuf_putc(o, s[k])) return -1;
                    k++;
                }
            }
        } else { /* STRIP: up to `start` leading and `stop` trailing copies of the content character */
            size_t a = 0, b = len, c = st->a.len;
            for (size_t k = 0; k < st->start && c && a + c <= b && memcmp(s + a, st->a.s, c) == 0; k++) a += c;
            for (size_t k = 0; k < st->stop && c && b >= a + c && memcmp(s + b - c, st->a.s, c) == 0; k++) b -= c;
            if (ya_strbuf_put(o, s + a, b - a)) return -1;
        }
    }
    return 0;
}

int ya_tok_decode_chain(const YaTokenizer *tok, YaStr *tokens, size_t n, YaStrBuf *out, YaError *err) {
    StrList cur = {0}, next = {0};
    int rc = YA_OK;
    for (size_t i = 0; i < n; i++) {
        YaStrBuf *b = list_add(&cur);
        if (!b || ya_strbuf_put(b, tokens[i].s, tokens[i].len)) goto oom;
    }
    if (!tok->has_decoder) { /* HF joins the raw tokens with spaces */
        for (size_t i = 0; i < cur.n; i++)
            if ((i && ya_strbuf_putc(out, ' ')) || ya_strbuf_put(out, cur.v[i].data, cur.v[i].len)) goto oom;
        goto done;
    }
    for (size_t k = 0; k < tok->n_dec; k++) {
        const YaDecStep *st = &tok->dec[k];
        int r;
        if (st->kind == YA_DEC_BYTELEVEL) r = step_byte_level(&cur, &next);
        else if (st->kind == YA_DEC_BYTEFALLBACK) r = step_byte_fallback(&cur, &next);
        else r = step_each(st, &cur, &next);
        if (r) goto oom;
        list_free(&cur);
        cur = next;
        next = (StrList){0};
    }
    if (ya_strbuf_put(out, "", 0)) goto oom;
    for (size_t i = 0; i < cur.n; i++)
        if (ya_strbuf_put(out, cur.v[i].data, cur.v[i].len)) goto oom;
    goto done;
oom:
    rc = ya_fail(err, YA_ERR, "out of memory");
done:
    list_free(&cur);
    list_free(&next);
    return rc;
}

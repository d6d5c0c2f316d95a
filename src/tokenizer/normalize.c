/* normalize.c — the normalizer chain (HF `normalizers`): NFC/NFD/NFKC/NFKD
 * through utf8proc, Prepend, Replace with a literal pattern, and Sequence
 * (flattened at load time into tok->norm). Each step maps a whole string to a
 * new string; offsets are not tracked because nothing downstream needs them. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h> /* defines: utf8proc_map, UTF8PROC_COMPOSE */

#include "tokenizer/tokenizer_internal.h"

static int unicode_form(YaNormKind kind, const char *s, size_t len, YaStrBuf *out, YaError *err) {
    if (len == 0) return YA_OK;
    size_t i = 0;
    while (i < len && (unsigned char)s[i] < 0x80) i++;
    if (i == len) /* ASCII is invariant under all four forms */
        return ya_strbuf_put(out, s, len) ? ya_fail(err, YA_ERR, "out of memory") : YA_OK;
    int opts = UTF8PROC_STABLE;
    switch (kind) {
    case YA_NORM_NFC: opts |= UTF8PROC_COMPOSE; break;
    case YA_NORM_NFD: opts |= UTF8PROC_DECOMPOSE; break;
    case YA_NORM_NFKC: opts |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    default: opts |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
    }
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &dst, opts);
    if (n < 0) return ya_fail(err, YA_ERR, "unicode normalization failed: %s", utf8proc_errmsg(n));
    int rc = ya_strbuf_put(out, dst, (size_t)n);
    free(dst);
    return rc ? ya_fail(err, YA_ERR, "out of memory") : YA_OK;
}

static int replace_all(const YaStr *pat, const YaStr *with, const char *s, size_t len, YaStrBuf *out) {
    if (pat->len == 0) return ya_strbuf_put(out, s, len);
    size_t i = 0, run = 0;
    while (i + pat->len <= len) {
        if (memcmp(s + i, pat->s, pat->len) == 0) {
            if (ya_strbuf_put(out, s + run, i - run) || ya_strbuf_put(out, with->s, with->len)) return -1;
            i += pat->len;
            run = i;
        } else {
            i++;
        }
    }
    return ya_strbuf_put(out, s + run, len - run);
}

int ya_tok_normalize(const YaTokenizer *tok, const char *s, size_t len, YaStrBuf *out, YaError *err) {
    YaStrBuf cur = {0}, next = {0};
    if (ya_strbuf_put(&cur, s, len)) return ya_fail(err, YA_ERR, "out of memory");
    for (size_t k = 0; k < tok->n_norm; k++) {
        const YaNormStep *st = &tok->norm[k];
        next.len = 0;
        int rc = 0;
        switch (st->kind) {
        case YA_NORM_PREPEND: /* HF prepends only to a non-empty string */
            if (cur.len) rc = ya_strbuf_put(&next, st->a.s, st->a.len) || ya_strbuf_put(&next, cur.data, cur.len);
            break;
        case YA_NORM_REPLACE: rc = replace_all(&st->a, &st->b, cur.data, cur.len, &next); break;
        default:
            if (unicode_form(st->kind, cur.data, cur.len, &next, err)) {
                ya_strbuf_free(&cur);
                ya_strbuf_free(&next);
                return YA_ERR;
            }
            break;
        }
        if (rc || ya_strbuf_put(&next, "", 0)) {
            ya_strbuf_free(&cur);
            ya_strbuf_free(&next);
            return ya_fail(err, YA_ERR, "out of memory");
        }
        YaStrBuf t = cur;
        cur = next;
        next = t;
    }
    ya_strbuf_free(&next);
    *out = cur;
    return YA_OK;
}

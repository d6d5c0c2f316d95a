/* pretokenize.c — the pre-tokenizer chain (HF `pre_tokenizers`): Split with
 * the file's own regex (compiled by PCRE2 with UTF + UCP, never translated by
 * hand), ByteLevel (optional GPT-2 regex split, then bytes → the GPT-2
 * printable alphabet) and Sequence (flattened at load time).
 *
 * Pre-tokens are spans of one buffer; Split only re-slices it, ByteLevel
 * rewrites it. Empty pieces are dropped, as HF's PreTokenizedString::split does. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"

/* GPT-2's ByteLevel pattern, used when a ByteLevel pre-tokenizer has use_regex. */
const char ya_tok_gpt2_pattern[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

void ya_tok_spans_free(YaSpans *s) {
    ya_strbuf_free(&s->buf);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

int ya_tok_spans_push(YaSpans *s, size_t off, size_t len) {
    if (len == 0) return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct YaSpan *v = realloc(s->v, cap * sizeof *v);
        if (!v) return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n].off = off;
    s->v[s->n].len = len;
    s->n++;
    return 0;
}

int ya_tok_regex_compile(const char *pattern, size_t len, int literal, const char *where, pcre2_code **out,
                     YaError *err) {
    int ecode;
    PCRE2_SIZE eoff;
    uint32_t opts = PCRE2_UTF | (literal ? PCRE2_LITERAL : PCRE2_UCP); /* LITERAL admits no UCP */
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, len, opts, &ecode, &eoff, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ecode, msg, sizeof msg);
        return ya_fail(err, YA_ERR, "%s: regex does not compile at offset %zu: %s", where, (size_t)eoff,
                       (const char *)msg);
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* optional speed-up: falls back to the interpreter */
    *out = re;
    return YA_OK;
}

/* One match list entry: [start, end) and whether the pattern matched it. */
typedef struct Seg {
    size_t start, end;
    int is_match;
} Seg;
typedef struct Segs {
    Seg *v;
    size_t n, cap;
} Segs;

static int segs_push(Segs *s, size_t a, size_t b, int m) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        Seg *v = realloc(s->v, cap * sizeof *v);
        if (!v) return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (Seg){a, b, m};
    return 0;
}

/* HF Pattern::find_matches: the whole string as alternating non-match / match segments. */
static int find_matches(const pcre2_code *re, pcre2_match_data *md, const char *s, size_t len, Segs *out) {
    out->n = 0;
    size_t pos = 0, prev = 0;
    while (pos <= len) {
        int rc = pcre2_match(re, (PCRE2_SPTR)s, len, pos, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT) /* the interpreter keeps its backtracking on the heap */
            rc = pcre2_match(re, (PCRE2_SPTR)s, len, pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) return -1;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t a = ov[0], b = ov[1];
        if (prev != a && segs_push(out, prev, a, 0)) return -1;
        if (segs_push(out, a, b, 1)) return -1;
        prev = b;
        if (b == a) { /* empty match: step over one character */
            if (b >= len) break;
            uint32_t cp;
            pos = b + ya_tok_utf8_decode(s + b, &cp);
        } else {
            pos = b;
        }
    }
    if (prev != len && segs_push(out, prev, len, 0)) return -1;
    return 0;
}

/* HF NormalizedString::split with a SplitDelimiterBehavior; pushes kept pieces. */
static int split_span(const YaPreStep *st, pcre2_match_data *md, const char *base, size_t off, size_t len,
                      Segs *segs, YaSpans *out) {
    if (find_matches(st->re, md, base + off, len, segs)) return -1;
    Seg *v = segs->v;
    size_t n = segs->n;
    if (st->invert)
        for (size_t i = 0; i < n; i++) v[i].is_match = !v[i].is_match;
    switch (st->behavior) {
    case YA_SPLIT_ISOLATED:
        for (size_t i = 0; i < n; i++)
            if (ya_tok_spans_push(out, off + v[i].start, v[i].end - v[i].start)) return -1;
        break;
    case YA_SPLIT_REMOVED:
        for (size_t i = 0; i < n; i++)
            if (!v[i].is_match && ya_tok_spans_push(out, off + v[i].start, v[i].end - v[i].start)) return -1;
        break;
    case YA_SPLIT_CONTIGUOUS:
        for (size_t i = 0; i < n;) {
            size_t j = i + 1;
            while (j < n && v[j].is_match == v[i].is_match) j++;
            if (ya_tok_spans_push(out, off + v[i].start, v[j - 1].end - v[i].start)) return -1;
            i = j;
        }
        break;
    case YA_SPLIT_MERGED_PREV: { /* a match joins the piece before it */
        int prev_match = 0;
        size_t cur_a = 0, cur_b = 0;
        int have = 0;
        for (size_t i = 0; i < n; i++) {
            if (v[i].is_match && !prev_match && have) {
                cur_b = v[i].end;
            } else {
                if (have && ya_tok_spans_push(out, off + cur_a, cur_b - cur_a)) return -1;
                cur_a = v[i].start;
                cur_b = v[i].end;
                have = 1;
            }
            prev_match = v[i].is_match;
        }
        if (have && ya_tok_spans_push(out, off + cur_a, cur_b - cur_a)) return -1;
        break;
    }
    case YA_SPLIT_MERGED_NEXT: { /* a match joins the piece after it (HF folds from the right) */
        size_t first = out->n;
        int prev_match = 0;
        size_t cur_a = 0, cur_b = 0;
        int have = 0;
        for (size_t k = n; k-- > 0;) {
            if (v[k].is_match && !prev_match && have) {
                cur_a = v[k].start;
            } else {
                if (have && ya_tok_spans_push(out, off + cur_a, cur_b - cur_a)) return -1;
                cur_a = v[k].start;
                cur_b = v[k].end;
                have = 1;
            }
            prev_match = v[k].is_match;
        }
        if (have && ya_tok_spans_push(out, off + cur_a, cur_b - cur_a)) return -1;
        /* pieces were produced right to left */
        for (size_t a = first, b = out->n; a + 1 < b; a++, b--) {
            struct YaSpan t = out->v[a];
            out->v[a] = out->v[b - 1];
            out->v[b - 1] = t;
        }
        break;
    }
    }
    return 0;
}

/* bytes → GPT-2 alphabet: printable Latin-1 bytes map to themselves, the rest to U+0100 + n. */
static void byte_alphabet(char enc[256][3], unsigned char enc_len[256]) {
    uint32_t cp_of[256];
    int n = 0;
    for (int b = 0; b < 256; b++) {
        int keep = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        cp_of[b] = keep ? (uint32_t)b : 256u + (uint32_t)n++;
    }
    for (int b = 0; b < 256; b++) {
        char tmp[4];
        enc_len[b] = (unsigned char)ya_tok_utf8_encode(cp_of[b], tmp);
        memcpy(enc[b], tmp, enc_len[b]);
    }
}

/* Metaspace: spaces → replacement, the replacement prepended (per scheme) to a
 * piece that does not start with it, then optionally split before each replacement. */
static int metaspace_span(const YaPreStep *st, pcre2_match_data *md, const char *s, size_t n, int first, Segs *segs,
                          YaSpans *out) {
    YaStrBuf piece = {0};
    int prepend = st->prepend_scheme == YA_PREPEND_ALWAYS || (st->prepend_scheme == YA_PREPEND_FIRST && first);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = s[i] == ' ' ? ya_strbuf_put(&piece, st->replacement.s, st->replacement.len) : ya_strbuf_putc(&piece, s[i]);
    if (!rc && prepend && !(piece.len >= st->replacement.len && memcmp(piece.data, st->replacement.s, st->replacement.len) == 0)) {
        YaStrBuf pre = {0};
        rc = ya_strbuf_put(&pre, st->replacement.s, st->replacement.len) || ya_strbuf_put(&pre, piece.data, piece.len);
        ya_strbuf_free(&piece);
        piece = pre;
    }
    if (rc) { ya_strbuf_free(&piece); return -1; }
    size_t base = out->buf.len;
    if (ya_strbuf_put(&out->buf, piece.data ? piece.data : "", piece.len)) { ya_strbuf_free(&piece); return -1; }
    if (st->split) {
        YaPreStep merged = *st;
        merged.behavior = YA_SPLIT_MERGED_NEXT;
        merged.invert = 0;
        rc = split_span(&merged, md, out->buf.data, base, piece.len, segs, out);
    } else {
        rc = ya_tok_spans_push(out, base, piece.len);
    }
    ya_strbuf_free(&piece);
    return rc;
}

int ya_tok_pretokenize(const YaTokenizer *tok, const char *text, size_t len, int at_start, YaSpans *out, YaError *err) {
    YaSpans cur = {0}, next = {0};
    Segs segs = {0};
    pcre2_match_data *md = NULL;
    int rc = YA_OK;
    char enc[256][3];
    unsigned char enc_len[256];
    byte_alphabet(enc, enc_len);
    if (ya_strbuf_put(&cur.buf, text, len) || ya_tok_spans_push(&cur, 0, len)) goto oom;
    for (size_t k = 0; k < tok->n_pre; k++) {
        const YaPreStep *st = &tok->pre[k];
        next.n = 0;
        if (st->re) {
            pcre2_match_data_free(md);
            md = pcre2_match_data_create_from_pattern(st->re, NULL);
            if (!md) goto oom;
        }
        if (st->kind == YA_PRE_SPLIT) {
            for (size_t i = 0; i < cur.n; i++)
                if (split_span(st, md, cur.buf.data, cur.v[i].off, cur.v[i].len, &segs, &next)) goto fail;
            YaStrBuf b = cur.buf; /* Split keeps the buffer: move it over */
            cur.buf = next.buf;
            next.buf = b;
        } else if (st->kind == YA_PRE_METASPACE) {
            next.buf.len = 0;
            for (size_t i = 0; i < cur.n; i++)
                if (metaspace_span(st, md, cur.buf.data + cur.v[i].off, cur.v[i].len, at_start && cur.v[i].off == 0,
                                   &segs, &next))
                    goto oom;
        } else { /* BYTELEVEL */
            next.buf.len = 0;
            YaSpans pieces = {0};
            for (size_t i = 0; i < cur.n; i++) {
                const char *s = cur.buf.data + cur.v[i].off;
                size_t n = cur.v[i].len;
                YaStrBuf prefixed = {0};
                if (st->add_prefix_space && s[0] != ' ') {
                    if (ya_strbuf_putc(&prefixed, ' ') || ya_strbuf_put(&prefixed, s, n)) { ya_strbuf_free(&prefixed); goto oom; }
                    s = prefixed.data;
                    n = prefixed.len;
                }
                pieces.n = 0;
                if (st->use_regex) {
                    YaPreStep iso = *st;
                    iso.behavior = YA_SPLIT_ISOLATED;
                    iso.invert = 0;
                    if (split_span(&iso, md, s, 0, n, &segs, &pieces)) { ya_strbuf_free(&prefixed); free(pieces.v); goto fail; }
                } else if (ya_tok_spans_push(&pieces, 0, n)) {
                    ya_strbuf_free(&prefixed);
                    free(pieces.v);
                    goto oom;
                }
                for (size_t p = 0; p < pieces.n; p++) {
                    size_t start = next.buf.len;
                    for (size_t q = 0; q < pieces.v[p].len; q++) {
                        unsigned char b = (unsigned char)s[pieces.v[p].off + q];
                        if (ya_strbuf_put(&next.buf, enc[b], enc_len[b])) { ya_strbuf_free(&prefixed); free(pieces.v); goto oom; }
                    }
                    if (ya_tok_spans_push(&next, start, next.buf.len - start)) { ya_strbuf_free(&prefixed); free(pieces.v); goto oom; }
                }
                ya_strbuf_free(&prefixed);
            }
            free(pieces.v);
        }
        YaSpans t = cur;
        cur = next;
        next = t;
    }
    *out = cur;
    cur = (YaSpans){0};
    goto done;
oom:
    rc = ya_fail(err, YA_ERR, "out of memory");
    goto done;
fail:
    rc = ya_fail(err, YA_ERR, "pre-tokenizer regex match failed");
done:
    ya_tok_spans_free(&cur);
    ya_tok_spans_free(&next);
    free(segs.v);
    pcre2_match_data_free(md);
    return rc;
}

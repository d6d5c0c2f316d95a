/* tokenizer.c — the public encode/decode entry points and vocabulary
 * accessors: the pipeline of HF's Tokenizer::encode, stage by stage
 * (see tokenizer_internal.h for the stages and where each one lives). */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"

int ya_tok_postprocess(const YaTokenizer *tok, YaIds *ids, size_t first, YaError *err);

int ya_ids_push(YaIds *v, int32_t id) {
    if (v->len == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        int32_t *p = realloc(v->ids, cap * sizeof *p);
        if (!p) return -1;
        v->ids = p;
        v->cap = cap;
    }
    v->ids[v->len++] = id;
    return 0;
}

void ya_ids_free(YaIds *v) {
    free(v->ids);
    v->ids = NULL;
    v->len = v->cap = 0;
}

static int is_valid_utf8(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (u[i] < 0x80) { i++; continue; }
        size_t v = ya_tok_utf8_valid_len(u + i, n - i);
        if (!v) return 0;
        i += v;
    }
    return 1;
}

/* normalized text piece → pre-tokens → BPE, stopping once out->len >= stop */
static int encode_text(const YaTokenizer *tok, const char *s, size_t len, int at_start, size_t stop, YaIds *out,
                       YaError *err) {
    YaSpans spans = {0};
    if (ya_tok_pretokenize(tok, s, len, at_start, &spans, err)) return YA_ERR;
    int rc = YA_OK;
    for (size_t i = 0; i < spans.n && rc == YA_OK && out->len < stop; i++)
        rc = ya_tok_bpe_word(tok, spans.buf.data + spans.v[i].off, spans.v[i].len, stop, out, err);
    ya_tok_spans_free(&spans);
    return rc;
}

/* The pipeline; with max_tokens < SIZE_MAX it stops once the body (the ids
 * before the post-processor) has max_tokens ids, and then leaves out the
 * post-processor's suffix, which would not follow that partial body. */
static int encode(const YaTokenizer *tok, const char *text, size_t len, int add_special, size_t max_tokens, YaIds *out,
                  YaError *err) {
    size_t first = out->len;
    size_t stop = max_tokens < SIZE_MAX - first ? first + max_tokens : SIZE_MAX;
    YaStrBuf fixed = {0};
    if (!is_valid_utf8(text, len)) {
        if (ya_tok_utf8_sanitize(text, len, &fixed)) return ya_fail(err, YA_ERR, "out of memory");
        text = fixed.data;
        len = fixed.len;
    }
    YaPieces raw = {0}, normed = {0};
    YaStrBuf norm = {0};
    int rc = YA_OK;
    if (ya_tok_added_split(tok, &tok->trie_raw, text, len, &raw)) rc = ya_fail(err, YA_ERR, "out of memory");
    for (size_t i = 0; i < raw.n && rc == YA_OK && out->len < stop; i++) {
        const YaPiece *p = &raw.v[i];
        if (p->token >= 0) {
            if (ya_ids_push(out, tok->added[p->token].id)) rc = ya_fail(err, YA_ERR, "out of memory");
            continue;
        }
        const char *s = text + p->off;
        size_t n = p->len;
        if (tok->n_norm) {
            ya_strbuf_free(&norm);
            if ((rc = ya_tok_normalize(tok, s, n, &norm, err))) break;
            s = norm.data;
            n = norm.len;
        }
        normed.n = 0;
        if (ya_tok_added_split(tok, &tok->trie_norm, s, n, &normed)) {
            rc = ya_fail(err, YA_ERR, "out of memory");
            break;
        }
        for (size_t k = 0; k < normed.n && rc == YA_OK && out->len < stop; k++) {
            const YaPiece *q = &normed.v[k];
            if (q->token >= 0) {
                if (ya_ids_push(out, tok->added[q->token].id)) rc = ya_fail(err, YA_ERR, "out of memory");
            } else {
                rc = encode_text(tok, s + q->off, q->len, p->off == 0 && q->off == 0, stop, out, err);
            }
        }
    }
    int stopped = out->len >= stop; /* a full body of exactly max_tokens ids keeps its suffix out too: harmless */
    if (rc == YA_OK && add_special) {
        rc = ya_tok_postprocess(tok, out, first, err);
        if (rc == YA_OK && stopped) out->len -= tok->n_post_suffix;
    }
    ya_tok_pieces_free(&raw);
    ya_tok_pieces_free(&normed);
    ya_strbuf_free(&norm);
    ya_strbuf_free(&fixed);
    if (rc != YA_OK) out->len = first;
    return rc;
}

int ya_tokenizer_encode(const YaTokenizer *tok, const char *text, size_t len, int add_special, YaIds *out,
                        YaError *err) {
    return encode(tok, text, len, add_special, SIZE_MAX, out, err);
}

int ya_tokenizer_encode_prefix(const YaTokenizer *tok, const char *text, size_t len, int add_special, size_t max_tokens,
                               YaIds *out, YaError *err) {
    return encode(tok, text, len, add_special, max_tokens, out, err);
}

int ya_tokenizer_decode(const YaTokenizer *tok, const int32_t *ids, size_t n, int skip_special, char **out,
                        size_t *out_len, YaError *err) {
    *out = NULL;
    YaStr *toks = malloc((n ? n : 1) * sizeof *toks); // [n] borrowed strings
    if (!toks) return ya_fail(err, YA_ERR, "out of memory");
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || (size_t)id >= tok->n_total) continue; /* HF drops unknown ids */
        int32_t a = tok->added_by_id[id];
        if (a >= 0) {
            if (skip_special && tok->added[a].special) continue;
            toks[m++] = tok->added[a].content;
        } else if ((size_t)id < tok->n_vocab && tok->vocab[id].s) {
            toks[m++] = tok->vocab[id];
        }
    }
    YaStrBuf text = {0};
    int rc = ya_tok_decode_chain(tok, toks, m, &text, err);
    free(toks);
    if (rc == YA_OK && !text.data && ya_strbuf_put(&text, "", 0)) rc = ya_fail(err, YA_ERR, "out of memory");
    if (rc != YA_OK) {
        ya_strbuf_free(&text);
        return rc;
    }
    *out = text.data;
    if (out_len) *out_len = text.len;
    return YA_OK;
}

size_t ya_tokenizer_vocab_size(const YaTokenizer *tok) { return tok->n_total; }
int32_t ya_tokenizer_bos_id(const YaTokenizer *tok) { return tok->bos_id; }
int32_t ya_tokenizer_eos_id(const YaTokenizer *tok) { return tok->eos_id; }
int32_t ya_tokenizer_pad_id(const YaTokenizer *tok) { return tok->pad_id; }
int ya_tokenizer_add_bos(const YaTokenizer *tok) {
    /* HF adds BOS only through the post-processor (TemplateProcessing) */
    return tok->n_post_prefix > 0 && (tok->bos_id < 0 || tok->post_prefix[0] == tok->bos_id);
}
int ya_tokenizer_is_special(const YaTokenizer *tok, int32_t id) {
    if (id < 0 || (size_t)id >= tok->n_total) return 0;
    int32_t a = tok->added_by_id[id];
    return a >= 0 && tok->added[a].special;
}
const char *ya_tokenizer_id_to_token(const YaTokenizer *tok, int32_t id) {
    if (id < 0 || (size_t)id >= tok->n_total) return NULL;
    int32_t a = tok->added_by_id[id];
    if (a >= 0) return tok->added[a].content.s;
    return (size_t)id < tok->n_vocab ? tok->vocab[id].s : NULL;
}
int32_t ya_tokenizer_token_to_id(const YaTokenizer *tok, const char *token) {
    size_t len = strlen(token);
    int32_t a = ya_tok_strmap_get(&tok->added_map, token, len);
    if (a >= 0) return tok->added[a].id;
    return ya_tok_strmap_get(&tok->vocab_map, token, len);
}
YaChatFormat ya_tokenizer_chat_format(const YaTokenizer *tok) { return tok->chat_format; }
int ya_tokenizer_has_chat_template(const YaTokenizer *tok) { return tok->chat_template_present; }

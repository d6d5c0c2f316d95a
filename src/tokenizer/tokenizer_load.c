/* tokenizer_load.c — tokenizer.json (+ tokenizer_config.json) → YaTokenizer.
 *
 * Every component of the file is checked against what we implement exactly;
 * anything else is refused with the JSON path of the offending value
 * ("tokenizer.json: normalizer.normalizers[1].type \"Lowercase\" is not
 * supported"), never approximated. The parsed structures are described in
 * tokenizer_internal.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/fileio.h"
#include "your_ai/json.h"
#include "your_ai/log.h"
#include "tokenizer/tokenizer_internal.h"

/* Ids index dense tables; real vocabularies are below 10^6, so a bound keeps a
 * hostile file from asking for gigabytes. */
#define YA_MAX_TOKEN_ID (1LL << 24)

static int str_dup(YaStr *dst, const char *s, size_t len) {
    dst->s = malloc(len + 1);
    if (!dst->s) return -1;
    memcpy(dst->s, s, len);
    dst->s[len] = 0;
    dst->len = len;
    return 0;
}

/* Helpers that read a typed member and fail with its JSON path. */
typedef struct Ctx {
    const char *file; /* name used in messages */
    YaError *err;
} Ctx;

static int bad(Ctx *c, const char *path, const char *what) {
    return ya_fail(c->err, YA_ERR, "%s: %s %s", c->file, path, what);
}

static int get_bool(Ctx *c, const json_t *obj, const char *key, const char *path, int def, int *out) {
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) { *out = def; return YA_OK; }
    if (!json_is_boolean(v)) {
        char p[512];
        snprintf(p, sizeof p, "%s.%s", path, key);
        return bad(c, p, "must be true or false");
    }
    *out = json_is_true(v);
    return YA_OK;
}

/* Optional string (absent or null → *out = NULL). */
static int get_str(Ctx *c, const json_t *obj, const char *key, const char *path, const json_t **out) {
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) return YA_OK;
    if (!json_is_string(v)) {
        char p[512];
        snprintf(p, sizeof p, "%s.%s", path, key);
        return bad(c, p, "must be a string");
    }
    *out = v;
    return YA_OK;
}

static int get_type(Ctx *c, const json_t *obj, const char *path, const char **type) {
    char p[512];
    if (!json_is_object(obj)) return bad(c, path, "must be an object");
    const json_t *t = json_object_get(obj, "type");
    snprintf(p, sizeof p, "%s.type", path);
    if (!t) return bad(c, p, "is missing");
    if (!json_is_string(t)) return bad(c, p, "must be a string");
    *type = json_string_value(t);
    return YA_OK;
}

static int unsupported(Ctx *c, const char *path, const char *type) {
    return ya_fail(c->err, YA_ERR, "%s: %s.type \"%s\" is not supported", c->file, path, type);
}

/* A {"String": s} or {"Regex": r} pattern. */
static int get_pattern(Ctx *c, const json_t *obj, const char *path, const char **s, size_t *len, int *is_regex) {
    char p[512];
    snprintf(p, sizeof p, "%s.pattern", path);
    const json_t *pat = json_object_get(obj, "pattern");
    if (!json_is_object(pat)) return bad(c, p, "must be an object {\"String\": ...} or {\"Regex\": ...}");
    const json_t *v;
    if ((v = json_object_get(pat, "String")) && json_is_string(v)) *is_regex = 0;
    else if ((v = json_object_get(pat, "Regex")) && json_is_string(v)) *is_regex = 1;
    else return bad(c, p, "must be an object {\"String\": ...} or {\"Regex\": ...}");
    *s = json_string_value(v);
    *len = json_string_length(v);
    return YA_OK;
}

/* ---- normalizer -------------------------------------------------------------- */
static int push_norm(YaTokenizer *tok, YaNormStep st) {
    YaNormStep *v = realloc(tok->norm, (tok->n_norm + 1) * sizeof *v);
    if (!v) return -1;
    tok->norm = v;
    tok->norm[tok->n_norm++] = st;
    return 0;
}

static int load_normalizer(Ctx *c, YaTokenizer *tok, const json_t *n, const char *path) {
    const char *type;
    if (get_type(c, n, path, &type)) return YA_ERR;
    char p[512];
    YaNormStep st = {0};
    if (strcmp(type, "Sequence") == 0) {
        const json_t *arr = json_object_get(n, "normalizers");
        snprintf(p, sizeof p, "%s.normalizers", path);
        if (!json_is_array(arr)) return bad(c, p, "must be an array");
        for (size_t i = 0; i < json_array_size(arr); i++) {
            snprintf(p, sizeof p, "%s.normalizers[%zu]", path, i);
            if (load_normalizer(c, tok, json_array_get(arr, i), p)) return YA_ERR;
        }
        return YA_OK;
    } else if (strcmp(type, "NFC") == 0) st.kind = YA_NORM_NFC;
    else if (strcmp(type, "NFD") == 0) st.kind = YA_NORM_NFD;
    else if (strcmp(type, "NFKC") == 0) st.kind = YA_NORM_NFKC;
    else if (strcmp(type, "NFKD") == 0) st.kind = YA_NORM_NFKD;
    else if (strcmp(type, "Prepend") == 0) {
        const json_t *v;
        if (get_str(c, n, "prepend", path, &v)) return YA_ERR;
        snprintf(p, sizeof p, "%s.prepend", path);
        if (!v) return bad(c, p, "is missing");
        st.kind = YA_NORM_PREPEND;
        if (str_dup(&st.a, json_string_value(v), json_string_length(v))) return ya_fail(c->err, YA_ERR, "out of memory");
    } else if (strcmp(type, "Replace") == 0) {
        const char *s;
        size_t len;
        int is_regex;
        const json_t *content;
        if (get_pattern(c, n, path, &s, &len, &is_regex)) return YA_ERR;
        snprintf(p, sizeof p, "%s.pattern", path);
        if (is_regex) return bad(c, p, "Regex is not supported in a Replace normalizer (only String)");
        if (get_str(c, n, "content", path, &content)) return YA_ERR;
        snprintf(p, sizeof p, "%s.content", path);
        if (!content) return bad(c, p, "is missing");
        st.kind = YA_NORM_REPLACE;
        if (str_dup(&st.a, s, len) || str_dup(&st.b, json_string_value(content), json_string_length(content))) {
            free(st.a.s);
            return ya_fail(c->err, YA_ERR, "out of memory");
        }
    } else {
        return unsupported(c, path, type);
    }
    if (push_norm(tok, st)) {
        free(st.a.s);
        free(st.b.s);
        return ya_fail(c->err, YA_ERR, "out of memory");
    }
    return YA_OK;
}

/* Metaspace's replacement character and prepend scheme ("prepend_scheme", or the
 * older boolean "add_prefix_space": true = always). */
static int load_metaspace(Ctx *c, const json_t *n, const char *path, YaStr *repl, int *scheme) {
    char p[512];
    const json_t *r, *ps;
    if (get_str(c, n, "replacement", path, &r) || get_str(c, n, "prepend_scheme", path, &ps)) return YA_ERR;
    snprintf(p, sizeof p, "%s.replacement", path);
    if (!r) return bad(c, p, "is missing");
    const char *rs = json_string_value(r);
    size_t rl = json_string_length(r);
    if (rl == 0 || rl > 4 || ((unsigned char)rs[0] < 0x80 ? 1u : (unsigned char)rs[0] < 0xE0 ? 2u : (unsigned char)rs[0] < 0xF0 ? 3u : 4u) != rl)
        return bad(c, p, "must be a single character");
    if (ps) {
        const char *v = json_string_value(ps);
        snprintf(p, sizeof p, "%s.prepend_scheme", path);
        if (strcmp(v, "always") == 0) *scheme = YA_PREPEND_ALWAYS;
        else if (strcmp(v, "first") == 0) *scheme = YA_PREPEND_FIRST;
        else if (strcmp(v, "never") == 0) *scheme = YA_PREPEND_NEVER;
        else return ya_fail(c->err, YA_ERR, "%s: %s \"%s\" is not always|first|never", c->file, p, v);
    } else {
        int add = 1;
        if (get_bool(c, n, "add_prefix_space", path, 1, &add)) return YA_ERR;
        *scheme = add ? YA_PREPEND_ALWAYS : YA_PREPEND_NEVER;
    }
    return str_dup(repl, rs, rl) ? ya_fail(c->err, YA_ERR, "out of memory") : YA_OK;
}

/* ---- pre-tokenizer ------------------------------------------------------------ */
static int push_pre(YaTokenizer *tok, YaPreStep st) {
    YaPreStep *v = realloc(tok->pre, (tok->n_pre + 1) * sizeof *v);
    if (!v) return -1;
    tok->pre = v;
    tok->pre[tok->n_pre++] = st;
    return 0;
}

static int load_pre_tokenizer(Ctx *c, YaTokenizer *tok, const json_t *n, const char *path) {
    const char *type;
    if (get_type(c, n, path, &type)) return YA_ERR;
    char p[512];
    YaPreStep st = {0};
    if (strcmp(type, "Sequence") == 0) {
        const json_t *arr = json_object_get(n, "pretokenizers");
        snprintf(p, sizeof p, "%s.pretokenizers", path);
        if (!json_is_array(arr)) return bad(c, p, "must be an array");
        for (size_t i = 0; i < json_array_size(arr); i++) {
            snprintf(p, sizeof p, "%s.pretokenizers[%zu]", path, i);
            if (load_pre_tokenizer(c, tok, json_array_get(arr, i), p)) return YA_ERR;
        }
        return YA_OK;
    } else if (strcmp(type, "Split") == 0) {
        const char *s;
        size_t len;
        int is_regex;
        if (get_pattern(c, n, path, &s, &len, &is_regex)) return YA_ERR;
        const json_t *beh;
        if (get_str(c, n, "behavior", path, &beh)) return YA_ERR;
        snprintf(p, sizeof p, "%s.behavior", path);
        if (!beh) return bad(c, p, "is missing");
        const char *b = json_string_value(beh);
        if (strcmp(b, "Removed") == 0) st.behavior = YA_SPLIT_REMOVED;
        else if (strcmp(b, "Isolated") == 0) st.behavior = YA_SPLIT_ISOLATED;
        else if (strcmp(b, "MergedWithPrevious") == 0) st.behavior = YA_SPLIT_MERGED_PREV;
        else if (strcmp(b, "MergedWithNext") == 0) st.behavior = YA_SPLIT_MERGED_NEXT;
        else if (strcmp(b, "Contiguous") == 0) st.behavior = YA_SPLIT_CONTIGUOUS;
        else return ya_fail(c->err, YA_ERR, "%s: %s \"%s\" is not a known split behavior", c->file, p, b);
        if (get_bool(c, n, "invert", path, 0, &st.invert)) return YA_ERR;
        st.kind = YA_PRE_SPLIT;
        snprintf(p, sizeof p, "%s.pattern", path);
        if (ya_tok_regex_compile(s, len, !is_regex, p, &st.re, c->err)) return ya_error_prefix(c->err, "%s", c->file);
    } else if (strcmp(type, "Metaspace") == 0) {
        st.kind = YA_PRE_METASPACE;
        /* `split` first: load_metaspace allocates the replacement, and a bad `split`
         * after it would leak that string. */
        if (get_bool(c, n, "split", path, 1, &st.split) ||
            load_metaspace(c, n, path, &st.replacement, &st.prepend_scheme))
            return YA_ERR;
        if (ya_tok_regex_compile(st.replacement.s, st.replacement.len, 1, path, &st.re, c->err)) {
            free(st.replacement.s);
            return YA_ERR;
        }
    } else if (strcmp(type, "ByteLevel") == 0) {
        st.kind = YA_PRE_BYTELEVEL;
        if (get_bool(c, n, "add_prefix_space", path, 1, &st.add_prefix_space) ||
            get_bool(c, n, "use_regex", path, 1, &st.use_regex))
            return YA_ERR;
        if (st.use_regex && ya_tok_regex_compile(ya_tok_gpt2_pattern, strlen(ya_tok_gpt2_pattern), 0, path, &st.re, c->err))
            return YA_ERR;
    } else {
        return unsupported(c, path, type);
    }
    if (push_pre(tok, st)) {
        pcre2_code_free(st.re);
        free(st.replacement.s);
        return ya_fail(c->err, YA_ERR, "out of memory");
    }
    return YA_OK;
}

/* ---- decoder ---------------------------------------------------------------- */
static int push_dec(YaTokenizer *tok, YaDecStep st) {
    YaDecStep *v = realloc(tok->dec, (tok->n_dec + 1) * sizeof *v);
    if (!v) return -1;
    tok->dec = v;
    tok->dec[tok->n_dec++] = st;
    return 0;
}

static int load_decoder(Ctx *c, YaTokenizer *tok, const json_t *n, const char *path) {
    const char *type;
    if (get_type(c, n, path, &type)) return YA_ERR;
    char p[512];
    YaDecStep st = {0};
    if (strcmp(type, "Sequence") == 0) {
        const json_t *arr = json_object_get(n, "decoders");
        snprintf(p, sizeof p, "%s.decoders", path);
        if (!json_is_array(arr)) return bad(c, p, "must be an array");
        for (size_t i = 0; i < json_array_size(arr); i++) {
            snprintf(p, sizeof p, "%s.decoders[%zu]", path, i);
            if (load_decoder(c, tok, json_array_get(arr, i), p)) return YA_ERR;
        }
        return YA_OK;
    } else if (strcmp(type, "ByteLevel") == 0) st.kind = YA_DEC_BYTELEVEL;
    else if (strcmp(type, "ByteFallback") == 0) st.kind = YA_DEC_BYTEFALLBACK;
    else if (strcmp(type, "Metaspace") == 0) {
        st.kind = YA_DEC_METASPACE;
        if (load_metaspace(c, n, path, &st.a, &st.prepend_scheme)) return YA_ERR;
    }
    else if (strcmp(type, "Fuse") == 0) st.kind = YA_DEC_FUSE;
    else if (strcmp(type, "Replace") == 0) {
        const char *s;
        size_t len;
        int is_regex;
        const json_t *content;
        if (get_pattern(c, n, path, &s, &len, &is_regex)) return YA_ERR;
        snprintf(p, sizeof p, "%s.pattern", path);
        if (is_regex) return bad(c, p, "Regex is not supported in a Replace decoder (only String)");
        if (get_str(c, n, "content", path, &content)) return YA_ERR;
        snprintf(p, sizeof p, "%s.content", path);
        if (!content) return bad(c, p, "is missing");
        st.kind = YA_DEC_REPLACE;
        if (str_dup(&st.a, s, len) || str_dup(&st.b, json_string_value(content), json_string_length(content))) {
            free(st.a.s);
            return ya_fail(c->err, YA_ERR, "out of memory");
        }
    } else if (strcmp(type, "Strip") == 0) {
        const json_t *content;
        if (get_str(c, n, "content", path, &content)) return YA_ERR;
        snprintf(p, sizeof p, "%s.content", path);
        if (!content) return bad(c, p, "is missing");
        st.kind = YA_DEC_STRIP;
        if (str_dup(&st.a, json_string_value(content), json_string_length(content)))
            return ya_fail(c->err, YA_ERR, "out of memory");
        const json_t *a = json_object_get(n, "start"), *b = json_object_get(n, "stop");
        snprintf(p, sizeof p, "%s.start/stop", path);
        if (!json_is_integer(a) || !json_is_integer(b) || json_integer_value(a) < 0 || json_integer_value(b) < 0) {
            free(st.a.s);
            return bad(c, p, "must be non-negative integers");
        }
        st.start = (size_t)json_integer_value(a);
        st.stop = (size_t)json_integer_value(b);
    } else {
        return unsupported(c, path, type);
    }
    if (push_dec(tok, st)) {
        free(st.a.s);
        free(st.b.s);
        return ya_fail(c->err, YA_ERR, "out of memory");
    }
    return YA_OK;
}

/* ---- model ------------------------------------------------------------------ */
static int load_model(Ctx *c, YaTokenizer *tok, const json_t *m) {
    const char *type;
    const json_t *t = json_object_get(m, "type");
    if (!json_is_object(m)) return bad(c, "model", "must be an object");
    if (!t) return bad(c, "model.type", "is missing");
    if (!json_is_string(t)) return bad(c, "model.type", "must be a string");
    type = json_string_value(t);
    if (strcmp(type, "BPE") != 0) return unsupported(c, "model", type);
    const json_t *dropout = json_object_get(m, "dropout");
    if (dropout && !json_is_null(dropout) && !(json_is_number(dropout) && json_number_value(dropout) == 0.0))
        return bad(c, "model.dropout", "must be null (BPE dropout is not supported)");
    if (get_bool(c, m, "byte_fallback", "model", 0, &tok->byte_fallback) ||
        get_bool(c, m, "fuse_unk", "model", 0, &tok->fuse_unk) ||
        get_bool(c, m, "ignore_merges", "model", 0, &tok->ignore_merges))
        return YA_ERR;
    const json_t *pre, *suf;
    if (get_str(c, m, "continuing_subword_prefix", "model", &pre) || get_str(c, m, "end_of_word_suffix", "model", &suf))
        return YA_ERR;
    if ((pre && str_dup(&tok->subword_prefix, json_string_value(pre), json_string_length(pre))) ||
        (suf && str_dup(&tok->word_suffix, json_string_value(suf), json_string_length(suf))))
        return ya_fail(c->err, YA_ERR, "out of memory");

    const json_t *vocab = json_object_get(m, "vocab");
    if (!vocab) return bad(c, "model.vocab", "is missing");
    if (!json_is_object(vocab)) return bad(c, "model.vocab", "must be an object {token: id}");
    const char *key;
    const json_t *val;
    long long max_id = -1;
    json_object_foreach((json_t *)vocab, key, val) {
        if (!json_is_integer(val) || json_integer_value(val) < 0 || json_integer_value(val) >= YA_MAX_TOKEN_ID)
            return ya_fail(c->err, YA_ERR, "%s: model.vocab[\"%s\"] must be an integer id in [0, 2^24)", c->file, key);
        if (json_integer_value(val) > max_id) max_id = json_integer_value(val);
    }
    tok->n_vocab = (size_t)(max_id + 1);
    tok->vocab = calloc(tok->n_vocab ? tok->n_vocab : 1, sizeof *tok->vocab);
    if (!tok->vocab || ya_tok_strmap_init(&tok->vocab_map, json_object_size(vocab)))
        return ya_fail(c->err, YA_ERR, "out of memory");
    json_object_foreach((json_t *)vocab, key, val) {
        size_t id = (size_t)json_integer_value(val);
        if (tok->vocab[id].s) /* two tokens for one id: decoding that id would be ambiguous */
            return ya_fail(c->err, YA_ERR, "%s: model.vocab: tokens \"%.200s\" and \"%.200s\" both have id %zu", c->file,
                           tok->vocab[id].s, key, id);
        if (str_dup(&tok->vocab[id], key, strlen(key))) return ya_fail(c->err, YA_ERR, "out of memory");
    }
    /* the map borrows the strings now owned by tok->vocab (one per id: duplicates were rejected) */
    for (size_t id = 0; id < tok->n_vocab; id++) {
        const YaStr *s = &tok->vocab[id];
        if (s->s && ya_tok_strmap_put(&tok->vocab_map, s->s, s->len, (int32_t)id))
            return ya_fail(c->err, YA_ERR, "out of memory");
    }
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        tok->byte_ids[b] = ya_tok_strmap_get(&tok->vocab_map, name, 6);
    }
    const json_t *unk;
    tok->unk_id = -1;
    if (get_str(c, m, "unk_token", "model", &unk)) return YA_ERR;
    if (unk) {
        tok->unk_id = ya_tok_strmap_get(&tok->vocab_map, json_string_value(unk), json_string_length(unk));
        if (tok->unk_id < 0)
            return ya_fail(c->err, YA_ERR, "%s: model.unk_token \"%s\" is not in model.vocab", c->file,
                           json_string_value(unk));
    }

    const json_t *merges = json_object_get(m, "merges");
    if (!merges) return bad(c, "model.merges", "is missing");
    if (!json_is_array(merges)) return bad(c, "model.merges", "must be an array");
    if (ya_tok_mergemap_init(&tok->merges, json_array_size(merges))) return ya_fail(c->err, YA_ERR, "out of memory");
    YaStrBuf joined = {0};
    int32_t rank = 0;
    for (size_t i = 0; i < json_array_size(merges); i++) {
        const json_t *e = json_array_get(merges, i);
        const char *a, *b;
        size_t alen, blen;
        if (json_is_string(e)) { /* "a b": exactly one space (HF BadMerges otherwise); "#version" lines skipped */
            const char *s = json_string_value(e);
            size_t len = json_string_length(e);
            if (len >= 8 && memcmp(s, "#version", 8) == 0) continue;
            const char *sp = memchr(s, ' ', len);
            if (!sp || memchr(sp + 1, ' ', len - (size_t)(sp + 1 - s))) {
                ya_strbuf_free(&joined);
                return ya_fail(c->err, YA_ERR, "%s: model.merges[%zu] \"%s\" must be two tokens separated by one space",
                               c->file, i, s);
            }
            a = s;
            alen = (size_t)(sp - s);
            b = sp + 1;
            blen = len - alen - 1;
        } else if (json_is_array(e) && json_array_size(e) == 2 && json_is_string(json_array_get(e, 0)) &&
                   json_is_string(json_array_get(e, 1))) {
            a = json_string_value(json_array_get(e, 0));
            alen = json_string_length(json_array_get(e, 0));
            b = json_string_value(json_array_get(e, 1));
            blen = json_string_length(json_array_get(e, 1));
        } else {
            ya_strbuf_free(&joined);
            return ya_fail(c->err, YA_ERR, "%s: model.merges[%zu] must be a string \"a b\" or a pair [\"a\", \"b\"]",
                           c->file, i);
        }
        int32_t ia = ya_tok_strmap_get(&tok->vocab_map, a, alen), ib = ya_tok_strmap_get(&tok->vocab_map, b, blen);
        if (ia < 0 || ib < 0) {
            ya_strbuf_free(&joined);
            return ya_fail(c->err, YA_ERR, "%s: model.merges[%zu]: token \"%.*s\" is not in model.vocab", c->file, i,
                           (int)(ia < 0 ? alen : blen), ia < 0 ? a : b);
        }
        /* the merged token: a + b without b's continuing_subword_prefix */
        size_t strip = tok->subword_prefix.len && blen >= tok->subword_prefix.len &&
                               memcmp(b, tok->subword_prefix.s, tok->subword_prefix.len) == 0
                           ? tok->subword_prefix.len
                           : 0;
        joined.len = 0;
        if (ya_strbuf_put(&joined, a, alen) || ya_strbuf_put(&joined, b + strip, blen - strip)) {
            ya_strbuf_free(&joined);
            return ya_fail(c->err, YA_ERR, "out of memory");
        }
        int32_t inew = ya_tok_strmap_get(&tok->vocab_map, joined.data, joined.len);
        if (inew < 0) {
            int rc = ya_fail(c->err, YA_ERR, "%s: model.merges[%zu]: merged token \"%s\" is not in model.vocab", c->file,
                             i, joined.data);
            ya_strbuf_free(&joined);
            return rc;
        }
        if (ya_tok_mergemap_put(&tok->merges, ia, ib, rank++, inew)) {
            ya_strbuf_free(&joined);
            return ya_fail(c->err, YA_ERR, "out of memory");
        }
    }
    ya_strbuf_free(&joined);
    return YA_OK;
}

/* ---- added tokens --------------------------------------------------------------- */
static int load_added(Ctx *c, YaTokenizer *tok, const json_t *arr) {
    if (!arr || json_is_null(arr)) return YA_OK;
    if (!json_is_array(arr)) return bad(c, "added_tokens", "must be an array");
    size_t n = json_array_size(arr);
    tok->added = calloc(n ? n : 1, sizeof *tok->added);
    if (!tok->added || ya_tok_strmap_init(&tok->added_map, n)) return ya_fail(c->err, YA_ERR, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(arr, i);
        char p[64];
        snprintf(p, sizeof p, "added_tokens[%zu]", i);
        if (!json_is_object(e)) return bad(c, p, "must be an object");
        YaAddedToken tmp = {0}, *at = &tmp;
        const json_t *id = json_object_get(e, "id"), *content;
        if (!json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) >= YA_MAX_TOKEN_ID)
            return ya_fail(c->err, YA_ERR, "%s: %s.id must be an integer id in [0, 2^24)", c->file, p);
        if (get_str(c, e, "content", p, &content)) return YA_ERR;
        if (!content) return ya_fail(c->err, YA_ERR, "%s: %s.content must be a string", c->file, p);
        if (get_bool(c, e, "special", p, 0, &at->special) || get_bool(c, e, "normalized", p, !at->special, &at->normalized) ||
            get_bool(c, e, "lstrip", p, 0, &at->lstrip) || get_bool(c, e, "rstrip", p, 0, &at->rstrip) ||
            get_bool(c, e, "single_word", p, 0, &at->single_word))
            return YA_ERR;
        const char *cs = json_string_value(content);
        size_t clen = json_string_length(content);
        if (clen == 0) continue; /* HF ignores empty added tokens */
        /* HF re-assigns ids when it loads the file (AddedVocabulary::add_tokens): a
         * token already known keeps its id, a new one gets the next free id. */
        int32_t prev = ya_tok_strmap_get(&tok->added_map, cs, clen);
        int32_t new_id;
        if (prev >= 0) new_id = tok->added[prev].id;
        else if ((new_id = ya_tok_strmap_get(&tok->vocab_map, cs, clen)) < 0) {
            new_id = (int32_t)tok->vocab_map.count;
            for (size_t k = 0; k < tok->n_added; k++)
                if (tok->added[k].id >= new_id) new_id = tok->added[k].id + 1;
        }
        if (new_id != (int32_t)json_integer_value(id))
            ya_warn("%s: %s \"%s\" has id %lld in the file but HF tokenizers assigns it id %d; using %d", c->file, p, cs,
                    json_integer_value(id), new_id, new_id);
        at->id = new_id;
        if (prev >= 0) { /* the later definition replaces the earlier one; "special" is never revoked */
            YaStr keep = tok->added[prev].content;
            int was_special = tok->added[prev].special;
            tok->added[prev] = *at;
            tok->added[prev].content = keep;
            tok->added[prev].special |= was_special;
            continue;
        }
        /* two contents for one id (e.g. an added token spelled like a vocab token): the later wins the id */
        for (size_t k = 0; k < tok->n_added; k++)
            if (tok->added[k].id == new_id) tok->added[k].id = -1;
        at = &tok->added[tok->n_added];
        *at = tmp;
        if (str_dup(&at->content, cs, clen)) return ya_fail(c->err, YA_ERR, "out of memory");
        tok->n_added++;
        if (ya_tok_strmap_put(&tok->added_map, at->content.s, at->content.len, (int32_t)(tok->n_added - 1)))
            return ya_fail(c->err, YA_ERR, "out of memory");
    }
    /* matchers: non-normalized tokens as written; normalized ones in their normalized form */
    for (size_t i = 0; i < tok->n_added; i++) {
        YaAddedToken *at = &tok->added[i];
        if (at->id < 0) continue;
        if (!at->normalized) {
            if (ya_tok_trie_add(&tok->trie_raw, at->content.s, at->content.len, (int32_t)i))
                return ya_fail(c->err, YA_ERR, "out of memory");
            continue;
        }
        YaStrBuf norm = {0};
        if (ya_tok_normalize(tok, at->content.s, at->content.len, &norm, c->err)) return YA_ERR;
        int rc = norm.len ? ya_tok_trie_add(&tok->trie_norm, norm.data, norm.len, (int32_t)i) : 0;
        ya_strbuf_free(&norm);
        if (rc) return ya_fail(c->err, YA_ERR, "out of memory");
    }
    return YA_OK;
}

/* ---- post-processor --------------------------------------------------------------- */
static int push_ids(int32_t **v, size_t *n, const json_t *ids, Ctx *c, const char *path) {
    for (size_t i = 0; i < json_array_size(ids); i++) {
        const json_t *x = json_array_get(ids, i);
        if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) >= YA_MAX_TOKEN_ID)
            return bad(c, path, "ids must be integer ids in [0, 2^24)"); /* never truncated to int32 */
        int32_t *nv = realloc(*v, (*n + 1) * sizeof *nv);
        if (!nv) return ya_fail(c->err, YA_ERR, "out of memory");
        *v = nv;
        (*v)[(*n)++] = (int32_t)json_integer_value(x);
    }
    return YA_OK;
}

static int load_template(Ctx *c, YaTokenizer *tok, const json_t *n, const char *path) {
    char p[512];
    const json_t *single = json_object_get(n, "single"), *specials = json_object_get(n, "special_tokens");
    snprintf(p, sizeof p, "%s.single", path);
    if (!json_is_array(single)) return bad(c, p, "must be an array");
    int seen_a = 0;
    for (size_t i = 0; i < json_array_size(single); i++) {
        const json_t *piece = json_array_get(single, i), *v;
        snprintf(p, sizeof p, "%s.single[%zu]", path, i);
        if ((v = json_object_get(piece, "Sequence"))) {
            const json_t *id = json_object_get(v, "id");
            if (!json_is_string(id) || strcmp(json_string_value(id), "A") != 0 || seen_a)
                return bad(c, p, "must be the sequence \"A\", once");
            seen_a = 1;
        } else if ((v = json_object_get(piece, "SpecialToken"))) {
            const json_t *id = json_object_get(v, "id");
            if (!json_is_string(id)) return bad(c, p, "SpecialToken.id must be a string");
            const json_t *sp = json_object_get(specials, json_string_value(id));
            if (!json_is_object(sp) || !json_is_array(json_object_get(sp, "ids")))
                return ya_fail(c->err, YA_ERR, "%s: %s: special token \"%s\" is not in %s.special_tokens", c->file, p,
                               json_string_value(id), path);
            if (seen_a ? push_ids(&tok->post_suffix, &tok->n_post_suffix, json_object_get(sp, "ids"), c, p)
                       : push_ids(&tok->post_prefix, &tok->n_post_prefix, json_object_get(sp, "ids"), c, p))
                return YA_ERR;
        } else {
            return bad(c, p, "must be {\"Sequence\": ...} or {\"SpecialToken\": ...}");
        }
    }
    snprintf(p, sizeof p, "%s.single", path);
    if (!seen_a) return bad(c, p, "has no sequence \"A\"");
    return YA_OK;
}

static int load_post(Ctx *c, YaTokenizer *tok, const json_t *n, const char *path) {
    const char *type;
    if (get_type(c, n, path, &type)) return YA_ERR;
    if (strcmp(type, "ByteLevel") == 0) return YA_OK; /* only adjusts offsets; ids unchanged */
    if (strcmp(type, "TemplateProcessing") == 0) {
        if (tok->n_post_prefix || tok->n_post_suffix) return bad(c, path, "has more than one TemplateProcessing");
        return load_template(c, tok, n, path);
    }
    if (strcmp(type, "Sequence") == 0) {
        char p[512];
        const json_t *arr = json_object_get(n, "processors");
        snprintf(p, sizeof p, "%s.processors", path);
        if (!json_is_array(arr)) return bad(c, p, "must be an array");
        for (size_t i = 0; i < json_array_size(arr); i++) {
            snprintf(p, sizeof p, "%s.processors[%zu]", path, i);
            if (load_post(c, tok, json_array_get(arr, i), p)) return YA_ERR;
        }
        return YA_OK;
    }
    return unsupported(c, path, type);
}

/* ---- tokenizer_config.json ------------------------------------------------------- */
static int config_token(Ctx *c, YaTokenizer *tok, const json_t *cfg, const char *key, int32_t *id, YaStr *keep) {
    const json_t *v = json_object_get(cfg, key);
    *id = -1;
    if (!v || json_is_null(v)) return YA_OK;
    if (json_is_object(v)) v = json_object_get(v, "content"); /* {"content": "<s>", "__type": "AddedToken", ...} */
    if (!json_is_string(v)) return ya_fail(c->err, YA_ERR, "%s: %s must be a string, an AddedToken object or null", c->file, key);
    *id = ya_tokenizer_token_to_id(tok, json_string_value(v));
    if (*id < 0) return ya_fail(c->err, YA_ERR, "%s: %s \"%s\" is not a token of the tokenizer", c->file, key, json_string_value(v));
    if (keep && str_dup(keep, json_string_value(v), json_string_length(v))) return ya_fail(c->err, YA_ERR, "out of memory");
    return YA_OK;
}

static int load_config(Ctx *c, YaTokenizer *tok, const json_t *cfg) {
    if (!json_is_object(cfg)) return ya_fail(c->err, YA_ERR, "%s: must be a JSON object", c->file);
    if (config_token(c, tok, cfg, "bos_token", &tok->bos_id, &tok->bos_token) ||
        config_token(c, tok, cfg, "eos_token", &tok->eos_id, &tok->eos_token) ||
        config_token(c, tok, cfg, "pad_token", &tok->pad_id, NULL))
        return YA_ERR;
    const json_t *t = json_object_get(cfg, "chat_template");
    const char *tmpl = NULL;
    if (json_is_string(t)) {
        tmpl = json_string_value(t);
    } else if (json_is_array(t)) { /* [{"name": "default", "template": ...}, ...] */
        for (size_t i = 0; i < json_array_size(t); i++) {
            const json_t *e = json_array_get(t, i);
            const json_t *name = json_object_get(e, "name"), *body = json_object_get(e, "template");
            if (json_is_string(name) && json_is_string(body) && strcmp(json_string_value(name), "default") == 0)
                tmpl = json_string_value(body);
        }
    }
    if (tmpl) {
        tok->chat_template_present = 1;
        if (strstr(tmpl, "<|start_header_id|>")) {
            tok->chat_format = YA_CHAT_LLAMA3;
            tok->chat_always_generation_prompt = !strstr(tmpl, "add_generation_prompt");
        } else if (strstr(tmpl, "<|im_start|>")) {
            tok->chat_format = strstr(tmpl, "<think>") ? YA_CHAT_QWEN3 : YA_CHAT_CHATML;
        } else if (strstr(tmpl, "[INST]")) {
            tok->chat_format = YA_CHAT_MISTRAL;
        }
    }
    return YA_OK;
}

/* ---- entry points ------------------------------------------------------------------ */
static int build(YaTokenizer *tok, const json_t *root, Ctx *c) {
    if (!json_is_object(root)) return ya_fail(c->err, YA_ERR, "%s: must be a JSON object", c->file);
    const json_t *model = json_object_get(root, "model");
    if (!model) return ya_fail(c->err, YA_ERR, "%s: missing required field 'model'", c->file);
    const json_t *v;
    if ((v = json_object_get(root, "normalizer")) && !json_is_null(v) && load_normalizer(c, tok, v, "normalizer"))
        return YA_ERR;
    if (load_model(c, tok, model)) return YA_ERR;
    if (load_added(c, tok, json_object_get(root, "added_tokens"))) return YA_ERR;
    if ((v = json_object_get(root, "pre_tokenizer")) && !json_is_null(v) && load_pre_tokenizer(c, tok, v, "pre_tokenizer"))
        return YA_ERR;
    if ((v = json_object_get(root, "post_processor")) && !json_is_null(v) && load_post(c, tok, v, "post_processor"))
        return YA_ERR;
    if ((v = json_object_get(root, "decoder")) && !json_is_null(v)) {
        tok->has_decoder = 1;
        if (load_decoder(c, tok, v, "decoder")) return YA_ERR;
    }
    if ((v = json_object_get(root, "truncation")) && !json_is_null(v))
        ya_warn("%s: truncation settings are ignored (your_ai truncates by --max-seq-length)", c->file);
    if ((v = json_object_get(root, "padding")) && !json_is_null(v))
        ya_warn("%s: padding settings are ignored (batches are padded by the data loader)", c->file);

    /* id → added-token index, over all ids */
    tok->n_total = tok->n_vocab;
    for (size_t i = 0; i < tok->n_added; i++)
        if (tok->added[i].id >= 0 && (size_t)tok->added[i].id + 1 > tok->n_total) tok->n_total = (size_t)tok->added[i].id + 1;
    tok->added_by_id = malloc((tok->n_total ? tok->n_total : 1) * sizeof *tok->added_by_id);
    if (!tok->added_by_id) return ya_fail(c->err, YA_ERR, "out of memory");
    for (size_t i = 0; i < tok->n_total; i++) tok->added_by_id[i] = -1;
    for (size_t i = 0; i < tok->n_added; i++)
        if (tok->added[i].id >= 0) tok->added_by_id[tok->added[i].id] = (int32_t)i;
    for (size_t i = 0; i < tok->n_post_prefix; i++)
        if ((size_t)tok->post_prefix[i] >= tok->n_total)
            return ya_fail(c->err, YA_ERR, "%s: post_processor: special token id %d is outside the vocabulary", c->file,
                           tok->post_prefix[i]);
    for (size_t i = 0; i < tok->n_post_suffix; i++)
        if ((size_t)tok->post_suffix[i] >= tok->n_total)
            return ya_fail(c->err, YA_ERR, "%s: post_processor: special token id %d is outside the vocabulary", c->file,
                           tok->post_suffix[i]);
    if (ya_tok_bpe_cache_init(&tok->cache) || ya_tok_cut_table_build(tok)) return ya_fail(c->err, YA_ERR, "out of memory");
    return YA_OK;
}

int ya_tok_cut_table_build(YaTokenizer *tok) {
    uint8_t *inner = calloc(YA_TOK_MAX_CP / 8, 1); /* seen after a different character inside a token */
    free(tok->cut_before);
    tok->cut_before = calloc(YA_TOK_MAX_CP / 8, 1);
    if (!inner || !tok->cut_before) {
        free(inner);
        return -1;
    }
    for (size_t id = 0; id < tok->n_vocab; id++) {
        const YaStr *t = &tok->vocab[id];
        if (!t->s) continue;
        uint32_t prev = UINT32_MAX;
        for (size_t i = 0; i < t->len;) {
            uint32_t cp;
            size_t n = ya_tok_utf8_decode(t->s + i, &cp);
            if (!n || i + n > t->len || cp >= YA_TOK_MAX_CP) break; /* not UTF-8: never a cut character */
            if (i == 0 && n == t->len) tok->cut_before[cp >> 3] |= (uint8_t)(1u << (cp & 7));
            if (i > 0 && cp != prev) inner[cp >> 3] |= (uint8_t)(1u << (cp & 7));
            prev = cp;
            i += n;
        }
    }
    for (size_t i = 0; i < YA_TOK_MAX_CP / 8; i++) tok->cut_before[i] &= (uint8_t)~inner[i];
    free(inner);
    return 0;
}

static YaTokenizer *tok_new(void) {
    YaTokenizer *tok = calloc(1, sizeof *tok);
    if (!tok) return NULL;
    tok->unk_id = tok->bos_id = tok->eos_id = tok->pad_id = -1;
    tok->word_chunk = YA_TOK_WORD_CHUNK;
    return tok;
}

int ya_tokenizer_load_memory(const char *json, size_t len, const char *config_json, size_t config_len,
                             YaTokenizer **out, YaError *err) {
    *out = NULL;
    YaTokenizer *tok = tok_new();
    if (!tok) return ya_fail(err, YA_ERR, "out of memory");
    snprintf(tok->path, sizeof tok->path, "tokenizer.json");
    json_t *root = NULL, *cfg = NULL;
    Ctx c = {"tokenizer.json", err};
    int rc = ya_json_parse(json, len, "tokenizer.json", 0, &root, err);
    if (rc == YA_OK) rc = build(tok, root, &c);
    if (rc == YA_OK && config_json) {
        c.file = "tokenizer_config.json";
        rc = ya_json_parse(config_json, config_len, "tokenizer_config.json", JSON_DECODE_INT_AS_REAL, &cfg, err);
        if (rc == YA_OK) rc = load_config(&c, tok, cfg);
    }
    json_decref(root);
    json_decref(cfg);
    if (rc != YA_OK) {
        ya_tokenizer_free(tok);
        return rc;
    }
    *out = tok;
    return YA_OK;
}

int ya_tokenizer_load(const char *path, YaTokenizer **out, YaError *err) {
    *out = NULL;
    char file[4096], dir[4096], cfg_path[4096];
    if (ya_is_dir(path)) {
        if (ya_path_join(file, sizeof file, path, "tokenizer.json", err)) return YA_ERR;
        snprintf(dir, sizeof dir, "%s", path);
    } else {
        snprintf(file, sizeof file, "%s", path);
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0;
        else snprintf(dir, sizeof dir, ".");
    }
    if (!ya_path_exists(file)) return ya_fail(err, YA_ERR, "%s: no such file (expected a tokenizer.json or a model directory holding one)", file);
    YaTokenizer *tok = tok_new();
    if (!tok) return ya_fail(err, YA_ERR, "out of memory");
    snprintf(tok->path, sizeof tok->path, "%s", file);
    json_t *root = NULL, *cfg = NULL;
    Ctx c = {file, err};
    int rc = ya_json_load_file(file, 0, &root, err);
    if (rc == YA_OK) rc = build(tok, root, &c);
    json_decref(root);
    if (rc == YA_OK && ya_path_join(cfg_path, sizeof cfg_path, dir, "tokenizer_config.json", err) == YA_OK &&
        ya_path_exists(cfg_path)) {
        c.file = cfg_path;
        rc = ya_json_load_file(cfg_path, JSON_DECODE_INT_AS_REAL, &cfg, err);
        if (rc == YA_OK) rc = load_config(&c, tok, cfg);
        json_decref(cfg);
    }
    if (rc != YA_OK) {
        ya_tokenizer_free(tok);
        return rc;
    }
    *out = tok;
    return YA_OK;
}

void ya_tokenizer_free(YaTokenizer *tok) {
    if (!tok) return;
    for (size_t i = 0; i < tok->n_vocab; i++) free(tok->vocab[i].s);
    free(tok->vocab);
    ya_tok_strmap_free(&tok->vocab_map);
    ya_tok_mergemap_free(&tok->merges);
    free(tok->subword_prefix.s);
    free(tok->word_suffix.s);
    for (size_t i = 0; i < tok->n_norm; i++) {
        free(tok->norm[i].a.s);
        free(tok->norm[i].b.s);
    }
    free(tok->norm);
    for (size_t i = 0; i < tok->n_pre; i++) {
        pcre2_code_free(tok->pre[i].re);
        free(tok->pre[i].replacement.s);
    }
    free(tok->pre);
    for (size_t i = 0; i < tok->n_dec; i++) {
        free(tok->dec[i].a.s);
        free(tok->dec[i].b.s);
    }
    free(tok->dec);
    for (size_t i = 0; i < tok->n_added; i++) free(tok->added[i].content.s);
    free(tok->added);
    ya_tok_strmap_free(&tok->added_map);
    ya_tok_trie_free(&tok->trie_raw);
    ya_tok_trie_free(&tok->trie_norm);
    free(tok->added_by_id);
    free(tok->post_prefix);
    free(tok->post_suffix);
    free(tok->bos_token.s);
    free(tok->eos_token.s);
    ya_tok_bpe_cache_free(&tok->cache);
    free(tok->cut_before);
    free(tok);
}

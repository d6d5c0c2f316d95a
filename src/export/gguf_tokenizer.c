/* gguf_tokenizer.c — tokenizer.ggml.* keys (SPEC §10.3) from an HF
 * tokenizer.json, parsed directly (the GGUF needs the raw vocabulary, merges
 * and special-token flags, not an encoder):
 *   - "llama" (SentencePiece-style BPE with byte fallback: Llama 2, Mistral):
 *     tokens, scores, token_type (<0xXX> byte tokens 6, special added tokens 3,
 *     the unk token 2). tokenizer.json carries no SentencePiece scores, so a
 *     token made by merge k scores −k: llama.cpp's SPM tokenizer merges the
 *     highest-scoring pair first, which is then exactly the BPE merge order.
 *   - "gpt2" (byte-level BPE: Llama 3, Qwen2): tokens, token_type, merges as
 *     "a b" strings; pre "llama-bpe" (llama) or "qwen2".
 * Ids the model has beyond the tokenizer (vocab_size > tokens) become
 * "[PAD<id>]" tokens of type 5 (unused), as llama.cpp's converter writes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf_internal.h"
#include "your_ai/fileio.h" /* defines: ya_path_join, ya_path_exists */
#include "your_ai/json.h"   /* defines: ya_json_load_file */

enum { TT_NORMAL = 1, TT_UNKNOWN = 2, TT_CONTROL = 3, TT_USER = 4, TT_UNUSED = 5, TT_BYTE = 6 };

static int is_byte_token(const char *s) {
    return strlen(s) == 6 && s[0] == '<' && s[1] == '0' && s[2] == 'x' && s[5] == '>';
}

/* Does the post-processor prepend a special token (i.e. add BOS)? */
static int template_adds_bos(const json_t *pp) {
    if (!json_is_object(pp)) return 0;
    const char *type = json_string_value(json_object_get(pp, "type"));
    if (type && strcmp(type, "Sequence") == 0) {
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(pp, "processors"), i, p) if (template_adds_bos(p)) return 1;
        return 0;
    }
    if (!type || strcmp(type, "TemplateProcessing") != 0) return 0;
    json_t *first = json_array_get(json_object_get(pp, "single"), 0);
    return json_is_object(json_object_get(first, "SpecialToken"));
}

int ya_gguf_add_tokenizer(YaGgufWriter *w, const char *model_dir, const YaModelConfig *cfg, int *added, YaError *err) {
    char path[4352];
    *added = 0;
    if (ya_path_join(path, sizeof path, model_dir, "tokenizer.json", err)) return YA_ERR;
    if (!ya_path_exists(path)) return YA_OK;
    json_t *tj = NULL;
    if (ya_json_load_file(path, 0, &tj, err)) return YA_ERR;
    int rc = YA_ERR;
    const int V = cfg->vocab_size;
    char **tokens = calloc((size_t)V, sizeof *tokens);
    int32_t *types = calloc((size_t)V, sizeof *types);
    float *scores = calloc((size_t)V, sizeof *scores);
    char **merges = NULL;
    size_t n_merges = 0;
    json_t *model = json_object_get(tj, "model"), *vocab = json_object_get(model, "vocab");
    const char *mtype = json_string_value(json_object_get(model, "type"));
    if (!tokens || !types || !scores) {
        ya_fail(err, YA_ERR, "out of memory");
        goto out;
    }
    if (!mtype || strcmp(mtype, "BPE") != 0 || !json_is_object(vocab)) {
        ya_fail(err, YA_ERR, "%s: model.type %s: only BPE tokenizers can be written to GGUF", path, mtype ? mtype : "(none)");
        goto out;
    }
    /* byte-level (gpt2) vs SentencePiece-style (llama): byte_fallback or a non-ByteLevel decoder → llama */
    const char *dec = json_string_value(json_object_get(json_object_get(tj, "decoder"), "type"));
    int spm = json_is_true(json_object_get(model, "byte_fallback")) || !dec || strcmp(dec, "ByteLevel") != 0;
    const char *key;
    json_t *val;
    json_object_foreach(vocab, key, val) {
        json_int_t id = json_integer_value(val);
        if (!json_is_integer(val) || id < 0 || id >= V) {
            ya_fail(err, YA_ERR, "%s: model.vocab[\"%s\"] = %lld is outside the model's vocab_size %d", path, key,
                    (long long)id, V);
            goto out;
        }
        free(tokens[id]);
        if (!(tokens[id] = strdup(key))) goto oom;
        types[id] = spm && is_byte_token(key) ? TT_BYTE : TT_NORMAL;
    }
    const char *unk = json_string_value(json_object_get(model, "unk_token"));
    size_t i;
    json_array_foreach(json_object_get(tj, "added_tokens"), i, val) {
        json_int_t id = json_integer_value(json_object_get(val, "id"));
        const char *content = json_string_value(json_object_get(val, "content"));
        if (!content || id < 0 || id >= V) {
            ya_fail(err, YA_ERR, "%s: added_tokens[%zu]: id %lld outside vocab_size %d or no content", path, i,
                    (long long)id, V);
            goto out;
        }
        free(tokens[id]);
        if (!(tokens[id] = strdup(content))) goto oom;
        types[id] = json_is_true(json_object_get(val, "special")) ? TT_CONTROL : TT_USER;
    }
    int32_t unk_id = -1;
    for (int id = 0; id < V; id++) {
        if (!tokens[id]) {
            char pad[32];
            snprintf(pad, sizeof pad, "[PAD%d]", id);
            if (!(tokens[id] = strdup(pad))) goto oom;
            types[id] = TT_UNUSED;
        }
        if (unk && strcmp(tokens[id], unk) == 0) {
            unk_id = id;
            if (spm) types[id] = TT_UNKNOWN;
        }
    }
    /* merges: "a b" strings or ["a", "b"] pairs (tokenizers ≥ 0.20) */
    json_t *jm = json_object_get(model, "merges");
    n_merges = json_array_size(jm);
    merges = calloc(n_merges ? n_merges : 1, sizeof *merges);
    if (!merges) goto oom;
    json_array_foreach(jm, i, val) {
        if (json_is_string(val)) {
            merges[i] = strdup(json_string_value(val));
        } else if (json_is_array(val) && json_array_size(val) == 2 && json_is_string(json_array_get(val, 0)) &&
                   json_is_string(json_array_get(val, 1))) {
            const char *a = json_string_value(json_array_get(val, 0)), *b = json_string_value(json_array_get(val, 1));
            size_t n = strlen(a) + strlen(b) + 2;
            if ((merges[i] = malloc(n))) snprintf(merges[i], n, "%s %s", a, b);
        } else {
            ya_fail(err, YA_ERR, "%s: model.merges[%zu]: expected \"a b\" or [\"a\", \"b\"]", path, i);
            goto out;
        }
        if (!merges[i]) goto oom;
    }
    if (spm) { /* score of a merged token = −(its merge rank) */
        for (size_t k = 0; k < n_merges; k++) {
            char joined[1024];
            const char *sp = strchr(merges[k], ' ');
            if (!sp || strlen(merges[k]) >= sizeof joined) continue;
            size_t la = (size_t)(sp - merges[k]);
            memcpy(joined, merges[k], la);
            strcpy(joined + la, sp + 1);
            json_t *id = json_object_get(vocab, joined);
            if (json_is_integer(id) && scores[json_integer_value(id)] == 0.0f)
                scores[json_integer_value(id)] = -(float)(k + 1);
        }
    }
    const char *pre = spm ? "default" : cfg->arch == YA_ARCH_QWEN2 ? "qwen2" : "llama-bpe";
    int add_bos = template_adds_bos(json_object_get(tj, "post_processor"));
    if (ya_gguf_set_str(w, "tokenizer.ggml.model", spm ? "llama" : "gpt2", err) ||
        ya_gguf_set_str(w, "tokenizer.ggml.pre", pre, err) ||
        ya_gguf_set_arr(w, "tokenizer.ggml.tokens", YA_GGUF_STRING, tokens, (uint64_t)V, err) ||
        (spm && ya_gguf_set_arr(w, "tokenizer.ggml.scores", YA_GGUF_FLOAT32, scores, (uint64_t)V, err)) ||
        ya_gguf_set_arr(w, "tokenizer.ggml.token_type", YA_GGUF_INT32, types, (uint64_t)V, err) ||
        (!spm && ya_gguf_set_arr(w, "tokenizer.ggml.merges", YA_GGUF_STRING, merges, (uint64_t)n_merges, err)))
        goto out;
    if (cfg->bos_token_id >= 0 && ya_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)cfg->bos_token_id, err))
        goto out;
    /* eos/eot ids and the chat template: gguf_export.c, from stop_tokens.c */
    if (spm && unk_id >= 0 && ya_gguf_set_u32(w, "tokenizer.ggml.unknown_token_id", (uint32_t)unk_id, err)) goto out;
    /* padding: tokenizer_config.json pad_token when it names a known token */
    json_t *tc = NULL;
    YaError ignore = {0};
    if (ya_path_join(path, sizeof path, model_dir, "tokenizer_config.json", err)) goto out;
    if (ya_path_exists(path) && ya_json_load_file(path, 0, &tc, &ignore) == YA_OK) {
        json_t *pad = json_object_get(tc, "pad_token");
        const char *ps = json_is_string(pad) ? json_string_value(pad) : json_string_value(json_object_get(pad, "content"));
        for (int id = 0; ps && id < V; id++)
            if (strcmp(tokens[id], ps) == 0) {
                if (ya_gguf_set_u32(w, "tokenizer.ggml.padding_token_id", (uint32_t)id, err)) {
                    json_decref(tc);
                    goto out;
                }
                break;
            }
        json_t *ab = json_object_get(tc, "add_bos_token");
        if (json_is_boolean(ab)) add_bos = json_is_true(ab);
        json_decref(tc);
    }
    if (ya_gguf_set_bool(w, "tokenizer.ggml.add_bos_token", add_bos, err)) goto out;
    *added = 1;
    rc = YA_OK;
    goto out;
oom:
    ya_fail(err, YA_ERR, "out of memory");
out:
    for (int id = 0; tokens && id < V; id++) free(tokens[id]);
    for (size_t k = 0; merges && k < n_merges; k++) free(merges[k]);
    free(tokens);
    free(types);
    free(scores);
    free(merges);
    json_decref(tj);
    return rc;
}

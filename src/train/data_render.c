/* data_render.c — a validated record → token ids + supervised mask (SPEC §5.4, §5.5).
 *
 *   text         encode(text) with the tokenizer's own BOS rule, + EOS unless already
 *                last (or --no-append-eos); every token supervised.
 *   completions  with a chat template: [user: prompt, assistant: completion] rendered;
 *                without one: encode(prompt) with BOS, encode(completion) without, EOS.
 *                Supervised: the completion and its end-of-turn/EOS.
 *   chat         the conversation rendered by its template; supervised: the final
 *                assistant message (or every one with --train-on all-assistant).
 * The prompt boundary of an assistant turn k is the token length of messages[0..k)
 * rendered through the generation prompt (mlx-lm's rule); the turn ends at the token
 * length of messages[0..k] rendered. --mask-prompt off supervises every token.
 * Truncation keeps the first max_seq_len tokens, after the mask is set.
 *
 * Only max_seq_len + 1 tokens are ever needed (the +1 tells a truncated sample
 * from one that fits), so every encode stops there (ya_tokenizer_encode_prefix):
 * a 100 MB document costs its first tokens, not 100 MB of BPE. The ids kept are
 * exactly those of the full encoding. */
#include <stdlib.h>
#include <string.h>

#include "your_ai/data.h"

void ya_tok_seq_free(YaTokSeq *s) {
    free(s->ids);
    free(s->sup);
    memset(s, 0, sizeof *s);
}

static int seq_reserve(YaTokSeq *s, size_t n, YaError *err) {
    if (n <= s->cap) return YA_OK;
    size_t cap = s->cap ? s->cap : 256;
    while (cap < n) cap *= 2;
    int32_t *ids = realloc(s->ids, cap * sizeof *ids);
    if (!ids) return ya_fail(err, YA_ERR, "out of memory (%zu tokens)", cap);
    s->ids = ids;
    uint8_t *sup = realloc(s->sup, cap);
    if (!sup) return ya_fail(err, YA_ERR, "out of memory (%zu tokens)", cap);
    s->sup = sup;
    s->cap = cap;
    return YA_OK;
}

static int seq_append(YaTokSeq *s, const int32_t *ids, size_t n, uint8_t sup, YaError *err) {
    if (seq_reserve(s, s->len + n, err)) return YA_ERR;
    memcpy(s->ids + s->len, ids, n * sizeof *ids);
    memset(s->sup + s->len, sup, n);
    s->len += n;
    return YA_OK;
}

/* Tokens a rendering needs: max_seq_len + 1, or all (SIZE_MAX) without a limit. */
static size_t token_limit(const YaDataConfig *cfg) {
    return cfg->max_seq_len > 0 ? (size_t)cfg->max_seq_len + 1 : SIZE_MAX;
}

/* Encodes text (its first `need` ids at least) and appends it with one supervision value. */
static int append_encoded(YaTokSeq *s, const YaTokenizer *tok, const char *text, int add_special, uint8_t sup,
                          size_t need, YaError *err) {
    YaIds ids = {0};
    int rc = ya_tokenizer_encode_prefix(tok, text, strlen(text), add_special, need, &ids, err);
    if (rc == YA_OK) rc = seq_append(s, ids.ids, ids.len, sup, err);
    ya_ids_free(&ids);
    return rc;
}

/* Token count of messages[0..n) rendered by the template (chat templates emit
 * their own BOS text, so no special tokens are added: HF apply_chat_template).
 * Encoding stops past `need` tokens: a *len >= need is only a lower bound. */
static int rendered_length(YaChatFormat fmt, const YaTokenizer *tok, const YaChatMessage *msgs, size_t n,
                           int add_generation_prompt, size_t need, YaTokSeq *into, size_t *len, YaError *err) {
    char *text = NULL;
    if (ya_chat_render(fmt, tok, msgs, n, add_generation_prompt, &text, err)) return YA_ERR;
    YaIds ids = {0};
    int rc = ya_tokenizer_encode_prefix(tok, text, strlen(text), 0, need, &ids, err);
    if (rc == YA_OK) {
        *len = ids.len;
        if (into) rc = seq_append(into, ids.ids, ids.len, 0, err);
    }
    ya_ids_free(&ids);
    free(text);
    return rc;
}

static int render_chat(const YaChatMessage *msgs, size_t n, const YaDataConfig *cfg, const YaTokenizer *tok,
                       YaChatFormat fmt, YaTokSeq *out, YaError *err) {
    size_t full = 0, need = token_limit(cfg);
    if (rendered_length(fmt, tok, msgs, n, 0, need, out, &full, err)) return YA_ERR;
    if (!cfg->mask_prompt) {
        memset(out->sup, 1, out->len);
        return YA_OK;
    }
    size_t last = n;
    for (size_t k = n; k-- > 0;)
        if (strcmp(msgs[k].role, "assistant") == 0) {
            last = k;
            break;
        }
    if (last == n) return ya_fail(err, YA_ERR, "no assistant message to train on (--mask-prompt on)");
    for (size_t k = 0; k < n; k++) {
        if (strcmp(msgs[k].role, "assistant") != 0) continue;
        if (k != last && cfg->train_on != YA_TRAIN_ON_ALL_ASSISTANT) continue;
        size_t start = 0, end = 0;
        if (rendered_length(fmt, tok, msgs, k, 1, need, NULL, &start, err)) return YA_ERR;
        if (k + 1 == n) end = full;
        else if (rendered_length(fmt, tok, msgs, k + 1, 0, need, NULL, &end, err)) return YA_ERR;
        if (end > full) end = full;
        /* a turn starting past the tokens encoded still has its end-of-turn token to supervise */
        if (start >= full && full >= need) out->sup_past_end = 1;
        for (size_t t = start; t < end; t++) out->sup[t] = 1;
    }
    return YA_OK;
}

int ya_data_render(const YaDataRecord *rec, const YaDataConfig *cfg, const YaTokenizer *tok, YaChatFormat chat_format,
                   YaTokSeq *out, YaError *err) {
    out->len = out->full_len = out->n_sup = out->n_sup_full = 0;
    out->sup_past_end = 0;
    int32_t eos = ya_tokenizer_eos_id(tok);
    const size_t need = token_limit(cfg);
    switch (rec->format) {
    case YA_DATA_TEXT:
        if (append_encoded(out, tok, rec->text, 1, 1, need, err)) return YA_ERR;
        if (cfg->append_eos && eos >= 0 && (out->len == 0 || out->ids[out->len - 1] != eos))
            if (seq_append(out, &eos, 1, 1, err)) return YA_ERR;
        break;
    case YA_DATA_COMPLETIONS:
        if (chat_format != YA_CHAT_NONE) {
            YaChatMessage msgs[2] = {{"user", rec->prompt}, {"assistant", rec->completion}};
            if (render_chat(msgs, 2, cfg, tok, chat_format, out, err)) return YA_ERR;
        } else {
            if (append_encoded(out, tok, rec->prompt, 1, cfg->mask_prompt ? 0 : 1, need, err)) return YA_ERR;
            /* at least one completion id, to know whether it has any past a long prompt */
            if (append_encoded(out, tok, rec->completion, 0, 1, out->len < need ? need - out->len : 1, err))
                return YA_ERR;
            if (eos >= 0 && seq_append(out, &eos, 1, 1, err)) return YA_ERR;
        }
        break;
    case YA_DATA_CHAT: {
        if (chat_format == YA_CHAT_NONE)
            return ya_fail(err, YA_ERR,
                           "chat data needs a chat template, and tokenizer_config.json has none we recognise: "
                           "pass --chat-format chatml|llama3|mistral|qwen3");
        size_t n = json_array_size(rec->messages);
        YaChatMessage *msgs = calloc(n ? n : 1, sizeof *msgs);
        if (!msgs) return ya_fail(err, YA_ERR, "out of memory");
        for (size_t i = 0; i < n; i++) {
            const json_t *m = json_array_get(rec->messages, i);
            msgs[i].role = json_string_value(json_object_get(m, "role"));
            msgs[i].content = json_string_value(json_object_get(m, "content"));
        }
        int rc = render_chat(msgs, n, cfg, tok, chat_format, out, err);
        free(msgs);
        if (rc) return YA_ERR;
        break;
    }
    default: return ya_fail(err, YA_ERR, "record has no known format");
    }
    out->full_len = out->len;
    for (size_t t = 1; t < out->len; t++) out->n_sup_full += out->sup[t];
    if (out->sup_past_end) out->n_sup_full++;
    if (cfg->max_seq_len > 0 && out->len > (size_t)cfg->max_seq_len) out->len = (size_t)cfg->max_seq_len;
    for (size_t t = 1; t < out->len; t++) out->n_sup += out->sup[t];
    return YA_OK;
}

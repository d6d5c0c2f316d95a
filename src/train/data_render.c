/* data_render.c — a validated record → token ids + supervised mask (SPEC §5.4, §5.5).
 *
 *   text         encode(text) with the tokenizer's own BOS rule, + EOS unless already
 *                last (or --no-append-eos); every token supervised.
 *   completions  with a chat template: [user: prompt, assistant: completion] rendered;
 *                without one: encode(prompt) with BOS, encode(completion) without, EOS.
 *                Supervised: the completion and its end-of-turn/EOS.
 *   chat         the conversation ("messages", or ShareGPT "conversations" mapped to
 *                roles) rendered by its template; supervised: the final assistant
 *                message (or every one with --train-on all-assistant), through its
 *                end-of-turn token (<|eot_id|>, <|im_end|> and the template's "\n"
 *                after it, </s>), so a fine-tuned model learns to stop. Tools offered
 *                and tool calls are rendered by templates that take them (qwen3);
 *                a tool-call turn is an assistant turn like any other, tool results
 *                are prompt.
 * The prompt boundary of an assistant turn k is the token length of messages[0..k)
 * rendered through the generation prompt (mlx-lm's rule); the turn ends at the token
 * length of messages[0..k] rendered when that render is a prefix of the whole
 * conversation's, else just past the turn's end-of-turn token (render_chat).
 * --mask-prompt off supervises every token.
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

/* Token ids of messages[0..n) rendered by the template (chat templates emit
 * their own BOS text, so no special tokens are added: HF apply_chat_template).
 * Encoding stops past `need` tokens: an ids->len >= need is only a lower bound. */
static int rendered_ids(YaChatFormat fmt, const YaTokenizer *tok, const YaChatMessage *msgs, const YaChatToolCalls *calls,
                        size_t n, const char *const *tools, size_t n_tools, int add_generation_prompt, size_t need,
                        YaIds *ids, YaError *err) {
    char *text = NULL;
    ids->len = 0;
    if (ya_chat_render_tools(fmt, tok, msgs, calls, n, tools, n_tools, add_generation_prompt, &text, err)) return YA_ERR;
    int rc = ya_tokenizer_encode_prefix(tok, text, strlen(text), 0, need, ids, err);
    free(text);
    return rc;
}

/* Where an assistant turn that starts at `start` of the full render ends when the
 * template does not render the conversation's prefix as a prefix (Qwen3 adds an
 * empty <think> block to an assistant turn that is last; the original Llama 3
 * template appends an assistant header to every render): just past its
 * end-of-turn token, and the "\n" ChatML writes after it. */
static size_t end_of_turn(YaChatFormat fmt, const YaTokenizer *tok, const int32_t *ids, size_t start, size_t full) {
    int32_t eot = fmt == YA_CHAT_LLAMA3 ? ya_tokenizer_token_to_id(tok, "<|eot_id|>")
                  : fmt == YA_CHAT_MISTRAL ? ya_tokenizer_eos_id(tok)
                                           : ya_tokenizer_token_to_id(tok, "<|im_end|>");
    int chatml = fmt == YA_CHAT_CHATML || fmt == YA_CHAT_QWEN3;
    for (size_t t = start; eot >= 0 && t < full; t++) {
        if (ids[t] != eot) continue;
        size_t end = t + 1;
        if (chatml && end < full) {
            const char *piece = ya_tokenizer_id_to_token(tok, ids[end]);
            if (piece && (strcmp(piece, "\n") == 0 || strcmp(piece, "\xc4\x8a") == 0)) end++; /* "\n" (byte-level: Ċ) */
        }
        return end;
    }
    return full;
}

/* tools: the tools offered (their tojson text), rendered into every prefix alike.
 * Turn k is supervised from the token length of messages[0..k) rendered with the
 * generation prompt to that of messages[0..k] rendered (mlx-lm's rule) — when the
 * latter is a prefix of the full render; otherwise to its end-of-turn token. */
static int render_chat(const YaChatMessage *msgs, const YaChatToolCalls *calls, size_t n, const char *const *tools,
                       size_t n_tools, const YaDataConfig *cfg, const YaTokenizer *tok, YaChatFormat fmt, YaTokSeq *out,
                       YaError *err) {
    YaIds ids = {0};
    const size_t need = token_limit(cfg);
    int rc = rendered_ids(fmt, tok, msgs, calls, n, tools, n_tools, 0, need, &ids, err);
    if (rc == YA_OK) rc = seq_append(out, ids.ids, ids.len, cfg->mask_prompt ? 0 : 1, err);
    size_t full = ids.len;
    if (rc || !cfg->mask_prompt) {
        ya_ids_free(&ids);
        return rc;
    }
    size_t last = n;
    for (size_t k = n; k-- > 0;)
        if (strcmp(msgs[k].role, "assistant") == 0) {
            last = k;
            break;
        }
    if (last == n) rc = ya_fail(err, YA_ERR, "no assistant message to train on (--mask-prompt on)");
    for (size_t k = 0; rc == YA_OK && k < n; k++) {
        if (strcmp(msgs[k].role, "assistant") != 0) continue;
        if (k != last && cfg->train_on != YA_TRAIN_ON_ALL_ASSISTANT) continue;
        size_t start = 0, end = full;
        if ((rc = rendered_ids(fmt, tok, msgs, calls, k, tools, n_tools, 1, need, &ids, err))) break;
        start = ids.len;
        /* a turn starting past the tokens encoded still has its end-of-turn token to supervise */
        if (start >= full && full >= need) out->sup_past_end = 1;
        if (k + 1 < n) {
            if ((rc = rendered_ids(fmt, tok, msgs, calls, k + 1, tools, n_tools, 0, need, &ids, err))) break;
            int is_prefix = ids.len <= full && memcmp(ids.ids, out->ids, ids.len * sizeof *ids.ids) == 0;
            end = is_prefix ? ids.len : end_of_turn(fmt, tok, out->ids, start, full);
        }
        for (size_t t = start; t < end; t++) out->sup[t] = 1;
    }
    ya_ids_free(&ids);
    return rc;
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
            if (render_chat(msgs, NULL, 2, NULL, 0, cfg, tok, chat_format, out, err)) return YA_ERR;
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
        char field[96];
        const char *what;
        if (chat_format != YA_CHAT_QWEN3 && ya_data_record_first_tool(rec, field, sizeof field, &what))
            return ya_fail(err, YA_ERR, "%s: the %s chat template does not render %s (only qwen3 does)", field,
                           ya_chat_format_name(chat_format), what);
        YaDataChat chat; /* ShareGPT turns arrive here as roles; tool calls and tools serialised */
        if (ya_data_chat_build(rec, &chat, err)) return YA_ERR;
        int rc = render_chat(chat.msgs, chat.turn_calls, chat.n, chat.tools, chat.n_tools, cfg, tok, chat_format, out, err);
        ya_data_chat_free(&chat);
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

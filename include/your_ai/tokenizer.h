/* tokenizer.h — HuggingFace tokenizer.json in C, exact (BPE: SentencePiece-style
 * and byte-level), with tokenizer_config.json for special tokens and chat templates.
 * Encoding must equal the HuggingFace `tokenizers` library id for id. */
#ifndef YOUR_AI_TOKENIZER_H
#define YOUR_AI_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "your_ai/error.h"

typedef struct YaTokenizer YaTokenizer;

/* A growable id list. */
typedef struct YaIds {
    int32_t *ids;
    size_t len, cap;
} YaIds;
int ya_ids_push(YaIds *v, int32_t id);
void ya_ids_free(YaIds *v);

/* path: a tokenizer.json file, or a model directory holding tokenizer.json
 * (and optionally tokenizer_config.json beside it). */
int ya_tokenizer_load(const char *path, YaTokenizer **out, YaError *err);
/* The same from memory: the text of a tokenizer.json and, optionally (NULL), of
 * its tokenizer_config.json. Messages name "tokenizer.json" / "tokenizer_config.json". */
int ya_tokenizer_load_memory(const char *json, size_t len, const char *config_json, size_t config_len,
                             YaTokenizer **out, YaError *err);
void ya_tokenizer_free(YaTokenizer *tok);

/* Appends the ids of text (UTF-8, len bytes) to out. add_special applies the
 * post-processor (BOS/EOS insertion) as HF's encode(text, add_special_tokens=True).
 * Added/special token strings in text are always recognised (HF's default).
 * Invalid UTF-8 is first repaired as Rust's String::from_utf8_lossy does (each
 * maximal invalid subpart becomes U+FFFD), so the ids equal HF's for the repaired text.
 * Thread-safe: one tokenizer may be shared by threads (its cache is locked). */
int ya_tokenizer_encode(const YaTokenizer *tok, const char *text, size_t len, int add_special, YaIds *out,
                        YaError *err);

/* Like ya_tokenizer_encode, but stops early: appends at least the first
 * max_tokens ids of the full encoding (all of them when it is shorter), and
 * every id appended is the full encoding's id at that position. The work is
 * bounded by the tokens needed, not by len (normalising and pre-tokenising
 * still read the whole text; BPE stops after the pre-token, or the 64 KiB chunk
 * of a long pre-token, that reaches max_tokens). Used to truncate long
 * documents to a sequence length without encoding all of them. */
int ya_tokenizer_encode_prefix(const YaTokenizer *tok, const char *text, size_t len, int add_special, size_t max_tokens,
                               YaIds *out, YaError *err);

/* Decodes ids into a malloc'ed NUL-terminated UTF-8 string (as HF decode). */
int ya_tokenizer_decode(const YaTokenizer *tok, const int32_t *ids, size_t n, int skip_special, char **out,
                        size_t *out_len, YaError *err);

/* Vocabulary and special tokens. Ids are -1 when the tokenizer has none. */
size_t ya_tokenizer_vocab_size(const YaTokenizer *tok); /* model vocab + added tokens */
int32_t ya_tokenizer_bos_id(const YaTokenizer *tok);
int32_t ya_tokenizer_eos_id(const YaTokenizer *tok);
int32_t ya_tokenizer_pad_id(const YaTokenizer *tok);
int ya_tokenizer_add_bos(const YaTokenizer *tok); /* 1 when the post-processor inserts BOS (HF fast tokenizers) */
int ya_tokenizer_is_special(const YaTokenizer *tok, int32_t id);
const char *ya_tokenizer_id_to_token(const YaTokenizer *tok, int32_t id); /* NULL if out of range */
int32_t ya_tokenizer_token_to_id(const YaTokenizer *tok, const char *token); /* -1 if absent */

/* ---- chat formatting (generate, validate, the data loader) ---------------- */
typedef enum YaChatFormat {
    YA_CHAT_NONE = 0, /* no template known */
    YA_CHAT_LLAMA3,
    YA_CHAT_MISTRAL, /* [INST] ... [/INST] */
    YA_CHAT_CHATML,  /* <|im_start|>role ... <|im_end|> (Qwen2, Hermes) */
    YA_CHAT_QWEN3,   /* ChatML plus Qwen3's <think> block on the final assistant turn */
} YaChatFormat;

/* One function call made by an assistant turn, as its template prints it. */
typedef struct YaChatToolCall {
    const char *name;
    const char *arguments; /* JSON text: a string argument verbatim, an object as the template's
                            * tojson prints it (Python json.dumps, ya_json_dumps_python) */
} YaChatToolCall;

typedef struct YaChatMessage {
    const char *role; /* "system" | "user" | "assistant" | "tool" (a tool's result) */
    const char *content;
} YaChatMessage;

/* The tool calls of one assistant turn (n = 0: none). */
typedef struct YaChatToolCalls {
    const YaChatToolCall *calls; // [n]
    size_t n;
} YaChatToolCalls;

/* The format recognised from tokenizer_config.json's chat_template (YA_CHAT_NONE if absent or unrecognised). */
YaChatFormat ya_tokenizer_chat_format(const YaTokenizer *tok);
/* 1 when tokenizer_config.json has a chat_template (recognised or not): with
 * ya_tokenizer_chat_format() == YA_CHAT_NONE it means "present but unrecognised". */
int ya_tokenizer_has_chat_template(const YaTokenizer *tok);
/* Parses "llama3" | "mistral" | "chatml" | "qwen3"; -1 if unknown. */
int ya_chat_format_parse(const char *name, YaChatFormat *out);
const char *ya_chat_format_name(YaChatFormat f);
/* The token text that ends an assistant turn in format f, as the renderers emit it:
 * "<|eot_id|>" (llama3), "<|im_end|>" (chatml, qwen3), the EOS token (mistral, "</s>").
 * A model must generate it to stop, so it is a stop token of every chat export. NULL for NONE. */
const char *ya_chat_end_of_turn(YaChatFormat f, const YaTokenizer *tok);

/* Renders messages as the template does (text, including special-token strings
 * such as "<|begin_of_text|>" where the template emits them), into a malloc'ed string.
 * add_generation_prompt appends the assistant header. */
int ya_chat_render(YaChatFormat fmt, const YaTokenizer *tok, const YaChatMessage *msgs, size_t n,
                   int add_generation_prompt, char **out, YaError *err);
/* The same with tools offered to the model (tools[i]: one tool's schema as tojson
 * text), the tool calls of each message (calls[i] for msgs[i]; calls may be NULL)
 * and "tool" results. Only the qwen3 template renders tools; the others fail
 * naming the first tool part ("'tools': ...", "messages[2].tool_calls: ...",
 * "messages[3].role 'tool': ..."). */
int ya_chat_render_tools(YaChatFormat fmt, const YaTokenizer *tok, const YaChatMessage *msgs,
                         const YaChatToolCalls *calls, size_t n, const char *const *tools, size_t n_tools,
                         int add_generation_prompt, char **out, YaError *err);

/* Appends the ids of one user turn rendered through the generation prompt (what a
 * chat model is prompted with). The template writes its own BOS, so the text is
 * encoded without the post-processor's special tokens. */
int ya_chat_encode_user(YaChatFormat fmt, const YaTokenizer *tok, const char *user, YaIds *out, YaError *err);

#endif

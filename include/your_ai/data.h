/* data.h — the training data loader: JSONL records → token ids + loss masks →
 * micro-batches (padded or packed), in a seeded per-epoch order with a cursor
 * that a checkpoint saves and restores exactly (SPEC §3.3, §5.1, §5.3–§5.5, §8, §9).
 *
 * The pipeline, one concept per file in src/train/:
 *   data_record.c  one JSON object → validated YaDataRecord (format, chat spelling, tools,
 *                  sample weight, w, H); a chat record → renderer input (YaDataChat)
 *   data_render.c  YaDataRecord → ids + supervised mask (BOS/EOS, templates, truncation)
 *   data_batch.c   (ids, mask) sequences → YaBatch, pad or pack (pure functions)
 *   data_order.c   the permutation of epoch k (SPEC §8)
 *   data_loader.c  pre-pass index over the file(s), the endless stream, cursor, resume
 * docs/DATA_LOADER.md describes the formats, masks, packing and resume guarantees.
 *
 * Conventions used throughout:
 *  - A sequence's supervised mask `sup[t]` says token t is a loss *target*: the
 *    logits at position t-1 are scored against ids[t]. sup[0] never counts (nothing
 *    predicts a document's first token), so a sample's supervised count
 *    n_sup = Σ_{t≥1} sup[t]. Samples with n_sup = 0 are dropped at load time.
 *  - In a YaBatch everything is position-aligned: targets[b,t] is the id the
 *    logits at (b,t) must predict, or -1 where no loss is taken (padding, prompt,
 *    the last token of a document, a document boundary when packing). */
#ifndef YOUR_AI_DATA_H
#define YOUR_AI_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "your_ai/error.h"
#include "your_ai/json.h"
#include "your_ai/jsonl.h"
#include "your_ai/scorer.h"
#include "your_ai/tokenizer.h"

/* ---- configuration ---------------------------------------------------------- */

typedef enum YaDataFormat {
    YA_DATA_AUTO = 0,        /* detect from the first line that has a known shape */
    YA_DATA_TEXT = 1,        /* {"text"} */
    YA_DATA_COMPLETIONS = 2, /* {"prompt","completion"} */
    YA_DATA_CHAT = 3,        /* {"messages":[{"role","content"}...]} or ShareGPT {"conversations":[{"from","value"}...]} */
} YaDataFormat;
const char *ya_data_format_name(YaDataFormat f); /* "text" | "completions" | "chat" | "auto" */

/* How a chat record spells its turns. Both are the chat format: one data set may mix them. */
typedef enum YaChatSource {
    YA_CHAT_SOURCE_NONE = 0,     /* not a chat record */
    YA_CHAT_SOURCE_MESSAGES = 1, /* "messages": [{"role", "content"}] (OpenAI / mlx-lm) */
    YA_CHAT_SOURCE_SHAREGPT = 2, /* "conversations": [{"from", "value"}] (+ optional "system") */
} YaChatSource;
/* How one record was understood: "text" | "completions" | "chat:messages" |
 * "chat:sharegpt", with "+tools" when the line offers tools, calls one or carries a result. */
const char *ya_data_kind_name(YaDataFormat f, YaChatSource src, int has_tools);

typedef enum YaBatchMode {
    YA_BATCH_PAD = 0,  /* one sample per row, right-padded to the longest row */
    YA_BATCH_PACK = 1, /* several documents per row of max_seq_len, attention/loss kept inside each */
} YaBatchMode;

typedef enum YaTrainOn {
    YA_TRAIN_ON_FINAL = 0,         /* chat: only the final assistant message (mlx-lm) */
    YA_TRAIN_ON_ALL_ASSISTANT = 1, /* chat: every assistant turn */
} YaTrainOn;

typedef struct YaDataConfig {
    int max_seq_len;          /* --max-seq-length, 1024; longer samples keep their first tokens */
    int batch_size;           /* --batch-size, 2: rows per micro-batch */
    YaBatchMode mode;         /* --batching pad|pack, pad */
    uint64_t seed;            /* --seed, 42: epoch k is permuted by stream "epoch:<k>" */
    int mask_prompt;          /* --mask-prompt on|off, on: loss only on completion/assistant tokens */
    YaTrainOn train_on;       /* --train-on final|all-assistant, final */
    int append_eos;           /* 1 unless --no-append-eos: EOS after text documents */
    int need_scores;          /* distrust mode != off: every sample needs w and H */
    int has_default_auth;     /* --default-auth W given */
    double default_auth;
    int has_default_entropy;  /* --default-entropy H given */
    double default_entropy;
    int score;                /* --score: missing w/H scored on the fly (needs a YaDataScorer) */
    YaBadLinePolicy on_bad_line; /* --on-bad-line skip|fail, fail */
    YaChatFormat chat_format; /* --chat-format; YA_CHAT_NONE = the tokenizer's template */
    YaDataFormat format;      /* YA_DATA_AUTO (default) or forced */
    double alpha;             /* distrust α for the μ pre-pass (SPEC §3.3b); 0 = don't compute */
    int threads;              /* pre-pass tokenising threads; 0 = OpenMP's default. Results never depend on it */
    int shuffle;              /* 1 (default): epoch permutations; 0: file order (evaluation) */
    int cross_epochs;         /* 1 (default): a batch continues into the next epoch, so every pad
                               * batch is full; 0: an epoch's last batch is short (evaluation) */
    int vocab_size;           /* the model's; a rendered token id >= it makes the line bad (file:line), so a
                               * tokenizer/model mismatch stops at load, not at update 1. 0 = unchecked */
} YaDataConfig;

/* The defaults listed above. */
void ya_data_config_default(YaDataConfig *cfg);

/* ---- value ranges (data_ranges.c) ---------------------------------------------- */

/* Largest prov_entropy (and --default-entropy) accepted. Entropies are in bits (a
 * scorer gives < 10); the distrust loss squares H, so a bound keeps every loss and
 * its batch sums finite. */
#define YA_DATA_ENTROPY_MAX 1e6

/* ---- on-the-fly scoring (--score) ----------------------------------------------- */

/* How the loader scores a document that lacks w/H. A function pointer keeps
 * ya_train free of a link-time dependency on the scorer: callers pass
 * ya_data_citation_scorer(scorer) below. source_type is NULL for dynamic scoring
 * (SPEC §4.6), else hybrid (§4.7). The loader applies §4.8's default case
 * (< 50 code points → 0.50 / 3.0) itself and rounds to 4 decimals (§5.1). */
typedef struct YaDataScorer {
    int (*score)(void *ctx, const char *text, size_t len, const json_t *metadata, const char *source_type, double *w,
                 double *h, YaError *err);
    void *ctx;
} YaDataScorer;

static inline int ya_data_citation_score_(void *ctx, const char *text, size_t len, const json_t *metadata,
                                          const char *source_type, double *w, double *h, YaError *err) {
    YaScoreResult r = {0};
    int rc = source_type ? ya_score_hybrid((const YaScorer *)ctx, text, len, metadata, source_type, &r, err)
                         : ya_score_document((const YaScorer *)ctx, text, len, metadata, 0, &r, err);
    *w = r.authority_weight;
    *h = r.provenance_entropy;
    return rc;
}
/* The citation scorer (SPEC §4) as the loader's --score. */
static inline YaDataScorer ya_data_citation_scorer(const YaScorer *s) {
    YaDataScorer d = {ya_data_citation_score_, (void *)s};
    return d;
}

/* ---- one record (data_record.c) --------------------------------------------- */

typedef struct YaDataRecord {
    YaDataFormat format;
    YaChatSource chat_source; /* chat format: which spelling the line used */
    const char *text;       /* text format (borrowed from the JSON object) */
    const char *prompt;     /* completions format */
    const char *completion;
    const json_t *messages; /* chat format: the validated "messages" or "conversations" array */
    const char *system;     /* ShareGPT: the top-level "system" field, or NULL */
    const json_t *tools;    /* the non-empty "tools" array (tool schemas), or NULL */
    const char *tools_text; /* ShareGPT: "tools" given as JSON text (LLaMA-Factory), or NULL */
    int has_tools;          /* tools offered, or a turn with tool_calls or role "tool" */
    double w, h;            /* auth_weight, prov_entropy (valid only if has_scores) */
    int has_scores;
    int scored;             /* 1 if w/H came from --score, 2 if from the defaults, 0 from the line */
    double weight;          /* the sample weight: "weight" / "loss_weight", finite >= 0; 1 when absent */
    int has_weight;         /* the line carried one */
} YaDataRecord;

/* Validates one JSON object against the schema (SPEC §5.1, §5.4, §2.2).
 *  *format: the dataset format; YA_DATA_AUTO is replaced by this line's format
 *           when the line has a recognisable shape (format detection).
 *  scorer:  used only when cfg->score and w/H are missing (may be NULL otherwise).
 * Returns YA_OK with *rec filled, or YA_ERR with `reason` saying why the line is
 * bad ("auth_weight 1.5 is outside [0, 0.99]", ...). Never prints. */
int ya_data_record_parse(const json_t *obj, const YaDataConfig *cfg, YaDataFormat *format, const YaDataScorer *scorer,
                         YaDataRecord *rec, char *reason, size_t reason_cap);

/* A chat record's turns as (role, content), ShareGPT roles mapped (human → user,
 * gpt → assistant, function_call → assistant with empty content, observation →
 * tool; its "system" field first). Returns the count; msgs (when not
 * NULL) needs room for that many. Strings are borrowed from the record's JSON. */
size_t ya_data_record_messages(const YaDataRecord *rec, YaChatMessage *msgs);

/* A chat record as the renderer takes it: turns (with tool calls) and the tools'
 * tojson text. Built by ya_data_chat_build, freed by ya_data_chat_free; strings
 * are borrowed from the record's JSON or owned here. */
typedef struct YaDataChat {
    YaChatMessage *msgs;     // [n]
    YaChatToolCalls *turn_calls; // [n] each turn's tool calls (into calls[])
    size_t n;
    const char **tools;  // [n_tools] each tool's schema as tojson (Python json.dumps) text
    size_t n_tools;
    YaChatToolCall *calls; // [n_calls] the tool calls of every turn, end to end
    size_t n_calls;
    char **owned;        // [n_owned] serialized JSON this struct owns
    size_t n_owned;
} YaDataChat;
int ya_data_chat_build(const YaDataRecord *rec, YaDataChat *out, YaError *err);
/* The first tool part of a chat record, named in the line's own terms ("'tools'",
 * "messages[2].tool_calls", "conversations[1].from 'function_call'", ...), and what it
 * is ("tools", "tool calls", "tool results"); 0 when the record has none. */
int ya_data_record_first_tool(const YaDataRecord *rec, char *field, size_t cap, const char **what);
void ya_data_chat_free(YaDataChat *c);

/* The chat role of a ShareGPT "from" value (system, human/user, gpt/assistant/
 * function_call, observation/tool), or NULL when it has none. */
const char *ya_sharegpt_role(const char *from);

/* ---- rendering (data_render.c) ------------------------------------------------ */

/* Token ids plus the supervised mask (sup[t] = 1: ids[t] is a loss target). Reused across calls. */
typedef struct YaTokSeq {
    int32_t *ids;  // [len]
    uint8_t *sup;  // [len]
    size_t len, cap;
    size_t full_len;   /* length before truncation; when longer than max_seq_len only a lower
                          bound (encoding stops at max_seq_len + 1 tokens) */
    size_t n_sup_full; /* Σ_{t≥1} sup[t] before truncation; past max_seq_len + 1 only > 0 vs 0 is exact */
    int sup_past_end;  /* a supervised turn starts past the tokens encoded */
    size_t n_sup;      /* Σ_{t≥1} sup[t] after truncation */
} YaTokSeq;
void ya_tok_seq_free(YaTokSeq *s);
/* Nonzero, with a reason naming the first token id outside [0, vocab_size) and
 * its position, when seq holds one; 0 when all are inside or vocab_size is 0
 * (data_ranges.c). */
int ya_data_check_vocab(const YaTokSeq *seq, int vocab_size, char *reason, size_t cap);

/* Renders and tokenises a record (SPEC §5.4 table, §5.5), then truncates to
 * cfg->max_seq_len. chat_format: the resolved template (YA_CHAT_NONE allowed for
 * text and completions). A data error (e.g. a chat record without an assistant
 * turn) returns YA_ERR with the reason in err, prefixed by nothing: callers add file:line. */
int ya_data_render(const YaDataRecord *rec, const YaDataConfig *cfg, const YaTokenizer *tok, YaChatFormat chat_format,
                   YaTokSeq *out, YaError *err);

/* ---- batches (data_batch.c) ---------------------------------------------------- */

/* One tokenised sample handed to the batch builders. */
typedef struct YaDataSeq {
    const int32_t *ids; // [len]
    const uint8_t *sup; // [len]
    int len;            /* ≤ max_seq_len */
    double w, h;        /* distrust fields (0 when the run has none) */
    double weight;      /* sample weight (≥ 0; 1 = plain): scales the sample's share of the loss */
    uint64_t index;     /* dataset sample index (position in the loader's index) */
    uint64_t epoch;     /* epoch the sample was drawn in */
} YaDataSeq;

/* Where one document sits in a batch, and what per-sample losses need. */
typedef struct YaBatchSample {
    int row, start, len; /* tokens [start, start+len) of row `row` */
    int n_sup;           /* supervised targets of this document inside the batch (≥ 1) */
    double w, h;
    double weight;       /* sample weight (loss_modes.h says how it enters the loss) */
    uint64_t index, epoch;
} YaBatchSample;

typedef struct YaBatch {
    int B, T;            /* rows in use and columns (T = longest row; ≤ max_seq_len) */
    int cap_rows, cap_T; /* allocated capacity */
    int32_t *ids;        // [B, T] input ids; 0 on padding (its value is irrelevant: masked)
    int32_t *targets;    // [B, T] id the logits at (b,t) predict, -1 = no loss
    uint8_t *loss_mask;  // [B, T] 1 where targets >= 0
    int32_t *pos_ids;    // [B, T] position within the document (RoPE restarts per document), 0 on padding
    int32_t *seg_ids;    // [B, T] document number within the row (0, 1, ...), -1 on padding
    int32_t *sample_ids; // [B, T] index into samples[] of the document at (b,t), -1 on padding
    int32_t *row_len;    // [B] non-padding tokens in the row
    int n_samples;
    YaBatchSample *samples; // [n_samples], in row-major order
    size_t n_tokens;     /* Σ row_len */
    size_t n_sup;        /* Σ loss_mask */
} YaBatch;
/* Attention rule for both modes: position i may attend to j iff j ≤ i and
 * seg_ids[b,j] == seg_ids[b,i] ≥ 0 (pad mode has one segment per row, so this is
 * plain causal attention limited to row_len). */

int ya_batch_alloc(YaBatch *b, int rows, int max_T, YaError *err);
void ya_batch_free(YaBatch *b);

/* Pad mode: one row per sequence (n ≤ cap_rows), right-padded to the longest. */
int ya_batch_build_pad(YaBatch *b, const YaDataSeq *seqs, int n, YaError *err);

/* Pack mode, greedy in order: a document goes into the current row if it fits in
 * the remaining space, else opens the next row; stops before the first document
 * that would need row cap_rows+1. Documents are never split. *n_used = documents
 * placed. Each seq must have len ≤ max_seq_len (= cap_T). */
int ya_batch_build_pack(YaBatch *b, const YaDataSeq *seqs, int n, int max_seq_len, int *n_used, YaError *err);

/* How many documents of lengths len[0..n) the greedy packer places in one batch
 * of `rows` rows of max_seq_len (the same rule as ya_batch_build_pack). */
int ya_pack_count(const int *len, int n, int rows, int max_seq_len);

/* ---- the loader (data_loader.c) ------------------------------------------------- */

/* Where the stream stands: the next sample is permutation entry `position` of
 * epoch `epoch`. Permutation k is a pure function of (seed, k, n_samples), so
 * this pair is the whole state. */
typedef struct YaDataCursor {
    uint64_t epoch;
    uint64_t position;
} YaDataCursor;

typedef struct YaDataStats {
    YaDataFormat format;
    YaChatFormat chat_format;    /* the template used (chat / completions) */
    uint64_t n_lines;            /* non-blank lines read */
    uint64_t n_samples;          /* samples kept in the index */
    uint64_t n_bad;              /* bad lines skipped (--on-bad-line skip) */
    uint64_t n_dropped_truncated;/* supervised part entirely past max_seq_len */
    uint64_t n_dropped_empty;    /* no supervised target at all (e.g. a one-token text) */
    uint64_t n_dropped_zero_weight; /* sample weight 0: nothing to learn from */
    uint64_t n_weighted;         /* kept samples whose weight is not 1 */
    uint64_t n_by_source[3];     /* kept samples by YaChatSource (0: text or completions) */
    uint64_t n_with_tools;       /* kept chat samples with tools, tool calls or tool results */
    uint64_t n_truncated;        /* kept samples that lost tokens to max_seq_len */
    uint64_t n_scored;           /* w/H scored on the fly (--score) */
    uint64_t n_defaulted;        /* w/H taken from --default-auth/--default-entropy */
    uint64_t n_tokens;           /* Σ tokens of kept samples after truncation */
    uint64_t n_sup_tokens;       /* Σ supervised targets of kept samples */
    int has_scores;              /* every kept sample has w and H */
    double mean_distrust;        /* μ = mean ℓ(w,H;α) over kept samples (cfg.alpha > 0 and has_scores) */
} YaDataStats;

typedef struct YaDataLoader YaDataLoader;

/* Opens the training file(s) and runs the pre-pass: reads every line once,
 * validates, renders and tokenises it, and keeps (file, offset, line, length,
 * n_sup, w, H) per kept sample — memory O(lines), not O(bytes). Bad lines follow
 * cfg->on_bad_line; under skip each is printed "file:line: reason" (first 20) and
 * counted. The sha256 of each file is computed for the checkpoint. Fails when no
 * sample is left. scorer may be NULL unless cfg->score. tok must outlive the loader. */
int ya_data_open(const YaDataConfig *cfg, const char *const *paths, size_t n_paths, const YaTokenizer *tok,
                 const YaDataScorer *scorer, YaDataLoader **out, YaError *err);
void ya_data_close(YaDataLoader *dl);

/* The next micro-batch (owned by the loader, valid until the next call). The
 * stream is endless: an epoch that runs out mid-batch continues into the next
 * epoch's permutation, so every pad batch has exactly batch_size rows (with
 * cross_epochs = 0 the epoch's last batch is short instead, and the cursor's
 * epoch changing tells an evaluation pass that it has seen every sample once). */
int ya_data_next(YaDataLoader *dl, const YaBatch **batch, YaError *err);

YaDataCursor ya_data_get_cursor(const YaDataLoader *dl);
/* Restores a cursor (position < n_samples). The next batch is then exactly the
 * one an uninterrupted run would have produced at that point. */
int ya_data_set_cursor(YaDataLoader *dl, const YaDataCursor *c, YaError *err);

const YaDataStats *ya_data_stats(const YaDataLoader *dl);
/* Sample i of the index (i < n_samples): its w/H (0 when absent) and supervised count. */
void ya_data_sample_info(const YaDataLoader *dl, uint64_t i, double *w, double *h, uint32_t *n_sup, uint32_t *len);
/* Sample i's weight (1 unless its line gave one) and how its line was understood
 * (ya_data_kind_name of its format and chat spelling). */
double ya_data_sample_weight(const YaDataLoader *dl, uint64_t i);
const char *ya_data_sample_kind(const YaDataLoader *dl, uint64_t i);
/* Where sample i comes from: its file's path and 1-based line number. */
void ya_data_sample_source(const YaDataLoader *dl, uint64_t i, const char **path, uint64_t *line);
/* The sha256 (64 hex digits) of training file i, and the number of files. */
size_t ya_data_num_files(const YaDataLoader *dl);
const char *ya_data_file_sha256(const YaDataLoader *dl, size_t i);
const char *ya_data_file_path(const YaDataLoader *dl, size_t i);

/* Cursor ⇄ trainer_state.json: {"epoch":k,"position":p,"seed":s,"n_samples":N,
 * "files":[{"path":..,"sha256":..}]}. from_json checks the seed, the sample count and the
 * file hashes against the open loader and refuses a cursor taken on other data. */
json_t *ya_data_cursor_to_json(const YaDataLoader *dl, const YaDataCursor *c);
int ya_data_cursor_from_json(const YaDataLoader *dl, const json_t *j, YaDataCursor *out, YaError *err);

/* The permutation of epoch k over n samples: Fisher–Yates (top index down) of
 * 0..n-1 with the stream ya_rng_seed(seed, "epoch:<k>"). perm must hold n entries. */
void ya_data_epoch_permutation(uint64_t seed, uint64_t epoch, uint64_t *perm, size_t n);

#endif

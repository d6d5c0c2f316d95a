/* export_internal.h — what the exporters share: a base weight upcast to F32
 * with its LoRA delta merged in (SPEC §10.2), and small file helpers. */
#ifndef YA_EXPORT_INTERNAL_H
#define YA_EXPORT_INTERNAL_H

#include "your_ai/adapter.h"
#include "your_ai/model.h"
#include "your_ai/tokenizer.h"

/* dst [numel] = t upcast to F32, plus (α/r)·B·A when t is a projection weight
 * that a (may be NULL) adapts. Every value is checked as it is computed: a
 * non-finite one, or one beyond max_abs (what the output type holds, see
 * ya_export_max_abs), is an error naming the tensor, the element and the
 * adapter. */
int ya_export_weight_f32(const YaModel *m, const YaAdapter *a, const YaTensorInfo *t, float *dst, float max_abs,
                         YaError *err);

/* The largest |value| a tensor of dtype dt holds (F16: 65504, BF16: 3.39e38, F32: FLT_MAX). */
float ya_export_max_abs(YaDtype dt);

/* Copies dir_from/name to dir_to/name atomically when it exists (*copied = 1). */
int ya_export_copy_file(const char *dir_from, const char *dir_to, const char *name, int *copied, YaError *err);

/* What ends generation for an exported model (stop_tokens.c): every format
 * writes the same set. ids = config.json eos ids ∪ the tokenizer's eos ∪ the chat
 * template's end-of-turn token. */
typedef struct YaExportStops {
    int32_t bos_id, eos_id; /* -1: none. eos_id: config.json's first, else the tokenizer's */
    int32_t eot_id;         /* the chat template's end-of-turn token, -1 without a chat format */
    int32_t ids[16];        // [n] every stop id, eos_id first when there is one
    int n;
    YaChatFormat chat;      /* recognised from tokenizer_config.json, or forced; NONE if neither */
    char *chat_template;    /* tokenizer_config.json's Jinja chat_template (NULL if none) */
    int add_bos;            /* the tokenizer inserts BOS itself (post-processor / add_bos_token) */
    YaTokenizer *tok;       /* NULL when the model directory has no tokenizer.json */
} YaExportStops;

/* force: a chat format to use instead of the template's (YA_CHAT_NONE: the
 * recognised one, if any). Fails when that format's end-of-turn token is not
 * in the vocabulary. */
int ya_export_stops_load(const YaModel *m, YaChatFormat force, YaExportStops *s, YaError *err);
/* The token text of ids[i] (NULL without a tokenizer). */
const char *ya_export_stop_text(const YaExportStops *s, int i);
void ya_export_stops_free(YaExportStops *s);
/* out_dir/generation_config.json: the base's (or {}) with bos_token_id and
 * eos_token_id = the list of every stop id. */
/* The Ollama Modelfile text for s (its chat format must be known), FROM ./gguf_name. */
int ya_ollama_modelfile(const YaExportStops *s, const char *gguf_name, char **out, YaError *err);
int ya_export_write_generation_config(const YaModel *m, const char *out_dir, YaError *err);

#endif

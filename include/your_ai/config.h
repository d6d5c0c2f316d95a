/* config.h — a Llama-family model's config.json (SPEC §6.1): Llama 2/3, Mistral,
 * Qwen2, TinyLlama/SmolLM shapes. Unknown model_type or unsupported features are
 * errors that name the field. */
#ifndef YOUR_AI_CONFIG_H
#define YOUR_AI_CONFIG_H

#include <stdint.h>

#include "your_ai/error.h"

typedef enum { YA_ARCH_LLAMA = 0, YA_ARCH_MISTRAL = 1, YA_ARCH_QWEN2 = 2 } YaArch;
typedef enum { YA_ROPE_DEFAULT = 0, YA_ROPE_LINEAR = 1, YA_ROPE_LLAMA3 = 2 } YaRopeType;

typedef struct YaModelConfig {
    YaArch arch;
    char model_type[32];         /* "llama" | "mistral" | "qwen2" */
    int hidden_size;             /* h */
    int intermediate_size;       /* f */
    int num_hidden_layers;       /* L */
    int num_attention_heads;     /* n_h */
    int num_key_value_heads;     /* n_kv (defaults to n_h) */
    int head_dim;                /* d (defaults to h / n_h) */
    int vocab_size;              /* V: embedding rows */
    int max_position_embeddings; /* 0 if absent */
    double rms_norm_eps;         /* required; never a library default */
    double rope_theta;           /* default 10000 */
    YaRopeType rope_type;
    double rope_factor;          /* linear / llama3 */
    double rope_low_freq_factor;  /* llama3 */
    double rope_high_freq_factor; /* llama3 */
    int rope_original_max_pos;    /* llama3 original_max_position_embeddings */
    int tie_word_embeddings;
    int attention_bias;          /* q/k/v (and o for llama attention_bias) have biases */
    int o_bias;                  /* o_proj has a bias (llama attention_bias only; never qwen2) */
    int mlp_bias;
    int sliding_window;          /* 0 = none (or unused) */
    char torch_dtype[16];        /* "bfloat16" | "float16" | "float32" | "" */
    int32_t bos_token_id;        /* -1 if absent */
    int32_t eos_token_ids[8];    /* eos may be a list */
    int n_eos;
} YaModelConfig;

/* Parses config.json text/file; `where` names the source in messages. */
int ya_config_parse(const char *json_text, size_t len, const char *where, YaModelConfig *cfg, YaError *err);
int ya_config_load(const char *path, YaModelConfig *cfg, YaError *err);
/* Loads <model_dir>/config.json and merges eos ids from generation_config.json when present. */
int ya_config_load_dir(const char *model_dir, YaModelConfig *cfg, YaError *err);

/* Writes cfg as an HF config.json text (malloc'ed) that transformers loads. */
char *ya_config_to_json(const YaModelConfig *cfg);

/* RoPE inverse frequencies for i < d/2 (SPEC §6.1, including the llama3 rule and
 * linear scaling). inv_freq must hold head_dim/2 floats. Computed in double. */
void ya_rope_inv_freq(const YaModelConfig *cfg, double *inv_freq);

/* Presets for init-model: "tiny", "llama3-1b", "llama3-8b", "mistral-7b", ... Returns
 * YA_ERR_USAGE with the list of names if unknown. */
int ya_config_preset(const char *name, YaModelConfig *cfg, YaError *err);
/* Comma-separated preset names, for --help. */
const char *ya_config_preset_names(void);

/* Total parameter count implied by the config. */
uint64_t ya_config_param_count(const YaModelConfig *cfg);

#endif

/* generate.h — autoregressive generation with the KV cache: the prompt is
 * run once (prefill), then one token per step (decode) until max_tokens or an
 * EOS id. Also the EOS set: config.json eos ∪ generation_config.json eos
 * (merged by ya_config_load_dir) ∪ the tokenizer's eos. */
#ifndef YOUR_AI_GENERATE_H
#define YOUR_AI_GENERATE_H

#include <stdint.h>

#include "your_ai/error.h"
#include "your_ai/model.h"
#include "your_ai/sampler.h"

#define YA_MAX_EOS 16

typedef struct YaGenerateParams {
    int max_tokens;          /* decode steps at most */
    YaSamplerParams sampling;
    int32_t eos[YA_MAX_EOS]; /* stop ids (the EOS id itself is emitted, then generation stops) */
    int n_eos;
    int no_cache;            /* debug: recompute the whole sequence every step instead of using the KV cache */
    YaDevice device;         /* where the inference state is created (zero: YA_DEVICE_CPU) */
    int gpu;                 /* CUDA device index for YA_DEVICE_CUDA */
    /* Optional: a state to reuse (reset first) instead of creating one, e.g.
     * one GPU upload for a whole prompt suite. It must hold n_prompt +
     * max_tokens positions; device/gpu are then ignored. NULL: a fresh state. */
    YaInferState *state;
} YaGenerateParams;

typedef struct YaGenerateStats {
    int n_prompt, n_decode;
    double prompt_seconds, decode_seconds;
    int hit_eos;
} YaGenerateStats;

/* Called with each generated id as soon as it is chosen; a nonzero return stops generation. */
typedef int (*YaTokenFn)(void *user, int32_t id);

/* Fills params->eos from the model config and tokenizer_eos (−1: none), without duplicates. */
void ya_generate_eos_set(YaGenerateParams *params, const YaModelConfig *cfg, int32_t tokenizer_eos);

/* Generates after prompt[0..n_prompt). The inference state is created inside
 * on params->device, sized to n_prompt + max_tokens (or params->state is reused). */
int ya_generate(const YaModel *m, const int32_t *prompt, int n_prompt, const YaGenerateParams *params, YaTokenFn on_token,
                void *user, YaGenerateStats *stats, YaError *err);

#endif

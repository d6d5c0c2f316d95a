/* model.h — a Llama-family model (Llama 2/3, Mistral, Qwen2): config, the
 * mmap'd weights under their HF names (shape-checked at load), and the
 * inference forward pass with a KV cache.
 *
 * Weights stay in their stored dtype in the mapping; a forward pass converts
 * one matrix at a time into a scratch buffer when it is not F32 (F32 weights
 * are used in place), or, for a few rows at a time (decoding), reads them at
 * their stored width row by row (backend linear_stored). All buffers of an inference session are sized once from
 * the config and the context length (YaInferState); nothing is allocated per
 * token. The graph calls the backend op table (src/backend/backend.h).
 * ya_infer_state_new_on(…, YA_DEVICE_CUDA, …) runs the same graph on a GPU with
 * bf16 weights and KV cache (llama_cuda_infer.c); every call below takes either. */
#ifndef YOUR_AI_MODEL_H
#define YOUR_AI_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "your_ai/config.h"
#include "your_ai/device.h"
#include "your_ai/error.h"
#include "your_ai/safetensors.h"

/* One decoder block's tensors (NULL for an absent optional bias). */
typedef struct YaLlamaLayer {
    const YaTensorInfo *input_norm;          // [h]
    const YaTensorInfo *wq, *wk, *wv, *wo;   // [n_h*d, h], [n_kv*d, h], [n_kv*d, h], [h, n_h*d]
    const YaTensorInfo *bq, *bk, *bv, *bo;   // [n_h*d], [n_kv*d], [n_kv*d], [h]
    const YaTensorInfo *post_norm;           // [h]
    const YaTensorInfo *w_gate, *w_up, *w_down; // [f, h], [f, h], [h, f]
    const YaTensorInfo *b_gate, *b_up, *b_down; // [f], [f], [h]
} YaLlamaLayer;

/* The LoRA factors of one projection while an adapter is attached (adapter.h):
 * the forward adds scale·B(A·x). A == NULL: that projection is not adapted. */
typedef struct YaLoraFactors {
    const float *A; // [r, in]
    const float *B; // [out, r]
} YaLoraFactors;

struct YaAdapter;

typedef struct YaModel {
    YaModelConfig cfg;
    YaWeights *weights;
    const YaTensorInfo *embed;   // [V, h]
    const YaTensorInfo *norm;    // [h]
    const YaTensorInfo *lm_head; // [V, h]; == embed when tie_word_embeddings
    YaLlamaLayer *layers;        // [L]
    size_t max_matrix_numel;     /* largest weight matrix: sizes the conversion scratch */
    char dir[4096];
    /* Attached adapter (ya_model_set_adapter, adapter.h), or NULL. The forward
     * reads only the table below, so the graph does not depend on the loader. */
    const struct YaAdapter *adapter;
    const YaLoraFactors *lora;   // [L * YA_LORA_TARGET_COUNT] (layer-major, YaLoraTarget order) or NULL
    int lora_rank;               /* r */
    float lora_scale;            /* alpha / r */
} YaModel;

/* Loads config.json (+ generation_config.json eos ids) and the weights of a
 * model directory, and checks every required tensor's presence and shape
 * (SPEC §6.3). A missing tensor or a wrong shape is an error naming it;
 * unexpected tensors are warned about (…rotary_emb.inv_freq silently ignored).
 * Nothing is converted or copied: this is cheap even for an 8B model. */
int ya_model_open(const char *model_dir, YaModel **out, YaError *err);
void ya_model_free(YaModel *m);

/* An inference session: KV cache for up to max_ctx positions plus activation
 * scratch for chunks of up to max_chunk tokens per forward step. */
typedef struct YaInferState YaInferState;
int ya_infer_state_new(const YaModel *m, int max_ctx, int max_chunk, YaInferState **out, YaError *err);
/* The same on a chosen device: YA_DEVICE_CPU is ya_infer_state_new; YA_DEVICE_CUDA
 * uploads the weights to GPU `gpu` as bf16 (with the adapter attached now merged
 * in; attaching another one later makes the next forward at position 0 upload
 * again) and keeps a bf16 KV cache there (llama_cuda_infer.c, docs/CUDA.md
 * "Inference"). Every function below works on either kind of state. Without the
 * CUDA backend in the build, YA_DEVICE_CUDA fails with a message saying so. */
int ya_infer_state_new_on(const YaModel *m, YaDevice dev, int gpu, int max_ctx, int max_chunk, YaInferState **out,
                          YaError *err);
/* The device a state computes on. */
YaDevice ya_infer_state_device(const YaInferState *s);
void ya_infer_state_free(YaInferState *s);
/* Forgets the cached positions (the next forward starts at position 0). */
void ya_infer_state_reset(YaInferState *s);
/* Number of positions in the KV cache. */
int ya_infer_state_pos(const YaInferState *s);
/* Positions the KV cache can hold (max_ctx). */
int ya_infer_state_capacity(const YaInferState *s);

/* Runs tokens[0..T) at positions pos … pos+T−1 (pos = ya_infer_state_pos),
 * appending their keys/values to the cache (long inputs are processed in
 * chunks of max_chunk). logits receives [T, V] when all_positions is nonzero,
 * otherwise only the last position's [V]. Token ids must be < V and the
 * cache must have room: both are checked and reported. */
int ya_model_forward(const YaModel *m, YaInferState *s, const int32_t *tokens, int T, int all_positions,
                     float *logits, YaError *err);

#endif

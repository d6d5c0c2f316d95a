/* llama_cuda.h — the Llama model resident on one GPU: every weight uploaded
 * once as bf16 (converted on the device from its stored dtype), the RoPE
 * tables, and the CUDA context (stream, cuBLASLt, the one device arena) that
 * the inference graph (llama_cuda_infer.c) and the training graph
 * (llama_train_cuda.c) run on.
 *
 * Why a separate graph file per device instead of one graph over both tables:
 * the CUDA op table (cuda_ops.h) takes a context and bf16 activations, so the
 * Llama graph exists twice, with the same layer order, the same op per step
 * and the same slot layout; docs/CUDA.md keeps the correspondence.
 *
 * Built only with the CUDA backend (YA_HAVE_CUDA); without it every entry
 * fails with "this build has no CUDA backend". */
#ifndef YOUR_AI_LLAMA_CUDA_H
#define YOUR_AI_LLAMA_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include "model/model_slots.h"
#include "your_ai/error.h"
#include "your_ai/lora.h" /* defines: YA_LORA_TARGET_COUNT, YaLoraTarget order q k v o gate up down */
#include "your_ai/model.h"

#ifdef YA_HAVE_CUDA
#include "backend/cuda/cuda_ops.h"
#else
typedef struct YaCudaCtx YaCudaCtx;
typedef struct YaCudaOps YaCudaOps;
typedef uint16_t YaBf16;
#endif

/* Weight slots: model_slots.h's numbering (the training graphs' too), under
 * the names this file's users know. */
enum {
    YA_CW_PROJ0 = 0,                  /* projection p: slot p */
    YA_CW_BIAS0 = YA_SLOT_BIAS0,      /* bias of projection p: YA_CW_BIAS0 + p */
    YA_CW_NORM1 = YA_SLOT_NORM1,      /* input_layernorm */
    YA_CW_NORM2 = YA_SLOT_NORM2,      /* post_attention_layernorm */
    YA_CW_LAYER_SLOTS = YA_SLOTS_PER_LAYER
};
enum { YA_CW_EMBED = YA_SLOT_EMBED, YA_CW_NORM = YA_SLOT_NORM, YA_CW_LM_HEAD = YA_SLOT_LM_HEAD, YA_CW_GLOBAL_SLOTS = YA_SLOTS_GLOBAL };

typedef struct YaCudaModel {
    const YaModel *model;        /* the mmap'd host model (config, tensor infos) */
    YaCudaCtx *ctx;              /* owned */
    const YaCudaOps *ops;
    int L, h, f, n_h, n_kv, d, qd, kvd, V;
    /* Device bf16 copies, slot-indexed: [L·YA_CW_LAYER_SLOTS + YA_CW_GLOBAL_SLOTS];
     * NULL where the model has no such tensor (biases). Layer l slot s is
     * w[l·YA_CW_LAYER_SLOTS + s]; globals follow the layers. A tied model's
     * lm_head slot points at the embedding's buffer. */
    YaBf16 **w;
    float *rope_cos, *rope_sin;  /* device [max_pos, d/2] each (ya_rope_inv_freq, as the CPU graphs) */
    int max_pos;
    size_t weight_bytes;         /* device bytes of the bf16 weights */
} YaCudaModel;

/* Slot helpers (host code). */
static inline int ya_cw_layer(int l, int s) { return l * YA_CW_LAYER_SLOTS + s; }
static inline int ya_cw_global(const YaCudaModel *cm, int g) { return cm->L * YA_CW_LAYER_SLOTS + g; }

/* Device bytes ya_cuda_model_new will take for the weights and RoPE tables of
 * m with max_pos positions (the caller adds its own activations to size the arena). */
size_t ya_cuda_model_bytes(const YaModel *m, int max_pos);

/* Opens GPU `device` (< 0: 0) with one arena of ya_cuda_model_bytes(m, max_pos)
 * + extra_bytes, uploads every weight of m as bf16 (stored BF16 copied, F16/F32
 * converted on the device), applies m->lora (an --adapter) by merging
 * W += scale·B·A in fp32 before the bf16 rounding, and builds the RoPE tables.
 * extra_bytes stay free in the arena for the caller's buffers (ya_cuda_alloc).
 * Errors: no GPU, too little memory (bytes asked / free, a suggestion),
 * unsupported dtype — each naming the tensor where one is involved. */
int ya_cuda_model_new(const YaModel *m, int device, int max_pos, size_t extra_bytes, YaCudaModel **out,
                      YaError *err);
void ya_cuda_model_free(YaCudaModel *cm);

#endif

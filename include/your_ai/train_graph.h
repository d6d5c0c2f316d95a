/* train_graph.h — the training pass of the Llama graph: forward over a batch
 * keeping what the backward needs, the fused lm_head + masked cross-entropy,
 * and the backward into LoRA gradients (SPEC §7) or, for `--train full`,
 * into every weight of the model (fp32 copies).
 *
 * A YaTrainGraph is sized ONCE from the model config, the largest batch
 * (rows × sequence length), the trainable set and the recompute policy
 * (DESIGN: one allocation per lifetime); a step allocates nothing. The frozen
 * base stays in its stored dtype and is converted one matrix at a time into a
 * scratch buffer (never the whole model). docs/TRAINING.md has the saved
 * activations and the memory of each mode. */
#ifndef YOUR_AI_TRAIN_GRAPH_H
#define YOUR_AI_TRAIN_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "your_ai/device.h"
#include "your_ai/error.h"
#include "your_ai/lora.h"
#include "your_ai/model.h"
#include "your_ai/optimizer.h"

typedef enum YaTrainKind { YA_TRAIN_LORA = 0, YA_TRAIN_FULL = 1 } YaTrainKind;

/* --recompute (gradient checkpointing):
 *   none  — keep every layer's activations (fastest, most memory);
 *   attn  — keep everything but the [n_h, T, T] softmax probabilities, recomputed per layer in backward;
 *   layer — keep only each layer's input; the layer's forward is rerun during its backward.
 * All three give bit-identical gradients (the same ops in the same order). */
typedef enum YaRecompute { YA_RECOMPUTE_NONE = 0, YA_RECOMPUTE_ATTN = 1, YA_RECOMPUTE_LAYER = 2 } YaRecompute;

/* "lora" | "full" and "none" | "attn" | "layer" (YA_ERR_USAGE naming the flag otherwise). */
int ya_train_kind_parse(const char *s, YaTrainKind *out, YaError *err);
int ya_recompute_parse(const char *s, YaRecompute *out, YaError *err);
const char *ya_recompute_name(YaRecompute r);

/* --matmul (CPU graph): the precision of the GEMMs with a frozen base weight.
 *   fp32 — everything fp32 (the specification);
 *   bf16 — y = x·Wᵀ, dx = dy·W of every frozen projection and the lm_head's
 *          logits and dx GEMMs take bf16(x) × W in bf16 with fp32 accumulation
 *          (oneDNN: AMX / AVX512-BF16); LoRA factors, their GEMMs, attention,
 *          norms, the loss and every gradient stay fp32. LoRA only; the base is
 *          read as stored when bf16, rounded to bf16 per use otherwise. */
typedef enum YaMatmul { YA_MATMUL_FP32 = 0, YA_MATMUL_BF16 = 1 } YaMatmul;

typedef struct YaTrainGraphConfig {
    int max_rows;          /* B: rows of the largest micro-batch */
    int max_seq;           /* T: its longest row */
    YaTrainKind kind;
    YaRecompute recompute;
    int ce_chunk;          /* vocabulary rows per cross-entropy chunk (≤ 0: 4096) */
    YaDevice device;       /* CPU (fp32, the specification) or CUDA (bf16 activations, fp32 trainables; docs/CUDA.md) */
    int gpu;               /* CUDA device index (--device cuda) */
    YaMatmul matmul;       /* CPU: frozen-weight GEMM precision (--matmul; 0 = fp32) */
} YaTrainGraphConfig;

/* One trainable fp32 tensor of full fine-tuning, under its HF name. */
typedef struct YaFullTensor {
    char name[96];
    size_t off;        /* in floats, into the flat buffers */
    size_t numel;
    int ndim;
    int64_t shape[2];
} YaFullTensor;

/* The full fine-tuning parameter set: like YaLoraSet, four flat [n_params]
 * fp32 arrays from one allocation (params, grads, AdamW m, v). A tied model
 * has no lm_head entry: the embedding gets both gradients. */
typedef struct YaFullParams {
    size_t n_tensors;
    YaFullTensor *t;
    size_t n_params;
    float *params, *grads, *m, *v;
    void *base;
} YaFullParams;

typedef struct YaTrainGraph YaTrainGraph;

/* kind LORA: lora must be a created, allocated LoRA set (its params are read
 * and its grads written; the graph does not own it; dropout must be 0).
 * kind FULL: lora is NULL; the graph copies every weight of m into its own
 * fp32 YaFullParams. The model must outlive the graph. */
int ya_train_graph_new(const YaModel *m, YaLoraSet *lora, const YaTrainGraphConfig *cfg, YaTrainGraph **out,
                       YaError *err);
void ya_train_graph_free(YaTrainGraph *g);

/* The trainable flat buffers (LoRA set or full params), n floats each, in
 * host memory. On the GPU the live copies are on the device: the host ones
 * are current only after ya_train_graph_pull, and host edits (resume, init)
 * reach the device only through ya_train_graph_push. */
void ya_train_graph_buffers(YaTrainGraph *g, float **params, float **grads, float **m, float **v, size_t *n);
/* Device → host copy of params and AdamW moments (CPU: nothing to do). */
int ya_train_graph_pull(YaTrainGraph *g, YaError *err);
/* Host → device copy of params and moments (CPU: nothing to do). */
int ya_train_graph_push(YaTrainGraph *g, YaError *err);
/* Zeroes the trainable gradients where they live. */
void ya_train_graph_grads_zero(YaTrainGraph *g);
/* GPU graphs only (the CPU ones run ya_clip_grad_norm + ya_adamw_step on
 * their host buffers, train_step.c): global-norm clipping (max_norm ≤ 0:
 * none) then one AdamW update t ≥ 1 at learning rate lr on the device, with
 * optimizer.c's arithmetic; *norm = the pre-clip norm. A non-finite norm
 * leaves the parameters unchanged (*norm tells). */
int ya_train_graph_device_update(YaTrainGraph *g, const YaAdamWConfig *adamw, long long t, double lr,
                                 double max_norm, double *norm, YaError *err);
/* The device the graph runs on, and (CUDA) the bytes of its device arena —
 * weights, activations, trainables: everything it ever allocates there. */
YaDevice ya_train_graph_device(const YaTrainGraph *g);
size_t ya_train_graph_device_bytes(const YaTrainGraph *g);
/* The largest micro-batch the graph was sized for. */
void ya_train_graph_shape(const YaTrainGraph *g, int *max_rows, int *max_seq);
/* NULL in LoRA mode. */
const YaFullParams *ya_train_graph_full(const YaTrainGraph *g);
/* Bytes of the graph's own buffers (activations, gradients scratch, full params). */
size_t ya_train_graph_bytes(const YaTrainGraph *g);

/* LoRA dropout (lora cfg.dropout > 0): enabled = 1 applies it on the next
 * runs with masks drawn from streams (seed, "lora-dropout:<counter>:<layer>:
 * <projection>:<row>") — the trainer passes counter = update·G + micro-batch,
 * so masks are reproducible and resumable; enabled = 0 (evaluation) turns it
 * off. Off until called. */
void ya_train_graph_set_dropout(YaTrainGraph *g, int enabled, uint64_t seed, uint64_t counter);

/* One micro-batch: ids [B, T] (rows of one document each, plain causal
 * attention from position 0 over the whole row), targets [B, T] (row t predicts targets[t]; read
 * only where weight ≠ 0), weight [B, T] per-row CE weights (loss_modes.h).
 * Runs the forward, returns Σ weight·nll in *loss_sum, writes nll [B, T] when
 * non-NULL (0 on rows of weight 0), and when `backward` is nonzero ACCUMULATES
 * the gradients into the trainable grads (the caller zeroes them per update).
 * Ids outside [0, V), B > max_rows or T > max_seq are usage errors. */
int ya_train_graph_run(YaTrainGraph *g, const int32_t *ids, const int32_t *targets, const float *weight, int B,
                       int T, int backward, double *loss_sum, float *nll, YaError *err);

/* One document inside a row: tokens [start, start+len) of row `row`. */
typedef struct YaTrainSegment {
    int row, start, len;
} YaTrainSegment;

/* The same with explicit documents (packed rows, or pad rows limited to their
 * length): each segment attends causally only inside itself, with RoPE
 * positions 0 … len−1; tokens outside every segment are padding (weight 0).
 * Segments must be ordered by (row, start) and must not overlap. ya_train_graph_run
 * is this with one segment per row covering all T tokens. */
int ya_train_graph_run_segments(YaTrainGraph *g, const int32_t *ids, const int32_t *targets, const float *weight,
                                int B, int T, const YaTrainSegment *segs, int n_segs, int backward, double *loss_sum,
                                float *nll, YaError *err);

#endif

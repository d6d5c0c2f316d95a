/* optimizer.h — AdamW over flat F32 buffers, global-norm gradient clipping and
 * the few gradient-accumulation helpers the trainer needs (SPEC §8).
 *
 * The optimizer holds no buffers of its own: parameters, gradients and the two
 * moments are the flat arrays of the LoRA set (lora.h), so a checkpoint, an
 * all-reduce or a memory plan sees exactly four arrays of n floats. Every
 * function is OpenMP-parallel and bitwise deterministic: element-wise updates
 * do not depend on the thread split, and the norm is summed in double over a
 * fixed partition in a fixed order. */
#ifndef YOUR_AI_OPTIMIZER_H
#define YOUR_AI_OPTIMIZER_H

#include <stddef.h>

#include "your_ai/error.h"

typedef enum YaOptimizerKind {
    YA_OPT_ADAMW = 0,     /* "adamw": bias-corrected, torch.optim.AdamW semantics [ours, default] */
    YA_OPT_ADAMW_MLX = 1, /* "adamw-mlx": no bias correction, mlx.optimizers.AdamW [ref parity] */
} YaOptimizerKind;

typedef struct YaAdamWConfig {
    YaOptimizerKind kind;
    double beta1;        /* 0.9 */
    double beta2;        /* 0.999 */
    double eps;          /* 1e-8 */
    double weight_decay; /* 0.01, decoupled, applied to every LoRA parameter */
} YaAdamWConfig;

/* SPEC §8 defaults: adamw, β 0.9/0.999, eps 1e-8, wd 0.01. */
void ya_adamw_defaults(YaAdamWConfig *cfg);

/* Parses --optimizer: "adamw" | "adamw-mlx" (YA_ERR_USAGE otherwise). */
int ya_optimizer_parse(const char *name, YaOptimizerKind *out, YaError *err);
const char *ya_optimizer_name(YaOptimizerKind kind);

/* One AdamW update, t = 1, 2, … (the update count after this one), in the
 * SPEC §8 order:
 *   1. p ← p·(1 − lr·wd)
 *   2. m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *   3. p ← p − lr·m̂/(√v̂ + eps), m̂ = m/(1−β1^t), v̂ = v/(1−β2^t)
 *      (adamw-mlx: m̂ = m, v̂ = v).
 * Step 3 is evaluated as torch does: p − (lr/(1−β1^t))·m/(√v/√(1−β2^t) + eps).
 * p, g, m, v: [n]. */
void ya_adamw_step(const YaAdamWConfig *cfg, long long t, double lr, float *p, const float *g, float *m, float *v,
                   size_t n);

/* √(Σ g²) accumulated in double over a fixed partition of [0, n) and summed in
 * a fixed order: the same bits for any thread count. NaN/Inf propagate. */
double ya_grad_global_norm(const float *g, size_t n);

/* Global-norm clipping (SPEC §8): computes g_norm; if max_norm > 0 and
 * g_norm ≥ max_norm, scales g by max_norm/(g_norm + 1e-6). Returns the
 * pre-clip norm (to log; non-finite means the step must be abandoned, and g is
 * then left untouched). max_norm ≤ 0 disables clipping. */
double ya_clip_grad_norm(float *g, size_t n, double max_norm);

/* Gradient accumulation: g ← 0; acc ← acc + g; g ← g·s. */
void ya_grad_zero(float *g, size_t n);
void ya_grad_accumulate(float *acc, const float *g, size_t n);
void ya_grad_scale(float *g, size_t n, float s);

#endif

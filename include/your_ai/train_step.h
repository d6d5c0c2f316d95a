/* train_step.h — one optimizer update (SPEC §8): G micro-batches run through
 * the training graph with their gradients accumulated, the loss mode's row
 * weights (loss_modes.h) set per update so the result does not depend on the
 * split, then global-norm clipping, the scheduled learning rate and AdamW on
 * the trainable flat buffers (LoRA or full). Returns the logged metrics. */
#ifndef YOUR_AI_TRAIN_STEP_H
#define YOUR_AI_TRAIN_STEP_H

#include <stddef.h>

#include "your_ai/data.h"
#include "your_ai/error.h"
#include "your_ai/loss_modes.h"
#include "your_ai/optimizer.h"
#include "your_ai/schedule.h"
#include "your_ai/train_graph.h"

typedef struct YaTrainStepConfig {
    YaAdamWConfig adamw;
    double max_grad_norm; /* ≤ 0 disables clipping */
    YaLrSchedule schedule;
    YaLossConfig loss;
    uint64_t seed;        /* LoRA dropout masks (SPEC §8: --seed, 42, for everything) */
} YaTrainStepConfig;

typedef struct YaStepMetrics {
    double total;     /* the logged loss of the mode (ya_loss_totals) */
    double ce;        /* unweighted token-mean CE over the update */
    double wce;       /* the objective that was differentiated */
    double distrust;  /* mean ℓ_i (0 in off mode) */
    double grad_norm; /* pre-clip global norm */
    double lr;
    double omega_min, omega_mean, omega_max;
    size_t tokens, sup_tokens, samples;
    int clipped;
} YaStepMetrics;

typedef struct YaTrainStep YaTrainStep;

/* Scratch for updates of up to max_micro micro-batches of ≤ max_rows × max_seq
 * (the graph's shape), sized once. The graph must outlive it. */
int ya_train_step_new(YaTrainGraph *g, const YaTrainStepConfig *cfg, int max_micro, YaTrainStep **out, YaError *err);
void ya_train_step_free(YaTrainStep *s);

/* Zeroes the gradients, then runs mbs[0..G) (pad-mode batches: one document
 * per row) accumulating Σ_k ∂(micro-batch k's weighted CE) — exactly the
 * gradient of the update's objective. Fills every metric but grad_norm, lr,
 * clipped. `running`: the weighted mode's running statistics (may be NULL
 * unless --weight-stats running). No parameter changes. */
int ya_train_step_grads(YaTrainStep *s, YaDistrustRunning *running, const YaBatch *const *mbs, int G,
                        YaStepMetrics *m, YaError *err);
/* The update index the next ya_train_step_grads call draws its dropout masks
 * for (ya_train_step sets it; 0 initially). */
void ya_train_step_set_update(YaTrainStep *s, long long u);

/* One full update u (0-based; AdamW t = u + 1, lr = schedule(u)): grads,
 * clip, AdamW. A non-finite loss or gradient norm is an error naming the
 * update as u + 1 (the step number the logs and checkpoints use), and leaves
 * the parameters untouched. */
int ya_train_step(YaTrainStep *s, long long u, YaDistrustRunning *running, const YaBatch *const *mbs, int G,
                  YaStepMetrics *m, YaError *err);

#endif

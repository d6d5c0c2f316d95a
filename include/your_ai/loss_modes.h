/* loss_modes.h — the per-row cross-entropy weights of the three
 * --distrust-mode settings (SPEC §3.3) and the numbers logged per update.
 *
 * The training graph's fused CE takes a weight per row (position); every loss
 * mode is just a choice of those weights over ONE optimizer update (all its
 * micro-batches), so accumulation is exact by construction. With s_i the
 * sample weight of sample i (a record's "weight"/"loss_weight", 1 when absent;
 * s_i acts as s_i copies of the sample in the update):
 *   off / additive: s_i/Σ_j s_j·n_j         (token-pooled CE; 1/N_tokens when every s = 1)
 *   weighted:       s_i·ω_i/(n_i·Σ_j s_j)   (Σ_i s_i·ω_i·CE_i / Σ_i s_i; N_step when every s = 1)
 *   weighted + --weight-norm batch: s_i·ω_i/(n_i·Σ_j s_j·ω_j)
 * The distrust statistics (ℓ, μ, c, running sums, the logged mean ℓ) stay
 * per sample, unweighted: s_i scales a sample's share of the loss, nothing else.
 * The additive term λ·mean ℓ never touches a weight or a gradient: it is
 * computed here on the host, in double, and only added to the logged total. */
#ifndef YOUR_AI_LOSS_MODES_H
#define YOUR_AI_LOSS_MODES_H

#include <stddef.h>

#include "your_ai/data.h"
#include "your_ai/distrust.h"
#include "your_ai/error.h"

typedef enum YaDistrustMode { YA_DISTRUST_OFF = 0, YA_DISTRUST_ADDITIVE = 1, YA_DISTRUST_WEIGHTED = 2 } YaDistrustMode;
typedef enum YaWeightStats { YA_WEIGHT_STATS_DATASET = 0, YA_WEIGHT_STATS_RUNNING = 1 } YaWeightStats;

/* "off" | "additive" | "weighted" (YA_ERR_USAGE naming --distrust-mode otherwise). */
int ya_distrust_mode_parse(const char *s, YaDistrustMode *out, YaError *err);
const char *ya_distrust_mode_name(YaDistrustMode m);

typedef struct YaLossConfig {
    YaDistrustMode mode;
    YaDistrustWeightParams wp; /* α (--alpha), λ (--lambda), w_min, w_max */
    YaWeightStats stats;       /* --weight-stats dataset|running (weighted mode) */
    double mu, c;              /* dataset statistics: mean d and mean r (from ya_distrust_dataset_weights) */
    int weight_norm_batch;     /* --weight-norm batch: divide by Σω of the update instead of N_step */
} YaLossConfig;

/* Defaults: weighted, α 2.7, λ 0.6, w_min 0.05, w_max 20, dataset statistics (mu/c 0: set them). */
void ya_loss_config_defaults(YaLossConfig *c);
/* λ ∈ [0,1] and α ∈ [2.3,3] for the weighted mode, α for additive (λ ≥ 0). */
int ya_loss_config_check(const YaLossConfig *c, YaError *err);

/* What one optimizer update's loss is built from. omega points into the
 * caller's storage (micro-batch order, then sample order). */
typedef struct YaLossPlan {
    size_t n_sup;          /* supervised targets over the update */
    size_t n_tokens;       /* non-padding tokens */
    size_t n_samples;      /* N_step */
    double sum_weight;     /* Σ s_i (sample weights) */
    double weighted_sup;   /* Σ s_i·n_i */
    double sum_weighted_omega; /* Σ s_i·ω_i */
    int uniform_weight;    /* every s_i = 1 (the loss is then exactly the unweighted one) */
    double sum_omega;
    double omega_min, omega_max;
    double distrust_mean;  /* mean ℓ_i over the update's samples (0 in off mode) */
    double *omega;         /* [n_samples] ω_i (1 unless weighted) */
} YaLossPlan;

/* Validates every sample's (w, H) in the distrust modes, computes ℓ_i and ω_i
 * (running statistics: updates *running with this update's samples first, as
 * SPEC §3.3 b step 2 says) and the update's counts. A sample with no
 * supervised target, a sample weight that is negative or not finite, and an
 * update whose weights are all 0 are errors (the loader drops weight-0 samples
 * and samples without a target). running may be NULL
 * unless the statistics are running. */
/* storage: ≥ 2·Σ n_samples doubles (ω, then ℓ as scratch). */
int ya_loss_plan(const YaLossConfig *c, YaDistrustRunning *running, const YaBatch *const *mbs, int G,
                 double *storage, YaLossPlan *plan, YaError *err);

/* Row weights [B·T] of micro-batch k of the plan (row stride mb->T); zero
 * where the batch has no target. */
void ya_loss_row_weights(const YaLossConfig *c, const YaLossPlan *plan, const YaBatch *const *mbs, int k,
                         float *weight);

/* The logged numbers of an update from its summed Σ weight·nll (wsum) and
 * Σ nll over supervised rows (nll_sum):
 *   ce = nll_sum/n_sup (unweighted); wce = wsum (the objective); distrust = mean ℓ;
 *   total = ce (off), ce + λ·distrust (additive), wce (weighted) — with sample
 *   weights other than 1, off/additive use wce (the weighted token mean) for ce. */
void ya_loss_totals(const YaLossConfig *c, const YaLossPlan *plan, double wsum, double nll_sum, double *total,
                    double *ce, double *wce, double *distrust);

#endif

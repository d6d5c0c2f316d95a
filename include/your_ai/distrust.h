/* distrust.h — the Empirical Distrust loss (SPEC §2), its diagnostics, the
 * reference λ auto-calibration (§3.4) and the per-sample weight math of the
 * `weighted` training mode (§3.3 b).
 *
 * Everything here is plain double-precision host math: the loss is a function
 * of two data fields per document (w = auth_weight, H = prov_entropy), never of
 * model parameters, so it never needs a device kernel (see docs/DISTRUST.md for
 * the float32 note). Every form validates every element. */
#ifndef YOUR_AI_DISTRUST_H
#define YOUR_AI_DISTRUST_H

#include <stddef.h>
#include <stdint.h>

#include "your_ai/error.h"

#define YA_DISTRUST_EPSILON 1e-8
#define YA_DISTRUST_ALPHA_DEFAULT 2.7
#define YA_DISTRUST_ALPHA_MIN 2.3
#define YA_DISTRUST_ALPHA_MAX 3.0
#define YA_DISTRUST_AUTH_MAX 0.99
#define YA_DISTRUST_LAMBDA_DEFAULT 0.6

/* Symbolic validation results (SPEC §2.2). YA_DISTRUST_OK is 0. */
typedef enum {
    YA_DISTRUST_OK = 0,
    YA_E_AUTH_RANGE,    /* w < 0, w > 0.99 or not finite */
    YA_E_ENTROPY_RANGE, /* H < 0 or not finite */
    YA_E_ALPHA_RANGE,   /* α outside [2.3, 3.0] or not finite */
    YA_E_BATCH_SHAPE,   /* n = 0 or len(w) != len(H) */
    YA_E_REDUCTION,     /* reduction not mean/sum/none */
} YaDistrustCode;

/* "E_AUTH_RANGE", ... ("OK" for 0). */
const char *ya_distrust_code_name(YaDistrustCode code);

typedef enum { YA_REDUCE_MEAN = 0, YA_REDUCE_SUM = 1, YA_REDUCE_NONE = 2 } YaReduction;

/* "mean" | "sum" | "none" → *out; anything else is E_REDUCTION with the
 * reference's message "Unknown reduction: X. Use 'mean', 'sum', or 'none'." */
YaDistrustCode ya_distrust_reduction_parse(const char *s, YaReduction *out, YaError *err);

/* Each check returns YA_DISTRUST_OK or its code, and on failure fills err
 * (err->code = YA_ERR) with the reference's message, e.g.
 * "authority_weight must be in range [0.0, 0.99], got 1.5". */
YaDistrustCode ya_distrust_check_auth(double w, YaError *err);
YaDistrustCode ya_distrust_check_entropy(double h, YaError *err);
YaDistrustCode ya_distrust_check_alpha(double alpha, YaError *err);

/* c(w,H) = ln(1 − w + ε) + H. No validation (callers validated). */
double ya_distrust_component(double w, double h);

/* Scalar form: ℓ = α·c². Validates w, H and α. */
YaDistrustCode ya_distrust_loss(double w, double h, double alpha, double *out, YaError *err);

/* Array form (Roemmele's α·‖c‖²): L = α·Σ_k c_k², summed in index order.
 * Validates every element (message prefixed "element k: ") and α; n = 0 is E_BATCH_SHAPE. */
YaDistrustCode ya_distrust_loss_array(const double *w, const double *h, size_t n, double alpha, double *out,
                                      YaError *err);

/* Batch form: ℓ_i per sample, reduced. For MEAN/SUM out[0] receives the value;
 * for NONE out[0..n-1] receives the vector. n_w != n_h or n = 0 is E_BATCH_SHAPE
 * ("Batch size mismatch: authority_weights has 3 samples but provenance_entropies has 2").
 * The first bad element is reported by index: "authority_weights[2]: authority_weight must be ...". */
YaDistrustCode ya_distrust_loss_batch(const double *w, size_t n_w, const double *h, size_t n_h, double alpha,
                                      YaReduction reduction, double *out, YaError *err);

/* validate_inputs (SPEC §2.3): writes the newline-joined diagnostic lines into
 * msg (always NUL-terminated) and returns is_valid (1/0). */
int ya_distrust_validate_inputs(double w, double h, char *msg, size_t msg_cap);

/* ---- §3.4 reference λ auto-calibration --------------------------------------
 * Reads the first 100 lines of a JSONL file (unparseable lines count toward
 * the 100 and are skipped; missing auth_weight/prov_entropy default to 0.5/5.0),
 * comp = −mean(w) + mean(H) + 1e-8, λ = clamp(5/(2.7·comp²), 0.001, 1.0);
 * 0.6 if no line could be used. *n_used (optional) receives the lines used. */
int ya_distrust_auto_lambda(const char *jsonl_path, double *lambda, size_t *n_used, YaError *err);
/* The same formula on precomputed means (n = 0 → 0.6). */
double ya_distrust_auto_lambda_from_means(double mean_w, double mean_h, size_t n);

/* ---- §3.3(b) weighted-mode math ----------------------------------------------
 * d_i = ℓ(w_i,H_i;α) ≥ 0; μ = mean d (dataset pre-pass, or the running
 * cumulative mean); r_i = clip(d_i/μ, w_min, w_max) (1 when μ = 0);
 * c = mean r over the same population; ŵ_i = r_i/c; ω_i = (1−λ) + λ·ŵ_i.
 * Sums are plain double accumulations in sample order, so results are
 * deterministic and the running state is checkpointable as four numbers. */
#define YA_DISTRUST_W_MIN_DEFAULT 0.05
#define YA_DISTRUST_W_MAX_DEFAULT 20.0

typedef struct YaDistrustWeightParams {
    double alpha;  /* [2.3, 3.0] */
    double lambda; /* [0, 1] in weighted mode */
    double w_min;  /* clip floor of d/μ (default 0.05) */
    double w_max;  /* clip ceiling of d/μ (default 20) */
} YaDistrustWeightParams;

/* Defaults: α 2.7, λ 0.6, w_min 0.05, w_max 20. */
YaDistrustWeightParams ya_distrust_weight_params_default(void);
/* Checks α ∈ [2.3,3], λ ∈ [0,1], 0 < w_min <= w_max, all finite (err->code = YA_ERR_USAGE). */
int ya_distrust_weight_params_check(const YaDistrustWeightParams *p, YaError *err);

/* Normaliser statistics: μ = sum_d/n. For "running" mode the trainer feeds
 * every consumed sample's d; the struct is the whole state to checkpoint. */
typedef struct YaDistrustNormStats {
    uint64_t n;    /* samples accumulated */
    double sum_d;  /* Σ d_i */
} YaDistrustNormStats;

void ya_distrust_norm_add(YaDistrustNormStats *st, double d);
/* μ (0 when n = 0). */
double ya_distrust_norm_mu(const YaDistrustNormStats *st);

/* r = clip(d/μ, w_min, w_max); 1 when μ = 0. */
double ya_distrust_ratio(double d, double mu, double w_min, double w_max);
/* ω = (1−λ) + λ·ŵ. Exactly 1.0 when λ = 0. */
double ya_distrust_omega(double w_hat, double lambda);

/* Dataset mode in one call: from n validated (w, H) pairs computes d, μ, r, c,
 * and fills omega[i] (and w_hat[i] when non-NULL). Validates every element. */
YaDistrustCode ya_distrust_dataset_weights(const double *w, const double *h, size_t n,
                                           const YaDistrustWeightParams *p, double *w_hat, double *omega,
                                           double *mu_out, double *c_out, YaError *err);

/* Running mode state: μ is the cumulative mean of d over every sample consumed
 * up to and including the current optimizer update; c is the cumulative mean
 * of r over the same samples (each r computed with the μ of its update).
 * Checkpoint the three fields; resuming with them reproduces every ω. */
typedef struct YaDistrustRunning {
    uint64_t n;    /* samples consumed */
    double sum_d;  /* Σ d over consumed samples */
    double sum_r;  /* Σ r over consumed samples */
} YaDistrustRunning;

/* Consumes the n samples of one optimizer update (d[i] = ℓ_i ≥ 0): first adds
 * every d to μ, then computes each r with that μ, adds them to c, and writes
 * omega[i] (and w_hat[i] when non-NULL) with the updated c. */
void ya_distrust_running_update(YaDistrustRunning *st, const double *d, size_t n, const YaDistrustWeightParams *p,
                                double *w_hat, double *omega);

#endif

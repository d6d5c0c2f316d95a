/* distrust_loss.c — the Empirical Distrust loss (SPEC §2), validate_inputs
 * diagnostics (§2.3), the reference λ auto-calibration (§3.4) and the
 * weighted-mode per-sample weights (§3.3 b).
 *
 * All in double on the host: w and H are data, not parameters, so nothing here
 * ever feeds a gradient except through the ω weights of the weighted mode.
 * Messages follow the Python reference word for word, with numbers printed as
 * Python's repr(float) so the two can be diffed. */
#include "your_ai/distrust.h"
#include "your_ai/jsonl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/fileio.h" /* defines: ya_fopen_input */
#include "your_ai/json.h"

const char *ya_distrust_code_name(YaDistrustCode code) {
    switch (code) {
    case YA_DISTRUST_OK: return "OK";
    case YA_E_AUTH_RANGE: return "E_AUTH_RANGE";
    case YA_E_ENTROPY_RANGE: return "E_ENTROPY_RANGE";
    case YA_E_ALPHA_RANGE: return "E_ALPHA_RANGE";
    case YA_E_BATCH_SHAPE: return "E_BATCH_SHAPE";
    case YA_E_REDUCTION: return "E_REDUCTION";
    }
    return "E_UNKNOWN";
}

YaDistrustCode ya_distrust_reduction_parse(const char *s, YaReduction *out, YaError *err) {
    if (strcmp(s, "mean") == 0) *out = YA_REDUCE_MEAN;
    else if (strcmp(s, "sum") == 0) *out = YA_REDUCE_SUM;
    else if (strcmp(s, "none") == 0) *out = YA_REDUCE_NONE;
    else {
        ya_fail(err, YA_ERR, "Unknown reduction: %s. Use 'mean', 'sum', or 'none'.", s);
        return YA_E_REDUCTION;
    }
    return YA_DISTRUST_OK;
}

/* Inclusive bounds (§2.2); the negated form also rejects NaN. */
static int auth_ok(double w) { return w >= 0.0 && w <= YA_DISTRUST_AUTH_MAX; }
static int entropy_ok(double h) { return h >= 0.0 && isfinite(h); }
static int alpha_ok(double a) { return a >= YA_DISTRUST_ALPHA_MIN && a <= YA_DISTRUST_ALPHA_MAX; }

YaDistrustCode ya_distrust_check_auth(double w, YaError *err) {
    if (auth_ok(w)) return YA_DISTRUST_OK;
    char b[32];
    ya_fail(err, YA_ERR, "authority_weight must be in range [0.0, 0.99], got %s", ya_format_double_repr(w, b));
    return YA_E_AUTH_RANGE;
}

YaDistrustCode ya_distrust_check_entropy(double h, YaError *err) {
    if (entropy_ok(h)) return YA_DISTRUST_OK;
    char b[32];
    if (isfinite(h) || isnan(h) || h < 0)
        ya_fail(err, YA_ERR, "provenance_entropy must be non-negative, got %s", ya_format_double_repr(h, b));
    else /* +inf: [ours] a non-finite entropy is a range error too */
        ya_fail(err, YA_ERR, "provenance_entropy must be a finite non-negative number, got %s",
                ya_format_double_repr(h, b));
    return YA_E_ENTROPY_RANGE;
}

YaDistrustCode ya_distrust_check_alpha(double alpha, YaError *err) {
    if (alpha_ok(alpha)) return YA_DISTRUST_OK;
    char b[32];
    ya_fail(err, YA_ERR,
            "alpha should be in Brian's recommended range [2.3, 3.0], got %s. "
            "Using values outside this range may not produce the desired 30\xC3\x97 multiplier effect.",
            ya_format_double_repr(alpha, b));
    return YA_E_ALPHA_RANGE;
}

double ya_distrust_component(double w, double h) { return log(1.0 - w + YA_DISTRUST_EPSILON) + h; }

/* ℓ = α·c² for an already validated pair. */
static double sample_loss(double w, double h, double alpha) {
    double c = ya_distrust_component(w, h);
    return alpha * (c * c);
}

YaDistrustCode ya_distrust_loss(double w, double h, double alpha, double *out, YaError *err) {
    YaDistrustCode rc;
    if ((rc = ya_distrust_check_auth(w, err)) || (rc = ya_distrust_check_entropy(h, err)) ||
        (rc = ya_distrust_check_alpha(alpha, err)))
        return rc;
    *out = sample_loss(w, h, alpha);
    return YA_DISTRUST_OK;
}

/* Validates element i of a (w, H) pair list; prefixes the message with where. */
static YaDistrustCode check_pair(const double *w, const double *h, size_t i, int batch_names, YaError *err) {
    YaDistrustCode rc = ya_distrust_check_auth(w[i], err);
    if (rc) {
        if (batch_names) ya_error_prefix(err, "authority_weights[%zu]", i);
        else ya_error_prefix(err, "element %zu", i);
        return rc;
    }
    rc = ya_distrust_check_entropy(h[i], err);
    if (rc) {
        if (batch_names) ya_error_prefix(err, "provenance_entropies[%zu]", i);
        else ya_error_prefix(err, "element %zu", i);
    }
    return rc;
}

YaDistrustCode ya_distrust_loss_array(const double *w, const double *h, size_t n, double alpha, double *out,
                                      YaError *err) {
    if (n == 0) {
        ya_fail(err, YA_ERR, "empty input: at least one (authority_weight, provenance_entropy) pair is required");
        return YA_E_BATCH_SHAPE;
    }
    YaDistrustCode rc = ya_distrust_check_alpha(alpha, err);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = check_pair(w, h, i, 0, err))) return rc;
    double sum_sq = 0.0; /* Σ c_k², index order */
    for (size_t i = 0; i < n; i++) {
        double c = ya_distrust_component(w[i], h[i]);
        sum_sq += c * c;
    }
    *out = alpha * sum_sq;
    return YA_DISTRUST_OK;
}

YaDistrustCode ya_distrust_loss_batch(const double *w, size_t n_w, const double *h, size_t n_h, double alpha,
                                      YaReduction reduction, double *out, YaError *err) {
    if (n_w != n_h) {
        ya_fail(err, YA_ERR, "Batch size mismatch: authority_weights has %zu samples but provenance_entropies has %zu",
                n_w, n_h);
        return YA_E_BATCH_SHAPE;
    }
    if (n_w == 0) {
        ya_fail(err, YA_ERR, "empty batch: authority_weights and provenance_entropies have 0 samples");
        return YA_E_BATCH_SHAPE;
    }
    if (reduction != YA_REDUCE_MEAN && reduction != YA_REDUCE_SUM && reduction != YA_REDUCE_NONE) {
        ya_fail(err, YA_ERR, "Unknown reduction: %d. Use 'mean', 'sum', or 'none'.", (int)reduction);
        return YA_E_REDUCTION;
    }
    YaDistrustCode rc = ya_distrust_check_alpha(alpha, err);
    if (rc) return rc;
    for (size_t i = 0; i < n_w; i++)
        if ((rc = check_pair(w, h, i, 1, err))) return rc;
    if (reduction == YA_REDUCE_NONE) {
        for (size_t i = 0; i < n_w; i++) out[i] = sample_loss(w[i], h[i], alpha);
        return YA_DISTRUST_OK;
    }
    double sum = 0.0;
    for (size_t i = 0; i < n_w; i++) sum += sample_loss(w[i], h[i], alpha);
    out[0] = reduction == YA_REDUCE_SUM ? sum : sum / (double)n_w;
    return YA_DISTRUST_OK;
}

/* Appends one line (newline-separated) to msg. */
static void add_line(char *msg, size_t cap, size_t *len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void add_line(char *msg, size_t cap, size_t *len, const char *fmt, ...) {
    if (*len + 1 >= cap) return;
    if (*len > 0) {
        msg[(*len)++] = '\n';
        msg[*len] = '\0';
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n > 0) *len += (size_t)n < cap - *len ? (size_t)n : cap - *len - 1;
}

int ya_distrust_validate_inputs(double w, double h, char *msg, size_t msg_cap) {
    size_t len = 0;
    char b[32];
    if (msg_cap) msg[0] = '\0';
    int w_ok = auth_ok(w), h_ok = entropy_ok(h);
    if (!w_ok)
        add_line(msg, msg_cap, &len, "authority_weight %s outside valid range [0.0, 0.99]", ya_format_double_repr(w, b));
    else if (w > 0.85)
        add_line(msg, msg_cap, &len,
                 "WARNING: Very high authority_weight (%.2f) indicates modern coordinated source - will be penalized heavily",
                 w);
    else if (w < 0.3)
        add_line(msg, msg_cap, &len, "GOOD: Low authority_weight (%.2f) indicates primary source - will be rewarded", w);

    if (!h_ok) {
        if (isfinite(h) || isnan(h))
            add_line(msg, msg_cap, &len, "provenance_entropy %s cannot be negative", ya_format_double_repr(h, b));
        else /* [ours] ±inf: not a usable entropy */
            add_line(msg, msg_cap, &len, "provenance_entropy %s cannot be negative or infinite",
                     ya_format_double_repr(h, b));
    } else if (h < 2.0)
        add_line(msg, msg_cap, &len,
                 "WARNING: Very low provenance_entropy (%.1f bits) indicates single/coordinated source - will be penalized",
                 h);
    else if (h >= 5.5)
        add_line(msg, msg_cap, &len,
                 "GOOD: High provenance_entropy (%.1f bits) indicates diverse primary sources - will be rewarded", h);

    if (w_ok && h_ok) {
        /* The reference hard-codes 2.7 here, whatever α is configured. */
        double c = ya_distrust_component(w, h);
        add_line(msg, msg_cap, &len, "Estimated loss contribution: %.2f", 2.7 * (c * c));
    }
    return w_ok && h_ok;
}

/* ---- §3.4 --------------------------------------------------------------------------- */

double ya_distrust_auto_lambda_from_means(double mean_w, double mean_h, size_t n) {
    if (n == 0) return YA_DISTRUST_LAMBDA_DEFAULT;
    double comp = -mean_w + mean_h + 1e-8; /* linear stand-in for ln(1−w), as the reference did */
    double lambda = 5.0 / (2.7 * (comp * comp));
    if (!(lambda >= 0.001)) lambda = lambda != lambda ? YA_DISTRUST_LAMBDA_DEFAULT : 0.001;
    if (lambda > 1.0) lambda = 1.0;
    return lambda;
}

int ya_distrust_auto_lambda(const char *jsonl_path, double *lambda, size_t *n_used, YaError *err) {
    FILE *fp = ya_fopen_input(jsonl_path, err);
    if (!fp) return ya_error_prefix(err, "λ auto-calibration");
    char *line = NULL;
    size_t cap = 0, used = 0;
    double sum_w = 0.0, sum_h = 0.0;
    for (int i = 0; i < 100; i++) { /* the first 100 physical lines, used or not */
        size_t n = 0;
        uint64_t consumed = 0;
        int got = ya_jsonl_read_line(fp, ya_jsonl_max_line_bytes(), &line, &cap, &n, &consumed);
        if (got <= 0) break;
        if (got == 2) continue; /* longer than --max-line-bytes: unusable, as the loader will say */
        json_t *obj = json_loadb(line, n, JSON_DECODE_ANY, NULL);
        if (!obj || !json_is_object(obj)) {
            json_decref(obj);
            continue;
        }
        json_t *jw = json_object_get(obj, "auth_weight"), *jh = json_object_get(obj, "prov_entropy");
        if ((jw && !json_is_number(jw)) || (jh && !json_is_number(jh))) {
            json_decref(obj); /* a non-numeric field makes the line unusable */
            continue;
        }
        sum_w += jw ? json_number_value(jw) : 0.5;
        sum_h += jh ? json_number_value(jh) : 5.0;
        used++;
        json_decref(obj);
    }
    free(line);
    fclose(fp);
    *lambda = used ? ya_distrust_auto_lambda_from_means(sum_w / (double)used, sum_h / (double)used, used)
                   : YA_DISTRUST_LAMBDA_DEFAULT;
    if (n_used) *n_used = used;
    return YA_OK;
}

/* ---- §3.3(b) ------------------------------------------------------------------------- */

YaDistrustWeightParams ya_distrust_weight_params_default(void) {
    return (YaDistrustWeightParams){.alpha = YA_DISTRUST_ALPHA_DEFAULT,
                                    .lambda = YA_DISTRUST_LAMBDA_DEFAULT,
                                    .w_min = YA_DISTRUST_W_MIN_DEFAULT,
                                    .w_max = YA_DISTRUST_W_MAX_DEFAULT};
}

int ya_distrust_weight_params_check(const YaDistrustWeightParams *p, YaError *err) {
    char b[32];
    if (!alpha_ok(p->alpha))
        return ya_fail(err, YA_ERR_USAGE, "--alpha must be in [2.3, 3.0], got %s", ya_format_double_repr(p->alpha, b));
    if (!(p->lambda >= 0.0 && p->lambda <= 1.0))
        return ya_fail(err, YA_ERR_USAGE, "--lambda must be in [0, 1] in weighted mode, got %s",
                       ya_format_double_repr(p->lambda, b));
    if (!(p->w_min > 0.0 && isfinite(p->w_max) && p->w_min <= p->w_max))
        return ya_fail(err, YA_ERR_USAGE, "weight clip bounds must satisfy 0 < w_min <= w_max < inf, got [%g, %g]",
                       p->w_min, p->w_max);
    return YA_OK;
}

void ya_distrust_norm_add(YaDistrustNormStats *st, double d) {
    st->n++;
    st->sum_d += d;
}

double ya_distrust_norm_mu(const YaDistrustNormStats *st) { return st->n ? st->sum_d / (double)st->n : 0.0; }

double ya_distrust_ratio(double d, double mu, double w_min, double w_max) {
    if (mu == 0.0) return 1.0; /* every d is 0: no signal, uniform weights */
    double r = d / mu;
    return r < w_min ? w_min : r > w_max ? w_max : r;
}

double ya_distrust_omega(double w_hat, double lambda) {
    if (lambda == 0.0) return 1.0; /* exactly uniform, whatever ŵ is (SPEC §3.3 test 4) */
    return (1.0 - lambda) + lambda * w_hat;
}

YaDistrustCode ya_distrust_dataset_weights(const double *w, const double *h, size_t n,
                                           const YaDistrustWeightParams *p, double *w_hat, double *omega,
                                           double *mu_out, double *c_out, YaError *err) {
    if (n == 0) {
        ya_fail(err, YA_ERR, "empty training set: no samples to weight");
        return YA_E_BATCH_SHAPE;
    }
    YaDistrustCode rc = ya_distrust_check_alpha(p->alpha, err);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = check_pair(w, h, i, 0, err))) return rc;
    /* Pass 1: μ. d is recomputed in pass 2 rather than stored: same bits, no scratch. */
    double sum_d = 0.0;
    for (size_t i = 0; i < n; i++) sum_d += sample_loss(w[i], h[i], p->alpha);
    double mu = sum_d / (double)n;
    /* Pass 2: c = mean r. Pass 3: ŵ and ω. omega[] holds r in between. */
    double sum_r = 0.0;
    for (size_t i = 0; i < n; i++) {
        omega[i] = ya_distrust_ratio(sample_loss(w[i], h[i], p->alpha), mu, p->w_min, p->w_max);
        sum_r += omega[i];
    }
    double c = sum_r / (double)n;
    for (size_t i = 0; i < n; i++) {
        double wh = omega[i] / c;
        if (w_hat) w_hat[i] = wh;
        omega[i] = ya_distrust_omega(wh, p->lambda);
    }
    if (mu_out) *mu_out = mu;
    if (c_out) *c_out = c;
    return YA_DISTRUST_OK;
}

void ya_distrust_running_update(YaDistrustRunning *st, const double *d, size_t n, const YaDistrustWeightParams *p,
                                double *w_hat, double *omega) {
    for (size_t i = 0; i < n; i++) st->sum_d += d[i];
    st->n += n;
    double mu = st->n ? st->sum_d / (double)st->n : 0.0;
    for (size_t i = 0; i < n; i++) {
        omega[i] = ya_distrust_ratio(d[i], mu, p->w_min, p->w_max); /* r, for now */
        st->sum_r += omega[i];
    }
    double c = st->n ? st->sum_r / (double)st->n : 1.0;
    for (size_t i = 0; i < n; i++) {
        double wh = omega[i] / c;
        if (w_hat) w_hat[i] = wh;
        omega[i] = ya_distrust_omega(wh, p->lambda);
    }
}

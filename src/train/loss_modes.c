/* loss_modes.c — per-row CE weights for --distrust-mode off|additive|weighted
 * (SPEC §3.3) over one optimizer update, and the logged totals. The distrust
 * math itself (ℓ, μ, r, ŵ, ω) is src/distrust/distrust_loss.c's; this file
 * only maps it onto rows of the micro-batches, together with each sample's
 * own weight s_i (a record's "weight"; 1 when absent), which counts like s_i
 * copies of the sample in the update (loss_modes.h has the formulas). */
#include <math.h>
#include <string.h>

#include "your_ai/loss_modes.h"

int ya_distrust_mode_parse(const char *s, YaDistrustMode *out, YaError *err) {
    if (!strcmp(s, "off")) *out = YA_DISTRUST_OFF;
    else if (!strcmp(s, "additive")) *out = YA_DISTRUST_ADDITIVE;
    else if (!strcmp(s, "weighted")) *out = YA_DISTRUST_WEIGHTED;
    else return ya_fail(err, YA_ERR_USAGE, "--distrust-mode: unknown value '%s' (expected off, additive or weighted)", s);
    return YA_OK;
}

const char *ya_distrust_mode_name(YaDistrustMode m) {
    return m == YA_DISTRUST_OFF ? "off" : m == YA_DISTRUST_ADDITIVE ? "additive" : "weighted";
}

void ya_loss_config_defaults(YaLossConfig *c) {
    memset(c, 0, sizeof *c);
    c->mode = YA_DISTRUST_WEIGHTED;
    c->wp = ya_distrust_weight_params_default();
    c->stats = YA_WEIGHT_STATS_DATASET;
}

int ya_loss_config_check(const YaLossConfig *c, YaError *err) {
    if (c->mode == YA_DISTRUST_WEIGHTED) return ya_distrust_weight_params_check(&c->wp, err);
    if (c->mode == YA_DISTRUST_ADDITIVE) {
        if (ya_distrust_check_alpha(c->wp.alpha, err) != YA_DISTRUST_OK) {
            err->code = YA_ERR_USAGE;
            return YA_ERR_USAGE;
        }
        if (!(c->wp.lambda >= 0) || !isfinite(c->wp.lambda))
            return ya_fail(err, YA_ERR_USAGE, "--lambda %g must be a finite value >= 0", c->wp.lambda);
    }
    return YA_OK;
}

int ya_loss_plan(const YaLossConfig *c, YaDistrustRunning *running, const YaBatch *const *mbs, int G,
                 double *storage, YaLossPlan *plan, YaError *err) {
    memset(plan, 0, sizeof *plan);
    size_t n = 0;
    for (int k = 0; k < G; k++) n += (size_t)mbs[k]->n_samples;
    plan->n_samples = n;
    plan->omega = storage;
    double *d = storage + n; // [n] ℓ_i
    size_t i = 0;
    double sum_d = 0.0;
    plan->uniform_weight = 1;
    for (int k = 0; k < G; k++) {
        const YaBatch *b = mbs[k];
        plan->n_sup += b->n_sup;
        plan->n_tokens += b->n_tokens;
        for (int s = 0; s < b->n_samples; s++, i++) {
            const YaBatchSample *sm = &b->samples[s];
            if (sm->n_sup < 1)
                return ya_fail(err, YA_ERR, "micro-batch %d, sample %d (dataset index %llu): no supervised target", k, s,
                               (unsigned long long)sm->index);
            if (!isfinite(sm->weight) || sm->weight < 0)
                return ya_fail(err, YA_ERR, "micro-batch %d, sample %d (dataset index %llu): weight %g must be a finite number >= 0",
                               k, s, (unsigned long long)sm->index, sm->weight);
            if (sm->weight != 1.0) plan->uniform_weight = 0;
            plan->sum_weight += sm->weight;
            plan->weighted_sup += sm->weight * (double)sm->n_sup;
            d[i] = 0.0;
            if (c->mode != YA_DISTRUST_OFF &&
                ya_distrust_loss(sm->w, sm->h, c->wp.alpha, &d[i], err) != YA_DISTRUST_OK) {
                ya_error_prefix(err, "micro-batch %d, sample %d (dataset index %llu)", k, s, (unsigned long long)sm->index);
                err->code = YA_ERR;
                return YA_ERR;
            }
            sum_d += d[i];
        }
    }
    if (plan->n_sup == 0) return ya_fail(err, YA_ERR, "optimizer update without any supervised target");
    if (!(plan->weighted_sup > 0))
        return ya_fail(err, YA_ERR, "optimizer update whose %zu samples all have weight 0", n);
    plan->distrust_mean = n ? sum_d / (double)n : 0.0;
    if (c->mode == YA_DISTRUST_WEIGHTED && c->stats == YA_WEIGHT_STATS_RUNNING) {
        if (!running) return ya_fail(err, YA_ERR, "--weight-stats running needs the running statistics");
        ya_distrust_running_update(running, d, n, &c->wp, NULL, plan->omega);
    } else {
        for (i = 0; i < n; i++) {
            if (c->mode != YA_DISTRUST_WEIGHTED) {
                plan->omega[i] = 1.0;
                continue;
            }
            double r = ya_distrust_ratio(d[i], c->mu, c->wp.w_min, c->wp.w_max);
            plan->omega[i] = ya_distrust_omega(c->c > 0 ? r / c->c : r, c->wp.lambda);
        }
    }
    plan->omega_min = n ? plan->omega[0] : 0, plan->omega_max = plan->omega_min;
    i = 0;
    for (int k = 0; k < G; k++)
        for (int s = 0; s < mbs[k]->n_samples; s++, i++) plan->sum_weighted_omega += mbs[k]->samples[s].weight * plan->omega[i];
    if (c->mode == YA_DISTRUST_WEIGHTED && c->weight_norm_batch && !(plan->sum_weighted_omega > 0))
        return ya_fail(err, YA_ERR, "optimizer update with a zero sum of weight x omega (--weight-norm batch)");
    for (i = 0; i < n; i++) {
        plan->sum_omega += plan->omega[i];
        if (plan->omega[i] < plan->omega_min) plan->omega_min = plan->omega[i];
        if (plan->omega[i] > plan->omega_max) plan->omega_max = plan->omega[i];
    }
    return YA_OK;
}

void ya_loss_row_weights(const YaLossConfig *c, const YaLossPlan *plan, const YaBatch *const *mbs, int k,
                         float *weight) {
    const YaBatch *b = mbs[k];
    size_t first = 0; /* this micro-batch's first sample in plan->omega */
    for (int j = 0; j < k; j++) first += (size_t)mbs[j]->n_samples;
    size_t BT = (size_t)b->B * b->T;
    if (c->mode != YA_DISTRUST_WEIGHTED) { /* s_i / Σ s_j·n_j: with every s = 1, 1/N_tokens */
        for (size_t t = 0; t < BT; t++) {
            int s = b->sample_ids[t];
            weight[t] = b->targets[t] >= 0 && s >= 0 ? (float)(b->samples[s].weight / plan->weighted_sup) : 0.0f;
        }
        return;
    }
    /* s_i·ω_i / (n_i·Σ s_j) or, --weight-norm batch, s_i·ω_i / (n_i·Σ s_j·ω_j) */
    double denom = c->weight_norm_batch ? plan->sum_weighted_omega : plan->sum_weight;
    for (size_t t = 0; t < BT; t++) {
        int s = b->sample_ids[t];
        if (b->targets[t] < 0 || s < 0) {
            weight[t] = 0.0f;
            continue;
        }
        weight[t] = (float)(b->samples[s].weight * plan->omega[first + (size_t)s] / ((double)b->samples[s].n_sup * denom));
    }
}

void ya_loss_totals(const YaLossConfig *c, const YaLossPlan *plan, double wsum, double nll_sum, double *total,
                    double *ce, double *wce, double *distrust) {
    *ce = nll_sum / (double)plan->n_sup;
    *wce = wsum;
    *distrust = plan->distrust_mean;
    double pooled = plan->uniform_weight ? *ce : wsum; /* the token-pooled objective, sample weights applied */
    if (c->mode == YA_DISTRUST_OFF) *total = pooled;
    else if (c->mode == YA_DISTRUST_ADDITIVE) *total = pooled + c->wp.lambda * plan->distrust_mean;
    else *total = wsum;
}

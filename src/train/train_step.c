/* train_step.c — one optimizer update: accumulate the gradients of G
 * micro-batches through the training graph, clip by the global norm, step
 * the schedule and AdamW (SPEC §8). The per-row CE weights come from the
 * whole update's loss plan (loss_modes.c), so G micro-batches of B rows give
 * the gradient of one batch of G·B rows up to float rounding. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/train_step.h"

struct YaTrainStep {
    YaTrainGraph *g;
    YaTrainStepConfig cfg;
    int max_micro, max_rows, max_seq;
    long long update; /* dropout counter base: masks of micro-batch k use update·max_micro + k */
    float *weight;   // [max_rows·max_seq] row weights of the current micro-batch
    float *nll;      // [max_rows·max_seq]
    YaTrainSegment *segs; // [max_rows·max_seq] the documents of the current micro-batch
    double *storage; // [2·max_micro·max_rows·max_seq] ω and ℓ of the update's samples (packed rows hold several)
};

int ya_train_step_new(YaTrainGraph *g, const YaTrainStepConfig *cfg, int max_micro, YaTrainStep **out, YaError *err) {
    *out = NULL;
    if (max_micro < 1) return ya_fail(err, YA_ERR_USAGE, "--grad-accum %d must be >= 1", max_micro);
    int rc = ya_loss_config_check(&cfg->loss, err);
    if (rc != YA_OK) return rc;
    YaTrainStep *s = calloc(1, sizeof *s);
    if (!s) return ya_fail(err, YA_ERR, "out of memory");
    s->g = g;
    s->cfg = *cfg;
    s->max_micro = max_micro;
    ya_train_graph_shape(g, &s->max_rows, &s->max_seq);
    size_t BT = (size_t)s->max_rows * s->max_seq;
    s->weight = malloc(BT * sizeof(float));
    s->nll = malloc(BT * sizeof(float));
    s->segs = malloc(BT * sizeof *s->segs);
    s->storage = malloc(2 * (size_t)max_micro * BT * sizeof(double));
    if (!s->weight || !s->nll || !s->storage || !s->segs) {
        ya_train_step_free(s);
        return ya_fail(err, YA_ERR, "out of memory");
    }
    *out = s;
    return YA_OK;
}

void ya_train_step_free(YaTrainStep *s) {
    if (!s) return;
    free(s->weight);
    free(s->nll);
    free(s->segs);
    free(s->storage);
    free(s);
}


int ya_train_step_grads(YaTrainStep *s, YaDistrustRunning *running, const YaBatch *const *mbs, int G,
                        YaStepMetrics *m, YaError *err) {
    memset(m, 0, sizeof *m);
    if (G < 1 || G > s->max_micro)
        return ya_fail(err, YA_ERR_USAGE, "%d micro-batches per update, expected 1..%d", G, s->max_micro);
    YaDistrustRunning dummy = {0};
    YaLossPlan plan;
    int rc = ya_loss_plan(&s->cfg.loss, running ? running : &dummy, mbs, G, s->storage, &plan, err);
    if (rc != YA_OK) return rc;

    ya_train_graph_grads_zero(s->g);
    double wsum = 0.0, nll_sum = 0.0;
    for (int k = 0; k < G; k++) {
        const YaBatch *b = mbs[k];
        ya_loss_row_weights(&s->cfg.loss, &plan, mbs, k, s->weight);
        ya_train_graph_set_dropout(s->g, 1, s->cfg.seed, (uint64_t)s->update * (uint64_t)s->max_micro + (uint64_t)k);
        double part;
        /* every document attends only inside itself (pad rows: their length; packed rows: each document) */
        for (int i = 0; i < b->n_samples; i++)
            s->segs[i] = (YaTrainSegment){b->samples[i].row, b->samples[i].start, b->samples[i].len};
        rc = ya_train_graph_run_segments(s->g, b->ids, b->targets, s->weight, b->B, b->T, s->segs, b->n_samples, 1,
                                         &part, s->nll, err);
        if (rc != YA_OK) {
            ya_error_prefix(err, "micro-batch %d", k);
            return rc;
        }
        wsum += part;
        size_t BT = (size_t)b->B * b->T;
        for (size_t t = 0; t < BT; t++)
            if (b->targets[t] >= 0) nll_sum += s->nll[t];
    }
    ya_loss_totals(&s->cfg.loss, &plan, wsum, nll_sum, &m->total, &m->ce, &m->wce, &m->distrust);
    m->omega_min = plan.omega_min;
    m->omega_max = plan.omega_max;
    m->omega_mean = plan.n_samples ? plan.sum_omega / (double)plan.n_samples : 0.0;
    m->tokens = plan.n_tokens;
    m->sup_tokens = plan.n_sup;
    m->samples = plan.n_samples;
    return YA_OK;
}

void ya_train_step_set_update(YaTrainStep *s, long long u) { s->update = u; }

int ya_train_step(YaTrainStep *s, long long u, YaDistrustRunning *running, const YaBatch *const *mbs, int G,
                  YaStepMetrics *m, YaError *err) {
    s->update = u;
    int rc = ya_train_step_grads(s, running, mbs, G, m, err);
    if (rc != YA_OK) {
        ya_error_prefix(err, "update %lld", u + 1);
        return rc;
    }
    /* every mode's logged total too: additive adds λ·mean ℓ to a finite CE */
    if (!isfinite(m->wce) || !isfinite(m->ce) || !isfinite(m->total) || !isfinite(m->distrust))
        return ya_fail(err, YA_ERR,
                       "update %lld: the loss is not finite (ce %g, objective %g, total %g, distrust %g); parameters left "
                       "unchanged",
                       u + 1, m->ce, m->wce, m->total, m->distrust);
    m->lr = ya_schedule_lr(&s->cfg.schedule, u);
    if (ya_train_graph_device(s->g) == YA_DEVICE_CUDA) {
        /* parameters, gradients and moments live on the GPU: clip and step there */
        int rc2 = ya_train_graph_device_update(s->g, &s->cfg.adamw, u + 1, m->lr, s->cfg.max_grad_norm, &m->grad_norm, err);
        if (rc2 != YA_OK) return rc2;
    } else {
        float *params, *grads, *mom1, *mom2;
        size_t n;
        ya_train_graph_buffers(s->g, &params, &grads, &mom1, &mom2, &n);
        m->grad_norm = ya_clip_grad_norm(grads, n, s->cfg.max_grad_norm);
        if (isfinite(m->grad_norm)) ya_adamw_step(&s->cfg.adamw, u + 1, m->lr, params, grads, mom1, mom2, n);
    }
    if (!isfinite(m->grad_norm))
        return ya_fail(err, YA_ERR, "update %lld: the gradient norm is not finite; parameters left unchanged", u + 1);
    m->clipped = s->cfg.max_grad_norm > 0 && m->grad_norm >= s->cfg.max_grad_norm;
    return YA_OK;
}

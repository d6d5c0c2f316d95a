/* trainer.c — the `your_ai train` loop: data loader → train_step → metrics →
 * checkpoints (SPEC §8, §9).
 *
 * Sizing happens once: the training graph for (batch_size × max_seq_length),
 * G copies of a micro-batch (the loss plan of an update needs all of its
 * micro-batches before the first backward, and the loader's batch is only
 * valid until its next call), the step scratch. Resume restores the adapter,
 * the AdamW moments and t, the data cursor and the running distrust
 * statistics, so a resumed run continues exactly where it stopped. */
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h" /* defines: ya_backend_cpu_set_threads */
#include "your_ai/checkpoint.h"
#include "your_ai/config.h"
#include "your_ai/fileio.h"
#include "your_ai/log.h"
#include "your_ai/metrics.h"
#include "your_ai/model.h"
#include "your_ai/progress.h"
#include "your_ai/safetensors.h"
#include "your_ai/tokenizer.h"
#include "your_ai/trainer.h"

/* The one piece of process-wide state: a signal handler can only talk to the
 * loop through a sig_atomic_t. */
static volatile sig_atomic_t g_stop_signal;

static void on_signal(int sig) { g_stop_signal = sig; }

/* Deep copy of a micro-batch into dst (allocated with the same capacity). */
static void batch_copy(YaBatch *dst, const YaBatch *src) {
    size_t n = (size_t)src->B * src->T;
    dst->B = src->B, dst->T = src->T;
    memcpy(dst->ids, src->ids, n * sizeof *dst->ids);
    memcpy(dst->targets, src->targets, n * sizeof *dst->targets);
    memcpy(dst->loss_mask, src->loss_mask, n);
    memcpy(dst->pos_ids, src->pos_ids, n * sizeof *dst->pos_ids);
    memcpy(dst->seg_ids, src->seg_ids, n * sizeof *dst->seg_ids);
    memcpy(dst->sample_ids, src->sample_ids, n * sizeof *dst->sample_ids);
    memcpy(dst->row_len, src->row_len, (size_t)src->B * sizeof *dst->row_len);
    dst->n_samples = src->n_samples;
    memcpy(dst->samples, src->samples, (size_t)src->n_samples * sizeof *dst->samples);
    dst->n_tokens = src->n_tokens;
    dst->n_sup = src->n_sup;
}

/* Weighted mode, dataset statistics: μ = mean ℓ over the training set and
 * c = mean r over the same samples (SPEC §3.3 b). */
static int dataset_stats(const YaDataLoader *dl, YaLossConfig *lc, YaError *err) {
    const YaDataStats *st = ya_data_stats(dl);
    double sum_d = 0.0, sum_r = 0.0;
    double *d = malloc((size_t)st->n_samples * sizeof *d);
    if (!d) return ya_fail(err, YA_ERR, "out of memory");
    for (uint64_t i = 0; i < st->n_samples; i++) {
        double w, h;
        uint32_t n_sup, len;
        ya_data_sample_info(dl, i, &w, &h, &n_sup, &len);
        if (ya_distrust_loss(w, h, lc->wp.alpha, &d[i], err) != YA_DISTRUST_OK) {
            const char *path;
            uint64_t line;
            ya_data_sample_source(dl, i, &path, &line);
            ya_error_prefix(err, "%s:%" PRIu64, path, line);
            free(d);
            err->code = YA_ERR;
            return YA_ERR;
        }
        sum_d += d[i];
    }
    lc->mu = st->n_samples ? sum_d / (double)st->n_samples : 0.0;
    for (uint64_t i = 0; i < st->n_samples; i++) sum_r += ya_distrust_ratio(d[i], lc->mu, lc->wp.w_min, lc->wp.w_max);
    lc->c = st->n_samples ? sum_r / (double)st->n_samples : 1.0;
    free(d);
    return YA_OK;
}

/* Mean token CE over the validation set (or its first max_batches micro-batches). */
static int evaluate(YaTrainGraph *g, YaDataLoader *val, int max_batches, float *weight, YaTrainSegment *segs,
                    double *loss, YaError *err) {
    ya_train_graph_set_dropout(g, 0, 0, 0); /* evaluation: no dropout (train_step re-enables it per micro-batch) */
    YaDataCursor start = {0, 0};
    int rc = ya_data_set_cursor(val, &start, err);
    if (rc != YA_OK) return rc;
    double nll_sum = 0.0;
    size_t n_sup = 0;
    for (int k = 0; max_batches <= 0 || k < max_batches; k++) {
        const YaBatch *b;
        if ((rc = ya_data_next(val, &b, err)) != YA_OK) return rc;
        size_t BT = (size_t)b->B * b->T;
        for (size_t t = 0; t < BT; t++) weight[t] = b->targets[t] >= 0 ? 1.0f : 0.0f;
        double part;
        for (int i = 0; i < b->n_samples; i++) segs[i] = (YaTrainSegment){b->samples[i].row, b->samples[i].start, b->samples[i].len};
        if ((rc = ya_train_graph_run_segments(g, b->ids, b->targets, weight, b->B, b->T, segs, b->n_samples, 0, &part,
                                              NULL, err)) != YA_OK)
            return rc;
        nll_sum += part;
        n_sup += b->n_sup;
        if (ya_data_get_cursor(val).epoch > 0) break; /* every validation sample seen once */
    }
    *loss = n_sup ? nll_sum / (double)n_sup : NAN;
    return YA_OK;
}

/* --train full: OUT/model-<step>[-final]/ with config.json, the fp32 weights and the tokenizer files. */
static int save_full_model(const YaTrainerConfig *cfg, const YaModel *m, const YaFullParams *fp, long long step,
                           int final, char *saved, size_t cap, YaError *err) {
    char name[64], dir[4096], path[4096];
    snprintf(name, sizeof name, "model-%lld%s", step, final ? "-final" : "");
    int rc = ya_path_join(dir, sizeof dir, cfg->out_dir, name, err);
    if (rc == YA_OK) rc = ya_mkdirs(dir, err);
    if (rc != YA_OK) return rc;
    YaModelConfig mc = m->cfg;
    snprintf(mc.torch_dtype, sizeof mc.torch_dtype, "float32");
    char *json = ya_config_to_json(&mc);
    if (!json) return ya_fail(err, YA_ERR, "out of memory");
    rc = ya_path_join(path, sizeof path, dir, "config.json", err);
    if (rc == YA_OK) rc = ya_write_file_atomic(path, json, strlen(json), err);
    free(json);
    if (rc != YA_OK) return rc;
    YaStWriter *w = ya_st_writer_new();
    if (!w) return ya_fail(err, YA_ERR, "out of memory");
    for (size_t i = 0; i < fp->n_tensors && rc == YA_OK; i++)
        rc = ya_st_writer_add(w, fp->t[i].name, YA_DTYPE_F32, fp->t[i].ndim, fp->t[i].shape, fp->params + fp->t[i].off,
                              err);
    if (rc != YA_OK) {
        ya_st_writer_free(w);
        return rc;
    }
    if ((rc = ya_path_join(path, sizeof path, dir, "model.safetensors", err)) != YA_OK) {
        ya_st_writer_free(w);
        return rc;
    }
    if ((rc = ya_st_writer_finish(w, path, err)) != YA_OK) return rc;
    static const char *const copies[] = {"tokenizer.json", "tokenizer_config.json", "generation_config.json"};
    for (size_t i = 0; i < sizeof copies / sizeof *copies; i++) {
        char src[4096], *data;
        size_t len;
        if (ya_path_join(src, sizeof src, cfg->model_dir, copies[i], err) != YA_OK || !ya_path_exists(src)) continue;
        if ((rc = ya_read_file(src, &data, &len, err)) != YA_OK) return rc;
        rc = ya_path_join(path, sizeof path, dir, copies[i], err);
        if (rc == YA_OK) rc = ya_write_file_atomic(path, data, len, err);
        free(data);
        if (rc != YA_OK) return rc;
    }
    snprintf(saved, cap, "%s", dir);
    return YA_OK;
}

typedef struct Run {
    const YaTrainerConfig *cfg;
    YaModel *model;
    YaTokenizer *tok;
    YaScorer *scorer;
    YaDataScorer data_scorer;
    YaDataLoader *train, *val;
    YaLoraSet lora;
    int has_lora;
    YaTrainGraph *graph;
    YaTrainStep *step;
    YaMetrics *metrics;
    YaBatch *mbs; // [G]
    const YaBatch **mb_ptrs;
    float *eval_weight; // [B·T]
    YaTrainSegment *eval_segs; // [B·T]
    YaDistrustRunning running;
    YaTrainStepConfig step_cfg;
} Run;

static int save_checkpoint(Run *r, long long step, int final, YaError *err) {
    char saved[4096];
    int rc;
    if (!r->has_lora) {
        rc = save_full_model(r->cfg, r->model, ya_train_graph_full(r->graph), step, final, saved, sizeof saved, err);
    } else {
        YaDataCursor cur = ya_data_get_cursor(r->train);
        json_t *state = json_pack("{s:o, s:{s:I, s:f, s:f}}", "data", ya_data_cursor_to_json(r->train, &cur), "running",
                                  "n", (json_int_t)r->running.n, "sum_d", r->running.sum_d, "sum_r", r->running.sum_r);
        json_t *run_cfg = json_pack("{s:s, s:s, s:s, s:f, s:f, s:I, s:i, s:i}", "model", r->cfg->model_dir,
                                    "distrust_mode", ya_distrust_mode_name(r->step_cfg.loss.mode), "recompute",
                                    ya_recompute_name(r->cfg->graph.recompute), "lambda", r->step_cfg.loss.wp.lambda,
                                    "alpha", r->step_cfg.loss.wp.alpha, "max_steps",
                                    (json_int_t)r->step_cfg.schedule.max_steps, "batch_size", r->cfg->data.batch_size,
                                    "grad_accum", r->cfg->grad_accum);
        YaCheckpointSave s = {.out_dir = r->cfg->out_dir, .step = step, .final = final, .lora = &r->lora,
                              .optimizer_t = step, .optimizer_name = ya_optimizer_name(r->step_cfg.adamw.kind),
                              .base_model = r->cfg->model_dir, .trainer_state = state, .run_config = run_cfg,
                              .keep_last_n = r->cfg->keep_last};
        rc = ya_checkpoint_save(&s, saved, sizeof saved, err);
        json_decref(state);
        json_decref(run_cfg);
    }
    if (rc == YA_OK) ya_info("saved %s", saved);
    return rc;
}

static void run_free(Run *r) {
    if (r->mbs)
        for (int k = 0; k < r->cfg->grad_accum; k++) ya_batch_free(&r->mbs[k]);
    free(r->mbs);
    free(r->mb_ptrs);
    free(r->eval_weight);
    free(r->eval_segs);
    ya_metrics_close(r->metrics);
    ya_train_step_free(r->step);
    ya_train_graph_free(r->graph);
    if (r->has_lora) ya_lora_free(&r->lora);
    ya_data_close(r->train);
    ya_data_close(r->val);
    ya_scorer_free(r->scorer);
    ya_tokenizer_free(r->tok);
    ya_model_free(r->model);
}

/* Everything up to the first update: model, data, parameters, resume. *start = first update index. */
static int setup(Run *r, long long *start, YaError *err) {
    const YaTrainerConfig *cfg = r->cfg;
    YaDataConfig dc = cfg->data;
    r->step_cfg = cfg->step;
    r->step_cfg.seed = cfg->data.seed;
    YaLossConfig *lc = &r->step_cfg.loss;
    dc.need_scores = lc->mode != YA_DISTRUST_OFF;
    dc.alpha = dc.need_scores ? lc->wp.alpha : 0.0;
    int rc = ya_model_open(cfg->model_dir, &r->model, err);
    if (rc == YA_OK) rc = ya_tokenizer_load(cfg->model_dir, &r->tok, err);
    if (rc == YA_OK && dc.score && dc.need_scores) rc = ya_scorer_new(&r->scorer, err);
    r->data_scorer = ya_data_citation_scorer(r->scorer);
    if (rc == YA_OK)
        rc = ya_data_open(&dc, cfg->data_paths, cfg->n_data, r->tok, r->scorer ? &r->data_scorer : NULL, &r->train, err);
    if (rc == YA_OK && cfg->val_path) {
        YaDataConfig vc = dc;
        vc.shuffle = 0;
        vc.cross_epochs = 0;
        vc.alpha = 0.0;
        vc.need_scores = 0;
        rc = ya_data_open(&vc, &cfg->val_path, 1, r->tok, NULL, &r->val, err);
    }
    if (rc != YA_OK) return rc;
    if (lc->mode == YA_DISTRUST_WEIGHTED && lc->stats == YA_WEIGHT_STATS_DATASET &&
        (rc = dataset_stats(r->train, lc, err)) != YA_OK)
        return rc;

    YaTrainGraphConfig gc = cfg->graph;
    gc.max_rows = dc.batch_size;
    gc.max_seq = dc.max_seq_len;
    if (gc.kind == YA_TRAIN_LORA) {
        if ((rc = ya_lora_create(&r->model->cfg, &cfg->lora, 1, &r->lora, err)) != YA_OK) return rc;
        r->has_lora = 1;
        ya_lora_init_params(&r->lora, dc.seed);
    }
    if ((rc = ya_train_graph_new(r->model, r->has_lora ? &r->lora : NULL, &gc, &r->graph, err)) != YA_OK) return rc;
    if ((rc = ya_train_step_new(r->graph, &r->step_cfg, cfg->grad_accum, &r->step, err)) != YA_OK) return rc;
    r->mbs = calloc((size_t)cfg->grad_accum, sizeof *r->mbs);
    r->mb_ptrs = calloc((size_t)cfg->grad_accum, sizeof *r->mb_ptrs);
    r->eval_weight = malloc((size_t)gc.max_rows * gc.max_seq * sizeof(float));
    r->eval_segs = malloc((size_t)gc.max_rows * gc.max_seq * sizeof *r->eval_segs);
    if (!r->mbs || !r->mb_ptrs || !r->eval_weight || !r->eval_segs) return ya_fail(err, YA_ERR, "out of memory");
    for (int k = 0; k < cfg->grad_accum; k++) {
        if ((rc = ya_batch_alloc(&r->mbs[k], gc.max_rows, gc.max_seq, err)) != YA_OK) return rc;
        r->mb_ptrs[k] = &r->mbs[k];
    }
    ya_info("train: %s, %s, recompute %s, %zu trainable parameters, graph %.1f MB, %" PRIu64 " samples",
            gc.kind == YA_TRAIN_LORA ? "LoRA" : "full fine-tuning", ya_distrust_mode_name(lc->mode),
            ya_recompute_name(gc.recompute),
            r->has_lora ? r->lora.n_params : ya_train_graph_full(r->graph)->n_params,
            (double)ya_train_graph_bytes(r->graph) / 1e6, ya_data_stats(r->train)->n_samples);
    if (lc->mode == YA_DISTRUST_ADDITIVE && lc->wp.lambda > 0)
        ya_info("note: --distrust-mode additive does not change the weights (SPEC §3.2): the term λ·mean ℓ is "
                "added to the logged total only");

    *start = 0;
    if (cfg->resume) {
        char path[4096];
        int found = 0;
        if ((rc = ya_checkpoint_resolve(cfg->resume, cfg->out_dir, path, sizeof path, &found, err)) != YA_OK) return rc;
        if (found) {
            if (!r->has_lora) return ya_fail(err, YA_ERR_USAGE, "--resume is not supported with --train full yet");
            YaCheckpointState st = {0};
            if ((rc = ya_checkpoint_load(path, &r->lora, &st, err)) != YA_OK) return rc;
            json_t *data = json_object_get(st.trainer_state, "data");
            json_t *run = json_object_get(st.trainer_state, "running");
            YaDataCursor cur;
            rc = data ? ya_data_cursor_from_json(r->train, data, &cur, err)
                      : ya_fail(err, YA_ERR, "%s: trainer_state.json has no data cursor", path);
            if (rc == YA_OK) rc = ya_data_set_cursor(r->train, &cur, err);
            if (rc == YA_OK && run) {
                r->running.n = (uint64_t)json_integer_value(json_object_get(run, "n"));
                r->running.sum_d = json_number_value(json_object_get(run, "sum_d"));
                r->running.sum_r = json_number_value(json_object_get(run, "sum_r"));
            }
            *start = st.step;
            ya_checkpoint_state_free(&st);
            if (rc != YA_OK) return rc;
            ya_info("resumed from %s at update %lld", path, *start);
        }
    }
    return ya_metrics_open(cfg->out_dir, cfg->resume ? *start : -1, &r->metrics, err);
}

int ya_trainer_run(const YaTrainerConfig *cfg, YaError *err) {
    if (cfg->threads > 0) ya_backend_cpu_set_threads(cfg->threads);
    Run r = {.cfg = cfg};
    long long start = 0;
    int rc = setup(&r, &start, err);
    if (rc != YA_OK) {
        run_free(&r);
        return rc;
    }
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    g_stop_signal = 0;

    long long S = r.step_cfg.schedule.max_steps, u = start;
    double t0 = ya_progress_now();
    size_t tokens_since = 0;
    double last_log = t0;
    for (; u < S && rc == YA_OK; u++) {
        for (int k = 0; k < cfg->grad_accum && rc == YA_OK; k++) {
            const YaBatch *b;
            rc = ya_data_next(r.train, &b, err);
            if (rc == YA_OK) batch_copy(&r.mbs[k], b);
        }
        YaStepMetrics m;
        if (rc == YA_OK) rc = ya_train_step(r.step, u, &r.running, r.mb_ptrs, cfg->grad_accum, &m, err);
        if (rc != YA_OK) break;
        tokens_since += m.tokens;
        long long done = u + 1;
        if (m.grad_norm > 5.0) ya_warn("update %lld: gradient norm %.3g > 5 before clipping", done, m.grad_norm);
        if (cfg->log_every > 0 && (u % cfg->log_every == 0 || done == S)) {
            double now = ya_progress_now();
            double tps = now > last_log ? (double)tokens_since / (now - last_log) : 0.0;
            fprintf(stderr,
                    "step %lld/%lld  total %.4f  ce %.4f  wce %.4f  distrust %.4f  grad_norm %.3f  lr %.3e  "
                    "omega %.3f/%.3f/%.3f  %.0f tok/s\n",
                    done, S, m.total, m.ce, m.wce, m.distrust, m.grad_norm, m.lr, m.omega_min, m.omega_mean,
                    m.omega_max, tps);
            YaTrainMetrics row = {.step = done, .total = m.total, .ce = m.ce,
                                  .wce = r.step_cfg.loss.mode == YA_DISTRUST_WEIGHTED ? m.wce : NAN,
                                  .distrust = m.distrust, .grad_norm = m.grad_norm, .lr = m.lr, .tok_per_s = tps,
                                  .elapsed = now - t0};
            if ((rc = ya_metrics_log_train(r.metrics, &row, err)) != YA_OK) break;
            tokens_since = 0;
            last_log = now;
        }
        if (r.val && cfg->eval_every > 0 && done % cfg->eval_every == 0) {
            double vl;
            if ((rc = evaluate(r.graph, r.val, cfg->eval_batches, r.eval_weight, r.eval_segs, &vl, err)) != YA_OK) break;
            fprintf(stderr, "step %lld  val ce %.4f  ppl %.3f\n", done, vl, exp(vl));
            YaMetric items[2] = {{"ce", vl}, {"ppl", exp(vl)}};
            if ((rc = ya_metrics_log(r.metrics, "val", done, 0, 2, items, err)) != YA_OK) break;
        }
        if (g_stop_signal) {
            ya_warn("%s received: stopping after update %lld", g_stop_signal == SIGINT ? "SIGINT" : "SIGTERM", done);
            if ((rc = save_checkpoint(&r, done, 0, err)) == YA_OK)
                fprintf(stderr, "interrupted at update %lld of %lld; continue with: --resume auto --out %s\n", done, S,
                        cfg->out_dir);
            u = done;
            break;
        }
        if (cfg->save_every > 0 && done % cfg->save_every == 0 && done < S)
            if ((rc = save_checkpoint(&r, done, 0, err)) != YA_OK) break;
    }
    if (rc == YA_OK && !g_stop_signal && u >= S) rc = save_checkpoint(&r, S, 1, err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    run_free(&r);
    return rc;
}

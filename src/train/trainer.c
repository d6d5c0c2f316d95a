/* trainer.c — the `your_ai train` loop: data loader → train_step → metrics →
 * checkpoints (SPEC §8, §9).
 *
 * Sizing happens once: the training graph for (batch_size × max_seq_length),
 * G copies of a micro-batch (the loss plan of an update needs all of its
 * micro-batches before the first backward, and the loader's batch is only
 * valid until its next call), the step scratch. Resume restores the adapter,
 * the AdamW moments and t, the data cursor and the running distrust
 * statistics, so a resumed run continues exactly where it stopped.
 *
 * What a checkpoint records besides the tensors (SPEC §9, docs/CHECKPOINTS.md):
 * run_config.json = every resolved flag + the model identity (sha256 of
 * config.json, of the sorted "name dtype shape" tensor lines, of
 * tokenizer.json); trainer_state.json = the PRNG streams, data cursor, weight
 * statistics, loss history, best validation, wall time and version. Resume
 * checks the identity before touching any buffer. */
#include <inttypes.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h> /* defines: write, _exit (async-signal-safe) */

#include "backend/backend.h" /* defines: ya_backend_cpu_set_threads */
#include "your_ai/checkpoint.h"
#include "your_ai/config.h"
#include "your_ai/fileio.h"
#include "your_ai/jsonl.h" /* defines: ya_jsonl_max_line_bytes */
#include "your_ai/log.h"
#include "your_ai/metrics.h"
#include "your_ai/model.h"
#include "your_ai/progress.h"
#include "your_ai/rng.h"
#include "your_ai/safetensors.h"
#include "your_ai/sha256.h"
#include "your_ai/tokenizer.h"
#include "your_ai/trainer.h"

/* The one piece of process-wide state: a signal handler can only talk to the
 * loop through a sig_atomic_t. */
static volatile sig_atomic_t g_stop_signal;

/* The first SIGINT/SIGTERM asks for a checkpoint and a clean stop; a second one
 * means "now": exit at once with 128 + signal (130 for SIGINT), as a shell does.
 * Saves are atomic, so the last complete checkpoint stays valid. */
static void on_signal(int sig) {
    if (g_stop_signal) {
        static const char msg[] = "\nsecond signal: stopping now, without a checkpoint\n";
        ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)ignored;
        _exit(128 + sig);
    }
    g_stop_signal = sig;
}

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

/* ---- model identity (SPEC §9): what a checkpoint was trained against ---- */

typedef struct ModelIdentity {
    char config[65];    /* sha256 of config.json's bytes */
    char tensors[65];   /* sha256 of the sorted "name dtype [d0,d1,…]\n" lines */
    char tokenizer[65]; /* sha256 of tokenizer.json's bytes ("" when the directory has none) */
    json_t *lines;      /* the sorted tensor lines (JSON strings), so a mismatch can name the tensor */
} ModelIdentity;

static int hash_model_file(const char *dir, const char *name, int optional, char hex[65], YaError *err) {
    char path[4096], *data;
    size_t len;
    int rc = ya_path_join(path, sizeof path, dir, name, err);
    if (rc != YA_OK) return rc;
    hex[0] = '\0';
    if (optional && !ya_path_exists(path)) return YA_OK;
    if ((rc = ya_read_file(path, &data, &len, err)) != YA_OK) return rc;
    ya_sha256_hex(data, len, hex);
    free(data);
    return YA_OK;
}

static int cmp_cstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int model_identity(const YaModel *m, ModelIdentity *id, YaError *err) {
    int rc = hash_model_file(m->dir, "config.json", 0, id->config, err);
    if (rc == YA_OK) rc = hash_model_file(m->dir, "tokenizer.json", 1, id->tokenizer, err);
    if (rc != YA_OK) return rc;
    size_t n = ya_weights_count(m->weights);
    char **lines = calloc(n ? n : 1, sizeof *lines);
    if (!lines) return ya_fail(err, YA_ERR, "out of memory");
    for (size_t i = 0; i < n && rc == YA_OK; i++) {
        const YaTensorInfo *t = ya_weights_at(m->weights, i);
        char shape[256] = "[";
        for (int d = 0; d < t->ndim; d++)
            snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%" PRId64, d ? "," : "", t->shape[d]);
        snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "]");
        size_t cap = strlen(t->name) + strlen(shape) + 32;
        if (!(lines[i] = malloc(cap))) rc = ya_fail(err, YA_ERR, "out of memory");
        else snprintf(lines[i], cap, "%s %s %s", t->name, ya_dtype_name(t->dtype), shape);
    }
    if (rc == YA_OK) {
        qsort(lines, n, sizeof *lines, cmp_cstr);
        YaSha256 ctx;
        uint8_t digest[32];
        ya_sha256_init(&ctx);
        id->lines = json_array();
        for (size_t i = 0; i < n; i++) {
            ya_sha256_update(&ctx, lines[i], strlen(lines[i]));
            ya_sha256_update(&ctx, "\n", 1);
            json_array_append_new(id->lines, json_string(lines[i]));
        }
        ya_sha256_final(&ctx, digest);
        ya_digest_to_hex(digest, id->tensors);
    }
    for (size_t i = 0; i < n; i++) free(lines[i]);
    free(lines);
    return rc;
}

static json_t *identity_json(const ModelIdentity *id) {
    return json_pack("{s:s, s:s, s:s?, s:O}", "config_sha256", id->config, "tensors_sha256", id->tensors,
                     "tokenizer_sha256", id->tokenizer[0] ? id->tokenizer : NULL, "tensors", id->lines);
}

/* SPEC §9: a checkpoint resumes only on the model it was trained on. rc names
 * every part that differs (config.json, a tensor, the tokenizer). */
static int check_identity(const char *ckpt, const json_t *run_config, const ModelIdentity *id, const char *model_dir,
                          YaError *err) {
    const json_t *have = json_object_get(run_config, "model_identity");
    if (!json_is_object(have)) {
        ya_warn("%s: run_config.json has no model_identity (an older checkpoint); the base model is not checked", ckpt);
        return YA_OK;
    }
    char msg[900] = "";
    size_t len = 0;
#define ADD(...) (len += (size_t)snprintf(msg + len, len < sizeof msg ? sizeof msg - len : 0, __VA_ARGS__))
    const char *c = json_string_value(json_object_get(have, "config_sha256"));
    if (!c || strcmp(c, id->config))
        ADD("; config.json differs (sha256 %.12s… in the checkpoint, %.12s… in %s)", c ? c : "?", id->config,
            model_dir);
    const char *t = json_string_value(json_object_get(have, "tensors_sha256"));
    if (!t || strcmp(t, id->tensors)) {
        const json_t *old = json_object_get(have, "tensors");
        size_t n_old = json_array_size(old), n_new = json_array_size(id->lines), i = 0;
        while (i < n_old && i < n_new &&
               !strcmp(json_string_value(json_array_get(old, i)), json_string_value(json_array_get(id->lines, i))))
            i++;
        if (i < n_old && i < n_new)
            ADD("; tensor '%s' in the checkpoint's model is '%s' now", json_string_value(json_array_get(old, i)),
                json_string_value(json_array_get(id->lines, i)));
        else if (n_old != n_new)
            ADD("; the checkpoint's model has %zu tensors, %s has %zu", n_old, model_dir, n_new);
        else
            ADD("; the tensor names/dtypes/shapes differ (sha256 %.12s… vs %.12s…)", t ? t : "?", id->tensors);
    }
    const char *k = json_string_value(json_object_get(have, "tokenizer_sha256"));
    if ((k ? k : "")[0] != id->tokenizer[0] || (k && strcmp(k, id->tokenizer)))
        ADD("; tokenizer.json differs (sha256 %.12s… in the checkpoint, %.12s… in %s)", k ? k : "(none)",
            id->tokenizer[0] ? id->tokenizer : "(none)", model_dir);
#undef ADD
    if (!len) return YA_OK;
    return ya_fail(err, YA_ERR, "%s was trained on a different base model than --model %s: %s", ckpt, model_dir,
                   msg + 2);
}

/* ---- the run ---------------------------------------------------------------- */

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
    ModelIdentity identity;
    YaProgress progress;
    json_t *loss_history;     /* [{step,total,ce,wce,distrust,grad_norm,lr}] of every logged update */
    json_t *best_val;         /* {"step","ce","ppl"} of the lowest validation CE, or NULL */
    double wall_before;       /* wall seconds of the earlier sessions of this run (resume) */
    double session_start;     /* ya_progress_now() when this session's setup began */
    double loop_start;        /* ya_progress_now() at the first update of this session (metrics "elapsed") */
    char last_saved[4096];    /* the newest checkpoint written or resumed from ("" = none) */
} Run;

/* A line on stderr that keeps the progress bar intact. */
static void say(Run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(Run *r, const char *fmt, ...) {
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (r->progress.fp) ya_progress_message(&r->progress, "%s", line);
    else fprintf(stderr, "%s\n", line);
}

/* JSON for a metric that may be NaN (wce outside weighted mode): null then. */
static json_t *num_or_null(double x) { return isfinite(x) ? json_real(x) : json_null(); }

static const char *or_unknown(const char *s) { return s ? s : "unknown"; }

/* run_config.json: every flag as resolved for this run (defaults written out),
 * keyed by the flag's name without "--" ('-' → '_'), plus the model identity. */
static json_t *build_run_config(const Run *r) {
    const YaTrainerConfig *c = r->cfg;
    const YaDataConfig *d = &c->data;
    const YaTrainStepConfig *s = &r->step_cfg;
    const YaLossConfig *lc = &s->loss;
    char targets[128];
    ya_lora_format_targets(c->lora.targets, targets, sizeof targets);
    json_t *data = json_array();
    for (size_t i = 0; i < c->n_data; i++) json_array_append_new(data, json_string(c->data_paths[i]));
    YaChatFormat chat = d->chat_format != YA_CHAT_NONE ? d->chat_format : ya_tokenizer_chat_format(r->tok);
    json_t *j = json_object();
    json_object_set_new(j, "format", json_string("your_ai.run_config"));
    json_object_set_new(j, "library_version", json_string(or_unknown(c->version)));
    json_object_set_new(j, "model", json_string(c->model_dir));
    json_object_set_new(j, "data", data);
    json_object_set_new(j, "val", c->val_path ? json_string(c->val_path) : json_null());
    json_object_set_new(j, "out", json_string(c->out_dir));
    json_object_set_new(j, "train", json_string(c->graph.kind == YA_TRAIN_LORA ? "lora" : "full"));
    json_object_set_new(j, "lora_rank", json_integer(c->lora.rank));
    json_object_set_new(j, "lora_alpha", json_real(c->lora.alpha));
    json_object_set_new(j, "lora_layers", json_integer(c->lora.layers));
    json_object_set_new(j, "lora_dropout", json_real(c->lora.dropout));
    json_object_set_new(j, "lora_targets", json_string(targets));
    json_object_set_new(j, "learning_rate", json_real(s->schedule.lr0));
    json_object_set_new(j, "warmup_steps", json_integer(s->schedule.warmup));
    json_object_set_new(j, "max_steps", json_integer(s->schedule.max_steps));
    json_object_set_new(j, "grad_accum", json_integer(c->grad_accum));
    json_object_set_new(j, "max_grad_norm", json_real(s->max_grad_norm));
    json_object_set_new(j, "weight_decay", json_real(s->adamw.weight_decay));
    json_object_set_new(j, "optimizer", json_string(ya_optimizer_name(s->adamw.kind)));
    json_object_set_new(j, "adam_beta1", json_real(s->adamw.beta1));
    json_object_set_new(j, "adam_beta2", json_real(s->adamw.beta2));
    json_object_set_new(j, "adam_eps", json_real(s->adamw.eps));
    json_object_set_new(j, "distrust_mode", json_string(ya_distrust_mode_name(lc->mode)));
    json_object_set_new(j, "lambda", json_real(lc->wp.lambda));
    json_object_set_new(j, "alpha", json_real(lc->wp.alpha));
    json_object_set_new(j, "w_min", json_real(lc->wp.w_min));
    json_object_set_new(j, "w_max", json_real(lc->wp.w_max));
    json_object_set_new(j, "weight_stats", json_string(lc->stats == YA_WEIGHT_STATS_RUNNING ? "running" : "dataset"));
    json_object_set_new(j, "weight_norm", json_string(lc->weight_norm_batch ? "batch" : "step"));
    json_object_set_new(j, "recompute", json_string(ya_recompute_name(c->graph.recompute)));
    json_object_set_new(j, "device", json_string(ya_device_name(c->graph.device)));
    json_object_set_new(j, "gpu", json_integer(c->graph.gpu));
    json_object_set_new(j, "ce_chunk", json_integer(c->graph.ce_chunk));
    json_object_set_new(j, "matmul", json_string(c->graph.matmul == YA_MATMUL_BF16 ? "bf16" : "fp32"));
    json_object_set_new(j, "save_every", json_integer(c->save_every));
    json_object_set_new(j, "keep_last", json_integer(c->keep_last));
    json_object_set_new(j, "log_every", json_integer(c->log_every));
    json_object_set_new(j, "eval_every", json_integer(c->eval_every));
    json_object_set_new(j, "eval_batches", json_integer(c->eval_batches));
    json_object_set_new(j, "resume", c->resume ? json_string(c->resume) : json_null());
    json_object_set_new(j, "threads", json_integer(c->threads > 0 ? c->threads : omp_get_max_threads()));
    json_object_set_new(j, "progress", json_string(r->progress.tty ? "bar" : "plain"));
    json_object_set_new(j, "max_seq_length", json_integer(d->max_seq_len));
    json_object_set_new(j, "batch_size", json_integer(d->batch_size));
    json_object_set_new(j, "batching", json_string(d->mode == YA_BATCH_PACK ? "pack" : "pad"));
    json_object_set_new(j, "seed", json_integer((json_int_t)d->seed)); /* ≥ 2^63 wraps; reads back bit-exactly */
    json_object_set_new(j, "mask_prompt", json_string(d->mask_prompt ? "on" : "off"));
    json_object_set_new(j, "train_on",
                        json_string(d->train_on == YA_TRAIN_ON_ALL_ASSISTANT ? "all-assistant" : "final"));
    json_object_set_new(j, "append_eos", json_boolean(d->append_eos));
    json_object_set_new(j, "chat_format", json_string(ya_chat_format_name(chat)));
    json_object_set_new(j, "data_format", json_string(ya_data_format_name(d->format)));
    json_object_set_new(j, "default_auth", d->has_default_auth ? json_real(d->default_auth) : json_null());
    json_object_set_new(j, "default_entropy", d->has_default_entropy ? json_real(d->default_entropy) : json_null());
    json_object_set_new(j, "score", json_boolean(d->score));
    json_object_set_new(j, "on_bad_line", json_string(d->on_bad_line == YA_BAD_LINE_SKIP ? "skip" : "fail"));
    json_object_set_new(j, "max_line_bytes", json_integer((json_int_t)ya_jsonl_max_line_bytes()));
    json_object_set_new(j, "model_identity", identity_json(&r->identity));
    return j;
}

/* The PRNG streams of the run (docs/CHECKPOINTS.md). Every random draw comes
 * from a stream seeded afresh from (seed, tag) (rng.h), so the seed, the tags
 * and the counters below are the whole random state; the data-order stream's
 * xoshiro256** state is written too (hex), so a reader can check it. */
static json_t *rng_json(const Run *r, const YaDataCursor *cur, long long step) {
    uint64_t seed = r->cfg->data.seed;
    char hex[20], tag[64];
    snprintf(hex, sizeof hex, "%016" PRIx64, seed);
    snprintf(tag, sizeof tag, "epoch:%" PRIu64, (uint64_t)cur->epoch);
    YaRng order;
    ya_rng_seed(&order, seed, tag);
    return json_pack("{s:s, s:I, s:s, s:{s:s, s:o, s:I, s:I}, s:{s:s}, s:{s:s, s:f, s:I}}", "algorithm",
                     "xoshiro256** seeded by SplitMix64 from (seed, tag)", "seed", (json_int_t)seed, "seed_hex", hex,
                     "data_order", "tag", tag, "state", ya_rng_state_json(&order), "epoch", (json_int_t)cur->epoch,
                     "position", (json_int_t)cur->position, "lora_init", "tag", "lora-init:<PEFT key of lora_A>",
                     "lora_dropout", "tag", "lora-dropout:<counter>:<layer>:<projection>:<row>", "p",
                     r->cfg->lora.dropout, "next_counter", (json_int_t)(step * r->cfg->grad_accum));
}

static json_t *build_trainer_state(const Run *r, long long step) {
    YaDataCursor cur = ya_data_get_cursor(r->train);
    const YaLossConfig *lc = &r->step_cfg.loss;
    const char *stats = lc->mode != YA_DISTRUST_WEIGHTED          ? "none"
                        : lc->stats == YA_WEIGHT_STATS_RUNNING ? "running"
                                                                : "dataset";
    json_t *st = json_object();
    json_object_set_new(st, "library_version", json_string(or_unknown(r->cfg->version)));
    json_object_set_new(st, "rng", rng_json(r, &cur, step));
    json_object_set_new(st, "data", ya_data_cursor_to_json(r->train, &cur));
    /* "running" is what resume restores; "weight_stats" adds μ and c for readers. */
    json_object_set_new(st, "running", json_pack("{s:I, s:f, s:f}", "n", (json_int_t)r->running.n, "sum_d",
                                                 r->running.sum_d, "sum_r", r->running.sum_r));
    json_object_set_new(st, "weight_stats",
                        json_pack("{s:s, s:o, s:o, s:{s:I, s:f, s:f}}", "mode", stats, "mu",
                                  num_or_null(lc->stats == YA_WEIGHT_STATS_RUNNING && r->running.n
                                                  ? r->running.sum_d / (double)r->running.n
                                                  : lc->mu),
                                  "c",
                                  num_or_null(lc->stats == YA_WEIGHT_STATS_RUNNING && r->running.n
                                                  ? r->running.sum_r / (double)r->running.n
                                                  : lc->c),
                                  "running", "n", (json_int_t)r->running.n, "sum_d", r->running.sum_d, "sum_r",
                                  r->running.sum_r));
    json_object_set(st, "loss_history", r->loss_history);
    json_object_set(st, "best_val", r->best_val ? r->best_val : json_null());
    json_object_set_new(st, "wall_time_s", json_real(r->wall_before + (ya_progress_now() - r->session_start)));
    return st;
}

static int save_checkpoint(Run *r, long long step, int final, YaError *err) {
    char saved[4096];
    int rc = ya_train_graph_pull(r->graph, err); /* GPU: the live parameters and moments are on the device */
    if (rc != YA_OK) return rc;
    if (!r->has_lora) {
        rc = save_full_model(r->cfg, r->model, ya_train_graph_full(r->graph), step, final, saved, sizeof saved, err);
    } else {
        json_t *state = build_trainer_state(r, step);
        json_t *run_cfg = build_run_config(r);
        YaCheckpointSave s = {.out_dir = r->cfg->out_dir, .step = step, .final = final, .lora = &r->lora,
                              .optimizer_t = step, .optimizer_name = ya_optimizer_name(r->step_cfg.adamw.kind),
                              .base_model = r->cfg->model_dir, .trainer_state = state, .run_config = run_cfg,
                              .keep_last_n = r->cfg->keep_last};
        rc = ya_checkpoint_save(&s, saved, sizeof saved, err);
        json_decref(state);
        json_decref(run_cfg);
    }
    if (rc == YA_OK) {
        snprintf(r->last_saved, sizeof r->last_saved, "%s", saved);
        if (r->progress.tty) say(r, "saved %s", saved);
        else ya_info("saved %s", saved); /* honours --quiet */
    }
    return rc;
}

static void run_free(Run *r) {
    if (r->mbs)
        for (int k = 0; k < r->cfg->grad_accum; k++) ya_batch_free(&r->mbs[k]);
    free(r->mbs);
    free(r->mb_ptrs);
    free(r->eval_weight);
    free(r->eval_segs);
    json_decref(r->identity.lines);
    json_decref(r->loss_history);
    json_decref(r->best_val);
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

/* SPEC §9: a changed max_steps or lr resumes, with a warning (the schedule
 * changes); other changed flags are listed so the user sees them. */
static void warn_config_changes(const char *ckpt, const json_t *old, const json_t *now) {
    static const char *const ignore[] = {"resume", "out", "threads", "progress", "library_version", "model_identity",
                                         "model"};
    char others[512] = "";
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)now, key, v) {
        int skip = 0;
        for (size_t i = 0; i < sizeof ignore / sizeof *ignore; i++) skip |= !strcmp(key, ignore[i]);
        const json_t *o = json_object_get(old, key);
        if (skip || !o || json_equal((json_t *)o, v)) continue;
        if (!strcmp(key, "max_steps") || !strcmp(key, "learning_rate") || !strcmp(key, "warmup_steps")) {
            char *a = ya_json_dumps(o), *b = ya_json_dumps(v);
            ya_warn("%s: --%s changed from %s to %s: the learning-rate schedule of the resumed run differs from the "
                    "original one",
                    ckpt, !strcmp(key, "max_steps") ? "max-steps" : !strcmp(key, "learning_rate") ? "learning-rate"
                                                                                                    : "warmup-steps",
                    a ? a : "?", b ? b : "?");
            free(a);
            free(b);
        } else if (strlen(others) + strlen(key) + 3 < sizeof others) {
            if (others[0]) strcat(others, ", ");
            strcat(others, key);
        }
    }
    if (others[0]) ya_warn("%s: resuming with settings that differ from the checkpoint's run: %s", ckpt, others);
}

/* Restores the trainer-owned parts of trainer_state.json (everything but the tensors). */
static int restore_state(Run *r, const char *path, const json_t *ts, long long start, YaError *err) {
    json_t *data = json_object_get(ts, "data");
    json_t *run = json_object_get(ts, "running");
    YaDataCursor cur;
    int rc = data ? ya_data_cursor_from_json(r->train, data, &cur, err)
                  : ya_fail(err, YA_ERR, "%s: trainer_state.json has no data cursor", path);
    if (rc == YA_OK) rc = ya_data_set_cursor(r->train, &cur, err);
    if (rc != YA_OK) return rc;
    if (run) {
        r->running.n = (uint64_t)json_integer_value(json_object_get(run, "n"));
        r->running.sum_d = json_number_value(json_object_get(run, "sum_d"));
        r->running.sum_r = json_number_value(json_object_get(run, "sum_r"));
    }
    /* The data-order stream must be the one this build derives from (seed, tag). */
    const json_t *order = json_object_get(json_object_get(ts, "rng"), "data_order");
    if (order) {
        YaRng saved, now;
        const char *tag = json_string_value(json_object_get(order, "tag"));
        if (!tag) return ya_fail(err, YA_ERR, "%s: trainer_state.json rng.data_order.tag: expected a string", path);
        if ((rc = ya_rng_state_parse(json_object_get(order, "state"), "trainer_state.json rng.data_order.state", &saved,
                                     err)) != YA_OK)
            return ya_error_prefix(err, "%s", path);
        ya_rng_seed(&now, r->cfg->data.seed, tag);
        if (memcmp(saved.s, now.s, sizeof now.s))
            return ya_fail(err, YA_ERR, "%s: the PRNG stream '%s' does not reproduce from --seed %" PRIu64
                           " (a different seed or PRNG); the data order would differ", path, tag, r->cfg->data.seed);
    }
    /* Loss history up to the resumed step (a killed run may have logged later steps that are redone now). */
    const json_t *hist = json_object_get(ts, "loss_history");
    size_t i;
    json_t *row;
    json_array_foreach(hist, i, row) {
        if (json_integer_value(json_object_get(row, "step")) <= start) json_array_append(r->loss_history, row);
    }
    const json_t *best = json_object_get(ts, "best_val");
    if (json_is_object(best) && json_integer_value(json_object_get(best, "step")) <= start)
        r->best_val = json_deep_copy(best);
    r->wall_before = json_number_value(json_object_get(ts, "wall_time_s"));
    return YA_OK;
}

/* --resume: identity first (nothing loaded yet), then the tensors and the state. */
static int resume(Run *r, long long *start, YaError *err) {
    char path[4096], rc_path[4096];
    int found = 0;
    int rc = ya_checkpoint_resolve(r->cfg->resume, r->cfg->out_dir, path, sizeof path, &found, err);
    if (rc != YA_OK) return rc;
    if (!found) { /* `auto` found nothing that verifies (each skipped one was warned about): say so, start fresh */
        ya_warn("--resume auto: no valid checkpoint in %s; training starts fresh from update 0", r->cfg->out_dir);
        return YA_OK;
    }
    if (!r->has_lora) return ya_fail(err, YA_ERR_USAGE, "--resume is not supported with --train full yet");
    json_t *old_cfg = NULL;
    if ((rc = ya_path_join(rc_path, sizeof rc_path, path, "run_config.json", err)) != YA_OK) return rc;
    if ((rc = ya_json_load_file(rc_path, 0, &old_cfg, err)) != YA_OK) return rc;
    rc = check_identity(path, old_cfg, &r->identity, r->cfg->model_dir, err);
    if (rc == YA_OK) {
        json_t *now_cfg = build_run_config(r);
        warn_config_changes(path, old_cfg, now_cfg);
        json_decref(now_cfg);
    }
    json_decref(old_cfg);
    if (rc != YA_OK) return rc;
    YaCheckpointState st = {0};
    if ((rc = ya_checkpoint_load(path, &r->lora, &st, err)) != YA_OK) return rc;
    *start = st.step;
    rc = restore_state(r, path, st.trainer_state, st.step, err);
    ya_checkpoint_state_free(&st);
    if (rc != YA_OK) return rc;
    snprintf(r->last_saved, sizeof r->last_saved, "%s", path);
    ya_info("resumed from %s at update %lld", path, *start);
    return YA_OK;
}

/* Everything up to the first update: model, data, parameters, resume. *start = first update index. */
static int setup(Run *r, long long *start, YaError *err) {
    const YaTrainerConfig *cfg = r->cfg;
    YaDataConfig dc = cfg->data;
    r->step_cfg = cfg->step;
    r->step_cfg.seed = cfg->data.seed;
    r->session_start = ya_progress_now();
    if (!(r->loss_history = json_array())) return ya_fail(err, YA_ERR, "out of memory");
    YaLossConfig *lc = &r->step_cfg.loss;
    dc.need_scores = lc->mode != YA_DISTRUST_OFF;
    dc.alpha = dc.need_scores ? lc->wp.alpha : 0.0;
    int rc = ya_model_open(cfg->model_dir, &r->model, err);
    if (rc == YA_OK) rc = model_identity(r->model, &r->identity, err);
    if (rc == YA_OK) rc = ya_tokenizer_load(cfg->model_dir, &r->tok, err);
    if (rc == YA_OK) dc.vocab_size = r->model->cfg.vocab_size;
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
    ya_info("train: %s on %s, %s, recompute %s, %zu trainable parameters, graph %.1f MB, %" PRIu64 " samples",
            gc.kind == YA_TRAIN_LORA ? "LoRA" : "full fine-tuning", ya_device_name(gc.device), ya_distrust_mode_name(lc->mode),
            ya_recompute_name(gc.recompute),
            r->has_lora ? r->lora.n_params : ya_train_graph_full(r->graph)->n_params,
            (double)ya_train_graph_bytes(r->graph) / 1e6, ya_data_stats(r->train)->n_samples);
    if (lc->mode == YA_DISTRUST_ADDITIVE && lc->wp.lambda > 0)
        ya_info("note: --distrust-mode additive does not change the weights (SPEC §3.2): the term λ·mean ℓ is "
                "added to the logged total only");

    *start = 0;
    if (cfg->resume && (rc = resume(r, start, err)) != YA_OK) return rc;
    if (cfg->resume && (rc = ya_train_graph_push(r->graph, err)) != YA_OK) return rc; /* GPU: resumed state to the device */
    return ya_metrics_open(cfg->out_dir, cfg->resume ? *start : -1, &r->metrics, err);
}

/* One logged update: the loss history row, metrics.jsonl/TensorBoard, and the
 * plain progress line when stderr is not a terminal. */
static int log_update(Run *r, long long done, const YaStepMetrics *m, double tps, double now, YaError *err) {
    double wce = r->step_cfg.loss.mode == YA_DISTRUST_WEIGHTED ? m->wce : NAN;
    json_array_append_new(r->loss_history,
                          json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "step", (json_int_t)done, "total",
                                    num_or_null(m->total), "ce", num_or_null(m->ce), "wce", num_or_null(wce),
                                    "distrust", num_or_null(m->distrust), "grad_norm", num_or_null(m->grad_norm), "lr",
                                    num_or_null(m->lr)));
    if (!r->progress.tty) {
        /* "step N/S | loss … | tok/s | lr | ETA | mem" (progress.h) + the loss parts; scripts grep "^step N/". */
        char text[256];
        YaProgressInfo info = {.step = done, .loss = m->total, .tok_per_s = tps, .lr = m->lr, .now = now};
        ya_progress_format(&r->progress, &info, text, sizeof text);
        fprintf(stderr, "%s | ce %.4f  wce %.4f  distrust %.4f  grad_norm %.3f  omega %.3f/%.3f/%.3f\n", text, m->ce,
                m->wce, m->distrust, m->grad_norm, m->omega_min, m->omega_mean, m->omega_max);
    }
    YaTrainMetrics row = {.step = done, .total = m->total, .ce = m->ce, .wce = wce, .distrust = m->distrust,
                          .grad_norm = m->grad_norm, .lr = m->lr, .tok_per_s = tps,
                          .elapsed = now - r->loop_start,
                          .gpu_bytes = (double)ya_train_graph_device_bytes(r->graph)};
    return ya_metrics_log_train(r->metrics, &row, err);
}

static int validate(Run *r, long long done, YaError *err) {
    double vl;
    int rc = evaluate(r->graph, r->val, r->cfg->eval_batches, r->eval_weight, r->eval_segs, &vl, err);
    if (rc != YA_OK) return rc;
    say(r, "step %lld  val ce %.4f  ppl %.3f", done, vl, exp(vl));
    double best = r->best_val ? json_number_value(json_object_get(r->best_val, "ce")) : INFINITY;
    if (isfinite(vl) && vl < best) {
        json_decref(r->best_val);
        r->best_val = json_pack("{s:I, s:f, s:f}", "step", (json_int_t)done, "ce", vl, "ppl", exp(vl));
    }
    YaMetric items[2] = {{"ce", vl}, {"ppl", exp(vl)}};
    return ya_metrics_log(r->metrics, "val", done, 0, 2, items, err);
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
    double t0 = r.loop_start = ya_progress_now();
    ya_progress_init(&r.progress, stderr, cfg->progress, S, start, t0);
    size_t tokens_since = 0;
    double last_log = t0;
    int step_failed = 0;
    for (; u < S && rc == YA_OK; u++) {
        for (int k = 0; k < cfg->grad_accum && rc == YA_OK; k++) {
            const YaBatch *b;
            rc = ya_data_next(r.train, &b, err);
            if (rc == YA_OK) batch_copy(&r.mbs[k], b);
        }
        YaStepMetrics m;
        if (rc == YA_OK && (rc = ya_train_step(r.step, u, &r.running, r.mb_ptrs, cfg->grad_accum, &m, err)) != YA_OK)
            step_failed = 1;
        if (rc != YA_OK) break;
        tokens_since += m.tokens;
        long long done = u + 1;
        if (m.grad_norm > 5.0)
            say(&r, "your_ai: warning: update %lld: gradient norm %.3g > 5 before clipping", done, m.grad_norm);
        int log_step = cfg->log_every > 0 && (u % cfg->log_every == 0 || done == S);
        double now = ya_progress_now();
        double tps = now > last_log ? (double)tokens_since / (now - last_log) : 0.0;
        YaProgressInfo info = {.step = done, .loss = m.total, .tok_per_s = tps, .lr = m.lr, .now = now};
        if (r.progress.tty) ya_progress_update(&r.progress, &info, log_step);
        if (log_step) {
            if ((rc = log_update(&r, done, &m, tps, now, err)) != YA_OK) break;
            tokens_since = 0;
            last_log = now;
        }
        if (r.val && cfg->eval_every > 0 && done % cfg->eval_every == 0 && (rc = validate(&r, done, err)) != YA_OK)
            break;
        if (g_stop_signal) {
            say(&r, "your_ai: warning: %s received: stopping after update %lld",
                g_stop_signal == SIGINT ? "SIGINT" : "SIGTERM", done);
            if ((rc = save_checkpoint(&r, done, 0, err)) == YA_OK)
                say(&r, "interrupted at update %lld of %lld; continue with: --resume auto --out %s", done, S,
                    cfg->out_dir);
            u = done;
            break;
        }
        if (cfg->save_every > 0 && done % cfg->save_every == 0 && done < S)
            if ((rc = save_checkpoint(&r, done, 0, err)) != YA_OK) break;
    }
    ya_progress_finish(&r.progress); /* the last bar stays on screen above the closing messages */
    if (rc == YA_OK && !g_stop_signal && u >= S) rc = save_checkpoint(&r, S, 1, err);
    if (step_failed) {
        /* Issue 5: a non-finite loss stops the run; say which checkpoint is intact. */
        char msg[sizeof err->message];
        snprintf(msg, sizeof msg, "%s", err->message);
        if (r.last_saved[0])
            ya_fail(err, err->code, "%s; the last good checkpoint is %s (continue with --resume auto)", msg,
                    r.last_saved);
        else
            ya_fail(err, err->code, "%s; no checkpoint was saved before it", msg);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    run_free(&r);
    return rc;
}

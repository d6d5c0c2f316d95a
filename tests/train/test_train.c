/* test_train.c — the training step (train_graph.h, train_step.h, loss_modes.h)
 * against the plain-PyTorch reference tools/torch_train_ref.py.
 *
 *   test_train MODEL_DIR REF.safetensors SPEC_JSON
 *
 * REF holds the batch, the initial LoRA factors and torch's float64 gradients
 * of the step objective (SPEC §3.3) for the same SPEC. Checked here:
 *  - every trainable gradient (LoRA A/B, or every weight with "train":"full"):
 *    max|ours − torch| / max|torch| ≤ 1e-4 per tensor, and the objective;
 *  - --recompute attn and layer give bit-identical gradients to none;
 *  - accumulation: B micro-batches of one row each = one batch of B rows (≤ 1e-6);
 *  - with "steps": the AdamW run (clipping + schedule): every loss and the final
 *    parameters within 1e-5 relative of torch.optim.AdamW + clip_grad_norm_ + LambdaLR. */
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "your_ai/json.h"
#include "your_ai/lora.h"
#include "your_ai/safetensors.h"
#include "your_ai/train_step.h"

#include "train_ref.h"

static const char *spec_str(const char *key, const char *def) {
    json_t *v = json_object_get(g_spec, key);
    return v && json_is_string(v) ? json_string_value(v) : def;
}

static double rel_err_f(const float *got, const float *want, size_t n) {
    double md = 0, mr = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (!(d <= md)) md = d;
        if (fabs((double)want[i]) > mr) mr = fabs((double)want[i]);
    }
    return mr > 0 ? md / mr : md;
}

/* ---- the batch from the reference file ---------------------------------------------------- */

typedef struct Batch {
    int B, T;
    int32_t *ids;  // [B, T]
    uint8_t *sup;  // [B, T]
    int *lens;     // [B]
    double *w, *H; // [B]
    double *sw;    // [B] sample weights (the reference's "sample_weight", else all 1)
} Batch;

static void load_batch(Batch *b) {
    const YaTensorInfo *ids = ref_tensor("ids"), *tg = ref_tensor("targets"), *lens = ref_tensor("lens");
    b->B = (int)ids->shape[0], b->T = (int)ids->shape[1];
    size_t n = (size_t)b->B * b->T;
    b->ids = malloc(n * 4);
    memcpy(b->ids, ids->data, n * 4);
    const int32_t *targets = tg->data;
    b->sup = calloc(n, 1);
    b->lens = malloc((size_t)b->B * sizeof(int));
    for (int r = 0; r < b->B; r++) {
        b->lens[r] = ((const int32_t *)lens->data)[r];
        for (int t = 1; t < b->T; t++) b->sup[(size_t)r * b->T + t] = targets[(size_t)r * b->T + t - 1] >= 0;
    }
    b->w = ref_f64("w", NULL);
    b->H = ref_f64("H", NULL);
    if (ya_st_find(g_ref, "sample_weight")) {
        b->sw = ref_f64("sample_weight", NULL);
    } else {
        b->sw = malloc((size_t)b->B * sizeof *b->sw);
        for (int r = 0; r < b->B; r++) b->sw[r] = 1.0;
    }
}

/* rows [first, first+count) of the reference batch as a pad-mode YaBatch. */
static void make_batch(const Batch *src, int first, int count, YaBatch *out) {
    YaError err = {0};
    YaDataSeq seqs[64];
    for (int i = 0; i < count; i++) {
        int r = first + i;
        seqs[i] = (YaDataSeq){.ids = src->ids + (size_t)r * src->T, .sup = src->sup + (size_t)r * src->T,
                              .len = src->lens[r], .w = src->w[r], .h = src->H[r], .weight = src->sw[r],
                              .index = (uint64_t)r};
    }
    if (ya_batch_alloc(out, count, src->T, &err) != YA_OK || ya_batch_build_pad(out, seqs, count, &err) != YA_OK) {
        fprintf(stderr, "%s: batch: %s\n", g_case, err.message);
        exit(1);
    }
}

/* ---- setup -------------------------------------------------------------------------------- */

typedef struct Run {
    YaModel *model;
    YaLoraSet lora;
    int is_lora;
    YaTrainGraph *graph;
    YaTrainStep *step;
    YaTrainStepConfig cfg;
} Run;

static void set_lora_init(YaLoraSet *set) {
    for (size_t i = 0; i < set->n_tensors; i++) {
        const YaLoraTensor *t = &set->t[i];
        char name[160];
        snprintf(name, sizeof name, "init.%s", t->key_a);
        const YaTensorInfo *a = ref_tensor(name);
        snprintf(name, sizeof name, "init.%s", t->key_b);
        const YaTensorInfo *b = ref_tensor(name);
        CHECK(a->numel == (uint64_t)set->cfg.rank * t->in && b->numel == (uint64_t)t->out * set->cfg.rank);
        memcpy(set->params + t->a_off, a->data, a->numel * 4);
        memcpy(set->params + t->b_off, b->data, b->numel * 4);
    }
    memset(set->m, 0, set->n_params * 4);
    memset(set->v, 0, set->n_params * 4);
}

static void run_open(Run *run, const char *model_dir, const Batch *batch, YaRecompute rec, const double *w_override,
                     double lambda_override) {
    YaError err = {0};
    memset(run, 0, sizeof *run);
    if (ya_model_open(model_dir, &run->model, &err) != YA_OK) {
        fprintf(stderr, "%s\n", err.message);
        exit(1);
    }
    run->is_lora = !strcmp(spec_str("train", "lora"), "lora");
    if (run->is_lora) {
        YaLoraConfig lc;
        ya_lora_config_defaults(&lc);
        lc.rank = (int)spec_num("rank", 4);
        lc.alpha = spec_num("alpha", 8);
        lc.layers = (int)spec_num("layers", -1);
        lc.dropout = spec_num("lora_dropout", 0.0);
        lc.targets = 0;
        json_t *tg = json_object_get(g_spec, "targets");
        size_t i;
        json_t *v;
        json_array_foreach(tg, i, v) {
            unsigned mask;
            CHECK(ya_lora_parse_targets(json_string_value(v), &mask, &err) == YA_OK);
            lc.targets |= mask;
        }
        if (ya_lora_create(&run->model->cfg, &lc, 1, &run->lora, &err) != YA_OK) {
            fprintf(stderr, "lora: %s\n", err.message);
            exit(1);
        }
        set_lora_init(&run->lora);
    }
    int pack_len = (int)spec_num("pack_len", 0);
    YaTrainGraphConfig gc = {.max_rows = batch->B, .max_seq = batch->T > pack_len ? batch->T : pack_len, .kind = run->is_lora ? YA_TRAIN_LORA : YA_TRAIN_FULL,
                             .recompute = rec, .ce_chunk = (int)spec_num("ce_chunk", 37)};
    if (ya_train_graph_new(run->model, run->is_lora ? &run->lora : NULL, &gc, &run->graph, &err) != YA_OK) {
        fprintf(stderr, "graph: %s\n", err.message);
        exit(1);
    }
    YaTrainStepConfig *c = &run->cfg;
    c->seed = 42;
    ya_adamw_defaults(&c->adamw);
    c->adamw.weight_decay = spec_num("wd", 0.01);
    c->max_grad_norm = spec_num("max_grad_norm", 1.0);
    int steps = (int)spec_num("steps", 0);
    CHECK(ya_schedule_init(&c->schedule, spec_num("lr", 1e-3), (long long)spec_num("warmup", 0),
                           (long long)spec_num("max_steps", steps > 0 ? steps : 1), &err) == YA_OK);
    ya_loss_config_defaults(&c->loss);
    CHECK(ya_distrust_mode_parse(spec_str("mode", "off"), &c->loss.mode, &err) == YA_OK);
    c->loss.wp.alpha = spec_num("dalpha", 2.7);
    c->loss.wp.lambda = lambda_override >= 0 ? lambda_override : spec_num("lambda", 0.6);
    /* dataset statistics over the reference's samples (its ω use the same population) */
    double *om = malloc((size_t)batch->B * sizeof(double));
    const double *w = w_override ? w_override : batch->w;
    if (ya_distrust_dataset_weights(w, batch->H, (size_t)batch->B, &c->loss.wp, NULL, om, &c->loss.mu, &c->loss.c,
                                    &err) != YA_DISTRUST_OK) {
        fprintf(stderr, "dataset weights: %s\n", err.message);
        exit(1);
    }
    free(om);
    if (ya_train_step_new(run->graph, c, batch->B, &run->step, &err) != YA_OK) {
        fprintf(stderr, "step: %s\n", err.message);
        exit(1);
    }
}

static void run_close(Run *run) {
    ya_train_step_free(run->step);
    ya_train_graph_free(run->graph);
    if (run->is_lora) ya_lora_free(&run->lora);
    ya_model_free(run->model);
}

static float *grads_copy(Run *run, size_t *n) {
    float *p, *g, *m, *v;
    ya_train_graph_buffers(run->graph, &p, &g, &m, &v, n);
    float *out = malloc(*n * 4 + 4);
    memcpy(out, g, *n * 4);
    return out;
}

/* (name, offset, numel) of every trainable tensor, in the reference's key names. */
typedef struct Named {
    char name[160];
    size_t off, numel;
} Named;

static size_t trainable_tensors(Run *run, Named **out) {
    if (run->is_lora) {
        size_t n = run->lora.n_tensors;
        *out = calloc(2 * n, sizeof **out);
        for (size_t i = 0; i < n; i++) {
            const YaLoraTensor *t = &run->lora.t[i];
            snprintf((*out)[2 * i].name, sizeof(*out)->name, "%s", t->key_a);
            (*out)[2 * i].off = t->a_off, (*out)[2 * i].numel = (size_t)run->lora.cfg.rank * t->in;
            snprintf((*out)[2 * i + 1].name, sizeof(*out)->name, "%s", t->key_b);
            (*out)[2 * i + 1].off = t->b_off, (*out)[2 * i + 1].numel = (size_t)run->lora.cfg.rank * t->out;
        }
        return 2 * n;
    }
    const YaFullParams *fp = ya_train_graph_full(run->graph);
    *out = calloc(fp->n_tensors, sizeof **out);
    for (size_t i = 0; i < fp->n_tensors; i++) {
        snprintf((*out)[i].name, sizeof(*out)->name, "%s", fp->t[i].name);
        (*out)[i].off = fp->t[i].off, (*out)[i].numel = fp->t[i].numel;
    }
    return fp->n_tensors;
}

static void grads(Run *run, const Batch *batch, int rows_per_micro, YaStepMetrics *m) {
    YaError err = {0};
    int G = batch->B / rows_per_micro;
    YaBatch mbs[64];
    const YaBatch *ptrs[64] = {0};
    for (int k = 0; k < G; k++) {
        make_batch(batch, k * rows_per_micro, rows_per_micro, &mbs[k]);
        ptrs[k] = &mbs[k];
    }
    if (ya_train_step_grads(run->step, NULL, ptrs, G, m, &err) != YA_OK) {
        fprintf(stderr, "%s: grads: %s\n", g_case, err.message);
        exit(1);
    }
    for (int k = 0; k < G; k++) ya_batch_free(&mbs[k]);
}

/* All rows of the reference batch packed into rows of pack_len tokens (data_batch.c's greedy packer). */
static void grads_packed(Run *run, const Batch *src, int pack_len, YaStepMetrics *m, int *rows) {
    YaError err = {0};
    YaDataSeq seqs[64];
    for (int r = 0; r < src->B; r++)
        seqs[r] = (YaDataSeq){.ids = src->ids + (size_t)r * src->T, .sup = src->sup + (size_t)r * src->T,
                              .len = src->lens[r], .w = src->w[r], .h = src->H[r], .weight = src->sw[r],
                              .index = (uint64_t)r};
    YaBatch mb;
    int used = 0;
    if (ya_batch_alloc(&mb, src->B, pack_len, &err) != YA_OK ||
        ya_batch_build_pack(&mb, seqs, src->B, pack_len, &used, &err) != YA_OK || used != src->B) {
        fprintf(stderr, "%s: pack batch: %s (%d of %d placed)\n", g_case, err.message, used, src->B);
        exit(1);
    }
    *rows = mb.B;
    const YaBatch *ptr = &mb;
    if (ya_train_step_grads(run->step, NULL, &ptr, 1, m, &err) != YA_OK) {
        fprintf(stderr, "%s: packed grads: %s\n", g_case, err.message);
        exit(1);
    }
    ya_batch_free(&mb);
}

/* ---- the checks ----------------------------------------------------------------------------- */

static void test_gradients(const char *model_dir, const Batch *batch) {
    Run run;
    run_open(&run, model_dir, batch, YA_RECOMPUTE_NONE, NULL, -1);
    YaStepMetrics m;
    grads(&run, batch, batch->B, &m);
    double *loss = ref_f64("loss", NULL), *dm = ref_f64("distrust_mean", NULL);
    printf("objective: ours %.10g torch %.10g; ce %.6g, distrust %.6g, total %.6g\n", m.wce, loss[0], m.ce,
           m.distrust, m.total);
    CHECK_MSG(fabs(m.wce - loss[0]) <= 1e-5 * fabs(loss[0]), "objective %.10g vs torch %.10g", m.wce, loss[0]);
    if (strcmp(spec_str("mode", "off"), "off"))
        CHECK_MSG(fabs(m.distrust - dm[0]) <= 1e-12 * fabs(dm[0]), "distrust mean %.17g vs %.17g", m.distrust, dm[0]);
    if (!strcmp(spec_str("mode", "off"), "additive"))
        CHECK_MSG(m.total == m.ce + spec_num("lambda", 0.6) * m.distrust, "additive total");
    free(loss), free(dm);

    size_t n;
    float *g0 = grads_copy(&run, &n);
    Named *tens;
    size_t nt = trainable_tensors(&run, &tens);
    double worst = 0;
    for (size_t i = 0; i < nt; i++) {
        char key[200];
        snprintf(key, sizeof key, "grad.%s", tens[i].name);
        size_t nref;
        double *want = ref_f64(key, &nref);
        CHECK_MSG(nref == tens[i].numel, "%s: %zu values, torch has %zu", tens[i].name, tens[i].numel, nref);
        double e = rel_err(g0 + tens[i].off, want, tens[i].numel);
        if (e > worst) worst = e;
        printf("  %-62s rel %.3e\n", tens[i].name, e);
        CHECK_MSG(e <= 1e-4, "%s: %s gradient relative error %.3e > 1e-4", g_case, tens[i].name, e);
        free(want);
    }
    printf("%zu gradient tensors, worst relative error %.3e\n", nt, worst);
    run_close(&run);

    /* recompute attn / layer: the same ops in the same order → the same bits */
    for (int rc = YA_RECOMPUTE_ATTN; rc <= YA_RECOMPUTE_LAYER; rc++) {
        run_open(&run, model_dir, batch, (YaRecompute)rc, NULL, -1);
        YaStepMetrics m2;
        grads(&run, batch, batch->B, &m2);
        size_t n2;
        float *g2 = grads_copy(&run, &n2);
        CHECK_MSG(n2 == n && memcmp(g0, g2, n * 4) == 0 && m2.wce == m.wce,
                  "--recompute %s: gradients differ from --recompute none (rel %.3e)", ya_recompute_name(rc),
                  rel_err_f(g2, g0, n));
        printf("recompute %-5s: gradients bit-identical: %s\n", ya_recompute_name(rc),
               memcmp(g0, g2, n * 4) == 0 ? "yes" : "NO");
        free(g2);
        run_close(&run);
    }

    /* accumulation: B micro-batches of 1 row = 1 batch of B rows */
    if (batch->B > 1) {
        run_open(&run, model_dir, batch, YA_RECOMPUTE_NONE, NULL, -1);
        YaStepMetrics m3;
        grads(&run, batch, 1, &m3);
        size_t n3;
        float *g3 = grads_copy(&run, &n3);
        /* Different GEMM splits round differently in fp32: per tensor the
         * max-relative difference is at the level of our own fp32 error vs
         * torch (~1e-6); the whole gradient agrees to ‖Δ‖/‖g‖ ≤ 1e-6. */
        double worst_acc = 0, d2 = 0, g2 = 0;
        for (size_t i = 0; i < nt; i++) {
            double e = rel_err_f(g3 + tens[i].off, g0 + tens[i].off, tens[i].numel);
            if (e > worst_acc) worst_acc = e;
            CHECK_MSG(e <= 1e-5, "accumulation: %s differs by %.3e", tens[i].name, e);
        }
        for (size_t i = 0; i < n; i++) {
            double d = (double)g3[i] - g0[i];
            d2 += d * d, g2 += (double)g0[i] * g0[i];
        }
        double norm_rel = sqrt(d2 / g2);
        printf("accumulation %dx1 vs 1x%d: |diff|/|g| = %.3e, worst per-tensor max-relative %.3e, objective %.10g vs "
               "%.10g\n",
               batch->B, batch->B, norm_rel, worst_acc, m3.wce, m.wce);
        CHECK_MSG(norm_rel <= 1e-6, "accumulation differs: |diff|/|g| = %.3e", norm_rel);
        CHECK(fabs(m3.wce - m.wce) <= 1e-6 * fabs(m.wce));
        free(g3);
        run_close(&run);
    }
    /* packing: the same documents end to end in fewer rows, each attending only inside itself
     * (RoPE positions restart per document) = the padded batch */
    int pack_len = (int)spec_num("pack_len", 0);
    if (pack_len > 0) {
        run_open(&run, model_dir, batch, YA_RECOMPUTE_NONE, NULL, -1);
        YaStepMetrics mp;
        int rows;
        grads_packed(&run, batch, pack_len, &mp, &rows);
        size_t n4;
        float *g4 = grads_copy(&run, &n4);
        double d2 = 0, g2 = 0;
        for (size_t i = 0; i < n; i++) {
            double d = (double)g4[i] - g0[i];
            d2 += d * d, g2 += (double)g0[i] * g0[i];
        }
        printf("packed %d documents into %d rows of %d: |diff|/|g| = %.3e vs padded, objective %.10g vs %.10g\n",
               batch->B, rows, pack_len, sqrt(d2 / g2), mp.wce, m.wce);
        CHECK(rows < batch->B);
        CHECK_MSG(sqrt(d2 / g2) <= 1e-6, "packed gradients differ from padded: %.3e", sqrt(d2 / g2));
        CHECK(fabs(mp.wce - m.wce) <= 1e-6 * fabs(m.wce));
        free(g4);
        run_close(&run);
    }
    free(g0), free(tens);
}

static void test_adamw(const char *model_dir, const Batch *batch) {
    int steps = (int)spec_num("steps", 0);
    Run run;
    run_open(&run, model_dir, batch, YA_RECOMPUTE_NONE, NULL, -1);
    YaBatch mb;
    make_batch(batch, 0, batch->B, &mb);
    const YaBatch *ptr = &mb;
    double *losses = ref_f64("losses", NULL);
    int n_clipped = 0;
    for (int u = 0; u < steps; u++) {
        YaError err = {0};
        YaStepMetrics m;
        if (ya_train_step(run.step, u, NULL, &ptr, 1, &m, &err) != YA_OK) {
            fprintf(stderr, "%s\n", err.message);
            exit(1);
        }
        n_clipped += m.clipped;
        double e = fabs(m.wce - losses[u]) / fabs(losses[u]);
        printf("update %d: loss %.10g torch %.10g (rel %.2e) grad_norm %.4g lr %.4g%s\n", u, m.wce, losses[u], e,
               m.grad_norm, m.lr, m.clipped ? " clipped" : "");
        CHECK_MSG(e <= 1e-5, "update %d: loss %.10g vs torch %.10g", u, m.wce, losses[u]);
    }
    CHECK_MSG(n_clipped > 0, "the run never clipped: the test does not cover clipping");
    float *p, *g, *m1, *m2;
    size_t n;
    ya_train_graph_buffers(run.graph, &p, &g, &m1, &m2, &n);
    Named *tens;
    size_t nt = trainable_tensors(&run, &tens);
    double worst = 0;
    for (size_t i = 0; i < nt; i++) {
        char key[200];
        snprintf(key, sizeof key, "final.%s", tens[i].name);
        double *want = ref_f64(key, NULL);
        double e = rel_err(p + tens[i].off, want, tens[i].numel);
        if (e > worst) worst = e;
        CHECK_MSG(e <= 1e-5, "%s: final %s relative error %.3e > 1e-5", g_case, tens[i].name, e);
        free(want);
    }
    printf("%d AdamW updates: %zu final tensors, worst relative error %.3e\n", steps, nt, worst);
    free(tens), free(losses);
    ya_batch_free(&mb);
    run_close(&run);
}

/* ---- loss modes (SPEC §3.3 required tests) --------------------------------------------------- */

static void params_state(Run *run, float **p, float **m, float **v, size_t *n) {
    float *g;
    ya_train_graph_buffers(run->graph, p, &g, m, v, n);
}

/* N updates on the whole batch; metrics of each update in ms[]. */
static void train_updates(Run *run, const Batch *batch, int N, YaStepMetrics *ms) {
    YaBatch mb;
    make_batch(batch, 0, batch->B, &mb);
    const YaBatch *ptr = &mb;
    for (int u = 0; u < N; u++) {
        YaError err = {0};
        if (ya_train_step(run->step, u, NULL, &ptr, 1, &ms[u], &err) != YA_OK) {
            fprintf(stderr, "%s\n", err.message);
            exit(1);
        }
    }
    ya_batch_free(&mb);
}

static int same_state(Run *a, Run *b) {
    float *pa, *ma, *va, *pb, *mb, *vb;
    size_t na, nb;
    params_state(a, &pa, &ma, &va, &na);
    params_state(b, &pb, &mb, &vb, &nb);
    return na == nb && !memcmp(pa, pb, na * 4) && !memcmp(ma, mb, na * 4) && !memcmp(va, vb, na * 4);
}

static void test_modes(const char *model_dir, const Batch *batch) {
    enum { N = 3 };
    YaStepMetrics m0[N], m1[N];
    Run a, b;
    /* (a) additive: λ = 0 and λ = 0.6 end with byte-identical adapters and moments,
     * identical ce, and totals that differ by exactly λ·mean ℓ. */
    json_object_set_new(g_spec, "mode", json_string("additive"));
    run_open(&a, model_dir, batch, YA_RECOMPUTE_NONE, NULL, 0.0);
    run_open(&b, model_dir, batch, YA_RECOMPUTE_NONE, NULL, 0.6);
    train_updates(&a, batch, N, m0);
    train_updates(&b, batch, N, m1);
    CHECK_MSG(same_state(&a, &b), "additive: λ 0.6 changed the adapters or the optimizer moments");
    for (int u = 0; u < N; u++) {
        double want = 0.6 * m1[u].distrust;
        printf("additive update %d: ce %.10g / %.10g, total %.10g vs %.10g, diff %.17g, λ·mean ℓ %.17g\n", u, m0[u].ce,
               m1[u].ce, m0[u].total, m1[u].total, m1[u].total - m0[u].total, want);
        CHECK(m0[u].ce == m1[u].ce && m0[u].wce == m1[u].wce && m0[u].grad_norm == m1[u].grad_norm);
        CHECK(m1[u].total == m1[u].ce + want && m0[u].total == m0[u].ce);
        CHECK_MSG(fabs((m1[u].total - m0[u].total) - want) <= 1e-14 * m1[u].total, "additive total difference");
    }
    printf("additive: λ=0 vs λ=0.6 after %d updates: adapters and moments byte-identical: %s\n", N,
           same_state(&a, &b) ? "yes" : "NO");
    run_close(&a), run_close(&b);

    /* (b) weighted at λ = 0: every ω is exactly 1 and training is bit-identical
     * whatever w the data carries. */
    json_object_set_new(g_spec, "mode", json_string("weighted"));
    double *w2 = malloc((size_t)batch->B * sizeof(double));
    for (int i = 0; i < batch->B; i++) w2[i] = 0.9 - 0.8 * batch->w[i]; /* a different, still valid, authority */
    run_open(&a, model_dir, batch, YA_RECOMPUTE_NONE, NULL, 0.0);
    Batch other = *batch;
    other.w = w2;
    run_open(&b, model_dir, &other, YA_RECOMPUTE_NONE, w2, 0.0);
    train_updates(&a, batch, N, m0);
    train_updates(&b, &other, N, m1);
    for (int u = 0; u < N; u++) CHECK(m0[u].omega_min == 1.0 && m0[u].omega_max == 1.0 && m1[u].omega_max == 1.0);
    CHECK_MSG(same_state(&a, &b), "weighted λ=0: training depends on w");
    CHECK(m0[0].distrust != m1[0].distrust); /* the data really differed */
    printf("weighted λ=0: ω ≡ 1 and training bit-identical under different w: %s\n", same_state(&a, &b) ? "yes" : "NO");
    run_close(&a), run_close(&b);

    /* (c) a sample's row weights — hence its gradient contribution, rows being
     * independent — do not depend on its batch mates (weighted, λ 0.8). With
     * --weight-norm batch they do: the check can fail. */
    YaLossConfig lc;
    ya_loss_config_defaults(&lc);
    lc.wp.lambda = 0.8;
    double *om = malloc((size_t)batch->B * sizeof(double));
    YaError err = {0};
    CHECK(ya_distrust_dataset_weights(batch->w, batch->H, (size_t)batch->B, &lc.wp, NULL, om, &lc.mu, &lc.c, &err) ==
          YA_DISTRUST_OK);
    YaBatch s0, mates1, mates2;
    make_batch(batch, 0, 1, &s0);
    make_batch(batch, 1, batch->B - 1, &mates1);
    make_batch(&other, 1, batch->B - 1, &mates2); /* same tokens, different authority: different ω */
    for (int norm_batch = 0; norm_batch <= 1; norm_batch++) {
        lc.weight_norm_batch = norm_batch;
        const YaBatch *u1[2] = {&s0, &mates1}, *u2[2] = {&s0, &mates2};
        double st1[64], st2[64];
        YaLossPlan p1, p2;
        CHECK(ya_loss_plan(&lc, NULL, u1, 2, st1, &p1, &err) == YA_OK);
        CHECK(ya_loss_plan(&lc, NULL, u2, 2, st2, &p2, &err) == YA_OK);
        float w1[256], wb[256];
        ya_loss_row_weights(&lc, &p1, u1, 0, w1);
        ya_loss_row_weights(&lc, &p2, u2, 0, wb);
        int same = !memcmp(w1, wb, (size_t)s0.B * s0.T * sizeof(float));
        printf("batch mates swapped (%s): sample 0's weights unchanged: %s\n",
               norm_batch ? "--weight-norm batch" : "default", same ? "yes" : "no");
        CHECK_MSG(same == !norm_batch, "weight-norm %s: sample weights %s with the batch mates",
                  norm_batch ? "batch" : "step", same ? "do not change" : "change");
    }
    ya_batch_free(&s0), ya_batch_free(&mates1), ya_batch_free(&mates2);
    free(om), free(w2);
}

/* SPEC §3.3 required test 2: ∇L_step = Σ ω_i·∇CE_i / N_step (each CE_i's gradient
 * from its own run), and central finite differences (fp32, h = 1e-2) of
 * L_step on the largest gradient entries. */
static void test_finite_difference(const char *model_dir, const Batch *batch) {
    json_object_set_new(g_spec, "mode", json_string("weighted"));
    Run run;
    run_open(&run, model_dir, batch, YA_RECOMPUTE_NONE, NULL, 0.7);
    YaStepMetrics m;
    grads(&run, batch, batch->B, &m);
    size_t n;
    float *g = grads_copy(&run, &n);
    /* ω_i as the plan computes them, then Σ ω_i/N · ∇CE_i with CE_i the token mean of row i */
    YaBatch mb;
    make_batch(batch, 0, batch->B, &mb);
    const YaBatch *ptr = &mb;
    YaLossPlan plan;
    double storage[128];
    YaError err = {0};
    CHECK(ya_loss_plan(&run.cfg.loss, NULL, &ptr, 1, storage, &plan, &err) == YA_OK);
    double *sum = calloc(n, sizeof(double));
    size_t BT = (size_t)mb.B * mb.T;
    float *wt = malloc(BT * 4);
    float *p, *gr, *m1, *m2;
    size_t np;
    ya_train_graph_buffers(run.graph, &p, &gr, &m1, &m2, &np);
    for (int i = 0; i < mb.n_samples; i++) {
        for (size_t t = 0; t < BT; t++)
            wt[t] = (mb.sample_ids[t] == i && mb.targets[t] >= 0) ? (float)(1.0 / mb.samples[i].n_sup) : 0.0f;
        memset(gr, 0, n * 4);
        double ce_i;
        CHECK(ya_train_graph_run(run.graph, mb.ids, mb.targets, wt, mb.B, mb.T, 1, &ce_i, NULL, &err) == YA_OK);
        for (size_t k = 0; k < n; k++) sum[k] += plan.omega[i] / (double)plan.n_samples * gr[k];
    }
    double md = 0, mr = 0;
    for (size_t k = 0; k < n; k++) {
        md = fmax(md, fabs(sum[k] - g[k]));
        mr = fmax(mr, fabs(sum[k]));
    }
    printf("weighted: |∇L_step − Σ ω_i ∇CE_i / N| / max = %.3e\n", md / mr);
    CHECK_MSG(md / mr <= 1e-6, "weighted gradient is not Σ ω_i ∇CE_i / N_step: %.3e", md / mr);

    /* finite differences on the 8 largest |g| entries */
    for (int probe = 0; probe < 8; probe++) {
        size_t best = 0;
        for (size_t k = 0; k < n; k++)
            if (fabs(g[k]) > fabs(g[best])) best = k;
        double analytic = g[best];
        g[best] = 0; /* next probe takes the next largest */
        float saved = p[best];
        const float hstep = 1e-2f;
        double lp, lm;
        p[best] = saved + hstep;
        ya_loss_row_weights(&run.cfg.loss, &plan, &ptr, 0, wt);
        CHECK(ya_train_graph_run(run.graph, mb.ids, mb.targets, wt, mb.B, mb.T, 0, &lp, NULL, &err) == YA_OK);
        p[best] = saved - hstep;
        CHECK(ya_train_graph_run(run.graph, mb.ids, mb.targets, wt, mb.B, mb.T, 0, &lm, NULL, &err) == YA_OK);
        p[best] = saved;
        double fd = (lp - lm) / (2.0 * ((double)(saved + hstep) - saved));
        double e = fabs(fd - analytic) / fabs(analytic);
        printf("  finite difference param %zu: analytic %.6e fd %.6e rel %.2e\n", best, analytic, fd, e);
        CHECK_MSG(e <= 1e-3, "finite difference of L_step at parameter %zu: %.6e vs analytic %.6e", best, fd, analytic);
    }
    free(sum), free(wt), free(g);
    ya_batch_free(&mb);
    run_close(&run);
}

/* LoRA dropout (no torch counterpart: its masks are ours): recompute modes stay
 * bit-identical, the masks change the gradient, the same update index gives the
 * same masks, and finite differences of L_step under those masks agree. */
static void test_dropout(const char *model_dir, const Batch *batch) {
    Run run;
    YaStepMetrics m;
    size_t n, n2;
    run_open(&run, model_dir, batch, YA_RECOMPUTE_NONE, NULL, -1);
    grads(&run, batch, batch->B, &m);
    float *g0 = grads_copy(&run, &n);
    grads(&run, batch, batch->B, &m); /* same update index → same masks → same bits */
    float *g1 = grads_copy(&run, &n2);
    CHECK_MSG(!memcmp(g0, g1, n * 4), "dropout masks are not reproducible");
    ya_train_step_set_update(run.step, 1); /* another update draws other masks */
    grads(&run, batch, batch->B, &m);
    float *g2 = grads_copy(&run, &n2);
    CHECK_MSG(memcmp(g0, g2, n * 4) != 0, "dropout masks do not change between updates");
    printf("dropout %.2f: reproducible per update: %s, differ across updates: %s\n", spec_num("lora_dropout", 0),
           !memcmp(g0, g1, n * 4) ? "yes" : "NO", memcmp(g0, g2, n * 4) ? "yes" : "NO");
    run_close(&run);
    free(g1), free(g2);
    for (int rc = YA_RECOMPUTE_ATTN; rc <= YA_RECOMPUTE_LAYER; rc++) {
        run_open(&run, model_dir, batch, (YaRecompute)rc, NULL, -1);
        grads(&run, batch, batch->B, &m);
        float *g3 = grads_copy(&run, &n2);
        CHECK_MSG(!memcmp(g0, g3, n * 4), "dropout: --recompute %s changes the gradients", ya_recompute_name(rc));
        printf("dropout, recompute %-5s: gradients bit-identical: %s\n", ya_recompute_name(rc),
               !memcmp(g0, g3, n * 4) ? "yes" : "NO");
        free(g3);
        run_close(&run);
    }
    free(g0);
    test_finite_difference(model_dir, batch);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: test_train MODEL_DIR REF.safetensors SPEC_JSON\n");
        return 2;
    }
    YaError err = {0};
    if (ya_st_open(argv[2], &g_ref, &err) != YA_OK ||
        ya_json_parse(argv[3], strlen(argv[3]), "spec", 0, &g_spec, &err) != YA_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    g_case = argv[2];
    Batch batch;
    load_batch(&batch);
    if (spec_num("lora_dropout", 0) > 0) {
        test_dropout(argv[1], &batch); /* no torch counterpart: the masks are ours */
    } else {
        test_gradients(argv[1], &batch);
        if (spec_num("steps", 0) > 0) test_adamw(argv[1], &batch);
        if (spec_num("mode_tests", 0) > 0) {
            test_modes(argv[1], &batch);
            test_finite_difference(argv[1], &batch);
        }
    }
    free(batch.ids), free(batch.sup), free(batch.lens), free(batch.w), free(batch.H), free(batch.sw);
    json_decref(g_spec);
    ya_st_close(g_ref);
    TEST_MAIN_END();
}

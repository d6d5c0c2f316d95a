/* test_train_bf16.c — `train --matmul bf16` (YA_MATMUL_BF16: the frozen-weight
 * GEMMs and the lm_head in bf16 with fp32 accumulation) against the float64
 * PyTorch reference tools/torch_train_ref.py of the same LoRA step.
 *
 *   test_train_bf16 MODEL_DIR REF.safetensors SPEC_JSON
 *
 * The reference is exact (float64, the stored base weights' values); bf16 mode
 * rounds every activation entering a base GEMM to 8 significant bits, so its
 * gradients carry an error of a few bf16 ulps relative. Checked here, mode
 * "off" (token-mean cross-entropy) over the whole reference batch in one
 * micro-batch:
 *  - fp32 mode, same harness: every LoRA A/B gradient ≤ 1e-4 relative (the
 *    harness itself is right: this is test_train's tolerance);
 *  - bf16 mode: every LoRA A/B gradient max|ours − torch| / max|torch| ≤ 2e-2,
 *    and the loss ≤ 1e-2 relative;
 *  - bf16 mode actually rounds: its gradients differ from fp32 mode's (> 1e-5),
 *    and --recompute layer reproduces its gradients bit for bit.
 * Exits 77 (ctest: skipped) when the build has no oneDNN or oneDNN has no
 * bf16 GEMM for this CPU (no AVX-512). */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "test_util.h"
#include "your_ai/json.h"
#include "your_ai/lora.h"
#include "your_ai/safetensors.h"
#include "your_ai/train_graph.h"

enum { BF16_GRAD_TOL_PPM = 20000 }; /* 2e-2: documented in docs/TRAINING.md (--matmul) */

#include "train_ref.h"

/* One step's LoRA gradients (flat, the set's layout) and loss in the given mode. */
static float *lora_grads(const char *model_dir, YaMatmul mm, YaRecompute rec, double *loss, YaLoraSet *keep) {
    YaError err = {0};
    YaModel *model;
    if (ya_model_open(model_dir, &model, &err) != YA_OK) {
        fprintf(stderr, "%s\n", err.message);
        exit(1);
    }
    YaLoraConfig lc;
    ya_lora_config_defaults(&lc);
    lc.rank = (int)spec_num("rank", 4);
    lc.alpha = spec_num("alpha", 8);
    lc.layers = (int)spec_num("layers", -1);
    lc.targets = 0;
    json_t *tg = json_object_get(g_spec, "targets"), *v;
    size_t i;
    json_array_foreach(tg, i, v) {
        unsigned mask;
        CHECK(ya_lora_parse_targets(json_string_value(v), &mask, &err) == YA_OK);
        lc.targets |= mask;
    }
    YaLoraSet set;
    if (ya_lora_create(&model->cfg, &lc, 1, &set, &err) != YA_OK) {
        fprintf(stderr, "lora: %s\n", err.message);
        exit(1);
    }
    for (size_t k = 0; k < set.n_tensors; k++) { /* the reference's initial factors (B ≠ 0) */
        const YaLoraTensor *t = &set.t[k];
        char name[200];
        snprintf(name, sizeof name, "init.%s", t->key_a);
        const YaTensorInfo *a = ref_tensor(name);
        snprintf(name, sizeof name, "init.%s", t->key_b);
        const YaTensorInfo *b = ref_tensor(name);
        memcpy(set.params + t->a_off, a->data, a->numel * 4);
        memcpy(set.params + t->b_off, b->data, b->numel * 4);
    }
    memset(set.grads, 0, set.n_params * 4);

    const YaTensorInfo *ids = ref_tensor("ids"), *targets = ref_tensor("targets");
    int B = (int)ids->shape[0], T = (int)ids->shape[1];
    size_t n = (size_t)B * T, n_sup = 0;
    const int32_t *tgt = targets->data;
    for (size_t k = 0; k < n; k++) n_sup += tgt[k] >= 0;
    float *weight = malloc(n * sizeof *weight); // [B, T] token mean over supervised positions
    for (size_t k = 0; k < n; k++) weight[k] = tgt[k] >= 0 ? 1.0f / (float)n_sup : 0.0f;

    YaTrainGraphConfig gc = {.max_rows = B, .max_seq = T, .kind = YA_TRAIN_LORA, .recompute = rec,
                             .ce_chunk = (int)spec_num("ce_chunk", 37), .matmul = mm};
    YaTrainGraph *g;
    if (ya_train_graph_new(model, &set, &gc, &g, &err) != YA_OK) {
        fprintf(stderr, "graph: %s\n", err.message);
        exit(1);
    }
    /* Right-padded rows: causal attention from position 0 over the row (padding comes last, weight 0). */
    if (ya_train_graph_run(g, ids->data, tgt, weight, B, T, 1, loss, NULL, &err) != YA_OK) {
        fprintf(stderr, "run: %s\n", err.message);
        exit(1);
    }
    float *out = malloc(set.n_params * 4);
    memcpy(out, set.grads, set.n_params * 4);
    ya_train_graph_free(g);
    free(weight);
    if (keep) *keep = set;
    else ya_lora_free(&set);
    ya_model_free(model);
    return out;
}

/* Worst per-tensor relative error of flat grads against torch; each tensor checked against tol. */
static double check_vs_torch(const YaLoraSet *set, const float *g, double tol, const char *label) {
    double worst = 0;
    for (size_t k = 0; k < set->n_tensors; k++) {
        const YaLoraTensor *t = &set->t[k];
        const char *keys[2] = {t->key_a, t->key_b};
        size_t offs[2] = {t->a_off, t->b_off};
        for (int ab = 0; ab < 2; ab++) {
            char name[200];
            snprintf(name, sizeof name, "grad.%s", keys[ab]);
            size_t nref;
            double *want = ref_f64(name, &nref);
            double e = rel_err(g + offs[ab], want, nref);
            if (e > worst) worst = e;
            CHECK_MSG(e <= tol, "%s: %s gradient relative error %.3e > %.0e", label, keys[ab], e, tol);
            free(want);
        }
    }
    return worst;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: test_train_bf16 MODEL_DIR REF.safetensors SPEC_JSON\n");
        return 2;
    }
    YaError bf16_err = {0};
    if (ya_backend_cpu_bf16_check(&bf16_err) != YA_OK) { /* no oneDNN, or no bf16 GEMM on this CPU */
        printf("%s: skipped\n", bf16_err.message);
        return 77;
    }
    YaError err = {0};
    if (ya_st_open(argv[2], &g_ref, &err) != YA_OK ||
        ya_json_parse(argv[3], strlen(argv[3]), "spec", 0, &g_spec, &err) != YA_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    double *ref_loss = ref_f64("loss", NULL);
    YaLoraSet set;
    double loss32, loss16, loss16_layer;
    float *g32 = lora_grads(argv[1], YA_MATMUL_FP32, YA_RECOMPUTE_NONE, &loss32, &set);
    float *g16 = lora_grads(argv[1], YA_MATMUL_BF16, YA_RECOMPUTE_NONE, &loss16, NULL);
    float *g16l = lora_grads(argv[1], YA_MATMUL_BF16, YA_RECOMPUTE_LAYER, &loss16_layer, NULL);

    double w32 = check_vs_torch(&set, g32, 1e-4, "fp32");
    double w16 = check_vs_torch(&set, g16, BF16_GRAD_TOL_PPM * 1e-6, "bf16");
    printf("loss: torch %.10g, fp32 %.10g, bf16 %.10g\n", ref_loss[0], loss32, loss16);
    printf("LoRA gradients, worst relative error vs torch float64: fp32 %.3e, bf16 %.3e (tolerance %.0e)\n", w32, w16,
           BF16_GRAD_TOL_PPM * 1e-6);
    CHECK_MSG(fabs(loss32 - ref_loss[0]) <= 1e-5 * fabs(ref_loss[0]), "fp32 loss %.10g vs torch %.10g", loss32,
              ref_loss[0]);
    CHECK_MSG(fabs(loss16 - ref_loss[0]) <= 1e-2 * fabs(ref_loss[0]), "bf16 loss %.10g vs torch %.10g", loss16,
              ref_loss[0]);
    double d = 0, m = 0;
    for (size_t i = 0; i < set.n_params; i++) {
        d = fmax(d, fabs((double)g16[i] - g32[i]));
        m = fmax(m, fabs((double)g32[i]));
    }
    printf("bf16 vs fp32 mode: max|diff|/max|g| = %.3e\n", d / m);
    CHECK_MSG(d / m > 1e-5, "bf16 mode gave the fp32 gradients (%.3e): nothing was rounded", d / m);
    CHECK_MSG(memcmp(g16, g16l, set.n_params * 4) == 0 && loss16 == loss16_layer,
              "bf16 mode: --recompute layer changes the gradients");
    free(g32), free(g16), free(g16l), free(ref_loss);
    ya_lora_free(&set);
    json_decref(g_spec);
    ya_st_close(g_ref);
    TEST_MAIN_END();
}

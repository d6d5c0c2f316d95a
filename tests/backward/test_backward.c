/* test_backward.c — gradients of the CPU backend's backward ops against the
 * float64 PyTorch autograd references of tools/torch_grad_ref.py.
 *
 *   test_backward CASE FILE.safetensors
 *
 * FILE holds the case's inputs (as the engine sees them) and torch's expected
 * gradients. Every gradient tensor must satisfy
 *     max_i |ours_i − torch_i| / max_i |torch_i|  ≤ 1e-4
 * (the issue-5 tolerance, per tensor). The ops are called through the
 * YaBackendOps table, so the registration is tested too. The layer_lora case
 * assembles a whole decoder layer with LoRA on q_proj from the ops, exactly
 * as the trainer will. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "test_util.h"
#include "your_ai/safetensors.h"

static const double k_tol = 1e-4;

static YaSafetensors *g_st;
static const char *g_case;

static const YaTensorInfo *info(const char *name) {
    const YaTensorInfo *t = ya_st_find(g_st, name);
    if (!t) {
        fprintf(stderr, "%s: tensor '%s' missing from the reference file\n", g_case, name);
        exit(1);
    }
    return t;
}

/* Tensor `name` as fp32 (F32, BF16 or F64 narrowed), malloc'd. */
static float *getf(const char *name) {
    const YaTensorInfo *t = info(name);
    float *out = malloc(t->numel * sizeof *out + 1);
    if (t->dtype == YA_DTYPE_F64) {
        for (uint64_t i = 0; i < t->numel; i++) {
            double v;
            memcpy(&v, (const char *)t->data + i * 8, 8);
            out[i] = (float)v;
        }
    } else {
        ya_to_f32(t->dtype, t->data, out, t->numel);
    }
    return out;
}

/* Expected (F64) tensor, malloc'd. */
static double *getd(const char *name, size_t *n) {
    const YaTensorInfo *t = info(name);
    if (t->dtype != YA_DTYPE_F64) {
        fprintf(stderr, "%s: expected tensor '%s' should be F64\n", g_case, name);
        exit(1);
    }
    double *out = malloc(t->numel * sizeof *out + 1);
    memcpy(out, t->data, t->numel * 8);
    if (n) *n = t->numel;
    return out;
}

static int32_t *geti(const char *name) {
    const YaTensorInfo *t = info(name);
    int32_t *out = malloc(t->numel * sizeof *out + 1);
    memcpy(out, t->data, t->numel * 4);
    return out;
}

static double meta(const char *key) {
    const char *v = ya_st_metadata(g_st, key);
    if (!v) {
        fprintf(stderr, "%s: metadata '%s' missing\n", g_case, key);
        exit(1);
    }
    return atof(v);
}

static float *zeros(size_t n) { return calloc(n + 1, sizeof(float)); }

/* max|got − want| / max|want| against the expected tensor `name`, times `mult`. */
static void compare_scaled(const char *label, const float *got, const char *name, double mult, double tol) {
    size_t n;
    double *want = getd(name, &n);
    double max_diff = 0.0, max_ref = 0.0;
    for (size_t i = 0; i < n; i++) {
        double w = want[i] * mult;
        double diff = fabs((double)got[i] - w);
        if (!(diff <= max_diff)) max_diff = diff; /* NaN propagates */
        if (fabs(w) > max_ref) max_ref = fabs(w);
    }
    double rel = max_ref > 0 ? max_diff / max_ref : max_diff;
    printf("  %-28s max|diff|/max|ref| = %.3e  (max|ref| %.3e, %zu values)\n", label, rel, max_ref, n);
    CHECK_MSG(rel <= tol, "%s/%s: relative error %.3e > %.0e", g_case, label, rel, tol);
    free(want);
}
static void compare(const char *label, const float *got, const char *name) {
    compare_scaled(label, got, name, 1.0, k_tol);
}

/* ---- cases ---------------------------------------------------------------------- */

static void test_linear(const YaBackendOps *ops) {
    int M = (int)info("x")->shape[0], K = (int)info("x")->shape[1], N = (int)info("w")->shape[0];
    float *x = getf("x"), *w = getf("w"), *dy = getf("dy");
    float *dx = zeros(M * K), *dw = zeros(N * K), *db = zeros(N);
    ops->linear_backward(dx, dw, db, dy, x, w, M, K, N);
    compare("with bias: dx", dx, "dx");
    compare("with bias: dw", dw, "dw");
    compare("with bias: db", db, "db");
    /* Accumulation: a second call adds the same gradient again. */
    ops->linear_backward(dx, dw, db, dy, x, w, M, K, N);
    compare_scaled("accumulated twice: dx", dx, "dx", 2.0, k_tol);
    compare_scaled("accumulated twice: dw", dw, "dw", 2.0, k_tol);
    compare_scaled("accumulated twice: db", db, "db", 2.0, k_tol);
    /* No bias, then frozen weight (dw NULL): dx unchanged. */
    memset(dx, 0, sizeof(float) * M * K);
    memset(dw, 0, sizeof(float) * N * K);
    ops->linear_backward(dx, dw, NULL, dy, x, w, M, K, N);
    compare("no bias: dx", dx, "dx");
    compare("no bias: dw", dw, "dw");
    memset(dx, 0, sizeof(float) * M * K);
    ops->linear_backward(dx, NULL, NULL, dy, x, w, M, K, N);
    compare("frozen: dx", dx, "dx");
    free(x), free(w), free(dy), free(dx), free(dw), free(db);
}

static void test_rmsnorm(const YaBackendOps *ops) {
    int M = (int)info("x")->shape[0], h = (int)info("x")->shape[1];
    float eps = (float)meta("eps");
    float *x = getf("x"), *w = getf("w"), *dy = getf("dy");
    float *y = zeros(M * h), *rstd = zeros(M), *dx = zeros(M * h), *dw = zeros(h);
    ops->rmsnorm(y, rstd, x, w, M, h, eps);
    ops->rmsnorm_backward(dx, dw, dy, x, w, rstd, M, h);
    compare("dx", dx, "dx");
    compare("dw", dw, "dw");
    /* Thread-count independence: bit-identical with one thread. */
    float *dx1 = zeros(M * h), *dw1 = zeros(h);
    int nt = omp_get_max_threads();
    omp_set_num_threads(1);
    ops->rmsnorm_backward(dx1, dw1, dy, x, w, rstd, M, h);
    omp_set_num_threads(nt);
    CHECK(memcmp(dx, dx1, sizeof(float) * M * h) == 0 && memcmp(dw, dw1, sizeof(float) * h) == 0);
    memset(dx1, 0, sizeof(float) * M * h);
    ops->rmsnorm_backward(dx1, NULL, dy, x, w, rstd, M, h); /* frozen norm weight */
    CHECK(memcmp(dx, dx1, sizeof(float) * M * h) == 0);
    free(x), free(w), free(dy), free(y), free(rstd), free(dx), free(dw), free(dx1), free(dw1);
}

static void test_rope(const YaBackendOps *ops) {
    const YaTensorInfo *xi = info("x"); /* [T, n_heads, d] */
    int T = (int)xi->shape[0], n_heads = (int)xi->shape[1], d = (int)xi->shape[2];
    float *cos = getf("cos"), *sin = getf("sin"), *g = getf("dy");
    ops->rope_backward(g, cos, sin, T, n_heads, d);
    compare("dx", g, "dx");
    free(cos), free(sin), free(g);
}

static void test_attention(const YaBackendOps *ops) {
    int T = (int)meta("T"), Tk = (int)meta("Tk"), pos0 = (int)meta("pos0");
    int n_h = (int)meta("n_h"), n_kv = (int)meta("n_kv"), d = (int)meta("d");
    float *q = getf("q"), *k = getf("k"), *v = getf("v"), *dout = getf("dout");
    size_t nq = (size_t)T * n_h * d, nkv = (size_t)Tk * n_kv * d;
    float *out = zeros(nq), *att = zeros((size_t)n_h * T * Tk);
    ops->attention(out, att, q, k, v, T, Tk, pos0, n_h, n_kv, d);
    compare("forward out", out, "out");
    float *dq = zeros(nq), *dk = zeros(nkv), *dv = zeros(nkv);
    ops->attention_backward(dq, dk, dv, dout, att, out, q, k, v, T, Tk, pos0, n_h, n_kv, d);
    compare("dq", dq, "dq");
    compare("dk", dk, "dk");
    compare("dv", dv, "dv");
    float *dq1 = zeros(nq), *dk1 = zeros(nkv), *dv1 = zeros(nkv);
    int nt = omp_get_max_threads();
    omp_set_num_threads(1);
    ops->attention_backward(dq1, dk1, dv1, dout, att, out, q, k, v, T, Tk, pos0, n_h, n_kv, d);
    omp_set_num_threads(nt);
    CHECK_MSG(memcmp(dq, dq1, nq * 4) == 0 && memcmp(dk, dk1, nkv * 4) == 0 && memcmp(dv, dv1, nkv * 4) == 0,
              "attention backward differs between %d threads and 1", nt);
    free(q), free(k), free(v), free(dout), free(out), free(att), free(dq), free(dk), free(dv);
    free(dq1), free(dk1), free(dv1);
}

static void test_swiglu(const YaBackendOps *ops) {
    size_t n = info("gate")->numel;
    float *gate = getf("gate"), *up = getf("up"), *dout = getf("dout");
    float *dgate = zeros(n), *dup = zeros(n);
    ops->swiglu_backward(dgate, dup, dout, gate, up, n);
    compare("dgate", dgate, "dgate");
    compare("dup", dup, "dup");
    free(gate), free(up), free(dout), free(dgate), free(dup);
}

static void test_embedding(const YaBackendOps *ops) {
    int V = (int)info("table")->shape[0], h = (int)info("table")->shape[1], T = (int)info("ids")->numel;
    int32_t *ids = geti("ids");
    float *dout = getf("dout"), *dtable = zeros((size_t)V * h), *dtable1 = zeros((size_t)V * h);
    ops->embedding_backward(dtable, dout, ids, T, h);
    compare("dtable", dtable, "dtable");
    int nt = omp_get_max_threads();
    omp_set_num_threads(1);
    ops->embedding_backward(dtable1, dout, ids, T, h);
    omp_set_num_threads(nt);
    CHECK(memcmp(dtable, dtable1, sizeof(float) * V * h) == 0);
    free(ids), free(dout), free(dtable), free(dtable1);
}

static void test_cross_entropy(const YaBackendOps *ops) {
    int T = (int)info("x")->shape[0], h = (int)info("x")->shape[1], V = (int)info("w")->shape[0];
    float *x = getf("x"), *weight = getf("weight");
    int32_t *targets = geti("targets");
    const YaTensorInfo *wt = info("w"); /* passed in its stored dtype, straight from the mapping */
    double *loss_ref = getd("loss", NULL);
    static const int chunks[] = {1, 5, 8, 36, 37, 64, 0};
    for (size_t ci = 0; ci < sizeof chunks / sizeof *chunks; ci++) {
        float *scratch = malloc(ops->cross_entropy_scratch(T, h, V, chunks[ci]) * sizeof(float));
        float *nll = zeros(T), *dx = zeros((size_t)T * h), *dw = zeros((size_t)V * h);
        double loss = ops->cross_entropy(nll, dx, dw, x, wt->data, wt->dtype, targets, weight, T, h, V,
                                         chunks[ci], scratch);
        char label[64];
        printf(" chunk %d:\n", chunks[ci]);
        CHECK_MSG(fabs(loss - loss_ref[0]) <= 1e-5 * fabs(loss_ref[0]), "chunk %d: loss %.9g vs %.9g", chunks[ci],
                  loss, loss_ref[0]);
        snprintf(label, sizeof label, "nll");
        compare(label, nll, "nll");
        compare("dx", dx, "dx");
        compare("dw", dw, "dw");
        /* Evaluation (no gradients): same loss and nll, nothing written. */
        float *nll2 = zeros(T);
        double loss2 = ops->cross_entropy(nll2, NULL, NULL, x, wt->data, wt->dtype, targets, weight, T, h, V,
                                          chunks[ci], scratch);
        CHECK(loss2 == loss && memcmp(nll, nll2, sizeof(float) * T) == 0);
        /* dx only (lm_head frozen) equals the dx of the full call. */
        float *dx2 = zeros((size_t)T * h);
        ops->cross_entropy(NULL, dx2, NULL, x, wt->data, wt->dtype, targets, weight, T, h, V, chunks[ci], scratch);
        CHECK(memcmp(dx, dx2, sizeof(float) * T * h) == 0);
        /* The same weights at an odd address (safetensors gives no alignment guarantee). */
        char *odd = malloc(wt->nbytes + 1);
        memcpy(odd + 1, wt->data, wt->nbytes);
        memset(dx2, 0, sizeof(float) * T * h);
        float *dw2 = zeros((size_t)V * h);
        double loss3 = ops->cross_entropy(NULL, dx2, dw2, x, odd + 1, wt->dtype, targets, weight, T, h, V,
                                          chunks[ci], scratch);
        CHECK(loss3 == loss && memcmp(dx, dx2, sizeof(float) * T * h) == 0 &&
              memcmp(dw, dw2, sizeof(float) * V * h) == 0);
        free(odd), free(dw2);
        free(scratch), free(nll), free(dx), free(dw), free(nll2), free(dx2);
    }
    free(x), free(weight), free(targets), free(loss_ref);
}

/* One decoder layer (SPEC §6.2) with q/k/v biases and LoRA on q_proj:
 * q = a·Wqᵀ + bq + s·(a·Aᵀ)·Bᵀ. Forward and backward assembled from the op
 * table, the way the trainer will; every weight, bias, LoRA factor and the
 * input gradient is checked. */
static void test_layer_lora(const YaBackendOps *ops) {
    int T = (int)meta("T"), h = (int)meta("h"), n_h = (int)meta("n_h"), n_kv = (int)meta("n_kv");
    int d = (int)meta("d"), f = (int)meta("f"), r = (int)meta("r");
    float eps = (float)meta("eps"), s = (float)meta("lora_scale");
    int nq = n_h * d, nkv = n_kv * d;
    float *cos = getf("cos"), *sin = getf("sin"), *x = getf("x"), *G = getf("dout");
    float *wn1 = getf("attn_norm"), *wn2 = getf("mlp_norm");
    float *wq = getf("wq"), *bq = getf("bq"), *wk = getf("wk"), *bk = getf("bk"), *wv = getf("wv"), *bv = getf("bv");
    float *wo = getf("wo"), *wg = getf("wg"), *wu = getf("wu"), *wd = getf("wd");
    float *A = getf("lora_a"), *B = getf("lora_b");

    /* ---- forward, keeping what the backward needs ---- */
    float *a1 = zeros(T * h), *rstd1 = zeros(T);             // [T, h], [T]
    float *q = zeros(T * nq), *k = zeros(T * nkv), *v = zeros(T * nkv);
    float *u = zeros(T * r);                                  // [T, r] s·(a1·Aᵀ)
    float *att = zeros(n_h * T * T), *ao = zeros(T * nq);     // [n_h, T, T], [T, n_h*d]
    float *h1 = zeros(T * h), *a2 = zeros(T * h), *rstd2 = zeros(T);
    float *gt = zeros(T * f), *up = zeros(T * f), *mm = zeros(T * f); // [T, f]
    float *out = zeros(T * h);
    ops->rmsnorm(a1, rstd1, x, wn1, T, h, eps);
    ops->linear(q, a1, wq, bq, T, h, nq, 0);
    ops->linear(u, a1, A, NULL, T, h, r, 0);
    for (int i = 0; i < T * r; i++) u[i] *= s; /* the LoRA scale rides on the rank-r activation */
    ops->linear(q, u, B, NULL, T, r, nq, 1);
    ops->linear(k, a1, wk, bk, T, h, nkv, 0);
    ops->linear(v, a1, wv, bv, T, h, nkv, 0);
    ops->rope(q, cos, sin, T, n_h, d);
    ops->rope(k, cos, sin, T, n_kv, d);
    ops->attention(ao, att, q, k, v, T, T, 0, n_h, n_kv, d);
    memcpy(h1, x, sizeof(float) * T * h);
    ops->linear(h1, ao, wo, NULL, T, nq, h, 1);
    ops->rmsnorm(a2, rstd2, h1, wn2, T, h, eps);
    ops->linear(gt, a2, wg, NULL, T, h, f, 0);
    ops->linear(up, a2, wu, NULL, T, h, f, 0);
    ops->swiglu(mm, gt, up, (size_t)T * f);
    memcpy(out, h1, sizeof(float) * T * h);
    ops->linear(out, mm, wd, NULL, T, f, h, 1);
    compare_scaled("forward out", out, "out", 1.0, 1e-5);

    /* ---- backward: gradients accumulate, so every buffer starts at zero ---- */
    float *dwn1 = zeros(h), *dwn2 = zeros(h), *dwq = zeros(nq * h), *dbq = zeros(nq), *dwk = zeros(nkv * h);
    float *dbk = zeros(nkv), *dwv = zeros(nkv * h), *dbv = zeros(nkv), *dwo = zeros(h * nq), *dwg = zeros(f * h);
    float *dwu = zeros(f * h), *dwd = zeros(h * f), *dA = zeros(r * h), *dB = zeros(nq * r);
    float *dh1 = zeros(T * h), *dmm = zeros(T * f), *dgt = zeros(T * f), *dup = zeros(T * f), *da2 = zeros(T * h);
    float *dao = zeros(T * nq), *dq = zeros(T * nq), *dk = zeros(T * nkv), *dv = zeros(T * nkv);
    float *du = zeros(T * r), *da1 = zeros(T * h), *dx = zeros(T * h);

    memcpy(dh1, G, sizeof(float) * T * h); /* out = h1 + mlp: the residual passes G through */
    ops->linear_backward(dmm, dwd, NULL, G, mm, wd, T, f, h);
    ops->swiglu_backward(dgt, dup, dmm, gt, up, (size_t)T * f);
    ops->linear_backward(da2, dwg, NULL, dgt, a2, wg, T, h, f);
    ops->linear_backward(da2, dwu, NULL, dup, a2, wu, T, h, f);
    ops->rmsnorm_backward(dh1, dwn2, da2, h1, wn2, rstd2, T, h);
    memcpy(dx, dh1, sizeof(float) * T * h); /* h1 = x + attn: residual again */
    ops->linear_backward(dao, dwo, NULL, dh1, ao, wo, T, nq, h);
    ops->attention_backward(dq, dk, dv, dao, att, ao, q, k, v, T, T, 0, n_h, n_kv, d);
    ops->rope_backward(dq, cos, sin, T, n_h, d);
    ops->rope_backward(dk, cos, sin, T, n_kv, d);
    ops->linear_backward(da1, dwq, dbq, dq, a1, wq, T, h, nq);
    ops->linear_backward(du, dB, NULL, dq, u, B, T, r, nq); /* dB = dqᵀ·(s·a1·Aᵀ) */
    for (int i = 0; i < T * r; i++) du[i] *= s;               /* ∂/∂(a1·Aᵀ) = s·dq·B */
    ops->linear_backward(da1, dA, NULL, du, a1, A, T, h, r);
    ops->linear_backward(da1, dwk, dbk, dk, a1, wk, T, h, nkv);
    ops->linear_backward(da1, dwv, dbv, dv, a1, wv, T, h, nkv);
    ops->rmsnorm_backward(dx, dwn1, da1, x, wn1, rstd1, T, h);

    compare("d_x", dx, "d_x");
    compare("d_attn_norm", dwn1, "d_attn_norm");
    compare("d_mlp_norm", dwn2, "d_mlp_norm");
    compare("d_wq", dwq, "d_wq");
    compare("d_bq", dbq, "d_bq");
    compare("d_wk", dwk, "d_wk");
    compare("d_bk", dbk, "d_bk");
    compare("d_wv", dwv, "d_wv");
    compare("d_bv", dbv, "d_bv");
    compare("d_wo", dwo, "d_wo");
    compare("d_wg", dwg, "d_wg");
    compare("d_wu", dwu, "d_wu");
    compare("d_wd", dwd, "d_wd");
    compare("d_lora_a", dA, "d_lora_a");
    compare("d_lora_b", dB, "d_lora_b");

    float *all[] = {cos, sin, x, G, wn1, wn2, wq, bq, wk, bk, wv, bv, wo, wg, wu, wd, A, B, a1, rstd1, q, k, v, u,
                    att, ao, h1, a2, rstd2, gt, up, mm, out, dwn1, dwn2, dwq, dbq, dwk, dbk, dwv, dbv, dwo, dwg, dwu,
                    dwd, dA, dB, dh1, dmm, dgt, dup, da2, dao, dq, dk, dv, du, da1, dx};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) free(all[i]);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: test_backward CASE FILE.safetensors\n");
        return 2;
    }
    g_case = argv[1];
    YaError err = {0};
    if (ya_st_open(argv[2], &g_st, &err) != 0) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    const YaBackendOps *ops = ya_backend_cpu();
    printf("%s:\n", g_case);
    if (!strcmp(g_case, "linear")) test_linear(ops);
    else if (!strcmp(g_case, "rmsnorm")) test_rmsnorm(ops);
    else if (!strncmp(g_case, "rope_", 5)) test_rope(ops);
    else if (!strncmp(g_case, "attn_", 5)) test_attention(ops);
    else if (!strcmp(g_case, "swiglu")) test_swiglu(ops);
    else if (!strcmp(g_case, "embedding")) test_embedding(ops);
    else if (!strncmp(g_case, "ce_", 3)) test_cross_entropy(ops);
    else if (!strcmp(g_case, "layer_lora")) test_layer_lora(ops);
    else {
        fprintf(stderr, "unknown case '%s'\n", g_case);
        return 2;
    }
    ya_st_close(g_st);
    TEST_MAIN_END();
}

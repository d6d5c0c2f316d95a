/* test_cuda_ops.c — every CUDA op against the CPU op (the specification) on
 * fresh random inputs, forward and backward, plus the CUDA backend's error
 * messages (out of memory, unsupported dtype).
 *
 * Metric: rel = max|cuda − cpu| / max|cpu| over the whole output tensor.
 * Tolerances (docs/CUDA.md): bf16 outputs 1e-2; fp32 outputs 1e-5 (AdamW, the
 * fp32 GEMM, rstd, nll and the loss included); the fp64 global norm 1e-12.
 * For bf16 ops the random inputs are rounded to bf16 first and the CPU op runs
 * on those exact values in fp32, so the difference measures the kernel, not
 * the input rounding. Inputs are drawn from a fresh seed each run (printed;
 * YA_TEST_SEED=n repeats one). Exits 77 (ctest: skipped) without a GPU. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/backend.h"
#include "backend/cuda/cuda_ops.h"
#include "test_util.h"
#include "your_ai/optimizer.h"
#include "your_ai/rng.h"
#include "your_ai/safetensors.h"

#define TOL_BF16 1e-2
#define TOL_F32 1e-5

typedef struct Env {
    YaCudaCtx *ctx;
    const YaCudaOps *gpu;
    const YaBackendOps *cpu;
    YaRng rng;
} Env;

/* ---- host helpers ---------------------------------------------------------- */

static float *rand_f32(Env *e, size_t n, float scale) {
    float *a = malloc(n * sizeof *a);
    for (size_t i = 0; i < n; i++) a[i] = scale * (2.0f * ya_rng_uniform_f32(&e->rng) - 1.0f);
    return a;
}

/* Random values already representable in bf16 (so CPU and GPU see the same inputs). */
static float *rand_bf16vals(Env *e, size_t n, float scale) {
    float *a = rand_f32(e, n, scale);
    for (size_t i = 0; i < n; i++) a[i] = ya_bf16_to_f32(ya_f32_to_bf16(a[i]));
    return a;
}

static void *dev_alloc(Env *e, size_t bytes, const char *what) {
    YaError err;
    void *p = ya_cuda_alloc(e->ctx, bytes, what, &err);
    if (!p) {
        fprintf(stderr, "%s\n", err.message);
        exit(1);
    }
    return p;
}

static YaBf16 *dev_bf16(Env *e, const float *host, size_t n) {
    YaBf16 *tmp = malloc(n * sizeof *tmp);
    for (size_t i = 0; i < n; i++) tmp[i] = ya_f32_to_bf16(host[i]);
    YaBf16 *d = dev_alloc(e, n * sizeof *d, "bf16 input");
    /* From pageable memory the call returns once tmp is staged: freeing it next is safe. */
    ya_cuda_upload(e->ctx, d, tmp, n * sizeof *d);
    free(tmp);
    return d;
}

static float *dev_f32(Env *e, const float *host, size_t n) {
    float *d = dev_alloc(e, n * sizeof *d, "f32 input");
    ya_cuda_upload(e->ctx, d, host, n * sizeof *d);
    return d;
}

/* A device copy of bf16 values that starts one element past the allocation's
 * 256-byte boundary: 2-byte aligned but not 16-byte aligned, so every op handed
 * such a pointer takes its scalar kernel instead of the 16-byte one. */
static YaBf16 *dev_bf16_odd(Env *e, const float *host, size_t n) {
    YaBf16 *d = (YaBf16 *)dev_alloc(e, (n + 8) * sizeof *d, "odd-offset bf16") + 1;
    YaBf16 *tmp = malloc(n * sizeof *tmp);
    for (size_t i = 0; i < n; i++) tmp[i] = ya_f32_to_bf16(host[i]);
    ya_cuda_upload(e->ctx, d, tmp, n * sizeof *d);
    free(tmp);
    return d;
}

/* Downloads and converts; any pending CUDA error fails the test. */
static float *get_bf16(Env *e, const YaBf16 *d, size_t n) {
    YaBf16 *tmp = malloc(n * sizeof *tmp);
    memset(tmp, 0xff, n * sizeof *tmp); /* poison: NaN if never written */
    ya_cuda_download(e->ctx, tmp, d, n * sizeof *tmp);
    YaError err;
    int rc = ya_cuda_sync(e->ctx, &err);
    CHECK_MSG(rc == YA_OK, "%s", err.message);
    float *h = malloc(n * sizeof *h);
    for (size_t i = 0; i < n; i++) h[i] = ya_bf16_to_f32(tmp[i]);
    free(tmp);
    return h;
}

static float *get_f32(Env *e, const float *d, size_t n) {
    float *h = malloc(n * sizeof *h);
    memset(h, 0xff, n * sizeof *h);
    ya_cuda_download(e->ctx, h, d, n * sizeof *h);
    YaError err;
    int rc = ya_cuda_sync(e->ctx, &err);
    CHECK_MSG(rc == YA_OK, "%s", err.message);
    return h;
}

/* max|a − b| / max|b|; NaN anywhere gives +inf. */
static double rel_err(const float *a, const float *b, size_t n) {
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (isnan(d)) return INFINITY;
        if (d > num) num = d;
        if (fabs((double)b[i]) > den) den = fabs((double)b[i]);
    }
    return den > 0 ? num / den : num;
}

static void expect(const char *op, const char *what, double rel, double tol) {
    printf("%-28s %-10s rel %.3e  (tol %.0e)  %s\n", op, what, rel, tol, rel <= tol ? "ok" : "FAIL");
    CHECK_MSG(rel <= tol, "%s %s: rel %.3e > %.0e", op, what, rel, tol);
}

static void compare_bf16(Env *e, const char *op, const char *what, const YaBf16 *d, const float *ref, size_t n,
                         double tol) {
    float *h = get_bf16(e, d, n);
    expect(op, what, rel_err(h, ref, n), tol);
    free(h);
}

static void compare_f32(Env *e, const char *op, const char *what, const float *d, const float *ref, size_t n,
                        double tol) {
    float *h = get_f32(e, d, n);
    expect(op, what, rel_err(h, ref, n), tol);
    free(h);
}

/* ---- linear -------------------------------------------------------------------- */

static void test_linear(Env *e, YaDtype dt, int M, int K, int N, int with_bias, int accumulate) {
    int bf = dt == YA_DTYPE_BF16;
    double tol = bf ? TOL_BF16 : TOL_F32;
    char op[64];
    snprintf(op, sizeof op, "linear %s %dx%dx%d%s%s", bf ? "bf16" : "f32", M, K, N, with_bias ? " +b" : "",
             accumulate ? " +=" : "");
    size_t mark = ya_cuda_mark(e->ctx);
    float *(*gen)(Env *, size_t, float) = bf ? rand_bf16vals : rand_f32;
    float *x = gen(e, (size_t)M * K, 1.0f), *w = gen(e, (size_t)N * K, 0.5f);
    float *b = with_bias ? gen(e, (size_t)N, 1.0f) : NULL, *y = gen(e, (size_t)M * N, 1.0f);
    void *dx = bf ? (void *)dev_bf16(e, x, (size_t)M * K) : (void *)dev_f32(e, x, (size_t)M * K);
    void *dw = bf ? (void *)dev_bf16(e, w, (size_t)N * K) : (void *)dev_f32(e, w, (size_t)N * K);
    void *db = !b ? NULL : bf ? (void *)dev_bf16(e, b, (size_t)N) : (void *)dev_f32(e, b, (size_t)N);
    void *dy = bf ? (void *)dev_bf16(e, y, (size_t)M * N) : (void *)dev_f32(e, y, (size_t)M * N);

    e->cpu->linear(y, x, w, b, M, K, N, accumulate);
    e->gpu->linear(e->ctx, dy, dx, dw, db, dt, M, K, N, accumulate);
    if (bf) compare_bf16(e, op, "y", dy, y, (size_t)M * N, tol);
    else compare_f32(e, op, "y", dy, y, (size_t)M * N, tol);

    /* backward: all three gradients accumulate into random initial contents */
    float *gy = gen(e, (size_t)M * N, 1.0f);
    float *gx = gen(e, (size_t)M * K, 1.0f), *gw = rand_f32(e, (size_t)N * K, 1.0f), *gb = rand_f32(e, (size_t)N, 1.0f);
    void *dgy = bf ? (void *)dev_bf16(e, gy, (size_t)M * N) : (void *)dev_f32(e, gy, (size_t)M * N);
    void *dgx = bf ? (void *)dev_bf16(e, gx, (size_t)M * K) : (void *)dev_f32(e, gx, (size_t)M * K);
    float *dgw = dev_f32(e, gw, (size_t)N * K), *dgb = dev_f32(e, gb, (size_t)N);
    e->cpu->linear_backward(gx, gw, with_bias ? gb : NULL, gy, x, w, M, K, N);
    e->gpu->linear_backward(e->ctx, dgx, dgw, with_bias ? dgb : NULL, dgy, dx, dw, dt, M, K, N);
    snprintf(op + strlen(op), sizeof op - strlen(op), " bwd");
    if (bf) compare_bf16(e, op, "dx", dgx, gx, (size_t)M * K, tol);
    else compare_f32(e, op, "dx", dgx, gx, (size_t)M * K, tol);
    compare_f32(e, op, "dw (f32)", dgw, gw, (size_t)N * K, bf ? TOL_BF16 : TOL_F32);
    if (with_bias) compare_f32(e, op, "db (f32)", dgb, gb, (size_t)N, TOL_F32);
    free(x), free(w), free(b), free(y), free(gy), free(gx), free(gw), free(gb);
    ya_cuda_release(e->ctx, mark);
}

/* ---- rmsnorm ------------------------------------------------------------------- */

/* odd: every bf16 buffer one element off 16-byte alignment (the scalar kernels;
 * aligned buffers with h % 8 == 0 and h ≤ 16384 take the 16-byte ones). */
static void test_rmsnorm(Env *e, int M, int h, int odd) {
    size_t mark = ya_cuda_mark(e->ctx), n = (size_t)M * h;
    char op[64];
    snprintf(op, sizeof op, "rmsnorm %dx%d%s", M, h, odd ? " odd" : "");
    YaBf16 *(*dev_bf16_at)(Env *, const float *, size_t) = odd ? dev_bf16_odd : dev_bf16;
    float *x = rand_bf16vals(e, n, 2.0f), *w = rand_bf16vals(e, (size_t)h, 1.5f);
    float *y = malloc(n * sizeof *y), *rstd = malloc((size_t)M * sizeof *rstd);
    YaBf16 *dx_ = dev_bf16_at(e, x, n), *dw_ = dev_bf16_at(e, w, (size_t)h), *dy_ = dev_bf16_at(e, x, n);
    /* (y starts as a copy of x, not the expected y: an element left unwritten fails) */
    float *drstd = dev_alloc(e, (size_t)M * sizeof(float), "rstd");
    e->cpu->rmsnorm(y, rstd, x, w, M, h, 1e-5f);
    e->gpu->rmsnorm(e->ctx, dy_, drstd, dx_, dw_, M, h, 1e-5f);
    compare_bf16(e, op, "y", dy_, y, n, TOL_BF16);
    compare_f32(e, op, "rstd (f32)", drstd, rstd, (size_t)M, TOL_F32);

    float *gy = rand_bf16vals(e, n, 1.0f), *gx = rand_bf16vals(e, n, 1.0f), *gw = rand_f32(e, (size_t)h, 1.0f);
    YaBf16 *dgy = dev_bf16_at(e, gy, n), *dgx = dev_bf16_at(e, gx, n);
    float *dgw = dev_f32(e, gw, (size_t)h);
    /* Both sides take the CPU rstd so the backward is compared on its own. */
    float *drstd_ref = dev_f32(e, rstd, (size_t)M);
    e->cpu->rmsnorm_backward(gx, gw, gy, x, w, rstd, M, h);
    e->gpu->rmsnorm_backward(e->ctx, dgx, dgw, dgy, dx_, dw_, drstd_ref, M, h);
    snprintf(op + strlen(op), sizeof op - strlen(op), " bwd");
    compare_bf16(e, op, "dx", dgx, gx, n, TOL_BF16);
    compare_f32(e, op, "dw (f32)", dgw, gw, (size_t)h, TOL_F32);
    free(x), free(w), free(y), free(rstd), free(gy), free(gx), free(gw);
    ya_cuda_release(e->ctx, mark);
}

/* ---- rope ------------------------------------------------------------------------ */

static void test_rope(Env *e, int T, int n_heads, int d) {
    size_t mark = ya_cuda_mark(e->ctx), n = (size_t)T * n_heads * d, nt = (size_t)T * (d / 2);
    char op[64];
    snprintf(op, sizeof op, "rope T%d h%d d%d", T, n_heads, d);
    float *cs = malloc(nt * sizeof *cs), *sn = malloc(nt * sizeof *sn);
    int pos0 = (int)ya_rng_below(&e->rng, 1000);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < d / 2; i++) {
            double ang = (pos0 + t) * pow(10000.0, -2.0 * i / d);
            cs[(size_t)t * (d / 2) + i] = (float)cos(ang);
            sn[(size_t)t * (d / 2) + i] = (float)sin(ang);
        }
    float *dcs = dev_f32(e, cs, nt), *dsn = dev_f32(e, sn, nt);
    float *x = rand_bf16vals(e, n, 2.0f);
    YaBf16 *dx_ = dev_bf16(e, x, n);
    e->cpu->rope(x, cs, sn, T, n_heads, d);
    e->gpu->rope(e->ctx, dx_, dcs, dsn, T, n_heads, d);
    compare_bf16(e, op, "x", dx_, x, n, TOL_BF16);
    float *g = rand_bf16vals(e, n, 1.0f);
    YaBf16 *dg = dev_bf16(e, g, n);
    e->cpu->rope_backward(g, cs, sn, T, n_heads, d);
    e->gpu->rope_backward(e->ctx, dg, dcs, dsn, T, n_heads, d);
    snprintf(op + strlen(op), sizeof op - strlen(op), " bwd");
    compare_bf16(e, op, "dx", dg, g, n, TOL_BF16);
    free(cs), free(sn), free(x), free(g);
    ya_cuda_release(e->ctx, mark);
}

/* ---- attention ------------------------------------------------------------------ */

/* Which implementation serves a shape (cuda_attention.cu's choice: the flash
 * kernels for d = 64/128 from 16 rows, the warp reference otherwise); printed only. */
static const char *attention_path(int T, int d) { return (d == 64 || d == 128) && T >= 16 ? "flash" : "warp"; }

/* lse [n_h, T] of the scaled scores, in double: the forward's second output. */
static void lse_reference(float *lse, const float *q, const float *k, int T, int pos0, int n_h, int n_kv, int d) {
    double scale = 1.0 / sqrt((double)d);
    double *sc = malloc((size_t)(pos0 + T) * sizeof *sc);
    for (int j = 0; j < n_h; j++) {
        int g = j / (n_h / n_kv);
        for (int t = 0; t < T; t++) {
            const float *qr = q + ((size_t)t * n_h + j) * d; // [d]
            double mx = -INFINITY, sum = 0.0;
            for (int s = 0; s <= pos0 + t; s++) {
                const float *kr = k + ((size_t)s * n_kv + g) * d; // [d]
                double dot = 0.0;
                for (int i = 0; i < d; i++) dot += (double)qr[i] * kr[i];
                sc[s] = dot * scale;
                if (sc[s] > mx) mx = sc[s];
            }
            for (int s = 0; s <= pos0 + t; s++) sum += exp(sc[s] - mx);
            lse[(size_t)j * T + t] = (float)(mx + log(sum));
        }
    }
    free(sc);
}

/* Fills a device buffer with 0xff bytes (NaN in bf16 and fp32): an element the op
 * leaves unwritten then fails the comparison. */
static void poison(Env *e, void *d, size_t bytes) {
    unsigned char *h = malloc(bytes);
    memset(h, 0xff, bytes);
    ya_cuda_upload(e->ctx, d, h, bytes);
    YaError err;
    CHECK(ya_cuda_sync(e->ctx, &err) == YA_OK); /* h is freed next */
    free(h);
}

static void test_attention(Env *e, int T, int pos0, int n_h, int n_kv, int d) {
    int Tk = pos0 + T + (int)ya_rng_below(&e->rng, 3); /* keys past pos0 + T exist but are never seen */
    size_t mark = ya_cuda_mark(e->ctx), nq = (size_t)T * n_h * d, nk = (size_t)Tk * n_kv * d;
    char op[80];
    snprintf(op, sizeof op, "attention %s T%d pos0 %d h%d/%d d%d", attention_path(T, d), T, pos0, n_h, n_kv, d);
    float *q = rand_bf16vals(e, nq, 3.0f), *k = rand_bf16vals(e, nk, 1.0f), *v = rand_bf16vals(e, nk, 1.0f);
    float *out = malloc(nq * sizeof *out), *att = malloc((size_t)n_h * T * Tk * sizeof *att);
    float *lse = malloc((size_t)n_h * T * sizeof *lse);
    YaBf16 *dq_ = dev_bf16(e, q, nq), *dk_ = dev_bf16(e, k, nk), *dv_ = dev_bf16(e, v, nk);
    YaBf16 *dout_ = dev_alloc(e, nq * 2, "out");
    float *dlse = dev_alloc(e, (size_t)n_h * T * sizeof(float), "lse");
    poison(e, dout_, nq * 2);
    poison(e, dlse, (size_t)n_h * T * sizeof(float));
    e->cpu->attention(out, att, q, k, v, T, Tk, pos0, n_h, n_kv, d);
    e->gpu->attention(e->ctx, dout_, dlse, dq_, dk_, dv_, T, Tk, pos0, n_h, n_kv, d);
    compare_bf16(e, op, "out", dout_, out, nq, TOL_BF16);
    lse_reference(lse, q, k, T, pos0, n_h, n_kv, d);
    compare_f32(e, op, "lse (f32)", dlse, lse, (size_t)n_h * T, TOL_F32);

    float *go = rand_bf16vals(e, nq, 1.0f), *gq = rand_bf16vals(e, nq, 0.1f);
    float *gk = rand_bf16vals(e, nk, 0.1f), *gv = rand_bf16vals(e, nk, 0.1f);
    YaBf16 *dgo = dev_bf16(e, go, nq), *dgq = dev_bf16(e, gq, nq), *dgk = dev_bf16(e, gk, nk), *dgv = dev_bf16(e, gv, nk);
    e->cpu->attention_backward(gq, gk, gv, go, att, out, q, k, v, T, Tk, pos0, n_h, n_kv, d);
    e->gpu->attention_backward(e->ctx, dgq, dgk, dgv, dgo, dlse, dout_, dq_, dk_, dv_, T, Tk, pos0, n_h, n_kv, d);
    snprintf(op + strlen(op), sizeof op - strlen(op), " bwd");
    compare_bf16(e, op, "dq", dgq, gq, nq, TOL_BF16);
    compare_bf16(e, op, "dk", dgk, gk, nk, TOL_BF16);
    compare_bf16(e, op, "dv", dgv, gv, nk, TOL_BF16);
    free(q), free(k), free(v), free(out), free(att), free(lse), free(go), free(gq), free(gk), free(gv);
    ya_cuda_release(e->ctx, mark);
}

/* Bitwise repeatability (docs/CUDA.md "Precision and determinism"): forward and
 * backward twice on the same inputs and the same initial gradient contents give
 * the same bytes in out, lse, dq, dk, dv. */
static void test_attention_determinism(Env *e, int T, int pos0, int n_h, int n_kv, int d) {
    int Tk = pos0 + T;
    size_t mark = ya_cuda_mark(e->ctx), nq = (size_t)T * n_h * d, nk = (size_t)Tk * n_kv * d;
    size_t nl = (size_t)n_h * T;
    float *q = rand_bf16vals(e, nq, 3.0f), *k = rand_bf16vals(e, nk, 1.0f), *v = rand_bf16vals(e, nk, 1.0f);
    float *go = rand_bf16vals(e, nq, 1.0f), *g0q = rand_bf16vals(e, nq, 0.1f), *g0k = rand_bf16vals(e, nk, 0.1f);
    YaBf16 *dq_ = dev_bf16(e, q, nq), *dk_ = dev_bf16(e, k, nk), *dv_ = dev_bf16(e, v, nk), *dgo = dev_bf16(e, go, nq);
    void *res[2][5]; /* per run: out, dq, dk, dv (bf16), lse (fp32) */
    size_t bytes[5] = {nq * 2, nq * 2, nk * 2, nk * 2, nl * 4};
    for (int run = 0; run < 2; run++) {
        YaBf16 *out = dev_alloc(e, nq * 2, "out");
        float *lse = dev_alloc(e, nl * 4, "lse");
        YaBf16 *gq = dev_bf16(e, g0q, nq), *gk = dev_bf16(e, g0k, nk), *gv = dev_bf16(e, g0k, nk);
        e->gpu->attention(e->ctx, out, lse, dq_, dk_, dv_, T, Tk, pos0, n_h, n_kv, d);
        e->gpu->attention_backward(e->ctx, gq, gk, gv, dgo, lse, out, dq_, dk_, dv_, T, Tk, pos0, n_h, n_kv, d);
        res[run][0] = out, res[run][1] = gq, res[run][2] = gk, res[run][3] = gv, res[run][4] = lse;
    }
    static const char *names[5] = {"out", "dq", "dk", "dv", "lse"};
    int same = 1;
    for (int i = 0; i < 5; i++) {
        unsigned char *a = malloc(bytes[i]), *b = malloc(bytes[i]);
        ya_cuda_download(e->ctx, a, res[0][i], bytes[i]);
        ya_cuda_download(e->ctx, b, res[1][i], bytes[i]);
        YaError err;
        int rc = ya_cuda_sync(e->ctx, &err);
        CHECK_MSG(rc == YA_OK, "%s", err.message);
        int eq = memcmp(a, b, bytes[i]) == 0;
        CHECK_MSG(eq, "attention %s T%d h%d/%d d%d: %s differs between two identical runs", attention_path(T, d), T,
                  n_h, n_kv, d, names[i]);
        same &= eq;
        free(a), free(b);
    }
    printf("attention %s T%d pos0 %d h%d/%d d%d  two runs: out, lse, dq, dk, dv %s\n", attention_path(T, d), T, pos0,
           n_h, n_kv, d, same ? "bitwise equal  ok" : "DIFFER  FAIL");
    free(q), free(k), free(v), free(go), free(g0q), free(g0k);
    ya_cuda_release(e->ctx, mark);
}

/* ---- swiglu, add ------------------------------------------------------------------ */

static void test_activation(Env *e, size_t n) {
    size_t mark = ya_cuda_mark(e->ctx);
    char op[64];
    snprintf(op, sizeof op, "swiglu n%zu", n);
    float *g = rand_bf16vals(e, n, 6.0f), *u = rand_bf16vals(e, n, 2.0f), *out = malloc(n * sizeof *out);
    YaBf16 *dg = dev_bf16(e, g, n), *du = dev_bf16(e, u, n), *dout = dev_alloc(e, n * 2, "out");
    e->cpu->swiglu(out, g, u, n);
    e->gpu->swiglu(e->ctx, dout, dg, du, n);
    compare_bf16(e, op, "out", dout, out, n, TOL_BF16);

    float *go = rand_bf16vals(e, n, 1.0f), *gg = rand_bf16vals(e, n, 1.0f), *gu = rand_bf16vals(e, n, 1.0f);
    YaBf16 *dgo = dev_bf16(e, go, n), *dgg = dev_bf16(e, gg, n), *dgu = dev_bf16(e, gu, n);
    e->cpu->swiglu_backward(gg, gu, go, g, u, n);
    e->gpu->swiglu_backward(e->ctx, dgg, dgu, dgo, dg, du, n);
    snprintf(op + strlen(op), sizeof op - strlen(op), " bwd");
    compare_bf16(e, op, "dgate", dgg, gg, n, TOL_BF16);
    compare_bf16(e, op, "dup", dgu, gu, n, TOL_BF16);

    float *y = rand_bf16vals(e, n, 1.0f), *x = rand_bf16vals(e, n, 1.0f);
    YaBf16 *dy = dev_bf16(e, y, n), *dxx = dev_bf16(e, x, n);
    e->cpu->add(y, x, n);
    e->gpu->add(e->ctx, dy, dxx, n);
    snprintf(op, sizeof op, "add n%zu", n);
    compare_bf16(e, op, "y", dy, y, n, TOL_BF16);
    free(g), free(u), free(out), free(go), free(gg), free(gu), free(y), free(x);
    ya_cuda_release(e->ctx, mark);
}

/* swiglu_backward_set (writes, no accumulation) against the CPU swiglu_backward
 * accumulating into zeroed buffers; the outputs start as NaN (poisoned), so an
 * element left unwritten fails. */
static void test_swiglu_backward_set(Env *e, size_t n) {
    size_t mark = ya_cuda_mark(e->ctx);
    char op[64];
    snprintf(op, sizeof op, "swiglu_backward_set n%zu", n);
    float *g = rand_bf16vals(e, n, 6.0f), *u = rand_bf16vals(e, n, 2.0f), *go = rand_bf16vals(e, n, 1.0f);
    float *gg = calloc(n, sizeof *gg), *gu = calloc(n, sizeof *gu);
    YaBf16 *dg = dev_bf16(e, g, n), *du = dev_bf16(e, u, n), *dgo = dev_bf16(e, go, n);
    YaBf16 *dgg = dev_alloc(e, n * 2, "dgate"), *dgu = dev_alloc(e, n * 2, "dup");
    poison(e, dgg, n * 2);
    poison(e, dgu, n * 2);
    e->cpu->swiglu_backward(gg, gu, go, g, u, n);
    e->gpu->swiglu_backward_set(e->ctx, dgg, dgu, dgo, dg, du, n);
    compare_bf16(e, op, "dgate", dgg, gg, n, TOL_BF16);
    compare_bf16(e, op, "dup", dgu, gu, n, TOL_BF16);
    free(g), free(u), free(go), free(gg), free(gu);
    ya_cuda_release(e->ctx, mark);
}

/* ---- 16-byte kernels == their scalar fallback, bit for bit ------------------------ */

/* The two device results a (from 16-byte aligned buffers) and b (from the same
 * values one element off alignment: the scalar kernel) must be the same bytes. */
static void expect_same_bits(Env *e, const char *op, const char *what, const void *a, const void *b, size_t bytes) {
    unsigned char *ha = malloc(bytes), *hb = malloc(bytes);
    memset(ha, 0x11, bytes), memset(hb, 0x22, bytes);
    ya_cuda_download(e->ctx, ha, a, bytes);
    ya_cuda_download(e->ctx, hb, b, bytes);
    YaError err;
    int rc = ya_cuda_sync(e->ctx, &err);
    CHECK_MSG(rc == YA_OK, "%s", err.message);
    size_t first = bytes;
    for (size_t i = 0; i < bytes && first == bytes; i++)
        if (ha[i] != hb[i]) first = i;
    printf("%-28s %-10s 16-byte vs scalar kernel: %s\n", op, what,
           first == bytes ? "bitwise equal  ok" : "DIFFER  FAIL");
    CHECK_MSG(first == bytes, "%s %s: 16-byte and scalar kernels differ first at byte %zu", op, what, first);
    free(ha), free(hb);
}

/* Every vectorised element-wise op (swiglu, swiglu_backward ± NULL output,
 * swiglu_backward_set, add, scale, dropout, to_bf16 from F32, rope fwd/bwd) on
 * the same values twice: from aligned buffers (16-byte kernel) and from buffers
 * one element off (scalar kernel). n with n % 8 != 0 also covers the tail. */
static void test_vec_vs_scalar(Env *e, size_t n) {
    size_t mark = ya_cuda_mark(e->ctx);
    char op[64];
    float *g = rand_bf16vals(e, n, 6.0f), *u = rand_bf16vals(e, n, 2.0f), *go = rand_bf16vals(e, n, 1.0f);
    float *g0 = rand_bf16vals(e, n, 1.0f), *u0 = rand_bf16vals(e, n, 1.0f);
    YaBf16 *ga = dev_bf16(e, g, n), *gb = dev_bf16_odd(e, g, n), *ua = dev_bf16(e, u, n), *ub = dev_bf16_odd(e, u, n);
    YaBf16 *oa = dev_bf16(e, go, n), *ob = dev_bf16_odd(e, go, n);
    YaBf16 *ra = dev_bf16(e, g0, n), *rb = dev_bf16_odd(e, g0, n); /* outputs, random initial contents */
    YaBf16 *sa = dev_bf16(e, u0, n), *sb = dev_bf16_odd(e, u0, n);

    snprintf(op, sizeof op, "swiglu n%zu", n);
    e->gpu->swiglu(e->ctx, ra, ga, ua, n);
    e->gpu->swiglu(e->ctx, rb, gb, ub, n);
    expect_same_bits(e, op, "out", ra, rb, n * 2);

    snprintf(op, sizeof op, "swiglu_backward n%zu", n);
    YaBf16 *da = dev_bf16(e, g0, n), *db = dev_bf16_odd(e, g0, n); /* dgate, dup: random initial contents */
    YaBf16 *pa = dev_bf16(e, u0, n), *pb = dev_bf16_odd(e, u0, n);
    e->gpu->swiglu_backward(e->ctx, da, pa, oa, ga, ua, n);
    e->gpu->swiglu_backward(e->ctx, db, pb, ob, gb, ub, n);
    expect_same_bits(e, op, "dgate", da, db, n * 2);
    expect_same_bits(e, op, "dup", pa, pb, n * 2);
    e->gpu->swiglu_backward(e->ctx, NULL, pa, oa, ga, ua, n); /* dup only (dgate NULL) */
    e->gpu->swiglu_backward(e->ctx, NULL, pb, ob, gb, ub, n);
    expect_same_bits(e, op, "dup (only)", pa, pb, n * 2);

    snprintf(op, sizeof op, "swiglu_backward_set n%zu", n);
    e->gpu->swiglu_backward_set(e->ctx, da, pa, oa, ga, ua, n);
    e->gpu->swiglu_backward_set(e->ctx, db, pb, ob, gb, ub, n);
    expect_same_bits(e, op, "dgate", da, db, n * 2);
    expect_same_bits(e, op, "dup", pa, pb, n * 2);

    snprintf(op, sizeof op, "add n%zu", n);
    e->gpu->add(e->ctx, sa, ga, n);
    e->gpu->add(e->ctx, sb, gb, n);
    expect_same_bits(e, op, "y", sa, sb, n * 2);

    /* scale: also exact against the host (one fp32 product, rounded to nearest even) */
    snprintf(op, sizeof op, "scale n%zu", n);
    const float s = 0.3671875f;
    e->gpu->scale(e->ctx, ua, n, s);
    e->gpu->scale(e->ctx, ub, n, s);
    expect_same_bits(e, op, "x", ua, ub, n * 2);
    float *ref = malloc(n * sizeof *ref);
    for (size_t i = 0; i < n; i++) ref[i] = ya_bf16_to_f32(ya_f32_to_bf16(u[i] * s));
    compare_bf16(e, op, "x vs host", ua, ref, n, 0.0);

    /* to_bf16 from F32: exact against the host rounding */
    snprintf(op, sizeof op, "to_bf16 F32 n%zu", n);
    float *f = rand_f32(e, n, 3.0f);
    float *fa = dev_f32(e, f, n), *fb = (float *)dev_alloc(e, (n + 4) * sizeof(float), "odd f32") + 1;
    ya_cuda_upload(e->ctx, fb, f, n * sizeof *f);
    e->gpu->to_bf16(e->ctx, ra, fa, YA_DTYPE_F32, n);
    e->gpu->to_bf16(e->ctx, rb, fb, YA_DTYPE_F32, n);
    expect_same_bits(e, op, "dst", ra, rb, n * 2);
    for (size_t i = 0; i < n; i++) ref[i] = ya_bf16_to_f32(ya_f32_to_bf16(f[i]));
    compare_bf16(e, op, "dst vs host", ra, ref, n, 0.0);

    /* dropout: M×K = n with K % 8 != 0 (8-groups straddle rows); out of place and in place */
    int K = 203, M = (int)(n / (size_t)K);
    size_t nd = (size_t)M * K;
    const float p = 0.25f, keep = 1.0f / (1.0f - p);
    snprintf(op, sizeof op, "dropout %dx%d p%.2f", M, K, p);
    e->gpu->dropout(e->ctx, ra, ga, M, K, p, 0x1234abcdULL);
    e->gpu->dropout(e->ctx, rb, gb, M, K, p, 0x1234abcdULL);
    expect_same_bits(e, op, "dst", ra, rb, nd * 2);
    /* every element kept (bf16(g·keep)) or zeroed, about a fraction p of them zeroed */
    float *h = get_bf16(e, ra, nd);
    size_t dropped = 0, bad = 0;
    for (size_t i = 0; i < nd; i++) {
        float kept = ya_bf16_to_f32(ya_f32_to_bf16(g[i] * keep));
        if (h[i] == 0.0f && g[i] != 0.0f) dropped++;
        else if (h[i] != kept) bad++;
    }
    double frac = (double)dropped / (double)nd, sd = sqrt(p * (1 - p) / (double)nd);
    printf("%-28s %-10s %zu of %zu dropped (%.4f, want %.2f ± %.4f), %zu neither kept nor dropped  %s\n", op, "mask",
           dropped, nd, frac, p, 5 * sd, bad, bad == 0 && fabs(frac - p) <= 5 * sd ? "ok" : "FAIL");
    CHECK_MSG(bad == 0, "%s: %zu elements neither g·keep nor 0", op, bad);
    CHECK_MSG(fabs(frac - p) <= 5 * sd, "%s: dropped fraction %.4f, want %.2f", op, frac, p);
    free(h);
    e->gpu->dropout(e->ctx, ga, ga, M, K, p, 0x1234abcdULL); /* in place: the same mask */
    e->gpu->dropout(e->ctx, gb, gb, M, K, p, 0x1234abcdULL);
    expect_same_bits(e, op, "in place", ga, gb, nd * 2);
    expect_same_bits(e, op, "in == out", ga, ra, nd * 2);

    free(g), free(u), free(go), free(g0), free(u0), free(ref), free(f);
    ya_cuda_release(e->ctx, mark);
}

/* rope forward then backward, x aligned (the 16-byte kernel, d % 16 == 0) and
 * one element off (the scalar kernel), tables shared. */
static void test_rope_vec_vs_scalar(Env *e, int T, int n_heads, int d) {
    size_t mark = ya_cuda_mark(e->ctx), n = (size_t)T * n_heads * d, nt = (size_t)T * (d / 2);
    char op[64];
    snprintf(op, sizeof op, "rope T%d h%d d%d", T, n_heads, d);
    float *cs = malloc(nt * sizeof *cs), *sn = malloc(nt * sizeof *sn);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < d / 2; i++) {
            double ang = (7 + t) * pow(500000.0, -2.0 * i / d);
            cs[(size_t)t * (d / 2) + i] = (float)cos(ang);
            sn[(size_t)t * (d / 2) + i] = (float)sin(ang);
        }
    float *dcs = dev_f32(e, cs, nt), *dsn = dev_f32(e, sn, nt), *x = rand_bf16vals(e, n, 2.0f);
    YaBf16 *xa = dev_bf16(e, x, n), *xb = dev_bf16_odd(e, x, n);
    e->gpu->rope(e->ctx, xa, dcs, dsn, T, n_heads, d);
    e->gpu->rope(e->ctx, xb, dcs, dsn, T, n_heads, d);
    expect_same_bits(e, op, "x", xa, xb, n * 2);
    e->gpu->rope_backward(e->ctx, xa, dcs, dsn, T, n_heads, d);
    e->gpu->rope_backward(e->ctx, xb, dcs, dsn, T, n_heads, d);
    snprintf(op + strlen(op), sizeof op - strlen(op), " bwd");
    expect_same_bits(e, op, "dx", xa, xb, n * 2);
    free(cs), free(sn), free(x);
    ya_cuda_release(e->ctx, mark);
}

/* RMSNorm's 16-byte kernels sum in another order than the scalar ones (so no
 * bitwise comparison across them), but each is repeatable: two runs, same bytes. */
static void test_rmsnorm_repeatable(Env *e, int M, int h) {
    size_t mark = ya_cuda_mark(e->ctx), n = (size_t)M * h;
    char op[64];
    snprintf(op, sizeof op, "rmsnorm %dx%d", M, h);
    float *x = rand_bf16vals(e, n, 2.0f), *w = rand_bf16vals(e, (size_t)h, 1.5f), *gy = rand_bf16vals(e, n, 1.0f);
    float *gx = rand_bf16vals(e, n, 1.0f);
    YaBf16 *dx_ = dev_bf16(e, x, n), *dw_ = dev_bf16(e, w, (size_t)h), *dgy = dev_bf16(e, gy, n);
    YaBf16 *y[2] = {dev_alloc(e, n * 2, "y"), dev_alloc(e, n * 2, "y")};
    YaBf16 *dx[2] = {dev_bf16(e, gx, n), dev_bf16(e, gx, n)};
    float *rs[2] = {dev_alloc(e, (size_t)M * 4, "rstd"), dev_alloc(e, (size_t)M * 4, "rstd")};
    for (int r = 0; r < 2; r++) {
        e->gpu->rmsnorm(e->ctx, y[r], rs[r], dx_, dw_, M, h, 1e-5f);
        e->gpu->rmsnorm_backward(e->ctx, dx[r], NULL, dgy, dx_, dw_, rs[0], M, h);
    }
    const char *names[3] = {"y", "rstd", "dx"};
    const void *a[3] = {y[0], rs[0], dx[0]}, *b[3] = {y[1], rs[1], dx[1]};
    size_t bytes[3] = {n * 2, (size_t)M * 4, n * 2};
    for (int i = 0; i < 3; i++) {
        unsigned char *ha = malloc(bytes[i]), *hb = malloc(bytes[i]);
        ya_cuda_download(e->ctx, ha, a[i], bytes[i]);
        ya_cuda_download(e->ctx, hb, b[i], bytes[i]);
        YaError err;
        int rc = ya_cuda_sync(e->ctx, &err);
        CHECK_MSG(rc == YA_OK, "%s", err.message);
        int eq = memcmp(ha, hb, bytes[i]) == 0;
        printf("%-28s %-10s two runs: %s\n", op, names[i], eq ? "bitwise equal  ok" : "DIFFER  FAIL");
        CHECK_MSG(eq, "%s %s differs between two identical runs", op, names[i]);
        free(ha), free(hb);
    }
    free(x), free(w), free(gy), free(gx);
    ya_cuda_release(e->ctx, mark);
}

/* ---- embedding, to_f32 ----------------------------------------------------------- */

static void test_embedding(Env *e, YaDtype dt, int V, int T, int h) {
    size_t mark = ya_cuda_mark(e->ctx), nt = (size_t)V * h, esz = ya_dtype_size(dt);
    char op[64];
    snprintf(op, sizeof op, "embedding %s V%d T%d h%d", ya_dtype_name(dt), V, T, h);
    float *tab = rand_f32(e, nt, 1.0f);
    void *stored = malloc(nt * esz);
    ya_from_f32(dt, tab, stored, nt);
    int32_t *ids = malloc((size_t)T * sizeof *ids);
    for (int t = 0; t < T; t++) ids[t] = (int32_t)ya_rng_below(&e->rng, (uint64_t)V); /* T > V: repeats */
    void *dtab = dev_alloc(e, nt * esz, "table");
    int32_t *dids = dev_alloc(e, (size_t)T * sizeof *ids, "ids");
    ya_cuda_upload(e->ctx, dtab, stored, nt * esz);
    ya_cuda_upload(e->ctx, dids, ids, (size_t)T * sizeof *ids);
    float *out = malloc((size_t)T * h * sizeof *out);
    YaBf16 *dout = dev_alloc(e, (size_t)T * h * 2, "out");
    e->cpu->embedding(out, stored, dt, ids, T, h);
    for (size_t i = 0; i < (size_t)T * h; i++) out[i] = ya_bf16_to_f32(ya_f32_to_bf16(out[i])); /* bf16 activations */
    e->gpu->embedding(e->ctx, dout, dtab, dt, dids, T, h);
    compare_bf16(e, op, "out", dout, out, (size_t)T * h, TOL_F32); /* a copy: exact up to the one rounding */

    float *conv = malloc(nt * sizeof *conv), *dconv = dev_alloc(e, nt * sizeof(float), "to_f32");
    e->cpu->to_f32(conv, stored, dt, nt);
    e->gpu->to_f32(e->ctx, dconv, dtab, dt, nt);
    snprintf(op, sizeof op, "to_f32 %s n%zu", ya_dtype_name(dt), nt);
    compare_f32(e, op, "dst", dconv, conv, nt, 0.0);

    float *gtab = rand_f32(e, nt, 1.0f), *gout = rand_bf16vals(e, (size_t)T * h, 1.0f);
    float *dgtab = dev_f32(e, gtab, nt);
    YaBf16 *dgout = dev_bf16(e, gout, (size_t)T * h);
    e->cpu->embedding_backward(gtab, gout, ids, T, h);
    e->gpu->embedding_backward(e->ctx, dgtab, dgout, dids, T, h);
    snprintf(op, sizeof op, "embedding bwd V%d T%d h%d", V, T, h);
    compare_f32(e, op, "dtable (f32)", dgtab, gtab, nt, TOL_F32);
    free(tab), free(stored), free(ids), free(out), free(conv), free(gtab), free(gout);
    ya_cuda_release(e->ctx, mark);
}

/* ---- cross-entropy (lm_head fused, blocked over rows) ------------------------------ */

/* with_dw: also the head's gradient (full fine-tuning / a trained head); without
 * it dw = NULL on both sides (LoRA). */
static void test_cross_entropy(Env *e, int T, int h, int V, int chunk, int with_dw) {
    size_t mark = ya_cuda_mark(e->ctx), nx = (size_t)T * h, nw = (size_t)V * h;
    char op[64];
    snprintf(op, sizeof op, "cross_entropy T%d h%d V%d C%d%s", T, h, V, chunk, with_dw ? "" : " no-dw");
    float *x = rand_bf16vals(e, nx, 2.0f), *wf = rand_bf16vals(e, nw, 1.0f);
    YaBf16 *wb = malloc(nw * sizeof *wb);
    for (size_t i = 0; i < nw; i++) wb[i] = ya_f32_to_bf16(wf[i]);
    int32_t *tg = malloc((size_t)T * sizeof *tg);
    float *wt = malloc((size_t)T * sizeof *wt);
    for (int t = 0; t < T; t++) {
        /* a quarter of the rows unsupervised, and their targets out of range (must not be read) */
        int masked = ya_rng_below(&e->rng, 4) == 0;
        wt[t] = masked ? 0.0f : (0.5f + ya_rng_uniform_f32(&e->rng)) / (float)T;
        tg[t] = masked ? -7 : (int32_t)ya_rng_below(&e->rng, (uint64_t)V);
    }
    float *nll = malloc((size_t)T * sizeof *nll), *gx = rand_f32(e, nx, 0.01f), *gw = rand_f32(e, nw, 0.01f);
    for (size_t i = 0; i < nx; i++) gx[i] = ya_bf16_to_f32(ya_f32_to_bf16(gx[i]));
    float *cpu_scratch = malloc(e->cpu->cross_entropy_scratch(T, h, V, chunk) * sizeof(float));

    YaBf16 *dx_ = dev_bf16(e, x, nx), *dw_ = dev_alloc(e, nw * 2, "lm_head"), *dgx = dev_bf16(e, gx, nx);
    ya_cuda_upload(e->ctx, dw_, wb, nw * 2);
    int32_t *dtg = dev_alloc(e, (size_t)T * 4, "targets");
    ya_cuda_upload(e->ctx, dtg, tg, (size_t)T * 4);
    float *dwt = dev_f32(e, wt, (size_t)T), *dnll = dev_alloc(e, (size_t)T * 4, "nll"), *dgw = dev_f32(e, gw, nw);
    float *dscratch = dev_alloc(e, e->gpu->cross_entropy_scratch(T, h, V, chunk) * sizeof(float), "ce scratch");

    /* evaluation only (no pass 2) */
    double ref0 = e->cpu->cross_entropy(nll, NULL, NULL, x, wb, YA_DTYPE_BF16, tg, wt, T, h, V, chunk, cpu_scratch);
    double got0 = e->gpu->cross_entropy(e->ctx, dnll, NULL, NULL, dx_, dw_, YA_DTYPE_BF16, dtg, dwt, T, h, V, chunk,
                                        dscratch);
    expect(op, "loss (eval)", fabs(got0 - ref0) / fabs(ref0), TOL_F32);
    compare_f32(e, op, "nll (f32)", dnll, nll, (size_t)T, TOL_F32);
    /* no atomics: a second call gives the same bits */
    float *nll_a = get_f32(e, dnll, (size_t)T);
    double got0b = e->gpu->cross_entropy(e->ctx, dnll, NULL, NULL, dx_, dw_, YA_DTYPE_BF16, dtg, dwt, T, h, V, chunk,
                                         dscratch);
    float *nll_b = get_f32(e, dnll, (size_t)T);
    CHECK_MSG(got0b == got0 && memcmp(nll_a, nll_b, (size_t)T * sizeof *nll_a) == 0,
              "%s: two evaluations differ (loss %.17g vs %.17g)", op, got0, got0b);
    free(nll_a), free(nll_b);

    double ref = e->cpu->cross_entropy(nll, gx, with_dw ? gw : NULL, x, wb, YA_DTYPE_BF16, tg, wt, T, h, V, chunk,
                                       cpu_scratch);
    double got = e->gpu->cross_entropy(e->ctx, dnll, dgx, with_dw ? dgw : NULL, dx_, dw_, YA_DTYPE_BF16, dtg, dwt, T,
                                       h, V, chunk, dscratch);
    expect(op, "loss", fabs(got - ref) / fabs(ref), TOL_F32);
    compare_f32(e, op, "nll bwd (f32)", dnll, nll, (size_t)T, TOL_F32);
    snprintf(op + strlen(op), sizeof op - strlen(op), " bwd");
    compare_bf16(e, op, "dx", dgx, gx, nx, TOL_BF16);
    if (with_dw) compare_f32(e, op, "dw (f32)", dgw, gw, nw, TOL_BF16); /* from bf16 dlogits */
    free(x), free(wf), free(wb), free(tg), free(wt), free(nll), free(gx), free(gw), free(cpu_scratch);
    ya_cuda_release(e->ctx, mark);
}

/* ---- optimizer ------------------------------------------------------------------- */

static void test_adamw(Env *e, YaOptimizerKind kind, size_t n, int steps) {
    size_t mark = ya_cuda_mark(e->ctx);
    char op[64];
    snprintf(op, sizeof op, "%s n%zu x%d steps", ya_optimizer_name(kind), n, steps);
    YaAdamWConfig cfg;
    ya_adamw_defaults(&cfg);
    cfg.kind = kind;
    float *p = rand_f32(e, n, 1.0f), *m = rand_f32(e, n, 0.1f), *v = rand_f32(e, n, 0.01f);
    for (size_t i = 0; i < n; i++) v[i] = fabsf(v[i]);
    float *dp = dev_f32(e, p, n), *dm = dev_f32(e, m, n), *dv = dev_f32(e, v, n), *dg = dev_alloc(e, n * 4, "g");
    long long t0 = 1 + (long long)ya_rng_below(&e->rng, 50);
    for (int s = 0; s < steps; s++) {
        float *g = rand_f32(e, n, 0.05f);
        ya_cuda_upload(e->ctx, dg, g, n * 4);
        double lr = 1e-4 * (1 + s);
        ya_adamw_step(&cfg, t0 + s, lr, p, g, m, v, n);
        e->gpu->adamw(e->ctx, (int)kind, cfg.beta1, cfg.beta2, cfg.eps, cfg.weight_decay, t0 + s, lr, dp, dg, dm, dv, n);
        YaError err;
        CHECK(ya_cuda_sync(e->ctx, &err) == YA_OK); /* g is freed next */
        free(g);
    }
    compare_f32(e, op, "p", dp, p, n, TOL_F32);
    compare_f32(e, op, "m", dm, m, n, TOL_F32);
    compare_f32(e, op, "v", dv, v, n, TOL_F32);
    free(p), free(m), free(v);
    ya_cuda_release(e->ctx, mark);
}

static void test_norm(Env *e, size_t n) {
    size_t mark = ya_cuda_mark(e->ctx);
    char op[64];
    snprintf(op, sizeof op, "grad_global_norm n%zu", n);
    float *g = rand_f32(e, n, 0.1f);
    float *dg = dev_f32(e, g, n);
    double ref = ya_grad_global_norm(g, n);
    double a = e->gpu->grad_global_norm(e->ctx, dg, n), b = e->gpu->grad_global_norm(e->ctx, dg, n);
    expect(op, "norm (f64)", fabs(a - ref) / ref, 1e-12);
    CHECK_MSG(memcmp(&a, &b, sizeof a) == 0, "global norm not repeatable: %.17g vs %.17g", a, b);

    /* clip: both scale by max_norm/(norm + 1e-6) */
    double max_norm = ref * 0.5;
    double cn = ya_cuda_clip_grad_norm(e->ctx, dg, n, max_norm);
    ya_clip_grad_norm(g, n, max_norm);
    CHECK_MSG(fabs(cn - ref) / ref <= 1e-12, "clip returned %.17g, want %.17g", cn, ref);
    snprintf(op, sizeof op, "clip_grad_norm n%zu", n);
    compare_f32(e, op, "g", dg, g, n, TOL_F32);

    float *acc = rand_f32(e, n, 1.0f);
    float *dacc = dev_f32(e, acc, n);
    ya_grad_accumulate(acc, g, n);
    e->gpu->grad_accumulate(e->ctx, dacc, dg, n);
    snprintf(op, sizeof op, "grad_accumulate n%zu", n);
    compare_f32(e, op, "acc", dacc, acc, n, TOL_F32);
    free(g), free(acc);
    ya_cuda_release(e->ctx, mark);
}

/* ---- errors -------------------------------------------------------------------------- */

static void test_errors(Env *e) {
    YaError err;
    /* unsupported dtype: recorded, returned by sync, and the context recovers */
    e->gpu->linear(e->ctx, NULL, NULL, NULL, NULL, YA_DTYPE_I32, 4, 4, 4, 0);
    int rc = ya_cuda_sync(e->ctx, &err);
    printf("unsupported dtype -> %s\n", rc ? err.message : "(no error)");
    CHECK(rc == YA_ERR && strstr(err.message, "unsupported dtype I32"));
    CHECK(ya_cuda_sync(e->ctx, &err) == YA_OK);

    /* arena exhaustion names the buffer, the bytes asked and what is left */
    size_t left = ya_cuda_arena_size(e->ctx) - ya_cuda_arena_used(e->ctx);
    void *p = ya_cuda_alloc(e->ctx, left + ((size_t)1 << 30), "huge activations", &err);
    CHECK(p == NULL);
    printf("arena exhausted -> %s\n", err.message);
    CHECK(strstr(err.message, "huge activations") && strstr(err.message, "asked for") &&
          strstr(err.message, "--recompute"));
    CHECK(ya_cuda_sync(e->ctx, &err) == YA_ERR); /* also recorded in the context */

    /* a device arena larger than the card: bytes asked, bytes free, a suggestion */
    YaCudaCtx *big = NULL;
    size_t total = ya_cuda_info(e->ctx)->total_bytes;
    rc = ya_cuda_create(&big, 0, total + ((size_t)8 << 30), &err);
    printf("arena > device -> %s\n", rc ? err.message : "(no error)");
    CHECK(rc == YA_ERR && big == NULL);
    CHECK(strstr(err.message, "out of memory") && strstr(err.message, "asked for") && strstr(err.message, "free of") &&
          strstr(err.message, "--recompute"));
}

int main(void) {
    Env e = {0};
    YaError err;
    int rc = ya_cuda_create(&e.ctx, 0, (size_t)1 << 30, &err);
    if (rc) {
        printf("SKIP: %s\n", err.message);
        return 77;
    }
    const YaCudaDeviceInfo *info = ya_cuda_info(e.ctx);
    printf("device 0: %s (sm_%d%d, %d SMs, %.1f GiB)\n", info->name, info->cc_major, info->cc_minor, info->sm_count,
           info->total_bytes / 1073741824.0);
    const char *s = getenv("YA_TEST_SEED");
    uint64_t seed = s ? strtoull(s, NULL, 10) : (uint64_t)time(NULL);
    printf("seed %llu (YA_TEST_SEED=%llu repeats this run)\n", (unsigned long long)seed, (unsigned long long)seed);
    ya_rng_seed(&e.rng, seed, "test_cuda_ops");
    e.gpu = ya_backend_cuda();
    e.cpu = ya_backend_cpu();

    test_linear(&e, YA_DTYPE_BF16, 64, 256, 192, 0, 0);
    test_linear(&e, YA_DTYPE_BF16, 37, 96, 40, 1, 0);
    test_linear(&e, YA_DTYPE_BF16, 128, 512, 256, 1, 1);
    test_linear(&e, YA_DTYPE_F32, 33, 100, 70, 0, 0);
    test_linear(&e, YA_DTYPE_F32, 64, 128, 96, 1, 1);
    test_rmsnorm(&e, 48, 320, 0);  /* 16-byte kernels: 40 groups of 8 in a 64-thread block */
    test_rmsnorm(&e, 7, 4096, 0);  /* 512 threads, one group each */
    test_rmsnorm(&e, 3, 12288, 0); /* 1024 threads, two groups each (1536 groups) */
    test_rmsnorm(&e, 5, 4096, 1);  /* scalar kernels: misaligned */
    test_rmsnorm(&e, 6, 100, 0);   /* scalar kernels: h % 8 != 0 */
    test_rope(&e, 24, 6, 64);
    test_rope(&e, 5, 3, 128);
    /* warp reference: decoding (T = 1 with a KV cache), few rows, d = 96 */
    test_attention(&e, 1, 100, 8, 2, 128);
    test_attention(&e, 1, 37, 4, 4, 64);
    test_attention(&e, 12, 5, 4, 2, 64);
    test_attention(&e, 17, 9, 8, 1, 96);
    /* flash: partial tiles (T not a multiple of 64), pos0 > 0, GQA n_rep 4 and MHA, d = 64/128 */
    test_attention(&e, 33, 0, 6, 6, 128);
    test_attention(&e, 77, 0, 4, 1, 64);
    test_attention(&e, 77, 50, 4, 4, 128);
    test_attention(&e, 256, 0, 8, 2, 128);
    test_attention(&e, 256, 0, 4, 4, 64);
    test_attention(&e, 200, 70, 8, 2, 64);
    test_attention(&e, 1024, 0, 4, 1, 128);
    test_attention(&e, 1024, 0, 2, 2, 64);
    /* ≥ 4 blocks per SM of dk/dv (16 key tiles × 34 kv heads on a 132-SM H100/H200):
     * the single-staged dk/dv kernel, two blocks per SM */
    test_attention(&e, 1000, 0, 34, 34, 128);
    test_attention_determinism(&e, 300, 0, 8, 2, 128);
    test_attention_determinism(&e, 333, 20, 4, 1, 64);
    test_attention_determinism(&e, 1000, 0, 34, 34, 128);
    test_attention_determinism(&e, 1, 50, 4, 2, 128);
    test_activation(&e, 10007);
    test_swiglu_backward_set(&e, 10007);
    test_vec_vs_scalar(&e, 10007); /* n % 8 == 7: the tail too */
    test_vec_vs_scalar(&e, 65536);
    test_rope_vec_vs_scalar(&e, 19, 4, 128);
    test_rope_vec_vs_scalar(&e, 9, 6, 64);
    test_rmsnorm_repeatable(&e, 16, 4096);
    test_embedding(&e, YA_DTYPE_BF16, 17, 50, 96);
    test_embedding(&e, YA_DTYPE_F16, 31, 40, 130);
    test_embedding(&e, YA_DTYPE_F32, 9, 64, 64);
    /* one row block (T below the op's 512-row minimum), V odd / not a multiple of 8 */
    test_cross_entropy(&e, 40, 64, 1000, 256, 1);
    test_cross_entropy(&e, 33, 96, 1003, 0, 1);
    test_cross_entropy(&e, 64, 128, 3001, 512, 0);
    /* several row blocks, the last one partial: Tb 512 (512 + 512 + 276), Tb 896 (896 + 404),
     * a 32003-token vocabulary with Tb 512 (512 + 88); dw on and off */
    test_cross_entropy(&e, 1300, 64, 1000, 256, 1);
    test_cross_entropy(&e, 1300, 64, 1000, 700, 0);
    test_cross_entropy(&e, 600, 128, 32003, 4096, 1);
    test_cross_entropy(&e, 600, 64, 32003, 4096, 0);
    test_adamw(&e, YA_OPT_ADAMW, 100003, 3);
    test_adamw(&e, YA_OPT_ADAMW_MLX, 4099, 2);
    test_norm(&e, 1000003);
    test_norm(&e, 100);
    test_errors(&e);
    ya_cuda_destroy(e.ctx);
    TEST_MAIN_END();
}

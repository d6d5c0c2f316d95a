/* test_backward_fd.c — finite-difference checks of the backward ops, in double.
 *
 * For each op a plain double-precision forward is written here from its
 * definition, the scalar L = Σ out ⊙ G (G random) is differentiated by central
 * differences (step 1e-5, error ~1e-10 relative) for EVERY input entry of a
 * tiny problem, and compared with the fp32 backward op run on the same fp32
 * inputs: max|ours − fd| / max|fd| ≤ 1e-4 per gradient tensor. This needs no
 * PyTorch, so it also runs where Debian's python3-torch is missing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "test_util.h"
#include "your_ai/rng.h"

/* ---- small helpers ----------------------------------------------------------- */

static YaRng g_rng;

static float *randn(size_t n, double scale) {
    float *a = malloc(n * sizeof *a);
    for (size_t i = 0; i < n; i++) a[i] = (float)(ya_rng_normal(&g_rng) * scale);
    return a;
}
static float *zeros(size_t n) { return calloc(n, sizeof(float)); }
static double *to_d(const float *a, size_t n) {
    double *d = malloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++) d[i] = a[i];
    return d;
}

/* A double loss of the op's inputs; fd() perturbs one array of `in`. */
typedef double (*LossFn)(double **in, const void *shape);

/* Central differences of L w.r.t. every entry of in[which] (n entries) vs ours [n]. */
static void fd_check(const char *label, LossFn L, double **in, int which, size_t n, const void *shape,
                     const float *ours) {
    const double step = 1e-5;
    double max_diff = 0.0, max_ref = 0.0;
    for (size_t i = 0; i < n; i++) {
        double keep = in[which][i];
        in[which][i] = keep + step;
        double lp = L(in, shape);
        in[which][i] = keep - step;
        double lm = L(in, shape);
        in[which][i] = keep;
        double g = (lp - lm) / (2 * step);
        if (fabs(g - ours[i]) > max_diff || isnan(ours[i])) max_diff = isnan(ours[i]) ? INFINITY : fabs(g - ours[i]);
        if (fabs(g) > max_ref) max_ref = fabs(g);
    }
    double rel = max_diff / max_ref;
    printf("  %-22s max|ours-fd|/max|fd| = %.3e (max|fd| %.3e)\n", label, rel, max_ref);
    CHECK_MSG(rel <= 1e-4, "%s: relative error %.3e", label, rel);
}

/* ---- rmsnorm ----------------------------------------------------------------- */
typedef struct { int M, h; double eps; } NormShape;
static double loss_rmsnorm(double **in, const void *sp) { /* in: x, w, G */
    const NormShape *s = sp;
    double L = 0;
    for (int m = 0; m < s->M; m++) {
        double ss = 0;
        for (int i = 0; i < s->h; i++) ss += in[0][m * s->h + i] * in[0][m * s->h + i];
        double r = 1.0 / sqrt(ss / s->h + s->eps);
        for (int i = 0; i < s->h; i++) L += in[2][m * s->h + i] * in[1][i] * in[0][m * s->h + i] * r;
    }
    return L;
}
static void test_rmsnorm(const YaBackendOps *ops) {
    NormShape s = {4, 10, 1e-5};
    float *x = randn(40, 1.5), *w = randn(10, 1), *G = randn(40, 1);
    float *y = zeros(40), *rstd = zeros(4), *dx = zeros(40), *dw = zeros(10);
    ops->rmsnorm(y, rstd, x, w, s.M, s.h, (float)s.eps);
    ops->rmsnorm_backward(dx, dw, G, x, w, rstd, s.M, s.h);
    double *in[] = {to_d(x, 40), to_d(w, 10), to_d(G, 40)};
    fd_check("rmsnorm dx", loss_rmsnorm, in, 0, 40, &s, dx);
    fd_check("rmsnorm dw", loss_rmsnorm, in, 1, 10, &s, dw);
    for (int i = 0; i < 3; i++) free(in[i]);
    free(x), free(w), free(G), free(y), free(rstd), free(dx), free(dw);
}

/* ---- swiglu ------------------------------------------------------------------ */
static double loss_swiglu(double **in, const void *sp) { /* in: gate, up, G */
    size_t n = *(const size_t *)sp;
    double L = 0;
    for (size_t i = 0; i < n; i++) L += in[2][i] * in[0][i] / (1 + exp(-in[0][i])) * in[1][i];
    return L;
}
static void test_swiglu(const YaBackendOps *ops) {
    size_t n = 64;
    float *g = randn(n, 4), *u = randn(n, 1), *G = randn(n, 1), *dg = zeros(n), *du = zeros(n);
    ops->swiglu_backward(dg, du, G, g, u, n);
    double *in[] = {to_d(g, n), to_d(u, n), to_d(G, n)};
    fd_check("swiglu dgate", loss_swiglu, in, 0, n, &n, dg);
    fd_check("swiglu dup", loss_swiglu, in, 1, n, &n, du);
    for (int i = 0; i < 3; i++) free(in[i]);
    free(g), free(u), free(G), free(dg), free(du);
}

/* ---- rope -------------------------------------------------------------------- */
typedef struct { int T, H, d; } RopeShape;
static double loss_rope(double **in, const void *sp) { /* in: x, cos, sin, G */
    const RopeShape *s = sp;
    int half = s->d / 2;
    double L = 0;
    for (int t = 0; t < s->T; t++)
        for (int hd = 0; hd < s->H; hd++)
            for (int i = 0; i < half; i++) {
                size_t o = ((size_t)t * s->H + hd) * s->d;
                double a = in[0][o + i], b = in[0][o + i + half], c = in[1][t * half + i], sn = in[2][t * half + i];
                L += in[3][o + i] * (a * c - b * sn) + in[3][o + i + half] * (b * c + a * sn);
            }
    return L;
}
static void test_rope(const YaBackendOps *ops) {
    RopeShape s = {5, 2, 8};
    size_t n = 5 * 2 * 8;
    float *x = randn(n, 1), *G = randn(n, 1), *cs = zeros(20), *sn = zeros(20);
    for (int t = 0; t < 5; t++)
        for (int i = 0; i < 4; i++) {
            double ang = (t + 3) * pow(10000.0, -2.0 * i / 8);
            cs[t * 4 + i] = (float)cos(ang), sn[t * 4 + i] = (float)sin(ang);
        }
    float *dx = malloc(n * sizeof *dx);
    memcpy(dx, G, n * sizeof *dx);
    ops->rope_backward(dx, cs, sn, s.T, s.H, s.d);
    double *in[] = {to_d(x, n), to_d(cs, 20), to_d(sn, 20), to_d(G, n)};
    fd_check("rope dx", loss_rope, in, 0, n, &s, dx);
    for (int i = 0; i < 4; i++) free(in[i]);
    free(x), free(G), free(cs), free(sn), free(dx);
}

/* ---- attention (GQA, causal, pos0 = 0) ------------------------------------------ */
typedef struct { int T, n_h, n_kv, d; } AttnShape;
static double loss_attention(double **in, const void *sp) { /* in: q, k, v, G */
    const AttnShape *s = sp;
    int n_rep = s->n_h / s->n_kv, qs = s->n_h * s->d, ks = s->n_kv * s->d;
    double L = 0, p[64];
    for (int j = 0; j < s->n_h; j++)
        for (int t = 0; t < s->T; t++) {
            int g = j / n_rep;
            double mx = -INFINITY, sum = 0;
            for (int u = 0; u <= t; u++) {
                double dot = 0;
                for (int i = 0; i < s->d; i++) dot += in[0][t * qs + j * s->d + i] * in[1][u * ks + g * s->d + i];
                p[u] = dot / sqrt((double)s->d);
                if (p[u] > mx) mx = p[u];
            }
            for (int u = 0; u <= t; u++) sum += (p[u] = exp(p[u] - mx));
            for (int i = 0; i < s->d; i++) {
                double o = 0;
                for (int u = 0; u <= t; u++) o += p[u] / sum * in[2][u * ks + g * s->d + i];
                L += in[3][t * qs + j * s->d + i] * o;
            }
        }
    return L;
}
/* max|a − b| / max|b| over n floats. */
static double rel_diff(const float *a, const float *b, size_t n) {
    double md = 0.0, mb = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > md) md = d;
        if (fabs((double)b[i]) > mb) mb = fabs((double)b[i]);
    }
    return mb > 0.0 ? md / mb : md;
}

/* T ≥ 16 takes the GEMM paths (cpu_attention.c); blas_serial = 1 runs OpenBLAS on one thread,
 * as `--matmul bf16` does, so the heads go to the OpenMP threads. Both paths run the same
 * per-head arithmetic, but OpenBLAS's threaded sgemm does not promise the bits of its
 * single-threaded one on every CPU kernel, so they agree within 1e-5 (docs/RELIABILITY.md);
 * a run never switches between them (the graph's recompute modes and resume rely on that). */
static void test_attention(const YaBackendOps *ops, int T, int n_h, int n_kv) {
    AttnShape s = {T, n_h, n_kv, 4};
    size_t nq = (size_t)s.T * n_h * s.d, nk = (size_t)s.T * n_kv * s.d, na = (size_t)n_h * s.T * s.T;
    float *q = randn(nq, 1), *k = randn(nk, 1), *v = randn(nk, 1), *G = randn(nq, 1);
    double *in[] = {to_d(q, nq), to_d(k, nk), to_d(v, nk), to_d(G, nq)};
    float *ref[4] = {0}; /* out, dq, dk, dv of the first pass */
    for (int blas_serial = 0; blas_serial < 2; blas_serial++) {
        int prev = blas_serial ? ya_backend_cpu_set_blas_threads(1) : 0;
        float *out = zeros(nq), *att = zeros(na), *dq = zeros(nq), *dk = zeros(nk), *dv = zeros(nk);
        ops->attention(out, att, q, k, v, s.T, s.T, 0, n_h, n_kv, s.d);
        ops->attention_backward(dq, dk, dv, G, att, out, q, k, v, s.T, s.T, 0, n_h, n_kv, s.d);
        if (blas_serial) ya_backend_cpu_set_blas_threads(prev);
        double lo = 0; /* Σ G ⊙ out: the forward against the double definition */
        for (size_t i = 0; i < nq; i++) lo += (double)G[i] * out[i];
        double lr = loss_attention(in, &s);
        printf("  attention T=%d n_rep=%d%s: Σ G·out %.9f vs double %.9f\n", T, n_h / n_kv,
               blas_serial ? " (BLAS 1 thread)" : "", lo, lr);
        CHECK_NEAR(lo, lr, 1e-5 * (1.0 + fabs(lr)));
        char label[64];
        snprintf(label, sizeof label, "attention T=%d n_rep=%d dq", T, n_h / n_kv);
        fd_check(label, loss_attention, in, 0, nq, &s, dq);
        snprintf(label, sizeof label, "attention T=%d n_rep=%d dk", T, n_h / n_kv);
        fd_check(label, loss_attention, in, 1, nk, &s, dk);
        snprintf(label, sizeof label, "attention T=%d n_rep=%d dv", T, n_h / n_kv);
        fd_check(label, loss_attention, in, 2, nk, &s, dv);
        if (!blas_serial) {
            ref[0] = out, ref[1] = dq, ref[2] = dk, ref[3] = dv;
        } else {
            double r[4] = {rel_diff(out, ref[0], nq), rel_diff(dq, ref[1], nq), rel_diff(dk, ref[2], nk),
                           rel_diff(dv, ref[3], nk)};
            printf("  attention T=%d: heads on OpenMP vs per-head BLAS: out %.2e dq %.2e dk %.2e dv %.2e\n", T,
                   r[0], r[1], r[2], r[3]);
            CHECK_MSG(r[0] <= 1e-5 && r[1] <= 1e-5 && r[2] <= 1e-5 && r[3] <= 1e-5,
                      "attention T=%d: heads on OpenMP (BLAS 1 thread) differ from the per-head BLAS path by more "
                      "than 1e-5",
                      T);
            free(out), free(dq), free(dk), free(dv);
        }
        free(att);
    }
    for (int i = 0; i < 4; i++) free(in[i]), free(ref[i]);
    free(q), free(k), free(v), free(G);
}

/* ---- lm_head + masked weighted cross-entropy ---------------------------------------- */
typedef struct { int T, h, V; const int32_t *targets; const float *weight; } CeShape;
static double loss_ce(double **in, const void *sp) { /* in: x, W */
    const CeShape *s = sp;
    double L = 0, l[64];
    for (int t = 0; t < s->T; t++) {
        if (s->weight[t] == 0.0f) continue;
        double mx = -INFINITY, sum = 0;
        for (int v = 0; v < s->V; v++) {
            l[v] = 0;
            for (int i = 0; i < s->h; i++) l[v] += in[0][t * s->h + i] * in[1][v * s->h + i];
            if (l[v] > mx) mx = l[v];
        }
        for (int v = 0; v < s->V; v++) sum += exp(l[v] - mx);
        L += s->weight[t] * (mx + log(sum) - l[s->targets[t]]);
    }
    return L;
}
static void test_cross_entropy(const YaBackendOps *ops) {
    enum { T = 5, h = 6, V = 11, C = 4 }; /* C does not divide V */
    int32_t targets[T] = {3, -1, 10, 0, 7};
    float weight[T] = {0.25f, 0.0f, 0.5f, 1.5f, 0.125f};
    CeShape s = {T, h, V, targets, weight};
    float *x = randn(T * h, 1), *w = randn(V * h, 1), *dx = zeros(T * h), *dw = zeros(V * h);
    float *scratch = malloc(ops->cross_entropy_scratch(T, h, V, C) * sizeof(float));
    float nll[T];
    double loss = ops->cross_entropy(nll, dx, dw, x, w, YA_DTYPE_F32, targets, weight, T, h, V, C, scratch);
    double *in[] = {to_d(x, T * h), to_d(w, V * h)};
    double ref = loss_ce(in, &s);
    printf("  ce loss %.9f vs double %.9f\n", loss, ref);
    CHECK_NEAR(loss, ref, 1e-6);
    CHECK(nll[1] == 0.0f);
    fd_check("cross_entropy dx", loss_ce, in, 0, T * h, &s, dx);
    fd_check("cross_entropy dW", loss_ce, in, 1, V * h, &s, dw);
    free(in[0]), free(in[1]), free(x), free(w), free(dx), free(dw), free(scratch);
}

int main(void) {
    ya_rng_seed(&g_rng, 20261125, "backward-fd");
    const YaBackendOps *ops = ya_backend_cpu();
    test_rmsnorm(ops);
    test_swiglu(ops);
    test_rope(ops);
    test_attention(ops, 6, 2, 2);
    test_attention(ops, 6, 4, 1);
    test_attention(ops, 20, 4, 2); /* the GEMM paths */
    test_attention(ops, 40, 2, 1);
    test_cross_entropy(ops);
    TEST_MAIN_END();
}

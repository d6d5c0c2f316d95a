/* test_matmul_bf16.c — the bf16 entries of the CPU op table (`train --matmul
 * bf16`: cpu_matmul_bf16.c, cpu_cross_entropy_bf16.c) against plain double
 * loops over the same bf16-rounded inputs.
 *
 * A product of two bf16 values is exact in fp32, so the op differs from the
 * double reference only by fp32 summation: max|ours − ref| / max|ref| ≤ 1e-5.
 * The rounding itself (nearest even, NaN kept) is checked against an
 * independent reference on ties, signs, infinities and NaN. The cross-entropy
 * also rounds dlogits before the dx GEMM: dx is compared with a reference that
 * rounds its own (double) dlogits the same way (2e-3: a dlogit within an ulp
 * of a rounding boundary may round the other way), the loss and nll tightly.
 * Exits 77 (ctest: skipped) after the rounding checks when the build has no
 * oneDNN or oneDNN has no bf16 GEMM for this CPU (no AVX-512). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "test_util.h"

/* Reference rounding: nearest representable bf16, ties to the even mantissa,
 * computed from the two neighbours rather than by the bias-and-shift trick. */
static float ref_round(float f) {
    if (isnan(f) || isinf(f)) return f;
    uint32_t u;
    memcpy(&u, &f, 4);
    uint32_t lo = u & 0xffff0000u, hi = lo + 0x10000u;
    float flo, fhi;
    memcpy(&flo, &lo, 4);
    memcpy(&fhi, &hi, 4);
    double dlo = fabs((double)f - flo), dhi = fabs((double)f - fhi);
    if (dlo < dhi) return flo;
    if (dhi < dlo) return fhi;
    return ((lo >> 16) & 1) ? fhi : flo;
}

static uint16_t bits16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return (uint16_t)(u >> 16);
}

static float from16(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static float frand(void) { /* uniform in [-1, 1) */
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0) * 2.0 - 1.0);
}

static double max_rel(const float *a, const double *ref, size_t n) {
    double d = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs(a[i] - ref[i]));
        m = fmax(m, fabs(ref[i]));
    }
    return d / (m > 0 ? m : 1);
}

static void test_rounding(const YaBackendOps *ops) {
    float v[] = {1.0f, -1.0f, 1.00390625f /* 1 + 2^-8: tie, even stays down */, 1.01171875f /* 1 + 3·2^-8: tie, up */,
                 1.0039063f, 3.14159265f, -2.7182818f, 1e-40f /* subnormal */, 3.3895314e38f /* rounds to inf */,
                 INFINITY, -INFINITY, 0.0f, -0.0f, 65504.0f, 1e-30f};
    size_t n = sizeof v / sizeof v[0];
    uint16_t out[32];
    ops->to_bf16(out, v, YA_DTYPE_F32, n);
    for (size_t i = 0; i < n; i++) {
        float want = ref_round(v[i]);
        CHECK_MSG(bits16(want) == out[i] && from16(out[i]) == want, "round(%.9g): %04x, want %04x", (double)v[i],
                  out[i], bits16(want));
    }
    float nan = NAN;
    ops->to_bf16(out, &nan, YA_DTYPE_F32, 1);
    CHECK(isnan(from16(out[0])));
    /* Long input: the threaded blocks agree with the reference everywhere. */
    size_t big = 20000;
    float *x = malloc(big * sizeof *x);
    uint16_t *xb = malloc(big * sizeof *xb);
    for (size_t i = 0; i < big; i++) x[i] = frand() * 100.0f;
    ops->to_bf16(xb, x, YA_DTYPE_F32, big);
    size_t bad = 0;
    for (size_t i = 0; i < big; i++) bad += from16(xb[i]) != ref_round(x[i]);
    CHECK_MSG(bad == 0, "%zu of %zu long-input roundings differ", bad, big);
    free(x);
    free(xb);
}

/* y (+)= bf16(x)·Wᵀ and dx += bf16(dy)·W at one shape. */
static void test_linear(const YaBackendOps *ops, int M, int K, int N) {
    float *x = malloc((size_t)M * K * sizeof *x), *dy = malloc((size_t)M * N * sizeof *dy);
    float *y = malloc((size_t)M * N * sizeof *y), *dx = malloc((size_t)M * K * sizeof *dx);
    float *y0 = malloc((size_t)M * N * sizeof *y0), *dx0 = malloc((size_t)M * K * sizeof *dx0);
    uint16_t *w = malloc((size_t)N * K * sizeof *w);
    uint16_t *scratch = malloc((size_t)M * (K > N ? K : N) * sizeof *scratch);
    double *ref = malloc((size_t)M * (K > N ? K : N) * sizeof *ref);
    for (size_t i = 0; i < (size_t)M * K; i++) x[i] = frand();
    for (size_t i = 0; i < (size_t)M * N; i++) dy[i] = frand() * 1e-3f;
    for (size_t i = 0; i < (size_t)N * K; i++) w[i] = bits16(ref_round(frand() * 0.05f));
    for (size_t i = 0; i < (size_t)M * N; i++) y0[i] = frand();
    for (size_t i = 0; i < (size_t)M * K; i++) dx0[i] = frand() * 1e-3f;

    for (int acc = 0; acc <= 1; acc++) {
        memcpy(y, y0, (size_t)M * N * sizeof *y);
        ops->linear_bf16w(y, x, w, M, K, N, acc, scratch);
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                double s = acc ? y0[(size_t)m * N + n] : 0.0;
                for (int k = 0; k < K; k++)
                    s += (double)ref_round(x[(size_t)m * K + k]) * from16(w[(size_t)n * K + k]);
                ref[(size_t)m * N + n] = s;
            }
        double e = max_rel(y, ref, (size_t)M * N);
        CHECK_MSG(e <= 1e-5, "linear_bf16w M=%d K=%d N=%d accumulate=%d: max rel %.3g", M, K, N, acc, e);
    }
    memcpy(dx, dx0, (size_t)M * K * sizeof *dx);
    ops->linear_bf16w_backward_dx(dx, dy, w, M, K, N, scratch);
    for (int m = 0; m < M; m++)
        for (int k = 0; k < K; k++) {
            double s = dx0[(size_t)m * K + k];
            for (int n = 0; n < N; n++) s += (double)ref_round(dy[(size_t)m * N + n]) * from16(w[(size_t)n * K + k]);
            ref[(size_t)m * K + k] = s;
        }
    double e = max_rel(dx, ref, (size_t)M * K);
    CHECK_MSG(e <= 1e-5, "linear_bf16w_backward_dx M=%d K=%d N=%d: max rel %.3g", M, K, N, e);
    free(x), free(dy), free(y), free(dx), free(y0), free(dx0), free(w), free(scratch), free(ref);
}

/* The fused head + CE with W stored bf16 (read in place) or f32 (rounded per chunk). */
static void test_cross_entropy(const YaBackendOps *ops, YaDtype dt, int with_dw) {
    const int T = 23, h = 48, V = 1000, chunk = 256;
    float *x = malloc((size_t)T * h * sizeof *x), *wt = malloc((size_t)T * sizeof *wt);
    int32_t *tg = malloc((size_t)T * sizeof *tg);
    float *w32 = malloc((size_t)V * h * sizeof *w32);
    uint16_t *w16 = malloc((size_t)V * h * sizeof *w16);
    for (size_t i = 0; i < (size_t)T * h; i++) x[i] = frand() * 2.0f;
    for (size_t i = 0; i < (size_t)V * h; i++) {
        w32[i] = ref_round(frand() * 0.5f); /* bf16-exact, so both storages hold the same values */
        w16[i] = bits16(w32[i]);
    }
    for (int t = 0; t < T; t++) {
        tg[t] = (int32_t)((unsigned)(frand() + 1.0f) * 499u % (unsigned)V + (unsigned)t * 37u % (unsigned)V) % V;
        wt[t] = t % 5 == 3 ? 0.0f : 1.0f / (float)T;
    }
    float *nll = calloc((size_t)T, sizeof *nll), *dx = calloc((size_t)T * h, sizeof *dx);
    float *dw = with_dw ? calloc((size_t)V * h, sizeof *dw) : NULL;
    float *scratch = malloc(ops->cross_entropy_bf16w_scratch(T, h, V, chunk) * sizeof *scratch);
    const void *w = dt == YA_DTYPE_BF16 ? (const void *)w16 : (const void *)w32;
    double loss = ops->cross_entropy_bf16w(nll, dx, dw, x, w, dt, tg, wt, T, h, V, chunk, scratch);

    /* Reference in double over bf16(x) and W. */
    double *logit = malloc((size_t)V * sizeof *logit), *dxr = calloc((size_t)T * h, sizeof *dxr),
           *dxq = calloc((size_t)T * h, sizeof *dxq), *dwr = calloc((size_t)V * h, sizeof *dwr);
    double ref_loss = 0;
    for (int t = 0; t < T; t++) {
        double mx = -INFINITY, s = 0;
        for (int v = 0; v < V; v++) {
            double a = 0;
            for (int k = 0; k < h; k++) a += (double)ref_round(x[(size_t)t * h + k]) * w32[(size_t)v * h + k];
            logit[v] = a;
            mx = fmax(mx, a);
        }
        for (int v = 0; v < V; v++) s += exp(logit[v] - mx);
        double lse = mx + log(s), row_nll = wt[t] != 0.0f ? lse - logit[tg[t]] : 0.0;
        ref_loss += wt[t] * row_nll;
        CHECK_MSG(fabs(nll[t] - row_nll) <= 1e-5 * fmax(1.0, fabs(row_nll)), "nll[%d] %.9g vs %.9g", t, (double)nll[t],
                  row_nll);
        if (wt[t] == 0.0f) continue;
        for (int v = 0; v < V; v++) {
            double dl = wt[t] * (exp(logit[v] - lse) - (v == tg[t]));
            double dlq = ref_round((float)dl);
            for (int k = 0; k < h; k++) {
                dxr[(size_t)t * h + k] += dl * w32[(size_t)v * h + k];
                dxq[(size_t)t * h + k] += dlq * w32[(size_t)v * h + k];
                dwr[(size_t)v * h + k] += dl * x[(size_t)t * h + k];
            }
        }
    }
    CHECK_MSG(fabs(loss - ref_loss) <= 1e-5 * fabs(ref_loss), "loss %.9g vs %.9g", loss, ref_loss);
    double eq = max_rel(dx, dxq, (size_t)T * h), er = max_rel(dx, dxr, (size_t)T * h);
    CHECK_MSG(eq <= 2e-3, "dx vs rounded-dlogits reference (W %s): max rel %.3g", dt == YA_DTYPE_BF16 ? "bf16" : "f32",
              eq);
    CHECK_MSG(er <= 1e-2, "dx vs exact-dlogits reference: max rel %.3g", er);
    if (dw) {
        double ew = max_rel(dw, dwr, (size_t)V * h);
        CHECK_MSG(ew <= 1e-4, "dW (fp32 GEMM): max rel %.3g", ew);
    }
    free(x), free(wt), free(tg), free(w32), free(w16), free(nll), free(dx), free(dw), free(scratch);
    free(logit), free(dxr), free(dxq), free(dwr);
}

int main(void) {
    const YaBackendOps *ops = ya_backend_cpu();
    test_rounding(ops); /* the conversions exist in every build, on every CPU */
    YaError bf16_err = {0};
    if (ya_backend_cpu_bf16_check(&bf16_err) != YA_OK) { /* no oneDNN, or no bf16 GEMM on this CPU */
        printf("%s: the GEMMs are skipped (%d rounding checks, %d failed)\n", bf16_err.message, g_test_checks,
               g_test_failures);
        return g_test_failures ? 1 : 77;
    }
    test_linear(ops, 1, 16, 8);
    test_linear(ops, 37, 70, 53);
    test_linear(ops, 130, 512, 300); /* large enough for the blocked AMX / AVX512-BF16 kernels */
    test_cross_entropy(ops, YA_DTYPE_BF16, 0);
    test_cross_entropy(ops, YA_DTYPE_F32, 1);
    TEST_MAIN_END();
}

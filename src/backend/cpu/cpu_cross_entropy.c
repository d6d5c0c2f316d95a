/* cpu_cross_entropy.c — lm_head fused with masked, weighted cross-entropy,
 * chunked over the vocabulary so the [T, V] logits never exist at once.
 *
 * Row t: logits l = W·x_t, nll_t = lse(l) − l[target_t], loss = Σ_t ω_t·nll_t,
 * ∂loss/∂l = ω_t·(softmax(l) − onehot(target_t)).
 *
 * Pass 1 (per chunk of C vocabulary rows): convert W[c0:c0+C] to fp32, one
 *   GEMM for the logits chunk [T, C], then per row an online log-sum-exp
 *   (running max m and Σ e^(l−m), rescaled when m grows) and the target logit.
 * Pass 2 (only when a gradient is wanted): the same chunk logits again →
 *   dlogits [T, C] = ω·(e^(l−lse) − onehot) → dx += dlogits · W_c and
 *   dW_c += dlogitsᵀ · x (two GEMMs).
 * Memory: T·C + C·h + 3T floats of scratch, whatever V. The price is one
 * recomputed logits GEMM (4 GEMMs of [T, h, V] instead of 3).
 *
 * Rows with ω = 0 are unsupervised (padding, prompt, the last position): their
 * target is not read and their dlogits are 0. GEMMs run on OpenBLAS threads,
 * the per-row loops on OpenMP, each row in a fixed order: results do not
 * depend on the OpenMP thread count. */
#include <cblas.h> /* defines: cblas_sgemm */
#include <math.h>
#include <stdint.h>

#include "backend/cpu/cpu_ops.h"

size_t ya_cpu_cross_entropy_scratch(int T, int h, int V, int chunk) {
    if (chunk <= 0 || chunk > V) chunk = V;
    return (size_t)T * chunk + (size_t)chunk * h + 3 * (size_t)T;
}

/* W rows [c0, c0+n) as fp32: the stored F32 rows themselves when aligned, else converted into buf. */
static const float *chunk_f32(const void *w, YaDtype dt, int c0, int n, int h, float *buf) {
    size_t esz = ya_dtype_size(dt);
    const char *src = (const char *)w + (size_t)c0 * h * esz;
    if (dt == YA_DTYPE_F32 && (uintptr_t)src % sizeof(float) == 0) return (const float *)src;
    ya_cpu_to_f32(buf, src, dt, (size_t)n * h);
    return buf;
}

double ya_cpu_cross_entropy(float *nll, float *dx, float *dw, const float *x, const void *w, YaDtype dt,
                            const int32_t *targets, const float *weight, int T, int h, int V, int chunk,
                            float *scratch) {
    if (T <= 0) return 0.0;
    if (chunk <= 0 || chunk > V) chunk = V;
    float *logits = scratch;                        // [T, chunk]
    float *wbuf = logits + (size_t)T * chunk;       // [chunk, h]
    float *row_max = wbuf + (size_t)chunk * h;      // [T] running max, then lse
    float *row_sum = row_max + T;                   // [T] running Σ e^(l − max)
    float *target_logit = row_sum + T;              // [T]
    for (int t = 0; t < T; t++) {
        row_max[t] = -INFINITY;
        row_sum[t] = 0.0f;
        target_logit[t] = 0.0f;
    }

    /* ---- pass 1: log-sum-exp and target logit per row ---- */
    for (int c0 = 0; c0 < V; c0 += chunk) {
        int n = V - c0 < chunk ? V - c0 : chunk;
        const float *wc = chunk_f32(w, dt, c0, n, h, wbuf); // [n, h]
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, n, h, 1.0f, x, h, wc, h, 0.0f, logits, n);
#pragma omp parallel for schedule(static)
        for (int t = 0; t < T; t++) {
            if (weight[t] == 0.0f) continue;
            const float *l = logits + (size_t)t * n; // [n]
            float m = row_max[t];
            for (int i = 0; i < n; i++)
                if (l[i] > m) m = l[i];
            double s = 0.0;
            for (int i = 0; i < n; i++) s += expf(l[i] - m); /* each term ≤ 1: fp32 exp, double sum */
            /* exp(−inf) = 0 on the first chunk */
            row_sum[t] = (float)((double)row_sum[t] * exp((double)row_max[t] - m) + s);
            row_max[t] = m;
            int tg = targets[t] - c0;
            if (tg >= 0 && tg < n) target_logit[t] = l[tg];
        }
    }
    double loss = 0.0;
    for (int t = 0; t < T; t++) {
        float row_nll = 0.0f;
        if (weight[t] != 0.0f) {
            row_max[t] = row_max[t] + logf(row_sum[t]); /* now the log-sum-exp */
            row_nll = row_max[t] - target_logit[t];
            loss += (double)weight[t] * row_nll;
        }
        if (nll) nll[t] = row_nll;
    }
    if (!dx && !dw) return loss;

    /* ---- pass 2: dlogits chunk → dx, dW ---- */
    const float *lse = row_max; // [T]
    for (int c0 = 0; c0 < V; c0 += chunk) {
        int n = V - c0 < chunk ? V - c0 : chunk;
        const float *wc = chunk_f32(w, dt, c0, n, h, wbuf); // [n, h]
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, n, h, 1.0f, x, h, wc, h, 0.0f, logits, n);
#pragma omp parallel for schedule(static)
        for (int t = 0; t < T; t++) {
            float *l = logits + (size_t)t * n; // [n] logits in, dlogits out
            float wt = weight[t];
            if (wt == 0.0f) {
                for (int i = 0; i < n; i++) l[i] = 0.0f;
                continue;
            }
            for (int i = 0; i < n; i++) l[i] = wt * expf(l[i] - lse[t]);
            int tg = targets[t] - c0;
            if (tg >= 0 && tg < n) l[tg] -= wt;
        }
        if (dx) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, h, n, 1.0f, logits, n, wc, h, 1.0f, dx, h);
        if (dw)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, h, T, 1.0f, logits, n, x, h, 1.0f,
                        dw + (size_t)c0 * h, h);
    }
    return loss;
}

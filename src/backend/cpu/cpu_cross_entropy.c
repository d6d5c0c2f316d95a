/* cpu_cross_entropy.c — lm_head fused with masked, weighted cross-entropy,
 * blocked over rows and chunked over the vocabulary so the [T, V] logits never
 * exist at once.
 *
 * Row t: logits l = W·x_t, nll_t = lse(l) − l[target_t], loss = Σ_t ω_t·nll_t,
 * ∂loss/∂l = ω_t·(softmax(l) − onehot(target_t)).
 *
 * Rows go in blocks of Tb = max(1, T·C/V) rows (C = chunk), so the block's
 * full-vocabulary logits [Tb, V] take the T·C floats a [T, C] chunk would.
 * Per block:
 * Pass 1 (per chunk of C vocabulary rows): W[c0:c0+C] as fp32 (converted, or
 *   the F32 file rows in place), one GEMM into the block's logits columns
 *   [Tb, c0:c0+C]; then per row max, Σ e^(l−max) (double) → log-sum-exp and
 *   the target logit.
 * Pass 2 (only when a gradient is wanted): the kept logits become dlogits =
 *   ω·(e^(l−lse) − onehot) in place; per chunk dx_block += dlogits_c · W_c and
 *   dW_c += dlogits_cᵀ · x_block (two GEMMs).
 * So 3 GEMMs of [T, h, V] with a gradient (forward logits, dx, dW), where the
 * earlier V-chunked-only version recomputed the logits (4 GEMMs, 16 % of a
 * 57M-model LoRA step). The price: a bf16/f16 head is converted twice per row
 * block instead of twice in all (memory-bound, far cheaper than the GEMM).
 * Memory: Tb·V + C·h + 3T floats of scratch.
 *
 * Rows with ω = 0 are unsupervised (padding, prompt, the last position): their
 * target is not read and their dlogits are 0. GEMMs run on OpenBLAS threads,
 * the per-row loops on OpenMP, each row in a fixed order: results do not
 * depend on the OpenMP thread count. */
#include <cblas.h> /* defines: cblas_sgemm */
#include <math.h>
#include <stdint.h>

#include "backend/cpu/cpu_ops.h"

/* Rows per block: the block's [Tb, V] logits fill what T·chunk floats would. */
static int row_block(int T, int V, int chunk) {
    long long tb = (long long)T * chunk / V;
    return tb < 1 ? 1 : tb > T ? T : (int)tb;
}

size_t ya_cpu_cross_entropy_scratch(int T, int h, int V, int chunk) {
    if (chunk <= 0 || chunk > V) chunk = V;
    return (size_t)row_block(T, V, chunk) * V + (size_t)chunk * h + 3 * (size_t)T;
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
    int Tb = row_block(T, V, chunk);
    float *logits = scratch;                        // [Tb, V] one row block's logits, then dlogits
    float *wbuf = logits + (size_t)Tb * V;          // [chunk, h]
    float *lse = wbuf + (size_t)chunk * h;          // [T] log-sum-exp per row
    float *target_logit = lse + T;                  // [T]
    int grad = dx || dw;
    double loss = 0.0;
    for (int r0 = 0; r0 < T; r0 += Tb) {
        int nr = T - r0 < Tb ? T - r0 : Tb;
        const float *xb = x + (size_t)r0 * h; // [nr, h]
        /* ---- pass 1: the block's logits, log-sum-exp and target logit per row ---- */
        for (int c0 = 0; c0 < V; c0 += chunk) {
            int n = V - c0 < chunk ? V - c0 : chunk;
            const float *wc = chunk_f32(w, dt, c0, n, h, wbuf); // [n, h]
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nr, n, h, 1.0f, xb, h, wc, h, 0.0f, logits + c0, V);
        }
#pragma omp parallel for schedule(static)
        for (int i = 0; i < nr; i++) {
            int t = r0 + i;
            lse[t] = 0.0f;
            target_logit[t] = 0.0f;
            if (weight[t] == 0.0f) continue;
            const float *l = logits + (size_t)i * V; // [V]
            float m = -INFINITY;
            for (int v = 0; v < V; v++)
                if (l[v] > m) m = l[v];
            double s = 0.0;
            for (int v = 0; v < V; v++) s += expf(l[v] - m); /* each term ≤ 1: fp32 exp, double sum */
            lse[t] = m + (float)log(s);
            target_logit[t] = l[targets[t]];
        }
        for (int t = r0; t < r0 + nr; t++) {
            float row_nll = 0.0f;
            if (weight[t] != 0.0f) {
                row_nll = lse[t] - target_logit[t];
                loss += (double)weight[t] * row_nll;
            }
            if (nll) nll[t] = row_nll;
        }
        if (!grad) continue;

        /* ---- pass 2: dlogits in place → dx, dW ---- */
#pragma omp parallel for schedule(static)
        for (int i = 0; i < nr; i++) {
            int t = r0 + i;
            float *l = logits + (size_t)i * V; // [V] logits in, dlogits out
            float wt = weight[t];
            if (wt == 0.0f) {
                for (int v = 0; v < V; v++) l[v] = 0.0f;
                continue;
            }
            for (int v = 0; v < V; v++) l[v] = wt * expf(l[v] - lse[t]);
            l[targets[t]] -= wt;
        }
        for (int c0 = 0; c0 < V; c0 += chunk) {
            int n = V - c0 < chunk ? V - c0 : chunk;
            const float *wc = chunk_f32(w, dt, c0, n, h, wbuf); // [n, h]
            if (dx)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nr, h, n, 1.0f, logits + c0, V, wc, h, 1.0f,
                            dx + (size_t)r0 * h, h);
            if (dw)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, h, nr, 1.0f, logits + c0, V, xb, h, 1.0f,
                            dw + (size_t)c0 * h, h);
        }
    }
    return loss;
}

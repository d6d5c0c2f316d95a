/* cpu_cross_entropy_bf16.c — the fused lm_head + masked cross-entropy of
 * cpu_cross_entropy.c with its two head GEMMs in bf16 (`train --matmul bf16`):
 *
 *   logits  = bf16(x_block) · W_bf16ᵀ          (fp32 accumulation, cpu_matmul_bf16.c)
 *   dx     += bf16(dlogits) · W_bf16
 *   dW     += dlogitsᵀ · x_block               (fp32 sgemm: only when the head trains)
 *
 * The rest follows the fp32 op: the same row blocks of Tb = T·C/V rows whose
 * full-vocabulary logits stay in scratch, the same per-row log-sum-exp (double
 * sum) and dlogits = ω·(softmax − onehot), in the same row order. One change
 * of arithmetic, because with the GEMMs in bf16 the 2·T·V expf calls became a
 * tenth of the step: pass 1 overwrites each logit with e^(l − max) (AVX-512
 * where the CPU has it: Cephes' expf polynomial, ≤ 2 ulp, cpu_vexp.h) and pass 2 scales
 * those by ω/Σ instead of exponentiating again. W is read in place when stored
 * bf16 (one GEMM over the whole vocabulary); another stored dtype is rounded to
 * bf16 one chunk of C rows at a time. Shapes and semantics: backend.h,
 * cross_entropy. */
#include <cblas.h> /* defines: cblas_sgemm */
#include <math.h>
#include <stdint.h>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/cpu_vexp.h"

static int row_block(int T, int V, int chunk) {
    long long tb = (long long)T * chunk / V;
    return tb < 1 ? 1 : tb > T ? T : (int)tb;
}

/* floats: logits [Tb, V] + bf16 dlogits [Tb, V] + bf16 x block [Tb, h] + bf16 W chunk [C, h] + 3T, halves rounded up. */
size_t ya_cpu_cross_entropy_bf16w_scratch(int T, int h, int V, int chunk) {
    if (chunk <= 0 || chunk > V) chunk = V;
    size_t tb = (size_t)row_block(T, V, chunk);
    return tb * V + (tb * V + 1) / 2 + (tb * h + 1) / 2 + ((size_t)chunk * h + 1) / 2 + 3 * (size_t)T + 16;
}

#if defined(YA_HAVE_DNNL)

/* l[v] ← e^(l[v] − max l) in place; returns Σ (double) and the max in *max_out. */
static double exp_row_scalar(float *l, int V, float *max_out) {
    float m = -INFINITY;
    for (int v = 0; v < V; v++)
        if (l[v] > m) m = l[v];
    double s = 0.0;
    for (int v = 0; v < V; v++) {
        l[v] = expf(l[v] - m);
        s += l[v];
    }
    *max_out = m;
    return s;
}

#if defined(YA_CPU_VEXP_AVX512)
__attribute__((target("avx512f"))) static double exp_row_avx512(float *l, int V, float *max_out) {
    __m512 mv = _mm512_set1_ps(-INFINITY);
    int v = 0;
    for (; v + 16 <= V; v += 16) mv = _mm512_max_ps(mv, _mm512_loadu_ps(l + v));
    float m = _mm512_reduce_max_ps(mv);
    for (; v < V; v++)
        if (l[v] > m) m = l[v];
    __m512 mb = _mm512_set1_ps(m);
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    for (v = 0; v + 16 <= V; v += 16) {
        __m512 e = ya_exp_nonpos_ps(_mm512_sub_ps(_mm512_loadu_ps(l + v), mb));
        _mm512_storeu_ps(l + v, e);
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
    }
    double s = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
    for (; v < V; v++) {
        l[v] = expf(l[v] - m);
        s += l[v];
    }
    *max_out = m;
    return s;
}
#endif

static double exp_row(float *l, int V, float *max_out) {
#if defined(YA_CPU_VEXP_AVX512)
    if (ya_cpu_use_avx512()) return exp_row_avx512(l, V, max_out);
#endif
    return exp_row_scalar(l, V, max_out);
}

double ya_cpu_cross_entropy_bf16w(float *nll, float *dx, float *dw, const float *x, const void *w, YaDtype dt,
                                  const int32_t *targets, const float *weight, int T, int h, int V, int chunk,
                                  float *scratch) {
    if (T <= 0) return 0.0;
    if (chunk <= 0 || chunk > V) chunk = V;
    int Tb = row_block(T, V, chunk);
    /* bf16 in place when the file holds bf16 at an even address; else chunk by chunk into wbf. */
    const uint16_t *w16 = dt == YA_DTYPE_BF16 && (uintptr_t)w % 2 == 0 ? (const uint16_t *)w : NULL; // [V, h]
    float *logits = scratch;                                     // [Tb, V] one row block's logits, then dlogits
    uint16_t *dlbf = (uint16_t *)(logits + (size_t)Tb * V);      // [Tb, V] bf16 dlogits
    uint16_t *xbf = dlbf + (size_t)Tb * V;                       // [Tb, h] bf16 x block
    uint16_t *wbf = xbf + (size_t)Tb * h;                        // [chunk, h] bf16 W chunk (non-bf16 heads)
    float *lse = (float *)(((uintptr_t)(wbf + (size_t)chunk * h) + 63) & ~(uintptr_t)63); // [T]
    float *target_logit = lse + T;                                                        // [T]
    float *inv_sum = target_logit + T;                                                    // [T] 1/Σ e^(l − max)
    int grad = dx || dw;
    size_t esz = ya_dtype_size(dt);
    double loss = 0.0;
    for (int r0 = 0; r0 < T; r0 += Tb) {
        int nr = T - r0 < Tb ? T - r0 : Tb;
        const float *xb = x + (size_t)r0 * h; // [nr, h]
        ya_cpu_f32_to_bf16(xbf, xb, (size_t)nr * h);
        /* ---- pass 1: the block's logits, log-sum-exp and target logit per row ---- */
        if (w16) ya_cpu_gemm_bf16_nt(logits, V, xbf, h, w16, h, nr, V, h, 0);
        else
            for (int c0 = 0; c0 < V; c0 += chunk) {
                int n = V - c0 < chunk ? V - c0 : chunk;
                ya_cpu_to_bf16(wbf, (const char *)w + (size_t)c0 * h * esz, dt, (size_t)n * h);
                ya_cpu_gemm_bf16_nt(logits + c0, V, xbf, h, wbf, h, nr, n, h, 0);
            }
#pragma omp parallel for schedule(static)
        for (int i = 0; i < nr; i++) {
            int t = r0 + i;
            lse[t] = 0.0f;
            target_logit[t] = 0.0f;
            inv_sum[t] = 0.0f;
            if (weight[t] == 0.0f) continue;
            float *l = logits + (size_t)i * V; // [V] logits in, e^(l − max) out
            target_logit[t] = l[targets[t]];
            float m;
            double s = exp_row(l, V, &m);
            lse[t] = m + (float)log(s);
            inv_sum[t] = (float)(1.0 / s);
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

        /* ---- pass 2: dlogits = ω·e^(l − max)/Σ − ω·onehot in place → dx (bf16 GEMM), dW (fp32) ---- */
#pragma omp parallel for schedule(static)
        for (int i = 0; i < nr; i++) {
            int t = r0 + i;
            float *l = logits + (size_t)i * V; // [V] e^(l − max) in, dlogits out
            float wt = weight[t], scale = wt * inv_sum[t];
            if (wt == 0.0f) {
                for (int v = 0; v < V; v++) l[v] = 0.0f;
                continue;
            }
            for (int v = 0; v < V; v++) l[v] *= scale;
            l[targets[t]] -= wt;
        }
        if (dx) {
            ya_cpu_f32_to_bf16(dlbf, logits, (size_t)nr * V);
            if (w16) ya_cpu_gemm_bf16_nn(dx + (size_t)r0 * h, h, dlbf, V, w16, h, nr, h, V, 1);
            else
                for (int c0 = 0; c0 < V; c0 += chunk) {
                    int n = V - c0 < chunk ? V - c0 : chunk;
                    ya_cpu_to_bf16(wbf, (const char *)w + (size_t)c0 * h * esz, dt, (size_t)n * h);
                    ya_cpu_gemm_bf16_nn(dx + (size_t)r0 * h, h, dlbf + c0, V, wbf, h, nr, h, n, 1);
                }
        }
        if (dw)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, V, h, nr, 1.0f, logits, V, xb, h, 1.0f, dw, h);
    }
    return loss;
}

#endif

/* cpu_attention.c — causal grouped-query attention.
 *
 * For each (query head j, query row t): scores against keys 0 … pos0+t of kv
 * head j / n_rep (SPEC §6.5 defect 3: never j mod n_kv), scale 1/sqrt(d),
 * fp32 softmax with max subtraction, then the probability-weighted sum of
 * values.
 *
 * Two paths, both independent of the OpenMP thread count:
 * - T ≥ ATT_GEMM_MIN_ROWS (prefill, training): per head, S = scale·Q_j·K_gᵀ as
 *   one sgemm straight into att [T, pos0+T], the causal softmax per row on
 *   OpenMP (AVX-512 exp where the CPU has it, cpu_vexp.h), then O_j = P·V_g
 *   as a second sgemm. The GEMMs also compute the masked upper triangle (2× the useful multiply-adds) and are still ~10×
 *   faster than the loops: this was a third of a LoRA training step.
 *   When OpenBLAS runs single-threaded (`--matmul bf16` sets it so: one
 *   thread pool), the heads are spread over the OpenMP threads instead, each
 *   head's two GEMMs and softmax on one thread: the same per-head arithmetic
 *   (sgemm partitions rows/columns, never the K sums, so its bits do not depend
 *   on its thread count), and the other core no longer idles (bench/NOTES.md v4).
 * - fewer rows (decode): the loops below, parallel over (head, row), each
 *   reduction in a fixed order (ya_cpu_dot's lanes). */
#include <cblas.h> /* defines: cblas_sgemm */
#include <math.h>
#include <string.h>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/cpu_vexp.h"

enum { ATT_GEMM_MIN_ROWS = 16 };

/* Row t of P [·, Tk] holds scale·q·k_s for s < pos0+T: softmax over s ≤ pos0+t, zeros after. */
static void causal_softmax_row_scalar(float *p, int t, int Tk, int pos0) {
    int n_keys = pos0 + t + 1;
    float mx = -INFINITY;
    for (int s = 0; s < n_keys; s++)
        if (p[s] > mx) mx = p[s];
    float sum = 0.0f;
    for (int s = 0; s < n_keys; s++) {
        p[s] = expf(p[s] - mx);
        sum += p[s];
    }
    float inv = 1.0f / sum;
    for (int s = 0; s < n_keys; s++) p[s] *= inv;
    for (int s = n_keys; s < Tk; s++) p[s] = 0.0f;
}

#if defined(YA_CPU_VEXP_AVX512)
/* The same row, 16 keys at a time (cpu_vexp.h's exp, ≤ 2 ulp; the sum in 16
 * lanes reduced in a fixed tree): a row is always one thread's, so the result
 * does not depend on the thread count. */
__attribute__((target("avx512f"))) static void causal_softmax_row_avx512(float *p, int t, int Tk, int pos0) {
    int n_keys = pos0 + t + 1;
    __m512 mv = _mm512_set1_ps(-INFINITY);
    for (int s = 0; s < n_keys; s += 16) {
        __mmask16 m = n_keys - s >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n_keys - s)) - 1u);
        mv = _mm512_max_ps(mv, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), m, p + s));
    }
    __m512 mb = _mm512_set1_ps(_mm512_reduce_max_ps(mv)), sum = _mm512_setzero_ps();
    for (int s = 0; s < n_keys; s += 16) {
        __mmask16 m = n_keys - s >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n_keys - s)) - 1u);
        __m512 e = _mm512_maskz_mov_ps(m, ya_exp_nonpos_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, p + s), mb)));
        _mm512_mask_storeu_ps(p + s, m, e);
        sum = _mm512_add_ps(sum, e);
    }
    __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
    for (int s = 0; s < n_keys; s += 16) {
        __mmask16 m = n_keys - s >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n_keys - s)) - 1u);
        _mm512_mask_storeu_ps(p + s, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, p + s), inv));
    }
    for (int s = n_keys; s < Tk; s++) p[s] = 0.0f;
}
#endif

static void causal_softmax_row(float *p, int t, int Tk, int pos0, int avx512) {
#if defined(YA_CPU_VEXP_AVX512)
    if (avx512) {
        causal_softmax_row_avx512(p, t, Tk, pos0);
        return;
    }
#endif
    causal_softmax_row_scalar(p, t, Tk, pos0);
}

/* Head j: P = softmax(scale·Q_j·K_gᵀ) into att's [T, Tk] slot, O_j = P·V_g.
 * rows_parallel: the softmax rows on OpenMP (the caller is not in a parallel region). */
static void attention_head(float *out, float *att, const float *q, const float *k, const float *v, int T, int Tk,
                           int pos0, int n_h, int n_kv, int d, int j, int rows_parallel) {
    int g = j / (n_h / n_kv), n_keys = pos0 + T; /* keys any row can see */
    int q_stride = n_h * d, kv_stride = n_kv * d;
    float scale = 1.0f / sqrtf((float)d);
    float *P = att + (size_t)j * T * Tk; // [T, Tk]
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, n_keys, d, scale, q + (size_t)j * d, q_stride,
                k + (size_t)g * d, kv_stride, 0.0f, P, Tk);
    int avx512 = ya_cpu_use_avx512();
#pragma omp parallel for schedule(static) if (rows_parallel)
    for (int t = 0; t < T; t++) causal_softmax_row(P + (size_t)t * Tk, t, Tk, pos0, avx512);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, d, n_keys, 1.0f, P, Tk, v + (size_t)g * d, kv_stride,
                0.0f, out + (size_t)j * d, q_stride);
}

static void attention_gemm(float *out, float *att, const float *q, const float *k, const float *v, int T, int Tk,
                           int pos0, int n_h, int n_kv, int d) {
    if (ya_cpu_blas_serial()) {
#pragma omp parallel for schedule(static)
        for (int j = 0; j < n_h; j++) attention_head(out, att, q, k, v, T, Tk, pos0, n_h, n_kv, d, j, 0);
        return;
    }
    for (int j = 0; j < n_h; j++) attention_head(out, att, q, k, v, T, Tk, pos0, n_h, n_kv, d, j, 1);
}

void ya_cpu_attention(float *out, float *att, const float *q, const float *k, const float *v, int T, int Tk,
                      int pos0, int n_h, int n_kv, int d) {
    if (T >= ATT_GEMM_MIN_ROWS) {
        attention_gemm(out, att, q, k, v, T, Tk, pos0, n_h, n_kv, d);
        return;
    }
    int n_rep = n_h / n_kv;
    size_t q_stride = (size_t)n_h * d, kv_stride = (size_t)n_kv * d;
    float scale = 1.0f / sqrtf((float)d);
#pragma omp parallel for collapse(2) schedule(static)
    for (int j = 0; j < n_h; j++) {
        for (int t = 0; t < T; t++) {
            int g = j / n_rep;
            int n_keys = pos0 + t + 1; /* causal: keys 0 … pos0+t */
            const float *qv = q + t * q_stride + (size_t)j * d; // [d]
            float *p = att + ((size_t)j * T + t) * Tk;          // [Tk]
            for (int s = 0; s < n_keys; s++) {
                const float *kv = k + s * kv_stride + (size_t)g * d; // [d]
                p[s] = ya_cpu_dot(qv, kv, d) * scale;
            }
            causal_softmax_row_scalar(p, t, Tk, pos0);
            float *o = out + t * q_stride + (size_t)j * d; // [d]
            memset(o, 0, (size_t)d * sizeof *o);
            for (int s = 0; s < n_keys; s++) {
                const float *vv = v + s * kv_stride + (size_t)g * d; // [d]
                float w = p[s];
                for (int i = 0; i < d; i++) o[i] += w * vv[i];
            }
        }
    }
}

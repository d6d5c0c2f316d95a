/* cpu_attention_backward.c — backward of causal grouped-query attention.
 *
 * Forward (per query head j, row t, kv head g = j / n_rep, keys s ≤ pos0+t):
 *   S = scale·q·k_s,  P = softmax_s(S),  out = Σ_s P_s·v_s.
 * Backward, with dP_s = dout·v_s and D = Σ_s P_s·dP_s = dout·out
 * (FlashAttention's identity: no [n_h, T] scratch needed):
 *   dS_s = P_s·(dP_s − D)
 *   dq   += scale·Σ_s dS_s·k_s
 *   dk_s += scale·Σ_{j ∈ g, t} dS_s·q      dv_s += Σ_{j ∈ g, t} P_s·dout
 * dk/dv of kv head g collect all n_rep query heads that read it.
 *
 * Two passes so no two threads ever write the same row: pass 1 is parallel
 * over (query head, row) and writes dq; pass 2 is parallel over (kv head,
 * block of keys) and writes dk/dv, walking (j, t) in a fixed order. dP and D
 * are recomputed in pass 2 (D once per (j, t) per key block). Results do not
 * depend on the thread count. P = 0 beyond the causal limit is never read.
 *
 * Those loops are the fallback (more than BWD_SCRATCH keys). The main path runs
 * the same formulas as GEMMs, per query head and per block of query rows
 * [t0, t0+nr) against the keys they can see (kend = pos0+t0+nr, so the causal
 * upper triangle is mostly skipped), with dP/dS in a fixed 64 KiB stack buffer
 * (ops never allocate): dP = dO·V_gᵀ, dS = P ⊙ (dP − D)·scale row by row on
 * OpenMP, then dQ += dS·K_g, dK_g += dSᵀ·Q, dV_g += Pᵀ·dO (sgemm, beta = 1,
 * heads then blocks in index order). The loops were 28 % of a LoRA training step.
 * With OpenBLAS single-threaded (`--matmul bf16`), the kv heads go to the OpenMP
 * threads instead (bench/NOTES.md v4). */
#include <cblas.h> /* defines: cblas_sgemm */
#include <math.h>

#include "backend/cpu/cpu_ops.h"

enum { KEY_BLOCK = 32, BWD_SCRATCH = 16384 /* floats of dS per block (64 KiB) */ };

static inline float dotf(const float *a, const float *b, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static void attention_backward_loops(float *dq, float *dk, float *dv, const float *dout, const float *att,
                                     const float *out, const float *q, const float *k, const float *v, int T, int Tk,
                                     int pos0, int n_h, int n_kv, int d) {
    int n_rep = n_h / n_kv;
    size_t q_stride = (size_t)n_h * d, kv_stride = (size_t)n_kv * d;
    float scale = 1.0f / sqrtf((float)d);

    if (dq) {
#pragma omp parallel for collapse(2) schedule(static)
        for (int j = 0; j < n_h; j++) {
            for (int t = 0; t < T; t++) {
                int g = j / n_rep;
                int n_keys = pos0 + t + 1;
                const float *p = att + ((size_t)j * T + t) * Tk;    // [Tk]
                const float *go = dout + t * q_stride + (size_t)j * d; // [d]
                const float *o = out + t * q_stride + (size_t)j * d;   // [d]
                float *gq = dq + t * q_stride + (size_t)j * d;         // [d]
                float D = dotf(go, o, d);
                for (int s = 0; s < n_keys; s++) {
                    const float *vs = v + s * kv_stride + (size_t)g * d; // [d]
                    const float *ks = k + s * kv_stride + (size_t)g * d; // [d]
                    float ds = p[s] * (dotf(go, vs, d) - D) * scale;
                    for (int i = 0; i < d; i++) gq[i] += ds * ks[i];
                }
            }
        }
    }

    if (dk || dv) {
        int n_blocks = (Tk + KEY_BLOCK - 1) / KEY_BLOCK;
#pragma omp parallel for collapse(2) schedule(dynamic)
        for (int g = 0; g < n_kv; g++) {
            for (int b = 0; b < n_blocks; b++) {
                int s0 = b * KEY_BLOCK, s1 = s0 + KEY_BLOCK < Tk ? s0 + KEY_BLOCK : Tk;
                int t_first = s0 - pos0 > 0 ? s0 - pos0 : 0; /* first row that sees key s0 */
                for (int j = g * n_rep; j < (g + 1) * n_rep; j++) {
                    for (int t = t_first; t < T; t++) {
                        int s_end = pos0 + t + 1 < s1 ? pos0 + t + 1 : s1; /* causal limit */
                        const float *p = att + ((size_t)j * T + t) * Tk;    // [Tk]
                        const float *go = dout + t * q_stride + (size_t)j * d; // [d]
                        const float *qt = q + t * q_stride + (size_t)j * d;    // [d]
                        float D = dotf(go, out + t * q_stride + (size_t)j * d, d);
                        for (int s = s0; s < s_end; s++) {
                            size_t off = s * kv_stride + (size_t)g * d;
                            if (dv)
                                for (int i = 0; i < d; i++) dv[off + i] += p[s] * go[i];
                            if (dk) {
                                float ds = p[s] * (dotf(go, v + off, d) - D) * scale;
                                for (int i = 0; i < d; i++) dk[off + i] += ds * qt[i];
                            }
                        }
                    }
                }
            }
        }
    }
}

/* Query head j, query rows [t0, t0+nr): the backward GEMMs of one block (see the header).
 * dS: [nr, kend] scratch. rows_parallel: the dS rows on OpenMP (caller not in a parallel region). */
static void backward_block(float *dq, float *dk, float *dv, const float *dout, const float *att, const float *out,
                           const float *q, const float *k, const float *v, int T, int Tk, int pos0, int n_h, int n_kv,
                           int d, int j, int t0, int nr, float *dS, int rows_parallel) {
    int g = j / (n_h / n_kv), kend = pos0 + t0 + nr; /* keys rows t0… can see */
    int q_stride = n_h * d, kv_stride = n_kv * d;
    float scale = 1.0f / sqrtf((float)d);
    const float *kg = k + (size_t)g * d, *vg = v + (size_t)g * d; // [n_keys, d] rows kv_stride apart
    const float *P = att + ((size_t)j * T + t0) * Tk;               // [nr, Tk]
    const float *dO = dout + (size_t)t0 * q_stride + (size_t)j * d; // [nr, d] rows q_stride apart
    const float *qj = q + (size_t)t0 * q_stride + (size_t)j * d;    // [nr, d]
    if (dv)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, kend, d, nr, 1.0f, P, Tk, dO, q_stride, 1.0f,
                    dv + (size_t)g * d, kv_stride);
    if (!dq && !dk) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nr, kend, d, 1.0f, dO, q_stride, vg, kv_stride, 0.0f, dS,
                kend);
#pragma omp parallel for schedule(static) if (rows_parallel)
    for (int i = 0; i < nr; i++) {
        const float *p = P + (size_t)i * Tk; // [Tk]
        float *ds = dS + (size_t)i * kend;   // [kend] dP in, dS out
        float D = dotf(dO + (size_t)i * q_stride, out + (size_t)(t0 + i) * q_stride + (size_t)j * d, d);
        int lim = pos0 + t0 + i + 1; /* causal */
        for (int s = 0; s < lim; s++) ds[s] = p[s] * (ds[s] - D) * scale;
        for (int s = lim; s < kend; s++) ds[s] = 0.0f;
    }
    if (dq)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nr, d, kend, 1.0f, dS, kend, kg, kv_stride, 1.0f,
                    dq + (size_t)t0 * q_stride + (size_t)j * d, q_stride);
    if (dk)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, kend, d, nr, 1.0f, dS, kend, qj, q_stride, 1.0f,
                    dk + (size_t)g * d, kv_stride);
}

void ya_cpu_attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *att,
                               const float *out, const float *q, const float *k, const float *v, int T, int Tk,
                               int pos0, int n_h, int n_kv, int d) {
    if (T <= 0) return;
    int n_rep = n_h / n_kv, n_keys = pos0 + T; /* keys any row can see */
    if (n_keys > BWD_SCRATCH) { /* not even one row of dS fits: the loops need no scratch */
        attention_backward_loops(dq, dk, dv, dout, att, out, q, k, v, T, Tk, pos0, n_h, n_kv, d);
        return;
    }
    int rows = BWD_SCRATCH / n_keys < T ? BWD_SCRATCH / n_keys : T; /* query rows per block */
    if (ya_cpu_blas_serial()) {
        /* OpenBLAS on one thread: kv heads on the OpenMP threads. Each thread owns
         * the dk/dv columns of its kv head and walks that head's query heads and
         * blocks in the serial order below, so the sums are the same. */
#pragma omp parallel for schedule(static)
        for (int g = 0; g < n_kv; g++) {
            float dS[BWD_SCRATCH]; // [rows, kend] dP, then dS, of one block
            for (int j = g * n_rep; j < (g + 1) * n_rep; j++)
                for (int t0 = 0; t0 < T; t0 += rows)
                    backward_block(dq, dk, dv, dout, att, out, q, k, v, T, Tk, pos0, n_h, n_kv, d, j, t0,
                                   T - t0 < rows ? T - t0 : rows, dS, 0);
        }
        return;
    }
    float dS[BWD_SCRATCH]; // [rows, kend] dP, then dS, of one block
    for (int j = 0; j < n_h; j++)
        for (int t0 = 0; t0 < T; t0 += rows)
            backward_block(dq, dk, dv, dout, att, out, q, k, v, T, Tk, pos0, n_h, n_kv, d, j, t0,
                           T - t0 < rows ? T - t0 : rows, dS, 1);
}

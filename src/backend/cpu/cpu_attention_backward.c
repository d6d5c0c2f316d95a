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
 * depend on the thread count. P = 0 beyond the causal limit is never read. */
#include <math.h>

#include "backend/cpu/cpu_ops.h"

enum { KEY_BLOCK = 32 };

static inline float dotf(const float *a, const float *b, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

void ya_cpu_attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *att,
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

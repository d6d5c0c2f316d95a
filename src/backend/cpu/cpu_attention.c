/* cpu_attention.c — causal grouped-query attention, plain loops.
 *
 * For each (query head j, query row t): scores against keys 0 … pos0+t of kv
 * head j / n_rep (SPEC §6.5 defect 3: never j mod n_kv), scale 1/sqrt(d),
 * fp32 softmax with max subtraction, then the probability-weighted sum of
 * values. Work is split over (head, row) pairs; each pair's reductions run in
 * a fixed order (ya_cpu_dot's lanes), so results do not depend on the thread count. */
#include <math.h>
#include <string.h>

#include "backend/cpu/cpu_ops.h"

void ya_cpu_attention(float *out, float *att, const float *q, const float *k, const float *v, int T, int Tk,
                      int pos0, int n_h, int n_kv, int d) {
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
            float mx = -INFINITY;
            for (int s = 0; s < n_keys; s++) {
                const float *kv = k + s * kv_stride + (size_t)g * d; // [d]
                p[s] = ya_cpu_dot(qv, kv, d) * scale;
                if (p[s] > mx) mx = p[s];
            }
            float sum = 0.0f;
            for (int s = 0; s < n_keys; s++) {
                p[s] = expf(p[s] - mx);
                sum += p[s];
            }
            float inv = 1.0f / sum;
            for (int s = 0; s < n_keys; s++) p[s] *= inv;
            for (int s = n_keys; s < Tk; s++) p[s] = 0.0f;
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

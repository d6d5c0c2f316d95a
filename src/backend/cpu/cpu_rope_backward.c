/* cpu_rope_backward.c — backward of rotate-half RoPE.
 *
 * Each pair (i, i + d/2) of a row is rotated by its angle θ; the Jacobian is
 * that rotation, so the gradient is rotated back by −θ (its transpose):
 *   da = da'·cos + db'·sin,   db = db'·cos − da'·sin
 * In place on the gradient dx [T, n_heads, d], with the forward's tables. */
#include "backend/cpu/cpu_ops.h"

void ya_cpu_rope_backward(float *dx, const float *cos, const float *sin, int T, int n_heads, int d) {
    int half = d / 2;
#pragma omp parallel for schedule(static)
    for (int t = 0; t < T; t++) {
        const float *c = cos + (size_t)t * half; // [d/2]
        const float *s = sin + (size_t)t * half; // [d/2]
        for (int hd = 0; hd < n_heads; hd++) {
            float *g = dx + ((size_t)t * n_heads + hd) * d; // [d]
            for (int i = 0; i < half; i++) {
                float ga = g[i], gb = g[i + half];
                g[i] = ga * c[i] + gb * s[i];
                g[i + half] = gb * c[i] - ga * s[i];
            }
        }
    }
}

/* cpu_rope.c — rotary position embedding in HF's rotate-half layout
 * (SPEC §6.2): element i pairs with i + d/2,
 *   x'_i       = x_i·cos − x_{i+d/2}·sin
 *   x'_{i+d/2} = x_{i+d/2}·cos + x_i·sin
 * The cos/sin tables (computed in double by the model, stored as float) are
 * indexed by the token's row, so rotation is by position, never by head. */
#include "backend/cpu/cpu_ops.h"

void ya_cpu_rope(float *x, const float *cos, const float *sin, int T, int n_heads, int d) {
    int half = d / 2;
#pragma omp parallel for schedule(static)
    for (int t = 0; t < T; t++) {
        const float *c = cos + (size_t)t * half; // [d/2]
        const float *s = sin + (size_t)t * half; // [d/2]
        for (int hd = 0; hd < n_heads; hd++) {
            float *v = x + ((size_t)t * n_heads + hd) * d; // [d]
            for (int i = 0; i < half; i++) {
                float a = v[i], b = v[i + half];
                v[i] = a * c[i] - b * s[i];
                v[i + half] = b * c[i] + a * s[i];
            }
        }
    }
}

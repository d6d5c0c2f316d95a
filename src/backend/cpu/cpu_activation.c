/* cpu_activation.c — elementwise ops: SwiGLU (silu(gate) ⊙ up) and the
 * residual add. */
#include <math.h>

#include "backend/cpu/cpu_ops.h"

void ya_cpu_swiglu(float *out, const float *gate, const float *up, size_t n) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i]; /* silu(g) = g·σ(g) */
    }
}

void ya_cpu_add(float *y, const float *x, size_t n) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) y[i] += x[i];
}

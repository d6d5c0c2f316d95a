/* cpu_activation_backward.c — backward of SwiGLU out = silu(gate) ⊙ up.
 *
 * With σ = 1/(1+e^−g): silu(g) = g·σ and silu'(g) = σ·(1 + g·(1 − σ)), so
 *   dgate += dout ⊙ up ⊙ silu'(gate),   dup += dout ⊙ silu(gate).
 * (The residual add needs no backward: its gradient is the identity.) */
#include <math.h>

#include "backend/cpu/cpu_ops.h"

void ya_cpu_swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate, const float *up,
                            size_t n) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        float g = gate[i];
        float sig = 1.0f / (1.0f + expf(-g)); /* expf overflow → +inf → σ = 0: still exact */
        if (dgate) dgate[i] += dout[i] * up[i] * (sig * (1.0f + g * (1.0f - sig)));
        if (dup) dup[i] += dout[i] * (g * sig);
    }
}

/* cpu_activation.c — elementwise ops: SwiGLU (silu(gate) ⊙ up) and the
 * residual add.
 *
 * SwiGLU's sigmoid was libm expf per element, ~7 % of a `--matmul bf16` training
 * step (forward, its recompute before down_proj's backward, and the backward):
 * where the CPU has AVX-512F it runs 16 lanes at a time with cpu_vexp.h's
 * sigmoid (≤ 2 ulp exp of −|g|). Every element takes the same path whatever the
 * thread count (blocks of 16, the tail through a masked load), so results do
 * not depend on it; a CPU without AVX-512F gets the libm form. */
#include <math.h>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/cpu_vexp.h"

#if defined(YA_CPU_VEXP_AVX512)
__attribute__((target("avx512f"))) static void swiglu_avx512(float *out, const float *gate, const float *up, size_t n) {
    size_t n_blocks = (n + 15) / 16;
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < n_blocks; b++) {
        size_t i = b * 16;
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1u);
        __m512 g = _mm512_maskz_loadu_ps(m, gate + i), u = _mm512_maskz_loadu_ps(m, up + i);
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(_mm512_mul_ps(g, ya_sigmoid_ps(g)), u)); /* silu(g)·u */
    }
}
#endif

void ya_cpu_swiglu(float *out, const float *gate, const float *up, size_t n) {
#if defined(YA_CPU_VEXP_AVX512)
    if (__builtin_cpu_supports("avx512f")) {
        swiglu_avx512(out, gate, up, n);
        return;
    }
#endif
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

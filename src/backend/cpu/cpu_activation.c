/* cpu_activation.c — elementwise ops: SwiGLU (silu(gate) ⊙ up) and the
 * residual add.
 *
 * SwiGLU's sigmoid was libm expf per element, ~7 % of a `--matmul bf16` training
 * step (forward, its recompute before down_proj's backward, and the backward):
 * where the CPU has AVX-512F it runs 16 lanes at a time with cpu_vexp.h's
 * sigmoid (≤ 2 ulp exp of −|g|). Every element takes the same path whatever the
 * thread count (blocks of 16, the tail through a masked load), so results do
 * not depend on it; a CPU without AVX-512F (or YA_SIMD=portable, cpu_simd.c)
 * gets the libm form. */
#include <math.h>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/cpu_vexp.h"

/* The parallel loop runs over fixed spans of SPAN_FLOATS elements and each span
 * calls one target("avx512f") function: the OpenMP region itself (which the
 * compiler outlines into a function of its own, without the target attribute)
 * never holds an AVX-512 value, which clang refuses ("changes the ABI"). */
enum { SPAN_FLOATS = 256 }; /* 16 AVX-512 blocks: enough spans for every thread even at decode (n = one row) */

#if defined(YA_CPU_VEXP_AVX512)
__attribute__((target("avx512f"))) static void swiglu_span_avx512(float *out, const float *gate, const float *up,
                                                                  size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1u);
        __m512 g = _mm512_maskz_loadu_ps(m, gate + i), u = _mm512_maskz_loadu_ps(m, up + i);
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(_mm512_mul_ps(g, ya_sigmoid_ps(g)), u)); /* silu(g)·u */
    }
}
#endif

static void swiglu_span_portable(float *out, const float *gate, const float *up, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i]; /* silu(g) = g·σ(g) */
    }
}

void ya_cpu_swiglu(float *out, const float *gate, const float *up, size_t n) {
    int avx512 = ya_cpu_use_avx512();
    size_t n_spans = (n + SPAN_FLOATS - 1) / SPAN_FLOATS;
#pragma omp parallel for schedule(static)
    for (size_t s = 0; s < n_spans; s++) {
        size_t i = s * SPAN_FLOATS, len = n - i < SPAN_FLOATS ? n - i : SPAN_FLOATS;
#if defined(YA_CPU_VEXP_AVX512)
        if (avx512) {
            swiglu_span_avx512(out + i, gate + i, up + i, len);
            continue;
        }
#endif
        swiglu_span_portable(out + i, gate + i, up + i, len);
    }
    (void)avx512;
}

void ya_cpu_add(float *y, const float *x, size_t n) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) y[i] += x[i];
}

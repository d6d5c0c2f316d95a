/* cpu_activation_backward.c — backward of SwiGLU out = silu(gate) ⊙ up.
 *
 * With σ = 1/(1+e^−g): silu(g) = g·σ and silu'(g) = σ·(1 + g·(1 − σ)), so
 *   dgate += dout ⊙ up ⊙ silu'(gate),   dup += dout ⊙ silu(gate).
 * (The residual add needs no backward: its gradient is the identity.)
 * σ as in cpu_activation.c: 16 lanes with cpu_vexp.h where the CPU has
 * AVX-512F (every element on the same path whatever the thread count), libm
 * expf otherwise or under YA_SIMD=portable (cpu_simd.c). */
#include <math.h>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/cpu_vexp.h"

/* Fixed spans, one target("avx512f") call each: see cpu_activation.c. */
enum { SPAN_FLOATS = 256 };

#if defined(YA_CPU_VEXP_AVX512)
__attribute__((target("avx512f"))) static void swiglu_backward_span_avx512(float *dgate, float *dup, const float *dout,
                                                                           const float *gate, const float *up,
                                                                           size_t n) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1u);
        __m512 g = _mm512_maskz_loadu_ps(m, gate + i), dy = _mm512_maskz_loadu_ps(m, dout + i);
        __m512 sig = ya_sigmoid_ps(g);
        if (dgate) {
            __m512 u = _mm512_maskz_loadu_ps(m, up + i);
            /* dout·up·(σ·(1 + g·(1 − σ))), multiplied in the scalar form's order */
            __m512 dsilu = _mm512_mul_ps(sig, _mm512_add_ps(one, _mm512_mul_ps(g, _mm512_sub_ps(one, sig))));
            __m512 d = _mm512_mul_ps(_mm512_mul_ps(dy, u), dsilu);
            _mm512_mask_storeu_ps(dgate + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, dgate + i), d));
        }
        if (dup) {
            __m512 d = _mm512_mul_ps(dy, _mm512_mul_ps(g, sig));
            _mm512_mask_storeu_ps(dup + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, dup + i), d));
        }
    }
}
#endif

static void swiglu_backward_span_portable(float *dgate, float *dup, const float *dout, const float *gate,
                                          const float *up, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float g = gate[i];
        float sig = 1.0f / (1.0f + expf(-g)); /* expf overflow → +inf → σ = 0: still exact */
        if (dgate) dgate[i] += dout[i] * up[i] * (sig * (1.0f + g * (1.0f - sig)));
        if (dup) dup[i] += dout[i] * (g * sig);
    }
}

void ya_cpu_swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate, const float *up,
                            size_t n) {
    int avx512 = ya_cpu_use_avx512();
    size_t n_spans = (n + SPAN_FLOATS - 1) / SPAN_FLOATS;
#pragma omp parallel for schedule(static)
    for (size_t s = 0; s < n_spans; s++) {
        size_t i = s * SPAN_FLOATS, len = n - i < SPAN_FLOATS ? n - i : SPAN_FLOATS;
        float *dg = dgate ? dgate + i : NULL, *du = dup ? dup + i : NULL;
#if defined(YA_CPU_VEXP_AVX512)
        if (avx512) {
            swiglu_backward_span_avx512(dg, du, dout + i, gate + i, up + i, len);
            continue;
        }
#endif
        swiglu_backward_span_portable(dg, du, dout + i, gate + i, up + i, len);
    }
    (void)avx512;
}

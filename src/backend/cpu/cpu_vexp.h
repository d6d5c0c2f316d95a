/* cpu_vexp.h — e^x on 16 floats at once (AVX-512F), for the CPU ops whose
 * libm expf calls are a visible part of a training step: the bf16
 * cross-entropy's softmax (cpu_cross_entropy_bf16.c) and SwiGLU's sigmoid
 * (cpu_activation*.c). Cephes' expf: x = n·ln2 + r, |r| ≤ ln2/2, a degree-6
 * polynomial in r, 2^n by scalef; ≤ 2 ulp from the correctly rounded value.
 * Only for x ≤ 0 (every caller exponentiates a non-positive argument: l − max,
 * −|g|), so nothing overflows; below −104 the result underflows to 0 as expf's
 * does. Callers pick it at run time with ya_cpu_use_avx512() (cpu_simd.c: the
 * CPU has AVX-512F and YA_SIMD does not force the portable path) and keep libm
 * expf as the fallback. */
#ifndef YOUR_AI_CPU_VEXP_H
#define YOUR_AI_CPU_VEXP_H

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define YA_CPU_VEXP_AVX512 1

__attribute__((target("avx512f"))) static inline __m512 ya_exp_nonpos_ps(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f)); /* e^-104 underflows to 0 either way; keeps n finite */
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    __m512 y = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(y, n);
}

/* σ(g) = 1/(1 + e^−g), from e = e^−|g| ≤ 1 (no overflow): 1/(1+e) for g ≥ 0, e/(1+e) below. */
__attribute__((target("avx512f"))) static inline __m512 ya_sigmoid_ps(__m512 g) {
    __m512 neg_abs = _mm512_castsi512_ps(
        _mm512_or_si512(_mm512_castps_si512(g), _mm512_set1_epi32((int)0x80000000u))); /* −|g| */
    __m512 e = ya_exp_nonpos_ps(neg_abs);
    __m512 inv = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_add_ps(_mm512_set1_ps(1.0f), e));
    __mmask16 neg = _mm512_cmp_ps_mask(g, _mm512_setzero_ps(), _CMP_LT_OQ);
    return _mm512_mask_mul_ps(inv, neg, inv, e);
}
#endif

#endif

/* cpu_matmul_bf16.c — the bf16 GEMMs of `your_ai train --matmul bf16`: the
 * products with a frozen base weight, run as bf16 × bf16 with fp32
 * accumulation on oneDNN (AMX-BF16 tiles on Sapphire Rapids, AVX512-BF16 on
 * earlier cores, oneDNN's choice), 2–5× the fp32 sgemm rate on the layer shapes
 * of a small Llama (bench/NOTES.md, v3).
 *
 *   linear_bf16w:             y [M, N] (+)= bf16(x) [M, K] · W [N, K]ᵀ
 *   linear_bf16w_backward_dx: dx [M, K] += bf16(dy) [M, N] · W [N, K]
 *   to_bf16:                  a weight stored in another dtype, rounded to bf16
 *   linear_f32_omp, linear_backward_f32_omp: the fp32 LoRA-factor GEMMs of that
 *                             mode, on oneDNN's OpenMP threads (see below)
 * (the lm_head's pair lives in cpu_cross_entropy_bf16.c).
 *
 * W is the base weight as stored (bf16, HF's [out, in] layout, read in place:
 * oneDNN is told its strides, nothing is transposed). The fp32 activation is
 * rounded to bf16 (round to nearest even) into caller scratch first; each
 * product of two bf16 values is exact in fp32, so the only differences from an
 * fp32 sgemm over the same rounded inputs are the order of the fp32 sums.
 *
 * oneDNN is an optional dependency (Debian libdnnl-dev, found by CMake →
 * YA_HAVE_DNNL). Without it only the conversions exist: the GEMM entries of
 * the op table stay NULL and the training graph refuses --matmul bf16. With
 * it, a CPU oneDNN has no bf16 GEMM for is refused the same way
 * (ya_cpu_bf16_available, ya_backend_cpu_bf16_check).
 * Engine and stream are created per call (a few µs; oneDNN's own primitive
 * cache makes the repeated shapes cheap): the backend keeps no state. A
 * oneDNN failure here (it only allocates its own scratchpad) is an internal
 * error: the op prints the call and status and aborts, as the ops have no
 * error channel. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu_ops.h"

/* fp32 → bf16, round to nearest even; NaN stays a (quiet) NaN. Integer
 * arithmetic on the bits, not vcvtneps2bf16 (which flushes subnormals to
 * zero), so the scalar and the AVX-512 paths give the same bits. */
static inline uint16_t f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

/* The conversion runs over every activation entering a bf16 GEMM (the
 * [rows, V] dlogits included) and gcc does not vectorise the scalar form:
 * an AVX-512F version of the same arithmetic, picked at run time. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define YA_BF16_AVX512 1
__attribute__((target("avx512f"))) static void convert_span_avx512(uint16_t *dst, const float *src, size_t n) {
    const __m512i one = _mm512_set1_epi32(1), bias = _mm512_set1_epi32(0x7fff), quiet = _mm512_set1_epi32(0x40);
    const __m512i abs_mask = _mm512_set1_epi32(0x7fffffff), inf = _mm512_set1_epi32(0x7f800000);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512i u = _mm512_loadu_si512((const void *)(src + i));
        __m512i hi = _mm512_srli_epi32(u, 16);
        __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(bias, _mm512_and_si512(hi, one))), 16);
        __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, abs_mask), inf);
        __m512i r = _mm512_mask_blend_epi32(nan, rounded, _mm512_or_si512(hi, quiet));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm512_cvtepi32_epi16(r));
    }
    for (; i < n; i++) dst[i] = f32_to_bf16(src[i]);
}
#endif

static void convert_span(uint16_t *dst, const float *src, size_t n) {
#if defined(YA_BF16_AVX512)
    if (ya_cpu_use_avx512()) {
        convert_span_avx512(dst, src, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) dst[i] = f32_to_bf16(src[i]);
}

enum { CONVERT_BLOCK = 4096 };

void ya_cpu_f32_to_bf16(uint16_t *dst, const float *src, size_t n) {
    size_t n_blocks = (n + CONVERT_BLOCK - 1) / CONVERT_BLOCK;
#pragma omp parallel for schedule(static) if (n > 4 * CONVERT_BLOCK)
    for (size_t b = 0; b < n_blocks; b++) {
        size_t i0 = b * CONVERT_BLOCK, i1 = i0 + CONVERT_BLOCK < n ? i0 + CONVERT_BLOCK : n;
        convert_span(dst + i0, src + i0, i1 - i0);
    }
}

void ya_cpu_to_bf16(uint16_t *dst, const void *src, YaDtype dt, size_t n) {
    if (dt == YA_DTYPE_BF16) {
        memcpy(dst, src, n * sizeof *dst);
        return;
    }
    /* Through fp32 in blocks on the stack: exact for F16/F32 sources, then one rounding. */
#pragma omp parallel for schedule(static) if (n > 4 * CONVERT_BLOCK)
    for (size_t i0 = 0; i0 < n; i0 += CONVERT_BLOCK) {
        float tmp[CONVERT_BLOCK];
        size_t len = n - i0 < CONVERT_BLOCK ? n - i0 : CONVERT_BLOCK;
        ya_to_f32(dt, (const char *)src + i0 * ya_dtype_size(dt), tmp, len);
        convert_span(dst + i0, tmp, len);
    }
}

#if defined(YA_HAVE_DNNL)
#include <dnnl.h> /* defines: dnnl_matmul_desc_init, dnnl_primitive_execute */

/* oneDNN has bf16 GEMMs only from AVX512_CORE up (AVX-512 F/BW/VL/DQ; native
 * bf16 with AVX512_BF16 or AMX): on an older CPU (AVX2 Xeons, AMD before Zen 4),
 * or under ONEDNN_MAX_CPU_ISA below that, it refuses the primitive. Probed once,
 * with the kind of descriptor gemm_strided builds. */
static int probe_bf16_gemm(void) {
    dnnl_engine_t eng;
    if (dnnl_engine_create(&eng, dnnl_cpu, 0) != dnnl_success) return 0;
    dnnl_memory_desc_t a_md, b_md, c_md;
    dnnl_dims_t dims = {16, 16}, str = {16, 1};
    dnnl_matmul_desc_t mm;
    dnnl_primitive_desc_t pd = NULL;
    int ok = dnnl_memory_desc_init_by_strides(&a_md, 2, dims, dnnl_bf16, str) == dnnl_success &&
             dnnl_memory_desc_init_by_strides(&b_md, 2, dims, dnnl_bf16, str) == dnnl_success &&
             dnnl_memory_desc_init_by_strides(&c_md, 2, dims, dnnl_f32, str) == dnnl_success &&
             dnnl_matmul_desc_init(&mm, &a_md, &b_md, NULL, &c_md) == dnnl_success &&
             dnnl_primitive_desc_create(&pd, &mm, NULL, eng, NULL) == dnnl_success;
    if (pd) dnnl_primitive_desc_destroy(pd);
    dnnl_engine_destroy(eng);
    return ok;
}

int ya_cpu_bf16_available(void) {
    static atomic_int cached = -1; /* racing first callers compute the same answer */
    int v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v < 0) {
        v = probe_bf16_gemm();
        atomic_store_explicit(&cached, v, memory_order_relaxed);
    }
    return v;
}

static void dnnl_check(dnnl_status_t s, const char *what, int M, int N, int K) {
    if (s == dnnl_success) return;
    fprintf(stderr, "your_ai: internal error: oneDNN %s failed (status %d) for a bf16 GEMM of M=%d N=%d K=%d\n", what,
            (int)s, M, N, K);
    abort();
}

/* C [M, N] (ldc) (+)= A · B with A [M, K] and B [K, N] given by their strides
 * (element (m, k) at a[m·a_sm + k·a_sk], (k, n) at b[k·b_sk + n·b_sn]), A and
 * B of type `in` (bf16 or f32), C fp32 row-major. */
static void gemm_strided(dnnl_data_type_t in, int M, int N, int K, const void *a, long long a_sm, long long a_sk,
                         const void *b, long long b_sk, long long b_sn, float *c, int ldc, int accumulate) {
    if (M <= 0 || N <= 0) return;
    dnnl_engine_t eng;
    dnnl_stream_t st;
    dnnl_check(dnnl_engine_create(&eng, dnnl_cpu, 0), "engine", M, N, K);
    dnnl_check(dnnl_stream_create(&st, eng, dnnl_stream_default_flags), "stream", M, N, K);
    dnnl_memory_desc_t a_md, b_md, c_md;
    dnnl_dims_t a_dims = {M, K}, b_dims = {K, N}, c_dims = {M, N};
    dnnl_dims_t a_str = {a_sm, a_sk}, b_str = {b_sk, b_sn}, c_str = {ldc, 1};
    dnnl_check(dnnl_memory_desc_init_by_strides(&a_md, 2, a_dims, in, a_str), "src desc", M, N, K);
    dnnl_check(dnnl_memory_desc_init_by_strides(&b_md, 2, b_dims, in, b_str), "weights desc", M, N, K);
    dnnl_check(dnnl_memory_desc_init_by_strides(&c_md, 2, c_dims, dnnl_f32, c_str), "dst desc", M, N, K);
    dnnl_matmul_desc_t mm;
    dnnl_check(dnnl_matmul_desc_init(&mm, &a_md, &b_md, NULL, &c_md), "matmul desc", M, N, K);
    dnnl_primitive_attr_t attr;
    dnnl_post_ops_t po = NULL;
    dnnl_check(dnnl_primitive_attr_create(&attr), "attr", M, N, K);
    if (accumulate) { /* C += A·B: the sum post-op reads C before overwriting it */
        dnnl_check(dnnl_post_ops_create(&po), "post-ops", M, N, K);
        dnnl_check(dnnl_post_ops_append_sum(po, 1.0f), "sum post-op", M, N, K);
        dnnl_check(dnnl_primitive_attr_set_post_ops(attr, po), "set post-ops", M, N, K);
    }
    dnnl_primitive_desc_t pd;
    dnnl_check(dnnl_primitive_desc_create(&pd, &mm, attr, eng, NULL), "primitive desc", M, N, K);
    dnnl_primitive_t prim;
    dnnl_check(dnnl_primitive_create(&prim, pd), "primitive", M, N, K);
    dnnl_memory_t am, bm, cm;
    dnnl_check(dnnl_memory_create(&am, &a_md, eng, (void *)a), "src memory", M, N, K);
    dnnl_check(dnnl_memory_create(&bm, &b_md, eng, (void *)b), "weights memory", M, N, K);
    dnnl_check(dnnl_memory_create(&cm, &c_md, eng, c), "dst memory", M, N, K);
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}};
    dnnl_check(dnnl_primitive_execute(prim, st, 3, args), "execute", M, N, K);
    dnnl_check(dnnl_stream_wait(st), "stream wait", M, N, K);
    dnnl_memory_destroy(am);
    dnnl_memory_destroy(bm);
    dnnl_memory_destroy(cm);
    dnnl_primitive_destroy(prim);
    dnnl_primitive_desc_destroy(pd);
    if (po) dnnl_post_ops_destroy(po);
    dnnl_primitive_attr_destroy(attr);
    dnnl_stream_destroy(st);
    dnnl_engine_destroy(eng);
}

void ya_cpu_gemm_bf16_nt(float *c, int ldc, const uint16_t *a, int lda, const uint16_t *w, int ldw, int M, int N,
                         int K, int accumulate) {
    /* B = Wᵀ: element (k, n) = w[n·ldw + k]. */
    gemm_strided(dnnl_bf16, M, N, K, a, lda, 1, w, 1, ldw, c, ldc, accumulate);
}

void ya_cpu_gemm_bf16_nn(float *c, int ldc, const uint16_t *a, int lda, const uint16_t *w, int ldw, int M, int N,
                         int K, int accumulate) {
    /* B = W [K, N] row-major. */
    gemm_strided(dnnl_bf16, M, N, K, a, lda, 1, w, ldw, 1, c, ldc, accumulate);
}

void ya_cpu_linear_bf16w(float *y, const float *x, const uint16_t *w, int M, int K, int N, int accumulate,
                         uint16_t *xbf) {
    if (M <= 0) return;
    ya_cpu_f32_to_bf16(xbf, x, (size_t)M * K);
    ya_cpu_gemm_bf16_nt(y, N, xbf, K, w, K, M, N, K, accumulate);
}

void ya_cpu_linear_bf16w_backward_dx(float *dx, const float *dy, const uint16_t *w, int M, int K, int N,
                                     uint16_t *dybf) {
    if (M <= 0) return;
    ya_cpu_f32_to_bf16(dybf, dy, (size_t)M * N);
    ya_cpu_gemm_bf16_nn(dx, K, dybf, N, w, K, M, K, N, 1);
}

/* The fp32 GEMMs of the LoRA factors in bf16 mode, on oneDNN's OpenMP threads
 * (fp32 in, fp32 accumulation: the same arithmetic as sgemm up to the order of
 * the sums). In that mode OpenBLAS runs single-threaded (the training
 * graph sets it, ya_backend_cpu_set_blas_threads): its idle workers would otherwise spin in sched_yield
 * for ~0.1 s after every call, taking a core from the OpenMP and oneDNN work
 * around it (a quarter of the samples of a bf16 step on 2 cores).
 *   y [M, N] (+)= x [M, K] · W [N, K]ᵀ */
void ya_cpu_linear_f32_omp(float *y, const float *x, const float *w, int M, int K, int N, int accumulate) {
    gemm_strided(dnnl_f32, M, N, K, x, K, 1, w, 1, K, y, N, accumulate);
}

/*   dx [M, K] += dy [M, N] · W [N, K];  dw [N, K] += dyᵀ · x (either may be NULL). */
void ya_cpu_linear_backward_f32_omp(float *dx, float *dw, const float *dy, const float *x, const float *w, int M, int K,
                                    int N) {
    if (dx) gemm_strided(dnnl_f32, M, K, N, dy, N, 1, w, K, 1, dx, K, 1);
    if (dw) gemm_strided(dnnl_f32, N, K, M, dy, 1, N, x, K, 1, dw, K, 1); /* A = dyᵀ: (n, m) at dy[m·N + n] */
}

#else /* no oneDNN: the op table leaves the bf16 entries NULL */

int ya_cpu_bf16_available(void) { return 0; }

#endif

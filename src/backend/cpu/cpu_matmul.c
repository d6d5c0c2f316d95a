/* cpu_matmul.c — linear layers through OpenBLAS sgemm.
 *
 * y[M,N] = x[M,K] · W[N,K]ᵀ (+ b): W is HF's [out, in] layout, so the GEMM is
 * "NoTrans × Trans" and no weight is ever transposed in memory. OpenBLAS
 * (pthreads build) runs its own threads; never call this inside an OpenMP
 * parallel region. */
#include <cblas.h> /* defines: cblas_sgemm */
#include <stdint.h>
#include <string.h>

#include "backend/cpu/cpu_ops.h"

void ya_cpu_linear(float *y, const float *x, const float *w, const float *b, int M, int K, int N, int accumulate) {
    float beta = accumulate ? 1.0f : 0.0f;
    if (b) {
        /* Seed y with the bias (added to what is there when accumulating), then GEMM with beta = 1. */
        for (int m = 0; m < M; m++) {
            float *row = y + (size_t)m * N; // [N]
            if (accumulate)
                for (int n = 0; n < N; n++) row[n] += b[n];
            else
                for (int n = 0; n < N; n++) row[n] = b[n];
        }
        beta = 1.0f;
    }
    if (M == 1) {
        /* One token (generation): a GEMV reads W once, row by row. */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, N, K, 1.0f, w, K, x, 1, beta, y, 1);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, x, K, w, K, beta, y, N);
}

/* Weight rows are converted in tiles of this many elements into a buffer on
 * each thread's stack; the dot products run tile by tile in index order, so
 * the result does not depend on the thread count. */
enum { STORED_TILE = 512 };

/* The two hot loops of decoding get an AVX2 clone besides the baseline
 * (x86-64-v2) build, picked at load time. AVX2 without FMA: no multiply-add is
 * fused, and each lane sums in the same order, so both clones give
 * bit-identical results. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define YA_HOT_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define YA_HOT_CLONES
#endif

/* The lane dot product of cpu_ops.h, compiled here again under the clones. */
YA_HOT_CLONES static float dot_lanes(const float *a, const float *b, int n) { return ya_cpu_dot(a, b, n); }

static inline float bf16_to_f32(uint16_t v) {
    union {
        uint32_t u;
        float f;
    } x = {.u = (uint32_t)v << 16};
    return x.f;
}

/* n stored elements → fp32. BF16 (the common case) is inlined here so it
 * vectorises; the other dtypes go through ya_to_f32. */
YA_HOT_CLONES static void convert_tile(YaDtype dt, const char *src, float *dst, int n) {
    if (dt != YA_DTYPE_BF16) {
        ya_to_f32(dt, src, dst, (size_t)n);
        return;
    }
    if ((uintptr_t)src % 2) { /* no alignment guarantee in the mapping (never seen in practice) */
        ya_to_f32(dt, src, dst, (size_t)n);
        return;
    }
    /* bf16 is the top half of an fp32: widen and shift. */
    const uint16_t *restrict h = (const uint16_t *)src; // [n]
    float *restrict d = dst;                            // [n]
    int i = 0;
    for (; i + 8 <= n; i += 8) /* fixed inner count: vectorised at -O2 (no epilogue needed) */
        for (int l = 0; l < 8; l++) d[i + l] = bf16_to_f32(h[i + l]);
    for (; i < n; i++) d[i] = bf16_to_f32(h[i]);
}

void ya_cpu_linear_stored(float *y, const float *x, const void *w, YaDtype dt, const float *b, int M, int K, int N,
                          int accumulate) {
    size_t esz = ya_dtype_size(dt), row_bytes = (size_t)K * esz;
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        const char *wrow = (const char *)w + (size_t)n * row_bytes; // [K] stored
        float tile[STORED_TILE];
        float acc[8]; /* M ≤ 8 handled per pass; larger M loops over passes */
        for (int m0 = 0; m0 < M; m0 += 8) {
            int mm = M - m0 < 8 ? M - m0 : 8;
            for (int r = 0; r < mm; r++) acc[r] = 0.0f;
            for (int k0 = 0; k0 < K; k0 += STORED_TILE) {
                int len = K - k0 < STORED_TILE ? K - k0 : STORED_TILE;
                convert_tile(dt, wrow + (size_t)k0 * esz, tile, len);
                for (int r = 0; r < mm; r++) acc[r] += dot_lanes(x + (size_t)(m0 + r) * K + k0, tile, len);
            }
            for (int r = 0; r < mm; r++) {
                float *yo = y + (size_t)(m0 + r) * N + n;
                float v = acc[r] + (b ? b[n] : 0.0f);
                *yo = accumulate ? *yo + v : v;
            }
        }
    }
}

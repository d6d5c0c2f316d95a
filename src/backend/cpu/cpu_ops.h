/* cpu_ops.h — the CPU backend's op functions, one file per op family
 * (cpu_matmul.c, cpu_norm.c, cpu_rope.c, cpu_attention.c, cpu_activation.c,
 * cpu_embedding.c); cpu_backend.c gathers them into the YaBackendOps table.
 * Signatures and shapes are documented once, in backend.h. */
#ifndef YOUR_AI_CPU_OPS_H
#define YOUR_AI_CPU_OPS_H

#include "backend/backend.h"

/* Σ a[k]·b[k] in 8 interleaved partial sums combined in a fixed order: the
 * lanes let the compiler vectorise without reassociating, and the result is
 * the same on every thread count and ISA (no fused multiply-add). */
static inline float ya_cpu_dot(const float *a, const float *b, int n) {
    float lane[8] = {0};
    int k = 0;
    for (; k + 8 <= n; k += 8)
        for (int l = 0; l < 8; l++) lane[l] += a[k + l] * b[k + l];
    float sum = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
    for (; k < n; k++) sum += a[k] * b[k];
    return sum;
}

/* 1 when OpenBLAS runs on one thread (`--matmul bf16` sets it so): ops with many
 * small GEMMs (attention's per-head products) then spread them over the OpenMP
 * threads themselves, each GEMM single-threaded (cpu_backend.c). */
int ya_cpu_blas_serial(void);

/* Vector instruction levels, for comparing OpenBLAS's kernel family with the CPU
 * (cpu_blas_kernels.c). */
enum { YA_CPU_LEVEL_OLDER = 0, YA_CPU_LEVEL_AVX = 1, YA_CPU_LEVEL_AVX2 = 2, YA_CPU_LEVEL_AVX512 = 3 };
/* The level an OpenBLAS kernel family (openblas_get_corename(), any case) is written for. */
int ya_cpu_blas_core_level(const char *corename);
/* 1 with the warning in buf when OpenBLAS's `corename` kernels are below a CPU of
 * `cpu_level` and below AVX2 (no FMA), and the user did not choose them
 * (OPENBLAS_CORETYPE, `coretype_env`, unset or empty); else 0. The message names
 * the setting to use. */
int ya_cpu_blas_kernel_warning(const char *coretype_env, const char *corename, int cpu_level, char *buf,
                               size_t cap);
/* The level this CPU (and OS) supports; YA_CPU_LEVEL_OLDER off x86-64. */
int ya_cpu_vector_level(void);
/* Once per process: a warning when OpenBLAS chose kernels older than this CPU
 * supports and OPENBLAS_CORETYPE is not set (ya_backend_cpu() calls it). */
void ya_cpu_blas_warn_outdated_kernels(void);

/* 1 when the ops take their AVX-512F forms: the CPU has AVX-512F and YA_SIMD
 * does not force the portable path (cpu_simd.c). Every AVX-512 kernel is picked
 * through this, never by __builtin_cpu_supports alone. */
int ya_cpu_use_avx512(void);

void ya_cpu_linear(float *y, const float *x, const float *w, const float *b, int M, int K, int N, int accumulate);
void ya_cpu_linear_stored(float *y, const float *x, const void *w, YaDtype dt, const float *b, int M, int K, int N,
                          int accumulate);
void ya_cpu_rmsnorm(float *y, float *rstd, const float *x, const float *w, int M, int h, float eps);
void ya_cpu_rope(float *x, const float *cos, const float *sin, int T, int n_heads, int d);
void ya_cpu_attention(float *out, float *att, const float *q, const float *k, const float *v, int T, int Tk,
                      int pos0, int n_h, int n_kv, int d);
void ya_cpu_swiglu(float *out, const float *gate, const float *up, size_t n);
void ya_cpu_add(float *y, const float *x, size_t n);
void ya_cpu_embedding(float *out, const void *table, YaDtype dt, const int32_t *ids, int T, int h);
void ya_cpu_to_f32(float *dst, const void *src, YaDtype dt, size_t n);

/* Backward ops (cpu_*_backward.c, cpu_cross_entropy.c; docs/BACKWARD.md). */
void ya_cpu_linear_backward(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w, int M,
                            int K, int N);
void ya_cpu_rmsnorm_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                             const float *rstd, int M, int h);
void ya_cpu_rope_backward(float *dx, const float *cos, const float *sin, int T, int n_heads, int d);
void ya_cpu_attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *att,
                               const float *out, const float *q, const float *k, const float *v, int T, int Tk,
                               int pos0, int n_h, int n_kv, int d);
void ya_cpu_swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate, const float *up,
                            size_t n);
void ya_cpu_embedding_backward(float *dtable, const float *dout, const int32_t *ids, int T, int h);
double ya_cpu_cross_entropy(float *nll, float *dx, float *dw, const float *x, const void *w, YaDtype dt,
                            const int32_t *targets, const float *weight, int T, int h, int V, int chunk,
                            float *scratch);
size_t ya_cpu_cross_entropy_scratch(int T, int h, int V, int chunk);

/* bf16 GEMMs with fp32 accumulation (cpu_matmul_bf16.c, cpu_cross_entropy_bf16.c;
 * oneDNN). ya_cpu_bf16_available() is 0 when the build has no oneDNN: the
 * GEMM entries then do not exist and the op table leaves them NULL. */
int ya_cpu_bf16_available(void);
void ya_cpu_f32_to_bf16(uint16_t *dst, const float *src, size_t n); /* nearest even; threaded */
void ya_cpu_to_bf16(uint16_t *dst, const void *src, YaDtype dt, size_t n);
size_t ya_cpu_cross_entropy_bf16w_scratch(int T, int h, int V, int chunk);
#if defined(YA_HAVE_DNNL)
/* c [M, N] (ldc) (+)= a [M, K] (lda) · wᵀ, w [N, K] (ldw). */
void ya_cpu_gemm_bf16_nt(float *c, int ldc, const uint16_t *a, int lda, const uint16_t *w, int ldw, int M, int N,
                         int K, int accumulate);
/* c [M, N] (ldc) (+)= a [M, K] (lda) · w, w [K, N] (ldw). */
void ya_cpu_gemm_bf16_nn(float *c, int ldc, const uint16_t *a, int lda, const uint16_t *w, int ldw, int M, int N,
                         int K, int accumulate);
void ya_cpu_linear_bf16w(float *y, const float *x, const uint16_t *w, int M, int K, int N, int accumulate,
                         uint16_t *xbf);
void ya_cpu_linear_bf16w_backward_dx(float *dx, const float *dy, const uint16_t *w, int M, int K, int N,
                                     uint16_t *dybf);
void ya_cpu_linear_f32_omp(float *y, const float *x, const float *w, int M, int K, int N, int accumulate);
void ya_cpu_linear_backward_f32_omp(float *dx, float *dw, const float *dy, const float *x, const float *w, int M, int K,
                                    int N);
double ya_cpu_cross_entropy_bf16w(float *nll, float *dx, float *dw, const float *x, const void *w, YaDtype dt,
                                  const int32_t *targets, const float *weight, int T, int h, int V, int chunk,
                                  float *scratch);
#endif

#endif

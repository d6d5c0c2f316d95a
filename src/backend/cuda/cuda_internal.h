/* cuda_internal.h — what the CUDA backend's .cu files share and C code never
 * sees: the context's layout, the checking macros that turn CUDA/cuBLAS
 * status codes into the context's recorded error (with file:line), bf16
 * helpers and the launch-shape helper. */
#ifndef YOUR_AI_CUDA_INTERNAL_H
#define YOUR_AI_CUDA_INTERNAL_H

#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "backend/cuda/cuda_blaslt.h"
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/cuda_runtime.h"

/* One remembered cuBLASLt heuristic answer: a training step repeats the same
 * few dozen GEMM shapes thousands of times, and the heuristic query costs tens
 * of microseconds of host time per call. */
typedef struct YaGemmPlan {
    int opA, opB, m, n, k, lda, ldb, ldc, at, bt, ct, has_bias, beta_nonzero;
    unsigned al_a, al_b, al_c;
    cublasLtMatmulAlgo_t algo;
} YaGemmPlan;
#define YA_GEMM_PLANS 128

struct YaCudaCtx {
    YaCudaDeviceInfo info;
    cudaStream_t stream;
    const YaBlasLt *lt_api; /* cuBLASLt's entry points, loaded on first use (cuda_blaslt.h) */
    cublasLtHandle_t lt;
    void *lt_workspace; /* cuBLASLt scratch for split-K / stream-K algorithms */
    size_t lt_workspace_bytes;
    char *arena; /* one cudaMalloc, bump-allocated */
    size_t arena_bytes, arena_used;
    double *norm_partials; /* [YA_CUDA_NORM_CHUNKS + 1] doubles for grad_global_norm */
    YaGemmPlan gemm_plans[YA_GEMM_PLANS]; /* filled in call order; when full, new shapes are not cached */
    int n_gemm_plans;
    int failed;            /* sticky: first error wins */
    YaError err;
};

/* The fixed partition of ya_grad_global_norm (src/train/optimizer.c). */
#define YA_CUDA_NORM_CHUNKS 256

/* Records a failed CUDA runtime / cuBLAS call; returns 0 on failure, 1 on success. */
int ya_cuda_record_rt(YaCudaCtx *ctx, cudaError_t st, const char *call, const char *file, int line);
int ya_cuda_record_blas(YaCudaCtx *ctx, cublasStatus_t st, const char *call, const char *file, int line);

#define CUDA_CHECK(ctx, call) ya_cuda_record_rt((ctx), (call), #call, __FILE__, __LINE__)
#define CUBLAS_CHECK(ctx, call) ya_cuda_record_blas((ctx), (call), #call, __FILE__, __LINE__)
/* After every kernel launch: launch-configuration errors surface here, at the op's line. */
#define CUDA_CHECK_LAUNCH(ctx) ya_cuda_record_rt((ctx), cudaGetLastError(), "kernel launch", __FILE__, __LINE__)

static inline __nv_bfloat16 *as_bf(YaBf16 *p) { return reinterpret_cast<__nv_bfloat16 *>(p); }
static inline const __nv_bfloat16 *as_bf(const YaBf16 *p) { return reinterpret_cast<const __nv_bfloat16 *>(p); }

/* Blocks of `threads` covering n elements, capped so a grid-stride loop finishes the rest. */
static inline unsigned ya_cuda_blocks(size_t n, unsigned threads) {
    size_t b = (n + threads - 1) / threads;
    if (b > 65535u * 16u) b = 65535u * 16u;
    return b ? (unsigned)b : 1u;
}

/* Sum over a block of blockDim.x threads (multiple of 32, ≤ 1024) in a fixed
 * tree order: deterministic for a given block size. `shared` holds 32 T. */
template <typename T>
__device__ inline T ya_block_sum(T v, T *shared) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads(); /* shared may still be read by a previous call */
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    int n_warps = blockDim.x >> 5;
    v = threadIdx.x < n_warps ? shared[threadIdx.x] : T(0);
    if (warp == 0)
        for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    if (threadIdx.x == 0) shared[0] = v;
    __syncthreads();
    return shared[0];
}

/* D = C = op(A)·op(B) + beta·C (+ bias [m]) through cuBLASLt, column-major,
 * fp32 accumulation (CUBLAS_COMPUTE_32F: never TF32). A is stored
 * (opA == N ? m×k : k×m) with leading dimension lda; likewise B
 * (opB == N ? k×n : n×k). C is m×n with ldc and type ct; bias (type ct) or NULL.
 * `what` names the op in error messages. (cuda_matmul.cu) */
void ya_cuda_gemm(YaCudaCtx *ctx, const char *what, cublasOperation_t opA, cublasOperation_t opB, int m, int n, int k,
                  const void *A, cudaDataType_t at, int lda, const void *B, cudaDataType_t bt, int ldb, void *C,
                  cudaDataType_t ct, int ldc, float beta, const void *bias);

/* Max over a block, like ya_block_sum. */
__device__ inline float ya_block_max(float v, float *shared) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, o));
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads();
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    int n_warps = blockDim.x >> 5;
    v = threadIdx.x < n_warps ? shared[threadIdx.x] : -INFINITY;
    if (warp == 0)
        for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, o));
    if (threadIdx.x == 0) shared[0] = v;
    __syncthreads();
    return shared[0];
}

/* Per-family launchers (cuda_<family>.cu), gathered by cuda_backend.cu. */
extern "C" {
void ya_cuda_linear(YaCudaCtx *ctx, void *y, const void *x, const void *w, const void *b, YaDtype dt, int M, int K,
                    int N, int accumulate);
void ya_cuda_linear_backward(YaCudaCtx *ctx, void *dx, float *dw, float *db, const void *dy, const void *x,
                             const void *w, YaDtype dt, int M, int K, int N);
void ya_cuda_rmsnorm(YaCudaCtx *ctx, YaBf16 *y, float *rstd, const YaBf16 *x, const YaBf16 *w, int M, int h,
                     float eps);
void ya_cuda_rmsnorm_backward(YaCudaCtx *ctx, YaBf16 *dx, float *dw, const YaBf16 *dy, const YaBf16 *x,
                              const YaBf16 *w, const float *rstd, int M, int h);
void ya_cuda_rope(YaCudaCtx *ctx, YaBf16 *x, const float *cos, const float *sin, int T, int n_heads, int d);
void ya_cuda_rope_backward(YaCudaCtx *ctx, YaBf16 *dx, const float *cos, const float *sin, int T, int n_heads,
                           int d);
void ya_cuda_attention(YaCudaCtx *ctx, YaBf16 *out, float *lse, const YaBf16 *q, const YaBf16 *k, const YaBf16 *v,
                       int T, int Tk, int pos0, int n_h, int n_kv, int d);
void ya_cuda_attention_backward(YaCudaCtx *ctx, YaBf16 *dq, YaBf16 *dk, YaBf16 *dv, const YaBf16 *dout,
                                const float *lse, const YaBf16 *out, const YaBf16 *q, const YaBf16 *k,
                                const YaBf16 *v, int T, int Tk, int pos0, int n_h, int n_kv, int d);
void ya_cuda_swiglu(YaCudaCtx *ctx, YaBf16 *out, const YaBf16 *gate, const YaBf16 *up, size_t n);
void ya_cuda_swiglu_backward(YaCudaCtx *ctx, YaBf16 *dgate, YaBf16 *dup, const YaBf16 *dout, const YaBf16 *gate,
                             const YaBf16 *up, size_t n);
void ya_cuda_swiglu_backward_set(YaCudaCtx *ctx, YaBf16 *dgate, YaBf16 *dup, const YaBf16 *dout, const YaBf16 *gate,
                                 const YaBf16 *up, size_t n);
void ya_cuda_add(YaCudaCtx *ctx, YaBf16 *y, const YaBf16 *x, size_t n);
void ya_cuda_embedding(YaCudaCtx *ctx, YaBf16 *out, const void *table, YaDtype dt, const int32_t *ids, int T, int h);
void ya_cuda_embedding_backward(YaCudaCtx *ctx, float *dtable, const YaBf16 *dout, const int32_t *ids, int T,
                                int h);
void ya_cuda_to_f32(YaCudaCtx *ctx, float *dst, const void *src, YaDtype dt, size_t n);
void ya_cuda_to_bf16(YaCudaCtx *ctx, YaBf16 *dst, const void *src, YaDtype dt, size_t n);
void ya_cuda_scale(YaCudaCtx *ctx, YaBf16 *x, size_t n, float s);
void ya_cuda_dropout(YaCudaCtx *ctx, YaBf16 *dst, const YaBf16 *src, int M, int K, float p, uint64_t key);
void ya_cuda_adamw(YaCudaCtx *ctx, int kind, double beta1, double beta2, double eps, double weight_decay,
                   long long t, double lr, float *p, const float *g, float *m, float *v, size_t n);
double ya_cuda_cross_entropy(YaCudaCtx *ctx, float *nll, YaBf16 *dx, float *dw, const YaBf16 *x, const void *w,
                             YaDtype dt, const int32_t *targets, const float *weight, int T, int h, int V, int chunk,
                             float *scratch);
size_t ya_cuda_cross_entropy_scratch(int T, int h, int V, int chunk);
double ya_cuda_grad_global_norm(YaCudaCtx *ctx, const float *g, size_t n);
void ya_cuda_grad_scale(YaCudaCtx *ctx, float *g, size_t n, float s);
void ya_cuda_grad_accumulate(YaCudaCtx *ctx, float *acc, const float *g, size_t n);
}

#endif

/* cuda_norm.cu — RMSNorm forward and backward (the CUDA twin of cpu_norm.c +
 * cpu_norm_backward.c): bf16 rows in and out, fp32 sums, fp32 rstd and dw.
 *
 * One block per row for the row reductions (Σx², Σ g·x) with a fixed tree
 * order; dw sums its rows in order, one thread per column. Nothing uses
 * atomics, so results are bitwise repeatable. */
#include "backend/cuda/cuda_internal.h"

enum { NORM_THREADS = 256 };

__global__ void rmsnorm_kernel(__nv_bfloat16 *y, float *rstd, const __nv_bfloat16 *x, const __nv_bfloat16 *w, int h,
                               float eps) {
    __shared__ float red[32];
    const __nv_bfloat16 *xr = x + (size_t)blockIdx.x * h; // [h]
    __nv_bfloat16 *yr = y + (size_t)blockIdx.x * h;       // [h]
    float ss = 0.0f;
    for (int i = threadIdx.x; i < h; i += blockDim.x) {
        float v = __bfloat162float(xr[i]);
        ss += v * v;
    }
    ss = ya_block_sum(ss, red);
    float r = rsqrtf(ss / (float)h + eps);
    if (rstd && threadIdx.x == 0) rstd[blockIdx.x] = r;
    /* y may alias x: each element is read and written by the same thread, after the sum. */
    for (int i = threadIdx.x; i < h; i += blockDim.x)
        yr[i] = __float2bfloat16(__bfloat162float(w[i]) * (__bfloat162float(xr[i]) * r));
}

extern "C" void ya_cuda_rmsnorm(YaCudaCtx *ctx, YaBf16 *y, float *rstd, const YaBf16 *x, const YaBf16 *w, int M,
                                int h, float eps) {
    if (ctx->failed || M <= 0) return;
    rmsnorm_kernel<<<M, NORM_THREADS, 0, ctx->stream>>>(as_bf(y), rstd, as_bf(x), as_bf(w), h, eps);
    CUDA_CHECK_LAUNCH(ctx);
}

/* dx_i += r·g_i − (r³/h)·x_i·Σ_j g_j x_j with g = dy ⊙ w. */
__global__ void rmsnorm_backward_dx_kernel(__nv_bfloat16 *dx, const __nv_bfloat16 *dy, const __nv_bfloat16 *x,
                                           const __nv_bfloat16 *w, const float *rstd, int h) {
    __shared__ float red[32];
    size_t off = (size_t)blockIdx.x * h;
    float dot = 0.0f;
    for (int i = threadIdx.x; i < h; i += blockDim.x)
        dot += __bfloat162float(dy[off + i]) * __bfloat162float(w[i]) * __bfloat162float(x[off + i]);
    dot = ya_block_sum(dot, red);
    float r = rstd[blockIdx.x];
    float c = dot * (r * r * r) / (float)h;
    for (int i = threadIdx.x; i < h; i += blockDim.x) {
        float g = __bfloat162float(dy[off + i]) * __bfloat162float(w[i]);
        float v = __bfloat162float(dx[off + i]) + (r * g - c * __bfloat162float(x[off + i]));
        dx[off + i] = __float2bfloat16(v);
    }
}

/* dw_i += Σ_m dy[m,i]·x[m,i]·rstd[m], rows in order. */
__global__ void rmsnorm_backward_dw_kernel(float *dw, const __nv_bfloat16 *dy, const __nv_bfloat16 *x,
                                           const float *rstd, int M, int h) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= h) return;
    float acc = 0.0f;
    for (int m = 0; m < M; m++) {
        size_t o = (size_t)m * h + i;
        acc += __bfloat162float(dy[o]) * (__bfloat162float(x[o]) * rstd[m]);
    }
    dw[i] += acc;
}

extern "C" void ya_cuda_rmsnorm_backward(YaCudaCtx *ctx, YaBf16 *dx, float *dw, const YaBf16 *dy, const YaBf16 *x,
                                         const YaBf16 *w, const float *rstd, int M, int h) {
    if (ctx->failed || M <= 0) return;
    if (dx) {
        rmsnorm_backward_dx_kernel<<<M, NORM_THREADS, 0, ctx->stream>>>(as_bf(dx), as_bf(dy), as_bf(x), as_bf(w), rstd,
                                                                        h);
        CUDA_CHECK_LAUNCH(ctx);
    }
    if (dw) {
        rmsnorm_backward_dw_kernel<<<(h + 127) / 128, 128, 0, ctx->stream>>>(dw, as_bf(dy), as_bf(x), rstd, M, h);
        CUDA_CHECK_LAUNCH(ctx);
    }
}

/* cuda_norm.cu — RMSNorm forward and backward (the CUDA twin of cpu_norm.c +
 * cpu_norm_backward.c): bf16 rows in and out, fp32 sums, fp32 rstd and dw.
 *
 * One block per row for the row reductions (Σx², Σ g·x) with a fixed tree
 * order; dw sums its rows in order, one thread per column. Nothing uses
 * atomics, so results are bitwise repeatable.
 *
 * Two kernels per row op. The vectorised one (h % 8 == 0, 16-byte aligned
 * rows, h ≤ 16384: every Llama width) sizes its block to the row — h/8
 * threads rounded up to a warp, at most 1024 — so each thread moves one or two
 * 16-byte groups, held in registers between the sum and the write. The scalar
 * one (256 threads striding over the row) serves everything else. Their
 * per-element expressions are the same; their sums run in different orders,
 * so the two may differ in the last bit of rstd (each is deterministic). */
#include "backend/cuda/cuda_internal.h"
#include "backend/cuda/cuda_vec.h"

enum { NORM_THREADS = 256, NORM_VEC_MAX_THREADS = 1024, NORM_VEC_MAX_GROUPS = 2 };

/* The vectorised kernels' shape for a row of h: threads (a warp multiple) and
 * 16-byte groups per thread; 0 when the row needs the scalar kernel. */
static int norm_vec_shape(int h, int *groups) {
    if (h <= 0 || h % 8) return 0;
    int n8 = h / 8, threads = (n8 + 31) / 32 * 32;
    if (threads > NORM_VEC_MAX_THREADS) threads = NORM_VEC_MAX_THREADS;
    *groups = (n8 + threads - 1) / threads;
    return *groups <= NORM_VEC_MAX_GROUPS ? threads : 0;
}

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

/* Thread j owns groups j, j + blockDim.x, … (G of them) of the row; the sum
 * runs over its groups in order, elements in order, then ya_block_sum. */
template <int G>
__global__ void __launch_bounds__(NORM_VEC_MAX_THREADS)
    rmsnorm_vec_kernel(__nv_bfloat16 *y, float *rstd, const __nv_bfloat16 *x, const __nv_bfloat16 *w, int h,
                       float eps) {
    __shared__ float red[32];
    const __nv_bfloat16 *xr = x + (size_t)blockIdx.x * h; // [h]
    __nv_bfloat16 *yr = y + (size_t)blockIdx.x * h;       // [h]
    const int n8 = h / 8;
    uint4 xp[G]; // this thread's groups of the row (8 bf16 each), kept for the second pass
    float ss = 0.0f;
#pragma unroll
    for (int c = 0; c < G; c++) {
        int j = threadIdx.x + c * blockDim.x;
        if (j < n8) {
            float v[8];
            xp[c] = ya_ld16(xr + 8 * j);
            ya_unpack8(v, xp[c]);
#pragma unroll
            for (int k = 0; k < 8; k++) ss += v[k] * v[k];
        }
    }
    ss = ya_block_sum(ss, red);
    float r = rsqrtf(ss / (float)h + eps);
    if (rstd && threadIdx.x == 0) rstd[blockIdx.x] = r;
    /* y may alias x: x was read (into xp) before the block sum's barriers. */
#pragma unroll
    for (int c = 0; c < G; c++) {
        int j = threadIdx.x + c * blockDim.x;
        if (j < n8) {
            float xv[8], wv[8], o[8];
            ya_unpack8(xv, xp[c]);
            ya_load8(wv, w + 8 * j);
#pragma unroll
            for (int k = 0; k < 8; k++) o[k] = wv[k] * (xv[k] * r);
            ya_store8(yr + 8 * j, o);
        }
    }
}

extern "C" void ya_cuda_rmsnorm(YaCudaCtx *ctx, YaBf16 *y, float *rstd, const YaBf16 *x, const YaBf16 *w, int M,
                                int h, float eps) {
    if (ctx->failed || M <= 0) return;
    int groups = 0, threads = norm_vec_shape(h, &groups);
    if (threads && ya_aligned16(y) && ya_aligned16(x) && ya_aligned16(w)) {
        if (groups == 1)
            rmsnorm_vec_kernel<1><<<M, threads, 0, ctx->stream>>>(as_bf(y), rstd, as_bf(x), as_bf(w), h, eps);
        else
            rmsnorm_vec_kernel<2><<<M, threads, 0, ctx->stream>>>(as_bf(y), rstd, as_bf(x), as_bf(w), h, eps);
    } else {
        rmsnorm_kernel<<<M, NORM_THREADS, 0, ctx->stream>>>(as_bf(y), rstd, as_bf(x), as_bf(w), h, eps);
    }
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

/* rmsnorm_backward_dx_kernel with rmsnorm_vec_kernel's layout: the dy, x and w
 * groups stay in registers (packed) from the dot product to the update. */
template <int G>
__global__ void __launch_bounds__(NORM_VEC_MAX_THREADS)
    rmsnorm_backward_dx_vec_kernel(__nv_bfloat16 *dx, const __nv_bfloat16 *dy, const __nv_bfloat16 *x,
                                   const __nv_bfloat16 *w, const float *rstd, int h) {
    __shared__ float red[32];
    size_t off = (size_t)blockIdx.x * h;
    const int n8 = h / 8;
    uint4 dyp[G], xp[G], wp[G]; // this thread's groups of dy, x (row) and w, 8 bf16 each
    float dot = 0.0f;
#pragma unroll
    for (int c = 0; c < G; c++) {
        int j = threadIdx.x + c * blockDim.x;
        if (j < n8) {
            float dyv[8], xv[8], wv[8];
            dyp[c] = ya_ld16(dy + off + 8 * j), xp[c] = ya_ld16(x + off + 8 * j), wp[c] = ya_ld16(w + 8 * j);
            ya_unpack8(dyv, dyp[c]), ya_unpack8(xv, xp[c]), ya_unpack8(wv, wp[c]);
#pragma unroll
            for (int k = 0; k < 8; k++) dot += dyv[k] * wv[k] * xv[k];
        }
    }
    dot = ya_block_sum(dot, red);
    float r = rstd[blockIdx.x];
    float cc = dot * (r * r * r) / (float)h;
#pragma unroll
    for (int c = 0; c < G; c++) {
        int j = threadIdx.x + c * blockDim.x;
        if (j < n8) {
            float v[8], dyv[8], xv[8], wv[8];
            ya_load8(v, dx + off + 8 * j);
            ya_unpack8(dyv, dyp[c]), ya_unpack8(xv, xp[c]), ya_unpack8(wv, wp[c]);
#pragma unroll
            for (int k = 0; k < 8; k++) {
                float g = dyv[k] * wv[k];
                v[k] = v[k] + (r * g - cc * xv[k]);
            }
            ya_store8(dx + off + 8 * j, v);
        }
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
        int groups = 0, threads = norm_vec_shape(h, &groups);
        if (threads && ya_aligned16(dx) && ya_aligned16(dy) && ya_aligned16(x) && ya_aligned16(w)) {
            if (groups == 1)
                rmsnorm_backward_dx_vec_kernel<1><<<M, threads, 0, ctx->stream>>>(as_bf(dx), as_bf(dy), as_bf(x),
                                                                                   as_bf(w), rstd, h);
            else
                rmsnorm_backward_dx_vec_kernel<2><<<M, threads, 0, ctx->stream>>>(as_bf(dx), as_bf(dy), as_bf(x),
                                                                                   as_bf(w), rstd, h);
        } else {
            rmsnorm_backward_dx_kernel<<<M, NORM_THREADS, 0, ctx->stream>>>(as_bf(dx), as_bf(dy), as_bf(x), as_bf(w),
                                                                            rstd, h);
        }
        CUDA_CHECK_LAUNCH(ctx);
    }
    if (dw) {
        rmsnorm_backward_dw_kernel<<<(h + 127) / 128, 128, 0, ctx->stream>>>(dw, as_bf(dy), as_bf(x), rstd, M, h);
        CUDA_CHECK_LAUNCH(ctx);
    }
}

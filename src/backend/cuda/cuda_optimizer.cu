/* cuda_optimizer.cu — AdamW over flat fp32 buffers, the global gradient norm
 * and the accumulation helpers (the CUDA twin of src/train/optimizer.c, SPEC §8).
 *
 * The AdamW kernel spells every operation with round-to-nearest intrinsics
 * (no fused multiply-add), so each element follows ya_adamw_step's float
 * arithmetic exactly. The norm uses ya_grad_global_norm's fixed partition
 * (256 chunks), sums each chunk in double with a fixed tree, then the chunks in
 * order: the same bits on every run, whatever the GPU. */
#include <math.h>

#include "backend/cuda/cuda_internal.h"

#define GRID_STRIDE(i, n) \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

struct AdamScalars {
    float decay, b1, one_minus_b1, b2, one_minus_b2, step_size, inv_bc2_sqrt, eps;
};

__global__ void adamw_kernel(AdamScalars s, float *p, const float *g, float *m, float *v, size_t n) {
    GRID_STRIDE(i, n) {
        float gi = g[i];
        float pi = __fmul_rn(p[i], s.decay);
        float mi = __fadd_rn(__fmul_rn(s.b1, m[i]), __fmul_rn(s.one_minus_b1, gi));
        float vi = __fadd_rn(__fmul_rn(s.b2, v[i]), __fmul_rn(s.one_minus_b2, __fmul_rn(gi, gi)));
        float denom = __fadd_rn(__fmul_rn(__fsqrt_rn(vi), s.inv_bc2_sqrt), s.eps);
        p[i] = __fsub_rn(pi, __fmul_rn(s.step_size, __fdiv_rn(mi, denom)));
        m[i] = mi;
        v[i] = vi;
    }
}

extern "C" void ya_cuda_adamw(YaCudaCtx *ctx, int kind, double beta1, double beta2, double eps, double weight_decay,
                              long long t, double lr, float *p, const float *g, float *m, float *v, size_t n) {
    if (ctx->failed || !n) return;
    if (t < 1) t = 1;
    /* Scalars in double, rounded once to float: exactly as ya_adamw_step. */
    double bc1 = 1.0, bc2 = 1.0;
    if (kind == 0) { /* YA_OPT_ADAMW: bias-corrected */
        bc1 = 1.0 - pow(beta1, (double)t);
        bc2 = 1.0 - pow(beta2, (double)t);
    }
    AdamScalars s;
    s.decay = (float)(1.0 - lr * weight_decay);
    s.b1 = (float)beta1;
    s.one_minus_b1 = (float)(1.0 - beta1);
    s.b2 = (float)beta2;
    s.one_minus_b2 = (float)(1.0 - beta2);
    s.step_size = (float)(lr / bc1);
    s.inv_bc2_sqrt = (float)(1.0 / sqrt(bc2));
    s.eps = (float)eps;
    adamw_kernel<<<ya_cuda_blocks(n, 256), 256, 0, ctx->stream>>>(s, p, g, m, v, n);
    CUDA_CHECK_LAUNCH(ctx);
}

enum { NORM_THREADS = 256 };

/* Block c sums g² over chunk c = [c·chunk, min(n, (c+1)·chunk)) in double. */
__global__ void norm_partial_kernel(double *partial, const float *g, size_t n, size_t chunk) {
    __shared__ double red[32];
    size_t lo = (size_t)blockIdx.x * chunk, hi = lo + chunk;
    if (lo > n) lo = n;
    if (hi > n) hi = n;
    double acc = 0.0;
    for (size_t i = lo + threadIdx.x; i < hi; i += blockDim.x) acc += (double)g[i] * (double)g[i];
    acc = ya_block_sum(acc, red);
    if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

/* One thread: the chunks in order, then the square root (result in partial[chunks]). */
__global__ void norm_final_kernel(double *partial, int chunks) {
    double total = 0.0;
    for (int c = 0; c < chunks; c++) total += partial[c];
    partial[chunks] = sqrt(total);
}

extern "C" double ya_cuda_grad_global_norm(YaCudaCtx *ctx, const float *g, size_t n) {
    if (ctx->failed) return NAN;
    if (!n) return 0.0;
    size_t chunk = (n + YA_CUDA_NORM_CHUNKS - 1) / YA_CUDA_NORM_CHUNKS;
    norm_partial_kernel<<<YA_CUDA_NORM_CHUNKS, NORM_THREADS, 0, ctx->stream>>>(ctx->norm_partials, g, n, chunk);
    CUDA_CHECK_LAUNCH(ctx);
    norm_final_kernel<<<1, 1, 0, ctx->stream>>>(ctx->norm_partials, YA_CUDA_NORM_CHUNKS);
    CUDA_CHECK_LAUNCH(ctx);
    double norm = NAN;
    ya_cuda_download(ctx, &norm, ctx->norm_partials + YA_CUDA_NORM_CHUNKS, sizeof norm);
    return ctx->failed ? NAN : norm;
}

__global__ void scale_kernel(float *g, size_t n, float s) {
    GRID_STRIDE(i, n) g[i] *= s;
}

__global__ void accumulate_kernel(float *acc, const float *g, size_t n) {
    GRID_STRIDE(i, n) acc[i] += g[i];
}

extern "C" void ya_cuda_grad_scale(YaCudaCtx *ctx, float *g, size_t n, float s) {
    if (ctx->failed || !n) return;
    scale_kernel<<<ya_cuda_blocks(n, 256), 256, 0, ctx->stream>>>(g, n, s);
    CUDA_CHECK_LAUNCH(ctx);
}

extern "C" void ya_cuda_grad_accumulate(YaCudaCtx *ctx, float *acc, const float *g, size_t n) {
    if (ctx->failed || !n) return;
    accumulate_kernel<<<ya_cuda_blocks(n, 256), 256, 0, ctx->stream>>>(acc, g, n);
    CUDA_CHECK_LAUNCH(ctx);
}

extern "C" double ya_cuda_clip_grad_norm(YaCudaCtx *ctx, float *g, size_t n, double max_norm) {
    double norm = ya_cuda_grad_global_norm(ctx, g, n);
    if (!isfinite(norm)) return norm;
    if (max_norm > 0 && norm >= max_norm) ya_cuda_grad_scale(ctx, g, n, (float)(max_norm / (norm + 1e-6)));
    return norm;
}

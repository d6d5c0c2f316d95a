/* cuda_activation.cu — SwiGLU (silu(gate) ⊙ up) forward and backward and the
 * residual add, a bf16 scale (the LoRA s·u) and the LoRA dropout mask (the CUDA twin of cpu_activation.c + cpu_activation_backward.c).
 * bf16 storage, fp32 arithmetic; gradients accumulate (+=) like the CPU ops. */
#include "backend/cuda/cuda_internal.h"

#define GRID_STRIDE(i, n) \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

__global__ void swiglu_kernel(__nv_bfloat16 *out, const __nv_bfloat16 *gate, const __nv_bfloat16 *up, size_t n) {
    GRID_STRIDE(i, n) {
        float g = __bfloat162float(gate[i]);
        out[i] = __float2bfloat16(g / (1.0f + expf(-g)) * __bfloat162float(up[i])); /* silu(g) = g·σ(g) */
    }
}

/* silu'(g) = σ·(1 + g·(1 − σ)); expf overflow → σ = 0, still exact. */
__global__ void swiglu_backward_kernel(__nv_bfloat16 *dgate, __nv_bfloat16 *dup, const __nv_bfloat16 *dout,
                                       const __nv_bfloat16 *gate, const __nv_bfloat16 *up, size_t n) {
    GRID_STRIDE(i, n) {
        float g = __bfloat162float(gate[i]), d = __bfloat162float(dout[i]);
        float sig = 1.0f / (1.0f + expf(-g));
        if (dgate)
            dgate[i] = __float2bfloat16(__bfloat162float(dgate[i]) +
                                        d * __bfloat162float(up[i]) * (sig * (1.0f + g * (1.0f - sig))));
        if (dup) dup[i] = __float2bfloat16(__bfloat162float(dup[i]) + d * (g * sig));
    }
}

__global__ void add_kernel(__nv_bfloat16 *y, const __nv_bfloat16 *x, size_t n) {
    GRID_STRIDE(i, n) y[i] = __float2bfloat16(__bfloat162float(y[i]) + __bfloat162float(x[i]));
}

__global__ void scale_kernel(__nv_bfloat16 *x, size_t n, float s) {
    GRID_STRIDE(i, n) x[i] = __float2bfloat16(__bfloat162float(x[i]) * s);
}

/* Counter-based uniform in [0, 1) for element (row, col) of stream `key`:
 * SplitMix64's finaliser over (key, row, col) — no state, so any launch shape
 * draws the same mask and a resumed run redraws it exactly. */
__device__ inline float dropout_uniform(uint64_t key, uint64_t row, uint64_t col) {
    uint64_t z = key ^ (row * 0x9E3779B97F4A7C15ull) ^ (col * 0xD1B54A32D192ED03ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (float)(z >> 40) * (1.0f / 16777216.0f); /* 24 bits */
}

__global__ void dropout_kernel(__nv_bfloat16 *dst, const __nv_bfloat16 *src, size_t M, size_t K, float p,
                               uint64_t key) {
    float keep_scale = 1.0f / (1.0f - p);
    GRID_STRIDE(i, M * K) {
        float u = dropout_uniform(key, i / K, i % K);
        dst[i] = __float2bfloat16(u < p ? 0.0f : __bfloat162float(src[i]) * keep_scale);
    }
}

extern "C" void ya_cuda_swiglu(YaCudaCtx *ctx, YaBf16 *out, const YaBf16 *gate, const YaBf16 *up, size_t n) {
    if (ctx->failed || !n) return;
    swiglu_kernel<<<ya_cuda_blocks(n, 256), 256, 0, ctx->stream>>>(as_bf(out), as_bf(gate), as_bf(up), n);
    CUDA_CHECK_LAUNCH(ctx);
}

extern "C" void ya_cuda_swiglu_backward(YaCudaCtx *ctx, YaBf16 *dgate, YaBf16 *dup, const YaBf16 *dout,
                                        const YaBf16 *gate, const YaBf16 *up, size_t n) {
    if (ctx->failed || !n || (!dgate && !dup)) return;
    swiglu_backward_kernel<<<ya_cuda_blocks(n, 256), 256, 0, ctx->stream>>>(as_bf(dgate), as_bf(dup), as_bf(dout),
                                                                            as_bf(gate), as_bf(up), n);
    CUDA_CHECK_LAUNCH(ctx);
}

extern "C" void ya_cuda_add(YaCudaCtx *ctx, YaBf16 *y, const YaBf16 *x, size_t n) {
    if (ctx->failed || !n) return;
    add_kernel<<<ya_cuda_blocks(n, 256), 256, 0, ctx->stream>>>(as_bf(y), as_bf(x), n);
    CUDA_CHECK_LAUNCH(ctx);
}

extern "C" void ya_cuda_scale(YaCudaCtx *ctx, YaBf16 *x, size_t n, float s) {
    if (ctx->failed || !n) return;
    scale_kernel<<<ya_cuda_blocks(n, 256), 256, 0, ctx->stream>>>(as_bf(x), n, s);
    CUDA_CHECK_LAUNCH(ctx);
}

extern "C" void ya_cuda_dropout(YaCudaCtx *ctx, YaBf16 *dst, const YaBf16 *src, int M, int K, float p, uint64_t key) {
    if (ctx->failed || M <= 0 || K <= 0) return;
    size_t n = (size_t)M * K;
    dropout_kernel<<<ya_cuda_blocks(n, 256), 256, 0, ctx->stream>>>(as_bf(dst), as_bf(src), (size_t)M, (size_t)K, p, key);
    CUDA_CHECK_LAUNCH(ctx);
}

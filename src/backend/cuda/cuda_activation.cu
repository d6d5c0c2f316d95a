/* cuda_activation.cu — SwiGLU (silu(gate) ⊙ up) forward and backward and the
 * residual add (the CUDA twin of cpu_activation.c + cpu_activation_backward.c).
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

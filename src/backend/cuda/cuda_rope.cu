/* cuda_rope.cu — rotary position embedding, HF rotate-half layout (element i
 * pairs with i + d/2), forward and backward (the CUDA twin of cpu_rope.c +
 * cpu_rope_backward.c). bf16 in place, rotation in fp32 with the fp32
 * cos/sin tables [T, d/2]. The backward rotates by −θ (the transpose). */
#include "backend/cuda/cuda_internal.h"

/* One thread per pair (t, head, i < d/2); `dir` = +1 forward, −1 backward. */
__global__ void rope_kernel(__nv_bfloat16 *x, const float *cos, const float *sin, int T, int n_heads, int d,
                            float dir) {
    int half = d / 2;
    size_t n = (size_t)T * n_heads * half;
    for (size_t p = (size_t)blockIdx.x * blockDim.x + threadIdx.x; p < n; p += (size_t)gridDim.x * blockDim.x) {
        int i = (int)(p % half);
        size_t row = p / half; /* t·n_heads + head */
        int t = (int)(row / n_heads);
        float c = cos[(size_t)t * half + i], s = dir * sin[(size_t)t * half + i];
        __nv_bfloat16 *v = x + row * d; // [d]
        float a = __bfloat162float(v[i]), b = __bfloat162float(v[i + half]);
        v[i] = __float2bfloat16(a * c - b * s);
        v[i + half] = __float2bfloat16(b * c + a * s);
    }
}

static void launch(YaCudaCtx *ctx, YaBf16 *x, const float *cos, const float *sin, int T, int n_heads, int d,
                   float dir) {
    if (ctx->failed || T <= 0) return;
    if (d % 2) {
        ya_cuda_fail(ctx, "cuda rope: head dim %d is odd (rotate-half needs an even d)", d);
        return;
    }
    size_t n = (size_t)T * n_heads * (d / 2);
    rope_kernel<<<ya_cuda_blocks(n, 256), 256, 0, ctx->stream>>>(as_bf(x), cos, sin, T, n_heads, d, dir);
    CUDA_CHECK_LAUNCH(ctx);
}

extern "C" void ya_cuda_rope(YaCudaCtx *ctx, YaBf16 *x, const float *cos, const float *sin, int T, int n_heads, int d) {
    launch(ctx, x, cos, sin, T, n_heads, d, 1.0f);
}

/* da = da'·cos + db'·sin, db = db'·cos − da'·sin: the forward formula with sin → −sin. */
extern "C" void ya_cuda_rope_backward(YaCudaCtx *ctx, YaBf16 *dx, const float *cos, const float *sin, int T,
                                      int n_heads, int d) {
    launch(ctx, dx, cos, sin, T, n_heads, d, -1.0f);
}

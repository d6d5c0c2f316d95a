/* cuda_rope.cu — rotary position embedding, HF rotate-half layout (element i
 * pairs with i + d/2), forward and backward (the CUDA twin of cpu_rope.c +
 * cpu_rope_backward.c). bf16 in place, rotation in fp32 with the fp32
 * cos/sin tables [T, d/2]. The backward rotates by −θ (the transpose).
 *
 * Two kernels sharing rope_pair(): the vectorised one gives each thread 8
 * consecutive pairs (i … i+7 with i + d/2 … i+7 + d/2: two 16-byte bf16 loads
 * and stores, four float4 table loads) when d % 16 == 0 and x, cos, sin are
 * 16-byte aligned; the scalar one (a thread per pair) serves the rest. Same
 * per-element arithmetic, same bits. */
#include "backend/cuda/cuda_internal.h"
#include "backend/cuda/cuda_vec.h"

/* (a, b) rotated by the angle whose cosine is c and (signed) sine is s. */
__device__ inline void rope_pair(float a, float b, float c, float s, float *na, float *nb) {
    *na = a * c - b * s;
    *nb = b * c + a * s;
}

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
        float na, nb;
        rope_pair(__bfloat162float(v[i]), __bfloat162float(v[i + half]), c, s, &na, &nb);
        v[i] = __float2bfloat16(na);
        v[i + half] = __float2bfloat16(nb);
    }
}

/* One thread per 8 pairs: group q covers i = 8·(q mod d/16) … +7 of row q / (d/16). */
__global__ void rope_vec_kernel(__nv_bfloat16 *x, const float *cos, const float *sin, int T, int n_heads, int d,
                                float dir) {
    int half = d / 2, g8 = half / 8;
    size_t n = (size_t)T * n_heads * g8;
    for (size_t q = (size_t)blockIdx.x * blockDim.x + threadIdx.x; q < n; q += (size_t)gridDim.x * blockDim.x) {
        int i = (int)(q % g8) * 8;
        size_t row = q / g8; /* t·n_heads + head */
        int t = (int)(row / n_heads);
        __nv_bfloat16 *v = x + row * d; // [d]
        float a[8], b[8], c[8], s[8];
        ya_load8(a, v + i);
        ya_load8(b, v + i + half);
        ya_load8_f32(c, cos + (size_t)t * half + i);
        ya_load8_f32(s, sin + (size_t)t * half + i);
#pragma unroll
        for (int k = 0; k < 8; k++) rope_pair(a[k], b[k], c[k], dir * s[k], &a[k], &b[k]);
        ya_store8(v + i, a);
        ya_store8(v + i + half, b);
    }
}

static void launch(YaCudaCtx *ctx, YaBf16 *x, const float *cos, const float *sin, int T, int n_heads, int d,
                   float dir) {
    if (ctx->failed || T <= 0) return;
    if (d % 2) {
        ya_cuda_fail(ctx, "cuda rope: head dim %d is odd (rotate-half needs an even d)", d);
        return;
    }
    if (d % 16 == 0 && ya_aligned16(x) && ya_aligned16(cos) && ya_aligned16(sin)) {
        size_t n = (size_t)T * n_heads * (d / 16);
        rope_vec_kernel<<<ya_cuda_blocks(n, 256), 256, 0, ctx->stream>>>(as_bf(x), cos, sin, T, n_heads, d, dir);
    } else {
        size_t n = (size_t)T * n_heads * (d / 2);
        rope_kernel<<<ya_cuda_blocks(n, 256), 256, 0, ctx->stream>>>(as_bf(x), cos, sin, T, n_heads, d, dir);
    }
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

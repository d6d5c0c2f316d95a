/* cuda_activation.cu — SwiGLU (silu(gate) ⊙ up) forward and backward and the
 * residual add, a bf16 scale (the LoRA s·u) and the LoRA dropout mask (the CUDA
 * twin of cpu_activation.c + cpu_activation_backward.c). bf16 storage, fp32
 * arithmetic; gradients accumulate (+=) like the CPU ops, except
 * swiglu_backward_set, which writes them (fresh buffers in the training graph).
 *
 * Each op has two kernels sharing one per-element function (so they compute
 * the same float expression and write the same bits):
 *   - the vectorised kernel: 8 elements per thread per step through 16-byte
 *     loads and stores (cuda_vec.h), elements [8·⌊n/8⌋, n) by the first
 *     threads of the grid one at a time;
 *   - the scalar kernel, one element per thread, used when any pointer is not
 *     16-byte aligned (an odd-offset view). */
#include "backend/cuda/cuda_internal.h"
#include "backend/cuda/cuda_vec.h"

#define GRID_STRIDE(i, n) \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

/* The scalar tail of a vectorised kernel: elements 8·n8 … n − 1 (fewer than 8),
 * element 8·n8 + j by the grid's thread j. The body runs at most once. */
#define VEC_TAIL(i, n8, n) \
    for (size_t i = (n8) * 8 + (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i = (n))

enum { ACT_THREADS = 256 };

/* ---- per-element arithmetic (shared by both kernels of an op) ---------------- */

/* silu(g)·u with silu(g) = g·σ(g) = g / (1 + e^−g). */
__device__ inline float swiglu_elem(float g, float u) { return g / (1.0f + expf(-g)) * u; }

/* dgate = d·u·silu'(g), dup = d·silu(g), silu'(g) = σ·(1 + g·(1 − σ)); expf
 * overflow → σ = 0, still exact. Written with round-to-nearest intrinsics so
 * the compiler cannot contract a multiply and the following add into an FMA
 * in one kernel and not in the other (seen on the H200: the accumulating op's
 * vectorised and scalar kernels then differed in the last bit). */
__device__ inline void swiglu_grad(float d, float g, float u, float *dg, float *du) {
    float sig = 1.0f / (1.0f + expf(-g));
    float dsilu = __fmul_rn(sig, __fadd_rn(1.0f, __fmul_rn(g, __fsub_rn(1.0f, sig))));
    *dg = __fmul_rn(__fmul_rn(d, u), dsilu);
    *du = __fmul_rn(d, __fmul_rn(g, sig));
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

__device__ inline float dropout_elem(float x, float u, float p, float keep_scale) {
    return u < p ? 0.0f : x * keep_scale;
}

/* ---- swiglu ------------------------------------------------------------------------ */

__global__ void swiglu_kernel(__nv_bfloat16 *out, const __nv_bfloat16 *gate, const __nv_bfloat16 *up, size_t n) {
    GRID_STRIDE(i, n) out[i] = __float2bfloat16(swiglu_elem(__bfloat162float(gate[i]), __bfloat162float(up[i])));
}

__global__ void swiglu_vec_kernel(__nv_bfloat16 *out, const __nv_bfloat16 *gate, const __nv_bfloat16 *up, size_t n) {
    size_t n8 = n / 8;
    GRID_STRIDE(v, n8) {
        float g[8], u[8], o[8]; // one 16-byte group of each
        ya_load8(g, gate + 8 * v);
        ya_load8(u, up + 8 * v);
#pragma unroll
        for (int k = 0; k < 8; k++) o[k] = swiglu_elem(g[k], u[k]);
        ya_store8(out + 8 * v, o);
    }
    VEC_TAIL(i, n8, n) out[i] = __float2bfloat16(swiglu_elem(__bfloat162float(gate[i]), __bfloat162float(up[i])));
}

extern "C" void ya_cuda_swiglu(YaCudaCtx *ctx, YaBf16 *out, const YaBf16 *gate, const YaBf16 *up, size_t n) {
    if (ctx->failed || !n) return;
    if (ya_aligned16(out) && ya_aligned16(gate) && ya_aligned16(up))
        swiglu_vec_kernel<<<ya_cuda_blocks(n / 8, ACT_THREADS), ACT_THREADS, 0, ctx->stream>>>(as_bf(out), as_bf(gate),
                                                                                                as_bf(up), n);
    else
        swiglu_kernel<<<ya_cuda_blocks(n, ACT_THREADS), ACT_THREADS, 0, ctx->stream>>>(as_bf(out), as_bf(gate),
                                                                                        as_bf(up), n);
    CUDA_CHECK_LAUNCH(ctx);
}

/* ---- swiglu backward: SET writes dgate, dup (both non-NULL); otherwise += into the non-NULL ones */

template <bool SET>
__device__ inline void swiglu_backward_one(__nv_bfloat16 *dgate, __nv_bfloat16 *dup, const __nv_bfloat16 *dout,
                                           const __nv_bfloat16 *gate, const __nv_bfloat16 *up, size_t i) {
    float dg, du;
    swiglu_grad(__bfloat162float(dout[i]), __bfloat162float(gate[i]), __bfloat162float(up[i]), &dg, &du);
    if (SET) {
        dgate[i] = __float2bfloat16(dg);
        dup[i] = __float2bfloat16(du);
    } else {
        if (dgate) dgate[i] = __float2bfloat16(__fadd_rn(__bfloat162float(dgate[i]), dg));
        if (dup) dup[i] = __float2bfloat16(__fadd_rn(__bfloat162float(dup[i]), du));
    }
}

template <bool SET>
__global__ void swiglu_backward_kernel(__nv_bfloat16 *dgate, __nv_bfloat16 *dup, const __nv_bfloat16 *dout,
                                       const __nv_bfloat16 *gate, const __nv_bfloat16 *up, size_t n) {
    GRID_STRIDE(i, n) swiglu_backward_one<SET>(dgate, dup, dout, gate, up, i);
}

template <bool SET>
__global__ void swiglu_backward_vec_kernel(__nv_bfloat16 *dgate, __nv_bfloat16 *dup, const __nv_bfloat16 *dout,
                                           const __nv_bfloat16 *gate, const __nv_bfloat16 *up, size_t n) {
    size_t n8 = n / 8;
    GRID_STRIDE(v, n8) {
        float d[8], g[8], u[8], dg[8], du[8]; // one 16-byte group of each
        ya_load8(d, dout + 8 * v);
        ya_load8(g, gate + 8 * v);
        ya_load8(u, up + 8 * v);
#pragma unroll
        for (int k = 0; k < 8; k++) swiglu_grad(d[k], g[k], u[k], &dg[k], &du[k]);
        if (SET) {
            ya_store8(dgate + 8 * v, dg);
            ya_store8(dup + 8 * v, du);
        } else {
            float old[8];
            if (dgate) {
                ya_load8(old, dgate + 8 * v);
#pragma unroll
                for (int k = 0; k < 8; k++) old[k] = __fadd_rn(old[k], dg[k]);
                ya_store8(dgate + 8 * v, old);
            }
            if (dup) {
                ya_load8(old, dup + 8 * v);
#pragma unroll
                for (int k = 0; k < 8; k++) old[k] = __fadd_rn(old[k], du[k]);
                ya_store8(dup + 8 * v, old);
            }
        }
    }
    VEC_TAIL(i, n8, n) swiglu_backward_one<SET>(dgate, dup, dout, gate, up, i);
}

template <bool SET>
static void swiglu_backward_launch(YaCudaCtx *ctx, YaBf16 *dgate, YaBf16 *dup, const YaBf16 *dout,
                                   const YaBf16 *gate, const YaBf16 *up, size_t n) {
    if (ya_aligned16(dgate) && ya_aligned16(dup) && ya_aligned16(dout) && ya_aligned16(gate) && ya_aligned16(up))
        swiglu_backward_vec_kernel<SET><<<ya_cuda_blocks(n / 8, ACT_THREADS), ACT_THREADS, 0, ctx->stream>>>(
            as_bf(dgate), as_bf(dup), as_bf(dout), as_bf(gate), as_bf(up), n);
    else
        swiglu_backward_kernel<SET><<<ya_cuda_blocks(n, ACT_THREADS), ACT_THREADS, 0, ctx->stream>>>(
            as_bf(dgate), as_bf(dup), as_bf(dout), as_bf(gate), as_bf(up), n);
    CUDA_CHECK_LAUNCH(ctx);
}

extern "C" void ya_cuda_swiglu_backward(YaCudaCtx *ctx, YaBf16 *dgate, YaBf16 *dup, const YaBf16 *dout,
                                        const YaBf16 *gate, const YaBf16 *up, size_t n) {
    if (ctx->failed || !n || (!dgate && !dup)) return;
    swiglu_backward_launch<false>(ctx, dgate, dup, dout, gate, up, n);
}

extern "C" void ya_cuda_swiglu_backward_set(YaCudaCtx *ctx, YaBf16 *dgate, YaBf16 *dup, const YaBf16 *dout,
                                            const YaBf16 *gate, const YaBf16 *up, size_t n) {
    if (ctx->failed || !n) return;
    if (!dgate || !dup) {
        ya_cuda_fail(ctx, "cuda swiglu_backward_set: dgate and dup must both be given (got %s NULL)",
                     !dgate && !dup ? "both" : !dgate ? "dgate" : "dup");
        return;
    }
    swiglu_backward_launch<true>(ctx, dgate, dup, dout, gate, up, n);
}

/* ---- add, scale ----------------------------------------------------------------------- */

__global__ void add_kernel(__nv_bfloat16 *y, const __nv_bfloat16 *x, size_t n) {
    GRID_STRIDE(i, n) y[i] = __float2bfloat16(__bfloat162float(y[i]) + __bfloat162float(x[i]));
}

__global__ void add_vec_kernel(__nv_bfloat16 *y, const __nv_bfloat16 *x, size_t n) {
    size_t n8 = n / 8;
    GRID_STRIDE(v, n8) {
        float a[8], b[8];
        ya_load8(a, y + 8 * v);
        ya_load8(b, x + 8 * v);
#pragma unroll
        for (int k = 0; k < 8; k++) a[k] = a[k] + b[k];
        ya_store8(y + 8 * v, a);
    }
    VEC_TAIL(i, n8, n) y[i] = __float2bfloat16(__bfloat162float(y[i]) + __bfloat162float(x[i]));
}

extern "C" void ya_cuda_add(YaCudaCtx *ctx, YaBf16 *y, const YaBf16 *x, size_t n) {
    if (ctx->failed || !n) return;
    if (ya_aligned16(y) && ya_aligned16(x))
        add_vec_kernel<<<ya_cuda_blocks(n / 8, ACT_THREADS), ACT_THREADS, 0, ctx->stream>>>(as_bf(y), as_bf(x), n);
    else
        add_kernel<<<ya_cuda_blocks(n, ACT_THREADS), ACT_THREADS, 0, ctx->stream>>>(as_bf(y), as_bf(x), n);
    CUDA_CHECK_LAUNCH(ctx);
}

__global__ void scale_kernel(__nv_bfloat16 *x, size_t n, float s) {
    GRID_STRIDE(i, n) x[i] = __float2bfloat16(__bfloat162float(x[i]) * s);
}

__global__ void scale_vec_kernel(__nv_bfloat16 *x, size_t n, float s) {
    size_t n8 = n / 8;
    GRID_STRIDE(v, n8) {
        float a[8];
        ya_load8(a, x + 8 * v);
#pragma unroll
        for (int k = 0; k < 8; k++) a[k] = a[k] * s;
        ya_store8(x + 8 * v, a);
    }
    VEC_TAIL(i, n8, n) x[i] = __float2bfloat16(__bfloat162float(x[i]) * s);
}

extern "C" void ya_cuda_scale(YaCudaCtx *ctx, YaBf16 *x, size_t n, float s) {
    if (ctx->failed || !n) return;
    if (ya_aligned16(x))
        scale_vec_kernel<<<ya_cuda_blocks(n / 8, ACT_THREADS), ACT_THREADS, 0, ctx->stream>>>(as_bf(x), n, s);
    else
        scale_kernel<<<ya_cuda_blocks(n, ACT_THREADS), ACT_THREADS, 0, ctx->stream>>>(as_bf(x), n, s);
    CUDA_CHECK_LAUNCH(ctx);
}

/* ---- dropout ------------------------------------------------------------------------- */

__global__ void dropout_kernel(__nv_bfloat16 *dst, const __nv_bfloat16 *src, size_t M, size_t K, float p,
                               uint64_t key) {
    float keep_scale = 1.0f / (1.0f - p);
    GRID_STRIDE(i, M * K) {
        float u = dropout_uniform(key, i / K, i % K);
        dst[i] = __float2bfloat16(dropout_elem(__bfloat162float(src[i]), u, p, keep_scale));
    }
}

/* Elements 8v … 8v+7 may cross a row end (K % 8 ≠ 0): (row, col) is stepped
 * one element at a time from 8v's, giving each element its own i / K, i % K. */
__global__ void dropout_vec_kernel(__nv_bfloat16 *dst, const __nv_bfloat16 *src, size_t M, size_t K, float p,
                                   uint64_t key) {
    float keep_scale = 1.0f / (1.0f - p);
    size_t n = M * K, n8 = n / 8;
    GRID_STRIDE(v, n8) {
        float a[8];
        ya_load8(a, src + 8 * v);
        size_t row = 8 * v / K, col = 8 * v % K;
#pragma unroll
        for (int k = 0; k < 8; k++) {
            a[k] = dropout_elem(a[k], dropout_uniform(key, row, col), p, keep_scale);
            if (++col == K) col = 0, row++;
        }
        ya_store8(dst + 8 * v, a);
    }
    VEC_TAIL(i, n8, n) {
        float u = dropout_uniform(key, i / K, i % K);
        dst[i] = __float2bfloat16(dropout_elem(__bfloat162float(src[i]), u, p, keep_scale));
    }
}

extern "C" void ya_cuda_dropout(YaCudaCtx *ctx, YaBf16 *dst, const YaBf16 *src, int M, int K, float p, uint64_t key) {
    if (ctx->failed || M <= 0 || K <= 0) return;
    size_t n = (size_t)M * K;
    if (ya_aligned16(dst) && ya_aligned16(src))
        dropout_vec_kernel<<<ya_cuda_blocks(n / 8, ACT_THREADS), ACT_THREADS, 0, ctx->stream>>>(
            as_bf(dst), as_bf(src), (size_t)M, (size_t)K, p, key);
    else
        dropout_kernel<<<ya_cuda_blocks(n, ACT_THREADS), ACT_THREADS, 0, ctx->stream>>>(as_bf(dst), as_bf(src),
                                                                                         (size_t)M, (size_t)K, p, key);
    CUDA_CHECK_LAUNCH(ctx);
}

/* cuda_attention.cu — causal grouped-query attention, forward and backward
 * (the CUDA twin of cpu_attention.c + cpu_attention_backward.c): the op
 * table's entries, which check the shape and choose an implementation, and
 * the memory-efficient warp reference: no [T × Tk] score or probability
 * matrix is ever stored. The forward keeps, per (head, row), only the log-sum-exp
 * lse [n_h, T] (fp32); the backward recomputes P = exp(scale·q·k − lse).
 *
 * One warp per (query row, head) in the forward and for dq; one warp per
 * (key row, kv head) for dk/dv, walking its n_rep query heads and the rows
 * that see the key in a fixed order: no atomics, bitwise repeatable. Lane l
 * holds elements l, l+32, … of a head vector (d = 32·R, R a template
 * constant so the vectors stay in registers); dot products are xor-shuffle
 * all-reduces, identical in every lane. Online softmax as in FlashAttention.
 * The reference runs where the flash kernels (cuda_flash_attention.cu, tensor
 * cores) do not: head dims other than 64/128, fewer than FLASH_MIN_ROWS query
 * rows (decoding: one row per head, where a 64-row tile would be mostly
 * padding), operands not 16-byte aligned. Both are tested against the CPU op
 * (tests/cuda/test_cuda_ops.c). */
#include <math.h>
#include <stdint.h>

#include "backend/cuda/cuda_attention.h"
#include "backend/cuda/cuda_internal.h"

/* Query rows from which the flash kernels take over (their tile is 64 rows). */
enum { FLASH_MIN_ROWS = 16 };

enum { ATT_WARPS = 4 };

__device__ inline float warp_allsum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

template <int R>
__device__ inline void load_vec(float (&r)[R], const __nv_bfloat16 *p, int lane) {
#pragma unroll
    for (int i = 0; i < R; i++) r[i] = __bfloat162float(p[lane + 32 * i]);
}

template <int R>
__device__ inline float dot_vec(const float (&a)[R], const __nv_bfloat16 *b, int lane) {
    float s = 0.0f;
#pragma unroll
    for (int i = 0; i < R; i++) s += a[i] * __bfloat162float(b[lane + 32 * i]);
    return warp_allsum(s);
}

template <int R>
__device__ inline float dot_regs(const float (&a)[R], const float (&b)[R]) {
    float s = 0.0f;
#pragma unroll
    for (int i = 0; i < R; i++) s += a[i] * b[i];
    return warp_allsum(s);
}

/* out [T, n_h·d] bf16, lse [n_h, T] fp32; q [T, n_h·d], k/v [Tk, n_kv·d] bf16. */
template <int R>
__global__ void attention_fwd_kernel(__nv_bfloat16 *out, float *lse, const __nv_bfloat16 *q,
                                     const __nv_bfloat16 *k, const __nv_bfloat16 *v, int T, int pos0, int n_h,
                                     int n_kv, float scale) {
    const int d = 32 * R, lane = threadIdx.x & 31;
    int w = blockIdx.x * ATT_WARPS + (threadIdx.x >> 5);
    if (w >= T * n_h) return; /* whole warps leave together */
    int t = w / n_h, j = w % n_h, g = j / (n_h / n_kv);
    size_t q_stride = (size_t)n_h * d, kv_stride = (size_t)n_kv * d;
    float qr[R], o[R];
    load_vec<R>(qr, q + t * q_stride + (size_t)j * d, lane);
#pragma unroll
    for (int i = 0; i < R; i++) o[i] = 0.0f;
    float m = -INFINITY, l = 0.0f;
    int n_keys = pos0 + t + 1;
    for (int s = 0; s < n_keys; s++) {
        float sc = dot_vec<R>(qr, k + s * kv_stride + (size_t)g * d, lane) * scale;
        float m_new = fmaxf(m, sc);
        float corr = expf(m - m_new), p = expf(sc - m_new); /* corr = 0 on the first key */
        l = l * corr + p;
        const __nv_bfloat16 *vs = v + s * kv_stride + (size_t)g * d; // [d]
#pragma unroll
        for (int i = 0; i < R; i++) o[i] = o[i] * corr + p * __bfloat162float(vs[lane + 32 * i]);
        m = m_new;
    }
    float inv = 1.0f / l;
    __nv_bfloat16 *orow = out + t * q_stride + (size_t)j * d; // [d]
#pragma unroll
    for (int i = 0; i < R; i++) orow[lane + 32 * i] = __float2bfloat16(o[i] * inv);
    if (lane == 0) lse[(size_t)j * T + t] = m + logf(l);
}

/* dq [T, n_h·d] += scale·Σ_s P_s·(dout·v_s − D)·k_s with D = dout·out. */
template <int R>
__global__ void attention_dq_kernel(__nv_bfloat16 *dq, const __nv_bfloat16 *dout, const float *lse,
                                    const __nv_bfloat16 *out, const __nv_bfloat16 *q, const __nv_bfloat16 *k,
                                    const __nv_bfloat16 *v, int T, int pos0, int n_h, int n_kv, float scale) {
    const int d = 32 * R, lane = threadIdx.x & 31;
    int w = blockIdx.x * ATT_WARPS + (threadIdx.x >> 5);
    if (w >= T * n_h) return;
    int t = w / n_h, j = w % n_h, g = j / (n_h / n_kv);
    size_t q_stride = (size_t)n_h * d, kv_stride = (size_t)n_kv * d, row = t * q_stride + (size_t)j * d;
    float qr[R], go[R], gq[R];
    load_vec<R>(qr, q + row, lane);
    load_vec<R>(go, dout + row, lane);
#pragma unroll
    for (int i = 0; i < R; i++) gq[i] = 0.0f;
    float D = dot_vec<R>(go, out + row, lane), L = lse[(size_t)j * T + t];
    int n_keys = pos0 + t + 1;
    for (int s = 0; s < n_keys; s++) {
        const __nv_bfloat16 *ks = k + s * kv_stride + (size_t)g * d, *vs = v + s * kv_stride + (size_t)g * d;
        float p = expf(dot_vec<R>(qr, ks, lane) * scale - L);
        float ds = p * (dot_vec<R>(go, vs, lane) - D) * scale;
#pragma unroll
        for (int i = 0; i < R; i++) gq[i] += ds * __bfloat162float(ks[lane + 32 * i]);
    }
#pragma unroll
    for (int i = 0; i < R; i++) {
        __nv_bfloat16 *p = dq + row + lane + 32 * i;
        *p = __float2bfloat16(__bfloat162float(*p) + gq[i]);
    }
}

/* dk_s += scale·Σ_{j∈g, t} dS·q_t, dv_s += Σ_{j∈g, t} P·dout_t over the rows that see key s. */
template <int R>
__global__ void attention_dkdv_kernel(__nv_bfloat16 *dk, __nv_bfloat16 *dv, const __nv_bfloat16 *dout,
                                      const float *lse, const __nv_bfloat16 *out, const __nv_bfloat16 *q,
                                      const __nv_bfloat16 *k, const __nv_bfloat16 *v, int T, int Tk, int pos0,
                                      int n_h, int n_kv, float scale) {
    const int d = 32 * R, lane = threadIdx.x & 31;
    int w = blockIdx.x * ATT_WARPS + (threadIdx.x >> 5);
    if (w >= Tk * n_kv) return;
    int s = w / n_kv, g = w % n_kv, n_rep = n_h / n_kv;
    size_t q_stride = (size_t)n_h * d, kv_stride = (size_t)n_kv * d, krow = s * kv_stride + (size_t)g * d;
    float kr[R], vr[R], gk[R], gv[R];
    load_vec<R>(kr, k + krow, lane);
    load_vec<R>(vr, v + krow, lane);
#pragma unroll
    for (int i = 0; i < R; i++) gk[i] = gv[i] = 0.0f;
    int t_first = s - pos0 > 0 ? s - pos0 : 0; /* first query row that sees key s */
    for (int j = g * n_rep; j < (g + 1) * n_rep; j++) {
        for (int t = t_first; t < T; t++) {
            size_t row = t * q_stride + (size_t)j * d;
            float qr[R], go[R];
            load_vec<R>(qr, q + row, lane);
            load_vec<R>(go, dout + row, lane);
            float p = expf(dot_regs<R>(qr, kr) * scale - lse[(size_t)j * T + t]);
            float D = dot_vec<R>(go, out + row, lane);
            float ds = p * (dot_regs<R>(go, vr) - D) * scale;
#pragma unroll
            for (int i = 0; i < R; i++) {
                gv[i] += p * go[i];
                gk[i] += ds * qr[i];
            }
        }
    }
#pragma unroll
    for (int i = 0; i < R; i++) {
        size_t o = krow + lane + 32 * i;
        if (dk) dk[o] = __float2bfloat16(__bfloat162float(dk[o]) + gk[i]);
        if (dv) dv[o] = __float2bfloat16(__bfloat162float(dv[o]) + gv[i]);
    }
}

static int check_shape(YaCudaCtx *ctx, const char *op, int T, int Tk, int pos0, int n_h, int n_kv, int d) {
    if (d % 32 || d < 32 || d > 256) {
        ya_cuda_fail(ctx, "%s: head dim %d unsupported (a multiple of 32, at most 256)", op, d);
        return 0;
    }
    if (n_kv <= 0 || n_h % n_kv) {
        ya_cuda_fail(ctx, "%s: %d query heads are not a multiple of %d kv heads", op, n_h, n_kv);
        return 0;
    }
    if (Tk < pos0 + T) {
        ya_cuda_fail(ctx, "%s: %d keys cannot cover positions up to %d", op, Tk, pos0 + T - 1);
        return 0;
    }
    return 1;
}

#define ATT_DISPATCH(d, KERNEL, GRID, ...)                                                           \
    switch ((d) / 32) {                                                                              \
    case 1: KERNEL<1><<<GRID, ATT_WARPS * 32, 0, ctx->stream>>>(__VA_ARGS__); break;                 \
    case 2: KERNEL<2><<<GRID, ATT_WARPS * 32, 0, ctx->stream>>>(__VA_ARGS__); break;                 \
    case 3: KERNEL<3><<<GRID, ATT_WARPS * 32, 0, ctx->stream>>>(__VA_ARGS__); break;                 \
    case 4: KERNEL<4><<<GRID, ATT_WARPS * 32, 0, ctx->stream>>>(__VA_ARGS__); break;                 \
    case 5: KERNEL<5><<<GRID, ATT_WARPS * 32, 0, ctx->stream>>>(__VA_ARGS__); break;                 \
    case 6: KERNEL<6><<<GRID, ATT_WARPS * 32, 0, ctx->stream>>>(__VA_ARGS__); break;                 \
    case 7: KERNEL<7><<<GRID, ATT_WARPS * 32, 0, ctx->stream>>>(__VA_ARGS__); break;                 \
    default: KERNEL<8><<<GRID, ATT_WARPS * 32, 0, ctx->stream>>>(__VA_ARGS__); break;                \
    }

extern "C" void ya_cuda_attention_reference(YaCudaCtx *ctx, YaBf16 *out, float *lse, const YaBf16 *q,
                                            const YaBf16 *k, const YaBf16 *v, int T, int Tk, int pos0, int n_h,
                                            int n_kv, int d) {
    if (ctx->failed || T <= 0 || !check_shape(ctx, "cuda attention", T, Tk, pos0, n_h, n_kv, d)) return;
    unsigned grid = (unsigned)(((size_t)T * n_h + ATT_WARPS - 1) / ATT_WARPS);
    float scale = 1.0f / sqrtf((float)d);
    ATT_DISPATCH(d, attention_fwd_kernel, grid, as_bf(out), lse, as_bf(q), as_bf(k), as_bf(v), T, pos0, n_h, n_kv,
                 scale);
    CUDA_CHECK_LAUNCH(ctx);
}

extern "C" void ya_cuda_attention_backward_reference(YaCudaCtx *ctx, YaBf16 *dq, YaBf16 *dk, YaBf16 *dv,
                                                     const YaBf16 *dout, const float *lse, const YaBf16 *out,
                                                     const YaBf16 *q, const YaBf16 *k, const YaBf16 *v, int T, int Tk,
                                                     int pos0, int n_h, int n_kv, int d) {
    if (ctx->failed || T <= 0 || !check_shape(ctx, "cuda attention_backward", T, Tk, pos0, n_h, n_kv, d)) return;
    float scale = 1.0f / sqrtf((float)d);
    if (dq) {
        unsigned grid = (unsigned)(((size_t)T * n_h + ATT_WARPS - 1) / ATT_WARPS);
        ATT_DISPATCH(d, attention_dq_kernel, grid, as_bf(dq), as_bf(dout), lse, as_bf(out), as_bf(q), as_bf(k),
                     as_bf(v), T, pos0, n_h, n_kv, scale);
        CUDA_CHECK_LAUNCH(ctx);
    }
    if (dk || dv) {
        unsigned grid = (unsigned)(((size_t)Tk * n_kv + ATT_WARPS - 1) / ATT_WARPS);
        ATT_DISPATCH(d, attention_dkdv_kernel, grid, as_bf(dk), as_bf(dv), as_bf(dout), lse, as_bf(out), as_bf(q),
                     as_bf(k), as_bf(v), T, Tk, pos0, n_h, n_kv, scale);
        CUDA_CHECK_LAUNCH(ctx);
    }
}

/* The flash kernels read and write 16-byte chunks of rows (and bf16 pairs). */
static int aligned16(const void *p) { return p == NULL || ((uintptr_t)p & 15u) == 0; }

static int use_flash(int T, int d, const void *a, const void *b, const void *c, const void *e, const void *f,
                     const void *g) {
    return ya_cuda_flash_attention_head_dim_ok(d) && T >= FLASH_MIN_ROWS && aligned16(a) && aligned16(b) &&
           aligned16(c) && aligned16(e) && aligned16(f) && aligned16(g);
}

extern "C" void ya_cuda_attention(YaCudaCtx *ctx, YaBf16 *out, float *lse, const YaBf16 *q, const YaBf16 *k,
                                  const YaBf16 *v, int T, int Tk, int pos0, int n_h, int n_kv, int d) {
    if (ctx->failed || T <= 0 || !check_shape(ctx, "cuda attention", T, Tk, pos0, n_h, n_kv, d)) return;
    if (use_flash(T, d, out, q, k, v, NULL, NULL))
        ya_cuda_flash_attention(ctx, out, lse, q, k, v, T, Tk, pos0, n_h, n_kv, d);
    else
        ya_cuda_attention_reference(ctx, out, lse, q, k, v, T, Tk, pos0, n_h, n_kv, d);
}

extern "C" void ya_cuda_attention_backward(YaCudaCtx *ctx, YaBf16 *dq, YaBf16 *dk, YaBf16 *dv, const YaBf16 *dout,
                                           const float *lse, const YaBf16 *out, const YaBf16 *q, const YaBf16 *k,
                                           const YaBf16 *v, int T, int Tk, int pos0, int n_h, int n_kv, int d) {
    if (ctx->failed || T <= 0 || !check_shape(ctx, "cuda attention_backward", T, Tk, pos0, n_h, n_kv, d)) return;
    /* Same choice as the forward for the same shape (out is the forward's output). */
    if (use_flash(T, d, out, q, k, v, dout, dq) && aligned16(dk) && aligned16(dv))
        ya_cuda_flash_attention_backward(ctx, dq, dk, dv, dout, lse, out, q, k, v, T, Tk, pos0, n_h, n_kv, d);
    else
        ya_cuda_attention_backward_reference(ctx, dq, dk, dv, dout, lse, out, q, k, v, T, Tk, pos0, n_h, n_kv, d);
}

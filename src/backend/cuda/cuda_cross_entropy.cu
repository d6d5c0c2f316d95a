/* cuda_cross_entropy.cu — lm_head fused with masked, weighted cross-entropy,
 * blocked over rows (the CUDA twin of cpu_cross_entropy.c; the algorithm and
 * its notation are described there).
 *
 * Rows go in blocks of Tb (ce_rows below). Per block of nr ≤ Tb rows:
 *   1. logits [nr, V] fp32 = x_blk · Wᵀ: one cuBLASLt GEMM, bf16 operands,
 *      fp32 accumulation and output;
 *   2. one row kernel (a thread block per row): max and Σ e^(l − max) in one
 *      online pass, log-sum-exp, nll, and — with a gradient — the row's
 *      dlogits = ω·(softmax − onehot) rounded to bf16 and written IN PLACE over
 *      the first half of the row's own fp32 logits (so the bf16 copy costs no
 *      memory; the GEMMs read it with leading dimension 2·ld);
 *   3. dx_tmp [nr, h] fp32 = dlogits · W (one GEMM over the full V), added to
 *      the caller's bf16 dx once — each dx element is rounded to bf16 once, as
 *      before;
 *   4. dW [V, h] fp32 += dlogitsᵀ · x_blk (only when dw ≠ NULL).
 * So 2 GEMMs of [T, h, V] per step with LoRA (logits, dx), 3 with a trained
 * head, where the vocabulary-chunked version recomputed the logits (3 and 4).
 * The [T, V] logits never exist: the largest buffer is [Tb, V].
 *
 * Why Tb ≥ CE_MIN_ROWS: every block's GEMMs stream all of W (V·h bf16) from
 * memory, 2·Tb FLOP per byte of W; below ~256 rows that is under the H100's
 * FLOP/byte ridge (~790 TFLOP/s over ~3.3 TB/s) and the GEMMs become bound by
 * reading W. 512 rows keep them compute-bound with a margin.
 *
 * No atomics: the loss is summed in double in row order, every row reduction
 * uses a fixed tree, dW accumulates the blocks in order. Rows with ω = 0 are
 * unsupervised: their target is not read and their dlogits are 0. */
#include <math.h>
#include <stdint.h>

#include "backend/cuda/cuda_internal.h"

enum {
    CE_THREADS = 512,   /* row kernel: a block per row */
    CE_MIN_ROWS = 512,  /* rows per block at least (or T): keeps the GEMMs compute-bound (header) */
    CE_LOSS_THREADS = 1024,
};

/* Scratch sections are rounded to 64 floats so each starts 256-byte aligned. */
static size_t round64(size_t n) { return (n + 63) / 64 * 64; }

/* Leading dimension of the logits block: V rounded up to 8 floats, so each row
 * starts 32-byte aligned (float4 loads, aligned GEMM operands) and its bf16
 * dlogits (ld 2·ld bf16) too. */
static int ce_ld(int V) { return (V + 7) / 8 * 8; }

/* Rows per block: the [Tb, V] logits take what T·chunk floats would (the CPU's
 * rule), at least CE_MIN_ROWS, at most T, rounded down to a multiple of 64. */
static int ce_rows(int T, int V, int chunk) {
    if (chunk <= 0 || chunk > V) chunk = V;
    long long tb = (long long)T * chunk / V;
    if (tb < CE_MIN_ROWS) tb = CE_MIN_ROWS;
    if (tb >= T) return T;
    return (int)(tb / 64 * 64); /* tb ≥ CE_MIN_ROWS ≥ 64 here */
}

extern "C" size_t ya_cuda_cross_entropy_scratch(int T, int h, int V, int chunk) {
    if (T <= 0 || V <= 0) return 64;
    size_t tb = (size_t)ce_rows(T, V, chunk);
    return round64(tb * ce_ld(V)) + round64(tb * h) + round64((size_t)T) + 64;
}

/* One block per row of the logits block. Reads the row's fp32 logits l [ld]
 * (columns ≥ V are padding, never read as values), writes nll_tmp / nll for
 * the row and, when grad, the bf16 dlogits [V] over the row's first half.
 *
 * In place, safely: the row is walked in segments of one float4 per thread;
 * each segment's float4s are read, then (after a barrier) its bf16 results
 * written. The writes of segment k land on fp32 elements below the end of
 * segment k (bf16 index j sits on fp32 index j/2), so they only touch values
 * already read, and never those of a later segment. */
__global__ void ce_row_kernel(float *logits, int ld, int V, const int32_t *targets, const float *weight,
                              float *nll_tmp, float *nll, int grad) {
    __shared__ float red[32];
    int row = blockIdx.x;
    float *l = logits + (size_t)row * ld;                       // [ld] fp32 logits of this row
    const float4 *l4 = reinterpret_cast<const float4 *>(l);     // [ld/4]
    __nv_bfloat162 *dl2 = reinterpret_cast<__nv_bfloat162 *>(l); // [ld/2] pairs: bf16 dlogits over the first half
    int n4 = ld / 4;
    float wt = weight[row];
    if (wt == 0.0f) { /* unsupervised: nll 0, dlogits 0; the whole block leaves together */
        if (threadIdx.x == 0) {
            nll_tmp[row] = 0.0f;
            if (nll) nll[row] = 0.0f;
        }
        if (grad) {
            __nv_bfloat162 z = __floats2bfloat162_rn(0.0f, 0.0f);
            for (int q = threadIdx.x; q < n4; q += blockDim.x) dl2[2 * q] = z, dl2[2 * q + 1] = z;
        }
        return;
    }
    int tg = targets[row];
    /* read before any barrier: no thread writes this row before the first one */
    float target_logit = threadIdx.x == 0 ? l[tg] : 0.0f;

    /* max and Σ e^(l − max) in one pass: each thread keeps its own running pair */
    float m = -INFINITY, s = 0.0f;
    for (int q = threadIdx.x; q < n4; q += blockDim.x) {
        float4 v = l4[q];
        float a[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
        for (int c = 0; c < 4; c++) {
            if (4 * q + c >= V) break;
            if (a[c] > m) {
                s = s * expf(m - a[c]) + 1.0f; /* exp(−inf) = 0 on the first element */
                m = a[c];
            } else {
                s += expf(a[c] - m);
            }
        }
    }
    float row_max = ya_block_max(m, red);
    float part = m == -INFINITY ? 0.0f : s * expf(m - row_max); /* threads that saw no column */
    float lse = row_max + logf(ya_block_sum(part, red));
    if (threadIdx.x == 0) {
        float v = lse - target_logit;
        nll_tmp[row] = v;
        if (nll) nll[row] = v;
    }
    if (!grad) return;

    /* dlogits = ω·(e^(l − lse) − onehot), in place (see above); ya_block_sum's
     * barriers ended every read of the first pass */
    for (int q0 = 0; q0 < n4; q0 += blockDim.x) { /* uniform trip count: the barrier below is reached by all */
        int q = q0 + threadIdx.x;
        float d[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        if (q < n4) {
            float4 v = l4[q];
            float a[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
            for (int c = 0; c < 4; c++) {
                int j = 4 * q + c;
                if (j < V) {
                    d[c] = wt * expf(a[c] - lse);
                    if (j == tg) d[c] -= wt;
                }
            }
        }
        __syncthreads(); /* the segment is read before any of it is overwritten */
        if (q < n4) {
            dl2[2 * q] = __floats2bfloat162_rn(d[0], d[1]);
            dl2[2 * q + 1] = __floats2bfloat162_rn(d[2], d[3]);
        }
    }
}

/* Σ_t ω_t·nll_t in double, rows in order (as the CPU): the block stages the
 * products in shared memory, one thread adds them in order. */
__global__ void ce_loss_kernel(const float *nll_tmp, const float *weight, int T, double *loss) {
    __shared__ double prod[CE_LOSS_THREADS];
    double acc = 0.0;
    for (int t0 = 0; t0 < T; t0 += CE_LOSS_THREADS) {
        int t = t0 + threadIdx.x;
        prod[threadIdx.x] = t < T && weight[t] != 0.0f ? (double)weight[t] * nll_tmp[t] : 0.0;
        __syncthreads();
        if (threadIdx.x == 0) {
            int n = T - t0 < CE_LOSS_THREADS ? T - t0 : CE_LOSS_THREADS;
            for (int i = 0; i < n; i++)
                if (weight[t0 + i] != 0.0f) acc += prod[i];
        }
        __syncthreads(); /* prod is refilled next round */
    }
    if (threadIdx.x == 0) *loss = acc;
}

/* dx [n] (bf16) += acc [n] (fp32): the block's one rounding of its dx rows. */
__global__ void ce_add_dx_kernel(__nv_bfloat16 *dx, const float *acc, size_t n) {
    for (size_t p = (size_t)blockIdx.x * blockDim.x + threadIdx.x; p < n; p += (size_t)gridDim.x * blockDim.x)
        dx[p] = __float2bfloat16(__bfloat162float(dx[p]) + acc[p]);
}

extern "C" double ya_cuda_cross_entropy(YaCudaCtx *ctx, float *nll, YaBf16 *dx, float *dw, const YaBf16 *x,
                                        const void *w, YaDtype dt, const int32_t *targets, const float *weight, int T,
                                        int h, int V, int chunk, float *scratch) {
    if (ctx->failed) return NAN;
    if (T <= 0) return 0.0;
    if (dt != YA_DTYPE_BF16) {
        ya_cuda_fail(ctx, "cuda cross_entropy: unsupported lm_head dtype %s (BF16; the activations are bf16)",
                     ya_dtype_name(dt));
        return NAN;
    }
    if ((uintptr_t)scratch % 16 != 0) {
        ya_cuda_fail(ctx, "cuda cross_entropy: scratch %p is not 16-byte aligned (take it from the arena)",
                     (void *)scratch);
        return NAN;
    }
    int Tb = ce_rows(T, V, chunk), ld = ce_ld(V), grad = dx || dw;
    float *logits = scratch;                                         // [Tb, ld] fp32; bf16 dlogits [Tb, 2·ld] in place
    float *dx_tmp = logits + round64((size_t)Tb * ld);              // [Tb, h] one block's dx in fp32
    float *nll_tmp = dx_tmp + round64((size_t)Tb * h);              // [T] per-row loss (0 when unsupervised)
    double *loss_dev = (double *)(nll_tmp + round64((size_t)T));    // [1]
    const __nv_bfloat16 *wb = (const __nv_bfloat16 *)w;              // [V, h]
    const __nv_bfloat16 *xb = as_bf(x);                              // [T, h]
    const __nv_bfloat16 *dlogits = (const __nv_bfloat16 *)logits;    // [Tb, 2·ld] bf16, first V of each row

    for (int r0 = 0; r0 < T && !ctx->failed; r0 += Tb) {
        int nr = T - r0 < Tb ? T - r0 : Tb;
        const __nv_bfloat16 *x_blk = xb + (size_t)r0 * h; // [nr, h]
        /* logitsᵀ [V, nr] = W [V, h] · x_blkᵀ: column-major (m, n, k) = (V, nr, h), W op T */
        ya_cuda_gemm(ctx, "cuda cross_entropy logits", CUBLAS_OP_T, CUBLAS_OP_N, V, nr, h, wb, CUDA_R_16BF, h, x_blk,
                     CUDA_R_16BF, h, logits, CUDA_R_32F, ld, 0.0f, NULL);
        if (ctx->failed) break;
        ce_row_kernel<<<nr, CE_THREADS, 0, ctx->stream>>>(logits, ld, V, targets + r0, weight + r0, nll_tmp + r0,
                                                          nll ? nll + r0 : NULL, grad);
        CUDA_CHECK_LAUNCH(ctx);
        if (dx) {
            /* dx_tmpᵀ [h, nr] = Wᵀ [h, V] · dlogitsᵀ [V, nr]: (m, n, k) = (h, nr, V), dlogits ld 2·ld */
            ya_cuda_gemm(ctx, "cuda cross_entropy dx", CUBLAS_OP_N, CUBLAS_OP_N, h, nr, V, wb, CUDA_R_16BF, h,
                         dlogits, CUDA_R_16BF, 2 * ld, dx_tmp, CUDA_R_32F, h, 0.0f, NULL);
            size_t n = (size_t)nr * h;
            if (!ctx->failed) {
                ce_add_dx_kernel<<<ya_cuda_blocks(n, 256), 256, 0, ctx->stream>>>(as_bf(dx) + (size_t)r0 * h, dx_tmp,
                                                                                   n);
                CUDA_CHECK_LAUNCH(ctx);
            }
        }
        /* dWᵀ [h, V] += x_blkᵀ [h, nr] · dlogits [nr, V]: (m, n, k) = (h, V, nr), dlogits op T */
        if (dw)
            ya_cuda_gemm(ctx, "cuda cross_entropy dw", CUBLAS_OP_N, CUBLAS_OP_T, h, V, nr, x_blk, CUDA_R_16BF, h,
                         dlogits, CUDA_R_16BF, 2 * ld, dw, CUDA_R_32F, h, 1.0f, NULL);
    }
    if (!ctx->failed) {
        ce_loss_kernel<<<1, CE_LOSS_THREADS, 0, ctx->stream>>>(nll_tmp, weight, T, loss_dev);
        CUDA_CHECK_LAUNCH(ctx);
    }
    double loss = NAN;
    ya_cuda_download(ctx, &loss, loss_dev, sizeof loss);
    return ctx->failed ? NAN : loss;
}

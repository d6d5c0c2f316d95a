/* cuda_cross_entropy.cu — lm_head fused with masked, weighted cross-entropy,
 * chunked over the vocabulary (the CUDA twin of cpu_cross_entropy.c; the
 * algorithm and its notation are described there).
 *
 * Per chunk of C vocabulary rows, cuBLASLt writes the fp32 logits [T, C]
 * (bf16 operands, fp32 accumulation); pass 1 folds them into each row's
 * online log-sum-exp, pass 2 recomputes them and turns them into bf16
 * dlogits = ω·(softmax − onehot), then two GEMMs accumulate
 * dx_acc [T, h] (fp32) += dlogits · W_c and dW_c (fp32) += dlogitsᵀ · x.
 * dx is added to the caller's bf16 gradient once, after the last chunk, so
 * the V/C partial sums are not rounded to bf16 one by one. The [T, V] logits
 * never exist: the largest buffer is [T, C]. No atomics: the loss is summed in
 * double in row order by one thread, every row reduction uses a fixed tree. */
#include <math.h>

#include "backend/cuda/cuda_internal.h"

enum { CE_THREADS = 256 };

/* Scratch sections are rounded to 64 floats so each starts 256-byte aligned. */
static size_t round64(size_t n) { return (n + 63) / 64 * 64; }

extern "C" size_t ya_cuda_cross_entropy_scratch(int T, int h, int V, int chunk) {
    if (chunk <= 0 || chunk > V) chunk = V;
    size_t tc = (size_t)T * chunk;
    return round64(tc) + round64((tc + 1) / 2) + round64((size_t)T * h) + 4 * round64((size_t)T) + 64;
}

__global__ void ce_init_kernel(float *row_max, float *row_sum, float *target_logit, int T) {
    for (int t = blockIdx.x * blockDim.x + threadIdx.x; t < T; t += gridDim.x * blockDim.x) {
        row_max[t] = -INFINITY;
        row_sum[t] = 0.0f;
        target_logit[t] = 0.0f;
    }
}

/* Pass 1, one block per row: fold the chunk's logits into the running max and Σ e^(l − max). */
__global__ void ce_stats_kernel(const float *logits, int n, int c0, const int32_t *targets, const float *weight,
                                float *row_max, float *row_sum, float *target_logit) {
    __shared__ float red[32];
    int t = blockIdx.x;
    if (weight[t] == 0.0f) return; /* the whole block leaves together */
    const float *l = logits + (size_t)t * n; // [n]
    float m = -INFINITY;
    for (int i = threadIdx.x; i < n; i += blockDim.x) m = fmaxf(m, l[i]);
    float old_max = row_max[t];
    m = fmaxf(ya_block_max(m, red), old_max);
    float s = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) s += expf(l[i] - m); /* each term ≤ 1 */
    s = ya_block_sum(s, red);
    if (threadIdx.x == 0) {
        row_sum[t] = row_sum[t] * expf(old_max - m) + s; /* exp(−inf) = 0 on the first chunk */
        row_max[t] = m;
        int tg = targets[t] - c0;
        if (tg >= 0 && tg < n) target_logit[t] = l[tg];
    }
}

/* row_max becomes the log-sum-exp; nll_tmp [T] the per-row loss (0 when unsupervised). */
__global__ void ce_lse_kernel(float *row_max, const float *row_sum, const float *target_logit, const float *weight,
                              float *nll_tmp, float *nll, int T) {
    for (int t = blockIdx.x * blockDim.x + threadIdx.x; t < T; t += gridDim.x * blockDim.x) {
        float v = 0.0f;
        if (weight[t] != 0.0f) {
            row_max[t] = row_max[t] + logf(row_sum[t]);
            v = row_max[t] - target_logit[t];
        }
        nll_tmp[t] = v;
        if (nll) nll[t] = v;
    }
}

/* Σ_t ω_t·nll_t in double, rows in order (one thread: T is at most a few thousand). */
__global__ void ce_loss_kernel(const float *nll_tmp, const float *weight, int T, double *loss) {
    double acc = 0.0;
    for (int t = 0; t < T; t++)
        if (weight[t] != 0.0f) acc += (double)weight[t] * nll_tmp[t];
    *loss = acc;
}

/* Pass 2: dlogits [T, n] (bf16) = ω·(e^(l − lse) − onehot(target)); 0 on unsupervised rows. */
__global__ void ce_dlogits_kernel(__nv_bfloat16 *dl, const float *logits, int n, int c0, int T,
                                  const int32_t *targets, const float *weight, const float *lse) {
    size_t total = (size_t)T * n;
    for (size_t p = (size_t)blockIdx.x * blockDim.x + threadIdx.x; p < total; p += (size_t)gridDim.x * blockDim.x) {
        int t = (int)(p / n), i = (int)(p % n);
        float wt = weight[t], v = 0.0f;
        if (wt != 0.0f) {
            v = wt * expf(logits[p] - lse[t]);
            if (i == targets[t] - c0) v -= wt;
        }
        dl[p] = __float2bfloat16(v);
    }
}

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
    if (chunk <= 0 || chunk > V) chunk = V;
    size_t tc = (size_t)T * chunk;
    float *logits = scratch;                                                         // [T, chunk]
    __nv_bfloat16 *dlogits = (__nv_bfloat16 *)(logits + round64(tc));               // [T, chunk]
    float *dx_acc = (float *)dlogits + round64((tc + 1) / 2);                        // [T, h]
    float *row_max = dx_acc + round64((size_t)T * h);                                // [T] max, then lse
    float *row_sum = row_max + round64((size_t)T);                                   // [T]
    float *target_logit = row_sum + round64((size_t)T);                              // [T]
    float *nll_tmp = target_logit + round64((size_t)T);                              // [T]
    double *loss_dev = (double *)(nll_tmp + round64((size_t)T));                     // [1]
    const __nv_bfloat16 *wb = (const __nv_bfloat16 *)w;                              // [V, h]
    unsigned row_blocks = ya_cuda_blocks((size_t)T, 256);

    ce_init_kernel<<<row_blocks, 256, 0, ctx->stream>>>(row_max, row_sum, target_logit, T);
    CUDA_CHECK_LAUNCH(ctx);
    /* ---- pass 1: log-sum-exp and target logit per row ---- */
    for (int c0 = 0; c0 < V && !ctx->failed; c0 += chunk) {
        int n = V - c0 < chunk ? V - c0 : chunk;
        ya_cuda_gemm(ctx, "cuda cross_entropy logits", CUBLAS_OP_T, CUBLAS_OP_N, n, T, h, wb + (size_t)c0 * h,
                     CUDA_R_16BF, h, x, CUDA_R_16BF, h, logits, CUDA_R_32F, n, 0.0f, NULL);
        ce_stats_kernel<<<T, CE_THREADS, 0, ctx->stream>>>(logits, n, c0, targets, weight, row_max, row_sum,
                                                           target_logit);
        CUDA_CHECK_LAUNCH(ctx);
    }
    ce_lse_kernel<<<row_blocks, 256, 0, ctx->stream>>>(row_max, row_sum, target_logit, weight, nll_tmp, nll, T);
    CUDA_CHECK_LAUNCH(ctx);
    ce_loss_kernel<<<1, 1, 0, ctx->stream>>>(nll_tmp, weight, T, loss_dev);
    CUDA_CHECK_LAUNCH(ctx);

    /* ---- pass 2: dlogits chunk → dx, dW ---- */
    if (dx || dw) {
        if (dx) ya_cuda_memset0(ctx, dx_acc, (size_t)T * h * sizeof(float));
        for (int c0 = 0; c0 < V && !ctx->failed; c0 += chunk) {
            int n = V - c0 < chunk ? V - c0 : chunk;
            const __nv_bfloat16 *wc = wb + (size_t)c0 * h; // [n, h]
            ya_cuda_gemm(ctx, "cuda cross_entropy logits", CUBLAS_OP_T, CUBLAS_OP_N, n, T, h, wc, CUDA_R_16BF, h, x,
                         CUDA_R_16BF, h, logits, CUDA_R_32F, n, 0.0f, NULL);
            ce_dlogits_kernel<<<ya_cuda_blocks((size_t)T * n, 256), 256, 0, ctx->stream>>>(dlogits, logits, n, c0, T,
                                                                                            targets, weight, row_max);
            CUDA_CHECK_LAUNCH(ctx);
            /* dx_acc [T, h] += dlogits [T, n] · W_c [n, h] */
            if (dx)
                ya_cuda_gemm(ctx, "cuda cross_entropy dx", CUBLAS_OP_N, CUBLAS_OP_N, h, T, n, wc, CUDA_R_16BF, h,
                             dlogits, CUDA_R_16BF, n, dx_acc, CUDA_R_32F, h, 1.0f, NULL);
            /* dW_c [n, h] += dlogitsᵀ [n, T] · x [T, h] */
            if (dw)
                ya_cuda_gemm(ctx, "cuda cross_entropy dw", CUBLAS_OP_N, CUBLAS_OP_T, h, n, T, x, CUDA_R_16BF, h,
                             dlogits, CUDA_R_16BF, n, dw + (size_t)c0 * h, CUDA_R_32F, h, 1.0f, NULL);
        }
        if (dx && !ctx->failed) {
            size_t nx = (size_t)T * h;
            ce_add_dx_kernel<<<ya_cuda_blocks(nx, 256), 256, 0, ctx->stream>>>(as_bf(dx), dx_acc, nx);
            CUDA_CHECK_LAUNCH(ctx);
        }
    }
    double loss = NAN;
    ya_cuda_download(ctx, &loss, loss_dev, sizeof loss);
    return ctx->failed ? NAN : loss;
}

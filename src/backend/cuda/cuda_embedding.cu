/* cuda_embedding.cu — token embedding lookup (stored dtype → bf16), its
 * backward (a scatter-add into an fp32 table), and stored-dtype → fp32 / bf16
 * conversion (the CUDA twin of cpu_embedding.c + cpu_embedding_backward.c).
 *
 * The backward gives each thread one column and walks t in order, so repeated
 * ids are summed in the same order every run: no atomics, bitwise repeatable. */
#include "backend/cuda/cuda_internal.h"
#include "backend/cuda/cuda_vec.h"

template <typename T> __device__ inline float load_f32(const T *p, size_t i);
template <> __device__ inline float load_f32<float>(const float *p, size_t i) { return p[i]; }
template <> __device__ inline float load_f32<__nv_bfloat16>(const __nv_bfloat16 *p, size_t i) {
    return __bfloat162float(p[i]);
}
template <> __device__ inline float load_f32<__half>(const __half *p, size_t i) { return __half2float(p[i]); }

template <typename T>
__global__ void embedding_kernel(__nv_bfloat16 *out, const T *table, const int32_t *ids, int T_, int h) {
    size_t n = (size_t)T_ * h;
    for (size_t p = (size_t)blockIdx.x * blockDim.x + threadIdx.x; p < n; p += (size_t)gridDim.x * blockDim.x) {
        size_t t = p / h, c = p % h;
        out[p] = __float2bfloat16(load_f32(table, (size_t)ids[t] * h + c));
    }
}

template <typename T>
__global__ void to_f32_kernel(float *dst, const T *src, size_t n) {
    for (size_t p = (size_t)blockIdx.x * blockDim.x + threadIdx.x; p < n; p += (size_t)gridDim.x * blockDim.x)
        dst[p] = load_f32(src, p);
}

template <typename T>
__global__ void to_bf16_kernel(__nv_bfloat16 *dst, const T *src, size_t n) {
    for (size_t p = (size_t)blockIdx.x * blockDim.x + threadIdx.x; p < n; p += (size_t)gridDim.x * blockDim.x)
        dst[p] = __float2bfloat16(load_f32(src, p));
}

/* to_bf16_kernel<float> 8 elements at a time (two float4 loads, one 16-byte
 * store; cuda_vec.h) for 16-byte aligned dst and src: the per-step refresh of
 * the bf16 copies of the trained fp32 weights. The < 8 tail element by element. */
__global__ void f32_to_bf16_vec_kernel(__nv_bfloat16 *dst, const float *src, size_t n) {
    size_t n8 = n / 8, tid = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    for (size_t v = tid; v < n8; v += (size_t)gridDim.x * blockDim.x) {
        float f[8];
        ya_load8_f32(f, src + 8 * v);
        ya_store8(dst + 8 * v, f);
    }
    if (n8 * 8 + tid < n) dst[n8 * 8 + tid] = __float2bfloat16(src[n8 * 8 + tid]);
}

__global__ void embedding_backward_kernel(float *dtable, const __nv_bfloat16 *dout, const int32_t *ids, int T, int h) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= h) return;
    for (int t = 0; t < T; t++) dtable[(size_t)ids[t] * h + c] += __bfloat162float(dout[(size_t)t * h + c]);
}

extern "C" void ya_cuda_embedding(YaCudaCtx *ctx, YaBf16 *out, const void *table, YaDtype dt, const int32_t *ids,
                                  int T, int h) {
    if (ctx->failed || T <= 0) return;
    size_t n = (size_t)T * h;
    unsigned blocks = ya_cuda_blocks(n, 256);
    switch (dt) {
    case YA_DTYPE_BF16:
        embedding_kernel<<<blocks, 256, 0, ctx->stream>>>(as_bf(out), (const __nv_bfloat16 *)table, ids, T, h);
        break;
    case YA_DTYPE_F16:
        embedding_kernel<<<blocks, 256, 0, ctx->stream>>>(as_bf(out), (const __half *)table, ids, T, h);
        break;
    case YA_DTYPE_F32:
        embedding_kernel<<<blocks, 256, 0, ctx->stream>>>(as_bf(out), (const float *)table, ids, T, h);
        break;
    default:
        ya_cuda_fail(ctx, "cuda embedding: unsupported table dtype %s (BF16, F16 or F32)", ya_dtype_name(dt));
        return;
    }
    CUDA_CHECK_LAUNCH(ctx);
}

extern "C" void ya_cuda_embedding_backward(YaCudaCtx *ctx, float *dtable, const YaBf16 *dout, const int32_t *ids, int T,
                                           int h) {
    if (ctx->failed || T <= 0) return;
    embedding_backward_kernel<<<(h + 127) / 128, 128, 0, ctx->stream>>>(dtable, as_bf(dout), ids, T, h);
    CUDA_CHECK_LAUNCH(ctx);
}

extern "C" void ya_cuda_to_f32(YaCudaCtx *ctx, float *dst, const void *src, YaDtype dt, size_t n) {
    if (ctx->failed || !n) return;
    unsigned blocks = ya_cuda_blocks(n, 256);
    switch (dt) {
    case YA_DTYPE_BF16: to_f32_kernel<<<blocks, 256, 0, ctx->stream>>>(dst, (const __nv_bfloat16 *)src, n); break;
    case YA_DTYPE_F16: to_f32_kernel<<<blocks, 256, 0, ctx->stream>>>(dst, (const __half *)src, n); break;
    case YA_DTYPE_F32:
        CUDA_CHECK(ctx, cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyDeviceToDevice, ctx->stream));
        return;
    default:
        ya_cuda_fail(ctx, "cuda to_f32: unsupported dtype %s (BF16, F16 or F32)", ya_dtype_name(dt));
        return;
    }
    CUDA_CHECK_LAUNCH(ctx);
}

extern "C" void ya_cuda_to_bf16(YaCudaCtx *ctx, YaBf16 *dst, const void *src, YaDtype dt, size_t n) {
    if (ctx->failed || !n) return;
    unsigned blocks = ya_cuda_blocks(n, 256);
    switch (dt) {
    case YA_DTYPE_BF16:
        CUDA_CHECK(ctx, cudaMemcpyAsync(dst, src, n * sizeof(YaBf16), cudaMemcpyDeviceToDevice, ctx->stream));
        return;
    case YA_DTYPE_F16: to_bf16_kernel<<<blocks, 256, 0, ctx->stream>>>(as_bf(dst), (const __half *)src, n); break;
    case YA_DTYPE_F32:
        if (ya_aligned16(dst) && ya_aligned16(src))
            f32_to_bf16_vec_kernel<<<ya_cuda_blocks(n / 8, 256), 256, 0, ctx->stream>>>(as_bf(dst),
                                                                                        (const float *)src, n);
        else
            to_bf16_kernel<<<blocks, 256, 0, ctx->stream>>>(as_bf(dst), (const float *)src, n);
        break;
    default:
        ya_cuda_fail(ctx, "cuda to_bf16: unsupported dtype %s (BF16, F16 or F32)", ya_dtype_name(dt));
        return;
    }
    CUDA_CHECK_LAUNCH(ctx);
}

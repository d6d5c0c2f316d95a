/* cuda_attention.h — the two implementations behind the op table's
 * `attention` / `attention_backward` (cuda_ops.h), named so that the dispatch
 * in cuda_attention.cu and the timing tool (tests/cuda/cuda_ops_bench.c) can
 * reach each one:
 *   - the flash kernels (cuda_flash_attention.cu): tensor cores (mma.sync
 *     m16n8k16 bf16 → fp32), 64×64 tiles, head dims 64 and 128;
 *   - the warp reference (cuda_attention.cu): one warp per row on CUDA cores,
 *     any head dim that is a multiple of 32 up to 256; the fallback for other
 *     head dims and for a few query rows (decoding).
 * Arguments, shapes and semantics are the op table's; the shape checks are
 * done by the public entries, not here. */
#ifndef YOUR_AI_CUDA_ATTENTION_H
#define YOUR_AI_CUDA_ATTENTION_H

#include "backend/cuda/cuda_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Head dims the flash kernels are instantiated for. */
int ya_cuda_flash_attention_head_dim_ok(int d);

void ya_cuda_flash_attention(YaCudaCtx *ctx, YaBf16 *out, float *lse, const YaBf16 *q, const YaBf16 *k,
                             const YaBf16 *v, int T, int Tk, int pos0, int n_h, int n_kv, int d);
void ya_cuda_flash_attention_backward(YaCudaCtx *ctx, YaBf16 *dq, YaBf16 *dk, YaBf16 *dv, const YaBf16 *dout,
                                      const float *lse, const YaBf16 *out, const YaBf16 *q, const YaBf16 *k,
                                      const YaBf16 *v, int T, int Tk, int pos0, int n_h, int n_kv, int d);

void ya_cuda_attention_reference(YaCudaCtx *ctx, YaBf16 *out, float *lse, const YaBf16 *q, const YaBf16 *k,
                                 const YaBf16 *v, int T, int Tk, int pos0, int n_h, int n_kv, int d);
void ya_cuda_attention_backward_reference(YaCudaCtx *ctx, YaBf16 *dq, YaBf16 *dk, YaBf16 *dv, const YaBf16 *dout,
                                          const float *lse, const YaBf16 *out, const YaBf16 *q, const YaBf16 *k,
                                          const YaBf16 *v, int T, int Tk, int pos0, int n_h, int n_kv, int d);

#ifdef __cplusplus
}
#endif

#endif

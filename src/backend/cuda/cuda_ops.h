/* cuda_ops.h — the CUDA op table: the same op list as YaBackendOps
 * (src/backend/backend.h), entry for entry and argument for argument, adapted
 * to device memory (docs/CUDA.md, "The op table"):
 *
 *   1. every op takes the device context first (stream, cuBLASLt, arena, error);
 *   2. every pointer is a device pointer;
 *   3. activations and their gradients are bf16 (YaBf16) with fp32 accumulation
 *      inside the kernels; base weights are bf16 as stored; everything that is
 *      trained or kept for the backward (dw, db, rstd, dtable, LoRA params,
 *      AdamW moments) is fp32. The GEMM entries carry a dtype tag so the fp32
 *      path (LoRA factors, the reference checks) uses the same entry;
 *   4. ops return void like the CPU ones; failures are recorded in the context
 *      and returned by ya_cuda_sync() (cuda_runtime.h).
 * Shapes are those of backend.h; they are repeated here only where the dtype
 * differs. backend.h's linear_stored (reading stored weights row by row while
 * decoding) has no CUDA counterpart: on the GPU the weights are resident in bf16. */
#ifndef YOUR_AI_CUDA_OPS_H
#define YOUR_AI_CUDA_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "backend/cuda/cuda_runtime.h"

#ifdef __cplusplus
extern "C" { /* the project's C headers carry no C++ guards of their own */
#endif

#include "your_ai/safetensors.h" /* defines: YaDtype */

typedef struct YaCudaOps {
    const char *name; /* "cuda" */

    /* ---- linear layers (cuBLASLt, fp32 accumulate) ------------------------ */
    /* y [M, N] (=|+=) x [M, K] · w [N, K]ᵀ (+ b [N]); x, w, y, b all of dtype dt:
     * BF16 (activations, base weights) or F32 (exact path: no TF32). The bias
     * is fused as a cuBLASLt epilogue. */
    void (*linear)(YaCudaCtx *ctx, void *y, const void *x, const void *w, const void *b, YaDtype dt, int M, int K,
                   int N, int accumulate);
    /* dx [M, K] += dy · w (dtype dt), dw [N, K] += dyᵀ · x (fp32), db [N] += Σ_rows dy (fp32,
     * rows in order). dy [M, N], x [M, K], w [N, K] of dtype dt. NULL outputs are skipped. */
    void (*linear_backward)(YaCudaCtx *ctx, void *dx, float *dw, float *db, const void *dy, const void *x,
                            const void *w, YaDtype dt, int M, int K, int N);

    /* ---- normalisation ------------------------------------------------------ */
    /* y [M, h] bf16, rstd [M] fp32 (may be NULL), x [M, h] bf16, w [h] bf16. y may alias x. */
    void (*rmsnorm)(YaCudaCtx *ctx, YaBf16 *y, float *rstd, const YaBf16 *x, const YaBf16 *w, int M, int h,
                    float eps);
    /* dx [M, h] bf16 +=, dw [h] fp32 += (NULL when frozen); dy, x [M, h] bf16, w [h] bf16, rstd [M]. */
    void (*rmsnorm_backward)(YaCudaCtx *ctx, YaBf16 *dx, float *dw, const YaBf16 *dy, const YaBf16 *x,
                             const YaBf16 *w, const float *rstd, int M, int h);

    /* ---- rotary position embedding: x [T, n_heads, d] bf16 in place; cos/sin [T, d/2] fp32 */
    void (*rope)(YaCudaCtx *ctx, YaBf16 *x, const float *cos, const float *sin, int T, int n_heads, int d);
    void (*rope_backward)(YaCudaCtx *ctx, YaBf16 *dx, const float *cos, const float *sin, int T, int n_heads,
                          int d);

    /* ---- causal grouped-query attention (memory-efficient: no [T, Tk] matrix) ---- */
    /* backend.h's attention without the att [n_h, T, Tk] buffer: lse [n_h, T]
     * fp32 receives each row's log-sum-exp of the scaled scores instead, and the
     * backward recomputes the probabilities from it. out, q [T, n_h·d], k, v
     * [Tk, n_kv·d] bf16; d a multiple of 32 up to 256; Tk ≥ pos0 + T. */
    void (*attention)(YaCudaCtx *ctx, YaBf16 *out, float *lse, const YaBf16 *q, const YaBf16 *k, const YaBf16 *v,
                      int T, int Tk, int pos0, int n_h, int n_kv, int d);
    /* dq [T, n_h·d], dk, dv [Tk, n_kv·d] bf16 += (each may be NULL); dout, out
     * [T, n_h·d] bf16 (out: the forward output, for D = dout·out); lse as saved. */
    void (*attention_backward)(YaCudaCtx *ctx, YaBf16 *dq, YaBf16 *dk, YaBf16 *dv, const YaBf16 *dout,
                               const float *lse, const YaBf16 *out, const YaBf16 *q, const YaBf16 *k,
                               const YaBf16 *v, int T, int Tk, int pos0, int n_h, int n_kv, int d);

    /* ---- activations: all [n] bf16 ------------------------------------------- */
    void (*swiglu)(YaCudaCtx *ctx, YaBf16 *out, const YaBf16 *gate, const YaBf16 *up, size_t n);
    void (*swiglu_backward)(YaCudaCtx *ctx, YaBf16 *dgate, YaBf16 *dup, const YaBf16 *dout, const YaBf16 *gate,
                            const YaBf16 *up, size_t n);
    /* swiglu_backward that WRITES dgate, dup (both non-NULL) instead of accumulating: the
     * training graph's buffers are fresh there, and skipping the zero-fill and the read of the
     * old values saves 4 of the 7 passes over [BT, f]. Not in the CPU table (a CPU caller
     * zero-fills and accumulates). */
    void (*swiglu_backward_set)(YaCudaCtx *ctx, YaBf16 *dgate, YaBf16 *dup, const YaBf16 *dout, const YaBf16 *gate,
                                const YaBf16 *up, size_t n);
    void (*add)(YaCudaCtx *ctx, YaBf16 *y, const YaBf16 *x, size_t n);

    /* ---- embedding ----------------------------------------------------------- */
    /* out [T, h] bf16 = table [V, h] (dtype dt: BF16/F16/F32, on the device) rows ids [T] (device). */
    void (*embedding)(YaCudaCtx *ctx, YaBf16 *out, const void *table, YaDtype dt, const int32_t *ids, int T, int h);
    /* dtable [V, h] fp32 += dout [T, h] bf16 rows, summed in t order per element (no atomics). */
    void (*embedding_backward)(YaCudaCtx *ctx, float *dtable, const YaBf16 *dout, const int32_t *ids, int T,
                               int h);

    /* ---- loss: lm_head fused with masked cross-entropy, blocked over rows ----- */
    /* backend.h's cross_entropy on the device: x [T, h] bf16, w [V, h] BF16 (the
     * stored lm_head / tied embedding), targets [T] int32, weight [T] fp32,
     * nll [T] fp32 (may be NULL), dx [T, h] bf16 += (each row's full-V sum in
     * fp32, added once), dw [V, h] fp32 += (NULL when frozen); dx = dw = NULL
     * skips the backward. Logits exist one [Tb, V] fp32 row block at a time
     * (Tb = max(T·chunk/V, 512) rows, at most T), never [T, V]. Returns
     * Σ_t weight_t·nll_t, summed in double in row order (synchronises the
     * stream; NaN when an error is pending).
     * scratch: cross_entropy_scratch(T, h, V, chunk) floats of device memory,
     * 16-byte aligned (the arena's 256 is). */
    double (*cross_entropy)(YaCudaCtx *ctx, float *nll, YaBf16 *dx, float *dw, const YaBf16 *x, const void *w,
                            YaDtype dt, const int32_t *targets, const float *weight, int T, int h, int V, int chunk,
                            float *scratch);
    size_t (*cross_entropy_scratch)(int T, int h, int V, int chunk); /* in floats; chunk ≤ 0 or > V means V */

    /* ---- conversion ------------------------------------------------------------ */
    /* dst [n] fp32 = src [n] of dtype dt (BF16/F16/F32). */
    void (*to_f32)(YaCudaCtx *ctx, float *dst, const void *src, YaDtype dt, size_t n);
    /* dst [n] bf16 = src [n] of dtype dt rounded to nearest (uploaded weights,
     * the bf16 compute copies of fp32 LoRA / master weights). No CPU twin: the
     * CPU computes in fp32. */
    void (*to_bf16)(YaCudaCtx *ctx, YaBf16 *dst, const void *src, YaDtype dt, size_t n);
    /* x [n] bf16 *= s (the LoRA scale on the rank-r activation u = s·x·Aᵀ, as llama_train.c does in fp32). */
    void (*scale)(YaCudaCtx *ctx, YaBf16 *x, size_t n, float s);
    /* dst [M, K] = src ⊙ mask / (1 − p), mask(row, col) = uniform(key, row, col) ≥ p from a
     * stateless hash: the same key redraws the same mask (the LoRA dropout's forward, its
     * backward, a resumed run). dst may alias src. The CPU's masks come from rng.h streams
     * instead: the two devices drop different elements (docs/CUDA.md). */
    void (*dropout)(YaCudaCtx *ctx, YaBf16 *dst, const YaBf16 *src, int M, int K, float p, uint64_t key);

    /* ---- optimizer (fp32 flat buffers; optimizer.h semantics) ---------------- */
    /* One AdamW update with t ≥ 1, exactly ya_adamw_step's arithmetic.
     * kind: YA_OPT_ADAMW (0, bias-corrected) or YA_OPT_ADAMW_MLX (1). p, g, m, v [n] fp32. */
    void (*adamw)(YaCudaCtx *ctx, int kind, double beta1, double beta2, double eps, double weight_decay,
                  long long t, double lr, float *p, const float *g, float *m, float *v, size_t n);
    /* √(Σ g²) in double over ya_grad_global_norm's fixed partition (256 chunks,
     * summed in chunk order): deterministic, independent of the launch shape.
     * Synchronises the stream; NaN when an error is pending. g [n] fp32. */
    double (*grad_global_norm)(YaCudaCtx *ctx, const float *g, size_t n);
    /* g [n] *= s. */
    void (*grad_scale)(YaCudaCtx *ctx, float *g, size_t n, float s);
    /* acc [n] += g [n]. */
    void (*grad_accumulate)(YaCudaCtx *ctx, float *acc, const float *g, size_t n);
} YaCudaOps;

const YaCudaOps *ya_backend_cuda(void);

/* Global-norm clipping as ya_clip_grad_norm: returns the pre-clip norm and
 * scales g by max_norm/(norm + 1e-6) when max_norm > 0 and norm ≥ max_norm. */
double ya_cuda_clip_grad_norm(YaCudaCtx *ctx, float *g, size_t n, double max_norm);

#ifdef __cplusplus
}
#endif

#endif

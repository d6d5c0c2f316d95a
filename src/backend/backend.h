/* backend.h — the op table: every numeric op the Llama graph needs, as one
 * struct of function pointers.
 *
 * The model (src/model/llama.c, llama_train.c) is written once against this
 * table; the CPU backend (src/backend/cpu/) is the readable fp32 specification,
 * and the CUDA backend (src/backend/cuda/cuda_ops.h) mirrors the same entries
 * for device memory and bf16 activations. Forward and backward entries sit side
 * by side; every backward op accumulates (+=) into its gradient outputs.
 *
 * Conventions: all activations are fp32, row-major, contiguous unless a stride
 * is given. Weights follow HF's [out, in] layout. Shapes are written as
 * comments beside each pointer: T = rows (tokens), h = hidden, V = vocab,
 * n_h / n_kv = query / key-value heads, d = head dim, f = MLP width.
 * Ops never allocate; scratch comes from the caller. */
#ifndef YOUR_AI_BACKEND_H
#define YOUR_AI_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "your_ai/error.h"       /* defines: YaError (ya_backend_cpu_simd_check) */
#include "your_ai/safetensors.h" /* defines: YaDtype (stored dtype of an embedding table) */

typedef struct YaBackendOps {
    const char *name; /* "cpu" | "cuda" */

    /* ---- linear layers --------------------------------------------------- */
    /* y = x · Wᵀ (+ b), or y += x · Wᵀ (+ b) when accumulate is nonzero.
     *   y [M, N], x [M, K], w [N, K], b [N] or NULL. */
    void (*linear)(float *y, const float *x, const float *w, const float *b, int M, int K, int N, int accumulate);
    /* Backward entries (docs/BACKWARD.md) ACCUMULATE into every gradient
     * buffer (+=), so a tensor read by several ops (the residual stream, an
     * input shared by q/k/v) gets its gradient summed without extra adds; the
     * caller zeroes gradients once per step. A NULL gradient output is skipped.
     *   dx [M, K] += dy · W, dw [N, K] += dyᵀ · x (NULL when frozen), db [N] += Σ_rows dy (NULL if no bias).
     *   dy [M, N], x [M, K], w [N, K] (fp32). Uses OpenBLAS: not inside an OpenMP region. */
    void (*linear_backward)(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w, int M,
                            int K, int N);

    /* The same product with W read in its stored dtype (BF16/F16/F32, possibly
     * unaligned) and converted on the fly, row by row: for a few rows of x
     * (decoding) this reads each weight once at its stored width instead of
     * converting the whole matrix first. Same shapes as linear; w [N, K] of dtype dt. */
    void (*linear_stored)(float *y, const float *x, const void *w, YaDtype dt, const float *b, int M, int K, int N,
                          int accumulate);

    /* ---- normalisation --------------------------------------------------- */
    /* y = w ⊙ (x / sqrt(mean(x²) + eps)) row by row; rstd [M] receives the
     * per-row 1/sqrt(mean(x²)+eps) for the backward pass (may be NULL).
     *   y [M, h], x [M, h], w [h]. y may alias x. */
    void (*rmsnorm)(float *y, float *rstd, const float *x, const float *w, int M, int h, float eps);
    /* dx [M, h] += ∂/∂x, dw [h] += Σ_rows dy ⊙ x·rstd (NULL when frozen).
     *   dy [M, h], x [M, h] (the forward input), w [h], rstd [M] (saved by rmsnorm). */
    void (*rmsnorm_backward)(float *dx, float *dw, const float *dy, const float *x, const float *w,
                             const float *rstd, int M, int h);

    /* ---- rotary position embedding (HF rotate-half: i pairs with i + d/2) --- */
    /* In place on x [T, n_heads, d]; row t uses cos[t], sin[t] (each [T, d/2]),
     * i.e. the caller passes the tables already offset to the first position. */
    void (*rope)(float *x, const float *cos, const float *sin, int T, int n_heads, int d);
    /* backward: the same rotation by −angle (the transpose), in place on the
     * gradient dx [T, n_heads, d]; cos/sin exactly as given to rope. */
    void (*rope_backward)(float *dx, const float *cos, const float *sin, int T, int n_heads, int d);

    /* ---- causal grouped-query attention ---------------------------------- */
    /* Query row t sits at absolute position pos0 + t and attends to keys
     * 0 … pos0 + t (the KV cache holds Tk ≥ pos0 + T rows). q head j reads kv
     * head j / (n_h / n_kv). Scale 1/sqrt(d), fp32 softmax.
     *   out [T, n_h*d], q [T, n_h*d], k [Tk, n_kv*d], v [Tk, n_kv*d],
     *   att [n_h, T, Tk] receives the softmax probabilities (kept for backward;
     *   entries past the causal limit are written as 0). */
    void (*attention)(float *out, float *att, const float *q, const float *k, const float *v, int T, int Tk,
                      int pos0, int n_h, int n_kv, int d);
    /* dq [T, n_h*d] += ∂/∂q, dk/dv [Tk, n_kv*d] += ∂/∂k, ∂/∂v (summed over the
     * n_rep query heads sharing a kv head). dout [T, n_h*d]; att, q, k, v as
     * saved from attention; out [T, n_h*d] is the forward output: the softmax
     * backward needs D[j,t] = Σ_s P·dP = dout[t,j]·out[t,j] (FlashAttention's
     * identity), which saves an [n_h, T] scratch. Signature change vs the
     * earlier draft: `out` added. */
    void (*attention_backward)(float *dq, float *dk, float *dv, const float *dout, const float *att,
                               const float *out, const float *q, const float *k, const float *v, int T, int Tk,
                               int pos0, int n_h, int n_kv, int d);

    /* ---- activations ------------------------------------------------------ */
    /* out = silu(gate) ⊙ up.  out, gate, up [n]; out may alias gate or up. */
    void (*swiglu)(float *out, const float *gate, const float *up, size_t n);
    /* dgate [n] += dout ⊙ up ⊙ silu'(gate), dup [n] += dout ⊙ silu(gate) (either may be NULL).
     *   dout, gate, up [n] (gate/up as saved before the forward overwrote anything). */
    void (*swiglu_backward)(float *dgate, float *dup, const float *dout, const float *gate, const float *up,
                            size_t n);

    /* y += x.  y, x [n]. (The residual stream; its backward is the identity.) */
    void (*add)(float *y, const float *x, size_t n);

    /* ---- embedding -------------------------------------------------------- */
    /* out[t] = table[ids[t]] converted to fp32. The table stays in its stored
     * dtype (mmap'd BF16/F16/F32, possibly unaligned); ids are already range-checked.
     *   out [T, h], table [V, h] of dtype dt, ids [T]. */
    void (*embedding)(float *out, const void *table, YaDtype dt, const int32_t *ids, int T, int h);
    /* Only when the embedding is trained: dtable[ids[t]] += dout[t], in t order
     * per row (deterministic: no atomics). dtable [V, h] fp32, dout [T, h], ids [T]. */
    void (*embedding_backward)(float *dtable, const float *dout, const int32_t *ids, int T, int h);

    /* ---- loss: lm_head fused with masked cross-entropy, chunked over V ---- */
    /* Row t of x predicts targets[t] (the caller has already shifted: target
     * of row t is token t+1). weight [T] is the per-row loss weight: 0 = not
     * supervised (padding, prompt, last position: targets[t] is not read),
     * 1/N_tokens for a token mean, ω_i/(n_i·N_step) for the weighted mode
     * (SPEC §3.3). The vocabulary is processed in chunks of `chunk` rows of W:
     * pass 1 builds each row's log-sum-exp online, pass 2 turns each logits
     * chunk into dlogits = weight·(softmax − onehot) and accumulates
     *   dx [T, h] += dlogits · W_chunk, dw [V, h] += dlogitsᵀ · x (fp32, NULL when frozen/tied-frozen),
     * so no [T, V] buffer ever exists. dx = dw = NULL skips pass 2 (evaluation).
     * nll [T] (may be NULL) receives −log p(target) per row (0 where weight is 0).
     * Returns Σ_t weight_t·nll_t (summed in double, row order).
     *   x [T, h] (final-norm output), w [V, h] in stored dtype dt (BF16/F16/F32, any alignment),
     *   targets [T] in [0, V) where weight ≠ 0, scratch: cross_entropy_scratch(T, h, V, chunk) floats. */
    double (*cross_entropy)(float *nll, float *dx, float *dw, const float *x, const void *w, YaDtype dt,
                            const int32_t *targets, const float *weight, int T, int h, int V, int chunk,
                            float *scratch);
    size_t (*cross_entropy_scratch)(int T, int h, int V, int chunk); /* in floats; chunk ≤ 0 or > V means V */

    /* ---- conversion -------------------------------------------------------- */
    /* dst = src converted from stored dtype to fp32 (threaded).  dst [n], src [n]. */
    void (*to_f32)(float *dst, const void *src, YaDtype dt, size_t n);

    /* ---- bf16 products with a frozen weight (`train --matmul bf16`) -------- */
    /* NULL when the build has no bf16 GEMM library (oneDNN): callers check.
     * The fp32 activation is rounded to bf16 (nearest even) into caller scratch,
     * the weight is bf16 as stored ([out, in], 2-byte aligned, read in place),
     * products accumulate in fp32 (cpu_matmul_bf16.c). Same results as an fp32
     * GEMM over the bf16-rounded inputs up to the order of the fp32 sums.
     *   y [M, N] (+)= bf16(x) · Wᵀ.  x [M, K], w [N, K] bf16, xbf [M·K] scratch. */
    void (*linear_bf16w)(float *y, const float *x, const uint16_t *w, int M, int K, int N, int accumulate,
                         uint16_t *xbf);
    /*   dx [M, K] += bf16(dy) · W.  dy [M, N], w [N, K] bf16, dybf [M·N] scratch. */
    void (*linear_bf16w_backward_dx)(float *dx, const float *dy, const uint16_t *w, int M, int K, int N,
                                     uint16_t *dybf);
    /* cross_entropy with the logits and dx GEMMs in bf16 (x and dlogits rounded
     * to bf16; dW, when wanted, stays an fp32 GEMM). Same arguments; scratch:
     * cross_entropy_bf16w_scratch(T, h, V, chunk) floats. */
    double (*cross_entropy_bf16w)(float *nll, float *dx, float *dw, const float *x, const void *w, YaDtype dt,
                                  const int32_t *targets, const float *weight, int T, int h, int V, int chunk,
                                  float *scratch);
    size_t (*cross_entropy_bf16w_scratch)(int T, int h, int V, int chunk);
    /* dst = src (stored dtype) rounded to bf16, for a weight not stored as bf16.  dst [n], src [n]. */
    void (*to_bf16)(uint16_t *dst, const void *src, YaDtype dt, size_t n);
    /* fp32 linear / linear_backward (no bias) on the OpenMP threads (oneDNN)
     * instead of OpenBLAS's own: what bf16 mode uses for the LoRA factors
     * while OpenBLAS runs single-threaded. Same shapes as linear and
     * linear_backward; NULL without oneDNN. */
    void (*linear_f32_omp)(float *y, const float *x, const float *w, int M, int K, int N, int accumulate);
    void (*linear_backward_f32_omp)(float *dx, float *dw, const float *dy, const float *x, const float *w, int M, int K,
                                    int N);
} YaBackendOps;

/* The CPU backend (src/backend/cpu/cpu_backend.c). */
const YaBackendOps *ya_backend_cpu(void);

/* Sets the thread count of both OpenMP and OpenBLAS (n ≤ 0: leave the defaults). */
void ya_backend_cpu_set_threads(int n);
/* OpenBLAS's thread count alone (process-wide); returns the previous one.
 * `train --matmul bf16` runs OpenBLAS on 1 thread (cpu_matmul_bf16.c says why). */
int ya_backend_cpu_set_blas_threads(int n);

/* The CPU ops' vector path (cpu_simd.c): YA_SIMD=auto|portable|avx512 in the
 * environment. _check validates it (usage error for another value, or avx512
 * on a CPU without it; the CLI calls it before any command); _name says which
 * path runs: "avx512f" or "portable". */
int ya_backend_cpu_simd_check(YaError *err);
/* YA_OK when `--matmul bf16` can run: the build has oneDNN and oneDNN has a
 * bf16 GEMM for this CPU (AVX-512 and newer); else a usage error saying which. */
int ya_backend_cpu_bf16_check(YaError *err);
const char *ya_backend_cpu_simd_name(void);

#endif

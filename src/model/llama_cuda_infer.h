/* llama_cuda_infer.h — the inference graph on one GPU (llama_cuda_infer.c),
 * the device half of a YaInferState created with --device cuda: the model's
 * bf16 weights (YaCudaModel), a bf16 KV cache and the activation buffers of
 * one chunk, all in the model's one device arena. llama.c's public inference
 * functions dispatch here; nothing else calls this header.
 *
 * Without the CUDA backend in the build, ya_cuda_infer_new fails with "this
 * build has no CUDA backend" and the rest are never reached. */
#ifndef YOUR_AI_LLAMA_CUDA_INFER_H
#define YOUR_AI_LLAMA_CUDA_INFER_H

#include <stdint.h>

#include "your_ai/error.h"
#include "your_ai/model.h"

typedef struct YaCudaInfer YaCudaInfer;

/* Uploads m (with its attached adapter merged) to GPU `gpu` and sizes the KV
 * cache for max_ctx positions and the activations for chunks of max_chunk
 * tokens (the caller has checked both are positive, max_chunk ≤ max_ctx). */
int ya_cuda_infer_new(const YaModel *m, int gpu, int max_ctx, int max_chunk, YaCudaInfer **out, YaError *err);
void ya_cuda_infer_free(YaCudaInfer *g);

/* Runs tokens[0..T) at positions pos … pos+T−1 (arguments already checked by
 * ya_model_forward), chunked by max_chunk; logits as ya_model_forward. When
 * the adapter attached to m is not the one merged at upload (validate detaches
 * it for the base pass) and pos is 0, the weights are uploaded again first. */
int ya_cuda_infer_forward(YaCudaInfer *g, const YaModel *m, int pos, const int32_t *tokens, int T, int all_positions,
                          float *logits, YaError *err);

#endif

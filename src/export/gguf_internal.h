/* gguf_internal.h — pieces of the GGUF exporter shared between its files. */
#ifndef YA_GGUF_INTERNAL_H
#define YA_GGUF_INTERNAL_H

#include "your_ai/config.h"
#include "your_ai/export.h" /* defines: YaGgufWeightType */
#include "your_ai/gguf.h"

/* Adds tokenizer.ggml.* from model_dir/tokenizer.json (+ tokenizer_config.json);
 * *added = 0 and YA_OK when there is no tokenizer.json. */
int ya_gguf_add_tokenizer(YaGgufWriter *w, const char *model_dir, const YaModelConfig *cfg, int *added, YaError *err);

/* What llama-quantize's type choice needs to know about the model. */
typedef struct YaGgufMixModel {
    int n_layers;
    int tied_embeddings; /* no output.weight: token_embd is also the output projection */
    int is_70b;          /* llama.cpp's LLM_TYPE_70B: 80 layers, arch llama with GQA or qwen2 */
} YaGgufMixModel;

/* The ggml type of tensor `name` (GGUF name, n_dims, row length = dims[0],
 * block index `layer` or -1) in the K-quant mix (YA_GGUF_W_Q4_K_M, _Q5_K_M or
 * _Q6_K), as llama-quantize chooses it (gguf_quant_mix.c). */
int ya_gguf_mix_tensor_type(YaGgufWeightType mix, const YaGgufMixModel *mm, const char *name, int n_dims,
                            uint64_t row_len, int layer);

#endif

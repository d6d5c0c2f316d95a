/* export.h — turning a base model + a LoRA adapter into something other tools
 * load (SPEC §10): a PEFT adapter directory, a merged HF model directory, a
 * llama.cpp GGUF model, or a llama.cpp GGUF LoRA adapter. Every writer is
 * atomic per file and names the tensor/file in its errors. The model is only
 * mmap'd: tensors are converted (and merged) one at a time while being written. */
#ifndef YOUR_AI_EXPORT_H
#define YOUR_AI_EXPORT_H

#include <stdint.h>

#include "your_ai/adapter.h"
#include "your_ai/error.h"
#include "your_ai/model.h"
#include "your_ai/safetensors.h"
#include "your_ai/tokenizer.h"

/* PEFT: adapter_model.safetensors (F32 or BF16, SPEC §10.1 keys, format pt)
 * + adapter_config.json into out_dir. base_model names the base in the config
 * (NULL: the adapter's own base_model_name_or_path, else the model directory). */
int ya_export_peft(const YaModel *m, const YaAdapter *a, const char *out_dir, YaDtype dt, const char *base_model,
                   YaError *err);

/* Merged HF model (SPEC §10.2): every adapted weight becomes W + (α/r)·B·A
 * computed in F32 from the upcast base and rounded to dt (YA_DTYPE_COUNT = keep
 * each tensor's stored dtype); model.safetensors or ≤ max_shard_bytes shards +
 * index; config.json (torch_dtype updated), generation_config.json and the
 * tokenizer files copied. a may be NULL (a plain re-export / dtype change). */
int ya_export_merged(const YaModel *m, const YaAdapter *a, const char *out_dir, YaDtype dt, uint64_t max_shard_bytes,
                     YaError *err);

/* GGUF weight types we write: one ggml type for every matrix (ggml type ids),
 * or one of llama-quantize's K-quant mixes (their llama_ftype numbers), where
 * each matrix gets the type llama.cpp would give it (docs/DEPLOY.md). */
typedef enum YaGgufWeightType {
    YA_GGUF_W_F32 = 0, YA_GGUF_W_F16 = 1, YA_GGUF_W_Q8_0 = 8, YA_GGUF_W_BF16 = 30,
    YA_GGUF_W_Q4_K_M = 15, YA_GGUF_W_Q5_K_M = 17, YA_GGUF_W_Q6_K = 18
} YaGgufWeightType;

/* llama.cpp GGUF model (SPEC §10.3) at out_path, with a (may be NULL) merged in
 * first. Matrices are written as wt (Q8_0 falls back to F16 for rows not a
 * multiple of 32; the K-quant mixes choose per tensor, as llama-quantize
 * does, quantizing from the merged F32 weights), 1-D tensors as F32; tokenizer.ggml.* come from
 * m->dir/tokenizer.json when it exists. */
int ya_export_gguf(const YaModel *m, const YaAdapter *a, const char *out_path, YaGgufWeightType wt, YaError *err);

/* llama.cpp GGUF LoRA adapter (SPEC §10.3) at out_path: F32 (or F16/BF16 per wt)
 * lora_a [in, r] / lora_b [r, out] per adapted tensor, q/k lora_b rows permuted
 * for arch llama. */
int ya_export_gguf_adapter(const YaModel *m, const YaAdapter *a, const char *out_path, YaGgufWeightType wt,
                           YaError *err);

/* Ollama (docs/DEPLOY.md): out_dir (must not exist; written in a staging
 * directory beside it, then renamed) with model.gguf (as ya_export_gguf) and a
 * Modelfile: FROM, TEMPLATE (Go template syntax) for the chat format, one
 * PARAMETER stop per stop token. chat: YA_CHAT_NONE = the format recognised from
 * tokenizer_config.json's chat_template; an unrecognised or missing template
 * is an error naming --chat-format. */
int ya_export_ollama(const YaModel *m, const YaAdapter *a, const char *out_dir, YaGgufWeightType wt, YaChatFormat chat,
                     YaError *err);

/* The GGUF Q/K row permutation of llama.cpp's convert script (SPEC §10.3): row
 * h·d + 2i + j of dst = row h·d + j·(d/2) + i of src, for `heads` heads of
 * head_dim d rows each, every row `cols` floats. dst != src. */
void ya_gguf_permute_rows(float *dst, const float *src, int heads, int head_dim, int64_t cols);

/* Q8_0 (llama.cpp's reference quantizer): n (a multiple of 32) floats → n/32
 * blocks of {fp16 d, int8 q[32]} (34 bytes each). */
void ya_gguf_quantize_q8_0(const float *x, uint8_t *dst, int64_t n);

#endif

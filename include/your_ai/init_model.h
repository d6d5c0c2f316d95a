/* init_model.h — writing a randomly initialised model directory in the exact
 * HF layout (config.json, generation_config.json, model.safetensors or shards +
 * index, optionally a tokenizer). No pretrained weights can be downloaded in
 * our test and demo environments, so everything that needs "a model" makes one
 * with this (library) or `your_ai init-model` (CLI). */
#ifndef YOUR_AI_INIT_MODEL_H
#define YOUR_AI_INIT_MODEL_H

#include <stdint.h>

#include "your_ai/config.h"
#include "your_ai/error.h"
#include "your_ai/safetensors.h"

typedef struct YaInitModelOptions {
    YaDtype dtype;            /* F32, F16 or BF16: what the safetensors store (and torch_dtype says) */
    uint64_t seed;            /* same seed → byte-identical files, whatever the thread count */
    uint64_t max_shard_bytes; /* tensor bytes per shard; 0 = one model.safetensors */
    const char *tokenizer;    /* NULL, a tokenizer.json file, or a directory holding one */
    int threads;              /* OpenMP threads for the RNG; 0 = OpenMP's default */
    int force;                /* overwrite a directory that already holds a config.json */
} YaInitModelOptions;

/* Weights like transformers' _init_weights: normal(0, 0.02) for every linear
 * and embedding matrix, ones for RMSNorm weights, zeros for biases. Each
 * tensor's numbers come from its own RNG stream (seed, tensor name), split in
 * fixed chunks that are each seeded independently, so the output does not
 * depend on tensor order or thread count. Tensors are generated and written
 * one at a time: peak memory is about one tensor, even for an 8B model. */
int ya_init_model(const YaModelConfig *cfg, const char *out_dir, const YaInitModelOptions *opt, YaError *err);

/* Fills dst (n elements of dt) with the init-model numbers of tensor `name`:
 * normal(0, std) from stream (seed, name). Exposed for tests. */
void ya_init_fill_normal(uint64_t seed, const char *name, float std, YaDtype dt, void *dst, uint64_t n, int threads);

#endif

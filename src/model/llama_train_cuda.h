/* llama_train_cuda.h — the training graph on one GPU (llama_train_cuda.c):
 * llama_train.c's forward / fused CE / backward, layer for layer and op for
 * op, over the CUDA op table (bf16 activations, fp32 LoRA factors, gradients
 * and AdamW moments, all resident on the device). train_graph.h's entries
 * dispatch here when YaTrainGraphConfig.device is YA_DEVICE_CUDA; their
 * contracts are the same, with these differences:
 *   - the trainables live on the device; the host buffers of the LoRA set /
 *     full params are mirrors, refreshed by _pull and uploaded by _push;
 *   - clipping and AdamW run on the device (_update);
 *   - recompute attn equals none (the attention keeps only its log-sum-exp);
 *   - LoRA dropout masks come from a stateless hash keyed by (seed, counter,
 *     layer, projection) and the element's (row, column): reproducible and
 *     resumable, but not the CPU's masks (ops->dropout in cuda_ops.h). */
#ifndef YOUR_AI_LLAMA_TRAIN_CUDA_H
#define YOUR_AI_LLAMA_TRAIN_CUDA_H

#include "your_ai/train_graph.h"

typedef struct YaCudaTrainGraph YaCudaTrainGraph;

int ya_cuda_train_graph_new(const YaModel *m, YaLoraSet *lora, const YaTrainGraphConfig *cfg, YaCudaTrainGraph **out,
                            YaError *err);
void ya_cuda_train_graph_free(YaCudaTrainGraph *g);
void ya_cuda_train_graph_buffers(YaCudaTrainGraph *g, float **params, float **grads, float **m, float **v, size_t *n);
const YaFullParams *ya_cuda_train_graph_full(const YaCudaTrainGraph *g);
size_t ya_cuda_train_graph_bytes(const YaCudaTrainGraph *g);
size_t ya_cuda_train_graph_device_bytes(const YaCudaTrainGraph *g);
void ya_cuda_train_graph_set_dropout(YaCudaTrainGraph *g, int enabled, uint64_t seed, uint64_t counter);
int ya_cuda_train_graph_run_segments(YaCudaTrainGraph *g, const int32_t *ids, const int32_t *targets,
                                     const float *weight, int B, int T, const YaTrainSegment *segs, int n_segs,
                                     int backward, double *loss_sum, float *nll, YaError *err);
void ya_cuda_train_graph_grads_zero(YaCudaTrainGraph *g);
int ya_cuda_train_graph_update(YaCudaTrainGraph *g, const YaAdamWConfig *adamw, long long t, double lr,
                               double max_norm, double *norm, YaError *err);
int ya_cuda_train_graph_pull(YaCudaTrainGraph *g, YaError *err);
int ya_cuda_train_graph_push(YaCudaTrainGraph *g, YaError *err);

#endif

/* model_slots.h — one numbering of a Llama model's tensors shared by the
 * training graphs (llama_train.c, llama_train_cuda.c) and the GPU weights
 * (llama_cuda_weights.c): per layer the seven projections (YaLoraTarget
 * order q k v o gate up down), their seven biases, the two norms; after the
 * L layers, the embedding, the final norm and the lm_head. Also the full
 * fine-tuning parameter table built over those slots. */
#ifndef YOUR_AI_MODEL_SLOTS_H
#define YOUR_AI_MODEL_SLOTS_H

#include "your_ai/lora.h" /* defines: YA_LORA_TARGET_COUNT */
#include "your_ai/model.h"
#include "your_ai/train_graph.h" /* defines: YaFullParams */

enum {
    YA_SLOT_BIAS0 = YA_LORA_TARGET_COUNT,     /* bias of projection p: YA_SLOT_BIAS0 + p (projection p: slot p) */
    YA_SLOT_NORM1 = 2 * YA_LORA_TARGET_COUNT, /* input_layernorm */
    YA_SLOT_NORM2,                            /* post_attention_layernorm */
    YA_SLOTS_PER_LAYER
};
enum { YA_SLOT_EMBED = 0, YA_SLOT_NORM, YA_SLOT_LM_HEAD, YA_SLOTS_GLOBAL };

static inline int ya_slot_layer(int l, int s) { return l * YA_SLOTS_PER_LAYER + s; }
static inline int ya_slot_global(int L, int g) { return L * YA_SLOTS_PER_LAYER + g; }
static inline int ya_slot_count(int L) { return L * YA_SLOTS_PER_LAYER + YA_SLOTS_GLOBAL; }

/* The tensor in slot i (NULL for an absent bias; the lm_head slot of a tied
 * model is the embedding). */
const YaTensorInfo *ya_model_slot_tensor(const YaModel *m, int i);

/* Full fine-tuning: every tensor of m in HF order (embed; per layer norm1,
 * q(+b), k(+b), v(+b), o(+b), norm2, gate(+b), up(+b), down(+b); norm;
 * lm_head unless tied), its fp32 copy in fp->params (grads and moments
 * zeroed, one allocation) and slot_of[i] = the slot of table entry i
 * (slot_of holds ya_slot_count(L) ints). */
int ya_full_params_build(const YaModel *m, YaFullParams *fp, int *slot_of, YaError *err);
void ya_full_params_free(YaFullParams *fp);

/* A training graph's four trainable flat buffers (n floats each): the LoRA
 * set's when lora is non-NULL, else the full fine-tuning table's. */
static inline void ya_trainable_buffers(YaLoraSet *lora, YaFullParams *full, float **params, float **grads, float **m,
                                        float **v, size_t *n) {
    if (lora) {
        *params = lora->params, *grads = lora->grads, *m = lora->m, *v = lora->v;
        *n = lora->n_params;
    } else {
        *params = full->params, *grads = full->grads, *m = full->m, *v = full->v;
        *n = full->n_params;
    }
}

#endif

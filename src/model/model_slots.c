/* model_slots.c — the shared tensor numbering and the full fine-tuning table (model_slots.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_slots.h"

const YaTensorInfo *ya_model_slot_tensor(const YaModel *m, int i) {
    int L = m->cfg.num_hidden_layers;
    if (i >= L * YA_SLOTS_PER_LAYER) {
        int gi = i - L * YA_SLOTS_PER_LAYER;
        return gi == YA_SLOT_EMBED ? m->embed : gi == YA_SLOT_NORM ? m->norm : m->lm_head;
    }
    const YaLlamaLayer *ly = &m->layers[i / YA_SLOTS_PER_LAYER];
    switch (i % YA_SLOTS_PER_LAYER) {
    case YA_LORA_Q: return ly->wq;
    case YA_LORA_K: return ly->wk;
    case YA_LORA_V: return ly->wv;
    case YA_LORA_O: return ly->wo;
    case YA_LORA_GATE: return ly->w_gate;
    case YA_LORA_UP: return ly->w_up;
    case YA_LORA_DOWN: return ly->w_down;
    case YA_SLOT_BIAS0 + YA_LORA_Q: return ly->bq;
    case YA_SLOT_BIAS0 + YA_LORA_K: return ly->bk;
    case YA_SLOT_BIAS0 + YA_LORA_V: return ly->bv;
    case YA_SLOT_BIAS0 + YA_LORA_O: return ly->bo;
    case YA_SLOT_BIAS0 + YA_LORA_GATE: return ly->b_gate;
    case YA_SLOT_BIAS0 + YA_LORA_UP: return ly->b_up;
    case YA_SLOT_BIAS0 + YA_LORA_DOWN: return ly->b_down;
    case YA_SLOT_NORM1: return ly->input_norm;
    default: return ly->post_norm;
    }
}

/* HF name of a layer slot. */
static void layer_slot_name(int l, int s, char *buf, size_t cap) {
    static const char *proj[YA_LORA_TARGET_COUNT] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                                     "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
                                                     "mlp.down_proj"};
    if (s < YA_SLOT_BIAS0) snprintf(buf, cap, "model.layers.%d.%s.weight", l, proj[s]);
    else if (s < YA_SLOT_NORM1) snprintf(buf, cap, "model.layers.%d.%s.bias", l, proj[s - YA_SLOT_BIAS0]);
    else snprintf(buf, cap, "model.layers.%d.%s.weight", l, s == YA_SLOT_NORM1 ? "input_layernorm" : "post_attention_layernorm");
}

int ya_full_params_build(const YaModel *m, YaFullParams *fp, int *slot_of, YaError *err) {
    memset(fp, 0, sizeof *fp);
    int L = m->cfg.num_hidden_layers, n_slots = ya_slot_count(L);
    static const int order[YA_SLOTS_PER_LAYER] = {
        YA_SLOT_NORM1, YA_LORA_Q,     YA_SLOT_BIAS0 + YA_LORA_Q,    YA_LORA_K,  YA_SLOT_BIAS0 + YA_LORA_K,
        YA_LORA_V,     YA_SLOT_BIAS0 + YA_LORA_V,     YA_LORA_O,    YA_SLOT_BIAS0 + YA_LORA_O, YA_SLOT_NORM2,
        YA_LORA_GATE,  YA_SLOT_BIAS0 + YA_LORA_GATE,  YA_LORA_UP,   YA_SLOT_BIAS0 + YA_LORA_UP, YA_LORA_DOWN,
        YA_SLOT_BIAS0 + YA_LORA_DOWN};
    fp->t = calloc((size_t)n_slots, sizeof *fp->t);
    if (!fp->t) return ya_fail(err, YA_ERR, "out of memory");
    size_t n = 0, off = 0;
    for (int k = -1; k <= L; k++) {
        /* k = -1: the embedding; 0 … L−1: the layers in HF order; L: norm and lm_head */
        int count = k < 0 ? 1 : k < L ? YA_SLOTS_PER_LAYER : (m->cfg.tie_word_embeddings ? 1 : 2);
        for (int i = 0; i < count; i++) {
            int s = k < 0 ? ya_slot_global(L, YA_SLOT_EMBED)
                    : k < L ? ya_slot_layer(k, order[i])
                            : ya_slot_global(L, i == 0 ? YA_SLOT_NORM : YA_SLOT_LM_HEAD);
            const YaTensorInfo *ti = ya_model_slot_tensor(m, s);
            if (!ti) continue;
            YaFullTensor *e = &fp->t[n];
            if (k < 0) snprintf(e->name, sizeof e->name, "model.embed_tokens.weight");
            else if (k < L) layer_slot_name(k, order[i], e->name, sizeof e->name);
            else snprintf(e->name, sizeof e->name, "%s", i == 0 ? "model.norm.weight" : "lm_head.weight");
            e->off = off, e->numel = ti->numel, e->ndim = ti->ndim;
            e->shape[0] = ti->shape[0], e->shape[1] = ti->ndim > 1 ? ti->shape[1] : 0;
            off += (ti->numel + 15) / 16 * 16; /* 64-byte aligned tensors */
            slot_of[n++] = s;
        }
    }
    fp->n_tensors = n;
    fp->n_params = off;
    size_t bytes = 4 * off * sizeof(float);
    fp->base = aligned_alloc(64, bytes < 64 ? 64 : bytes);
    if (!fp->base) {
        free(fp->t);
        fp->t = NULL;
        return ya_fail(err, YA_ERR, "out of memory for %zu full fine-tuning parameters (%.1f MB with grads and moments)",
                       off, 16.0 * (double)off / 1e6);
    }
    memset(fp->base, 0, bytes);
    fp->params = fp->base;
    fp->grads = fp->params + off;
    fp->m = fp->grads + off;
    fp->v = fp->m + off;
    for (size_t i = 0; i < n; i++) {
        const YaTensorInfo *ti = ya_model_slot_tensor(m, slot_of[i]);
        ya_to_f32(ti->dtype, ti->data, fp->params + fp->t[i].off, fp->t[i].numel);
    }
    return YA_OK;
}

void ya_full_params_free(YaFullParams *fp) {
    free(fp->t);
    free(fp->base);
    memset(fp, 0, sizeof *fp);
}

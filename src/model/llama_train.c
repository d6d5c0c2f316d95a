/* llama_train.c — the training pass of the Llama graph (SPEC §6.2, §7):
 * forward with saved activations, fused lm_head + masked CE, and backward into
 * LoRA A/B gradients or (full fine-tuning) every weight.
 *
 * Written against the backend op table like the inference graph (llama.c),
 * but batched ([B·T] rows through every projection, attention and RoPE per
 * row) and keeping, per layer, what docs/BACKWARD.md says each backward op
 * needs. Every buffer is carved from one allocation sized at creation from
 * (config, B, T, trainable set, recompute policy); a step allocates nothing.
 * All backward ops accumulate, so the residual-stream gradient `dres` is
 * updated in place as the layers unwind. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h" /* defines: YaBackendOps, ya_backend_cpu */
#include "model/llama_train_cuda.h"
#include "model/model_slots.h"
#include "model/train_batch_check.h"
#include "your_ai/rng.h"
#include "your_ai/train_graph.h"

/* Per-layer tensor slots: the seven projections in YaLoraTarget order, then
 * their biases, then the two norms (model_slots.h's numbering, asserted below). */
enum {
    P_COUNT = YA_LORA_TARGET_COUNT, /* q k v o gate up down */
    S_BIAS0 = P_COUNT,              /* bias of projection p is slot S_BIAS0 + p */
    S_NORM1 = 2 * P_COUNT,
    S_NORM2,
    S_COUNT
};
/* Global slots after the L·S_COUNT layer slots. */
enum { G_EMBED = 0, G_NORM, G_LM_HEAD, G_COUNT };
_Static_assert((int)S_COUNT == (int)YA_SLOTS_PER_LAYER && (int)S_NORM1 == (int)YA_SLOT_NORM1 &&
                   (int)G_LM_HEAD == (int)YA_SLOT_LM_HEAD,
               "llama_train.c's slots are model_slots.h's");

int ya_train_kind_parse(const char *s, YaTrainKind *out, YaError *err) {
    if (!strcmp(s, "lora")) *out = YA_TRAIN_LORA;
    else if (!strcmp(s, "full")) *out = YA_TRAIN_FULL;
    else return ya_fail(err, YA_ERR_USAGE, "--train: unknown value '%s' (expected lora or full)", s);
    return YA_OK;
}

int ya_recompute_parse(const char *s, YaRecompute *out, YaError *err) {
    if (!strcmp(s, "none")) *out = YA_RECOMPUTE_NONE;
    else if (!strcmp(s, "attn")) *out = YA_RECOMPUTE_ATTN;
    else if (!strcmp(s, "layer")) *out = YA_RECOMPUTE_LAYER;
    else return ya_fail(err, YA_ERR_USAGE, "--recompute: unknown value '%s' (expected none, attn or layer)", s);
    return YA_OK;
}

const char *ya_recompute_name(YaRecompute r) {
    return r == YA_RECOMPUTE_ATTN ? "attn" : r == YA_RECOMPUTE_LAYER ? "layer" : "none";
}

/* What one layer's backward needs (docs/BACKWARD.md), for all B·T rows. */
typedef struct LayerActs {
    float *a1, *rstd1;  // [BT, h], [BT]   input RMSNorm output and 1/rms
    float *q, *k, *v;   // [BT, n_h*d], [BT, n_kv*d] ×2  (q, k after RoPE)
    float *ao;          // [BT, n_h*d]    attention output (input of o_proj)
    float *h1;          // [BT, h]        residual after attention
    float *a2, *rstd2;  // [BT, h], [BT]  post-attention RMSNorm
    float *gate, *up;   // [BT, f] each   before SwiGLU
    float *u[P_COUNT];  // [BT, r]        s·(x·Aᵀ) of each adapted projection (NULL otherwise)
    float *att;         // [B, n_h, T, T] softmax probabilities (shared when recomputed)
} LayerActs;

struct YaTrainGraph {
    /* --device cuda: the GPU graph (llama_train_cuda.c) does everything and
     * the CPU fields below stay unused; every public entry dispatches first. */
    YaCudaTrainGraph *cuda;
    const YaModel *model;
    const YaBackendOps *ops;
    YaTrainGraphConfig cfg;
    YaLoraSet *lora;  /* LoRA mode */
    /* (layer, projection) → its adapter, by slot; read from the set's table
     * here rather than through lora.c so ya_model does not link ya_train. */
    const YaLoraTensor **lora_at; // [L*S_COUNT]
    YaFullParams full; /* full mode */
    int L, h, f, n_h, n_kv, d, qd, kvd, V, r;
    float lora_scale;
    /* LoRA dropout (SPEC §7: y = Wx + s·B(A·dropout(x))): masks are a pure
     * function of (seed, counter, layer, projection, row), regenerated in the
     * backward instead of stored. */
    float dropout_p;
    int dropout_on;
    uint64_t dropout_seed, dropout_counter;
    float *xd, *dxd; // [BT, max(h, f, n_h*d)] dropped-out input of A and its gradient
    /* Attention segments of the current micro-batch: a document occupies
     * tokens [start, start+len) of a row and attends only inside itself, with
     * RoPE positions from 0 (pad mode: one segment per row; pack mode: several). */
    int n_seg;
    int *seg_row, *seg_start, *seg_len; // [max_rows·max_seq] each (a segment has ≥ 1 token)
    size_t *seg_att;                    // [max_rows·max_seq] offset of its [n_h, len, len] probabilities
    /* fp32 view of each tensor: full mode → the flat params (grad alongside);
     * LoRA mode → 1-D tensors converted once into `frozen`, matrices used in
     * place when aligned F32 in the file, else NULL (converted per use). */
    float **w32;   // [L*S_COUNT + G_COUNT]
    float **g32;   // [L*S_COUNT + G_COUNT] gradients (full mode), else NULL entries
    const YaTensorInfo **info; // [L*S_COUNT + G_COUNT] (NULL for an absent bias)
    float *frozen; /* LoRA mode: converted 1-D tensors */
    /* activations (one allocation) */
    float *arena;
    size_t arena_floats;
    float *rope_cos, *rope_sin; // [T, d/2]
    float *xs;                  // [L+1, BT, h] input of every layer; xs[L] = final pre-norm stream
    float *xf, *rstdf;          // [BT, h], [BT] final norm
    int n_sets;                 /* L (recompute none/attn) or 1 (layer) */
    LayerActs *sets;            // [n_sets]
    /* backward scratch */
    float *dres;          // [BT, h] gradient of the residual stream
    float *da;            // [BT, h] gradient of a normalised input
    float *dxf;           // [BT, h]
    float *dq, *dk, *dv;  // [BT, n_h*d], [BT, n_kv*d] ×2
    float *dao;           // [BT, n_h*d]
    float *mm, *dmm;      // [BT, f] SwiGLU output (recomputed) and its gradient
    float *dgate, *dup;   // [BT, f]
    float *du;            // [BT, r]
    float *nll;           // [BT]
    float *ce_scratch;    // cross_entropy_scratch floats
    float *wbuf;          // [max matrix] a frozen matrix converted to fp32 (--matmul bf16: to bf16)
    uint16_t *act_bf16;   // [BT, max(h, f, n_h*d)] --matmul bf16: an activation rounded to bf16
    int blas_threads_prev; /* --matmul bf16: OpenBLAS's thread count before the graph set it to 1 (0: untouched) */
};

static size_t maxz(size_t a, size_t b) { return a > b ? a : b; }

static int slot(int l, int s) { return l * S_COUNT + s; }

static int direct_f32(const YaTensorInfo *t) {
    return t->dtype == YA_DTYPE_F32 && (uintptr_t)t->data % _Alignof(float) == 0;
}

/* Full mode: every weight as fp32 in the shared table (model_slots.c), each
 * slot's fp32 view and gradient pointing into it; a tied lm_head shares the
 * embedding's. The slot numbering of model_slots.h is this file's. */
static int build_full(YaTrainGraph *g, YaError *err) {
    int L = g->L;
    int *slot_of = calloc((size_t)ya_slot_count(L), sizeof *slot_of);
    if (!slot_of) return ya_fail(err, YA_ERR, "out of memory");
    int rc = ya_full_params_build(g->model, &g->full, slot_of, err);
    for (size_t i = 0; rc == YA_OK && i < g->full.n_tensors; i++) {
        g->w32[slot_of[i]] = g->full.params + g->full.t[i].off;
        g->g32[slot_of[i]] = g->full.grads + g->full.t[i].off;
    }
    if (rc == YA_OK && g->model->cfg.tie_word_embeddings) {
        g->w32[L * S_COUNT + G_LM_HEAD] = g->w32[L * S_COUNT + G_EMBED];
        g->g32[L * S_COUNT + G_LM_HEAD] = g->g32[L * S_COUNT + G_EMBED];
    }
    free(slot_of);
    return rc;
}

/* LoRA mode: 1-D tensors (norms, biases) converted once; matrices used in
 * place when the file holds aligned F32. */
static int build_frozen(YaTrainGraph *g, YaError *err) {
    int n_slots = g->L * S_COUNT + G_COUNT;
    size_t total = 0;
    for (int s = 0; s < n_slots; s++)
        if (g->info[s] && g->info[s]->ndim == 1) total += g->info[s]->numel;
    g->frozen = malloc(maxz(1, total) * sizeof(float));
    if (!g->frozen) return ya_fail(err, YA_ERR, "out of memory");
    float *p = g->frozen;
    for (int s = 0; s < n_slots; s++) {
        const YaTensorInfo *t = g->info[s];
        if (!t) continue;
        if (t->ndim == 1) {
            ya_to_f32(t->dtype, t->data, p, t->numel);
            g->w32[s] = p;
            p += t->numel;
        } else if (direct_f32(t) && s < g->L * S_COUNT) {
            g->w32[s] = (float *)t->data; /* read only */
        }
    }
    return YA_OK;
}

int ya_train_graph_new(const YaModel *m, YaLoraSet *lora, const YaTrainGraphConfig *cfg, YaTrainGraph **out,
                       YaError *err) {
    *out = NULL;
    const YaModelConfig *c = &m->cfg;
    if (cfg->max_rows <= 0 || cfg->max_seq <= 0)
        return ya_fail(err, YA_ERR_USAGE, "training batch shape %d x %d must be positive", cfg->max_rows, cfg->max_seq);
    if (cfg->kind == YA_TRAIN_LORA && !lora)
        return ya_fail(err, YA_ERR_USAGE, "LoRA training needs a LoRA parameter set");
    if (cfg->kind == YA_TRAIN_FULL && lora)
        return ya_fail(err, YA_ERR_USAGE, "--train full trains every weight: no LoRA set may be given");
    if (lora && !lora->params) return ya_fail(err, YA_ERR_USAGE, "the LoRA set has no allocated buffers");
    if (lora && lora->n_model_layers != c->num_hidden_layers)
        return ya_fail(err, YA_ERR_USAGE, "the LoRA set was built for %d layers, the model has %d", lora->n_model_layers,
                       c->num_hidden_layers);
    if (c->sliding_window > 0 && cfg->max_seq > c->sliding_window)
        return ya_fail(err, YA_ERR_USAGE, "%s: sequence length %d exceeds sliding_window %d (the window mask is not implemented)",
                       m->dir, cfg->max_seq, c->sliding_window);
    if (cfg->matmul == YA_MATMUL_BF16) {
        if (cfg->device != YA_DEVICE_CPU)
            return ya_fail(err, YA_ERR_USAGE, "--matmul bf16 is a CPU-backend mode (the CUDA graph's GEMMs are bf16 already)");
        if (cfg->kind != YA_TRAIN_LORA)
            return ya_fail(err, YA_ERR_USAGE, "--matmul bf16 needs --train lora: it rounds the frozen base weights, "
                                              "which --train full trains in fp32");
        int rc = ya_backend_cpu_bf16_check(err); /* oneDNN built in, and a bf16 GEMM for this CPU */
        if (rc != YA_OK) return rc;
    }
    YaTrainGraph *g = calloc(1, sizeof *g);
    if (!g) return ya_fail(err, YA_ERR, "out of memory");
    g->model = m;
    g->cfg = *cfg;
    if (cfg->device == YA_DEVICE_CUDA) {
        int rc = ya_cuda_train_graph_new(m, lora, cfg, &g->cuda, err);
        if (rc != YA_OK) {
            free(g);
            return rc;
        }
        *out = g;
        return YA_OK;
    }
    g->ops = ya_backend_cpu();
    g->cfg = *cfg;
    /* bf16 mode: every parallel loop on OpenMP, OpenBLAS on one thread (cpu_matmul_bf16.c says why). */
    if (cfg->matmul == YA_MATMUL_BF16) g->blas_threads_prev = ya_backend_cpu_set_blas_threads(1);
    if (g->cfg.ce_chunk <= 0) g->cfg.ce_chunk = 4096;
    g->lora = lora;
    g->L = c->num_hidden_layers, g->h = c->hidden_size, g->f = c->intermediate_size;
    g->n_h = c->num_attention_heads, g->n_kv = c->num_key_value_heads, g->d = c->head_dim;
    g->qd = g->n_h * g->d, g->kvd = g->n_kv * g->d, g->V = c->vocab_size;
    g->r = lora ? lora->cfg.rank : 0;
    g->lora_scale = lora ? (float)ya_lora_scale(&lora->cfg) : 0.0f;
    g->dropout_p = lora ? (float)lora->cfg.dropout : 0.0f;

    int n_slots = g->L * S_COUNT + G_COUNT;
    g->w32 = calloc((size_t)n_slots, sizeof *g->w32);
    g->g32 = calloc((size_t)n_slots, sizeof *g->g32);
    g->info = calloc((size_t)n_slots, sizeof *g->info);
    if (!g->w32 || !g->g32 || !g->info) {
        ya_train_graph_free(g);
        return ya_fail(err, YA_ERR, "out of memory");
    }
    for (int i = 0; i < n_slots; i++) g->info[i] = ya_model_slot_tensor(m, i); /* model_slots.h's numbering */
    if (lora) {
        g->lora_at = calloc((size_t)n_slots, sizeof *g->lora_at);
        if (!g->lora_at) {
            ya_train_graph_free(g);
            return ya_fail(err, YA_ERR, "out of memory");
        }
        for (size_t i = 0; i < lora->n_tensors; i++) {
            const YaLoraTensor *lt = &lora->t[i];
            g->lora_at[slot(lt->layer, (int)lt->target)] = lt;
        }
    }
    int rc = cfg->kind == YA_TRAIN_FULL ? build_full(g, err) : build_frozen(g, err);
    if (rc != YA_OK) {
        ya_train_graph_free(g);
        return rc;
    }

    /* ---- activations: sizes, then one allocation ---- */
    size_t B = (size_t)cfg->max_rows, T = (size_t)cfg->max_seq, BT = B * T;
    size_t h = (size_t)g->h, f = (size_t)g->f, qd = (size_t)g->qd, kvd = (size_t)g->kvd, r = (size_t)g->r;
    size_t L = (size_t)g->L, half = (size_t)g->d / 2;
    g->n_sets = cfg->recompute == YA_RECOMPUTE_LAYER ? 1 : g->L;
    size_t att_n = B * (size_t)g->n_h * T * T;
    size_t n_att_sets = cfg->recompute == YA_RECOMPUTE_NONE ? L : 1;
    size_t per_set = BT * (3 * h + 2 * qd + 2 * kvd + 2 * f + 2) + (lora ? (size_t)P_COUNT * BT * r : 0);
    int bf16 = cfg->matmul == YA_MATMUL_BF16;
    size_t ce = bf16 ? g->ops->cross_entropy_bf16w_scratch((int)BT, g->h, g->V, g->cfg.ce_chunk)
                     : g->ops->cross_entropy_scratch((int)BT, g->h, g->V, g->cfg.ce_chunk);
    size_t act_bf16 = bf16 ? (BT * maxz(maxz(h, f), qd) + 1) / 2 : 0; /* uint16 elements, in floats */
    size_t max_in = g->dropout_p > 0 ? maxz(maxz(h, f), qd) : 0; /* dropout scratch only when used */
    size_t total = 2 * T * half + (L + 1) * BT * h + BT * h + BT + (size_t)g->n_sets * per_set + n_att_sets * att_n +
                   3 * BT * h + 2 * BT * qd + 2 * BT * kvd + 4 * BT * f + BT * maxz(r, 1) + BT + ce + 2 * BT * max_in +
                   act_bf16;
    /* Each slice is rounded up to 16 floats (64 bytes); leave room for that. */
    total += 16 * (size_t)(40 + g->n_sets * (12 + P_COUNT) + n_att_sets);
    total = (total + 15) / 16 * 16; /* aligned_alloc: the size must be a multiple of the alignment */
    g->sets = calloc((size_t)g->n_sets, sizeof *g->sets);
    g->arena = aligned_alloc(64, total * sizeof(float));
    if (!g->sets || !g->arena) {
        ya_train_graph_free(g);
        return ya_fail(err, YA_ERR, "out of memory for training activations of %zu x %zu tokens (%.1f MB)", B, T,
                       (double)total * 4 / 1e6);
    }
    g->arena_floats = total;
    memset(g->arena, 0, total * sizeof(float));
    float *p = g->arena;
#define TAKE(ptr, n)                                                                                                \
    do {                                                                                                           \
        (ptr) = p;                                                                                                 \
        p += ((n) + 15) / 16 * 16;                                                                                 \
    } while (0)
    TAKE(g->rope_cos, T * half);
    TAKE(g->rope_sin, T * half);
    TAKE(g->xs, (L + 1) * BT * h); /* contiguous: layer l at xs + l·BT·h */
    TAKE(g->xf, BT * h);
    TAKE(g->rstdf, BT);
    float *shared_att = NULL;
    if (n_att_sets == 1) TAKE(shared_att, att_n);
    for (int i = 0; i < g->n_sets; i++) {
        LayerActs *a = &g->sets[i];
        TAKE(a->a1, BT * h);
        TAKE(a->rstd1, BT);
        TAKE(a->q, BT * qd);
        TAKE(a->k, BT * kvd);
        TAKE(a->v, BT * kvd);
        TAKE(a->ao, BT * qd);
        TAKE(a->h1, BT * h);
        TAKE(a->a2, BT * h);
        TAKE(a->rstd2, BT);
        TAKE(a->gate, BT * f);
        TAKE(a->up, BT * f);
        if (lora)
            for (int t = 0; t < P_COUNT; t++) TAKE(a->u[t], BT * r);
        if (shared_att) a->att = shared_att;
        else TAKE(a->att, att_n);
    }
    TAKE(g->dres, BT * h);
    TAKE(g->da, BT * h);
    TAKE(g->dxf, BT * h);
    TAKE(g->dq, BT * qd);
    TAKE(g->dk, BT * kvd);
    TAKE(g->dv, BT * kvd);
    TAKE(g->dao, BT * qd);
    TAKE(g->mm, BT * f);
    TAKE(g->dmm, BT * f);
    TAKE(g->dgate, BT * f);
    TAKE(g->dup, BT * f);
    TAKE(g->du, BT * maxz(r, 1));
    TAKE(g->nll, BT);
    TAKE(g->ce_scratch, ce);
    if (max_in) {
        TAKE(g->xd, BT * max_in);
        TAKE(g->dxd, BT * max_in);
    }
    if (act_bf16) {
        g->act_bf16 = (uint16_t *)p;
        p += (act_bf16 + 15) / 16 * 16;
    }
#undef TAKE
    if ((size_t)(p - g->arena) > total) abort(); /* sizing bug: never silently overrun */
    g->seg_row = malloc(BT * sizeof *g->seg_row);
    g->seg_start = malloc(BT * sizeof *g->seg_start);
    g->seg_len = malloc(BT * sizeof *g->seg_len);
    g->seg_att = malloc(BT * sizeof *g->seg_att);
    if (!g->seg_row || !g->seg_start || !g->seg_len || !g->seg_att) {
        ya_train_graph_free(g);
        return ya_fail(err, YA_ERR, "out of memory");
    }

    /* A frozen matrix that is not aligned F32 in the file is converted per use. */
    if (cfg->kind == YA_TRAIN_LORA) {
        int need = 0;
        for (int s = 0; s < g->L * S_COUNT; s++) {
            const YaTensorInfo *t = g->info[s];
            if (t && t->ndim == 2 && (bf16 ? !(t->dtype == YA_DTYPE_BF16 && (uintptr_t)t->data % 2 == 0) : !g->w32[s]))
                need = 1; /* fp32: not usable in place as fp32; bf16 mode: not usable in place as bf16 */
        }
        if (need) {
            g->wbuf = malloc(m->max_matrix_numel * sizeof(float));
            if (!g->wbuf) {
                ya_train_graph_free(g);
                return ya_fail(err, YA_ERR, "out of memory");
            }
        }
    }

    /* RoPE tables, positions 0 … T−1 (angles in double, as the inference graph). */
    double *inv_freq = malloc(half * sizeof *inv_freq);
    if (!inv_freq) {
        ya_train_graph_free(g);
        return ya_fail(err, YA_ERR, "out of memory");
    }
    ya_rope_inv_freq(c, inv_freq);
    for (size_t t = 0; t < T; t++)
        for (size_t i = 0; i < half; i++) {
            double ang = (double)t * inv_freq[i];
            g->rope_cos[t * half + i] = (float)cos(ang);
            g->rope_sin[t * half + i] = (float)sin(ang);
        }
    free(inv_freq);
    *out = g;
    return YA_OK;
}

void ya_train_graph_free(YaTrainGraph *g) {
    if (!g) return;
    if (g->blas_threads_prev > 0) ya_backend_cpu_set_blas_threads(g->blas_threads_prev);
    ya_cuda_train_graph_free(g->cuda);
    free(g->full.t);
    free(g->full.base);
    free(g->w32);
    free(g->g32);
    free(g->info);
    free(g->lora_at);
    free(g->frozen);
    free(g->sets);
    free(g->arena);
    free(g->wbuf);
    free(g->seg_row);
    free(g->seg_start);
    free(g->seg_len);
    free(g->seg_att);
    free(g);
}

void ya_train_graph_buffers(YaTrainGraph *g, float **params, float **grads, float **m, float **v, size_t *n) {
    if (g->cuda) {
        ya_cuda_train_graph_buffers(g->cuda, params, grads, m, v, n);
        return;
    }
    ya_trainable_buffers(g->lora, &g->full, params, grads, m, v, n);
}

void ya_train_graph_shape(const YaTrainGraph *g, int *max_rows, int *max_seq) {
    *max_rows = g->cfg.max_rows;
    *max_seq = g->cfg.max_seq;
}

const YaFullParams *ya_train_graph_full(const YaTrainGraph *g) {
    if (g->cuda) return ya_cuda_train_graph_full(g->cuda);
    return g->lora ? NULL : &g->full;
}

int ya_train_graph_pull(YaTrainGraph *g, YaError *err) { return g->cuda ? ya_cuda_train_graph_pull(g->cuda, err) : YA_OK; }

int ya_train_graph_push(YaTrainGraph *g, YaError *err) { return g->cuda ? ya_cuda_train_graph_push(g->cuda, err) : YA_OK; }

void ya_train_graph_grads_zero(YaTrainGraph *g) {
    if (g->cuda) {
        ya_cuda_train_graph_grads_zero(g->cuda);
        return;
    }
    float *p, *gr, *m, *v;
    size_t n;
    ya_train_graph_buffers(g, &p, &gr, &m, &v, &n);
    memset(gr, 0, n * sizeof(float));
}

int ya_train_graph_device_update(YaTrainGraph *g, const YaAdamWConfig *adamw, long long t, double lr,
                                 double max_norm, double *norm, YaError *err) {
    if (!g->cuda) return ya_fail(err, YA_ERR_USAGE, "internal: a CPU training graph updates its host buffers");
    return ya_cuda_train_graph_update(g->cuda, adamw, t, lr, max_norm, norm, err);
}

YaDevice ya_train_graph_device(const YaTrainGraph *g) { return g->cuda ? YA_DEVICE_CUDA : YA_DEVICE_CPU; }

size_t ya_train_graph_device_bytes(const YaTrainGraph *g) { return g->cuda ? ya_cuda_train_graph_device_bytes(g->cuda) : 0; }

size_t ya_train_graph_bytes(const YaTrainGraph *g) {
    if (g->cuda) return ya_cuda_train_graph_bytes(g->cuda);
    size_t b = g->arena_floats * sizeof(float) + 4 * g->full.n_params * sizeof(float);
    if (g->wbuf) b += g->model->max_matrix_numel * sizeof(float);
    return b;
}

void ya_train_graph_set_dropout(YaTrainGraph *g, int enabled, uint64_t seed, uint64_t counter) {
    if (g->cuda) ya_cuda_train_graph_set_dropout(g->cuda, enabled, seed, counter);
    g->dropout_on = enabled;
    g->dropout_seed = seed;
    g->dropout_counter = counter;
}

/* dst [M, K] = src ⊙ mask/(1−p) with the mask of (layer l, projection p) for
 * the current counter; each row draws from its own stream, so the result does
 * not depend on the thread count. dst may alias src. */
static void dropout_apply(const YaTrainGraph *g, int l, int p, float *dst, const float *src, int M, int K) {
    const float keep_scale = 1.0f / (1.0f - g->dropout_p), drop = g->dropout_p;
#pragma omp parallel for schedule(static)
    for (int row = 0; row < M; row++) {
        char tag[96];
        snprintf(tag, sizeof tag, "lora-dropout:%llu:%d:%d:%d", (unsigned long long)g->dropout_counter, l, p, row);
        YaRng rng;
        ya_rng_seed(&rng, g->dropout_seed, tag);
        const float *x = src + (size_t)row * K;
        float *y = dst + (size_t)row * K;
        for (int i = 0; i < K; i++) y[i] = ya_rng_uniform_f32(&rng) >= drop ? x[i] * keep_scale : 0.0f;
    }
}

static int dropout_active(const YaTrainGraph *g) { return g->dropout_p > 0 && g->dropout_on; }

/* ---- projections with LoRA --------------------------------------------------- */

/* Weight matrix of projection p in layer l as fp32 [N, K]. */
static const float *proj_weight(YaTrainGraph *g, int l, int p) {
    int s = slot(l, p);
    if (g->w32[s]) return g->w32[s];
    const YaTensorInfo *t = g->info[s];
    g->ops->to_f32(g->wbuf, t->data, t->dtype, t->numel);
    return g->wbuf;
}

/* --matmul bf16: the same matrix as bf16 [N, K]: the file's bf16 in place, else rounded into wbuf. */
static const uint16_t *proj_weight_bf16(YaTrainGraph *g, int l, int p) {
    const YaTensorInfo *t = g->info[slot(l, p)];
    if (t->dtype == YA_DTYPE_BF16 && (uintptr_t)t->data % 2 == 0) return (const uint16_t *)t->data;
    g->ops->to_bf16((uint16_t *)g->wbuf, t->data, t->dtype, t->numel);
    return (const uint16_t *)g->wbuf;
}

static const YaLoraTensor *lora_of(const YaTrainGraph *g, int l, int p) {
    return g->lora_at ? g->lora_at[slot(l, p)] : NULL;
}

/* The fp32 GEMMs of the LoRA factors: OpenBLAS, or in bf16 mode the same
 * product on the OpenMP threads (OpenBLAS is single-threaded there). */
static void lora_linear(YaTrainGraph *g, float *y, const float *x, const float *w, int M, int K, int N, int accumulate) {
    if (g->cfg.matmul == YA_MATMUL_BF16) g->ops->linear_f32_omp(y, x, w, M, K, N, accumulate);
    else g->ops->linear(y, x, w, NULL, M, K, N, accumulate);
}

static void lora_linear_backward(YaTrainGraph *g, float *dx, float *dw, const float *dy, const float *x, const float *w,
                                 int M, int K, int N) {
    if (g->cfg.matmul == YA_MATMUL_BF16) g->ops->linear_backward_f32_omp(dx, dw, dy, x, w, M, K, N);
    else g->ops->linear_backward(dx, dw, NULL, dy, x, w, M, K, N);
}

/* y (+)= x·Wᵀ + b + s·(x·Aᵀ)·Bᵀ, keeping u = s·(x·Aᵀ) in `u` [M, r].
 *   y [M, N], x [M, K]. */
static void proj_forward(YaTrainGraph *g, int l, int p, float *y, const float *x, float *u, int M, int accumulate) {
    const YaTensorInfo *wt = g->info[slot(l, p)];
    int N = (int)wt->shape[0], K = (int)wt->shape[1];
    if (g->cfg.matmul == YA_MATMUL_BF16) {
        g->ops->linear_bf16w(y, x, proj_weight_bf16(g, l, p), M, K, N, accumulate, g->act_bf16);
        const float *b = g->w32[slot(l, S_BIAS0 + p)]; // [N] or NULL
        if (b)
            for (int m = 0; m < M; m++) g->ops->add(y + (size_t)m * N, b, (size_t)N);
    } else {
        g->ops->linear(y, x, proj_weight(g, l, p), g->w32[slot(l, S_BIAS0 + p)], M, K, N, accumulate);
    }
    const YaLoraTensor *lt = lora_of(g, l, p);
    if (!lt) return;
    int r = g->r;
    const float *A = g->lora->params + lt->a_off; // [r, K]
    const float *B = g->lora->params + lt->b_off; // [N, r]
    const float *xa = x; // [M, K] the input A sees: dropout(x) in training
    if (dropout_active(g)) {
        dropout_apply(g, l, p, g->xd, x, M, K);
        xa = g->xd;
    }
    lora_linear(g, u, xa, A, M, K, r, 0);
    for (size_t i = 0; i < (size_t)M * r; i++) u[i] *= g->lora_scale; /* the scale rides on the rank-r activation */
    lora_linear(g, y, u, B, M, r, N, 1);
}

/* dx [M, K] += ∂/∂x; weight/bias grads (full) or A/B grads (LoRA) accumulate.
 *   dy [M, N], x [M, K] the forward input, u [M, r] as saved. */
static void proj_backward(YaTrainGraph *g, int l, int p, float *dx, const float *dy, const float *x, const float *u,
                          int M) {
    const YaTensorInfo *wt = g->info[slot(l, p)];
    int N = (int)wt->shape[0], K = (int)wt->shape[1];
    if (g->cfg.matmul == YA_MATMUL_BF16) /* LoRA only: the base weight and bias are frozen, only dx flows */
        g->ops->linear_bf16w_backward_dx(dx, dy, proj_weight_bf16(g, l, p), M, K, N, g->act_bf16);
    else
        g->ops->linear_backward(dx, g->g32[slot(l, p)], g->g32[slot(l, S_BIAS0 + p)], dy, x, proj_weight(g, l, p), M,
                                K, N);
    const YaLoraTensor *lt = lora_of(g, l, p);
    if (!lt) return;
    int r = g->r;
    const float *A = g->lora->params + lt->a_off, *B = g->lora->params + lt->b_off;
    float *dA = g->lora->grads + lt->a_off, *dB = g->lora->grads + lt->b_off;
    memset(g->du, 0, (size_t)M * r * sizeof(float));
    lora_linear_backward(g, g->du, dB, dy, u, B, M, r, N); /* dB = dyᵀ·(s·x·Aᵀ) */
    for (size_t i = 0; i < (size_t)M * r; i++) g->du[i] *= g->lora_scale;
    if (!dropout_active(g)) {
        lora_linear_backward(g, dx, dA, g->du, x, A, M, K, r);
        return;
    }
    /* With dropout: dA += duᵀ·dropout(x) and dx += dropout'(du·A) (the same mask). */
    dropout_apply(g, l, p, g->xd, x, M, K);
    memset(g->dxd, 0, (size_t)M * K * sizeof(float));
    lora_linear_backward(g, g->dxd, dA, g->du, g->xd, A, M, K, r);
    dropout_apply(g, l, p, g->dxd, g->dxd, M, K);
    g->ops->add(dx, g->dxd, (size_t)M * K);
}

/* ---- one decoder layer --------------------------------------------------------- */

static LayerActs *acts_of(YaTrainGraph *g, int l) { return &g->sets[g->n_sets == 1 ? 0 : l]; }

/* x_out [BT, h] = layer l of x_in [BT, h], filling the layer's saved activations. */
static void layer_forward(YaTrainGraph *g, int l, int B, int T, const float *x_in, float *x_out) {
    const YaBackendOps *ops = g->ops;
    LayerActs *a = acts_of(g, l);
    int BT = B * T, h = g->h, qd = g->qd, kvd = g->kvd, n_h = g->n_h, n_kv = g->n_kv, d = g->d;
    float eps = (float)g->model->cfg.rms_norm_eps;

    ops->rmsnorm(a->a1, a->rstd1, x_in, g->w32[slot(l, S_NORM1)], BT, h, eps);
    proj_forward(g, l, YA_LORA_Q, a->q, a->a1, a->u[YA_LORA_Q], BT, 0);
    proj_forward(g, l, YA_LORA_K, a->k, a->a1, a->u[YA_LORA_K], BT, 0);
    proj_forward(g, l, YA_LORA_V, a->v, a->a1, a->u[YA_LORA_V], BT, 0);
    memset(a->ao, 0, (size_t)BT * qd * sizeof(float)); /* positions outside every segment (padding) */
    for (int sg = 0; sg < g->n_seg; sg++) {
        size_t o = (size_t)g->seg_row[sg] * T + (size_t)g->seg_start[sg]; /* first row of the document */
        int n = g->seg_len[sg];
        ops->rope(a->q + o * qd, g->rope_cos, g->rope_sin, n, n_h, d);
        ops->rope(a->k + o * kvd, g->rope_cos, g->rope_sin, n, n_kv, d);
        ops->attention(a->ao + o * qd, a->att + g->seg_att[sg], a->q + o * qd, a->k + o * kvd, a->v + o * kvd, n, n, 0,
                       n_h, n_kv, d);
    }
    memcpy(a->h1, x_in, (size_t)BT * h * sizeof(float));
    proj_forward(g, l, YA_LORA_O, a->h1, a->ao, a->u[YA_LORA_O], BT, 1);

    ops->rmsnorm(a->a2, a->rstd2, a->h1, g->w32[slot(l, S_NORM2)], BT, h, eps);
    proj_forward(g, l, YA_LORA_GATE, a->gate, a->a2, a->u[YA_LORA_GATE], BT, 0);
    proj_forward(g, l, YA_LORA_UP, a->up, a->a2, a->u[YA_LORA_UP], BT, 0);
    ops->swiglu(g->mm, a->gate, a->up, (size_t)BT * g->f);
    memcpy(x_out, a->h1, (size_t)BT * h * sizeof(float));
    proj_forward(g, l, YA_LORA_DOWN, x_out, g->mm, a->u[YA_LORA_DOWN], BT, 1);
}

/* g->dres [BT, h]: gradient w.r.t. the layer's output on entry, w.r.t. its input x_in on exit. */
static void layer_backward(YaTrainGraph *g, int l, int B, int T, const float *x_in) {
    const YaBackendOps *ops = g->ops;
    LayerActs *a = acts_of(g, l);
    int BT = B * T, h = g->h, qd = g->qd, kvd = g->kvd, n_h = g->n_h, n_kv = g->n_kv, d = g->d;
    size_t nf = (size_t)BT * g->f;

    if (g->cfg.recompute == YA_RECOMPUTE_LAYER) {
        /* Rerun the forward of this layer from its saved input; the output row
         * goes to xs[l+1] again (identical bits: the same ops in the same order). */
        layer_forward(g, l, B, T, x_in, g->xs + (size_t)(l + 1) * BT * h);
    } else if (g->cfg.recompute == YA_RECOMPUTE_ATTN) {
        for (int sg = 0; sg < g->n_seg; sg++) {
            size_t o = (size_t)g->seg_row[sg] * T + (size_t)g->seg_start[sg];
            int n = g->seg_len[sg];
            ops->attention(a->ao + o * qd, a->att + g->seg_att[sg], a->q + o * qd, a->k + o * kvd, a->v + o * kvd, n,
                           n, 0, n_h, n_kv, d);
        }
    }

    /* MLP: out = h1 + down(swiglu(gate(a2), up(a2))); the residual passes dres through unchanged. */
    ops->swiglu(g->mm, a->gate, a->up, nf); /* down_proj's input, recomputed rather than kept */
    memset(g->dmm, 0, nf * sizeof(float));
    proj_backward(g, l, YA_LORA_DOWN, g->dmm, g->dres, g->mm, a->u[YA_LORA_DOWN], BT);
    memset(g->dgate, 0, nf * sizeof(float));
    memset(g->dup, 0, nf * sizeof(float));
    ops->swiglu_backward(g->dgate, g->dup, g->dmm, a->gate, a->up, nf);
    memset(g->da, 0, (size_t)BT * h * sizeof(float));
    proj_backward(g, l, YA_LORA_GATE, g->da, g->dgate, a->a2, a->u[YA_LORA_GATE], BT);
    proj_backward(g, l, YA_LORA_UP, g->da, g->dup, a->a2, a->u[YA_LORA_UP], BT);
    ops->rmsnorm_backward(g->dres, g->g32[slot(l, S_NORM2)], g->da, a->h1, g->w32[slot(l, S_NORM2)], a->rstd2, BT, h);

    /* Attention: h1 = x + o(attn(rope(q(a1)), rope(k(a1)), v(a1))). */
    memset(g->dao, 0, (size_t)BT * qd * sizeof(float));
    proj_backward(g, l, YA_LORA_O, g->dao, g->dres, a->ao, a->u[YA_LORA_O], BT);
    memset(g->dq, 0, (size_t)BT * qd * sizeof(float));
    memset(g->dk, 0, (size_t)BT * kvd * sizeof(float));
    memset(g->dv, 0, (size_t)BT * kvd * sizeof(float));
    for (int sg = 0; sg < g->n_seg; sg++) {
        size_t o = (size_t)g->seg_row[sg] * T + (size_t)g->seg_start[sg];
        size_t oq = o * qd, okv = o * kvd;
        int n = g->seg_len[sg];
        ops->attention_backward(g->dq + oq, g->dk + okv, g->dv + okv, g->dao + oq, a->att + g->seg_att[sg],
                                a->ao + oq, a->q + oq, a->k + okv, a->v + okv, n, n, 0, n_h, n_kv, d);
        ops->rope_backward(g->dq + oq, g->rope_cos, g->rope_sin, n, n_h, d);
        ops->rope_backward(g->dk + okv, g->rope_cos, g->rope_sin, n, n_kv, d);
    }
    memset(g->da, 0, (size_t)BT * h * sizeof(float));
    proj_backward(g, l, YA_LORA_Q, g->da, g->dq, a->a1, a->u[YA_LORA_Q], BT);
    proj_backward(g, l, YA_LORA_K, g->da, g->dk, a->a1, a->u[YA_LORA_K], BT);
    proj_backward(g, l, YA_LORA_V, g->da, g->dv, a->a1, a->u[YA_LORA_V], BT);
    ops->rmsnorm_backward(g->dres, g->g32[slot(l, S_NORM1)], g->da, x_in, g->w32[slot(l, S_NORM1)], a->rstd1, BT, h);
}

/* ---- the step ---------------------------------------------------------------------- */

int ya_train_graph_run(YaTrainGraph *g, const int32_t *ids, const int32_t *targets, const float *weight, int B,
                       int T, int backward, double *loss_sum, float *nll, YaError *err) {
    return ya_train_graph_run_segments(g, ids, targets, weight, B, T, NULL, 0, backward, loss_sum, nll, err);
}

int ya_train_graph_run_segments(YaTrainGraph *g, const int32_t *ids, const int32_t *targets, const float *weight,
                                int B, int T, const YaTrainSegment *segs, int n_segs, int backward, double *loss_sum,
                                float *nll, YaError *err) {
    if (g->cuda)
        return ya_cuda_train_graph_run_segments(g->cuda, ids, targets, weight, B, T, segs, n_segs, backward, loss_sum, nll,
                                                err);
    int rc = ya_train_batch_check(ids, targets, weight, B, T, g->cfg.max_rows, g->cfg.max_seq, g->V, segs, n_segs,
                                  g->seg_row, g->seg_start, g->seg_len, &g->n_seg, err);
    if (rc != YA_OK) return rc;
    int BT = B * T, h = g->h, L = g->L, V = g->V;
    /* Each row's probabilities [n_h, len, len] are laid out one after the other inside its [n_h, T, T] slot. */
    size_t row_used = 0;
    for (int sg = 0; sg < g->n_seg; sg++) {
        if (sg == 0 || g->seg_row[sg] != g->seg_row[sg - 1]) row_used = 0;
        g->seg_att[sg] = (size_t)g->seg_row[sg] * g->n_h * T * T + row_used;
        row_used += (size_t)g->n_h * g->seg_len[sg] * g->seg_len[sg];
    }
    const YaBackendOps *ops = g->ops;
    const int gE = L * S_COUNT + G_EMBED, gN = L * S_COUNT + G_NORM, gH = L * S_COUNT + G_LM_HEAD;
    const float eps = (float)g->model->cfg.rms_norm_eps;
    size_t row_h = (size_t)BT * h;

    /* ---- forward ---- */
    if (g->w32[gE]) ops->embedding(g->xs, g->w32[gE], YA_DTYPE_F32, ids, BT, h);
    else ops->embedding(g->xs, g->info[gE]->data, g->info[gE]->dtype, ids, BT, h);
    for (int l = 0; l < L; l++) layer_forward(g, l, B, T, g->xs + (size_t)l * row_h, g->xs + (size_t)(l + 1) * row_h);
    ops->rmsnorm(g->xf, g->rstdf, g->xs + (size_t)L * row_h, g->w32[gN], BT, h, eps);

    /* ---- fused lm_head + CE: dlogits never leave the chunk ---- */
    const void *head = g->w32[gH] ? (const void *)g->w32[gH] : g->info[gH]->data;
    YaDtype head_dt = g->w32[gH] ? YA_DTYPE_F32 : g->info[gH]->dtype;
    if (backward) memset(g->dxf, 0, row_h * sizeof(float));
    double loss;
    if (g->cfg.matmul == YA_MATMUL_BF16) /* the head as stored: bf16 read in place, another dtype rounded per chunk */
        loss = ops->cross_entropy_bf16w(g->nll, backward ? g->dxf : NULL, backward ? g->g32[gH] : NULL, g->xf,
                                        g->info[gH]->data, g->info[gH]->dtype, targets, weight, BT, h, V,
                                        g->cfg.ce_chunk, g->ce_scratch);
    else
        loss = ops->cross_entropy(g->nll, backward ? g->dxf : NULL, backward ? g->g32[gH] : NULL, g->xf, head, head_dt,
                                  targets, weight, BT, h, V, g->cfg.ce_chunk, g->ce_scratch);
    *loss_sum = loss;
    if (nll) memcpy(nll, g->nll, (size_t)BT * sizeof(float));
    if (!backward) return YA_OK;

    /* ---- backward ---- */
    memset(g->dres, 0, row_h * sizeof(float));
    ops->rmsnorm_backward(g->dres, g->g32[gN], g->dxf, g->xs + (size_t)L * row_h, g->w32[gN], g->rstdf, BT, h);
    /* LoRA: nothing below the first adapted block has a trainable parameter. */
    int lowest = g->lora ? g->lora->first_layer : 0;
    for (int l = L - 1; l >= lowest; l--) layer_backward(g, l, B, T, g->xs + (size_t)l * row_h);
    if (g->g32[gE]) ops->embedding_backward(g->g32[gE], g->dres, ids, BT, h);
    return YA_OK;
}

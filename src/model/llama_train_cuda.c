/* llama_train_cuda.c — the training graph on one GPU (llama_train_cuda.h):
 * llama_train.c's forward / fused CE / backward over the CUDA op table, with
 * the same layer order, the same op per step and model_slots.h's numbering.
 * Every buffer comes from the model's device arena, sized once by a dry run
 * of layout(); a step allocates nothing. Without CUDA in the build every
 * entry fails with a message saying so. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/llama_train_cuda.h"
#include "model/model_slots.h"
#include "model/train_batch_check.h"

#ifndef YA_HAVE_CUDA

int ya_cuda_train_graph_new(const YaModel *m, YaLoraSet *lora, const YaTrainGraphConfig *cfg, YaCudaTrainGraph **out,
                            YaError *err) {
    (void)m, (void)lora, (void)cfg;
    *out = NULL;
    return ya_fail(err, YA_ERR, "--device cuda: this build has no CUDA backend (nvcc was not found when it was configured)");
}
void ya_cuda_train_graph_free(YaCudaTrainGraph *g) { (void)g; }
void ya_cuda_train_graph_buffers(YaCudaTrainGraph *g, float **params, float **grads, float **m, float **v, size_t *n) {
    (void)g;
    *params = *grads = *m = *v = NULL;
    *n = 0;
}
const YaFullParams *ya_cuda_train_graph_full(const YaCudaTrainGraph *g) { (void)g; return NULL; }
size_t ya_cuda_train_graph_bytes(const YaCudaTrainGraph *g) { (void)g; return 0; }
size_t ya_cuda_train_graph_device_bytes(const YaCudaTrainGraph *g) { (void)g; return 0; }
void ya_cuda_train_graph_set_dropout(YaCudaTrainGraph *g, int enabled, uint64_t seed, uint64_t counter) {
    (void)g, (void)enabled, (void)seed, (void)counter;
}
int ya_cuda_train_graph_run_segments(YaCudaTrainGraph *g, const int32_t *ids, const int32_t *targets,
                                     const float *weight, int B, int T, const YaTrainSegment *segs, int n_segs,
                                     int backward, double *loss_sum, float *nll, YaError *err) {
    (void)g, (void)ids, (void)targets, (void)weight, (void)B, (void)T, (void)segs, (void)n_segs, (void)backward;
    (void)loss_sum, (void)nll;
    return ya_fail(err, YA_ERR, "this build has no CUDA backend");
}
void ya_cuda_train_graph_grads_zero(YaCudaTrainGraph *g) { (void)g; }
int ya_cuda_train_graph_update(YaCudaTrainGraph *g, const YaAdamWConfig *adamw, long long t, double lr,
                               double max_norm, double *norm, YaError *err) {
    (void)g, (void)adamw, (void)t, (void)lr, (void)max_norm, (void)norm;
    return ya_fail(err, YA_ERR, "this build has no CUDA backend");
}
int ya_cuda_train_graph_pull(YaCudaTrainGraph *g, YaError *err) { (void)g; return ya_fail(err, YA_ERR, "this build has no CUDA backend"); }
int ya_cuda_train_graph_push(YaCudaTrainGraph *g, YaError *err) { (void)g; return ya_fail(err, YA_ERR, "this build has no CUDA backend"); }

#else /* YA_HAVE_CUDA */

#include <math.h>
#include <stdio.h>

#include "model/llama_cuda.h"
#include "your_ai/rng.h"

/* What one layer's backward needs (docs/BACKWARD.md), for all B·T rows, bf16
 * unless noted; the CPU graph's LayerActs minus the [T, T] probabilities
 * (the attention keeps its per-row log-sum-exp instead). The normalised
 * inputs a1, a2 are one buffer shared by every layer: the backward recomputes
 * them from the saved layer input / h1 (the same op on the same bits, so the
 * gradients do not change) — 2·BT·h bf16 less to keep per layer. */
typedef struct CudaLayerActs {
    YaBf16 *a1; float *rstd1;   // [BT, h], [BT]   input RMSNorm output and 1/rms
    YaBf16 *q, *k, *v;          // [BT, qd], [BT, kvd] ×2  (q, k after RoPE)
    YaBf16 *ao;                 // [BT, qd]  attention output (input of o_proj)
    float *lse;                 // [n_h·BT] per segment: n_h × len log-sum-exp rows (fp32)
    YaBf16 *h1;                 // [BT, h]   residual after attention
    YaBf16 *a2; float *rstd2;   // [BT, h], [BT]
    YaBf16 *gate, *up;          // [BT, f] each, before SwiGLU
    YaBf16 *mm;                 // [BT, f] SwiGLU output = down_proj's input (kept: recomputing it costs 3 passes over [BT, f])
    YaBf16 *u[YA_LORA_TARGET_COUNT]; // [BT, r]  s·(x·Aᵀ) of each adapted projection (NULL otherwise)
} CudaLayerActs;

struct YaCudaTrainGraph {
    const YaModel *model;
    YaCudaModel *cm;       /* weights (bf16, slot-indexed), RoPE tables, context, arena */
    const YaCudaOps *ops;
    YaCudaCtx *ctx;
    YaTrainGraphConfig cfg;
    YaLoraSet *lora;       /* LoRA mode: host mirror of the trainables */
    YaFullParams full;     /* full mode: host mirror (fp32 table, model_slots.c) */
    int *full_slot;        // [n_tensors] slot of each full-table entry
    int L, h, f, n_h, n_kv, d, qd, kvd, V, r;
    float lora_scale;
    /* LoRA dropout: masks from ops->dropout keyed by (seed, counter, layer, projection) */
    float dropout_p;
    int dropout_on;
    uint64_t dropout_seed, dropout_counter;
    YaBf16 *xd, *dxd;      // [BT, max(h, f, qd)] dropped-out input of A and its gradient (dropout > 0 only)
    /* trainables on the device: fp32 params / grads / moments [n], bf16 compute copy of the LoRA factors */
    size_t n;
    float *P, *G, *M, *Vm; // [n] each: parameters, gradients, AdamW first and second moments
    YaBf16 *Pb;            // [n] LoRA: bf16 copies of A and B (refreshed after every update)
    float **g32;           // [slot count] full mode: the gradient of each slot's tensor (device), else NULL
    const YaLoraTensor **lora_at; // [slot count]
    /* activations */
    YaBf16 *xs;            // [L+1, BT, h] input of every layer; xs[L] = final pre-norm stream
    YaBf16 *xf; float *rstdf;     // [BT, h], [BT]
    int n_sets;            /* L (recompute none/attn) or 1 (layer) */
    CudaLayerActs *sets;
    /* backward scratch */
    YaBf16 *dres, *da, *dxf;      // [BT, h]
    YaBf16 *dq, *dk, *dv, *dao;   // [BT, qd], [BT, kvd] ×2, [BT, qd]
    YaBf16 *dmm, *dgate, *dup; // [BT, f]
    YaBf16 *du;            // [BT, r]
    float *nll;            // [BT]
    float *ce_scratch;     // [ops->cross_entropy_scratch(BT, h, V, ce_chunk)]
    int32_t *ids, *targets; // [BT] device copies of the micro-batch
    float *weight;         // [BT]
    int n_seg;
    int *seg_row, *seg_start, *seg_len; // host [BT]
    size_t device_bytes;
    int lowest;            /* first layer whose backward runs */
};

static size_t align256(size_t b) { return (b + 255) / 256 * 256; }

/* Carves the graph's device buffers; a dry run (ctx NULL) only adds up the bytes. */
typedef struct Carver {
    YaCudaCtx *ctx;
    size_t bytes;
    YaError *err;
    int failed;
} Carver;

static void *carve(Carver *c, size_t bytes, const char *what) {
    c->bytes += align256(bytes);
    if (!c->ctx) return (void *)(uintptr_t)256; /* dry: any non-NULL value, never dereferenced */
    if (c->failed) return NULL;
    void *p = ya_cuda_alloc(c->ctx, bytes, what, c->err);
    if (!p) c->failed = 1;
    return p;
}

static size_t maxz(size_t a, size_t b) { return a > b ? a : b; }

static void layout(YaCudaTrainGraph *g, Carver *c) {
    size_t BT = (size_t)g->cfg.max_rows * g->cfg.max_seq, h = (size_t)g->h, f = (size_t)g->f;
    size_t qd = (size_t)g->qd, kvd = (size_t)g->kvd, r = (size_t)g->r, L = (size_t)g->L;
    g->P = carve(c, g->n * 4, "trainable parameters");
    g->G = carve(c, g->n * 4, "gradients");
    g->M = carve(c, g->n * 4, "AdamW first moments");
    g->Vm = carve(c, g->n * 4, "AdamW second moments");
    g->Pb = g->lora ? carve(c, g->n * 2, "bf16 LoRA factors") : NULL;
    g->xs = carve(c, (L + 1) * BT * h * 2, "layer inputs");
    g->xf = carve(c, BT * h * 2, "final norm output");
    g->rstdf = carve(c, BT * 4, "final norm rstd");
    YaBf16 *a1 = carve(c, BT * h * 2, "normalised inputs"), *a2 = carve(c, BT * h * 2, "normalised inputs");
    for (int i = 0; i < g->n_sets; i++) {
        CudaLayerActs *a = &g->sets[i];
        a->a1 = a1;
        a->rstd1 = carve(c, BT * 4, "activations");
        a->q = carve(c, BT * qd * 2, "activations");
        a->k = carve(c, BT * kvd * 2, "activations");
        a->v = carve(c, BT * kvd * 2, "activations");
        a->ao = carve(c, BT * qd * 2, "activations");
        a->lse = carve(c, (size_t)g->n_h * BT * 4, "attention log-sum-exp");
        a->h1 = carve(c, BT * h * 2, "activations");
        a->a2 = a2;
        a->rstd2 = carve(c, BT * 4, "activations");
        a->gate = carve(c, BT * f * 2, "activations");
        a->up = carve(c, BT * f * 2, "activations");
        a->mm = carve(c, BT * f * 2, "activations");
        for (int p = 0; p < YA_LORA_TARGET_COUNT; p++) a->u[p] = g->lora ? carve(c, BT * r * 2, "LoRA activations") : NULL;
    }
    g->dres = carve(c, BT * h * 2, "gradient scratch");
    g->da = carve(c, BT * h * 2, "gradient scratch");
    g->dxf = carve(c, BT * h * 2, "gradient scratch");
    g->dq = carve(c, BT * qd * 2, "gradient scratch");
    g->dk = carve(c, BT * kvd * 2, "gradient scratch");
    g->dv = carve(c, BT * kvd * 2, "gradient scratch");
    g->dao = carve(c, BT * qd * 2, "gradient scratch");
    g->dmm = carve(c, BT * f * 2, "gradient scratch");
    g->dgate = carve(c, BT * f * 2, "gradient scratch");
    g->dup = carve(c, BT * f * 2, "gradient scratch");
    g->du = carve(c, BT * maxz(r, 1) * 2, "gradient scratch");
    g->nll = carve(c, BT * 4, "per-token loss");
    g->ce_scratch = carve(c, g->ops->cross_entropy_scratch((int)BT, g->h, g->V, g->cfg.ce_chunk) * 4, "cross-entropy scratch");
    g->ids = carve(c, BT * 4, "token ids");
    g->targets = carve(c, BT * 4, "targets");
    g->weight = carve(c, BT * 4, "loss weights");
    if (g->dropout_p > 0) {
        size_t max_in = maxz(maxz(h, f), qd);
        g->xd = carve(c, BT * max_in * 2, "LoRA dropout scratch");
        g->dxd = carve(c, BT * max_in * 2, "LoRA dropout scratch");
    }
}

int ya_cuda_train_graph_new(const YaModel *m, YaLoraSet *lora, const YaTrainGraphConfig *cfg, YaCudaTrainGraph **out,
                            YaError *err) {
    *out = NULL;
    const YaModelConfig *c = &m->cfg;
    if (c->head_dim % 32 || c->head_dim > 256)
        return ya_fail(err, YA_ERR_USAGE, "%s: head_dim %d: the GPU attention takes multiples of 32 up to 256", m->dir,
                       c->head_dim);
    YaCudaTrainGraph *g = calloc(1, sizeof *g);
    if (!g) return ya_fail(err, YA_ERR, "out of memory");
    g->model = m;
    g->ops = ya_backend_cuda();
    g->cfg = *cfg;
    if (g->cfg.ce_chunk <= 0) g->cfg.ce_chunk = 4096;
    g->lora = lora;
    g->L = c->num_hidden_layers, g->h = c->hidden_size, g->f = c->intermediate_size;
    g->n_h = c->num_attention_heads, g->n_kv = c->num_key_value_heads, g->d = c->head_dim;
    g->qd = g->n_h * g->d, g->kvd = g->n_kv * g->d, g->V = c->vocab_size;
    g->r = lora ? lora->cfg.rank : 0;
    g->lora_scale = lora ? (float)ya_lora_scale(&lora->cfg) : 0.0f;
    g->dropout_p = lora ? (float)lora->cfg.dropout : 0.0f;
    g->n_sets = cfg->recompute == YA_RECOMPUTE_LAYER ? 1 : g->L;
    g->lowest = lora ? lora->first_layer : 0;
    int n_slots = ya_slot_count(g->L);
    size_t BT = (size_t)cfg->max_rows * cfg->max_seq;
    g->sets = calloc((size_t)g->n_sets, sizeof *g->sets);
    g->g32 = calloc((size_t)n_slots, sizeof *g->g32);
    g->lora_at = calloc((size_t)n_slots, sizeof *g->lora_at);
    g->seg_row = malloc(BT * sizeof *g->seg_row);
    g->seg_start = malloc(BT * sizeof *g->seg_start);
    g->seg_len = malloc(BT * sizeof *g->seg_len);
    if (!g->sets || !g->g32 || !g->lora_at || !g->seg_row || !g->seg_start || !g->seg_len) {
        ya_cuda_train_graph_free(g);
        return ya_fail(err, YA_ERR, "out of memory");
    }
    int rc = YA_OK;
    if (lora) {
        g->n = lora->n_params;
        for (size_t i = 0; i < lora->n_tensors; i++)
            g->lora_at[ya_slot_layer(lora->t[i].layer, (int)lora->t[i].target)] = &lora->t[i];
    } else {
        g->full_slot = calloc((size_t)n_slots, sizeof *g->full_slot);
        if (!g->full_slot) rc = ya_fail(err, YA_ERR, "out of memory");
        if (rc == YA_OK) rc = ya_full_params_build(m, &g->full, g->full_slot, err);
        g->n = g->full.n_params;
    }
    if (rc != YA_OK) {
        ya_cuda_train_graph_free(g);
        return rc;
    }
    Carver dry = {0};
    layout(g, &dry);
    if ((rc = ya_cuda_model_new(m, cfg->gpu, cfg->max_seq, dry.bytes + 4096, &g->cm, err)) != YA_OK) {
        ya_cuda_train_graph_free(g);
        return rc;
    }
    g->ctx = g->cm->ctx;
    Carver real = {.ctx = g->ctx, .err = err};
    layout(g, &real);
    if (real.failed) {
        ya_cuda_train_graph_free(g);
        return YA_ERR;
    }
    if (!lora)
        for (size_t i = 0; i < g->full.n_tensors; i++) g->g32[g->full_slot[i]] = g->G + g->full.t[i].off;
    if (!lora && c->tie_word_embeddings)
        g->g32[ya_slot_global(g->L, YA_SLOT_LM_HEAD)] = g->g32[ya_slot_global(g->L, YA_SLOT_EMBED)];
    g->device_bytes = ya_cuda_arena_size(g->ctx);
    if ((rc = ya_cuda_train_graph_push(g, err)) != YA_OK) {
        ya_cuda_train_graph_free(g);
        return rc;
    }
    *out = g;
    return YA_OK;
}

void ya_cuda_train_graph_free(YaCudaTrainGraph *g) {
    if (!g) return;
    ya_cuda_model_free(g->cm);
    ya_full_params_free(&g->full);
    free(g->full_slot);
    free(g->sets);
    free(g->g32);
    free(g->lora_at);
    free(g->seg_row);
    free(g->seg_start);
    free(g->seg_len);
    free(g);
}

void ya_cuda_train_graph_buffers(YaCudaTrainGraph *g, float **params, float **grads, float **m, float **v, size_t *n) {
    ya_trainable_buffers(g->lora, &g->full, params, grads, m, v, n);
}

const YaFullParams *ya_cuda_train_graph_full(const YaCudaTrainGraph *g) { return g->lora ? NULL : &g->full; }

size_t ya_cuda_train_graph_bytes(const YaCudaTrainGraph *g) { return g->device_bytes; }

size_t ya_cuda_train_graph_device_bytes(const YaCudaTrainGraph *g) { return g->device_bytes; }

void ya_cuda_train_graph_set_dropout(YaCudaTrainGraph *g, int enabled, uint64_t seed, uint64_t counter) {
    g->dropout_on = enabled;
    g->dropout_seed = seed;
    g->dropout_counter = counter;
}

static int dropout_active(const YaCudaTrainGraph *g) { return g->dropout_p > 0 && g->dropout_on; }

/* dst [M, K] = dropout(src) with the mask of (layer l, projection p) for the current counter. */
static void dropout_apply(YaCudaTrainGraph *g, int l, int p, YaBf16 *dst, const YaBf16 *src, int M, int K) {
    char tag[96];
    snprintf(tag, sizeof tag, "lora-dropout:%llu:%d:%d", (unsigned long long)g->dropout_counter, l, p);
    YaRng rng;
    ya_rng_seed(&rng, g->dropout_seed, tag);
    g->ops->dropout(g->ctx, dst, src, M, K, g->dropout_p, ya_rng_next_u64(&rng));
}

/* The bf16 compute copies after the fp32 trainables changed. */
static void refresh_bf16(YaCudaTrainGraph *g) {
    if (g->lora) {
        g->ops->to_bf16(g->ctx, g->Pb, g->P, YA_DTYPE_F32, g->n);
        return;
    }
    for (size_t i = 0; i < g->full.n_tensors; i++)
        g->ops->to_bf16(g->ctx, g->cm->w[g->full_slot[i]], g->P + g->full.t[i].off, YA_DTYPE_F32, g->full.t[i].numel);
}

int ya_cuda_train_graph_pull(YaCudaTrainGraph *g, YaError *err) {
    float *p, *gr, *m, *v;
    size_t n;
    ya_cuda_train_graph_buffers(g, &p, &gr, &m, &v, &n);
    ya_cuda_download(g->ctx, p, g->P, n * 4);
    ya_cuda_download(g->ctx, gr, g->G, n * 4);
    ya_cuda_download(g->ctx, m, g->M, n * 4);
    ya_cuda_download(g->ctx, v, g->Vm, n * 4);
    return ya_cuda_sync(g->ctx, err);
}

int ya_cuda_train_graph_push(YaCudaTrainGraph *g, YaError *err) {
    float *p, *gr, *m, *v;
    size_t n;
    ya_cuda_train_graph_buffers(g, &p, &gr, &m, &v, &n);
    ya_cuda_upload(g->ctx, g->P, p, n * 4);
    ya_cuda_upload(g->ctx, g->G, gr, n * 4);
    ya_cuda_upload(g->ctx, g->M, m, n * 4);
    ya_cuda_upload(g->ctx, g->Vm, v, n * 4);
    refresh_bf16(g);
    return ya_cuda_sync(g->ctx, err);
}

void ya_cuda_train_graph_grads_zero(YaCudaTrainGraph *g) { ya_cuda_memset0(g->ctx, g->G, g->n * 4); }

int ya_cuda_train_graph_update(YaCudaTrainGraph *g, const YaAdamWConfig *adamw, long long t, double lr,
                               double max_norm, double *norm, YaError *err) {
    *norm = ya_cuda_clip_grad_norm(g->ctx, g->G, g->n, max_norm);
    int rc = ya_cuda_sync(g->ctx, err);
    if (rc != YA_OK || !isfinite(*norm)) return rc;
    g->ops->adamw(g->ctx, (int)adamw->kind, adamw->beta1, adamw->beta2, adamw->eps, adamw->weight_decay, t, lr, g->P,
                  g->G, g->M, g->Vm, g->n);
    refresh_bf16(g);
    return ya_cuda_sync(g->ctx, err);
}

/* ---- projections with LoRA ------------------------------------------------------ */

static const YaTensorInfo *proj_info(const YaCudaTrainGraph *g, int l, int p) {
    return ya_model_slot_tensor(g->model, ya_slot_layer(l, p));
}

/* y (+)= x·Wᵀ + b + s·(x·Aᵀ)·Bᵀ, keeping u = s·(x·Aᵀ) [M, r].  y [M, N], x [M, K] (bf16). */
static void proj_forward(YaCudaTrainGraph *g, int l, int p, YaBf16 *y, const YaBf16 *x, YaBf16 *u, int M,
                         int accumulate) {
    const YaTensorInfo *wt = proj_info(g, l, p);
    int N = (int)wt->shape[0], K = (int)wt->shape[1];
    YaBf16 *const *w = g->cm->w;
    const YaLoraTensor *lt = g->lora_at[ya_slot_layer(l, p)];
    if (!lt) {
        g->ops->linear(g->ctx, y, x, w[ya_slot_layer(l, p)], w[ya_slot_layer(l, YA_SLOT_BIAS0 + p)], YA_DTYPE_BF16, M, K,
                       N, accumulate);
        return;
    }
    int r = g->r;
    const YaBf16 *xa = x; /* the input A sees: dropout(x) in training */
    if (dropout_active(g)) {
        dropout_apply(g, l, p, g->xd, x, M, K);
        xa = g->xd;
    }
    g->ops->linear(g->ctx, u, xa, g->Pb + lt->a_off, NULL, YA_DTYPE_BF16, M, K, r, 0); /* A [r, K] */
    g->ops->scale(g->ctx, u, (size_t)M * r, g->lora_scale);
    if (accumulate) {
        g->ops->linear(g->ctx, y, x, w[ya_slot_layer(l, p)], w[ya_slot_layer(l, YA_SLOT_BIAS0 + p)], YA_DTYPE_BF16, M, K,
                       N, 1);
        g->ops->linear(g->ctx, y, u, g->Pb + lt->b_off, NULL, YA_DTYPE_BF16, M, r, N, 1); /* B [N, r] */
    } else {
        /* The rank-r product first, written (not read-modify-written) into y; the base GEMM
         * then adds it through its epilogue (beta 1), where the read hides behind the math:
         * one pass over y [M, N] less than base-then-adapter. */
        g->ops->linear(g->ctx, y, u, g->Pb + lt->b_off, NULL, YA_DTYPE_BF16, M, r, N, 0);
        g->ops->linear(g->ctx, y, x, w[ya_slot_layer(l, p)], w[ya_slot_layer(l, YA_SLOT_BIAS0 + p)], YA_DTYPE_BF16, M, K,
                       N, 1);
    }
}

/* dx [M, K] += ∂/∂x; weight/bias grads (full) or A/B grads (LoRA) accumulate (fp32).
 *   dy [M, N], x [M, K] the forward input, u [M, r] as saved. */
static void proj_backward(YaCudaTrainGraph *g, int l, int p, YaBf16 *dx, const YaBf16 *dy, const YaBf16 *x,
                          const YaBf16 *u, int M) {
    const YaTensorInfo *wt = proj_info(g, l, p);
    int N = (int)wt->shape[0], K = (int)wt->shape[1];
    int sw = ya_slot_layer(l, p), sb = ya_slot_layer(l, YA_SLOT_BIAS0 + p);
    g->ops->linear_backward(g->ctx, dx, g->g32[sw], g->g32[sb], dy, x, g->cm->w[sw], YA_DTYPE_BF16, M, K, N);
    const YaLoraTensor *lt = g->lora_at[sw];
    if (!lt) return;
    int r = g->r;
    ya_cuda_memset0(g->ctx, g->du, (size_t)M * r * 2);
    g->ops->linear_backward(g->ctx, g->du, g->G + lt->b_off, NULL, dy, u, g->Pb + lt->b_off, YA_DTYPE_BF16, M, r, N);
    g->ops->scale(g->ctx, g->du, (size_t)M * r, g->lora_scale);
    if (!dropout_active(g)) {
        g->ops->linear_backward(g->ctx, dx, g->G + lt->a_off, NULL, g->du, x, g->Pb + lt->a_off, YA_DTYPE_BF16, M, K, r);
        return;
    }
    /* With dropout: dA += duᵀ·dropout(x) and dx += dropout'(du·A) (the same mask). */
    dropout_apply(g, l, p, g->xd, x, M, K);
    ya_cuda_memset0(g->ctx, g->dxd, (size_t)M * K * 2);
    g->ops->linear_backward(g->ctx, g->dxd, g->G + lt->a_off, NULL, g->du, g->xd, g->Pb + lt->a_off, YA_DTYPE_BF16, M,
                            K, r);
    dropout_apply(g, l, p, g->dxd, g->dxd, M, K);
    g->ops->add(g->ctx, dx, g->dxd, (size_t)M * K);
}

/* ---- one decoder layer ------------------------------------------------------------- */

static CudaLayerActs *acts_of(YaCudaTrainGraph *g, int l) { return &g->sets[g->n_sets == 1 ? 0 : l]; }

/* Rows of segment sg: offset of its first token in [BT]. */
static size_t seg_off(const YaCudaTrainGraph *g, int sg, int T) {
    return (size_t)g->seg_row[sg] * T + (size_t)g->seg_start[sg];
}

static void layer_forward(YaCudaTrainGraph *g, int l, int B, int T, const YaBf16 *x_in, YaBf16 *x_out) {
    const YaCudaOps *ops = g->ops;
    YaCudaCtx *ctx = g->ctx;
    CudaLayerActs *a = acts_of(g, l);
    int BT = B * T, h = g->h, qd = g->qd, kvd = g->kvd, n_h = g->n_h, n_kv = g->n_kv, d = g->d;
    float eps = (float)g->model->cfg.rms_norm_eps;
    YaBf16 *const *w = g->cm->w;

    ops->rmsnorm(ctx, a->a1, a->rstd1, x_in, w[ya_slot_layer(l, YA_SLOT_NORM1)], BT, h, eps);
    proj_forward(g, l, YA_LORA_Q, a->q, a->a1, a->u[YA_LORA_Q], BT, 0);
    proj_forward(g, l, YA_LORA_K, a->k, a->a1, a->u[YA_LORA_K], BT, 0);
    proj_forward(g, l, YA_LORA_V, a->v, a->a1, a->u[YA_LORA_V], BT, 0);
    ya_cuda_memset0(ctx, a->ao, (size_t)BT * qd * 2); /* positions outside every segment (padding) */
    for (int sg = 0; sg < g->n_seg; sg++) {
        size_t o = seg_off(g, sg, T);
        int n = g->seg_len[sg];
        ops->rope(ctx, a->q + o * qd, g->cm->rope_cos, g->cm->rope_sin, n, n_h, d);
        ops->rope(ctx, a->k + o * kvd, g->cm->rope_cos, g->cm->rope_sin, n, n_kv, d);
        ops->attention(ctx, a->ao + o * qd, a->lse + (size_t)n_h * o, a->q + o * qd, a->k + o * kvd, a->v + o * kvd, n,
                       n, 0, n_h, n_kv, d);
    }
    ya_cuda_copy(ctx, a->h1, x_in, (size_t)BT * h * 2);
    proj_forward(g, l, YA_LORA_O, a->h1, a->ao, a->u[YA_LORA_O], BT, 1);

    ops->rmsnorm(ctx, a->a2, a->rstd2, a->h1, w[ya_slot_layer(l, YA_SLOT_NORM2)], BT, h, eps);
    proj_forward(g, l, YA_LORA_GATE, a->gate, a->a2, a->u[YA_LORA_GATE], BT, 0);
    proj_forward(g, l, YA_LORA_UP, a->up, a->a2, a->u[YA_LORA_UP], BT, 0);
    ops->swiglu(ctx, a->mm, a->gate, a->up, (size_t)BT * g->f);
    ya_cuda_copy(ctx, x_out, a->h1, (size_t)BT * h * 2);
    proj_forward(g, l, YA_LORA_DOWN, x_out, a->mm, a->u[YA_LORA_DOWN], BT, 1);
}

/* g->dres [BT, h]: gradient w.r.t. the layer's output on entry, w.r.t. its input x_in on exit. */
static void layer_backward(YaCudaTrainGraph *g, int l, int B, int T, const YaBf16 *x_in) {
    const YaCudaOps *ops = g->ops;
    YaCudaCtx *ctx = g->ctx;
    CudaLayerActs *a = acts_of(g, l);
    int BT = B * T, h = g->h, qd = g->qd, kvd = g->kvd, n_h = g->n_h, n_kv = g->n_kv, d = g->d;
    size_t nf = (size_t)BT * g->f;
    YaBf16 *const *w = g->cm->w;

    float eps = (float)g->model->cfg.rms_norm_eps;
    if (g->cfg.recompute == YA_RECOMPUTE_LAYER) {
        layer_forward(g, l, B, T, x_in, g->xs + (size_t)(l + 1) * BT * h); /* same ops, same bits */
    } else {
        /* the shared a1/a2 hold the last forward layer's: recompute this layer's */
        ops->rmsnorm(ctx, a->a1, NULL, x_in, w[ya_slot_layer(l, YA_SLOT_NORM1)], BT, h, eps);
        ops->rmsnorm(ctx, a->a2, NULL, a->h1, w[ya_slot_layer(l, YA_SLOT_NORM2)], BT, h, eps);
    }

    ya_cuda_memset0(ctx, g->dmm, nf * 2);
    proj_backward(g, l, YA_LORA_DOWN, g->dmm, g->dres, a->mm, a->u[YA_LORA_DOWN], BT);
    ops->swiglu_backward_set(ctx, g->dgate, g->dup, g->dmm, a->gate, a->up, nf); /* writes: no zero-fill */
    ya_cuda_memset0(ctx, g->da, (size_t)BT * h * 2);
    proj_backward(g, l, YA_LORA_GATE, g->da, g->dgate, a->a2, a->u[YA_LORA_GATE], BT);
    proj_backward(g, l, YA_LORA_UP, g->da, g->dup, a->a2, a->u[YA_LORA_UP], BT);
    ops->rmsnorm_backward(ctx, g->dres, g->g32[ya_slot_layer(l, YA_SLOT_NORM2)], g->da, a->h1,
                          w[ya_slot_layer(l, YA_SLOT_NORM2)], a->rstd2, BT, h);

    ya_cuda_memset0(ctx, g->dao, (size_t)BT * qd * 2);
    proj_backward(g, l, YA_LORA_O, g->dao, g->dres, a->ao, a->u[YA_LORA_O], BT);
    ya_cuda_memset0(ctx, g->dq, (size_t)BT * qd * 2);
    ya_cuda_memset0(ctx, g->dk, (size_t)BT * kvd * 2);
    ya_cuda_memset0(ctx, g->dv, (size_t)BT * kvd * 2);
    for (int sg = 0; sg < g->n_seg; sg++) {
        size_t o = seg_off(g, sg, T), oq = o * qd, okv = o * kvd;
        int n = g->seg_len[sg];
        ops->attention_backward(ctx, g->dq + oq, g->dk + okv, g->dv + okv, g->dao + oq, a->lse + (size_t)n_h * o,
                                a->ao + oq, a->q + oq, a->k + okv, a->v + okv, n, n, 0, n_h, n_kv, d);
        ops->rope_backward(ctx, g->dq + oq, g->cm->rope_cos, g->cm->rope_sin, n, n_h, d);
        ops->rope_backward(ctx, g->dk + okv, g->cm->rope_cos, g->cm->rope_sin, n, n_kv, d);
    }
    ya_cuda_memset0(ctx, g->da, (size_t)BT * h * 2);
    proj_backward(g, l, YA_LORA_Q, g->da, g->dq, a->a1, a->u[YA_LORA_Q], BT);
    proj_backward(g, l, YA_LORA_K, g->da, g->dk, a->a1, a->u[YA_LORA_K], BT);
    proj_backward(g, l, YA_LORA_V, g->da, g->dv, a->a1, a->u[YA_LORA_V], BT);
    ops->rmsnorm_backward(ctx, g->dres, g->g32[ya_slot_layer(l, YA_SLOT_NORM1)], g->da, x_in,
                          w[ya_slot_layer(l, YA_SLOT_NORM1)], a->rstd1, BT, h);
}

/* ---- the step ---------------------------------------------------------------------------- */

int ya_cuda_train_graph_run_segments(YaCudaTrainGraph *g, const int32_t *ids, const int32_t *targets,
                                     const float *weight, int B, int T, const YaTrainSegment *segs, int n_segs,
                                     int backward, double *loss_sum, float *nll, YaError *err) {
    int rc = ya_train_batch_check(ids, targets, weight, B, T, g->cfg.max_rows, g->cfg.max_seq, g->V, segs, n_segs,
                                  g->seg_row, g->seg_start, g->seg_len, &g->n_seg, err);
    if (rc != YA_OK) return rc;
    const YaCudaOps *ops = g->ops;
    YaCudaCtx *ctx = g->ctx;
    int BT = B * T, h = g->h, L = g->L, V = g->V;
    size_t row_h = (size_t)BT * h;
    const float eps = (float)g->model->cfg.rms_norm_eps;
    YaBf16 *const *w = g->cm->w;
    ya_cuda_upload(ctx, g->ids, ids, (size_t)BT * 4);
    ya_cuda_upload(ctx, g->targets, targets, (size_t)BT * 4);
    ya_cuda_upload(ctx, g->weight, weight, (size_t)BT * 4);

    /* ---- forward ---- */
    ops->embedding(ctx, g->xs, w[ya_slot_global(L, YA_SLOT_EMBED)], YA_DTYPE_BF16, g->ids, BT, h);
    for (int l = 0; l < L; l++) layer_forward(g, l, B, T, g->xs + (size_t)l * row_h, g->xs + (size_t)(l + 1) * row_h);
    ops->rmsnorm(ctx, g->xf, g->rstdf, g->xs + (size_t)L * row_h, w[ya_slot_global(L, YA_SLOT_NORM)], BT, h, eps);

    /* ---- fused lm_head + CE (synchronises: the loss comes back to the host) ---- */
    if (backward) ya_cuda_memset0(ctx, g->dxf, row_h * 2);
    int gH = ya_slot_global(L, YA_SLOT_LM_HEAD);
    double loss = ops->cross_entropy(ctx, g->nll, backward ? g->dxf : NULL, backward ? g->g32[gH] : NULL, g->xf, w[gH],
                                     YA_DTYPE_BF16, g->targets, g->weight, BT, h, V, g->cfg.ce_chunk, g->ce_scratch);
    *loss_sum = loss;
    if (nll) ya_cuda_download(ctx, nll, g->nll, (size_t)BT * 4);
    if (backward) {
        ya_cuda_memset0(ctx, g->dres, row_h * 2);
        ops->rmsnorm_backward(ctx, g->dres, g->g32[ya_slot_global(L, YA_SLOT_NORM)], g->dxf, g->xs + (size_t)L * row_h,
                              w[ya_slot_global(L, YA_SLOT_NORM)], g->rstdf, BT, h);
        for (int l = L - 1; l >= g->lowest; l--) layer_backward(g, l, B, T, g->xs + (size_t)l * row_h);
        int gE = ya_slot_global(L, YA_SLOT_EMBED);
        if (g->g32[gE]) ops->embedding_backward(ctx, g->g32[gE], g->dres, g->ids, BT, h);
    }
    rc = ya_cuda_sync(ctx, err);
    if (rc != YA_OK) ya_error_prefix(err, "GPU training graph");
    return rc;
}

#endif /* YA_HAVE_CUDA */

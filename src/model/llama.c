/* llama.c — the Llama graph (Llama 2/3, Mistral, Qwen2), written once against
 * the backend op table.
 *
 * Loading maps the safetensors files and resolves every HF tensor name
 * (SPEC §6.3) with its shape checked; no weight is read until a forward pass
 * needs it. The forward pass follows SPEC §6.2 step by step; weights that are
 * not fp32 in the file are converted one matrix at a time into a single
 * scratch buffer (so a bf16 model never exists in fp32 as a whole), and the
 * residual adds are folded into the projections (y += x·Wᵀ). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h" /* defines: YaBackendOps, ya_backend_cpu */
#include "model/finite_check.h"     /* defines: ya_model_check_logits */
#include "model/llama_cuda_infer.h" /* defines: YaCudaInfer, the GPU half of a state */
#include "your_ai/log.h"     /* defines: ya_warn */
#include "your_ai/lora.h"    /* defines: YaLoraTarget (the adapter table's column order) */
#include "your_ai/model.h"

/* ---- loading -------------------------------------------------------------- */

/* Collects the names of missing tensors so one error lists them all. */
typedef struct Resolver {
    const YaWeights *w;
    const YaTensorInfo **found; /* every tensor we resolved, to spot unexpected ones */
    size_t n_found, cap_found;
    char missing[768];
    size_t n_missing;
    int shape_failed;
    YaError shape_err; /* first wrong shape */
} Resolver;

static const YaTensorInfo *resolve(Resolver *r, const char *name, int ndim, int64_t d0, int64_t d1) {
    const YaTensorInfo *t = ya_weights_find(r->w, name);
    if (!t) {
        size_t len = strlen(r->missing);
        if (r->n_missing < 8)
            snprintf(r->missing + len, sizeof r->missing - len, "%s%s", r->n_missing ? ", " : "", name);
        r->n_missing++;
        return NULL;
    }
    int64_t shape[2] = {d0, d1};
    if (!r->shape_failed) {
        YaError e;
        if (ya_tensor_check(t, ndim, shape, &e) != YA_OK) {
            r->shape_failed = 1;
            r->shape_err = e;
            ya_error_prefix(&r->shape_err, "%s", t->file);
        }
    }
    if (r->n_found < r->cap_found) r->found[r->n_found++] = t;
    return t;
}

static const YaTensorInfo *resolve_layer(Resolver *r, int layer, const char *suffix, int ndim, int64_t d0, int64_t d1) {
    char name[256];
    snprintf(name, sizeof name, "model.layers.%d.%s", layer, suffix);
    return resolve(r, name, ndim, d0, d1);
}

static int cmp_ptr(const void *a, const void *b) {
    uintptr_t x = (uintptr_t)*(const void *const *)a, y = (uintptr_t)*(const void *const *)b;
    return (x > y) - (x < y);
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int check_config(const YaModelConfig *c, const char *dir, YaError *err) {
    if (c->hidden_size <= 0 || c->intermediate_size <= 0 || c->num_hidden_layers <= 0 || c->vocab_size <= 0 ||
        c->num_attention_heads <= 0 || c->num_key_value_heads <= 0 || c->head_dim <= 0)
        return ya_fail(err, YA_ERR, "%s/config.json: sizes must be positive", dir);
    if (c->num_attention_heads % c->num_key_value_heads)
        return ya_fail(err, YA_ERR, "%s/config.json: num_attention_heads %d is not a multiple of num_key_value_heads %d",
                       dir, c->num_attention_heads, c->num_key_value_heads);
    if (c->head_dim % 2) return ya_fail(err, YA_ERR, "%s/config.json: head_dim %d must be even for RoPE", dir, c->head_dim);
    return YA_OK;
}

int ya_model_open(const char *model_dir, YaModel **out, YaError *err) {
    *out = NULL;
    YaModel *m = calloc(1, sizeof *m);
    if (!m) return ya_fail(err, YA_ERR, "out of memory");
    snprintf(m->dir, sizeof m->dir, "%s", model_dir);
    int rc = ya_config_load_dir(model_dir, &m->cfg, err);
    if (rc == YA_OK) rc = check_config(&m->cfg, model_dir, err);
    if (rc == YA_OK) rc = ya_weights_open_dir(model_dir, &m->weights, err);
    if (rc != YA_OK) {
        ya_model_free(m);
        return rc;
    }
    const YaModelConfig *c = &m->cfg;
    int64_t h = c->hidden_size, f = c->intermediate_size, V = c->vocab_size;
    int64_t qd = (int64_t)c->num_attention_heads * c->head_dim, kvd = (int64_t)c->num_key_value_heads * c->head_dim;
    int L = c->num_hidden_layers;
    m->layers = calloc((size_t)L, sizeof *m->layers);
    Resolver r = {.w = m->weights, .cap_found = 3 + (size_t)L * 16};
    r.found = calloc(r.cap_found, sizeof *r.found);
    if (!m->layers || !r.found) {
        free(r.found);
        ya_model_free(m);
        return ya_fail(err, YA_ERR, "out of memory");
    }

    m->embed = resolve(&r, "model.embed_tokens.weight", 2, V, h);
    m->norm = resolve(&r, "model.norm.weight", 1, h, 0);
    m->lm_head = c->tie_word_embeddings ? m->embed : resolve(&r, "lm_head.weight", 2, V, h);
    for (int l = 0; l < L; l++) {
        YaLlamaLayer *ly = &m->layers[l];
        ly->input_norm = resolve_layer(&r, l, "input_layernorm.weight", 1, h, 0);
        ly->post_norm = resolve_layer(&r, l, "post_attention_layernorm.weight", 1, h, 0);
        ly->wq = resolve_layer(&r, l, "self_attn.q_proj.weight", 2, qd, h);
        ly->wk = resolve_layer(&r, l, "self_attn.k_proj.weight", 2, kvd, h);
        ly->wv = resolve_layer(&r, l, "self_attn.v_proj.weight", 2, kvd, h);
        ly->wo = resolve_layer(&r, l, "self_attn.o_proj.weight", 2, h, qd);
        ly->w_gate = resolve_layer(&r, l, "mlp.gate_proj.weight", 2, f, h);
        ly->w_up = resolve_layer(&r, l, "mlp.up_proj.weight", 2, f, h);
        ly->w_down = resolve_layer(&r, l, "mlp.down_proj.weight", 2, h, f);
        if (c->attention_bias) {
            ly->bq = resolve_layer(&r, l, "self_attn.q_proj.bias", 1, qd, 0);
            ly->bk = resolve_layer(&r, l, "self_attn.k_proj.bias", 1, kvd, 0);
            ly->bv = resolve_layer(&r, l, "self_attn.v_proj.bias", 1, kvd, 0);
        }
        if (c->o_bias) ly->bo = resolve_layer(&r, l, "self_attn.o_proj.bias", 1, h, 0);
        if (c->mlp_bias) {
            ly->b_gate = resolve_layer(&r, l, "mlp.gate_proj.bias", 1, f, 0);
            ly->b_up = resolve_layer(&r, l, "mlp.up_proj.bias", 1, f, 0);
            ly->b_down = resolve_layer(&r, l, "mlp.down_proj.bias", 1, h, 0);
        }
    }
    if (r.n_missing || r.shape_failed) {
        if (r.n_missing)
            rc = ya_fail(err, YA_ERR, "%s: %zu required tensor%s missing: %s%s", model_dir, r.n_missing,
                         r.n_missing == 1 ? " is" : "s are", r.missing, r.n_missing > 8 ? ", ..." : "");
        else {
            if (err) *err = r.shape_err;
            rc = YA_ERR;
        }
        free(r.found);
        ya_model_free(m);
        return rc;
    }

    /* Unexpected tensors: warn (a checkpoint with extra heads still loads); ignore rotary caches. */
    qsort(r.found, r.n_found, sizeof *r.found, cmp_ptr);
    size_t n_unexpected = 0;
    for (size_t i = 0; i < ya_weights_count(m->weights); i++) {
        const YaTensorInfo *t = ya_weights_at(m->weights, i);
        if (bsearch(&t, r.found, r.n_found, sizeof *r.found, cmp_ptr) || ends_with(t->name, "rotary_emb.inv_freq"))
            continue;
        if (n_unexpected++ < 8) ya_warn("%s: unexpected tensor '%s' ignored", model_dir, t->name);
    }
    if (n_unexpected > 8) ya_warn("%s: %zu unexpected tensors ignored in all", model_dir, n_unexpected);
    free(r.found);

    size_t mats[4] = {(size_t)qd * h, (size_t)kvd * h, (size_t)h * qd, (size_t)f * h};
    for (int i = 0; i < 4; i++)
        if (mats[i] > m->max_matrix_numel) m->max_matrix_numel = mats[i];
    *out = m;
    return YA_OK;
}

void ya_model_free(YaModel *m) {
    if (!m) return;
    free(m->layers);
    ya_weights_close(m->weights);
    free(m);
}

/* ---- inference state ------------------------------------------------------ */

struct YaInferState {
    const YaModel *model;
    const YaBackendOps *ops;
    int max_ctx, max_chunk, pos;
    /* Set for a --device cuda state: the GPU graph, KV cache and weights
     * (llama_cuda_infer.c); the host buffers below are then not allocated. */
    YaCudaInfer *gpu;
    int lm_rows; /* lm_head rows converted per block (≤ V) */
    /* One allocation; the pointers below slice it. */
    float *arena;
    float *rope_cos, *rope_sin; // [max_ctx, d/2] each
    float *k_cache, *v_cache;   // [L, max_ctx, n_kv*d] each
    float *x;                   // [C, h] residual stream (C = max_chunk)
    float *xn;                  // [C, h] normalised input of a sublayer
    float *q;                   // [C, n_h*d]
    float *att_out;             // [C, n_h*d]
    float *att;                 // [n_h, C, max_ctx] softmax probabilities
    float *gate, *up;           // [C, f] each
    float *vec;                 // [max(h, f, n_h*d)] a converted norm weight or bias
    float *logit_block;         // [C, lm_rows] when lm_head is processed in row blocks
    /* Separate allocation, touched only when a weight is not fp32 in the file:
     * a fp32 model never pays for it. */
    float *wbuf; // [max(max_matrix_numel, lm_rows*h)]
    size_t wbuf_numel;
    /* LoRA intermediate A·x of an attached adapter, sized on the first forward
     * that has one (the adapter may be attached after the state is made). */
    float *lora_ax; // [C, r]
    size_t lora_ax_numel;
};

static size_t maxz(size_t a, size_t b) { return a > b ? a : b; }

/* Checks shared by both devices; clamps *max_chunk to max_ctx. */
static int check_state_sizes(const YaModel *m, int max_ctx, int *max_chunk, YaError *err) {
    const YaModelConfig *c = &m->cfg;
    if (max_ctx <= 0 || *max_chunk <= 0) return ya_fail(err, YA_ERR_USAGE, "context and chunk sizes must be positive");
    if (*max_chunk > max_ctx) *max_chunk = max_ctx;
    if (c->sliding_window > 0 && max_ctx > c->sliding_window)
        return ya_fail(err, YA_ERR_USAGE,
                       "%s: context of %d tokens exceeds sliding_window %d (the window mask is not implemented)", m->dir,
                       max_ctx, c->sliding_window);
    if (c->max_position_embeddings > 0 && max_ctx > c->max_position_embeddings)
        ya_warn("%s: context of %d tokens exceeds max_position_embeddings %d", m->dir, max_ctx,
                c->max_position_embeddings);
    return YA_OK;
}

int ya_infer_state_new_on(const YaModel *m, YaDevice dev, int gpu, int max_ctx, int max_chunk, YaInferState **out,
                          YaError *err) {
    if (dev != YA_DEVICE_CUDA) return ya_infer_state_new(m, max_ctx, max_chunk, out, err);
    *out = NULL;
    int rc = check_state_sizes(m, max_ctx, &max_chunk, err);
    if (rc != YA_OK) return rc;
    YaInferState *s = calloc(1, sizeof *s);
    if (!s) return ya_fail(err, YA_ERR, "out of memory");
    s->model = m;
    s->max_ctx = max_ctx;
    s->max_chunk = max_chunk;
    if ((rc = ya_cuda_infer_new(m, gpu, max_ctx, max_chunk, &s->gpu, err)) != YA_OK) {
        free(s);
        return rc;
    }
    *out = s;
    return YA_OK;
}

YaDevice ya_infer_state_device(const YaInferState *s) { return s->gpu ? YA_DEVICE_CUDA : YA_DEVICE_CPU; }

int ya_infer_state_new(const YaModel *m, int max_ctx, int max_chunk, YaInferState **out, YaError *err) {
    *out = NULL;
    const YaModelConfig *c = &m->cfg;
    int rc = check_state_sizes(m, max_ctx, &max_chunk, err);
    if (rc != YA_OK) return rc;
    YaInferState *s = calloc(1, sizeof *s);
    if (!s) return ya_fail(err, YA_ERR, "out of memory");
    s->model = m;
    s->ops = ya_backend_cpu();
    s->max_ctx = max_ctx;
    s->max_chunk = max_chunk;
    size_t C = (size_t)max_chunk, T = (size_t)max_ctx, h = (size_t)c->hidden_size, f = (size_t)c->intermediate_size;
    size_t half = (size_t)c->head_dim / 2, qd = (size_t)c->num_attention_heads * c->head_dim;
    size_t kvd = (size_t)c->num_key_value_heads * c->head_dim, L = (size_t)c->num_hidden_layers;
    size_t V = (size_t)c->vocab_size;
    /* lm_head in blocks of rows that fit the matrix scratch (the whole head for small vocabularies). */
    size_t rows = maxz(1, m->max_matrix_numel / h);
    s->lm_rows = (int)(rows < V ? rows : V);

    size_t sizes[] = {T * half, T * half, L * T * kvd, L * T * kvd, C * h, C * h, C * qd, C * qd,
                      (size_t)c->num_attention_heads * C * T, C * f, C * f, maxz(maxz(h, f), maxz(qd, kvd)),
                      (size_t)s->lm_rows < V ? C * (size_t)s->lm_rows : 0};
    float **slots[] = {&s->rope_cos, &s->rope_sin, &s->k_cache, &s->v_cache, &s->x, &s->xn, &s->q, &s->att_out,
                       &s->att, &s->gate, &s->up, &s->vec, &s->logit_block};
    size_t n_slots = sizeof sizes / sizeof *sizes, total = 0;
    for (size_t i = 0; i < n_slots; i++) total += sizes[i];
    s->arena = malloc(total * sizeof(float));
    s->wbuf_numel = maxz(m->max_matrix_numel, (size_t)s->lm_rows * h);
    s->wbuf = malloc(s->wbuf_numel * sizeof(float));
    if (!s->arena || !s->wbuf) {
        double mb = (double)(total + s->wbuf_numel) * 4 / 1e6;
        ya_infer_state_free(s);
        return ya_fail(err, YA_ERR, "out of memory for an inference state of %d tokens (%.1f MB)", max_ctx, mb);
    }
    float *p = s->arena;
    for (size_t i = 0; i < n_slots; i++) {
        *slots[i] = sizes[i] ? p : NULL;
        p += sizes[i];
    }

    /* RoPE tables: angles in double (pos · inv_freq), stored as float. */
    double *inv_freq = malloc(half * sizeof *inv_freq);
    if (!inv_freq) {
        ya_infer_state_free(s);
        return ya_fail(err, YA_ERR, "out of memory");
    }
    ya_rope_inv_freq(c, inv_freq);
    for (size_t t = 0; t < T; t++)
        for (size_t i = 0; i < half; i++) {
            double a = (double)t * inv_freq[i];
            s->rope_cos[t * half + i] = (float)cos(a);
            s->rope_sin[t * half + i] = (float)sin(a);
        }
    free(inv_freq);
    *out = s;
    return YA_OK;
}

void ya_infer_state_free(YaInferState *s) {
    if (!s) return;
    ya_cuda_infer_free(s->gpu);
    free(s->arena);
    free(s->wbuf);
    free(s->lora_ax);
    free(s);
}

void ya_infer_state_reset(YaInferState *s) { s->pos = 0; }
int ya_infer_state_pos(const YaInferState *s) { return s->pos; }
int ya_infer_state_capacity(const YaInferState *s) { return s->max_ctx; }

/* ---- forward -------------------------------------------------------------- */

/* n elements of t starting at element `first`, as fp32: in place when the file
 * holds aligned fp32, else converted into dst. */
static const float *as_f32(const YaInferState *s, const YaTensorInfo *t, size_t first, size_t n, float *dst) {
    const char *src = (const char *)t->data + first * ya_dtype_size(t->dtype);
    if (t->dtype == YA_DTYPE_F32 && (uintptr_t)src % _Alignof(float) == 0) return (const float *)src;
    s->ops->to_f32(dst, src, t->dtype, n);
    return dst;
}

static const float *weight(const YaInferState *s, const YaTensorInfo *t) { return as_f32(s, t, 0, t->numel, s->wbuf); }
static const float *small(const YaInferState *s, const YaTensorInfo *t) {
    return t ? as_f32(s, t, 0, t->numel, s->vec) : NULL;
}

/* Up to this many rows (decode steps, short chunks) a weight that is not
 * directly usable fp32 is read at its stored width by linear_stored; more rows
 * amortise a whole-matrix conversion and run as one sgemm. */
enum { STORED_MAX_ROWS = 8 };

static int direct_f32(const YaTensorInfo *t) {
    return t->dtype == YA_DTYPE_F32 && (uintptr_t)t->data % _Alignof(float) == 0;
}

/* The attached adapter's factors for (layer, target), or NULL. */
static const YaLoraFactors *lora_at(const YaModel *m, int layer, int target) {
    if (!m->lora) return NULL;
    const YaLoraFactors *f = &m->lora[(size_t)layer * YA_LORA_TARGET_COUNT + (size_t)target];
    return f->A ? f : NULL;
}

/* y += (α/r)·B(A·x) (SPEC §7): LoRA stays factored, B·A is never formed.
 * The scale is applied to the [M, r] intermediate, the smallest tensor. */
static void lora_add(const YaInferState *s, float *y, const float *x, const YaLoraFactors *f, int M, int K, int N) {
    int r = s->model->lora_rank;
    float *ax = s->lora_ax; // [M, r]
    s->ops->linear(ax, x, f->A, NULL, M, K, r, 0);
    float scale = s->model->lora_scale;
    for (size_t i = 0; i < (size_t)M * r; i++) ax[i] *= scale;
    s->ops->linear(y, ax, f->B, NULL, M, r, N, 1);
}

/* y (+)= x · Wᵀ + b (+ LoRA). The bias is converted after the weight: they use different scratch.
 * Every projection of the graph goes through here, so this is where an attached
 * adapter adds its factored term without touching the graph. */
static void project(const YaInferState *s, float *y, const float *x, const YaTensorInfo *w, const YaTensorInfo *b,
                    const YaLoraFactors *lora, int M, int accumulate) {
    int K = (int)w->shape[1], N = (int)w->shape[0];
    const float *bf = small(s, b); // [N] or NULL
    if (M <= STORED_MAX_ROWS && !direct_f32(w)) {
        s->ops->linear_stored(y, x, w->data, w->dtype, bf, M, K, N, accumulate);
    } else {
        const float *wf = weight(s, w); // [N, K]
        s->ops->linear(y, x, wf, bf, M, K, N, accumulate);
    }
    if (lora) lora_add(s, y, x, lora, M, K, N);
}

/* One chunk of T ≤ max_chunk tokens at positions s->pos …; leaves the final
 * normalised hidden states in s->xn. */
static void forward_chunk(YaInferState *s, const int32_t *tokens, int T) {
    const YaModel *m = s->model;
    const YaModelConfig *c = &m->cfg;
    const YaBackendOps *ops = s->ops;
    int h = c->hidden_size, d = c->head_dim, n_h = c->num_attention_heads, n_kv = c->num_key_value_heads;
    int kvd = n_kv * d, half = d / 2, pos = s->pos;
    float eps = (float)c->rms_norm_eps;
    size_t layer_kv = (size_t)s->max_ctx * kvd;

    ops->embedding(s->x, m->embed->data, m->embed->dtype, tokens, T, h);
    for (int l = 0; l < c->num_hidden_layers; l++) {
        const YaLlamaLayer *ly = &m->layers[l];
        float *kc = s->k_cache + l * layer_kv; // [max_ctx, n_kv*d]
        float *vc = s->v_cache + l * layer_kv; // [max_ctx, n_kv*d]
        float *k_new = kc + (size_t)pos * kvd; // [T, n_kv*d] rows appended to the cache
        float *v_new = vc + (size_t)pos * kvd; // [T, n_kv*d]

        /* attention sublayer: x += Wo · attn(RoPE(Wq·a), RoPE(Wk·a), Wv·a), a = RMSNorm(x) */
        ops->rmsnorm(s->xn, NULL, s->x, small(s, ly->input_norm), T, h, eps);
        project(s, s->q, s->xn, ly->wq, ly->bq, lora_at(m, l, YA_LORA_Q), T, 0);
        project(s, k_new, s->xn, ly->wk, ly->bk, lora_at(m, l, YA_LORA_K), T, 0);
        project(s, v_new, s->xn, ly->wv, ly->bv, lora_at(m, l, YA_LORA_V), T, 0);
        ops->rope(s->q, s->rope_cos + (size_t)pos * half, s->rope_sin + (size_t)pos * half, T, n_h, d);
        ops->rope(k_new, s->rope_cos + (size_t)pos * half, s->rope_sin + (size_t)pos * half, T, n_kv, d);
        ops->attention(s->att_out, s->att, s->q, kc, vc, T, pos + T, pos, n_h, n_kv, d);
        project(s, s->x, s->att_out, ly->wo, ly->bo, lora_at(m, l, YA_LORA_O), T, 1);

        /* MLP sublayer: x += Wdown · (silu(Wgate·m) ⊙ Wup·m), m = RMSNorm₂(x) */
        ops->rmsnorm(s->xn, NULL, s->x, small(s, ly->post_norm), T, h, eps);
        project(s, s->gate, s->xn, ly->w_gate, ly->b_gate, lora_at(m, l, YA_LORA_GATE), T, 0);
        project(s, s->up, s->xn, ly->w_up, ly->b_up, lora_at(m, l, YA_LORA_UP), T, 0);
        ops->swiglu(s->gate, s->gate, s->up, (size_t)T * c->intermediate_size);
        project(s, s->x, s->gate, ly->w_down, ly->b_down, lora_at(m, l, YA_LORA_DOWN), T, 1);
    }
    ops->rmsnorm(s->xn, NULL, s->x, small(s, m->norm), T, h, eps);
    s->pos += T;
}

/* logits [M, V] = hn [M, h] · lm_headᵀ, converting the head block by block. */
static void lm_head(const YaInferState *s, const float *hn, int M, float *logits) {
    const YaTensorInfo *w = s->model->lm_head;
    int h = s->model->cfg.hidden_size, V = s->model->cfg.vocab_size;
    if (M <= STORED_MAX_ROWS && !direct_f32(w)) {
        s->ops->linear_stored(logits, hn, w->data, w->dtype, NULL, M, h, V, 0);
        return;
    }
    if (direct_f32(w) || s->lm_rows >= V) {
        s->ops->linear(logits, hn, weight(s, w), NULL, M, h, V, 0);
        return;
    }
    for (int v0 = 0; v0 < V; v0 += s->lm_rows) {
        int rows = V - v0 < s->lm_rows ? V - v0 : s->lm_rows;
        const float *wf = as_f32(s, w, (size_t)v0 * h, (size_t)rows * h, s->wbuf); // [rows, h]
        if (M == 1) {
            s->ops->linear(logits + v0, hn, wf, NULL, 1, h, rows, 0);
            continue;
        }
        s->ops->linear(s->logit_block, hn, wf, NULL, M, h, rows, 0); // [M, rows]
        for (int t = 0; t < M; t++)
            memcpy(logits + (size_t)t * V + v0, s->logit_block + (size_t)t * rows, (size_t)rows * sizeof(float));
    }
}

int ya_model_forward(const YaModel *m, YaInferState *s, const int32_t *tokens, int T, int all_positions,
                     float *logits, YaError *err) {
    const YaModelConfig *c = &m->cfg;
    if (T <= 0) return ya_fail(err, YA_ERR_USAGE, "forward: no tokens");
    if (s->pos + T > s->max_ctx)
        return ya_fail(err, YA_ERR_USAGE, "forward: %d cached + %d new tokens exceed the context of %d", s->pos, T,
                       s->max_ctx);
    for (int t = 0; t < T; t++)
        if (tokens[t] < 0 || tokens[t] >= c->vocab_size)
            return ya_fail(err, YA_ERR_USAGE, "forward: token id %d at index %d is outside the vocabulary [0, %d)",
                           (int)tokens[t], t, c->vocab_size);
    const int pos0 = s->pos, out_rows = all_positions ? T : 1, out_pos = all_positions ? pos0 : pos0 + T - 1;
    if (s->gpu) { /* --device cuda: the same graph on the GPU (llama_cuda_infer.c), logits pulled to the host */
        int rc = ya_cuda_infer_forward(s->gpu, m, s->pos, tokens, T, all_positions, logits, err);
        if (rc == YA_OK) s->pos += T;
        return rc != YA_OK ? rc : ya_model_check_logits(m, logits, out_rows, out_pos, err);
    }
    if (s->model->lora) { /* sized once per state (and again only for a larger rank) */
        size_t need = (size_t)s->max_chunk * (size_t)s->model->lora_rank;
        if (need > s->lora_ax_numel) {
            float *p = realloc(s->lora_ax, need * sizeof *p);
            if (!p) return ya_fail(err, YA_ERR, "out of memory for the LoRA scratch [%d, %d]", s->max_chunk,
                                      s->model->lora_rank);
            s->lora_ax = p;
            s->lora_ax_numel = need;
        }
    }
    for (int t0 = 0; t0 < T; t0 += s->max_chunk) {
        int n = T - t0 < s->max_chunk ? T - t0 : s->max_chunk;
        forward_chunk(s, tokens + t0, n);
        if (all_positions)
            lm_head(s, s->xn, n, logits + (size_t)t0 * c->vocab_size);
        else if (t0 + n == T)
            lm_head(s, s->xn + (size_t)(n - 1) * c->hidden_size, 1, logits);
    }
    return ya_model_check_logits(m, logits, out_rows, out_pos, err);
}

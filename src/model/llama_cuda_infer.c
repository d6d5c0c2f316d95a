/* llama_cuda_infer.c — the Llama inference graph on one GPU
 * (llama_cuda_infer.h): llama.c's forward_chunk step for step, on the CUDA op
 * table with bf16 activations and fp32 accumulation inside every op.
 *
 * Per chunk of T tokens at positions pos … pos+T−1:
 *   x = embed[ids]
 *   per layer: xn = RMSNorm(x); q, k, v = xn·Wᵀ (+b), k and v written straight
 *   into the KV cache rows pos…; RoPE on q and the new k rows (tables offset to
 *   pos); attention over keys 0 … pos+T−1; x += att·Woᵀ (+b);
 *   xn = RMSNorm₂(x); x += (silu(xn·Wgᵀ) ⊙ xn·Wuᵀ)·Wdᵀ (+b)
 *   xn = RMSNorm(x); logits = xn·lm_headᵀ (bf16 GEMM, fp32 accumulate), widened
 *   to fp32 on the device and downloaded.
 * The residual stream x is bf16 (as transformers runs a bf16 model), so the
 * GPU logits differ from the fp32 CPU graph by bf16 rounding: docs/CUDA.md,
 * "Inference", gives the tolerances measured.
 *
 * Every buffer lives in the model's device arena, sized once (extra_bytes of
 * ya_cuda_model_new); nothing is allocated per token. */
#include <stdlib.h>
#include <string.h>

#include "model/llama_cuda.h"
#include "model/llama_cuda_infer.h"

#ifndef YA_HAVE_CUDA

int ya_cuda_infer_new(const YaModel *m, int gpu, int max_ctx, int max_chunk, YaCudaInfer **out, YaError *err) {
    (void)m, (void)gpu, (void)max_ctx, (void)max_chunk;
    *out = NULL;
    return ya_fail(err, YA_ERR,
                   "--device cuda: this build has no CUDA backend (nvcc was not found when it was configured): use "
                   "--device cpu");
}
void ya_cuda_infer_free(YaCudaInfer *g) { (void)g; }
int ya_cuda_infer_forward(YaCudaInfer *g, const YaModel *m, int pos, const int32_t *tokens, int T, int all_positions,
                          float *logits, YaError *err) {
    (void)g, (void)m, (void)pos, (void)tokens, (void)T, (void)all_positions, (void)logits;
    return ya_fail(err, YA_ERR, "this build has no CUDA backend");
}

#else

struct YaCudaInfer {
    int gpu, max_ctx, max_chunk;
    YaCudaModel *cm; /* weights, RoPE tables, context; every buffer below is in its arena */
    /* The adapter merged into cm's weights at upload (NULL: none). */
    const struct YaAdapter *merged_adapter;
    const YaLoraFactors *merged_lora;
    int32_t *ids;        // [C] token ids of the chunk (C = max_chunk)
    YaBf16 *k_cache;     // [L, max_ctx, n_kv*d]
    YaBf16 *v_cache;     // [L, max_ctx, n_kv*d]
    YaBf16 *x;           // [C, h] residual stream
    YaBf16 *xn;          // [C, h] normalised input of a sublayer / final hidden states
    YaBf16 *q;           // [C, n_h*d]
    YaBf16 *att_out;     // [C, n_h*d]
    float *lse;          // [n_h, C] attention log-sum-exp (written by the op, unused here)
    YaBf16 *gate, *up;   // [C, f] each
    YaBf16 *logits_bf;   // [C, V] lm_head output
    float *logits_f32;   // [C, V] the same widened for the download
};

static size_t align256(size_t b) { return (b + 255) / 256 * 256; }

/* Device buffers of one state, in allocation order (sizes in bytes). */
typedef struct Plan {
    size_t bytes[12];
    void **slot[12];
    const char *what[12];
    int n;
} Plan;

static void plan_add(Plan *p, void *slot, size_t bytes, const char *what) {
    p->slot[p->n] = (void **)slot;
    p->bytes[p->n] = bytes;
    p->what[p->n] = what;
    p->n++;
}

static void make_plan(YaCudaInfer *g, const YaModel *m, Plan *p) {
    const YaModelConfig *c = &m->cfg;
    size_t C = (size_t)g->max_chunk, T = (size_t)g->max_ctx, h = (size_t)c->hidden_size;
    size_t f = (size_t)c->intermediate_size, qd = (size_t)c->num_attention_heads * c->head_dim;
    size_t kvd = (size_t)c->num_key_value_heads * c->head_dim, L = (size_t)c->num_hidden_layers;
    size_t V = (size_t)c->vocab_size, bf = sizeof(YaBf16);
    memset(p, 0, sizeof *p);
    plan_add(p, &g->ids, C * sizeof(int32_t), "token ids");
    plan_add(p, &g->k_cache, L * T * kvd * bf, "KV cache (keys)");
    plan_add(p, &g->v_cache, L * T * kvd * bf, "KV cache (values)");
    plan_add(p, &g->x, C * h * bf, "residual stream");
    plan_add(p, &g->xn, C * h * bf, "normalised activations");
    plan_add(p, &g->q, C * qd * bf, "queries");
    plan_add(p, &g->att_out, C * qd * bf, "attention output");
    plan_add(p, &g->lse, (size_t)c->num_attention_heads * C * sizeof(float), "attention log-sum-exp");
    plan_add(p, &g->gate, C * f * bf, "MLP gate");
    plan_add(p, &g->up, C * f * bf, "MLP up");
    plan_add(p, &g->logits_bf, C * V * bf, "logits (bf16)");
    plan_add(p, &g->logits_f32, C * V * sizeof(float), "logits (fp32)");
}

/* Uploads the model (merging the adapter attached now) and carves the buffers. */
static int build(YaCudaInfer *g, const YaModel *m, YaError *err) {
    Plan p;
    make_plan(g, m, &p);
    size_t extra = 4096;
    for (int i = 0; i < p.n; i++) extra += align256(p.bytes[i]);
    int rc = ya_cuda_model_new(m, g->gpu, g->max_ctx, extra, &g->cm, err);
    if (rc != YA_OK) return rc;
    for (int i = 0; i < p.n; i++) {
        *p.slot[i] = ya_cuda_alloc(g->cm->ctx, p.bytes[i], p.what[i], err);
        if (!*p.slot[i]) {
            ya_cuda_model_free(g->cm);
            g->cm = NULL;
            return YA_ERR;
        }
    }
    g->merged_adapter = m->adapter;
    g->merged_lora = m->lora;
    return YA_OK;
}

int ya_cuda_infer_new(const YaModel *m, int gpu, int max_ctx, int max_chunk, YaCudaInfer **out, YaError *err) {
    *out = NULL;
    YaCudaInfer *g = calloc(1, sizeof *g);
    if (!g) return ya_fail(err, YA_ERR, "out of memory");
    g->gpu = gpu, g->max_ctx = max_ctx, g->max_chunk = max_chunk;
    int rc = build(g, m, err);
    if (rc != YA_OK) {
        free(g);
        return rc;
    }
    *out = g;
    return YA_OK;
}

void ya_cuda_infer_free(YaCudaInfer *g) {
    if (!g) return;
    ya_cuda_model_free(g->cm);
    free(g);
}

/* One chunk of T ≤ max_chunk tokens at positions pos …; leaves the final
 * normalised hidden states in g->xn. Errors surface at the next sync. */
static void forward_chunk(YaCudaInfer *g, const int32_t *tokens, int T, int pos) {
    const YaCudaModel *cm = g->cm;
    const YaCudaOps *ops = cm->ops;
    YaCudaCtx *ctx = cm->ctx;
    const YaModelConfig *c = &cm->model->cfg;
    const int h = cm->h, f = cm->f, d = cm->d, n_h = cm->n_h, n_kv = cm->n_kv, qd = cm->qd, kvd = cm->kvd;
    const int half = d / 2;
    const float eps = (float)c->rms_norm_eps;
    const size_t layer_kv = (size_t)g->max_ctx * kvd;
    const float *cos = cm->rope_cos + (size_t)pos * half; // [T, d/2] rows pos …
    const float *sin = cm->rope_sin + (size_t)pos * half; // [T, d/2]
    YaBf16 *const *w = cm->w;

    /* From pageable host memory the copy is staged before the call returns: tokens may change afterwards. */
    ya_cuda_upload(ctx, g->ids, tokens, (size_t)T * sizeof *tokens);
    ops->embedding(ctx, g->x, w[ya_cw_global(cm, YA_CW_EMBED)], YA_DTYPE_BF16, g->ids, T, h);
    for (int l = 0; l < cm->L; l++) {
        YaBf16 *const *lw = w + ya_cw_layer(l, 0); /* this layer's slots */
        YaBf16 *kc = g->k_cache + l * layer_kv;    // [max_ctx, n_kv*d]
        YaBf16 *vc = g->v_cache + l * layer_kv;    // [max_ctx, n_kv*d]
        YaBf16 *k_new = kc + (size_t)pos * kvd;    // [T, n_kv*d] rows appended to the cache
        YaBf16 *v_new = vc + (size_t)pos * kvd;    // [T, n_kv*d]

        /* attention sublayer: x += Wo · attn(RoPE(Wq·a), RoPE(Wk·a), Wv·a), a = RMSNorm(x) */
        ops->rmsnorm(ctx, g->xn, NULL, g->x, lw[YA_CW_NORM1], T, h, eps);
        ops->linear(ctx, g->q, g->xn, lw[YA_LORA_Q], lw[YA_CW_BIAS0 + YA_LORA_Q], YA_DTYPE_BF16, T, h, qd, 0);
        ops->linear(ctx, k_new, g->xn, lw[YA_LORA_K], lw[YA_CW_BIAS0 + YA_LORA_K], YA_DTYPE_BF16, T, h, kvd, 0);
        ops->linear(ctx, v_new, g->xn, lw[YA_LORA_V], lw[YA_CW_BIAS0 + YA_LORA_V], YA_DTYPE_BF16, T, h, kvd, 0);
        ops->rope(ctx, g->q, cos, sin, T, n_h, d);
        ops->rope(ctx, k_new, cos, sin, T, n_kv, d);
        ops->attention(ctx, g->att_out, g->lse, g->q, kc, vc, T, pos + T, pos, n_h, n_kv, d);
        ops->linear(ctx, g->x, g->att_out, lw[YA_LORA_O], lw[YA_CW_BIAS0 + YA_LORA_O], YA_DTYPE_BF16, T, qd, h, 1);

        /* MLP sublayer: x += Wdown · (silu(Wgate·m) ⊙ Wup·m), m = RMSNorm₂(x) */
        ops->rmsnorm(ctx, g->xn, NULL, g->x, lw[YA_CW_NORM2], T, h, eps);
        ops->linear(ctx, g->gate, g->xn, lw[YA_LORA_GATE], lw[YA_CW_BIAS0 + YA_LORA_GATE], YA_DTYPE_BF16, T, h, f, 0);
        ops->linear(ctx, g->up, g->xn, lw[YA_LORA_UP], lw[YA_CW_BIAS0 + YA_LORA_UP], YA_DTYPE_BF16, T, h, f, 0);
        ops->swiglu(ctx, g->gate, g->gate, g->up, (size_t)T * f); /* elementwise: out may alias gate */
        ops->linear(ctx, g->x, g->gate, lw[YA_LORA_DOWN], lw[YA_CW_BIAS0 + YA_LORA_DOWN], YA_DTYPE_BF16, T, f, h, 1);
    }
    ops->rmsnorm(ctx, g->xn, NULL, g->x, w[ya_cw_global(cm, YA_CW_NORM)], T, h, eps);
}

/* logits [M, V] (host, fp32) = hn [M, h] · lm_headᵀ; waits for the stream. */
static int lm_head(YaCudaInfer *g, const YaBf16 *hn, int M, float *logits, YaError *err) {
    const YaCudaModel *cm = g->cm;
    size_t n = (size_t)M * cm->V;
    cm->ops->linear(cm->ctx, g->logits_bf, hn, cm->w[ya_cw_global(cm, YA_CW_LM_HEAD)], NULL, YA_DTYPE_BF16, M, cm->h,
                    cm->V, 0);
    cm->ops->to_f32(cm->ctx, g->logits_f32, g->logits_bf, YA_DTYPE_BF16, n);
    ya_cuda_download(cm->ctx, logits, g->logits_f32, n * sizeof(float));
    return ya_cuda_sync(cm->ctx, err);
}

int ya_cuda_infer_forward(YaCudaInfer *g, const YaModel *m, int pos, const int32_t *tokens, int T, int all_positions,
                          float *logits, YaError *err) {
    if (!g->cm) return ya_fail(err, YA_ERR, "the GPU inference state lost its model in an earlier failed re-upload");
    if (m != g->cm->model) return ya_fail(err, YA_ERR, "internal: a GPU inference state is used with another model");
    if (m->adapter != g->merged_adapter || m->lora != g->merged_lora) {
        /* The adapter is merged into the bf16 weights at upload: a change needs a fresh upload,
         * which also empties the KV cache, so it is only allowed at position 0. */
        if (pos != 0)
            return ya_fail(err, YA_ERR,
                           "the adapter attached to the model changed while %d positions are cached on the GPU "
                           "(reset the inference state first)",
                           pos);
        ya_cuda_model_free(g->cm);
        g->cm = NULL;
        int rc = build(g, m, err);
        if (rc != YA_OK) {
            ya_error_prefix(err, "re-uploading the model after the adapter changed");
            return rc;
        }
    }
    const int C = g->max_chunk, V = g->cm->V, h = g->cm->h;
    for (int t0 = 0; t0 < T; t0 += C) {
        int n = T - t0 < C ? T - t0 : C;
        forward_chunk(g, tokens + t0, n, pos + t0);
        int rc = YA_OK;
        if (all_positions)
            rc = lm_head(g, g->xn, n, logits + (size_t)t0 * V, err);
        else if (t0 + n == T)
            rc = lm_head(g, g->xn + (size_t)(n - 1) * h, 1, logits, err);
        else
            rc = ya_cuda_sync(g->cm->ctx, err); /* surface an error at the chunk that caused it */
        if (rc != YA_OK) {
            ya_error_prefix(err, "GPU forward at positions %d..%d", pos + t0, pos + t0 + n - 1);
            return rc;
        }
    }
    return YA_OK;
}

#endif

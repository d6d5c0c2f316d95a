/* llama_cuda_weights.c — puts a Llama model on the GPU (llama_cuda.h): one
 * arena sized for the bf16 weights, the RoPE tables and the caller's extra
 * bytes; each tensor uploaded in its stored dtype and converted there, so the
 * host never holds a converted copy (DESIGN: a 7B model is never copied
 * whole on the host). An attached adapter is merged in fp32 on the device. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/llama_cuda.h"

#ifndef YA_HAVE_CUDA

size_t ya_cuda_model_bytes(const YaModel *m, int max_pos) {
    (void)m, (void)max_pos;
    return 0;
}

int ya_cuda_model_new(const YaModel *m, int device, int max_pos, size_t extra_bytes, YaCudaModel **out,
                      YaError *err) {
    (void)m, (void)device, (void)max_pos, (void)extra_bytes;
    *out = NULL;
    return ya_fail(err, YA_ERR, "this build has no CUDA backend (nvcc was not found when it was configured): use --device cpu");
}

void ya_cuda_model_free(YaCudaModel *cm) { (void)cm; }

#else

static size_t align256(size_t b) { return (b + 255) / 256 * 256; }

/* The widest side (in or out) of an adaptable projection: sizes the Aᵀ / s·B staging of a merge. */
static size_t adapter_width(const YaModelConfig *c) {
    size_t w = (size_t)(c->hidden_size > c->intermediate_size ? c->hidden_size : c->intermediate_size);
    size_t qd = (size_t)c->num_attention_heads * (size_t)c->head_dim;
    return w > qd ? w : qd;
}

static int tied(const YaModel *m) { return m->lm_head == m->embed; }

size_t ya_cuda_model_bytes(const YaModel *m, int max_pos) {
    int L = m->cfg.num_hidden_layers, n = L * YA_CW_LAYER_SLOTS + YA_CW_GLOBAL_SLOTS;
    size_t bytes = 0, staging = 0;
    for (int i = 0; i < n; i++) {
        const YaTensorInfo *t = ya_model_slot_tensor(m, i);
        if (!t || (i == L * YA_CW_LAYER_SLOTS + YA_CW_LM_HEAD && tied(m))) continue;
        bytes += align256((size_t)t->numel * 2);
        if (t->dtype != YA_DTYPE_BF16 && (size_t)t->nbytes > staging) staging = (size_t)t->nbytes;
    }
    /* merge scratch (allocated after the staging buffer is released): an fp32 copy of the
     * largest matrix, Aᵀ and s·B */
    size_t merge = 0;
    if (m->lora) {
        size_t r = (size_t)m->lora_rank;
        merge = align256(m->max_matrix_numel * 4) + 2 * align256(r * adapter_width(&m->cfg) * 4);
    }
    size_t half = (size_t)m->cfg.head_dim / 2;
    size_t scratch = align256(staging) > merge ? align256(staging) : merge;
    return bytes + 2 * align256((size_t)max_pos * half * 4) + scratch + 1024;
}

/* W [out, in] bf16 += scale·B·A (fp32 on the device, one rounding at the end). */
static int merge_adapter(YaCudaModel *cm, YaBf16 *w, const YaLoraFactors *lf, int out_n, int in_n, float *w32,
                         float *at_dev, float *bs_dev, float *host_tmp, YaError *err) {
    const YaModel *m = cm->model;
    int r = m->lora_rank;
    /* Aᵀ [in, r] and s·B [out, r] on the host (small), then ΔW = (s·B)·(Aᵀ)ᵀ as one fp32 GEMM. */
    for (int i = 0; i < in_n; i++)
        for (int k = 0; k < r; k++) host_tmp[(size_t)i * r + k] = lf->A[(size_t)k * in_n + i];
    ya_cuda_upload(cm->ctx, at_dev, host_tmp, (size_t)in_n * r * 4);
    int rc = ya_cuda_sync(cm->ctx, err); /* host_tmp is refilled next */
    if (rc != YA_OK) return rc;
    for (size_t i = 0; i < (size_t)out_n * r; i++) host_tmp[i] = m->lora_scale * lf->B[i];
    ya_cuda_upload(cm->ctx, bs_dev, host_tmp, (size_t)out_n * r * 4);
    cm->ops->to_f32(cm->ctx, w32, w, YA_DTYPE_BF16, (size_t)out_n * in_n);
    cm->ops->linear(cm->ctx, w32, bs_dev, at_dev, NULL, YA_DTYPE_F32, out_n, r, in_n, 1); /* [out, in] += [out, r]·[in, r]ᵀ */
    cm->ops->to_bf16(cm->ctx, w, w32, YA_DTYPE_F32, (size_t)out_n * in_n);
    return ya_cuda_sync(cm->ctx, err); /* host_tmp is reused by the next call */
}

int ya_cuda_model_new(const YaModel *m, int device, int max_pos, size_t extra_bytes, YaCudaModel **out,
                      YaError *err) {
    *out = NULL;
    const YaModelConfig *c = &m->cfg;
    if (max_pos <= 0) return ya_fail(err, YA_ERR_USAGE, "the GPU model needs a positive context length");
    YaCudaModel *cm = calloc(1, sizeof *cm);
    if (!cm) return ya_fail(err, YA_ERR, "out of memory");
    cm->model = m;
    cm->ops = ya_backend_cuda();
    cm->L = c->num_hidden_layers, cm->h = c->hidden_size, cm->f = c->intermediate_size;
    cm->n_h = c->num_attention_heads, cm->n_kv = c->num_key_value_heads, cm->d = c->head_dim;
    cm->qd = cm->n_h * cm->d, cm->kvd = cm->n_kv * cm->d, cm->V = c->vocab_size;
    cm->max_pos = max_pos;
    int n = cm->L * YA_CW_LAYER_SLOTS + YA_CW_GLOBAL_SLOTS;
    cm->w = calloc((size_t)n, sizeof *cm->w);
    if (!cm->w) {
        ya_cuda_model_free(cm);
        return ya_fail(err, YA_ERR, "out of memory");
    }
    int rc = ya_cuda_create(&cm->ctx, device, ya_cuda_model_bytes(m, max_pos) + extra_bytes, err);
    if (rc != YA_OK) {
        ya_cuda_model_free(cm);
        return rc;
    }
    YaCudaCtx *ctx = cm->ctx;
    /* bf16 destinations first, so the staging buffer can be released afterwards */
    size_t staging_bytes = 0;
    for (int i = 0; i < n; i++) {
        const YaTensorInfo *t = ya_model_slot_tensor(m, i);
        if (!t || (i == ya_cw_global(cm, YA_CW_LM_HEAD) && tied(m))) continue;
        if (t->dtype != YA_DTYPE_BF16 && t->dtype != YA_DTYPE_F16 && t->dtype != YA_DTYPE_F32) {
            ya_cuda_model_free(cm);
            return ya_fail(err, YA_ERR, "%s: tensor %s has dtype %s; the GPU backend takes BF16, F16 or F32", m->dir,
                           t->name, ya_dtype_name(t->dtype));
        }
        cm->w[i] = ya_cuda_alloc(ctx, (size_t)t->numel * 2, t->name, err);
        if (!cm->w[i]) {
            ya_cuda_model_free(cm);
            return YA_ERR;
        }
        cm->weight_bytes += (size_t)t->numel * 2;
        if (t->dtype != YA_DTYPE_BF16 && (size_t)t->nbytes > staging_bytes) staging_bytes = (size_t)t->nbytes;
    }
    if (tied(m)) cm->w[ya_cw_global(cm, YA_CW_LM_HEAD)] = cm->w[ya_cw_global(cm, YA_CW_EMBED)];
    size_t half = (size_t)cm->d / 2;
    cm->rope_cos = ya_cuda_alloc(ctx, (size_t)max_pos * half * 4, "rope cos table", err);
    cm->rope_sin = cm->rope_cos ? ya_cuda_alloc(ctx, (size_t)max_pos * half * 4, "rope sin table", err) : NULL;
    if (!cm->rope_sin) {
        ya_cuda_model_free(cm);
        return YA_ERR;
    }
    size_t mark = ya_cuda_mark(ctx);
    void *staging = staging_bytes ? ya_cuda_alloc(ctx, staging_bytes, "weight upload staging", err) : NULL;
    if (staging_bytes && !staging) {
        ya_cuda_model_free(cm);
        return YA_ERR;
    }
    for (int i = 0; i < n; i++) {
        const YaTensorInfo *t = ya_model_slot_tensor(m, i);
        if (!cm->w[i] || (i == ya_cw_global(cm, YA_CW_LM_HEAD) && tied(m))) continue;
        if (t->dtype == YA_DTYPE_BF16) {
            ya_cuda_upload(ctx, cm->w[i], t->data, (size_t)t->nbytes);
        } else {
            ya_cuda_upload(ctx, staging, t->data, (size_t)t->nbytes);
            cm->ops->to_bf16(ctx, cm->w[i], staging, t->dtype, (size_t)t->numel);
        }
        /* the staging buffer is reused by the next tensor: wait for this one (uploads from
         * pageable mmap'd memory are synchronous for the host anyway) */
        if ((rc = ya_cuda_sync(ctx, err)) != YA_OK) {
            ya_error_prefix(err, "uploading %s", t->name);
            ya_cuda_model_free(cm);
            return rc;
        }
    }
    ya_cuda_release(ctx, mark);

    /* RoPE tables exactly as the CPU graphs build them (angles in double). */
    double *inv_freq = malloc(half * sizeof *inv_freq);
    float *tab = malloc((size_t)max_pos * half * 2 * sizeof *tab);
    if (!inv_freq || !tab) {
        free(inv_freq), free(tab);
        ya_cuda_model_free(cm);
        return ya_fail(err, YA_ERR, "out of memory");
    }
    ya_rope_inv_freq(c, inv_freq);
    float *tc = tab, *ts = tab + (size_t)max_pos * half;
    for (size_t t = 0; t < (size_t)max_pos; t++)
        for (size_t i = 0; i < half; i++) {
            double a = (double)t * inv_freq[i];
            tc[t * half + i] = (float)cos(a);
            ts[t * half + i] = (float)sin(a);
        }
    ya_cuda_upload(ctx, cm->rope_cos, tc, (size_t)max_pos * half * 4);
    ya_cuda_upload(ctx, cm->rope_sin, ts, (size_t)max_pos * half * 4);
    rc = ya_cuda_sync(ctx, err);
    free(inv_freq);
    free(tab);
    if (rc != YA_OK) {
        ya_cuda_model_free(cm);
        return rc;
    }

    /* An attached adapter (generate/forward --adapter): merged into the bf16 copies. */
    if (m->lora) {
        size_t r = (size_t)m->lora_rank, wide = adapter_width(c);
        mark = ya_cuda_mark(ctx);
        float *w32 = ya_cuda_alloc(ctx, m->max_matrix_numel * 4, "adapter merge scratch", err);
        float *at = w32 ? ya_cuda_alloc(ctx, r * wide * 4, "adapter A", err) : NULL;
        float *bs = at ? ya_cuda_alloc(ctx, r * wide * 4, "adapter B", err) : NULL;
        float *host_tmp = malloc(r * wide * sizeof *host_tmp);
        if (!bs || !host_tmp) {
            free(host_tmp);
            ya_cuda_model_free(cm);
            return bs ? ya_fail(err, YA_ERR, "out of memory") : YA_ERR;
        }
        for (int l = 0; l < cm->L && rc == YA_OK; l++)
            for (int p = 0; p < YA_LORA_TARGET_COUNT && rc == YA_OK; p++) {
                const YaLoraFactors *lf = &m->lora[(size_t)l * YA_LORA_TARGET_COUNT + p];
                if (!lf->A) continue;
                const YaTensorInfo *t = ya_model_slot_tensor(m, ya_cw_layer(l, p));
                rc = merge_adapter(cm, cm->w[ya_cw_layer(l, p)], lf, (int)t->shape[0], (int)t->shape[1], w32, at, bs,
                                   host_tmp, err);
            }
        free(host_tmp);
        ya_cuda_release(ctx, mark);
        if (rc != YA_OK) {
            ya_error_prefix(err, "merging the adapter on the GPU");
            ya_cuda_model_free(cm);
            return rc;
        }
    }
    *out = cm;
    return YA_OK;
}

void ya_cuda_model_free(YaCudaModel *cm) {
    if (!cm) return;
    if (cm->ctx) ya_cuda_destroy(cm->ctx);
    free(cm->w);
    free(cm);
}

#endif

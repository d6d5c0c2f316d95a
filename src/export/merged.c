/* merged.c — `export --format merged`: a complete HF model directory whose
 * weights have the adapter folded in, W' = W + (α/r)·B·A, computed in F32 from
 * the upcast base and rounded once to the output dtype (SPEC §10.2). Tensors
 * are produced one at a time by the sharded safetensors writer's fill callback,
 * so peak memory is one F32 matrix whatever the model size. This directory is
 * also the input of the Core ML path (docs/DEPLOY.md). generation_config.json
 * carries every stop id (stop_tokens.c). */
#include <cblas.h> /* defines: cblas_sgemm */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"
#include "your_ai/export.h"
#include "your_ai/fileio.h" /* defines: ya_read_file, ya_write_file_atomic, ya_mkdirs */
#include "your_ai/json.h"   /* defines: ya_json_load_file, ya_json_dumps */

/* The LoRA factors adapting t, found by identity with the model's resolved tensors. */
static const YaLoraFactors *factors_for(const YaModel *m, const YaAdapter *a, const YaTensorInfo *t) {
    if (!a) return NULL;
    for (int l = 0; l < m->cfg.num_hidden_layers; l++) {
        const YaLlamaLayer *ly = &m->layers[l];
        const YaTensorInfo *w[7] = {ly->wq, ly->wk, ly->wv, ly->wo, ly->w_gate, ly->w_up, ly->w_down};
        for (int k = 0; k < 7; k++)
            if (w[k] == t) return ya_adapter_factors(a, l, k);
    }
    return NULL;
}

/* The first i with x[i] non-finite or |x[i]| > max_abs, or -1. */
static int64_t first_out_of_range(const float *x, int64_t n, float max_abs) {
    for (int64_t i = 0; i < n; i++)
        if (!(fabsf(x[i]) <= max_abs)) return i; /* NaN fails the comparison too */
    return -1;
}

int ya_export_weight_f32(const YaModel *m, const YaAdapter *a, const YaTensorInfo *t, float *dst, float max_abs,
                         YaError *err) {
    const YaLoraFactors *f = factors_for(m, a, t);
    const int64_t rows = t->ndim == 2 ? t->shape[0] : 1, cols = (int64_t)t->numel / (rows ? rows : 1);
    const int r = f ? ya_adapter_rank(a) : 0;
    const float scale = f ? (float)(ya_adapter_alpha(a) / r) : 0.0f;
    const size_t elt = ya_dtype_size(t->dtype);
    /* Blocks of rows, so each value is upcast, merged and range-checked while
     * it is still in cache: no second pass over the tensor. */
    const int64_t block = cols > 0 && cols < 16384 ? 16384 / cols + 1 : 1;
    for (int64_t r0 = 0; r0 < rows; r0 += block) {
        const int64_t nr = rows - r0 < block ? rows - r0 : block;
        float *d = dst + r0 * cols;
        ya_to_f32(t->dtype, (const char *)t->data + (size_t)(r0 * cols) * elt, d, (size_t)(nr * cols));
        if (f) /* d [nr, in] += scale · B [nr rows from r0, r] · A [r, in] */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nr, (int)cols, r, scale, f->B + r0 * r, r, f->A,
                        (int)cols, 1.0f, d, (int)cols);
        int64_t bad = first_out_of_range(d, nr * cols, max_abs);
        if (bad >= 0) {
            int64_t at = r0 * cols + bad;
            if (f)
                return ya_fail(err, YA_ERR, "tensor '%s' [%lld, %lld] merged with the adapter %s: element %lld becomes %g, "
                               "%s (lora_alpha/r = %g)", t->name, (long long)(at / cols), (long long)(at % cols),
                               ya_adapter_dir(a), (long long)at, d[bad],
                               isfinite(d[bad]) ? "out of the output type's range" : "not finite", (double)scale);
            return ya_fail(err, YA_ERR, "%s: tensor '%s' element %lld is %g, %s", t->file, t->name, (long long)at, d[bad],
                           isfinite(d[bad]) ? "out of the output type's range" : "not finite");
        }
    }
    return YA_OK;
}

float ya_export_max_abs(YaDtype dt) {
    return dt == YA_DTYPE_F16 ? 65504.0f : dt == YA_DTYPE_BF16 ? 3.38953139e38f : FLT_MAX;
}

int ya_export_copy_file(const char *dir_from, const char *dir_to, const char *name, int *copied, YaError *err) {
    char src[4352], dst[4352];
    *copied = 0;
    if (ya_path_join(src, sizeof src, dir_from, name, err) || ya_path_join(dst, sizeof dst, dir_to, name, err))
        return YA_ERR;
    if (!ya_path_exists(src)) return YA_OK;
    char *buf = NULL;
    size_t len = 0;
    if (ya_read_file(src, &buf, &len, err)) return YA_ERR;
    int rc = ya_write_file_atomic(dst, buf, len, err);
    free(buf);
    *copied = rc == YA_OK;
    return rc;
}

/* The first element of x [n] (F32, F16 or BF16 bits) whose exponent is all ones
 * (Inf or NaN), or -1. Checks the bits: no conversion. */
static int64_t first_non_finite_bits(YaDtype dt, const void *x, uint64_t n) {
    if (dt == YA_DTYPE_F32) {
        const uint32_t *u = x;
        for (uint64_t i = 0; i < n; i++)
            if ((u[i] & 0x7f800000u) == 0x7f800000u) return (int64_t)i;
    } else {
        const uint16_t *u = x, mask = dt == YA_DTYPE_F16 ? 0x7c00 : 0x7f80;
        for (uint64_t i = 0; i < n; i++)
            if ((u[i] & mask) == mask) return (int64_t)i;
    }
    return -1;
}

typedef struct MergeCtx {
    const YaModel *m;
    const YaAdapter *a;
    const YaTensorInfo *t;
    YaDtype dt;
    float *scratch; // [max tensor numel] shared by all tensors (filled one at a time)
} MergeCtx;

static int fill_merged(void *ctx, const char *name, void *dst, uint64_t nbytes, YaError *err) {
    MergeCtx *c = ctx;
    if (nbytes != c->t->numel * ya_dtype_size(c->dt))
        return ya_fail(err, YA_ERR, "%s: internal size mismatch", name);
    if (c->t->dtype == c->dt && !factors_for(c->m, c->a, c->t)) { /* untouched: copy the stored bits */
        memcpy(dst, c->t->data, nbytes);
        int64_t bad = first_non_finite_bits(c->dt, dst, c->t->numel); /* dst is still in cache */
        if (bad >= 0)
            return ya_fail(err, YA_ERR, "%s: tensor '%s' element %lld is not finite (NaN or Inf in the base model)",
                           c->t->file, c->t->name, (long long)bad);
        return YA_OK;
    }
    if (ya_export_weight_f32(c->m, c->a, c->t, c->scratch, ya_export_max_abs(c->dt), err))
        return ya_error_prefix(err, "writing %s", ya_dtype_name(c->dt));
    ya_from_f32(c->dt, c->scratch, dst, c->t->numel);
    return YA_OK;
}

static const char *torch_dtype_name(YaDtype dt) {
    return dt == YA_DTYPE_F32 ? "float32" : dt == YA_DTYPE_F16 ? "float16" : "bfloat16";
}

int ya_export_merged(const YaModel *m, const YaAdapter *a, const char *out_dir, YaDtype dt, uint64_t max_shard_bytes,
                     YaError *err) {
    size_t n = ya_weights_count(m->weights);
    int keep = dt == YA_DTYPE_COUNT;
    if (!keep && !ya_dtype_is_float(dt))
        return ya_fail(err, YA_ERR_USAGE, "merged export: dtype %s is not supported (f32, f16 or bf16)", ya_dtype_name(dt));
    if (ya_mkdirs(out_dir, err)) return YA_ERR;
    size_t max_numel = 0;
    for (size_t i = 0; i < n; i++)
        if (ya_weights_at(m->weights, i)->numel > max_numel) max_numel = ya_weights_at(m->weights, i)->numel;
    MergeCtx *ctx = calloc(n ? n : 1, sizeof *ctx);
    float *scratch = malloc((max_numel ? max_numel : 1) * sizeof(float)); // [largest tensor] F32
    YaStShardedWriter *sw = ya_st_sharded_new(max_shard_bytes);
    int rc = YA_OK;
    if (!ctx || !scratch || !sw) {
        rc = ya_fail(err, YA_ERR, "out of memory");
        ya_st_sharded_free(sw);
        goto out;
    }
    YaDtype stored = YA_DTYPE_COUNT; /* the output dtype of the matrices (for torch_dtype) */
    for (size_t i = 0; i < n && !rc; i++) {
        const YaTensorInfo *t = ya_weights_at(m->weights, i);
        if (!ya_dtype_is_float(t->dtype))
            rc = ya_fail(err, YA_ERR, "%s: tensor '%s' has dtype %s; only F32/F16/BF16 models can be merged", t->file,
                         t->name, ya_dtype_name(t->dtype));
        if (rc) break;
        ctx[i] = (MergeCtx){.m = m, .a = a, .t = t, .dt = keep ? t->dtype : dt, .scratch = scratch};
        if (t->ndim == 2 && stored == YA_DTYPE_COUNT) stored = ctx[i].dt;
        rc = ya_st_sharded_add_fill(sw, t->name, ctx[i].dt, t->ndim, t->shape, fill_merged, &ctx[i], err);
    }
    if (rc) {
        ya_st_sharded_free(sw);
        goto out;
    }
    if ((rc = ya_st_sharded_finish(sw, out_dir, "model", NULL, err)) != YA_OK) goto out;

    /* config.json: the base's, with torch_dtype (and transformers ≥ 5's "dtype") set to what we wrote. */
    char path[4352];
    json_t *cfg = NULL;
    if ((rc = ya_path_join(path, sizeof path, m->dir, "config.json", err)) ||
        (rc = ya_json_load_file(path, 0, &cfg, err)))
        goto out;
    if (stored != YA_DTYPE_COUNT) {
        json_object_set_new(cfg, "torch_dtype", json_string(torch_dtype_name(stored)));
        if (json_object_get(cfg, "dtype")) json_object_set_new(cfg, "dtype", json_string(torch_dtype_name(stored)));
    }
    char *text = ya_json_dumps(cfg); /* shortest round-trip numbers: the values stay those of the base */
    json_decref(cfg);
    if (!text) {
        rc = ya_fail(err, YA_ERR, "out of memory");
        goto out;
    }
    size_t tl = strlen(text);
    rc = ya_path_join(path, sizeof path, out_dir, "config.json", err) || ya_write_file_atomic(path, text, tl, err);
    free(text);
    if (rc) goto out;
    if ((rc = ya_export_write_generation_config(m, out_dir, err)) != YA_OK) goto out;
    static const char *const copied_files[] = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                               "tokenizer.model"};
    for (size_t i = 0; i < sizeof copied_files / sizeof *copied_files && !rc; i++) {
        int copied;
        rc = ya_export_copy_file(m->dir, out_dir, copied_files[i], &copied, err);
    }
out:
    free(scratch);
    free(ctx);
    return rc ? ya_error_prefix(err, "merged export to %s", out_dir) : YA_OK;
}

/* gguf_export.c — `export --format gguf` and `--format gguf-adapter`
 * (SPEC §10.3): HF names → llama.cpp names, dims reversed (fastest first),
 * the Q/K row permutation for arch "llama" (llama.cpp's llama RoPE pairs
 * (2i, 2i+1); HF pairs (i, i+d/2)), 1-D tensors in F32, matrices in
 * F32/F16/BF16/Q8_0 or as llama-quantize's K-quant mixes choose
 * (gguf_quant_mix.c, gguf_kquants.c), rope_freqs.weight for Llama-3 RoPE, and
 * the tokenizer.
 * Each tensor is produced (merged with the adapter, permuted, converted) when
 * the writer reaches it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"
#include "gguf_internal.h"
#include "your_ai/export.h"
#include "your_ai/gguf_quants.h" /* defines: ya_ggml_quantize */
#include "your_ai/log.h"  /* defines: ya_warn */
#include "your_ai/lora.h" /* defines: YaLoraSet, YaLoraTensor */

void ya_gguf_permute_rows(float *dst, const float *src, int heads, int head_dim, int64_t cols) {
    int half = head_dim / 2;
    for (int h = 0; h < heads; h++)
        for (int i = 0; i < half; i++)
            for (int j = 0; j < 2; j++) {
                size_t to = (size_t)h * head_dim + 2 * (size_t)i + (size_t)j;
                size_t from = (size_t)h * head_dim + (size_t)j * half + (size_t)i;
                memcpy(dst + to * (size_t)cols, src + from * (size_t)cols, (size_t)cols * sizeof(float));
            }
}

/* ---- model ---------------------------------------------------------------- */

typedef struct GTensor {
    const YaModel *m;
    const YaAdapter *a;
    const YaTensorInfo *t; /* NULL for rope_freqs */
    int type;
    int permute_heads;     /* > 0: apply the Q/K permutation with this many heads */
    float *f32, *tmp;      // [max numel] scratch shared by all tensors
} GTensor;

static void to_type(int type, const float *src, void *dst, uint64_t n) {
    if (type == YA_GGML_F32) memcpy(dst, src, n * sizeof(float));
    else if (type == YA_GGML_F16) ya_from_f32(YA_DTYPE_F16, src, dst, n);
    else if (type == YA_GGML_BF16) ya_from_f32(YA_DTYPE_BF16, src, dst, n);
    else ya_ggml_quantize(type, src, dst, (int64_t)n); /* row length checked when the tensor was added */
}

static int is_kquant_mix(YaGgufWeightType wt) {
    return wt == YA_GGUF_W_Q4_K_M || wt == YA_GGUF_W_Q5_K_M || wt == YA_GGUF_W_Q6_K;
}

/* The stored type of one tensor: 1-D F32; matrices wt (Q8_0 rows not a
 * multiple of 32 → F16), or the K-quant mix's choice. */
static int tensor_type(YaGgufWeightType wt, const YaGgufMixModel *mm, const char *name, const YaTensorInfo *t, int layer) {
    uint64_t row_len = (uint64_t)t->shape[t->ndim - 1];
    if (is_kquant_mix(wt)) return ya_gguf_mix_tensor_type(wt, mm, name, t->ndim, row_len, layer);
    if (t->ndim == 1) return YA_GGML_F32;
    return wt == YA_GGUF_W_Q8_0 && row_len % 32 ? YA_GGML_F16 : (int)wt;
}

static int fill_model_tensor(void *ctx, const char *name, void *dst, uint64_t nbytes, YaError *err) {
    GTensor *g = ctx;
    (void)nbytes;
    const YaTensorInfo *t = g->t;
    if (!t) return ya_fail(err, YA_ERR, "%s: no source", name);
    if (ya_export_weight_f32(g->m, g->a, t, g->f32, ya_export_max_abs(g->type == YA_GGML_F16 ? YA_DTYPE_F16 : YA_DTYPE_F32), err))
        return YA_ERR;
    const float *src = g->f32;
    if (g->permute_heads > 0) {
        int64_t cols = t->ndim == 2 ? t->shape[1] : 1;
        ya_gguf_permute_rows(g->tmp, g->f32, g->permute_heads, g->m->cfg.head_dim, cols);
        src = g->tmp;
    }
    to_type(g->type, src, dst, t->numel);
    return YA_OK;
}

typedef struct RopeFreqs {
    const YaModelConfig *cfg;
} RopeFreqs;

/* Llama-3 RoPE as divisors of the base frequencies (SPEC §10.3): 1, factor, or 1/((1−s)/factor + s). */
static int fill_rope_freqs(void *ctx, const char *name, void *dst, uint64_t nbytes, YaError *err) {
    (void)name;
    (void)err;
    const YaModelConfig *c = ((RopeFreqs *)ctx)->cfg;
    int half = c->head_dim / 2;
    float *out = dst;
    double lo = c->rope_low_freq_factor, hi = c->rope_high_freq_factor, factor = c->rope_factor;
    double orig = c->rope_original_max_pos;
    for (int i = 0; i < half && (uint64_t)(i + 1) * 4 <= nbytes; i++) {
        double inv = pow(c->rope_theta, -2.0 * i / c->head_dim), wl = 2.0 * M_PI / inv;
        if (wl < orig / hi) out[i] = 1.0f;
        else if (wl > orig / lo) out[i] = (float)factor;
        else {
            double s = (orig / wl - lo) / (hi - lo);
            out[i] = (float)(1.0 / ((1.0 - s) / factor + s));
        }
    }
    return YA_OK;
}

static const char *arch_name(const YaModelConfig *c) { return c->arch == YA_ARCH_QWEN2 ? "qwen2" : "llama"; }

static int add_arch_keys(YaGgufWriter *w, const YaModel *m, YaError *err) {
    const YaModelConfig *c = &m->cfg;
    char k[128];
    const char *arch = arch_name(c);
#define KEY(s) (snprintf(k, sizeof k, "%s." s, arch), k)
    if (ya_gguf_set_u32(w, KEY("context_length"), (uint32_t)(c->max_position_embeddings > 0 ? c->max_position_embeddings : 4096), err) ||
        ya_gguf_set_u32(w, KEY("embedding_length"), (uint32_t)c->hidden_size, err) ||
        ya_gguf_set_u32(w, KEY("block_count"), (uint32_t)c->num_hidden_layers, err) ||
        ya_gguf_set_u32(w, KEY("feed_forward_length"), (uint32_t)c->intermediate_size, err) ||
        ya_gguf_set_u32(w, KEY("attention.head_count"), (uint32_t)c->num_attention_heads, err) ||
        ya_gguf_set_u32(w, KEY("attention.head_count_kv"), (uint32_t)c->num_key_value_heads, err) ||
        ya_gguf_set_f32(w, KEY("attention.layer_norm_rms_epsilon"), (float)c->rms_norm_eps, err) ||
        ya_gguf_set_f32(w, KEY("rope.freq_base"), (float)c->rope_theta, err) ||
        ya_gguf_set_u32(w, KEY("rope.dimension_count"), (uint32_t)c->head_dim, err) ||
        ya_gguf_set_u32(w, KEY("vocab_size"), (uint32_t)c->vocab_size, err))
        return YA_ERR;
    if (c->head_dim != c->hidden_size / c->num_attention_heads &&
        (ya_gguf_set_u32(w, KEY("attention.key_length"), (uint32_t)c->head_dim, err) ||
         ya_gguf_set_u32(w, KEY("attention.value_length"), (uint32_t)c->head_dim, err)))
        return YA_ERR;
    if (c->rope_type == YA_ROPE_LINEAR &&
        (ya_gguf_set_str(w, KEY("rope.scaling.type"), "linear", err) ||
         ya_gguf_set_f32(w, KEY("rope.scaling.factor"), (float)c->rope_factor, err)))
        return YA_ERR;
#undef KEY
    return YA_OK;
}

/* End of generation (stop_tokens.c): llama.cpp stops at eos, eot and eom
 * (llama_vocab_is_eog); a chat model's end-of-turn token goes to eot. The Jinja
 * chat template is kept for llama.cpp's and Ollama's chat formatting. */
static int add_stop_keys(YaGgufWriter *w, const YaModel *m, YaError *err) {
    YaExportStops s;
    int rc = ya_export_stops_load(m, YA_CHAT_NONE, &s, err);
    if (rc == YA_OK && s.eos_id >= 0) rc = ya_gguf_set_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)s.eos_id, err);
    if (rc == YA_OK && s.eot_id >= 0) rc = ya_gguf_set_u32(w, "tokenizer.ggml.eot_token_id", (uint32_t)s.eot_id, err);
    if (rc == YA_OK && s.chat_template) rc = ya_gguf_set_str(w, "tokenizer.chat_template", s.chat_template, err);
    ya_export_stops_free(&s);
    return rc;
}

static const char *base_name(const char *dir) {
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    const char *p = dir + n;
    while (p > dir && p[-1] != '/') p--;
    return p;
}

/* The HF → GGUF name table of one layer (SPEC §10.3). */
typedef struct LayerMap {
    const YaTensorInfo *t;
    const char *gguf; /* "attn_q.weight" */
    int perm;         /* 1: q heads, 2: kv heads */
} LayerMap;

static int layer_map(const YaLlamaLayer *ly, LayerMap *out) {
    const LayerMap all[] = {
        {ly->input_norm, "attn_norm.weight", 0}, {ly->wq, "attn_q.weight", 1}, {ly->wk, "attn_k.weight", 2},
        {ly->wv, "attn_v.weight", 0},            {ly->wo, "attn_output.weight", 0},
        {ly->bq, "attn_q.bias", 1},              {ly->bk, "attn_k.bias", 2},   {ly->bv, "attn_v.bias", 0},
        {ly->bo, "attn_output.bias", 0},         {ly->post_norm, "ffn_norm.weight", 0},
        {ly->w_gate, "ffn_gate.weight", 0},      {ly->w_up, "ffn_up.weight", 0}, {ly->w_down, "ffn_down.weight", 0},
        {ly->b_gate, "ffn_gate.bias", 0},        {ly->b_up, "ffn_up.bias", 0}, {ly->b_down, "ffn_down.bias", 0},
    };
    int n = 0;
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (all[i].t) out[n++] = all[i];
    return n;
}

/* general.file_type: llama_ftype (the K-quant mixes already are). */
static int file_type(YaGgufWeightType wt) {
    if (is_kquant_mix(wt)) return (int)wt;
    return wt == YA_GGUF_W_F32 ? 0 : wt == YA_GGUF_W_F16 ? 1 : wt == YA_GGUF_W_Q8_0 ? 7 : 32;
}

int ya_export_gguf(const YaModel *m, const YaAdapter *a, const char *out_path, YaGgufWeightType wt, YaError *err) {
    const YaModelConfig *c = &m->cfg;
    int llama = c->arch != YA_ARCH_QWEN2, L = c->num_hidden_layers;
    size_t n_max = (size_t)L * 16 + 8, n = 0, max_numel = 1;
    for (size_t i = 0; i < ya_weights_count(m->weights); i++)
        if (ya_weights_at(m->weights, i)->numel > max_numel) max_numel = ya_weights_at(m->weights, i)->numel;
    GTensor *gt = calloc(n_max, sizeof *gt);
    float *f32 = malloc(max_numel * sizeof(float)), *tmp = malloc(max_numel * sizeof(float)); // [max numel] each
    YaGgufWriter *w = ya_gguf_writer_new();
    RopeFreqs rf = {.cfg = c};
    int rc = YA_OK, tok_added = 0;
    if (!gt || !f32 || !tmp || !w) {
        rc = ya_fail(err, YA_ERR, "out of memory");
        goto out;
    }
    if (ya_gguf_set_str(w, "general.architecture", arch_name(c), err) ||
        ya_gguf_set_str(w, "general.name", base_name(m->dir), err) ||
        ya_gguf_set_u32(w, "general.file_type", (uint32_t)file_type(wt), err) ||
        ((wt == YA_GGUF_W_Q8_0 || is_kquant_mix(wt)) && ya_gguf_set_u32(w, "general.quantization_version", 2, err)) ||
        add_arch_keys(w, m, err) || ya_gguf_add_tokenizer(w, m->dir, c, &tok_added, err) ||
        (tok_added && add_stop_keys(w, m, err))) {
        rc = YA_ERR;
        goto out;
    }
    /* token_embd, blk.*, output_norm, output (untied), rope_freqs (llama3) — llama.cpp's order. */
    LayerMap lm[20];
    char name[128];
    /* llama.cpp counts a 70B by its layers and heads (models/llama.cpp, qwen2.cpp) */
    YaGgufMixModel mix = {.n_layers = L, .tied_embeddings = c->tie_word_embeddings,
                          .is_70b = L == 80 && (!llama || c->num_attention_heads != c->num_key_value_heads)};
#define ADD(src, gname, perm_heads, layer)                                                                            \
    do {                                                                                                              \
        const YaTensorInfo *t_ = (src);                                                                               \
        GTensor *g_ = &gt[n++];                                                                                       \
        *g_ = (GTensor){.m = m, .a = a, .t = t_, .permute_heads = (perm_heads), .f32 = f32, .tmp = tmp};              \
        g_->type = tensor_type(wt, &mix, (gname), t_, (layer));                                                       \
        uint64_t dims_[2] = {(uint64_t)t_->shape[t_->ndim - 1], t_->ndim == 2 ? (uint64_t)t_->shape[0] : 1};          \
        if ((rc = ya_gguf_add_tensor(w, (gname), g_->type, t_->ndim, dims_, fill_model_tensor, g_, err))) goto out;   \
    } while (0)
    ADD(m->embed, "token_embd.weight", 0, -1);
    for (int l = 0; l < L; l++) {
        int k = layer_map(&m->layers[l], lm);
        for (int i = 0; i < k; i++) {
            snprintf(name, sizeof name, "blk.%d.%s", l, lm[i].gguf);
            int heads = !llama ? 0 : lm[i].perm == 1 ? c->num_attention_heads : lm[i].perm == 2 ? c->num_key_value_heads : 0;
            ADD(lm[i].t, name, heads, l);
        }
    }
    ADD(m->norm, "output_norm.weight", 0, -1);
    if (!c->tie_word_embeddings) ADD(m->lm_head, "output.weight", 0, -1);
#undef ADD
    if (c->rope_type == YA_ROPE_LLAMA3) {
        uint64_t d = (uint64_t)c->head_dim / 2;
        if ((rc = ya_gguf_add_tensor(w, "rope_freqs.weight", YA_GGML_F32, 1, &d, fill_rope_freqs, &rf, err))) goto out;
    }
    if (!tok_added) ya_warn("%s: no tokenizer.json: the GGUF has no tokenizer.ggml.* keys (llama.cpp needs them)", m->dir);
    rc = ya_gguf_writer_finish(w, out_path, err);
    w = NULL;
out:
    ya_gguf_writer_free(w);
    free(gt);
    free(f32);
    free(tmp);
    return rc ? ya_error_prefix(err, "GGUF export to %s", out_path) : YA_OK;
}

/* ---- LoRA adapter ----------------------------------------------------------- */

typedef struct GLora {
    const float *src; // [rows, cols] PEFT A [r, in] or B [out, r]
    int64_t rows, cols;
    int permute_heads, head_dim;
    int type;
    float *tmp; // [rows, cols] when permuting
} GLora;

static int fill_lora(void *ctx, const char *name, void *dst, uint64_t nbytes, YaError *err) {
    (void)name;
    (void)nbytes;
    (void)err;
    GLora *g = ctx;
    const float *src = g->src;
    if (g->permute_heads) {
        ya_gguf_permute_rows(g->tmp, g->src, g->permute_heads, g->head_dim, g->cols);
        src = g->tmp;
    }
    to_type(g->type, src, dst, (uint64_t)(g->rows * g->cols));
    return YA_OK;
}

int ya_export_gguf_adapter(const YaModel *m, const YaAdapter *a, const char *out_path, YaGgufWeightType wt,
                           YaError *err) {
    const YaModelConfig *c = &m->cfg;
    const YaLoraSet *set = ya_adapter_lora(a);
    if (wt != YA_GGUF_W_F32 && wt != YA_GGUF_W_F16 && wt != YA_GGUF_W_BF16)
        return ya_fail(err, YA_ERR_USAGE, "GGUF adapter: quantized types are not supported (f32, f16, bf16)");
    static const char *const gnames[YA_LORA_TARGET_COUNT] = {"attn_q", "attn_k", "attn_v", "attn_output",
                                                             "ffn_gate", "ffn_up", "ffn_down"};
    GLora *gl = calloc(set->n_tensors * 2 + 1, sizeof *gl);
    size_t max_b = 1;
    for (size_t i = 0; i < set->n_tensors; i++)
        if ((size_t)set->t[i].out * (size_t)set->cfg.rank > max_b) max_b = (size_t)set->t[i].out * (size_t)set->cfg.rank;
    float *tmp = malloc(max_b * sizeof(float)); // [out, r] the largest B
    YaGgufWriter *w = ya_gguf_writer_new();
    int rc = YA_OK;
    if (!gl || !tmp || !w) {
        rc = ya_fail(err, YA_ERR, "out of memory");
        goto out;
    }
    if (ya_gguf_set_str(w, "general.architecture", arch_name(c), err) ||
        ya_gguf_set_str(w, "general.type", "adapter", err) || ya_gguf_set_str(w, "general.name", base_name(m->dir), err) ||
        ya_gguf_set_str(w, "adapter.type", "lora", err) ||
        ya_gguf_set_f32(w, "adapter.lora.alpha", (float)set->cfg.alpha, err)) {
        rc = YA_ERR;
        goto out;
    }
    int llama = c->arch != YA_ARCH_QWEN2;
    for (size_t i = 0; i < set->n_tensors; i++) {
        const YaLoraTensor *e = &set->t[i];
        char name[128];
        int64_t r = set->cfg.rank;
        GLora *ga = &gl[2 * i], *gb = &gl[2 * i + 1];
        int type = (int)wt;
        *ga = (GLora){.src = set->params + e->a_off, .rows = r, .cols = e->in, .type = type};
        *gb = (GLora){.src = set->params + e->b_off, .rows = e->out, .cols = r, .type = type, .tmp = tmp,
                      .head_dim = c->head_dim};
        if (llama && e->target == YA_LORA_Q) gb->permute_heads = c->num_attention_heads;
        if (llama && e->target == YA_LORA_K) gb->permute_heads = c->num_key_value_heads;
        uint64_t da[2] = {(uint64_t)e->in, (uint64_t)r}, db[2] = {(uint64_t)r, (uint64_t)e->out};
        snprintf(name, sizeof name, "blk.%d.%s.weight.lora_a", e->layer, gnames[e->target]);
        if ((rc = ya_gguf_add_tensor(w, name, type, 2, da, fill_lora, ga, err))) goto out;
        snprintf(name, sizeof name, "blk.%d.%s.weight.lora_b", e->layer, gnames[e->target]);
        if ((rc = ya_gguf_add_tensor(w, name, type, 2, db, fill_lora, gb, err))) goto out;
    }
    rc = ya_gguf_writer_finish(w, out_path, err);
    w = NULL;
out:
    ya_gguf_writer_free(w);
    free(gl);
    free(tmp);
    return rc ? ya_error_prefix(err, "GGUF adapter export to %s", out_path) : YA_OK;
}

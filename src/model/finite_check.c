/* finite_check.c — the logits check and the error-path weight scan (see finite_check.h). */
#include "model/finite_check.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "your_ai/lora.h" /* defines: YA_LORA_TARGET_COUNT, the YaLoraTarget order */

/* Index of the first element whose exponent bits are all ones (NaN or Inf), or −1.
 * Bits rather than a conversion: a 16 GB scan stays memory-bound. */
static int64_t first_nonfinite(const YaTensorInfo *t, int *is_nan) {
    const uint64_t n = t->numel;
    if (t->dtype == YA_DTYPE_F32) {
        const uint32_t *p = t->data;
        for (uint64_t i = 0; i < n; i++) {
            uint32_t u;
            memcpy(&u, p + i, sizeof u); /* the mapping may be unaligned */
            if ((u & 0x7f800000u) == 0x7f800000u) {
                *is_nan = (u & 0x007fffffu) != 0;
                return (int64_t)i;
            }
        }
    } else if (t->dtype == YA_DTYPE_BF16 || t->dtype == YA_DTYPE_F16) {
        const uint16_t exp_mask = t->dtype == YA_DTYPE_BF16 ? 0x7f80u : 0x7c00u;
        const uint16_t *p = t->data;
        for (uint64_t i = 0; i < n; i++) {
            uint16_t u;
            memcpy(&u, p + i, sizeof u);
            if ((u & exp_mask) == exp_mask) {
                *is_nan = (u & (uint16_t)~(exp_mask | 0x8000u)) != 0;
                return (int64_t)i;
            }
        }
    }
    return -1;
}

static int scan_tensor(const YaTensorInfo *t, char *where, size_t cap) {
    if (!t) return 0;
    int is_nan = 0;
    int64_t i = first_nonfinite(t, &is_nan);
    if (i < 0) return 0;
    if (t->ndim == 2)
        snprintf(where, cap, "%s: %s at element %lld [row %lld, column %lld] (%s)", t->name, is_nan ? "NaN" : "Inf",
                 (long long)i, (long long)(i / t->shape[1]), (long long)(i % t->shape[1]), t->file);
    else
        snprintf(where, cap, "%s: %s at element %lld (%s)", t->name, is_nan ? "NaN" : "Inf", (long long)i, t->file);
    return 1;
}

static int64_t first_nonfinite_f32(const float *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i])) return (int64_t)i;
    return -1;
}

/* lora.c (ya_train) has these too; ya_model does not link it. In YaLoraTarget order. */
static const char *const k_target_names[YA_LORA_TARGET_COUNT] = {"q_proj",    "k_proj", "v_proj",   "o_proj",
                                                                 "gate_proj", "up_proj", "down_proj"};

/* [in, out] of projection t (HF layout W [out, in]). */
static void lora_shape(const YaModelConfig *c, int t, int *in, int *out) {
    int h = c->hidden_size, f = c->intermediate_size, q = c->num_attention_heads * c->head_dim,
        kv = c->num_key_value_heads * c->head_dim;
    static const int is_kv[YA_LORA_TARGET_COUNT] = {0, 1, 1, 0, 0, 0, 0};
    switch (t) {
    case YA_LORA_O: *in = q, *out = h; break;
    case YA_LORA_GATE:
    case YA_LORA_UP: *in = h, *out = f; break;
    case YA_LORA_DOWN: *in = f, *out = h; break;
    default: *in = h, *out = is_kv[t] ? kv : q; break;
    }
}

/* The LoRA factors as the forward sees them (already fp32, in the adapter's layout). */
static int scan_lora(const YaModel *m, char *where, size_t cap) {
    if (!m->lora) return 0;
    for (int l = 0; l < m->cfg.num_hidden_layers; l++)
        for (int t = 0; t < YA_LORA_TARGET_COUNT; t++) {
            const YaLoraFactors *f = &m->lora[(size_t)l * YA_LORA_TARGET_COUNT + (size_t)t];
            if (!f->A) continue;
            int in, out;
            lora_shape(&m->cfg, t, &in, &out);
            size_t r = (size_t)m->lora_rank;
            int64_t ia = first_nonfinite_f32(f->A, r * (size_t)in), ib = ia < 0 ? first_nonfinite_f32(f->B, (size_t)out * r) : -1;
            if (ia < 0 && ib < 0) continue;
            snprintf(where, cap, "adapter layer %d %s lora_%s: %s at element %lld", l,
                     k_target_names[t], ia >= 0 ? "A" : "B",
                     isnan(ia >= 0 ? f->A[ia] : f->B[ib]) ? "NaN" : "Inf", (long long)(ia >= 0 ? ia : ib));
            return 1;
        }
    return 0;
}

int ya_model_find_nonfinite(const YaModel *m, char *where, size_t cap) {
    if (scan_tensor(m->embed, where, cap)) return 1;
    for (int l = 0; l < m->cfg.num_hidden_layers; l++) {
        const YaLlamaLayer *ly = &m->layers[l];
        const YaTensorInfo *order[] = {ly->input_norm, ly->wq, ly->bq, ly->wk, ly->bk, ly->wv, ly->bv, ly->wo, ly->bo,
                                       ly->post_norm, ly->w_gate, ly->b_gate, ly->w_up, ly->b_up, ly->w_down, ly->b_down};
        for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
            if (scan_tensor(order[i], where, cap)) return 1;
    }
    if (scan_tensor(m->norm, where, cap)) return 1;
    if (m->lm_head != m->embed && scan_tensor(m->lm_head, where, cap)) return 1;
    return scan_lora(m, where, cap);
}

int ya_model_check_logits(const YaModel *m, const float *logits, int rows, int first_pos, YaError *err) {
    const size_t V = (size_t)m->cfg.vocab_size, n = (size_t)rows * V;
    int bad = 0;
#pragma omp parallel for reduction(| : bad) schedule(static)
    for (size_t i = 0; i < n; i++) bad |= !isfinite(logits[i]);
    if (!bad) return YA_OK;
    size_t i = 0;
    while (i < n && isfinite(logits[i])) i++;
    int pos = first_pos + (int)(i / V);
    const char *what = isnan(logits[i]) ? "NaN" : "Inf";
    char where[1024];
    if (ya_model_find_nonfinite(m, where, sizeof where))
        return ya_fail(err, YA_ERR, "%s: logits are not finite (%s at position %d, vocab id %zu): non-finite weight %s",
                       m->dir, what, pos, i % V, where);
    return ya_fail(err, YA_ERR,
                   "%s: logits are not finite (%s at position %d, vocab id %zu) although every weight is finite: "
                   "the activations overflowed",
                   m->dir, what, pos, i % V);
}

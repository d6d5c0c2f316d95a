/* lora.c — LoRA parameter set: target parsing, the flat-buffer table with PEFT
 * keys, counting and initialisation (SPEC §7, §10.1; see lora.h). */
#include "your_ai/lora.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/rng.h"

static const char *const k_target_names[YA_LORA_TARGET_COUNT] = {"q_proj", "k_proj", "v_proj", "o_proj",
                                                                 "gate_proj", "up_proj", "down_proj"};
static const char *const k_short_names[YA_LORA_TARGET_COUNT] = {"q", "k", "v", "o", "gate", "up", "down"};

void ya_lora_config_defaults(YaLoraConfig *cfg) {
    cfg->rank = 16;
    cfg->alpha = 32.0;
    cfg->dropout = 0.0;
    cfg->targets = YA_LORA_ALL_MASK;
    cfg->layers = -1;
}

void ya_lora_config_reference(YaLoraConfig *cfg) {
    cfg->rank = 128;
    cfg->alpha = 256.0;
    cfg->dropout = 0.0;
    cfg->targets = YA_LORA_ATTN_MASK;
    cfg->layers = 16;
}

const char *ya_lora_target_name(YaLoraTarget t) {
    return (unsigned)t < YA_LORA_TARGET_COUNT ? k_target_names[t] : "?";
}

const char *ya_lora_target_module(YaLoraTarget t) { return t <= YA_LORA_O ? "self_attn" : "mlp"; }

int ya_lora_parse_targets(const char *s, unsigned *mask, YaError *err) {
    unsigned m = 0;
    const char *p = s;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *a = p, *b = p + len;
        while (a < b && isspace((unsigned char)*a)) a++;
        while (b > a && isspace((unsigned char)b[-1])) b--;
        size_t n = (size_t)(b - a);
        unsigned bit = 0;
        if (n == 3 && strncmp(a, "all", 3) == 0) bit = YA_LORA_ALL_MASK;
        else if (n == 4 && strncmp(a, "attn", 4) == 0) bit = YA_LORA_ATTN_MASK;
        else if (n == 3 && strncmp(a, "mlp", 3) == 0) bit = YA_LORA_ALL_MASK & ~YA_LORA_ATTN_MASK;
        else {
            for (int t = 0; t < YA_LORA_TARGET_COUNT; t++) {
                if ((strlen(k_short_names[t]) == n && strncmp(a, k_short_names[t], n) == 0) ||
                    (strlen(k_target_names[t]) == n && strncmp(a, k_target_names[t], n) == 0))
                    bit = YA_LORA_BIT(t);
            }
        }
        if (!bit) {
            if (n == 0)
                return ya_fail(err, YA_ERR_USAGE, "--lora-targets '%s': empty name in the list", s);
            return ya_fail(err, YA_ERR_USAGE,
                           "--lora-targets: unknown target '%.*s' (expected q,k,v,o,gate,up,down, their *_proj "
                           "names, attn, mlp or all)",
                           (int)n, a);
        }
        m |= bit;
        if (!comma) break;
        p = comma + 1;
    }
    *mask = m;
    return YA_OK;
}

void ya_lora_format_targets(unsigned mask, char *buf, size_t cap) {
    size_t len = 0;
    if (cap) buf[0] = '\0';
    for (int t = 0; t < YA_LORA_TARGET_COUNT; t++) {
        if (!(mask & YA_LORA_BIT(t))) continue;
        int n = snprintf(buf + len, cap > len ? cap - len : 0, "%s%s", len ? "," : "", k_target_names[t]);
        if (n < 0 || (size_t)n >= (cap > len ? cap - len : 0)) return;
        len += (size_t)n;
    }
}

void ya_lora_target_shape(const YaModelConfig *mc, YaLoraTarget t, int *in, int *out) {
    const int h = mc->hidden_size, f = mc->intermediate_size;
    const int q_dim = mc->num_attention_heads * mc->head_dim;   /* n_h·d */
    const int kv_dim = mc->num_key_value_heads * mc->head_dim;  /* n_kv·d */
    switch (t) {
    case YA_LORA_Q: *in = h; *out = q_dim; break;
    case YA_LORA_K:
    case YA_LORA_V: *in = h; *out = kv_dim; break;
    case YA_LORA_O: *in = q_dim; *out = h; break;
    case YA_LORA_GATE:
    case YA_LORA_UP: *in = h; *out = f; break;
    case YA_LORA_DOWN: *in = f; *out = h; break;
    default: *in = *out = 0; break;
    }
}

static int first_adapted_layer(const YaModelConfig *mc, const YaLoraConfig *lc) {
    return lc->layers < 0 ? 0 : mc->num_hidden_layers - lc->layers;
}

uint64_t ya_lora_param_count(const YaModelConfig *mc, const YaLoraConfig *lc) {
    uint64_t per_layer = 0;
    for (int t = 0; t < YA_LORA_TARGET_COUNT; t++) {
        if (!(lc->targets & YA_LORA_BIT(t))) continue;
        int in, out;
        ya_lora_target_shape(mc, (YaLoraTarget)t, &in, &out);
        per_layer += (uint64_t)lc->rank * (uint64_t)(in + out);
    }
    int first = first_adapted_layer(mc, lc);
    int n_layers = mc->num_hidden_layers - (first > 0 ? first : 0);
    return per_layer * (uint64_t)(n_layers > 0 ? n_layers : 0);
}

static int validate(const YaModelConfig *mc, const YaLoraConfig *lc, YaError *err) {
    if (mc->num_hidden_layers < 1 || mc->hidden_size < 1 || mc->intermediate_size < 1 ||
        mc->num_attention_heads < 1 || mc->num_key_value_heads < 1 || mc->head_dim < 1)
        return ya_fail(err, YA_ERR, "model config: LoRA needs positive layer/hidden/intermediate/head sizes");
    if (lc->rank < 1) return ya_fail(err, YA_ERR_USAGE, "--lora-rank must be at least 1 (got %d)", lc->rank);
    if (!(isfinite(lc->alpha) && lc->alpha > 0))
        return ya_fail(err, YA_ERR_USAGE, "--lora-alpha must be a positive number (got %g)", lc->alpha);
    if (!(lc->dropout >= 0 && lc->dropout < 1))
        return ya_fail(err, YA_ERR_USAGE, "--lora-dropout must be in [0, 1) (got %g)", lc->dropout);
    if ((lc->targets & YA_LORA_ALL_MASK) == 0 || (lc->targets & ~YA_LORA_ALL_MASK))
        return ya_fail(err, YA_ERR_USAGE, "--lora-targets: no valid target selected");
    if (lc->layers == 0 || lc->layers < -1 || lc->layers > mc->num_hidden_layers)
        return ya_fail(err, YA_ERR_USAGE,
                       "--lora-layers must be -1 (all) or 1 ... %d, the model's layer count (got %d)",
                       mc->num_hidden_layers, lc->layers);
    return YA_OK;
}

/* Rounds a float count up so each of the four arrays starts 64-byte aligned. */
static size_t round_up16(size_t n) { return (n + 15) & ~(size_t)15; }

int ya_lora_create(const YaModelConfig *mc, const YaLoraConfig *lc, int alloc, YaLoraSet *set, YaError *err) {
    memset(set, 0, sizeof *set);
    if (validate(mc, lc, err)) return err ? err->code : YA_ERR;
    set->cfg = *lc;
    set->n_model_layers = mc->num_hidden_layers;
    set->first_layer = first_adapted_layer(mc, lc);
    int n_targets = 0;
    for (int t = 0; t < YA_LORA_TARGET_COUNT; t++) n_targets += (lc->targets & YA_LORA_BIT(t)) != 0;
    set->n_tensors = (size_t)n_targets * (size_t)(mc->num_hidden_layers - set->first_layer);
    set->t = calloc(set->n_tensors, sizeof *set->t);
    if (!set->t) return ya_fail(err, YA_ERR, "LoRA: out of memory for %zu tensor entries", set->n_tensors);
    size_t off = 0, i = 0;
    const size_t r = (size_t)lc->rank;
    for (int layer = set->first_layer; layer < mc->num_hidden_layers; layer++) {
        for (int t = 0; t < YA_LORA_TARGET_COUNT; t++) {
            if (!(lc->targets & YA_LORA_BIT(t))) continue;
            YaLoraTensor *e = &set->t[i++];
            e->layer = layer;
            e->target = (YaLoraTarget)t;
            ya_lora_target_shape(mc, e->target, &e->in, &e->out);
            e->a_off = off;
            off += r * (size_t)e->in;
            e->b_off = off;
            off += (size_t)e->out * r;
            snprintf(e->key_a, sizeof e->key_a, "base_model.model.model.layers.%d.%s.%s.lora_A.weight", layer,
                     ya_lora_target_module(e->target), k_target_names[t]);
            snprintf(e->key_b, sizeof e->key_b, "base_model.model.model.layers.%d.%s.%s.lora_B.weight", layer,
                     ya_lora_target_module(e->target), k_target_names[t]);
        }
    }
    set->n_params = off;
    if (!alloc) return YA_OK;
    const size_t stride = round_up16(off);
    if (stride > SIZE_MAX / 4 / sizeof(float)) {
        ya_lora_free(set);
        return ya_fail(err, YA_ERR, "LoRA: %zu parameters overflow the address space", off);
    }
    const size_t bytes = 4 * stride * sizeof(float);
    set->base = aligned_alloc(64, bytes ? bytes : 64);
    if (!set->base) {
        ya_lora_free(set);
        return ya_fail(err, YA_ERR, "LoRA: out of memory allocating %zu bytes for parameters, gradients and moments",
                       bytes);
    }
    memset(set->base, 0, bytes);
    set->params = (float *)set->base;
    set->grads = set->params + stride;
    set->m = set->grads + stride;
    set->v = set->m + stride;
    return YA_OK;
}

void ya_lora_free(YaLoraSet *set) {
    free(set->t);
    free(set->base);
    memset(set, 0, sizeof *set);
}

void ya_lora_init_params(YaLoraSet *set, uint64_t seed) {
    const size_t r = (size_t)set->cfg.rank;
    const long long nt = (long long)set->n_tensors;
#pragma omp parallel for schedule(dynamic)
    for (long long i = 0; i < nt; i++) {
        const YaLoraTensor *e = &set->t[i];
        char tag[128];
        snprintf(tag, sizeof tag, "lora-init:%s", e->key_a);
        YaRng rng;
        ya_rng_seed(&rng, seed, tag);
        const double bound = 1.0 / sqrt((double)e->in);
        float *a = set->params + e->a_off; /* [r, in] */
        for (size_t j = 0; j < r * (size_t)e->in; j++) a[j] = (float)((2.0 * ya_rng_uniform(&rng) - 1.0) * bound);
        memset(set->params + e->b_off, 0, (size_t)e->out * r * sizeof(float)); /* B [out, r] = 0 */
    }
    memset(set->grads, 0, set->n_params * sizeof(float));
    memset(set->m, 0, set->n_params * sizeof(float));
    memset(set->v, 0, set->n_params * sizeof(float));
}

const YaLoraTensor *ya_lora_find(const YaLoraSet *set, int layer, YaLoraTarget target) {
    for (size_t i = 0; i < set->n_tensors; i++)
        if (set->t[i].layer == layer && set->t[i].target == target) return &set->t[i];
    return NULL;
}

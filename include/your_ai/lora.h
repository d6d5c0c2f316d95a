/* lora.h — the LoRA parameter set of a model (SPEC §7, §10.1).
 *
 * For a model config and a LoRA config this module decides which projections
 * get adapters (targets × layers), lays every A [r, in] and B [out, r] out in
 * ONE flat F32 parameter buffer (plus gradients and the two AdamW moments of
 * the same layout, all four carved from a single allocation), names each
 * tensor with its PEFT key, and initialises A ~ U(−1/√in, +1/√in), B = 0.
 * The flat layout is what the optimizer, the checkpoint writer, a future
 * gradient all-reduce and the memory planner all see. */
#ifndef YOUR_AI_LORA_H
#define YOUR_AI_LORA_H

#include <stddef.h>
#include <stdint.h>

#include "your_ai/config.h"
#include "your_ai/error.h"

/* Target projections, in the canonical (and PEFT target_modules) order. */
typedef enum YaLoraTarget {
    YA_LORA_Q = 0, YA_LORA_K, YA_LORA_V, YA_LORA_O, YA_LORA_GATE, YA_LORA_UP, YA_LORA_DOWN,
    YA_LORA_TARGET_COUNT
} YaLoraTarget;

#define YA_LORA_BIT(t) (1u << (t))
#define YA_LORA_ATTN_MASK (YA_LORA_BIT(YA_LORA_Q) | YA_LORA_BIT(YA_LORA_K) | YA_LORA_BIT(YA_LORA_V) | YA_LORA_BIT(YA_LORA_O))
#define YA_LORA_ALL_MASK ((1u << YA_LORA_TARGET_COUNT) - 1u)

typedef struct YaLoraConfig {
    int rank;         /* r ≥ 1 (--lora-rank, default 16) */
    double alpha;     /* α (--lora-alpha, default 2·r); scale = α/r */
    double dropout;   /* in [0, 1) (--lora-dropout, default 0) */
    unsigned targets; /* bitmask of YA_LORA_BIT(target) (--lora-targets, default all 7) */
    int layers;       /* −1 = all blocks, N ≥ 1 = the last N blocks (--lora-layers, default −1) */
} YaLoraConfig;

/* Our CLI defaults (SPEC §7): r 16, α 32, dropout 0, q,k,v,o,gate,up,down, all layers. */
void ya_lora_config_defaults(YaLoraConfig *cfg);
/* The reference preset (--lora-preset reference): r 128, α 256, q,k,v,o, last 16 layers. */
void ya_lora_config_reference(YaLoraConfig *cfg);

/* Parses --lora-targets: comma-separated short names (q,k,v,o,gate,up,down),
 * their PEFT names (q_proj, …, down_proj), "attn" (q,k,v,o), "mlp"
 * (gate,up,down) or "all". Whitespace around names is ignored; duplicates are
 * allowed; an empty list or unknown name is YA_ERR_USAGE naming it. */
int ya_lora_parse_targets(const char *s, unsigned *mask, YaError *err);
/* "q_proj" … "down_proj". */
const char *ya_lora_target_name(YaLoraTarget t);
/* The parent module in HF names: "self_attn" (q,k,v,o) or "mlp" (gate,up,down). */
const char *ya_lora_target_module(YaLoraTarget t);
/* Writes "q_proj,k_proj,…" for a mask into buf (truncated to cap). */
void ya_lora_format_targets(unsigned mask, char *buf, size_t cap);

/* [in, out] of the projection t for cfg (HF layout W [out, in]). */
void ya_lora_target_shape(const YaModelConfig *mc, YaLoraTarget t, int *in, int *out);

/* Σ over adapted layers and targets of r·(in + out) (SPEC §7). */
uint64_t ya_lora_param_count(const YaModelConfig *mc, const YaLoraConfig *lc);

/* One adapted projection. Offsets index the flat buffers (in floats). */
typedef struct YaLoraTensor {
    int layer;          /* model block index */
    YaLoraTarget target;
    int in, out;        /* the base projection is W [out, in] */
    size_t a_off;       /* A [r, in] at params + a_off */
    size_t b_off;       /* B [out, r] at params + b_off */
    char key_a[96];     /* base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight */
    char key_b[96];     /* … .lora_B.weight */
} YaLoraTensor;

typedef struct YaLoraSet {
    YaLoraConfig cfg;
    int n_model_layers; /* L of the model */
    int first_layer;    /* adapted blocks are first_layer … L−1 */
    size_t n_tensors;   /* entries of t (layer-major, then target order) */
    YaLoraTensor *t;
    size_t n_params;    /* floats in each of the four buffers */
    /* One allocation (base), 64-byte aligned, holding four [n_params] arrays: */
    float *params; /* every A and B, at the offsets of t[] */
    float *grads;  /* same layout */
    float *m;      /* AdamW first moment (exp_avg) */
    float *v;      /* AdamW second moment (exp_avg_sq) */
    void *base;
} YaLoraSet;

/* Validates lc against mc (rank ≥ 1, α > 0, dropout in [0,1), non-empty
 * targets, layers −1 or 1 … L) and builds the table; allocates the buffers
 * when alloc is non-zero (zeroed), otherwise leaves them NULL (planning only).
 * Usage errors are YA_ERR_USAGE and name the flag. */
int ya_lora_create(const YaModelConfig *mc, const YaLoraConfig *lc, int alloc, YaLoraSet *set, YaError *err);
void ya_lora_free(YaLoraSet *set);

/* B = 0 and A ~ U(−1/√in, +1/√in), each A from its own RNG stream
 * (seed, "lora-init:<key_a>"), so a tensor's values do not depend on which
 * other tensors exist or the order they are initialised in. Grads and moments
 * are zeroed. */
void ya_lora_init_params(YaLoraSet *set, uint64_t seed);

/* The tensor adapting (layer, target), or NULL if that one is not adapted. */
const YaLoraTensor *ya_lora_find(const YaLoraSet *set, int layer, YaLoraTarget target);

/* Scale α/r applied to B·A·x. */
static inline double ya_lora_scale(const YaLoraConfig *lc) { return lc->alpha / lc->rank; }

#endif

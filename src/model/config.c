/* config.c — reading and writing a Llama-family config.json (SPEC §6.1).
 *
 * One parser for every source: HF model directories, `init-model --config`,
 * checkpoints. It accepts both places transformers has kept the RoPE settings
 * (top-level rope_theta/rope_scaling in files from transformers < 5, a nested
 * rope_parameters object from transformers ≥ 5) and rejects, naming the field,
 * anything we would otherwise silently compute wrong: an unknown model_type or
 * RoPE type, a non-silu activation, heads that do not divide, quantised weights.
 * The writer emits the top-level form, which both transformers 4.40+ and 5.x load. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/config.h"
#include "your_ai/fileio.h"
#include "your_ai/json.h"

/* Sizes beyond this are corrupt files, and keeping every dimension < 2^24
 * keeps the products the model code forms (V·h, n_h·d·h) inside 64 bits. */
#define YA_CFG_MAX_DIM (1 << 24)

static int req_dim(const json_t *root, const char *key, const char *where, int *out, YaError *err) {
    long long v;
    if (ya_json_req_int(root, key, where, &v, err)) return YA_ERR;
    if (v <= 0 || v > YA_CFG_MAX_DIM)
        return ya_fail(err, YA_ERR, "%s: field '%s' must be in [1, %d], got %lld", where, key, YA_CFG_MAX_DIM, v);
    *out = (int)v;
    return YA_OK;
}

static int opt_dim(const json_t *root, const char *key, const char *where, int def, int *out, YaError *err) {
    long long v;
    if (ya_json_opt_int(root, key, where, def, &v, err)) return YA_ERR;
    if (v <= 0 || v > YA_CFG_MAX_DIM)
        return ya_fail(err, YA_ERR, "%s: field '%s' must be in [1, %d], got %lld", where, key, YA_CFG_MAX_DIM, v);
    *out = (int)v;
    return YA_OK;
}

/* Token id fields: an int, or (eos) a list of ints. */
static int read_token_ids(const json_t *v, const char *where, const char *key, int32_t *ids, int cap, int *n,
                          YaError *err) {
    *n = 0;
    if (!v || json_is_null(v)) return YA_OK;
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX)
            return ya_fail(err, YA_ERR, "%s: field '%s' must be a non-negative token id", where, key);
        ids[(*n)++] = (int32_t)json_integer_value(v);
        return YA_OK;
    }
    if (!json_is_array(v)) return ya_fail(err, YA_ERR, "%s: field '%s' must be an integer or a list of integers", where, key);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > INT32_MAX)
            return ya_fail(err, YA_ERR, "%s: field '%s'[%zu] must be a non-negative token id", where, key, i);
        if (*n == cap) return ya_fail(err, YA_ERR, "%s: field '%s' lists more than %d ids", where, key, cap);
        ids[(*n)++] = (int32_t)json_integer_value(e);
    }
    return YA_OK;
}

/* Reads the RoPE scaling object `rs` (rope_scaling or rope_parameters); `field`
 * names it in messages. A missing type means "default" only inside
 * rope_parameters (which always carries theta); in rope_scaling it is an error. */
static int read_rope_scaling(const json_t *rs, const char *where, const char *field, YaModelConfig *cfg, YaError *err) {
    char w[256];
    snprintf(w, sizeof w, "%s: %s", where, field);
    const json_t *t = json_object_get(rs, "rope_type");
    const char *tkey = "rope_type";
    if (!t || json_is_null(t)) {
        t = json_object_get(rs, "type");
        tkey = "type";
    }
    const char *type;
    if (!t || json_is_null(t)) {
        if (strcmp(field, "rope_parameters") != 0)
            return ya_fail(err, YA_ERR, "%s: missing required field 'rope_type'", w);
        type = "default";
    } else if (!json_is_string(t)) {
        return ya_fail(err, YA_ERR, "%s: field '%s' must be a string", w, tkey);
    } else {
        type = json_string_value(t);
    }
    if (strcmp(type, "default") == 0) {
        cfg->rope_type = YA_ROPE_DEFAULT;
        return YA_OK;
    }
    if (strcmp(type, "linear") == 0) {
        cfg->rope_type = YA_ROPE_LINEAR;
        if (ya_json_req_number(rs, "factor", w, &cfg->rope_factor, err)) return YA_ERR;
        if (!(cfg->rope_factor > 0)) return ya_fail(err, YA_ERR, "%s: field 'factor' must be > 0", w);
        return YA_OK;
    }
    if (strcmp(type, "llama3") == 0) {
        cfg->rope_type = YA_ROPE_LLAMA3;
        long long orig;
        if (ya_json_req_number(rs, "factor", w, &cfg->rope_factor, err) ||
            ya_json_req_number(rs, "low_freq_factor", w, &cfg->rope_low_freq_factor, err) ||
            ya_json_req_number(rs, "high_freq_factor", w, &cfg->rope_high_freq_factor, err) ||
            ya_json_req_int(rs, "original_max_position_embeddings", w, &orig, err))
            return YA_ERR;
        if (!(cfg->rope_factor > 0)) return ya_fail(err, YA_ERR, "%s: field 'factor' must be > 0", w);
        if (!(cfg->rope_low_freq_factor > 0) || !(cfg->rope_high_freq_factor > cfg->rope_low_freq_factor))
            return ya_fail(err, YA_ERR, "%s: need 0 < low_freq_factor < high_freq_factor, got %g and %g", w,
                           cfg->rope_low_freq_factor, cfg->rope_high_freq_factor);
        if (orig <= 0 || orig > INT32_MAX)
            return ya_fail(err, YA_ERR, "%s: field 'original_max_position_embeddings' must be a positive integer", w);
        cfg->rope_original_max_pos = (int)orig;
        return YA_OK;
    }
    return ya_fail(err, YA_ERR, "%s: field '%s' = '%s' is not supported (expected default, linear or llama3)", w, tkey,
                   type);
}

static int parse_root(const json_t *root, const char *where, YaModelConfig *cfg, YaError *err) {
    memset(cfg, 0, sizeof *cfg);
    cfg->bos_token_id = -1;
    if (!json_is_object(root)) return ya_fail(err, YA_ERR, "%s: must be a JSON object", where);

    const char *mt;
    if (ya_json_req_string(root, "model_type", where, &mt, err)) return YA_ERR;
    if (strcmp(mt, "llama") == 0) cfg->arch = YA_ARCH_LLAMA;
    else if (strcmp(mt, "mistral") == 0) cfg->arch = YA_ARCH_MISTRAL;
    else if (strcmp(mt, "qwen2") == 0) cfg->arch = YA_ARCH_QWEN2;
    else
        return ya_fail(err, YA_ERR, "%s: field 'model_type' = '%s' is not supported (expected llama, mistral or qwen2)",
                       where, mt);
    snprintf(cfg->model_type, sizeof cfg->model_type, "%s", mt);

    if (req_dim(root, "hidden_size", where, &cfg->hidden_size, err) ||
        req_dim(root, "intermediate_size", where, &cfg->intermediate_size, err) ||
        req_dim(root, "num_hidden_layers", where, &cfg->num_hidden_layers, err) ||
        req_dim(root, "num_attention_heads", where, &cfg->num_attention_heads, err) ||
        req_dim(root, "vocab_size", where, &cfg->vocab_size, err) ||
        opt_dim(root, "num_key_value_heads", where, cfg->num_attention_heads, &cfg->num_key_value_heads, err))
        return YA_ERR;
    if (cfg->num_attention_heads % cfg->num_key_value_heads != 0)
        return ya_fail(err, YA_ERR,
                       "%s: field 'num_attention_heads' (%d) must be a multiple of 'num_key_value_heads' (%d)", where,
                       cfg->num_attention_heads, cfg->num_key_value_heads);
    const json_t *hd = json_object_get(root, "head_dim");
    if (hd && !json_is_null(hd)) {
        if (opt_dim(root, "head_dim", where, 0, &cfg->head_dim, err)) return YA_ERR;
    } else {
        if (cfg->hidden_size % cfg->num_attention_heads != 0)
            return ya_fail(err, YA_ERR,
                           "%s: field 'hidden_size' (%d) is not a multiple of 'num_attention_heads' (%d) and no "
                           "'head_dim' is given",
                           where, cfg->hidden_size, cfg->num_attention_heads);
        cfg->head_dim = cfg->hidden_size / cfg->num_attention_heads;
    }
    if (cfg->head_dim % 2 != 0)
        return ya_fail(err, YA_ERR, "%s: field 'head_dim' (%d) must be even for rotate-half RoPE", where, cfg->head_dim);

    long long mpe;
    if (ya_json_opt_int(root, "max_position_embeddings", where, 0, &mpe, err)) return YA_ERR;
    if (mpe < 0 || mpe > INT32_MAX)
        return ya_fail(err, YA_ERR, "%s: field 'max_position_embeddings' must be a non-negative integer", where);
    cfg->max_position_embeddings = (int)mpe;

    /* Never a library default: Llama-3 and Mistral use 1e-5, Qwen2 1e-6. */
    if (ya_json_req_number(root, "rms_norm_eps", where, &cfg->rms_norm_eps, err)) return YA_ERR;
    if (!(cfg->rms_norm_eps > 0) || !(cfg->rms_norm_eps < 1))
        return ya_fail(err, YA_ERR, "%s: field 'rms_norm_eps' must be in (0, 1), got %g", where, cfg->rms_norm_eps);

    const char *act;
    if (ya_json_opt_string(root, "hidden_act", where, "silu", &act, err)) return YA_ERR;
    if (strcmp(act, "silu") != 0)
        return ya_fail(err, YA_ERR, "%s: field 'hidden_act' = '%s' is not supported (expected 'silu')", where, act);

    if (json_object_get(root, "quantization_config") && !json_is_null(json_object_get(root, "quantization_config")))
        return ya_fail(err, YA_ERR, "%s: field 'quantization_config': quantised models are not supported", where);

    /* RoPE: nested rope_parameters (transformers ≥ 5) wins over the top-level form. */
    if (ya_json_opt_number(root, "rope_theta", where, 10000.0, &cfg->rope_theta, err)) return YA_ERR;
    const json_t *rp = json_object_get(root, "rope_parameters"), *rs = json_object_get(root, "rope_scaling");
    cfg->rope_type = YA_ROPE_DEFAULT;
    if (rp && !json_is_null(rp)) {
        if (!json_is_object(rp))
            return ya_fail(err, YA_ERR, "%s: field 'rope_parameters' must be an object", where);
        char w[256];
        snprintf(w, sizeof w, "%s: rope_parameters", where);
        if (ya_json_opt_number(rp, "rope_theta", w, cfg->rope_theta, &cfg->rope_theta, err)) return YA_ERR;
        if (read_rope_scaling(rp, where, "rope_parameters", cfg, err)) return YA_ERR;
    } else if (rs && !json_is_null(rs)) {
        if (!json_is_object(rs)) return ya_fail(err, YA_ERR, "%s: field 'rope_scaling' must be an object or null", where);
        if (read_rope_scaling(rs, where, "rope_scaling", cfg, err)) return YA_ERR;
    }
    if (!(cfg->rope_theta > 1))
        return ya_fail(err, YA_ERR, "%s: field 'rope_theta' must be > 1, got %g", where, cfg->rope_theta);

    if (ya_json_opt_bool(root, "tie_word_embeddings", where, 0, &cfg->tie_word_embeddings, err)) return YA_ERR;
    int attn_bias = 0, mlp_bias = 0;
    if (ya_json_opt_bool(root, "attention_bias", where, 0, &attn_bias, err) ||
        ya_json_opt_bool(root, "mlp_bias", where, 0, &mlp_bias, err))
        return YA_ERR;
    switch (cfg->arch) {
    case YA_ARCH_LLAMA:
        cfg->attention_bias = attn_bias;
        cfg->o_bias = attn_bias;
        cfg->mlp_bias = mlp_bias;
        break;
    case YA_ARCH_MISTRAL: /* MistralAttention/MLP have no bias switches */
        if (attn_bias || mlp_bias)
            return ya_fail(err, YA_ERR, "%s: field '%s' = true is not supported for model_type 'mistral'", where,
                           attn_bias ? "attention_bias" : "mlp_bias");
        break;
    case YA_ARCH_QWEN2: /* q/k/v always biased, o_proj and the MLP never */
        cfg->attention_bias = 1;
        cfg->o_bias = 0;
        cfg->mlp_bias = 0;
        break;
    }

    /* sliding_window: Mistral when non-null; Qwen2 only with use_sliding_window. */
    const json_t *sw = json_object_get(root, "sliding_window");
    int use_sw = cfg->arch == YA_ARCH_MISTRAL;
    if (cfg->arch == YA_ARCH_QWEN2 && ya_json_opt_bool(root, "use_sliding_window", where, 0, &use_sw, err)) return YA_ERR;
    if (cfg->arch == YA_ARCH_LLAMA) use_sw = 0;
    if (use_sw && sw && !json_is_null(sw)) {
        if (!json_is_integer(sw) || json_integer_value(sw) <= 0 || json_integer_value(sw) > INT32_MAX)
            return ya_fail(err, YA_ERR, "%s: field 'sliding_window' must be a positive integer or null", where);
        cfg->sliding_window = (int)json_integer_value(sw);
    }

    /* transformers 5 renamed torch_dtype to dtype. */
    const char *dt = NULL;
    if (ya_json_opt_string(root, "torch_dtype", where, NULL, &dt, err)) return YA_ERR;
    if (!dt && ya_json_opt_string(root, "dtype", where, NULL, &dt, err)) return YA_ERR;
    if (dt) snprintf(cfg->torch_dtype, sizeof cfg->torch_dtype, "%s", dt);

    const json_t *jb = json_object_get(root, "bos_token_id");
    if (jb && !json_is_null(jb)) {
        if (!json_is_integer(jb) || json_integer_value(jb) < 0 || json_integer_value(jb) > INT32_MAX)
            return ya_fail(err, YA_ERR, "%s: field 'bos_token_id' must be a non-negative integer", where);
        cfg->bos_token_id = (int32_t)json_integer_value(jb);
    }
    if (read_token_ids(json_object_get(root, "eos_token_id"), where, "eos_token_id", cfg->eos_token_ids, 8,
                       &cfg->n_eos, err))
        return YA_ERR;
    return YA_OK;
}

int ya_config_parse(const char *json_text, size_t len, const char *where, YaModelConfig *cfg, YaError *err) {
    json_t *root;
    if (ya_json_parse(json_text, len, where, 0, &root, err)) return YA_ERR;
    int rc = parse_root(root, where, cfg, err);
    json_decref(root);
    return rc;
}

int ya_config_load(const char *path, YaModelConfig *cfg, YaError *err) {
    json_t *root;
    if (ya_json_load_file(path, 0, &root, err)) return YA_ERR;
    int rc = parse_root(root, path, cfg, err);
    json_decref(root);
    return rc;
}

int ya_config_load_dir(const char *model_dir, YaModelConfig *cfg, YaError *err) {
    char path[4096];
    if (ya_path_join(path, sizeof path, model_dir, "config.json", err)) return YA_ERR;
    if (!ya_path_exists(path)) return ya_fail(err, YA_ERR, "%s: no config.json in the model directory", model_dir);
    if (ya_config_load(path, cfg, err)) return YA_ERR;
    if (ya_path_join(path, sizeof path, model_dir, "generation_config.json", err)) return YA_ERR;
    if (!ya_path_exists(path)) return YA_OK;
    json_t *gen;
    if (ya_json_load_file(path, 0, &gen, err)) return YA_ERR;
    /* Generation may stop on more ids than config.json names (Llama-3-Instruct
     * adds <|eot_id|>): take the union, config's ids first. */
    int32_t ids[8];
    int n = 0, rc = YA_OK;
    if (!json_is_object(gen)) rc = ya_fail(err, YA_ERR, "%s: must be a JSON object", path);
    if (!rc) rc = read_token_ids(json_object_get(gen, "eos_token_id"), path, "eos_token_id", ids, 8, &n, err);
    for (int i = 0; !rc && i < n; i++) {
        int seen = 0;
        for (int j = 0; j < cfg->n_eos; j++) seen |= cfg->eos_token_ids[j] == ids[i];
        if (seen) continue;
        if (cfg->n_eos == 8) {
            rc = ya_fail(err, YA_ERR, "%s: more than 8 distinct eos ids with config.json", path);
            break;
        }
        cfg->eos_token_ids[cfg->n_eos++] = ids[i];
    }
    const json_t *jb = json_object_get(gen, "bos_token_id");
    if (!rc && cfg->bos_token_id < 0 && json_is_integer(jb) && json_integer_value(jb) >= 0 &&
        json_integer_value(jb) <= INT32_MAX)
        cfg->bos_token_id = (int32_t)json_integer_value(jb);
    json_decref(gen);
    return rc;
}

static const char *arch_class(YaArch a) {
    switch (a) {
    case YA_ARCH_MISTRAL: return "MistralForCausalLM";
    case YA_ARCH_QWEN2: return "Qwen2ForCausalLM";
    default: return "LlamaForCausalLM";
    }
}

char *ya_config_to_json(const YaModelConfig *cfg) {
    static const char *k_types[] = {"llama", "mistral", "qwen2"};
    json_t *r = json_object(), *arch = json_array();
    json_array_append_new(arch, json_string(arch_class(cfg->arch)));
    json_object_set_new(r, "architectures", arch);
    json_object_set_new(r, "model_type", json_string(k_types[cfg->arch]));
    json_object_set_new(r, "hidden_size", json_integer(cfg->hidden_size));
    json_object_set_new(r, "intermediate_size", json_integer(cfg->intermediate_size));
    json_object_set_new(r, "num_hidden_layers", json_integer(cfg->num_hidden_layers));
    json_object_set_new(r, "num_attention_heads", json_integer(cfg->num_attention_heads));
    json_object_set_new(r, "num_key_value_heads", json_integer(cfg->num_key_value_heads));
    json_object_set_new(r, "head_dim", json_integer(cfg->head_dim));
    json_object_set_new(r, "vocab_size", json_integer(cfg->vocab_size));
    if (cfg->max_position_embeddings > 0)
        json_object_set_new(r, "max_position_embeddings", json_integer(cfg->max_position_embeddings));
    json_object_set_new(r, "rms_norm_eps", json_real(cfg->rms_norm_eps));
    json_object_set_new(r, "hidden_act", json_string("silu"));
    json_object_set_new(r, "initializer_range", json_real(0.02));
    json_object_set_new(r, "rope_theta", json_real(cfg->rope_theta));
    if (cfg->rope_type == YA_ROPE_DEFAULT) {
        json_object_set_new(r, "rope_scaling", json_null());
    } else {
        json_t *rs = json_object();
        json_object_set_new(rs, "rope_type", json_string(cfg->rope_type == YA_ROPE_LINEAR ? "linear" : "llama3"));
        json_object_set_new(rs, "factor", json_real(cfg->rope_factor));
        if (cfg->rope_type == YA_ROPE_LLAMA3) {
            json_object_set_new(rs, "low_freq_factor", json_real(cfg->rope_low_freq_factor));
            json_object_set_new(rs, "high_freq_factor", json_real(cfg->rope_high_freq_factor));
            json_object_set_new(rs, "original_max_position_embeddings", json_integer(cfg->rope_original_max_pos));
        }
        json_object_set_new(r, "rope_scaling", rs);
    }
    json_object_set_new(r, "tie_word_embeddings", json_boolean(cfg->tie_word_embeddings));
    if (cfg->arch == YA_ARCH_LLAMA) {
        json_object_set_new(r, "attention_bias", json_boolean(cfg->attention_bias));
        json_object_set_new(r, "mlp_bias", json_boolean(cfg->mlp_bias));
    }
    if (cfg->arch == YA_ARCH_MISTRAL)
        json_object_set_new(r, "sliding_window", cfg->sliding_window ? json_integer(cfg->sliding_window) : json_null());
    if (cfg->arch == YA_ARCH_QWEN2) {
        json_object_set_new(r, "use_sliding_window", json_boolean(cfg->sliding_window > 0));
        json_object_set_new(r, "sliding_window", cfg->sliding_window ? json_integer(cfg->sliding_window) : json_null());
    }
    json_object_set_new(r, "attention_dropout", json_real(0.0));
    json_object_set_new(r, "use_cache", json_true());
    if (cfg->torch_dtype[0]) json_object_set_new(r, "torch_dtype", json_string(cfg->torch_dtype));
    json_object_set_new(r, "bos_token_id", cfg->bos_token_id >= 0 ? json_integer(cfg->bos_token_id) : json_null());
    if (cfg->n_eos == 0) {
        json_object_set_new(r, "eos_token_id", json_null());
    } else if (cfg->n_eos == 1) {
        json_object_set_new(r, "eos_token_id", json_integer(cfg->eos_token_ids[0]));
    } else {
        json_t *a = json_array();
        for (int i = 0; i < cfg->n_eos; i++) json_array_append_new(a, json_integer(cfg->eos_token_ids[i]));
        json_object_set_new(r, "eos_token_id", a);
    }
    char *s = ya_json_dumps(r);
    json_decref(r);
    return s;
}

void ya_rope_inv_freq(const YaModelConfig *cfg, double *inv_freq) {
    const int d = cfg->head_dim;
    for (int i = 0; i < d / 2; i++) {
        double inv = pow(cfg->rope_theta, -(2.0 * i) / d);
        if (cfg->rope_type == YA_ROPE_LINEAR) {
            inv /= cfg->rope_factor;
        } else if (cfg->rope_type == YA_ROPE_LLAMA3) {
            /* Long wavelengths (low frequencies) are slowed by `factor`, short
             * ones kept, and the band between interpolated smoothly. */
            const double orig = cfg->rope_original_max_pos, lo = cfg->rope_low_freq_factor,
                         hi = cfg->rope_high_freq_factor, factor = cfg->rope_factor;
            const double wavelen = 2.0 * M_PI / inv;
            if (wavelen < orig / hi) {
                /* keep */
            } else if (wavelen > orig / lo) {
                inv /= factor;
            } else {
                double s = (orig / wavelen - lo) / (hi - lo);
                inv = (1.0 - s) * inv / factor + s * inv;
            }
        }
        inv_freq[i] = inv;
    }
}

uint64_t ya_config_param_count(const YaModelConfig *c) {
    const uint64_t h = (uint64_t)c->hidden_size, f = (uint64_t)c->intermediate_size, d = (uint64_t)c->head_dim,
                   nq = (uint64_t)c->num_attention_heads * d, nkv = (uint64_t)c->num_key_value_heads * d,
                   V = (uint64_t)c->vocab_size;
    uint64_t layer = h * nq + 2 * h * nkv + nq * h + 3 * h * f + 2 * h;
    if (c->attention_bias) layer += nq + 2 * nkv;
    if (c->o_bias) layer += h;
    if (c->mlp_bias) layer += 2 * f + h;
    return V * h * (c->tie_word_embeddings ? 1 : 2) + h + (uint64_t)c->num_hidden_layers * layer;
}

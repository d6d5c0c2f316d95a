/* adapter.c — a PEFT LoRA adapter (SPEC §7, §10.1) loaded for inference and
 * export: adapter_config.json is parsed into a YaLoraConfig, the factors are
 * read from adapter_model.safetensors (F32/F16/BF16, PEFT keys with or without
 * the ".default" adapter name) into the flat F32 buffer of a YaLoraSet — the
 * same layout the trainer and the checkpoint writer use, so `export --format
 * peft` can reuse the checkpoint's adapter writer verbatim.
 *
 * The forward pass (src/model/llama.c) asks ya_adapter_factors for each
 * projection and adds (α/r)·B(A·x); nothing is merged into the base here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/adapter.h"
#include "your_ai/fileio.h" /* defines: ya_path_join */
#include "your_ai/json.h"   /* defines: ya_json_load_file, ya_json_opt_* */
#include "your_ai/lora.h"   /* defines: YaLoraSet, ya_lora_create, ya_lora_find */
#include "your_ai/manifest.h" /* defines: ya_manifest_verify, YA_MANIFEST_NAME */

struct YaAdapter {
    YaLoraSet set;         /* params hold every A [r, in] and B [out, r] in F32 */
    YaLoraFactors *table;  // [L * YA_LORA_TARGET_COUNT] pointers into set.params (what the forward reads)
    char base_model[1024]; /* adapter_config.json base_model_name_or_path */
    char dir[4096];
};

/* target_modules entry → target; accepts the short PEFT names and full dotted
 * paths ending in one ("model.layers.0.self_attn.q_proj" is not a valid PEFT
 * list entry for us: only short names are). */
static int target_from_name(const char *s, YaLoraTarget *t) {
    for (int i = 0; i < YA_LORA_TARGET_COUNT; i++)
        if (strcmp(s, ya_lora_target_name((YaLoraTarget)i)) == 0) {
            *t = (YaLoraTarget)i;
            return 0;
        }
    return -1;
}

/* Parses adapter_config.json into lc (layers: −1 all, or N = the last N blocks). */
static int parse_config(const char *path, int n_layers, YaLoraConfig *lc, char *base_model, size_t cap,
                        YaError *err) {
    json_t *c = NULL;
    if (ya_json_load_file(path, 0, &c, err)) return YA_ERR;
    int rc = YA_ERR;
    long long r = 0;
    double alpha = 0, dropout = 0;
    const char *peft_type = NULL, *bm = NULL;
    int rslora = 0, dora = 0, fifo = 0;
    if (!json_is_object(c)) {
        ya_fail(err, YA_ERR, "%s: expected a JSON object", path);
        goto out;
    }
    if (ya_json_opt_string(c, "peft_type", path, "LORA", &peft_type, err) ||
        ya_json_req_int(c, "r", path, &r, err) || ya_json_opt_number(c, "lora_alpha", path, 8.0, &alpha, err) ||
        ya_json_opt_number(c, "lora_dropout", path, 0.0, &dropout, err) ||
        ya_json_opt_bool(c, "use_rslora", path, 0, &rslora, err) ||
        ya_json_opt_bool(c, "use_dora", path, 0, &dora, err) ||
        ya_json_opt_bool(c, "fan_in_fan_out", path, 0, &fifo, err))
        goto out;
    if (json_is_string(json_object_get(c, "base_model_name_or_path")))
        bm = json_string_value(json_object_get(c, "base_model_name_or_path"));
    snprintf(base_model, cap, "%s", bm ? bm : "");
    if (strcmp(peft_type, "LORA") != 0) {
        ya_fail(err, YA_ERR, "%s: peft_type \"%s\" is not supported (expected \"LORA\")", path, peft_type);
        goto out;
    }
    if (r < 1 || r > 65536) {
        ya_fail(err, YA_ERR, "%s: r = %lld, expected 1 … 65536", path, r);
        goto out;
    }
    if (!(alpha > 0) || !isfinite(alpha)) {
        ya_fail(err, YA_ERR, "%s: lora_alpha = %g, expected a finite number > 0", path, alpha);
        goto out;
    }
    if (alpha / (double)r > YA_ADAPTER_MAX_SCALE) {
        ya_fail(err, YA_ERR, "%s: lora_alpha / r = %g / %lld = %g, expected at most %g (a corrupted config?)", path, alpha,
                r, alpha / (double)r, YA_ADAPTER_MAX_SCALE);
        goto out;
    }
    if (rslora || dora || fifo) {
        ya_fail(err, YA_ERR, "%s: %s is not supported (plain LoRA only)", path,
                rslora ? "use_rslora" : dora ? "use_dora" : "fan_in_fan_out");
        goto out;
    }
    ya_lora_config_defaults(lc);
    lc->rank = (int)r;
    lc->alpha = alpha;
    lc->dropout = dropout >= 0 && dropout < 1 ? dropout : 0;
    /* target_modules: a list of short names (a regex string is PEFT-legal but not supported). */
    json_t *tm = json_object_get(c, "target_modules");
    if (!json_is_array(tm) || json_array_size(tm) == 0) {
        ya_fail(err, YA_ERR, "%s: target_modules must be a non-empty list of names (q_proj, …, down_proj)", path);
        goto out;
    }
    lc->targets = 0;
    size_t i;
    json_t *e;
    json_array_foreach(tm, i, e) {
        YaLoraTarget t;
        if (!json_is_string(e) || target_from_name(json_string_value(e), &t)) {
            ya_fail(err, YA_ERR, "%s: target_modules[%zu]: expected one of q_proj, k_proj, v_proj, o_proj, gate_proj, "
                    "up_proj, down_proj", path, i);
            goto out;
        }
        lc->targets |= YA_LORA_BIT(t);
    }
    /* layers_to_transform: absent/null = all; otherwise it must be the last N blocks
     * (what our trainer writes; the flat YaLoraSet layout assumes a suffix). */
    json_t *lt = json_object_get(c, "layers_to_transform");
    lc->layers = -1;
    if (json_is_integer(lt)) {
        if (json_integer_value(lt) != n_layers - 1 || n_layers < 1) {
            ya_fail(err, YA_ERR, "%s: layers_to_transform = %lld: only the last N layers can be adapted (model has %d)",
                    path, (long long)json_integer_value(lt), n_layers);
            goto out;
        }
        lc->layers = 1;
    } else if (json_is_array(lt) && json_array_size(lt) > 0) {
        size_t n = json_array_size(lt);
        json_array_foreach(lt, i, e) {
            long long want = (long long)n_layers - (long long)n + (long long)i;
            if (!json_is_integer(e) || json_integer_value(e) != want) {
                ya_fail(err, YA_ERR, "%s: layers_to_transform[%zu]: expected %lld (only the last N of the model's %d "
                        "layers, in increasing order, are supported)", path, i, want, n_layers);
                goto out;
            }
        }
        lc->layers = n == (size_t)n_layers ? -1 : (int)n;
    } else if (lt && !json_is_null(lt) && !(json_is_array(lt) && json_array_size(lt) == 0)) {
        ya_fail(err, YA_ERR, "%s: layers_to_transform must be an integer or a list of integers", path);
        goto out;
    }
    rc = YA_OK;
out:
    json_decref(c);
    return rc;
}

/* "base_model.model.model.layers.N.<module>.<proj>.lora_<A|B>[.default].weight" → (layer, target, is_b). */
static int parse_key(const char *key, int *layer, YaLoraTarget *t, int *is_b) {
    static const char prefix[] = "base_model.model.model.layers.";
    if (strncmp(key, prefix, sizeof prefix - 1) != 0) return -1;
    const char *p = key + sizeof prefix - 1;
    char *end;
    long l = strtol(p, &end, 10);
    if (end == p || *end != '.' || l < 0 || l > 1000000) return -1;
    p = end + 1;
    for (int i = 0; i < YA_LORA_TARGET_COUNT; i++) {
        char want[64];
        snprintf(want, sizeof want, "%s.%s.", ya_lora_target_module((YaLoraTarget)i), ya_lora_target_name((YaLoraTarget)i));
        size_t n = strlen(want);
        if (strncmp(p, want, n) != 0) continue;
        const char *rest = p + n;
        int b;
        if (strncmp(rest, "lora_A", 6) == 0) b = 0;
        else if (strncmp(rest, "lora_B", 6) == 0) b = 1;
        else return -1;
        rest += 6;
        if (strcmp(rest, ".weight") != 0 && strcmp(rest, ".default.weight") != 0) return -1;
        *layer = (int)l;
        *t = (YaLoraTarget)i;
        *is_b = b;
        return 0;
    }
    return -1;
}

/* A checkpoint written by the trainer always carries MANIFEST.sha256: verify
 * it (hashing the adapter files costs milliseconds) so a corrupted or
 * half-copied checkpoint is never used. A PEFT directory from another tool has
 * none and is accepted; one that still holds trainer_state.json is a training
 * checkpoint, so a missing manifest means it is incomplete. */
static int verify_manifest(const char *dir, YaError *err) {
    static const char *const read_here[] = {"adapter_config.json", "adapter_model.safetensors"};
    char path[4352];
    if (ya_path_join(path, sizeof path, dir, YA_MANIFEST_NAME, err)) return YA_ERR;
    if (ya_path_exists(path)) return ya_manifest_verify(dir, read_here, 2, err);
    if (ya_path_join(path, sizeof path, dir, "trainer_state.json", err)) return YA_ERR;
    if (ya_path_exists(path))
        return ya_fail(err, YA_ERR, "%s: a training checkpoint (it has trainer_state.json) without %s: incomplete or "
                       "damaged", dir, YA_MANIFEST_NAME);
    return YA_OK;
}

/* The first non-finite value of x [n], or -1. */
static int64_t first_non_finite(const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return -1;
}

int ya_adapter_load(const char *dir, const YaModel *m, YaAdapter **out, YaError *err) {
    *out = NULL;
    char cfg_path[4352], st_path[4352];
    if (ya_path_join(cfg_path, sizeof cfg_path, dir, "adapter_config.json", err) ||
        ya_path_join(st_path, sizeof st_path, dir, "adapter_model.safetensors", err))
        return YA_ERR;
    if (verify_manifest(dir, err)) return YA_ERR;
    YaAdapter *a = calloc(1, sizeof *a);
    if (!a) return ya_fail(err, YA_ERR, "out of memory");
    snprintf(a->dir, sizeof a->dir, "%s", dir);
    YaLoraConfig lc;
    YaSafetensors *st = NULL;
    unsigned char *seen = NULL;
    int rc = parse_config(cfg_path, m->cfg.num_hidden_layers, &lc, a->base_model, sizeof a->base_model, err);
    if (rc) goto fail;
    if ((rc = ya_lora_create(&m->cfg, &lc, 1, &a->set, err)) != YA_OK) {
        ya_error_prefix(err, "%s", cfg_path);
        rc = YA_ERR;
        goto fail;
    }
    if ((rc = ya_st_open(st_path, &st, err)) != YA_OK) goto fail;
    seen = calloc(a->set.n_tensors * 2, 1);
    if (!seen) {
        rc = ya_fail(err, YA_ERR, "out of memory");
        goto fail;
    }
    const int64_t r = lc.rank;
    for (size_t i = 0; i < ya_st_count(st); i++) {
        const YaTensorInfo *ti = ya_st_at(st, i);
        int layer, is_b;
        YaLoraTarget t;
        if (parse_key(ti->name, &layer, &t, &is_b)) {
            rc = ya_fail(err, YA_ERR, "%s: tensor '%s' is not a PEFT LoRA key of a Llama projection "
                         "(base_model.model.model.layers.N.self_attn|mlp.<proj>.lora_A|lora_B.weight)", st_path, ti->name);
            goto fail;
        }
        const YaLoraTensor *e = layer < m->cfg.num_hidden_layers ? ya_lora_find(&a->set, layer, t) : NULL;
        if (!e) {
            rc = ya_fail(err, YA_ERR, "%s: tensor '%s': layer %d / %s is not adapted according to %s", st_path, ti->name,
                         layer, ya_lora_target_name(t), cfg_path);
            goto fail;
        }
        const int64_t shape_a[2] = {r, e->in}, shape_b[2] = {e->out, r};
        if (ya_tensor_check(ti, 2, is_b ? shape_b : shape_a, err)) {
            rc = ya_error_prefix(err, "%s", st_path);
            goto fail;
        }
        size_t idx = (size_t)(e - a->set.t) * 2 + (size_t)is_b;
        if (seen[idx]) {
            rc = ya_fail(err, YA_ERR, "%s: tensor '%s' given twice (with and without .default)", st_path, ti->name);
            goto fail;
        }
        seen[idx] = 1;
        float *dst = a->set.params + (is_b ? e->b_off : e->a_off);
        ya_to_f32(ti->dtype, ti->data, dst, ti->numel);
        int64_t bad = first_non_finite(dst, (int64_t)ti->numel);
        if (bad >= 0) {
            rc = ya_fail(err, YA_ERR, "%s: tensor '%s' holds a non-finite value (%g) at element %lld", st_path, ti->name,
                         dst[bad], (long long)bad);
            goto fail;
        }
    }
    for (size_t i = 0; i < a->set.n_tensors * 2; i++)
        if (!seen[i]) {
            const YaLoraTensor *e = &a->set.t[i / 2];
            rc = ya_fail(err, YA_ERR, "%s: missing tensor '%s' (required by %s)", st_path, i % 2 ? e->key_b : e->key_a,
                         cfg_path);
            goto fail;
        }
    a->table = calloc((size_t)m->cfg.num_hidden_layers * YA_LORA_TARGET_COUNT, sizeof *a->table);
    if (!a->table) {
        rc = ya_fail(err, YA_ERR, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < a->set.n_tensors; i++) {
        const YaLoraTensor *e = &a->set.t[i];
        YaLoraFactors *f = &a->table[(size_t)e->layer * YA_LORA_TARGET_COUNT + e->target];
        f->A = a->set.params + e->a_off;
        f->B = a->set.params + e->b_off;
    }
    free(seen);
    ya_st_close(st);
    *out = a;
    return YA_OK;
fail:
    free(seen);
    ya_st_close(st);
    ya_adapter_free(a);
    return rc ? rc : YA_ERR;
}

void ya_adapter_free(YaAdapter *a) {
    if (!a) return;
    ya_lora_free(&a->set);
    free(a->table);
    free(a);
}

int ya_model_set_adapter(YaModel *m, const YaAdapter *a, YaError *err) {
    if (a) {
        if (a->set.n_model_layers != m->cfg.num_hidden_layers)
            return ya_fail(err, YA_ERR, "%s: adapter is for %d layers, model %s has %d", a->dir, a->set.n_model_layers,
                           m->dir, m->cfg.num_hidden_layers);
        for (size_t i = 0; i < a->set.n_tensors; i++) {
            int in, out;
            ya_lora_target_shape(&m->cfg, a->set.t[i].target, &in, &out);
            if (in != a->set.t[i].in || out != a->set.t[i].out)
                return ya_fail(err, YA_ERR, "%s: '%s' is for a [%d, %d] projection, model %s has [%d, %d]", a->dir,
                               a->set.t[i].key_a, a->set.t[i].out, a->set.t[i].in, m->dir, out, in);
        }
    }
    m->adapter = a;
    m->lora = a ? a->table : NULL;
    m->lora_rank = a ? a->set.cfg.rank : 0;
    m->lora_scale = a ? (float)ya_lora_scale(&a->set.cfg) : 0.0f;
    return YA_OK;
}

int ya_adapter_rank(const YaAdapter *a) { return a->set.cfg.rank; }
double ya_adapter_alpha(const YaAdapter *a) { return a->set.cfg.alpha; }
const YaLoraSet *ya_adapter_lora(const YaAdapter *a) { return &a->set; }
const char *ya_adapter_base_model(const YaAdapter *a) { return a->base_model; }
const char *ya_adapter_dir(const YaAdapter *a) { return a->dir; }

const YaLoraFactors *ya_adapter_factors(const YaAdapter *a, int layer, int target) {
    const YaLoraFactors *f = &a->table[(size_t)layer * YA_LORA_TARGET_COUNT + target];
    return f->A ? f : NULL;
}

/* train_config.c — `train --config FILE` (YAML through libyaml, or JSON) turned
 * into train flags (see train_config.h). */
#define _POSIX_C_SOURCE 200809L
#include "cli/train_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "your_ai/json.h"
#include "your_ai/loss_modes.h"
#include "your_ai/optimizer.h"

/* How a key's value becomes arguments. */
typedef enum {
    K_VALUE,        /* "--flag VALUE" */
    K_LIST,         /* "--flag V" per list item (a single value also works) */
    K_NULLABLE,     /* null: the flag is left out (its default) */
    K_TRUE_SWITCH,  /* true: "--flag"; false: nothing */
    K_FALSE_SWITCH, /* false: "--no-<flag>"; true: nothing */
    K_CHAT,         /* like K_NULLABLE, and "none" (no template) also leaves it out */
    K_FORMAT,       /* must be "your_ai.run_config" */
    K_IGNORED,      /* what run_config.json records for readers: library_version, model_identity */
    K_FIXED,        /* a constant of this version: accepted only at its value */
} KeyKind;

/* Every train flag has a key: the flag without "--", '-' written '_'. */
static const struct {
    const char *key;
    KeyKind kind;
} k_keys[] = {
    {"format", K_FORMAT},          {"library_version", K_IGNORED}, {"model_identity", K_IGNORED},
    {"model", K_VALUE},            {"data", K_LIST},               {"val", K_NULLABLE},
    {"out", K_VALUE},              {"train", K_VALUE},             {"lora_rank", K_VALUE},
    {"lora_alpha", K_VALUE},       {"lora_layers", K_VALUE},       {"lora_dropout", K_VALUE},
    {"lora_targets", K_VALUE},     {"lora_preset", K_NULLABLE},    {"learning_rate", K_VALUE},
    {"warmup_steps", K_VALUE},     {"max_steps", K_VALUE},         {"grad_accum", K_VALUE},
    {"max_grad_norm", K_VALUE},    {"weight_decay", K_VALUE},      {"optimizer", K_VALUE},
    {"adam_beta1", K_FIXED},       {"adam_beta2", K_FIXED},        {"adam_eps", K_FIXED},
    {"distrust_mode", K_VALUE},    {"lambda", K_VALUE},            {"lambda_weight", K_VALUE},
    {"alpha", K_VALUE},            {"w_min", K_FIXED},             {"w_max", K_FIXED},
    {"weight_stats", K_VALUE},     {"weight_norm", K_VALUE},       {"recompute", K_VALUE},
    {"device", K_VALUE},           {"gpu", K_VALUE},               {"ce_chunk", K_VALUE},
    {"matmul", K_VALUE},           {"save_every", K_VALUE},        {"keep_last", K_VALUE},
    {"log_every", K_VALUE},        {"eval_every", K_VALUE},        {"eval_batches", K_VALUE},
    {"resume", K_NULLABLE},        {"threads", K_VALUE},           {"progress", K_VALUE},
    {"max_seq_length", K_VALUE},   {"batch_size", K_VALUE},        {"batching", K_VALUE},
    {"seed", K_VALUE},             {"mask_prompt", K_VALUE},       {"train_on", K_VALUE},
    {"append_eos", K_FALSE_SWITCH}, {"chat_format", K_CHAT},       {"data_format", K_FIXED},
    {"default_auth", K_NULLABLE},  {"default_entropy", K_NULLABLE}, {"score", K_TRUE_SWITCH},
    {"on_bad_line", K_VALUE},      {"max_line_bytes", K_VALUE},
};

/* One value of the file, whatever its syntax. */
typedef enum { V_STR, V_BOOL, V_NULL, V_LIST, V_OBJECT } ValueType;
typedef struct Value {
    ValueType type;
    const char *text;  /* V_STR: the scalar as written (numbers in their shortest exact form) */
    int boolean;       /* V_BOOL */
    const char **items; // [n_items] V_LIST: string items (NULL where an item is not a scalar)
    size_t n_items;
} Value;

static int push_arg(YaConfigArgs *a, const char *arg, const char *origin, YaError *err) {
    if (a->argc == a->cap) {
        int cap = a->cap ? a->cap * 2 : 32;
        char **v = realloc(a->argv, (size_t)cap * sizeof *v), **o = NULL;
        if (v) a->argv = v;
        if (v) o = realloc(a->origin, (size_t)cap * sizeof *o);
        if (!v || !o) return ya_fail(err, YA_ERR, "out of memory");
        a->origin = o;
        a->cap = cap;
    }
    a->argv[a->argc] = strdup(arg);
    a->origin[a->argc] = strdup(origin);
    if (!a->argv[a->argc] || !a->origin[a->argc]) {
        free(a->argv[a->argc]);
        free(a->origin[a->argc]);
        return ya_fail(err, YA_ERR, "out of memory");
    }
    a->argc++;
    return YA_OK;
}

void ya_train_config_free(YaConfigArgs *a) {
    for (int i = 0; i < a->argc; i++) {
        free(a->argv[i]);
        free(a->origin[i]);
    }
    free(a->argv);
    free(a->origin);
    memset(a, 0, sizeof *a);
}

static const char *type_name(const Value *v) {
    switch (v->type) {
    case V_BOOL: return v->boolean ? "true" : "false";
    case V_NULL: return "null";
    case V_LIST: return "a list";
    case V_OBJECT: return "a mapping";
    default: return "a value";
    }
}

/* x in the fewest digits that read back exactly (0.9, not 0.90000000000000002). */
static void shortest(double x, char *out, size_t cap) {
    for (int p = 1; p <= 17; p++) {
        snprintf(out, cap, "%.*g", p, x);
        if (strtod(out, NULL) == x) return;
    }
}

/* The constant behind a K_FIXED key, as the text run_config.json writes. */
static int fixed_value(const char *key, char *out, size_t cap) {
    YaAdamWConfig adam;
    ya_adamw_defaults(&adam);
    YaLossConfig loss;
    ya_loss_config_defaults(&loss);
    double x;
    if (!strcmp(key, "data_format")) {
        snprintf(out, cap, "auto");
        return 0;
    }
    if (!strcmp(key, "adam_beta1")) x = adam.beta1;
    else if (!strcmp(key, "adam_beta2")) x = adam.beta2;
    else if (!strcmp(key, "adam_eps")) x = adam.eps;
    else if (!strcmp(key, "w_min")) x = loss.wp.w_min;
    else if (!strcmp(key, "w_max")) x = loss.wp.w_max;
    else return -1;
    shortest(x, out, cap);
    return 1;
}

/* Appends the arguments of one key. where = "FILE:LINE" or "FILE". */
static int add_key(YaConfigArgs *a, const char *where, const char *key, const Value *v, YaError *err) {
    size_t k = 0, n_keys = sizeof k_keys / sizeof *k_keys;
    while (k < n_keys && strcmp(k_keys[k].key, key)) k++;
    if (k == n_keys)
        return ya_fail(err, YA_ERR_USAGE,
                       "%s: unknown key '%s' (a key is a train flag without '--', with '_' for '-'; see docs/CONFIG.md)",
                       where, key);
    KeyKind kind = k_keys[k].kind;
    char origin[4400], flag[128];
    snprintf(origin, sizeof origin, "%s: key '%s'", where, key);
    snprintf(flag, sizeof flag, "--%s", key);
    for (char *p = flag + 2; *p; p++)
        if (*p == '_') *p = '-';
    switch (kind) {
    case K_IGNORED: return YA_OK;
    case K_FORMAT:
        if (v->type != V_STR || strcmp(v->text, "your_ai.run_config"))
            return ya_fail(err, YA_ERR_USAGE, "%s: 'format' must be \"your_ai.run_config\" when present", origin);
        return YA_OK;
    case K_FIXED: {
        char want[64];
        int numeric = fixed_value(key, want, sizeof want);
        int same = v->type == V_STR && (numeric ? strtod(v->text, NULL) == strtod(want, NULL) && *v->text
                                                : !strcmp(v->text, want));
        if (!same)
            return ya_fail(err, YA_ERR_USAGE, "%s: is fixed at %s in this version (not a train flag); the file says %s",
                           origin, want, v->type == V_STR ? v->text : type_name(v));
        return YA_OK;
    }
    case K_TRUE_SWITCH:
    case K_FALSE_SWITCH:
        if (v->type != V_BOOL) return ya_fail(err, YA_ERR_USAGE, "%s: expects true or false, got %s", origin,
                                              v->type == V_STR ? v->text : type_name(v));
        if (kind == K_TRUE_SWITCH && v->boolean) return push_arg(a, flag, origin, err);
        if (kind == K_FALSE_SWITCH && !v->boolean) {
            snprintf(flag, sizeof flag, "--no-%s", key);
            for (char *p = flag + 5; *p; p++)
                if (*p == '_') *p = '-';
            return push_arg(a, flag, origin, err);
        }
        return YA_OK;
    case K_LIST:
        if (v->type == V_LIST) {
            if (v->n_items == 0) return ya_fail(err, YA_ERR_USAGE, "%s: the list is empty", origin);
            for (size_t i = 0; i < v->n_items; i++) {
                if (!v->items[i]) return ya_fail(err, YA_ERR_USAGE, "%s: item %zu is not a string", origin, i);
                if (push_arg(a, flag, origin, err) || push_arg(a, v->items[i], origin, err)) return YA_ERR;
            }
            return YA_OK;
        }
        break;
    case K_NULLABLE:
    case K_CHAT:
        if (v->type == V_NULL || (kind == K_CHAT && v->type == V_STR && !strcmp(v->text, "none"))) return YA_OK;
        break;
    case K_VALUE: break;
    }
    if (v->type != V_STR)
        return ya_fail(err, YA_ERR_USAGE, "%s: expects a string or a number, got %s", origin, type_name(v));
    return push_arg(a, flag, origin, err) || push_arg(a, v->text, origin, err) ? YA_ERR : YA_OK;
}

/* ---- JSON ------------------------------------------------------------------------ */

static int load_json(const char *path, YaConfigArgs *out, YaError *err) {
    json_t *root = NULL;
    if (ya_json_load_file(path, JSON_REJECT_DUPLICATES, &root, err)) return YA_ERR;
    if (!json_is_object(root)) {
        json_decref(root);
        return ya_fail(err, YA_ERR_USAGE, "%s: a config must be a JSON object of train flags", path);
    }
    int rc = YA_OK;
    const char *key;
    json_t *j;
    json_object_foreach(root, key, j) {
        char num[64];
        const char *items[64];
        Value v = {.type = V_STR};
        if (json_is_string(j)) v.text = json_string_value(j);
        else if (json_is_integer(j)) {
            /* seed is unsigned 64-bit; run_config.json stores values >= 2^63 wrapped */
            if (!strcmp(key, "seed")) snprintf(num, sizeof num, "%llu", (unsigned long long)json_integer_value(j));
            else snprintf(num, sizeof num, "%lld", (long long)json_integer_value(j));
            v.text = num;
        } else if (json_is_real(j)) {
            shortest(json_real_value(j), num, sizeof num); /* reads back exactly */
            v.text = num;
        } else if (json_is_boolean(j)) {
            v.type = V_BOOL;
            v.boolean = json_is_true(j);
        } else if (json_is_null(j)) v.type = V_NULL;
        else if (json_is_array(j)) {
            v.type = V_LIST;
            v.n_items = json_array_size(j);
            if (v.n_items > 64) {
                rc = ya_fail(err, YA_ERR_USAGE, "%s: key '%s': at most 64 items", path, key);
                break;
            }
            for (size_t i = 0; i < v.n_items; i++) items[i] = json_string_value(json_array_get(j, i));
            v.items = items;
        } else v.type = V_OBJECT;
        if ((rc = add_key(out, path, key, &v, err)) != YA_OK) break;
    }
    json_decref(root);
    return rc;
}

/* ---- YAML ------------------------------------------------------------------------ */

/* A scalar event's value: plain null / ~ / empty is null, plain true/false a boolean. */
static Value yaml_scalar(const yaml_event_t *e) {
    Value v = {.type = V_STR, .text = (const char *)e->data.scalar.value};
    if (e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        if (!strcmp(v.text, "") || !strcmp(v.text, "~") || !strcmp(v.text, "null") || !strcmp(v.text, "Null") ||
            !strcmp(v.text, "NULL"))
            v.type = V_NULL;
        else if (!strcmp(v.text, "true") || !strcmp(v.text, "True") || !strcmp(v.text, "TRUE")) {
            v.type = V_BOOL;
            v.boolean = 1;
        } else if (!strcmp(v.text, "false") || !strcmp(v.text, "False") || !strcmp(v.text, "FALSE")) {
            v.type = V_BOOL;
            v.boolean = 0;
        }
    }
    return v;
}

typedef struct YamlCtx {
    yaml_parser_t parser;
    const char *path;
    YaError *err;
} YamlCtx;

static int yaml_next(YamlCtx *y, yaml_event_t *e) {
    if (yaml_parser_parse(&y->parser, e)) return YA_OK;
    return ya_fail(y->err, YA_ERR_USAGE, "%s:%zu:%zu: invalid YAML: %s", y->path, y->parser.problem_mark.line + 1,
                   y->parser.problem_mark.column + 1, y->parser.problem ? y->parser.problem : "parse error");
}

/* Skips the rest of a mapping or sequence whose start event was just read. */
static int yaml_skip(YamlCtx *y) {
    int depth = 1;
    while (depth > 0) {
        yaml_event_t e;
        if (yaml_next(y, &e)) return YA_ERR;
        if (e.type == YAML_MAPPING_START_EVENT || e.type == YAML_SEQUENCE_START_EVENT) depth++;
        if (e.type == YAML_MAPPING_END_EVENT || e.type == YAML_SEQUENCE_END_EVENT) depth--;
        yaml_event_delete(&e);
    }
    return YA_OK;
}

/* The top-level mapping: key scalar, then a scalar, a sequence of scalars, or a mapping. */
static int yaml_mapping(YamlCtx *y, YaConfigArgs *out) {
    char **seen = NULL; /* keys already given, to refuse duplicates */
    size_t n_seen = 0;
    int rc = YA_OK;
    for (;;) {
        yaml_event_t ke;
        if ((rc = yaml_next(y, &ke))) break;
        if (ke.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ke);
            break;
        }
        size_t line = ke.start_mark.line + 1;
        char where[4200];
        snprintf(where, sizeof where, "%s:%zu", y->path, line);
        if (ke.type != YAML_SCALAR_EVENT) {
            yaml_event_delete(&ke);
            rc = ya_fail(y->err, YA_ERR_USAGE, "%s: a key must be a plain name", where);
            break;
        }
        char *key = strdup((const char *)ke.data.scalar.value);
        yaml_event_delete(&ke);
        char **grown = key ? realloc(seen, (n_seen + 1) * sizeof *seen) : NULL;
        if (!grown) {
            free(key);
            rc = ya_fail(y->err, YA_ERR, "out of memory");
            break;
        }
        seen = grown;
        for (size_t i = 0; i < n_seen && rc == YA_OK; i++)
            if (!strcmp(seen[i], key)) rc = ya_fail(y->err, YA_ERR_USAGE, "%s: key '%s' given twice", where, key);
        seen[n_seen++] = key;
        if (rc) break;

        yaml_event_t ve;
        if ((rc = yaml_next(y, &ve))) break;
        if (ve.type == YAML_SCALAR_EVENT) {
            Value v = yaml_scalar(&ve);
            rc = add_key(out, where, key, &v, y->err);
            yaml_event_delete(&ve);
        } else if (ve.type == YAML_SEQUENCE_START_EVENT) {
            yaml_event_delete(&ve);
            yaml_event_t items[64];
            const char *texts[64];
            size_t n = 0;
            for (;;) {
                yaml_event_t ie;
                if ((rc = yaml_next(y, &ie))) break;
                if (ie.type == YAML_SEQUENCE_END_EVENT) {
                    yaml_event_delete(&ie);
                    break;
                }
                if (ie.type != YAML_SCALAR_EVENT || n == 64) {
                    rc = ya_fail(y->err, YA_ERR_USAGE, "%s:%zu: key '%s': %s", y->path, ie.start_mark.line + 1, key,
                                 n == 64 ? "at most 64 items" : "list items must be plain values");
                    yaml_event_delete(&ie);
                    break;
                }
                items[n] = ie;
                texts[n] = (const char *)ie.data.scalar.value;
                n++;
            }
            if (rc == YA_OK) {
                Value v = {.type = V_LIST, .items = texts, .n_items = n};
                rc = add_key(out, where, key, &v, y->err);
            }
            for (size_t i = 0; i < n; i++) yaml_event_delete(&items[i]);
        } else if (ve.type == YAML_MAPPING_START_EVENT) {
            yaml_event_delete(&ve);
            Value v = {.type = V_OBJECT};
            rc = add_key(out, where, key, &v, y->err); /* only ignored keys may hold a mapping */
            if (rc == YA_OK) rc = yaml_skip(y);
        } else {
            yaml_event_delete(&ve);
            rc = ya_fail(y->err, YA_ERR_USAGE, "%s: key '%s': anchors and aliases are not supported", where, key);
        }
        if (rc) break;
    }
    for (size_t i = 0; i < n_seen; i++) free(seen[i]);
    free(seen);
    return rc;
}

static int load_yaml(const char *path, YaConfigArgs *out, YaError *err) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return ya_fail(err, YA_ERR, "%s: cannot open: %s", path, strerror(errno));
    YamlCtx y = {.path = path, .err = err};
    if (!yaml_parser_initialize(&y.parser)) {
        fclose(fp);
        return ya_fail(err, YA_ERR, "out of memory");
    }
    yaml_parser_set_input_file(&y.parser, fp);
    int rc = YA_OK, in_doc = 0, done = 0;
    while (rc == YA_OK && !done) {
        yaml_event_t e;
        if ((rc = yaml_next(&y, &e))) break;
        switch (e.type) {
        case YAML_STREAM_END_EVENT: done = 1; break;
        case YAML_DOCUMENT_START_EVENT:
            if (in_doc++) rc = ya_fail(err, YA_ERR_USAGE, "%s:%zu: one YAML document expected", path, e.start_mark.line + 1);
            break;
        case YAML_MAPPING_START_EVENT: rc = yaml_mapping(&y, out); break;
        case YAML_SCALAR_EVENT:
        case YAML_SEQUENCE_START_EVENT:
            rc = ya_fail(err, YA_ERR_USAGE, "%s:%zu: a config must be a mapping of train flags (key: value)", path,
                         e.start_mark.line + 1);
            break;
        default: break;
        }
        yaml_event_delete(&e);
    }
    yaml_parser_delete(&y.parser);
    fclose(fp);
    return rc;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

int ya_train_config_load(const char *path, YaConfigArgs *out, YaError *err) {
    memset(out, 0, sizeof *out);
    int rc = ends_with(path, ".yaml") || ends_with(path, ".yml") ? load_yaml(path, out, err) : load_json(path, out, err);
    if (rc) ya_train_config_free(out);
    return rc;
}

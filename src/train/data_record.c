/* data_record.c — one JSONL object → a validated training record.
 *
 * Decides the line's shape (text / completions / chat, the chat turns spelled
 * as OpenAI "messages" or ShareGPT "conversations"), reads the optional sample
 * weight ("weight" / "loss_weight"), checks it
 * against the data set's format (detected from the first line with a known
 * shape), validates the distrust fields (SPEC §2.2, §5.1) and fills in missing
 * ones from --default-auth/--default-entropy or by scoring the text (--score,
 * with the batch-scoring rules of SPEC §4.8). Everything that is wrong with a
 * line comes back as a one-line reason; the caller prefixes "file:line: ". */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/data.h"

const char *ya_data_format_name(YaDataFormat f) {
    switch (f) {
    case YA_DATA_TEXT: return "text";
    case YA_DATA_COMPLETIONS: return "completions";
    case YA_DATA_CHAT: return "chat";
    default: return "auto";
    }
}

const char *ya_data_kind_name(YaDataFormat f, YaChatSource src, int has_tools) {
    if (f != YA_DATA_CHAT) return ya_data_format_name(f);
    if (src == YA_CHAT_SOURCE_SHAREGPT) return has_tools ? "chat:sharegpt+tools" : "chat:sharegpt";
    return has_tools ? "chat:messages+tools" : "chat:messages";
}

/* ShareGPT speakers (FastChat, Axolotl, LLaMA-Factory) → chat roles.
 * LLaMA-Factory's function_call turn is an assistant turn whose value is the call
 * (JSON text) and whose content is empty; observation is the tool's result. */
const char *ya_sharegpt_role(const char *from) {
    if (strcmp(from, "system") == 0) return "system";
    if (strcmp(from, "human") == 0 || strcmp(from, "user") == 0) return "user";
    if (strcmp(from, "gpt") == 0 || strcmp(from, "assistant") == 0 || strcmp(from, "function_call") == 0) return "assistant";
    if (strcmp(from, "observation") == 0 || strcmp(from, "tool") == 0) return "tool";
    return NULL;
}

void ya_data_config_default(YaDataConfig *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->max_seq_len = 1024;
    cfg->batch_size = 2;
    cfg->mode = YA_BATCH_PAD;
    cfg->seed = 42;
    cfg->mask_prompt = 1;
    cfg->train_on = YA_TRAIN_ON_FINAL;
    cfg->append_eos = 1;
    cfg->need_scores = 1; /* the default distrust mode (weighted) needs w and H */
    cfg->on_bad_line = YA_BAD_LINE_FAIL;
    cfg->chat_format = YA_CHAT_NONE;
    cfg->format = YA_DATA_AUTO;
    cfg->alpha = 2.7;
    cfg->shuffle = 1;
    cfg->cross_epochs = 1;
}

/* The shape of one object, by the keys mlx-lm looks at, in its priority order. */
static YaDataFormat line_shape(const json_t *obj) {
    if (json_object_get(obj, "messages") || json_object_get(obj, "conversations")) return YA_DATA_CHAT;
    if (json_object_get(obj, "prompt") && json_object_get(obj, "completion")) return YA_DATA_COMPLETIONS;
    if (json_object_get(obj, "text")) return YA_DATA_TEXT;
    return YA_DATA_AUTO;
}

static int bad(char *reason, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *reason, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, cap, fmt, ap);
    va_end(ap);
    return YA_ERR;
}

/* A string field that must be present; empty allowed only when allow_empty. */
static int get_string(const json_t *obj, const char *key, int allow_empty, const char **out, char *reason,
                      size_t cap) {
    const json_t *v = json_object_get(obj, key);
    if (!v) return bad(reason, cap, "missing '%s' field", key);
    if (!json_is_string(v)) return bad(reason, cap, "'%s' must be a string", key);
    if (!allow_empty && json_string_length(v) == 0) return bad(reason, cap, "'%s' is empty", key);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return bad(reason, cap, "'%s' contains a NUL character (\\u0000)", key);
    *out = json_string_value(v);
    return YA_OK;
}

/* "tools" on a messages line: absent, null or empty = none; else an array of
 * tool schemas (objects), rendered by templates that take tools (qwen3). */
static int check_tools_field(const json_t *obj, const json_t **tools, char *reason, size_t cap) {
    const json_t *t = json_object_get(obj, "tools");
    *tools = NULL;
    if (!t || json_is_null(t) || (json_is_array(t) && json_array_size(t) == 0)) return YA_OK;
    if (!json_is_array(t)) return bad(reason, cap, "'tools' must be an array of tool schemas (objects)");
    for (size_t i = 0; i < json_array_size(t); i++)
        if (!json_is_object(json_array_get(t, i))) return bad(reason, cap, "tools[%zu] must be an object (a tool schema)", i);
    *tools = t;
    return YA_OK;
}

/* One entry of an assistant's tool_calls: {"function": {"name", "arguments"}} (OpenAI)
 * or {"name", "arguments"}; arguments an object or a JSON string. */
static int check_tool_call(const json_t *tc, const char *where, char *reason, size_t cap) {
    if (!json_is_object(tc)) return bad(reason, cap, "%s must be an object", where);
    const json_t *fn = json_object_get(tc, "function");
    if (fn && !json_is_null(fn)) {
        if (!json_is_object(fn)) return bad(reason, cap, "%s.function must be an object", where);
        tc = fn;
    }
    const json_t *name = json_object_get(tc, "name"), *args = json_object_get(tc, "arguments");
    if (!json_is_string(name) || json_string_length(name) == 0 || strlen(json_string_value(name)) != json_string_length(name))
        return bad(reason, cap, "%s%s.name must be a non-empty string", where, fn ? ".function" : "");
    if (!args || json_is_null(args)) return bad(reason, cap, "%s%s.arguments is missing", where, fn ? ".function" : "");
    if (json_is_string(args) && strlen(json_string_value(args)) != json_string_length(args))
        return bad(reason, cap, "%s%s.arguments contains a NUL character (\\u0000)", where, fn ? ".function" : "");
    return YA_OK;
}

/* The content of one turn: a string without NUL characters. */
static int check_content(const json_t *v, const char *where, const char *key, char *reason, size_t cap) {
    if (!json_is_string(v)) return bad(reason, cap, "%s.%s must be a string", where, key);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return bad(reason, cap, "%s.%s contains a NUL character (\\u0000)", where, key);
    return YA_OK;
}

/* A turn (messages[i] / conversations[i]) may not carry its own weight: only the record's
 * 'weight' / 'loss_weight' scales a sample, and --train-on chooses the supervised turns. */
static int check_no_turn_weight(const json_t *turn, const char *where, char *reason, size_t cap) {
    const char *key = json_object_get(turn, "weight") ? "weight" : json_object_get(turn, "loss_weight") ? "loss_weight" : NULL;
    if (!key) return YA_OK;
    return bad(reason, cap,
               "%s.%s: per-turn weights are not supported (a record-level 'weight' scales the whole sample; "
               "--train-on final|all-assistant picks the turns)",
               where, key);
}

static int check_messages(const json_t *obj, const YaDataConfig *cfg, YaDataRecord *rec, char *reason, size_t cap) {
    const json_t *msgs = json_object_get(obj, "messages");
    if (!json_is_array(msgs)) return bad(reason, cap, "'messages' must be an array");
    size_t n = json_array_size(msgs);
    if (n == 0) return bad(reason, cap, "'messages' is empty");
    if (check_tools_field(obj, &rec->tools, reason, cap)) return YA_ERR;
    rec->has_tools = rec->tools != NULL;
    size_t n_assistant = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *m = json_array_get(msgs, i);
        char where[48];
        snprintf(where, sizeof where, "messages[%zu]", i);
        if (!json_is_object(m)) return bad(reason, cap, "%s must be an object", where);
        const json_t *role = json_object_get(m, "role"), *content = json_object_get(m, "content");
        if (!json_is_string(role)) return bad(reason, cap, "%s.role must be a string", where);
        const char *r = json_string_value(role);
        if (strcmp(r, "function") == 0 || strcmp(r, "ipython") == 0)
            return bad(reason, cap, "%s.role '%s' is not read: give tool results the role 'tool'", where, r);
        if (strcmp(r, "system") != 0 && strcmp(r, "user") != 0 && strcmp(r, "assistant") != 0 && strcmp(r, "tool") != 0)
            return bad(reason, cap, "%s.role '%s' is not system, user, assistant or tool", where, r);
        if (strcmp(r, "tool") == 0) rec->has_tools = 1;
        const json_t *calls = json_object_get(m, "tool_calls");
        if (calls && !json_is_null(calls) && !(json_is_array(calls) && json_array_size(calls) == 0)) {
            if (strcmp(r, "assistant") != 0) return bad(reason, cap, "%s.tool_calls: only an assistant turn calls tools", where);
            if (!json_is_array(calls)) return bad(reason, cap, "%s.tool_calls must be an array", where);
            for (size_t k = 0; k < json_array_size(calls); k++) {
                char w2[96];
                snprintf(w2, sizeof w2, "%s.tool_calls[%zu]", where, k);
                if (check_tool_call(json_array_get(calls, k), w2, reason, cap)) return YA_ERR;
            }
            rec->has_tools = 1;
            if (!json_is_string(content))
                return bad(reason, cap, "%s.content must be a string (\"\" for a turn that only calls tools)", where);
        }
        if (check_no_turn_weight(m, where, reason, cap)) return YA_ERR;
        if (check_content(content, where, "content", reason, cap)) return YA_ERR;
        if (strcmp(r, "assistant") == 0) n_assistant++;
    }
    if (cfg->mask_prompt && n_assistant == 0)
        return bad(reason, cap, "no assistant message to train on (--mask-prompt on)");
    return YA_OK;
}

/* ShareGPT: "conversations": [{"from": system|human|user|gpt|assistant, "value": string}],
 * optionally a top-level "system" string (LLaMA-Factory), rendered as a first system turn. */
static int check_sharegpt(const json_t *obj, const YaDataConfig *cfg, YaDataRecord *rec, const char **system, char *reason,
                          size_t cap) {
    const json_t *conv = json_object_get(obj, "conversations");
    if (!json_is_array(conv)) return bad(reason, cap, "'conversations' must be an array");
    size_t n = json_array_size(conv);
    if (n == 0) return bad(reason, cap, "'conversations' is empty");
    /* "tools": an array of schemas, or LLaMA-Factory's JSON text of one */
    const json_t *tools = json_object_get(obj, "tools");
    if (json_is_string(tools) && json_string_length(tools) > 0) {
        json_t *parsed = NULL;
        YaError e = {0};
        if (ya_json_parse(json_string_value(tools), json_string_length(tools), "'tools'", 0, &parsed, &e))
            return bad(reason, cap, "%s (a 'tools' string must hold a JSON array of tool schemas)", e.message);
        int ok = json_is_array(parsed);
        for (size_t i = 0; ok && i < json_array_size(parsed); i++) ok = json_is_object(json_array_get(parsed, i));
        json_decref(parsed);
        if (!ok) return bad(reason, cap, "'tools' must hold a JSON array of tool schemas (objects)");
        rec->tools_text = json_string_value(tools);
        rec->has_tools = 1;
    } else if (!json_is_string(tools)) {
        if (check_tools_field(obj, &rec->tools, reason, cap)) return YA_ERR;
        rec->has_tools = rec->tools != NULL;
    }
    *system = NULL;
    const json_t *sys = json_object_get(obj, "system");
    if (sys && !json_is_null(sys)) {
        if (!json_is_string(sys)) return bad(reason, cap, "'system' must be a string");
        if (strlen(json_string_value(sys)) != json_string_length(sys))
            return bad(reason, cap, "'system' contains a NUL character (\\u0000)");
        if (json_string_length(sys) > 0) *system = json_string_value(sys);
    }
    size_t n_assistant = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *m = json_array_get(conv, i);
        char where[48];
        snprintf(where, sizeof where, "conversations[%zu]", i);
        if (!json_is_object(m)) return bad(reason, cap, "%s must be an object", where);
        const json_t *from = json_object_get(m, "from");
        if (!json_is_string(from)) return bad(reason, cap, "%s.from must be a string", where);
        const char *f = json_string_value(from);
        const char *role = ya_sharegpt_role(f);
        if (!role)
            return bad(reason, cap, "%s.from '%s' is not system, human, user, gpt, assistant, function_call, observation or tool",
                       where, f);
        if (*system && strcmp(role, "system") == 0)
            return bad(reason, cap, "%s is a system turn, but the line also has a 'system' field: give one", where);
        if (check_no_turn_weight(m, where, reason, cap)) return YA_ERR;
        if (check_content(json_object_get(m, "value"), where, "value", reason, cap)) return YA_ERR;
        if (strcmp(role, "tool") == 0) rec->has_tools = 1;
        if (strcmp(f, "function_call") == 0) { /* value: {"name", "arguments"} or a list of them, as JSON text */
            const json_t *v = json_object_get(m, "value");
            json_t *call = NULL;
            YaError e = {0};
            char w2[64];
            snprintf(w2, sizeof w2, "%s.value", where);
            if (ya_json_parse(json_string_value(v), json_string_length(v), w2, 0, &call, &e))
                return bad(reason, cap, "%s (a function_call value is the call as JSON text)", e.message);
            int rc = YA_OK;
            if (json_is_array(call) && json_array_size(call) > 0) {
                for (size_t k = 0; rc == YA_OK && k < json_array_size(call); k++) {
                    char w3[96];
                    snprintf(w3, sizeof w3, "%s[%zu]", w2, k);
                    rc = check_tool_call(json_array_get(call, k), w3, reason, cap);
                }
            } else {
                rc = check_tool_call(call, w2, reason, cap);
            }
            json_decref(call);
            if (rc) return YA_ERR;
            rec->has_tools = 1;
        }
        if (strcmp(role, "assistant") == 0) n_assistant++;
    }
    if (cfg->mask_prompt && n_assistant == 0)
        return bad(reason, cap, "no gpt/assistant turn to train on (--mask-prompt on)");
    return YA_OK;
}

size_t ya_data_record_messages(const YaDataRecord *rec, YaChatMessage *msgs) {
    size_t n = json_array_size(rec->messages), k = 0;
    int sharegpt = rec->chat_source == YA_CHAT_SOURCE_SHAREGPT;
    if (sharegpt && rec->system) {
        if (msgs) msgs[k] = (YaChatMessage){"system", rec->system};
        k++;
    }
    for (size_t i = 0; i < n; i++, k++) {
        if (!msgs) continue;
        const json_t *m = json_array_get(rec->messages, i);
        if (sharegpt) {
            const char *from = json_string_value(json_object_get(m, "from"));
            msgs[k].role = ya_sharegpt_role(from);
            /* a function_call turn says nothing but its call (ya_data_chat_build adds it) */
            msgs[k].content = strcmp(from, "function_call") == 0 ? "" : json_string_value(json_object_get(m, "value"));
        } else {
            msgs[k].role = json_string_value(json_object_get(m, "role"));
            msgs[k].content = json_string_value(json_object_get(m, "content"));
        }
    }
    return k;
}

void ya_data_chat_free(YaDataChat *c) {
    for (size_t i = 0; i < c->n_owned; i++) free(c->owned[i]);
    free(c->owned);
    free(c->msgs);
    free(c->turn_calls);
    free(c->tools);
    free(c->calls);
    memset(c, 0, sizeof *c);
}

int ya_data_record_first_tool(const YaDataRecord *rec, char *field, size_t cap, const char **what) {
    if (rec->format != YA_DATA_CHAT || !rec->has_tools) return 0;
    if (rec->tools || rec->tools_text) {
        snprintf(field, cap, "'tools'");
        *what = "tools";
        return 1;
    }
    int sharegpt = rec->chat_source == YA_CHAT_SOURCE_SHAREGPT;
    for (size_t i = 0; i < json_array_size(rec->messages); i++) {
        const json_t *m = json_array_get(rec->messages, i);
        if (sharegpt) {
            const char *from = json_string_value(json_object_get(m, "from"));
            const char *role = ya_sharegpt_role(from);
            int call = strcmp(from, "function_call") == 0;
            if (call || strcmp(role, "tool") == 0) {
                snprintf(field, cap, "conversations[%zu].from '%s'", i, from);
                *what = call ? "tool calls" : "tool results";
                return 1;
            }
            continue;
        }
        const json_t *calls = json_object_get(m, "tool_calls");
        if (json_is_array(calls) && json_array_size(calls) > 0) {
            snprintf(field, cap, "messages[%zu].tool_calls", i);
            *what = "tool calls";
            return 1;
        }
        if (strcmp(json_string_value(json_object_get(m, "role")), "tool") == 0) {
            snprintf(field, cap, "messages[%zu].role 'tool'", i);
            *what = "tool results";
            return 1;
        }
    }
    return 0;
}

/* Keeps s (malloc'ed) owned by c; NULL (and s freed) when out of memory. */
static const char *own(YaDataChat *c, char *s) {
    if (!s) return NULL;
    char **p = realloc(c->owned, (c->n_owned + 1) * sizeof *p);
    if (!p) {
        free(s);
        return NULL;
    }
    c->owned = p;
    c->owned[c->n_owned++] = s;
    return s;
}

/* The tool calls of turn i as JSON: the messages' "tool_calls" array (borrowed), or a
 * ShareGPT function_call's value parsed (*parsed owns it; a single call is wrapped). */
static const json_t *turn_calls_json(const YaDataRecord *rec, size_t i, json_t **parsed) {
    const json_t *m = json_array_get(rec->messages, i);
    *parsed = NULL;
    if (rec->chat_source == YA_CHAT_SOURCE_MESSAGES) {
        const json_t *calls = json_object_get(m, "tool_calls");
        return json_is_array(calls) ? calls : NULL;
    }
    if (strcmp(json_string_value(json_object_get(m, "from")), "function_call") != 0) return NULL;
    const json_t *v = json_object_get(m, "value");
    YaError e = {0};
    if (ya_json_parse(json_string_value(v), json_string_length(v), "function_call", 0, parsed, &e)) return NULL;
    if (!json_is_array(*parsed)) {
        json_t *one = json_array();
        json_array_append_new(one, *parsed);
        *parsed = one;
    }
    return *parsed;
}

int ya_data_chat_build(const YaDataRecord *rec, YaDataChat *c, YaError *err) {
    memset(c, 0, sizeof *c);
    json_t *tools_parsed = NULL;
    const json_t *tools = rec->tools;
    if (rec->tools_text) { /* validated by check_sharegpt */
        YaError e = {0};
        if (ya_json_parse(rec->tools_text, strlen(rec->tools_text), "'tools'", 0, &tools_parsed, &e))
            return ya_fail(err, YA_ERR, "%s", e.message);
        tools = tools_parsed;
    }
    size_t n_json = json_array_size(rec->messages), skip = 0; /* ShareGPT's "system" field comes first */
    c->n = ya_data_record_messages(rec, NULL);
    skip = c->n - n_json;
    c->n_tools = tools ? json_array_size(tools) : 0;
    size_t n_calls = 0;
    for (size_t i = 0; i < n_json; i++) {
        json_t *parsed;
        const json_t *calls = turn_calls_json(rec, i, &parsed);
        n_calls += calls ? json_array_size(calls) : 0;
        json_decref(parsed);
    }
    c->msgs = calloc(c->n ? c->n : 1, sizeof *c->msgs);
    c->turn_calls = calloc(c->n ? c->n : 1, sizeof *c->turn_calls);
    c->tools = calloc(c->n_tools ? c->n_tools : 1, sizeof *c->tools);
    c->calls = calloc(n_calls ? n_calls : 1, sizeof *c->calls);
    if (!c->msgs || !c->turn_calls || !c->tools || !c->calls) goto oom;
    ya_data_record_messages(rec, c->msgs);
    for (size_t t = 0; t < c->n_tools; t++)
        if (!(c->tools[t] = own(c, ya_json_dumps_python(json_array_get(tools, t))))) goto oom;
    for (size_t i = 0; i < n_json; i++) {
        json_t *parsed;
        const json_t *calls = turn_calls_json(rec, i, &parsed);
        if (!calls || json_array_size(calls) == 0) {
            json_decref(parsed);
            continue;
        }
        c->turn_calls[skip + i] = (YaChatToolCalls){c->calls + c->n_calls, json_array_size(calls)};
        for (size_t k = 0; k < json_array_size(calls); k++) {
            const json_t *tc = json_array_get(calls, k), *fn = json_object_get(tc, "function");
            if (json_is_object(fn)) tc = fn; /* the template's `if tool_call.function` */
            const json_t *args = json_object_get(tc, "arguments"), *name = json_object_get(tc, "name");
            YaChatToolCall *out = &c->calls[c->n_calls++];
            /* borrowed from the record, or copied out of a parsed function_call value */
            out->name = parsed ? own(c, strdup(json_string_value(name))) : json_string_value(name);
            /* `arguments is string` → printed verbatim, else tojson */
            if (json_is_string(args))
                out->arguments = parsed ? own(c, strdup(json_string_value(args))) : json_string_value(args);
            else
                out->arguments = own(c, ya_json_dumps_python(args));
            if (!out->name || !out->arguments) {
                json_decref(parsed);
                goto oom;
            }
        }
        json_decref(parsed);
    }
    json_decref(tools_parsed);
    return YA_OK;
oom:
    json_decref(tools_parsed);
    ya_data_chat_free(c);
    return ya_fail(err, YA_ERR, "out of memory serialising the tools");
}

/* The optional sample weight: "weight" or "loss_weight" (not both), finite >= 0. */
static int get_sample_weight(const json_t *obj, YaDataRecord *rec, char *reason, size_t cap) {
    const json_t *a = json_object_get(obj, "weight"), *b = json_object_get(obj, "loss_weight");
    if (a && json_is_null(a)) a = NULL;
    if (b && json_is_null(b)) b = NULL;
    rec->weight = 1.0;
    if (a && b) return bad(reason, cap, "both 'weight' and 'loss_weight' given: use one");
    if (!a && !b) return YA_OK;
    const char *key = a ? "weight" : "loss_weight";
    const json_t *v = a ? a : b;
    if (!json_is_number(v)) return bad(reason, cap, "'%s' must be a number", key);
    double x = json_number_value(v);
    if (!isfinite(x) || x < 0) {
        char num[32];
        ya_format_double_repr(x, num);
        return bad(reason, cap, "%s %s must be a finite number >= 0", key, num);
    }
    rec->weight = x;
    rec->has_weight = 1;
    return YA_OK;
}

/* Reads an optional distrust field: 0 absent (or null), 1 present and valid, -1 bad. */
static int get_score_field(const json_t *obj, const char *key, double lo, double hi, double *out, char *reason,
                           size_t cap) {
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_number(v)) {
        snprintf(reason, cap, "'%s' must be a number", key);
        return -1;
    }
    double x = json_number_value(v);
    if (!isfinite(x) || x < lo || x > hi) {
        char num[32];
        ya_format_double_repr(x, num);
        if (hi == YA_DATA_ENTROPY_MAX && isfinite(x) && x > hi)
            snprintf(reason, cap, "%s %s is above %g, the largest the distrust loss takes", key, num, hi);
        else if (hi == YA_DATA_ENTROPY_MAX) snprintf(reason, cap, "%s %s must be a finite number >= 0", key, num);
        else snprintf(reason, cap, "%s %s is outside [0, 0.99]", key, num);
        return -1;
    }
    *out = x;
    return 1;
}

/* SPEC §5.1: scores are rounded to 4 decimals, half to even on the exact binary
 * value — what glibc's correctly rounded printf does — so on-the-fly scores equal
 * those `your_ai score` would have written. */
static double round4(double x) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.4f", x);
    return strtod(buf, NULL);
}

static size_t count_code_points(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

/* The text --score reads: the document text, or prompt + "\n" + completion, or
 * the message contents joined by "\n". malloc'ed. */
static char *scoring_text(const YaDataRecord *rec) {
    if (rec->format == YA_DATA_TEXT) return strdup(rec->text);
    if (rec->format == YA_DATA_COMPLETIONS) {
        size_t a = strlen(rec->prompt), b = strlen(rec->completion);
        char *s = malloc(a + b + 2);
        if (!s) return NULL;
        memcpy(s, rec->prompt, a);
        s[a] = '\n';
        memcpy(s + a + 1, rec->completion, b + 1);
        return s;
    }
    size_t n = ya_data_record_messages(rec, NULL), total = 1;
    YaChatMessage *msgs = malloc((n ? n : 1) * sizeof *msgs);
    if (!msgs) return NULL;
    ya_data_record_messages(rec, msgs);
    for (size_t i = 0; i < n; i++) total += strlen(msgs[i].content) + 1;
    char *s = malloc(total), *p = s;
    if (!s) {
        free(msgs);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(msgs[i].content);
        if (i) *p++ = '\n';
        memcpy(p, msgs[i].content, len);
        p += len;
    }
    *p = '\0';
    free(msgs);
    return s;
}

/* SPEC §4.8 on one document: default below 50 code points, hybrid with a
 * source_type, dynamic otherwise. The whole object is the metadata. */
static int score_record(const YaDataScorer *scorer, const json_t *obj, const YaDataRecord *rec, double *w, double *h,
                        char *reason, size_t cap) {
    if (!scorer || !scorer->score) {
        snprintf(reason, cap, "--score needs a scorer (internal error)");
        return YA_ERR;
    }
    char *text = scoring_text(rec);
    if (!text) {
        snprintf(reason, cap, "out of memory");
        return YA_ERR;
    }
    int rc = YA_OK;
    if (count_code_points(text) < 50) {
        *w = 0.50;
        *h = 3.0;
    } else {
        YaError e = {0};
        double sw = 0, sh = 0;
        const json_t *st = json_object_get(obj, "source_type");
        rc = scorer->score(scorer->ctx, text, strlen(text), obj, json_is_string(st) ? json_string_value(st) : NULL, &sw,
                           &sh, &e);
        if (rc != YA_OK) snprintf(reason, cap, "scoring failed: %s", e.message);
        *w = round4(sw);
        *h = round4(sh);
    }
    free(text);
    return rc;
}

int ya_data_record_parse(const json_t *obj, const YaDataConfig *cfg, YaDataFormat *format, const YaDataScorer *scorer,
                         YaDataRecord *rec, char *reason, size_t cap) {
    memset(rec, 0, sizeof *rec);
    if (!json_is_object(obj)) return bad(reason, cap, "not a JSON object");
    YaDataFormat shape = line_shape(obj);
    if (*format == YA_DATA_AUTO) {
        if (shape == YA_DATA_AUTO)
            return bad(reason, cap,
                       "no 'text', 'prompt'+'completion', 'messages' or 'conversations' field: cannot tell the data format");
        *format = shape;
    } else if (shape != *format) {
        if (shape == YA_DATA_AUTO)
            return bad(reason, cap, "no '%s' field (the data set is in %s format)",
                       *format == YA_DATA_TEXT   ? "text"
                       : *format == YA_DATA_CHAT ? "messages' or 'conversations"
                                                 : "prompt'+'completion",
                       ya_data_format_name(*format));
        return bad(reason, cap, "line is in %s format, but the data set is in %s format (all lines must share one format)",
                   ya_data_format_name(shape), ya_data_format_name(*format));
    }
    rec->format = *format;
    switch (*format) {
    case YA_DATA_TEXT:
        if (get_string(obj, "text", 0, &rec->text, reason, cap)) return YA_ERR;
        break;
    case YA_DATA_COMPLETIONS:
        if (get_string(obj, "prompt", 1, &rec->prompt, reason, cap)) return YA_ERR;
        if (get_string(obj, "completion", 0, &rec->completion, reason, cap)) return YA_ERR;
        break;
    case YA_DATA_CHAT:
        if (json_object_get(obj, "messages")) {
            if (check_messages(obj, cfg, rec, reason, cap)) return YA_ERR;
            rec->chat_source = YA_CHAT_SOURCE_MESSAGES;
            rec->messages = json_object_get(obj, "messages");
        } else {
            if (check_sharegpt(obj, cfg, rec, &rec->system, reason, cap)) return YA_ERR;
            rec->chat_source = YA_CHAT_SOURCE_SHAREGPT;
            rec->messages = json_object_get(obj, "conversations");
        }
        break;
    default: return bad(reason, cap, "unknown data format");
    }
    if (get_sample_weight(obj, rec, reason, cap)) return YA_ERR;

    double w = 0, h = 0;
    int has_w = get_score_field(obj, "auth_weight", 0.0, 0.99, &w, reason, cap);
    if (has_w < 0) return YA_ERR;
    int has_h = get_score_field(obj, "prov_entropy", 0.0, YA_DATA_ENTROPY_MAX, &h, reason, cap);
    if (has_h < 0) return YA_ERR;
    if (has_w && has_h) {
        rec->has_scores = 1;
    } else if (cfg->need_scores) {
        if (cfg->score) {
            double sw, sh;
            if (score_record(scorer, obj, rec, &sw, &sh, reason, cap)) return YA_ERR;
            if (!has_w) w = sw;
            if (!has_h) h = sh;
            rec->scored = 1;
        } else {
            const char *missing = !has_w ? "auth_weight" : "prov_entropy";
            if ((!has_w && !cfg->has_default_auth) || (!has_h && !cfg->has_default_entropy))
                return bad(reason, cap,
                           "missing '%s' (the distrust loss needs auth_weight and prov_entropy; add them, or pass "
                           "--default-auth/--default-entropy or --score)",
                           missing);
            if (!has_w) w = cfg->default_auth;
            if (!has_h) h = cfg->default_entropy;
            rec->scored = 2;
        }
        rec->has_scores = 1;
    }
    rec->w = rec->has_scores ? w : 0;
    rec->h = rec->has_scores ? h : 0;
    return YA_OK;
}

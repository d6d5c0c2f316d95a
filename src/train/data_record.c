/* data_record.c — one JSONL object → a validated training record.
 *
 * Decides the line's shape (text / completions / chat, SPEC §5.4), checks it
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
    if (json_object_get(obj, "messages")) return YA_DATA_CHAT;
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

static int check_messages(const json_t *obj, const YaDataConfig *cfg, char *reason, size_t cap) {
    const json_t *msgs = json_object_get(obj, "messages");
    if (!json_is_array(msgs)) return bad(reason, cap, "'messages' must be an array");
    size_t n = json_array_size(msgs);
    if (n == 0) return bad(reason, cap, "'messages' is empty");
    const json_t *tools = json_object_get(obj, "tools");
    if (tools && !json_is_null(tools) && !(json_is_array(tools) && json_array_size(tools) == 0))
        return bad(reason, cap, "'tools' is not supported by the built-in chat templates");
    size_t n_assistant = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *m = json_array_get(msgs, i);
        char where[48];
        snprintf(where, sizeof where, "messages[%zu]", i);
        if (!json_is_object(m)) return bad(reason, cap, "%s must be an object", where);
        const json_t *role = json_object_get(m, "role"), *content = json_object_get(m, "content");
        if (!json_is_string(role)) return bad(reason, cap, "%s.role must be a string", where);
        const char *r = json_string_value(role);
        if (strcmp(r, "system") != 0 && strcmp(r, "user") != 0 && strcmp(r, "assistant") != 0)
            return bad(reason, cap, "%s.role '%s' is not system, user or assistant", where, r);
        if (!json_is_string(content)) return bad(reason, cap, "%s.content must be a string", where);
        if (strlen(json_string_value(content)) != json_string_length(content))
            return bad(reason, cap, "%s.content contains a NUL character (\\u0000)", where);
        if (strcmp(r, "assistant") == 0) n_assistant++;
    }
    if (cfg->mask_prompt && n_assistant == 0)
        return bad(reason, cap, "no assistant message to train on (--mask-prompt on)");
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
    size_t total = 1, n = json_array_size(rec->messages);
    for (size_t i = 0; i < n; i++)
        total += json_string_length(json_object_get(json_array_get(rec->messages, i), "content")) + 1;
    char *s = malloc(total), *p = s;
    if (!s) return NULL;
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_object_get(json_array_get(rec->messages, i), "content");
        if (i) *p++ = '\n';
        memcpy(p, json_string_value(c), json_string_length(c));
        p += json_string_length(c);
    }
    *p = '\0';
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
            return bad(reason, cap, "no 'text', 'prompt'+'completion' or 'messages' field: cannot tell the data format");
        *format = shape;
    } else if (shape != *format) {
        if (shape == YA_DATA_AUTO)
            return bad(reason, cap, "no '%s' field (the data set is in %s format)",
                       *format == YA_DATA_TEXT ? "text" : *format == YA_DATA_CHAT ? "messages" : "prompt'+'completion",
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
        if (check_messages(obj, cfg, reason, cap)) return YA_ERR;
        rec->messages = json_object_get(obj, "messages");
        break;
    default: return bad(reason, cap, "unknown data format");
    }

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

/* prompt_suite.c — the project's prompt suite (SPEC §11.2): chat-templated
 * greedy answers scored by keyword rules, multiple-choice items asked under
 * every rotation of their choices (so answering "always A" scores 1/n, and the
 * distribution of chosen positions exposes position bias), and per-category
 * pass rates with 95% Wilson intervals (small groups get honest, wide intervals). */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval_internal.h" // defines: ya_eval_state_cap
#include "your_ai/eval.h" // defines: YaSuite, ya_suite_load, ya_suite_run, ya_suite_check, ya_wilson95
#include "your_ai/generate.h"
#include "your_ai/jsonl.h"

/* ---- loading ----------------------------------------------------------------------- */

static void free_strv(char **v, int n) {
    for (int i = 0; v && i < n; i++) free(v[i]);
    free(v);
}

static void suite_item_free(YaSuiteItem *it) {
    free(it->id);
    free(it->category);
    free(it->prompt);
    free_strv(it->choices, it->n_choices);
    free_strv(it->checks.require_any, it->checks.n_require);
    free_strv(it->checks.forbid, it->checks.n_forbid);
}

void ya_suite_free(YaSuite *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) suite_item_free(&s->items[i]);
    free(s->items);
    memset(s, 0, sizeof *s);
}

/* A JSON array of non-empty strings at key (absent = empty). */
static int str_array(const json_t *o, const char *key, const char *where, char ***out, int *n, YaError *err) {
    *out = NULL;
    *n = 0;
    json_t *a = json_object_get(o, key);
    if (!a) return YA_OK;
    if (!json_is_array(a)) return ya_fail(err, YA_ERR, "%s: '%s' must be an array of strings", where, key);
    size_t k = json_array_size(a);
    *out = calloc(k + 1, sizeof **out);
    if (!*out) return ya_fail(err, YA_ERR, "out of memory");
    for (size_t i = 0; i < k; i++) {
        json_t *s = json_array_get(a, i);
        if (!json_is_string(s) || json_string_length(s) == 0)
            return ya_fail(err, YA_ERR, "%s: %s[%zu] must be a non-empty string", where, key, i);
        if (!((*out)[i] = strdup(json_string_value(s)))) return ya_fail(err, YA_ERR, "out of memory");
        *n = (int)i + 1;
    }
    return YA_OK;
}

static int parse_item(const json_t *o, const char *where, YaSuiteItem *it, YaError *err) {
    const char *id, *cat, *type, *prompt;
    if (ya_json_req_string(o, "id", where, &id, err) || ya_json_req_string(o, "category", where, &cat, err) ||
        ya_json_req_string(o, "type", where, &type, err) || ya_json_req_string(o, "prompt", where, &prompt, err))
        return YA_ERR;
    if (!(it->id = strdup(id)) || !(it->category = strdup(cat)) || !(it->prompt = strdup(prompt)))
        return ya_fail(err, YA_ERR, "out of memory");
    if (strcmp(type, "mc") == 0) it->is_mc = 1;
    else if (strcmp(type, "free") != 0) return ya_fail(err, YA_ERR, "%s: 'type' must be \"mc\" or \"free\", got \"%s\"", where, type);
    if (it->is_mc) {
        long long ai;
        if (str_array(o, "choices", where, &it->choices, &it->n_choices, err)) return YA_ERR;
        if (it->n_choices < 2 || it->n_choices > 26)
            return ya_fail(err, YA_ERR, "%s: an mc item needs 2 to 26 'choices', got %d", where, it->n_choices);
        if (ya_json_req_int(o, "answer_index", where, &ai, err)) return YA_ERR;
        if (ai < 0 || ai >= it->n_choices)
            return ya_fail(err, YA_ERR, "%s: 'answer_index' %lld is outside [0, %d)", where, ai, it->n_choices);
        it->answer_index = (int)ai;
    }
    json_t *c = json_object_get(o, "checks");
    if (c && !json_is_object(c)) return ya_fail(err, YA_ERR, "%s: 'checks' must be an object", where);
    if (c) {
        char w2[4300];
        snprintf(w2, sizeof w2, "%s: checks", where);
        long long k, mc;
        if (str_array(c, "require_any", w2, &it->checks.require_any, &it->checks.n_require, err) ||
            str_array(c, "forbid", w2, &it->checks.forbid, &it->checks.n_forbid, err) ||
            ya_json_opt_int(c, "require_min", w2, it->checks.n_require ? 1 : 0, &k, err) ||
            ya_json_opt_int(c, "min_chars", w2, 0, &mc, err))
            return YA_ERR;
        if (k < 0 || k > it->checks.n_require)
            return ya_fail(err, YA_ERR, "%s: 'require_min' %lld is outside [0, %d] (the require_any count)", w2, k,
                           it->checks.n_require);
        if (mc < 0 || mc > 1000000) return ya_fail(err, YA_ERR, "%s: 'min_chars' %lld is out of range", w2, mc);
        it->checks.require_min = (int)k;
        it->checks.min_chars = (int)mc;
    }
    return YA_OK;
}

int ya_suite_load(const char *path, YaSuite *out, YaError *err) {
    memset(out, 0, sizeof *out);
    YaJsonlReader r;
    if (ya_jsonl_open(&r, path, err)) return YA_ERR;
    size_t cap = 0;
    int rc = YA_OK;
    for (;;) {
        json_t *o = NULL;
        YaJsonlResult res = ya_jsonl_next_strict(&r, &o, err);
        if (res == YA_JSONL_EOF) break;
        if (res == YA_JSONL_IOERR) {
            rc = YA_ERR;
            break;
        }
        char where[4200];
        snprintf(where, sizeof where, "%s:%llu", path, (unsigned long long)r.line_no);
        if (out->n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            YaSuiteItem *ni = realloc(out->items, nc * sizeof *ni);
            if (!ni) {
                json_decref(o);
                rc = ya_fail(err, YA_ERR, "out of memory");
                break;
            }
            out->items = ni;
            cap = nc;
        }
        YaSuiteItem *it = &out->items[out->n++];
        memset(it, 0, sizeof *it);
        it->line = r.line_no;
        rc = parse_item(o, where, it, err);
        json_decref(o);
        if (rc) break;
    }
    ya_jsonl_close(&r);
    if (rc == YA_OK && out->n == 0) rc = ya_fail(err, YA_ERR, "%s: no prompt-suite items", path);
    if (rc) ya_suite_free(out);
    return rc;
}

/* ---- scoring ---------------------------------------------------------------------------- */

/* ASCII-case-insensitive substring search. */
static int contains_ci(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    if (n == 0) return 1;
    for (const char *p = hay; *p; p++)
        if (strncasecmp(p, needle, n) == 0) return 1;
    return 0;
}

/* The answer proper: after the last "</think>"; *unclosed set when a "<think>" has no closing tag. */
static const char *answer_part(const char *text, int *unclosed) {
    const char *open = strstr(text, "<think>"), *close = NULL;
    for (const char *p = text; (p = strstr(p, "</think>")); p += 8) close = p;
    *unclosed = open && (!close || close < open);
    if (close) return close + 8;
    return *unclosed ? "" : text;
}

static int utf8_len(const char *s) {
    int n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

void ya_suite_check(const YaSuiteChecks *c, const char *text, int hit_limit, YaCheckResult *out) {
    int unclosed;
    const char *ans = answer_part(text, &unclosed);
    memset(out, 0, sizeof *out);
    for (int i = 0; i < c->n_require; i++) out->n_required_found += contains_ci(ans, c->require_any[i]);
    for (int i = 0; i < c->n_forbid; i++) out->forbidden_found += contains_ci(ans, c->forbid[i]);
    out->too_short = utf8_len(ans) < c->min_chars;
    out->truncated = unclosed || hit_limit;
    out->pass = out->n_required_found >= c->require_min && out->forbidden_found == 0 && !out->too_short && !out->truncated;
}

int ya_suite_parse_letter(const char *text, int n_choices) {
    int unclosed;
    const unsigned char *s = (const unsigned char *)answer_part(text, &unclosed);
    for (size_t i = 0; s[i]; i++) {
        if (s[i] < 'A' || s[i] >= 'A' + n_choices) continue;
        int before_ok = i == 0 || !isalnum(s[i - 1]);
        int after_ok = !isalnum(s[i + 1]);
        if (before_ok && after_ok) return s[i] - 'A';
    }
    return -1;
}

void ya_wilson95(int k, int n, double *lo, double *hi) {
    if (n <= 0) {
        *lo = *hi = NAN;
        return;
    }
    const double z = 1.959963984540054, z2 = z * z;
    double p = (double)k / n, den = 1.0 + z2 / n;
    double center = (p + z2 / (2.0 * n)) / den;
    double half = z / den * sqrt(p * (1.0 - p) / n + z2 / (4.0 * (double)n * n));
    /* The interval ends at exactly 0 (1) when k = 0 (k = n); rounding would leave ±1e-17. */
    *lo = k == 0 || center - half < 0 ? 0 : center - half;
    *hi = k == n || center + half > 1 ? 1 : center + half;
}

char *ya_suite_mc_prompt(const YaSuiteItem *it, int rotation) {
    size_t n = strlen(it->prompt) + 128;
    for (int j = 0; j < it->n_choices; j++) n += strlen(it->choices[j]) + 8;
    char *out = malloc(n), *w = out;
    if (!out) return NULL;
    w += sprintf(w, "%s\n", it->prompt);
    /* Choice k shows at position (k + rotation) % n, so position p shows choice (p − rotation) mod n. */
    for (int p = 0; p < it->n_choices; p++) {
        int k = ((p - rotation) % it->n_choices + it->n_choices) % it->n_choices;
        w += sprintf(w, "%c) %s\n", 'A' + p, it->choices[k]);
    }
    sprintf(w, "Answer with the letter of the best choice, then explain briefly.");
    return out;
}

void ya_suite_result_free(YaSuiteResult *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n_runs; i++) free(r->runs[i].answer);
    free(r->runs);
    free(r->cats);
    memset(r, 0, sizeof *r);
}

int ya_suite_run(const YaSuite *s, YaGenerateFn gen, void *ctx, FILE *progress, YaSuiteResult *out, YaError *err) {
    memset(out, 0, sizeof *out);
    size_t total = 0;
    for (size_t i = 0; i < s->n; i++) total += s->items[i].is_mc ? (size_t)s->items[i].n_choices : 1;
    out->runs = calloc(total, sizeof *out->runs);
    out->cats = calloc(s->n, sizeof *out->cats);
    if (!out->runs || !out->cats) return ya_fail(err, YA_ERR, "out of memory");
    for (size_t i = 0; i < s->n; i++) {
        const YaSuiteItem *it = &s->items[i];
        int rotations = it->is_mc ? it->n_choices : 1;
        if (it->is_mc && it->n_choices > out->max_choices) out->max_choices = it->n_choices;
        size_t c = 0;
        while (c < out->n_cats && strcmp(out->cats[c].name, it->category) != 0) c++;
        if (c == out->n_cats) snprintf(out->cats[out->n_cats++].name, sizeof out->cats[0].name, "%s", it->category);
        for (int rot = 0; rot < rotations; rot++) {
            YaSuiteRun *run = &out->runs[out->n_runs];
            run->item = i;
            run->rotation = rot;
            run->chosen = -1;
            char *prompt = it->is_mc ? ya_suite_mc_prompt(it, rot) : strdup(it->prompt);
            if (!prompt) return ya_fail(err, YA_ERR, "out of memory");
            int hit_limit = 0;
            int rc = gen(ctx, prompt, &run->answer, &hit_limit, err);
            free(prompt);
            if (rc) return ya_error_prefix(err, "prompt suite item '%s' (line %llu)", it->id, (unsigned long long)it->line);
            out->n_runs++;
            ya_suite_check(&it->checks, run->answer, hit_limit, &run->check);
            if (it->is_mc) {
                run->chosen = ya_suite_parse_letter(run->answer, it->n_choices);
                out->position_counts[run->chosen >= 0 ? run->chosen : 26]++;
                int right = run->chosen == (it->answer_index + rot) % it->n_choices;
                /* mc: the right letter is required; the keyword checks (if any) must pass as well. */
                run->check.pass = right && run->check.pass;
            }
            out->cats[c].n++;
            out->cats[c].passed += run->check.pass;
            out->total++;
            out->passed += run->check.pass;
            if (progress)
            {
                fprintf(progress, "suite: %s", it->id);
                if (it->is_mc) fprintf(progress, " rotation %d", rot);
                fprintf(progress, " %s\n", run->check.pass ? "pass" : "fail");
            }
        }
    }
    for (size_t c = 0; c < out->n_cats; c++) {
        YaSuiteCategory *k = &out->cats[c];
        k->rate = (double)k->passed / k->n;
        ya_wilson95(k->passed, k->n, &k->lo, &k->hi);
    }
    out->rate = out->total ? (double)out->passed / out->total : NAN;
    ya_wilson95(out->passed, out->total, &out->lo, &out->hi);
    return YA_OK;
}

/* ---- the model-backed generator ---------------------------------------------------------- */

typedef struct Collect {
    int32_t *ids;
    int n, cap;
} Collect;

static int collect_token(void *user, int32_t id) {
    Collect *c = user;
    if (c->n < c->cap) c->ids[c->n++] = id;
    return 0;
}

int ya_suite_model_generate(void *vctx, const char *user_prompt, char **answer, int *hit_limit, YaError *err) {
    YaSuiteModelCtx *c = vctx;
    *answer = NULL;
    YaIds ids = {0};
    int rc = c->chat_format != YA_CHAT_NONE ? ya_chat_encode_user(c->chat_format, c->tok, user_prompt, &ids, err)
                                            : ya_tokenizer_encode(c->tok, user_prompt, strlen(user_prompt), 1, &ids, err);
    YaGenerateParams gp = {.max_tokens = c->max_new_tokens > 0 ? c->max_new_tokens : 512, .sampling = ya_sampler_defaults()};
    gp.sampling.seed = c->seed;
    ya_generate_eos_set(&gp, &c->model->cfg, ya_tokenizer_eos_id(c->tok));
    Collect col = {malloc((size_t)gp.max_tokens * sizeof(int32_t)), 0, gp.max_tokens};
    if (rc == YA_OK && !col.ids) rc = ya_fail(err, YA_ERR, "out of memory");
    YaGenerateStats st = {0};
    /* One state for the whole suite, sized in steps of 256 positions (a GPU state uploads the model when made). */
    int need = (int)ids.len + gp.max_tokens;
    if (rc == YA_OK && (!c->state || ya_infer_state_capacity(c->state) < need)) {
        ya_infer_state_free(c->state);
        c->state = NULL;
        rc = ya_infer_state_new_on(c->model, c->device, c->gpu, ya_eval_state_cap(c->model, need, 256), 256, &c->state, err);
    }
    gp.state = c->state;
    if (rc == YA_OK) rc = ya_generate(c->model, ids.ids, (int)ids.len, &gp, collect_token, &col, &st, err);
    if (rc == YA_OK) {
        int n = col.n;
        /* Drop the stop id itself before decoding. */
        for (int k = 0; k < gp.n_eos && n > 0; k++)
            if (col.ids[n - 1] == gp.eos[k]) {
                n--;
                break;
            }
        size_t len;
        rc = ya_tokenizer_decode(c->tok, col.ids, (size_t)n, 1, answer, &len, err);
        *hit_limit = !st.hit_eos && col.n >= gp.max_tokens;
    }
    free(col.ids);
    ya_ids_free(&ids);
    return rc;
}

void ya_suite_model_ctx_free(YaSuiteModelCtx *c) {
    if (!c) return;
    ya_infer_state_free(c->state);
    c->state = NULL;
}

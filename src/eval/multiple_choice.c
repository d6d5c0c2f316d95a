/* multiple_choice.c — MC1 / MC2 benchmarks scored by log-likelihood (SPEC §11.2).
 *
 * Each choice is scored on its own as the log-probability of " " + choice after
 * the prompt, so a choice's score cannot depend on where it is listed; the item
 * scores are then made order-free too (strict comparisons, so ties count against
 * the item whatever the order; MC2 sums over sorted values). Letter generation,
 * the reference's method, measured position bias instead (SPEC §11.1). */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval_internal.h" // defines: ya_eval_row_nll
#include "your_ai/eval.h" // defines: YaMcSet, ya_mc_load, ya_mc_run, ya_mc_score_item
#include "your_ai/fileio.h"
#include "your_ai/jsonl.h"

/* ---- loading ------------------------------------------------------------------------ */

static void mc_item_free(YaMcItem *it) {
    for (int j = 0; it->choices && j < it->n_choices; j++) free(it->choices[j]);
    free(it->choices);
    free(it->labels);
    free(it->id);
    free(it->question);
    free(it->category);
}

void ya_mc_set_free(YaMcSet *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) mc_item_free(&s->items[i]);
    free(s->items);
    memset(s, 0, sizeof *s);
}

static int push_item(YaMcSet *s, size_t *cap, YaMcItem *it, YaError *err) {
    if (s->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        YaMcItem *ni = realloc(s->items, nc * sizeof *ni);
        if (!ni) return ya_fail(err, YA_ERR, "out of memory");
        s->items = ni;
        *cap = nc;
    }
    s->items[s->n++] = *it;
    return YA_OK;
}

/* Checks the common invariants; where = "file:line". */
static int validate_item(const YaMcItem *it, const char *where, YaError *err) {
    if (it->n_choices < 2) return ya_fail(err, YA_ERR, "%s: 'choices' needs at least 2 entries, got %d", where, it->n_choices);
    int n_true = 0;
    for (int j = 0; j < it->n_choices; j++) n_true += it->labels[j];
    if (n_true == 0) return ya_fail(err, YA_ERR, "%s: 'labels' has no true (1) entry", where);
    if (n_true == it->n_choices) return ya_fail(err, YA_ERR, "%s: 'labels' has no false (0) entry", where);
    if (it->question[0] == '\0') return ya_fail(err, YA_ERR, "%s: 'question' is empty", where);
    return YA_OK;
}

static int load_jsonl(const char *path, YaMcSet *out, YaError *err) {
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
        YaMcItem it = {0};
        it.line = r.line_no;
        const char *q, *id = NULL, *cat = NULL;
        json_t *ch = json_object_get(o, "choices"), *lab = json_object_get(o, "labels");
        if ((rc = ya_json_req_string(o, "question", where, &q, err)) ||
            (rc = ya_json_opt_string(o, "id", where, NULL, &id, err)) ||
            (rc = ya_json_opt_string(o, "category", where, NULL, &cat, err))) {
        } else if (!json_is_array(ch) || !json_is_array(lab)) {
            rc = ya_fail(err, YA_ERR, "%s: '%s' must be an array", where, !json_is_array(ch) ? "choices" : "labels");
        } else if (json_array_size(ch) != json_array_size(lab)) {
            rc = ya_fail(err, YA_ERR, "%s: 'choices' has %zu entries but 'labels' has %zu", where, json_array_size(ch),
                         json_array_size(lab));
        } else {
            it.n_choices = (int)json_array_size(ch);
            it.choices = calloc((size_t)it.n_choices + 1, sizeof *it.choices);
            it.labels = calloc((size_t)it.n_choices + 1, sizeof *it.labels);
            char idbuf[32];
            snprintf(idbuf, sizeof idbuf, "line%llu", (unsigned long long)r.line_no);
            it.question = strdup(q);
            it.id = strdup(id ? id : idbuf);
            it.category = cat ? strdup(cat) : NULL;
            if (!it.choices || !it.labels || !it.question || !it.id || (cat && !it.category))
                rc = ya_fail(err, YA_ERR, "out of memory");
            for (int j = 0; rc == YA_OK && j < it.n_choices; j++) {
                json_t *c = json_array_get(ch, (size_t)j), *l = json_array_get(lab, (size_t)j);
                if (!json_is_string(c)) rc = ya_fail(err, YA_ERR, "%s: choices[%d] must be a string", where, j);
                else if (!json_is_integer(l) || (json_integer_value(l) != 0 && json_integer_value(l) != 1))
                    rc = ya_fail(err, YA_ERR, "%s: labels[%d] must be 0 or 1", where, j);
                else if (!(it.choices[j] = strdup(json_string_value(c)))) rc = ya_fail(err, YA_ERR, "out of memory");
                else it.labels[j] = (int)json_integer_value(l);
            }
            if (rc == YA_OK) rc = validate_item(&it, where, err);
        }
        json_decref(o);
        if (rc == YA_OK) rc = push_item(out, &cap, &it, err);
        if (rc) {
            mc_item_free(&it);
            break;
        }
    }
    ya_jsonl_close(&r);
    return rc;
}

/* One CSV record (RFC 4180 subset: fields may be "quoted" with "" for a quote;
 * no newline inside a field). Returns the number of fields split into f[] (NUL-
 * terminated in place), or −1 on an unterminated quote. */
static int csv_split(char *line, char **f, int max) {
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max) return n;
        char *w = p;
        f[n++] = w;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '\0') return -1;
                if (*p == '"') {
                    if (p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            if (*p != ',' && *p != '\0') return -1;
        } else {
            while (*p && *p != ',') *w++ = *p++;
        }
        int more = *p == ',';
        *w = '\0';
        if (!more) return n;
        p++;
    }
}

static int load_csv(const char *path, YaMcSet *out, YaError *err) {
    char *text = NULL;
    size_t len = 0;
    if (ya_read_file(path, &text, &len, err)) return YA_ERR;
    size_t cap = 0;
    int rc = YA_OK, col[5] = {-1, -1, -1, -1, -1}; /* id, question, choices, labels, category */
    static const char *const names[5] = {"id", "question", "choices", "labels", "category"};
    unsigned long long line_no = 0;
    char *save = text;
    int header_seen = 0;
    while (rc == YA_OK && save && *save) {
        char *line = save, *nl = strchr(save, '\n');
        if (nl) {
            *nl = '\0';
            save = nl + 1;
        } else {
            save = NULL;
        }
        line_no++;
        size_t ll = strlen(line);
        if (ll && line[ll - 1] == '\r') line[--ll] = '\0';
        if (ll == 0) continue;
        char where[4200];
        snprintf(where, sizeof where, "%s:%llu", path, line_no);
        char *f[16];
        int nf = csv_split(line, f, 16);
        if (nf < 0) {
            rc = ya_fail(err, YA_ERR, "%s: unterminated quoted field", where);
            break;
        }
        if (!header_seen) {
            header_seen = 1;
            for (int k = 0; k < nf; k++)
                for (int c = 0; c < 5; c++)
                    if (strcmp(f[k], names[c]) == 0) col[c] = k;
            for (int c = 1; c < 4; c++)
                if (col[c] < 0) rc = ya_fail(err, YA_ERR, "%s: CSV header lacks the '%s' column (need question,choices,labels)", where, names[c]);
            continue;
        }
        YaMcItem it = {0};
        it.line = line_no;
        for (int c = 0; c < 4 && rc == YA_OK; c++)
            if (col[c] >= nf) rc = ya_fail(err, YA_ERR, "%s: %d fields, the header has a '%s' column at %d", where, nf, names[c], col[c] + 1);
        if (rc) break;
        /* choices: split on " ||| " */
        const char *sep = " ||| ";
        int nc = 1;
        for (const char *p = f[col[2]]; (p = strstr(p, sep)); p += 5) nc++;
        it.n_choices = nc;
        it.choices = calloc((size_t)nc, sizeof *it.choices);
        it.labels = calloc((size_t)nc, sizeof *it.labels);
        char idbuf[32];
        snprintf(idbuf, sizeof idbuf, "line%llu", line_no);
        it.id = strdup(col[0] >= 0 && col[0] < nf && f[col[0]][0] ? f[col[0]] : idbuf);
        it.question = strdup(f[col[1]]);
        if (col[4] >= 0 && col[4] < nf && f[col[4]][0]) it.category = strdup(f[col[4]]);
        if (!it.choices || !it.labels || !it.id || !it.question) rc = ya_fail(err, YA_ERR, "out of memory");
        const char *p = f[col[2]];
        for (int j = 0; rc == YA_OK && j < nc; j++) {
            const char *e = strstr(p, sep);
            size_t n = e ? (size_t)(e - p) : strlen(p);
            if (!(it.choices[j] = strndup(p, n))) rc = ya_fail(err, YA_ERR, "out of memory");
            p = e ? e + 5 : p + n;
        }
        /* labels: nc tokens of 0/1 separated by spaces */
        int nl_ = 0;
        for (char *q = f[col[3]]; rc == YA_OK && *q;) {
            while (*q == ' ') q++;
            if (!*q) break;
            if ((*q != '0' && *q != '1') || (q[1] && q[1] != ' ')) {
                rc = ya_fail(err, YA_ERR, "%s: labels must be 0/1 separated by spaces, got '%s'", where, f[col[3]]);
                break;
            }
            if (nl_ < nc) it.labels[nl_] = *q - '0';
            nl_++;
            q++;
        }
        if (rc == YA_OK && nl_ != nc)
            rc = ya_fail(err, YA_ERR, "%s: %d choices but %d labels", where, nc, nl_);
        if (rc == YA_OK) rc = validate_item(&it, where, err);
        if (rc == YA_OK) rc = push_item(out, &cap, &it, err);
        if (rc) mc_item_free(&it);
    }
    if (rc == YA_OK && !header_seen) rc = ya_fail(err, YA_ERR, "%s: empty CSV (need a header id,question,choices,labels)", path);
    free(text);
    return rc;
}

int ya_mc_load(const char *path, YaMcSet *out, YaError *err) {
    memset(out, 0, sizeof *out);
    size_t n = strlen(path);
    int csv = n >= 4 && strcasecmp(path + n - 4, ".csv") == 0;
    int rc = csv ? load_csv(path, out, err) : load_jsonl(path, out, err);
    if (rc == YA_OK && out->n == 0) rc = ya_fail(err, YA_ERR, "%s: no benchmark items", path);
    if (rc) ya_mc_set_free(out);
    return rc;
}

/* ---- scoring ------------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* log Σ e^v over v[0..n), in sorted order so the result does not depend on how v is listed. */
static double logsumexp_sorted(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    double mx = v[n - 1], s = 0.0;
    if (isinf(mx) && mx < 0) return mx;
    for (int i = 0; i < n; i++) s += exp(v[i] - mx);
    return mx + log(s);
}

void ya_mc_score_item(const double *ll, const int *n_tokens, const int *labels, int n, YaMcScore *out) {
    double best_t = -INFINITY, best_f = -INFINITY, bnt = -INFINITY, bnf = -INFINITY;
    double vt[n], va[n];
    int kt = 0;
    for (int j = 0; j < n; j++) {
        double norm = ll[j] / (double)(n_tokens[j] > 0 ? n_tokens[j] : 1);
        if (labels[j]) {
            best_t = ll[j] > best_t ? ll[j] : best_t;
            bnt = norm > bnt ? norm : bnt;
            vt[kt++] = ll[j];
        } else {
            best_f = ll[j] > best_f ? ll[j] : best_f;
            bnf = norm > bnf ? norm : bnf;
        }
        va[j] = ll[j];
    }
    out->mc1 = best_t > best_f;
    out->mc1_norm = bnt > bnf;
    out->mc2 = kt ? exp(logsumexp_sorted(vt, kt) - logsumexp_sorted(va, n)) : 0.0;
}

void ya_mc_result_free(YaMcResult *r, size_t n_items) {
    if (!r) return;
    for (size_t i = 0; r->ll && i < n_items; i++) free(r->ll[i]);
    free(r->ll);
    free(r->per_item);
    memset(r, 0, sizeof *r);
}

/* prompt_template with every "{question}" replaced (malloc'ed). */
static char *render_prompt(const char *tpl, const char *question) {
    size_t qn = strlen(question), n = 1;
    for (const char *p = tpl; *p;) {
        if (strncmp(p, "{question}", 10) == 0) {
            n += qn;
            p += 10;
        } else {
            n++;
            p++;
        }
    }
    char *out = malloc(n), *w = out;
    if (!out) return NULL;
    for (const char *p = tpl; *p;) {
        if (strncmp(p, "{question}", 10) == 0) {
            memcpy(w, question, qn);
            w += qn;
            p += 10;
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    return out;
}

int ya_mc_run(const YaMcSet *set, const char *tpl, YaLoglikFn fn, void *ctx, YaMcResult *out, YaError *err) {
    memset(out, 0, sizeof *out);
    if (!tpl) tpl = "Q: {question}\nA:";
    out->per_item = calloc(set->n, sizeof *out->per_item);
    out->ll = calloc(set->n, sizeof *out->ll);
    if (!out->per_item || !out->ll) return ya_fail(err, YA_ERR, "out of memory");
    out->n_items = set->n;
    double s1 = 0, s1n = 0, s2 = 0;
    for (size_t i = 0; i < set->n; i++) {
        const YaMcItem *it = &set->items[i];
        char *prompt = render_prompt(tpl, it->question);
        int *nt = calloc((size_t)it->n_choices, sizeof *nt);
        out->ll[i] = calloc((size_t)it->n_choices, sizeof **out->ll);
        int rc = prompt && nt && out->ll[i] ? YA_OK : ya_fail(err, YA_ERR, "out of memory");
        for (int j = 0; rc == YA_OK && j < it->n_choices; j++) {
            rc = fn(ctx, prompt, it->choices[j], j, &out->ll[i][j], &nt[j], err);
            if (rc) ya_error_prefix(err, "benchmark item '%s' (line %llu), choice %d", it->id, (unsigned long long)it->line, j);
        }
        if (rc == YA_OK) ya_mc_score_item(out->ll[i], nt, it->labels, it->n_choices, &out->per_item[i]);
        free(prompt);
        free(nt);
        if (rc) {
            ya_mc_result_free(out, set->n);
            return rc;
        }
        s1 += out->per_item[i].mc1;
        s1n += out->per_item[i].mc1_norm;
        s2 += out->per_item[i].mc2;
    }
    out->mc1 = s1 / (double)set->n;
    out->mc1_norm = s1n / (double)set->n;
    out->mc2 = s2 / (double)set->n;
    return YA_OK;
}

/* ---- the model-backed scorer ------------------------------------------------------------- */

int ya_mc_continuation(const YaTokenizer *tok, const char *prompt, const char *choice, YaIds *full, size_t *n_prompt,
                       YaError *err) {
    YaIds p = {0};
    full->len = 0;
    size_t pl = strlen(prompt), cl = strlen(choice);
    char *joined = malloc(pl + cl + 2);
    if (!joined) return ya_fail(err, YA_ERR, "out of memory");
    memcpy(joined, prompt, pl);
    joined[pl] = ' ';
    memcpy(joined + pl + 1, choice, cl + 1);
    int rc = ya_tokenizer_encode(tok, prompt, pl, 1, &p, err);
    if (rc == YA_OK) rc = ya_tokenizer_encode(tok, joined, pl + 1 + cl, 1, full, err);
    int prefix_ok = rc == YA_OK && full->len > p.len && memcmp(full->ids, p.ids, p.len * sizeof *p.ids) == 0;
    if (rc == YA_OK && !prefix_ok) {
        /* The prompt re-tokenizes differently inside the joined text: encode the parts separately. */
        full->len = 0;
        for (size_t i = 0; rc == YA_OK && i < p.len; i++) rc = ya_ids_push(full, p.ids[i]);
        if (rc == YA_OK) rc = ya_tokenizer_encode(tok, joined + pl, 1 + cl, 0, full, err);
    }
    *n_prompt = p.len;
    ya_ids_free(&p);
    free(joined);
    if (rc == YA_OK && *n_prompt == 0) rc = ya_fail(err, YA_ERR, "the prompt encodes to no tokens (nothing to condition on)");
    if (rc == YA_OK && full->len <= *n_prompt) rc = ya_fail(err, YA_ERR, "choice '%s' encodes to no tokens", choice);
    return rc;
}

int ya_mc_model_loglik(void *vctx, const char *prompt, const char *choice, int choice_index, double *ll,
                       int *n_tokens, YaError *err) {
    (void)choice_index; /* an honest scorer never looks at the position */
    YaMcModelCtx *c = vctx;
    YaIds full = {0};
    size_t np = 0;
    int rc = ya_mc_continuation(c->tok, prompt, choice, &full, &np, err);
    if (rc) {
        ya_ids_free(&full);
        return rc;
    }
    const int N = (int)full.len, V = c->model->cfg.vocab_size;
    if (!c->state || N > c->max_ctx) {
        ya_infer_state_free(c->state);
        c->state = NULL;
        free(c->logits);
        /* grows in steps of 64 positions as longer items come (256 on a GPU, where a new state uploads the model) */
        int cap = ya_eval_state_cap(c->model, N, c->device == YA_DEVICE_CUDA ? 256 : 64);
        c->logits = malloc((size_t)cap * (size_t)V * sizeof *c->logits); // [cap, V]
        if (!c->logits) rc = ya_fail(err, YA_ERR, "out of memory");
        if (rc == YA_OK) rc = ya_infer_state_new_on(c->model, c->device, c->gpu, cap, cap, &c->state, err);
        c->max_ctx = rc == YA_OK ? cap : 0;
    }
    if (rc == YA_OK) {
        ya_infer_state_reset(c->state);
        rc = ya_model_forward(c->model, c->state, full.ids, N, 1, c->logits, err);
    }
    if (rc == YA_OK) {
        double sum = 0.0;
        for (int t = (int)np; t < N; t++) /* row t−1 [V] predicts ids[t] */
            sum -= ya_eval_row_nll(c->logits + (size_t)(t - 1) * V, V, full.ids[t]);
        *ll = sum;
        *n_tokens = N - (int)np;
    }
    ya_ids_free(&full);
    return rc;
}

void ya_mc_model_ctx_free(YaMcModelCtx *c) {
    if (!c) return;
    ya_infer_state_free(c->state);
    free(c->logits);
    c->state = NULL;
    c->logits = NULL;
}

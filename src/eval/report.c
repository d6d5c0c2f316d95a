/* report.c — the validation report: report.json for machines (schema
 * "your_ai.validate/1", documented in docs/VALIDATION.md) and the human summary
 * printed on stdout. Non-finite numbers (an interval that was not computed) are
 * written as null, never as NaN, so every JSON parser reads the report. */
#include <math.h>
#include <string.h>

#include "your_ai/eval.h" // defines: YaEvalReport, ya_eval_report_json, ya_eval_report_print

static json_t *num(double x) { return isfinite(x) ? json_real(x) : json_null(); }

static json_t *pair(double a, double b) {
    json_t *p = json_array();
    json_array_append_new(p, num(a));
    json_array_append_new(p, num(b));
    return p;
}

/* The number at obj[key] or NaN. */
static double get_num(const json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The --compare report's perplexity group (kind, name), or NULL. */
static const json_t *compare_group(const json_t *cmp, const char *kind, const char *name) {
    json_t *groups = json_object_get(json_object_get(cmp, "perplexity"), "groups");
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g) {
        json_t *k = json_object_get(g, "kind"), *n = json_object_get(g, "name");
        if (json_is_string(k) && json_is_string(n) && strcmp(json_string_value(k), kind) == 0 &&
            strcmp(json_string_value(n), name) == 0)
            return g;
    }
    return NULL;
}

static json_t *mc_json(const YaMcSet *set, const YaMcResult *r, int with_items) {
    json_t *o = json_object();
    json_object_set_new(o, "n_items", json_integer((json_int_t)r->n_items));
    json_object_set_new(o, "mc1", num(r->mc1));
    json_object_set_new(o, "mc1_norm", num(r->mc1_norm));
    json_object_set_new(o, "mc2", num(r->mc2));
    if (with_items) {
        json_t *items = json_array();
        for (size_t i = 0; i < r->n_items; i++) {
            json_t *it = json_object(), *ll = json_array();
            for (int j = 0; j < set->items[i].n_choices; j++) json_array_append_new(ll, num(r->ll[i][j]));
            json_object_set_new(it, "id", json_string(set->items[i].id));
            if (set->items[i].category) json_object_set_new(it, "category", json_string(set->items[i].category));
            json_object_set_new(it, "mc1", json_integer(r->per_item[i].mc1));
            json_object_set_new(it, "mc1_norm", json_integer(r->per_item[i].mc1_norm));
            json_object_set_new(it, "mc2", num(r->per_item[i].mc2));
            json_object_set_new(it, "ll", ll);
            json_array_append_new(items, it);
        }
        json_object_set_new(o, "items", items);
    }
    return o;
}

static json_t *suite_json(const YaSuite *s, const YaSuiteResult *r, int with_runs) {
    json_t *o = json_object(), *cats = json_array(), *pos = json_object();
    json_object_set_new(o, "n_items", json_integer((json_int_t)s->n));
    json_object_set_new(o, "n_runs", json_integer(r->total));
    json_object_set_new(o, "passed", json_integer(r->passed));
    json_object_set_new(o, "pass_rate", num(r->rate));
    json_object_set_new(o, "pass_rate_ci", pair(r->lo, r->hi));
    for (size_t c = 0; c < r->n_cats; c++) {
        json_t *k = json_object();
        json_object_set_new(k, "name", json_string(r->cats[c].name));
        json_object_set_new(k, "n", json_integer(r->cats[c].n));
        json_object_set_new(k, "passed", json_integer(r->cats[c].passed));
        json_object_set_new(k, "rate", num(r->cats[c].rate));
        json_object_set_new(k, "ci", pair(r->cats[c].lo, r->cats[c].hi));
        json_array_append_new(cats, k);
    }
    json_object_set_new(o, "categories", cats);
    for (int p = 0; p < r->max_choices; p++) {
        char key[2] = {(char)('A' + p), 0};
        json_object_set_new(pos, key, json_integer(r->position_counts[p]));
    }
    json_object_set_new(pos, "none", json_integer(r->position_counts[26]));
    json_object_set_new(o, "mc_positions", pos);
    if (with_runs) {
        json_t *runs = json_array();
        for (size_t i = 0; i < r->n_runs; i++) {
            const YaSuiteRun *u = &r->runs[i];
            const YaSuiteItem *it = &s->items[u->item];
            json_t *j = json_object();
            json_object_set_new(j, "id", json_string(it->id));
            json_object_set_new(j, "category", json_string(it->category));
            if (it->is_mc) {
                json_object_set_new(j, "rotation", json_integer(u->rotation));
                json_object_set_new(j, "expected", json_integer((it->answer_index + u->rotation) % it->n_choices));
                json_object_set_new(j, "chosen", u->chosen >= 0 ? json_integer(u->chosen) : json_null());
            }
            json_object_set_new(j, "pass", json_boolean(u->check.pass));
            json_object_set_new(j, "required_found", json_integer(u->check.n_required_found));
            json_object_set_new(j, "forbidden_found", json_integer(u->check.forbidden_found));
            json_object_set_new(j, "too_short", json_boolean(u->check.too_short));
            json_object_set_new(j, "truncated", json_boolean(u->check.truncated));
            json_object_set_new(j, "answer", json_string(u->answer ? u->answer : ""));
            json_array_append_new(runs, j);
        }
        json_object_set_new(o, "runs", runs);
    }
    return o;
}

json_t *ya_eval_report_json(const YaEvalReport *r) {
    json_t *root = json_object(), *data = json_array();
    json_object_set_new(root, "schema", json_string("your_ai.validate/1"));
    json_object_set_new(root, "model", json_string(r->model_dir));
    json_object_set_new(root, "adapter", r->adapter_dir ? json_string(r->adapter_dir) : json_null());
    for (size_t i = 0; i < r->n_data; i++) json_array_append_new(data, json_string(r->data_paths[i]));
    json_object_set_new(root, "data", data);

    if (r->groups) {
        json_t *p = json_object(), *groups = json_array();
        json_object_set_new(p, "bootstrap", json_integer(r->n_bootstrap));
        json_object_set_new(p, "seed", json_integer((json_int_t)r->seed));
        for (size_t i = 0; i < r->n_groups; i++) {
            const YaPplGroup *g = &r->groups[i];
            json_t *j = json_object();
            json_object_set_new(j, "kind", json_string(g->kind));
            json_object_set_new(j, "name", json_string(g->name));
            json_object_set_new(j, "n_samples", json_integer((json_int_t)g->n_samples));
            json_object_set_new(j, "n_tokens", json_integer((json_int_t)g->n_tokens));
            json_object_set_new(j, "nll", num(g->nll));
            json_object_set_new(j, "ppl", num(g->ppl));
            json_object_set_new(j, "nll_ci", pair(g->nll_lo, g->nll_hi));
            json_object_set_new(j, "ppl_ci", pair(exp(g->nll_lo), exp(g->nll_hi)));
            if (g->has_base) {
                json_t *b = json_object();
                json_object_set_new(b, "nll", num(g->base_nll));
                json_object_set_new(b, "ppl", num(g->base_ppl));
                json_object_set_new(b, "nll_ci", pair(g->base_lo, g->base_hi));
                json_object_set_new(j, "base", b);
                json_object_set_new(j, "delta", num(g->delta));
                json_object_set_new(j, "delta_ci", pair(g->delta_lo, g->delta_hi));
            }
            json_array_append_new(groups, j);
        }
        json_object_set_new(p, "groups", groups);
        if (r->signal && r->signal->available) {
            json_t *s = json_object();
            json_object_set_new(s, "value", num(r->signal->value));
            json_object_set_new(s, "ci", pair(r->signal->lo, r->signal->hi));
            json_object_set_new(p, "distrust_signal", s);
        } else {
            json_object_set_new(p, "distrust_signal", json_null());
        }
        json_object_set_new(root, "perplexity", p);
    }
    if (r->mc) {
        json_t *m = mc_json(r->mc_set, r->mc, 1);
        json_object_set_new(m, "file", json_string(r->benchmark_path));
        if (r->mc_base) json_object_set_new(m, "base", mc_json(r->mc_set, r->mc_base, 0));
        json_object_set_new(root, "multiple_choice", m);
    }
    if (r->suite_res) {
        json_t *s = suite_json(r->suite, r->suite_res, 1);
        json_object_set_new(s, "file", json_string(r->prompts_path));
        if (r->suite_base) json_object_set_new(s, "base", suite_json(r->suite, r->suite_base, 0));
        json_object_set_new(root, "prompt_suite", s);
    }
    if (r->compare) {
        json_t *c = json_object(), *groups = json_array();
        json_object_set_new(c, "file", json_string(r->compare_path));
        for (size_t i = 0; r->groups && i < r->n_groups; i++) {
            const json_t *o = compare_group(r->compare, r->groups[i].kind, r->groups[i].name);
            if (!o) continue;
            json_t *j = json_object();
            json_object_set_new(j, "kind", json_string(r->groups[i].kind));
            json_object_set_new(j, "name", json_string(r->groups[i].name));
            json_object_set_new(j, "nll", num(r->groups[i].nll));
            json_object_set_new(j, "compare_nll", num(get_num(o, "nll")));
            json_object_set_new(j, "delta_nll", num(r->groups[i].nll - get_num(o, "nll")));
            json_array_append_new(groups, j);
        }
        json_object_set_new(c, "perplexity", groups);
        const json_t *om = json_object_get(r->compare, "multiple_choice");
        if (r->mc && om) {
            json_t *m = json_object();
            json_object_set_new(m, "delta_mc1", num(r->mc->mc1 - get_num(om, "mc1")));
            json_object_set_new(m, "delta_mc1_norm", num(r->mc->mc1_norm - get_num(om, "mc1_norm")));
            json_object_set_new(m, "delta_mc2", num(r->mc->mc2 - get_num(om, "mc2")));
            json_object_set_new(c, "multiple_choice", m);
        }
        const json_t *os = json_object_get(r->compare, "prompt_suite");
        if (r->suite_res && os)
            json_object_set_new(c, "prompt_suite_delta_pass_rate", num(r->suite_res->rate - get_num(os, "pass_rate")));
        json_object_set_new(root, "compare", c);
    }
    return root;
}

void ya_eval_report_print(FILE *fp, const YaEvalReport *r) {
    fprintf(fp, "validate: model %s%s%s\n", r->model_dir, r->adapter_dir ? " + adapter " : "",
            r->adapter_dir ? r->adapter_dir : "");
    if (r->groups) {
        int has_base = r->n_groups && r->groups[0].has_base;
        fprintf(fp, "\nperplexity (token-pooled; 95%% bootstrap CI over samples, B=%d, seed %llu)\n", r->n_bootstrap,
                (unsigned long long)r->seed);
        fprintf(fp, "  %-12s %-24s %8s %9s %9s %10s %21s", "kind", "group", "samples", "tokens", "nll", "ppl",
                "nll 95% CI");
        if (has_base) fprintf(fp, " %10s %10s %21s", "base ppl", "delta", "delta 95% CI");
        if (r->compare) fprintf(fp, " %10s", "vs compare");
        fputc('\n', fp);
        for (size_t i = 0; i < r->n_groups; i++) {
            const YaPplGroup *g = &r->groups[i];
            fprintf(fp, "  %-12s %-24s %8zu %9llu %9.4f %10.4g [%9.4f, %9.4f]", g->kind, g->name, g->n_samples,
                    (unsigned long long)g->n_tokens, g->nll, g->ppl, g->nll_lo, g->nll_hi);
            if (has_base)
                fprintf(fp, " %10.4g %+10.4f [%+9.4f, %+9.4f]", g->base_ppl, g->delta, g->delta_lo, g->delta_hi);
            if (r->compare) {
                const json_t *o = compare_group(r->compare, g->kind, g->name);
                if (o) fprintf(fp, " %+10.4f", g->nll - get_num(o, "nll"));
                else fprintf(fp, " %10s", "-");
            }
            fputc('\n', fp);
        }
        if (r->signal && r->signal->available)
            fprintf(fp, "  distrust signal (delta_low - delta_high): %+.5f  95%% CI [%+.5f, %+.5f]  (negative = "
                        "training moved toward low-authority sources)\n",
                    r->signal->value, r->signal->lo, r->signal->hi);
    }
    if (r->mc) {
        fprintf(fp, "\nmultiple choice (%s, %zu items, log-likelihood scoring)\n", r->benchmark_path, r->mc->n_items);
        fprintf(fp, "  MC1 %.4f   MC1 length-normalised %.4f   MC2 %.4f\n", r->mc->mc1, r->mc->mc1_norm, r->mc->mc2);
        if (r->mc_base)
            fprintf(fp, "  base: MC1 %.4f   MC1 length-normalised %.4f   MC2 %.4f\n", r->mc_base->mc1,
                    r->mc_base->mc1_norm, r->mc_base->mc2);
        const json_t *om = r->compare ? json_object_get(r->compare, "multiple_choice") : NULL;
        if (om)
            fprintf(fp, "  vs compare: MC1 %+.4f   MC1 length-normalised %+.4f   MC2 %+.4f\n",
                    r->mc->mc1 - get_num(om, "mc1"), r->mc->mc1_norm - get_num(om, "mc1_norm"),
                    r->mc->mc2 - get_num(om, "mc2"));
    }
    if (r->suite_res) {
        const YaSuiteResult *s = r->suite_res;
        fprintf(fp, "\nprompt suite (%s, %zu items, %d runs incl. rotations)\n", r->prompts_path, r->suite->n, s->total);
        fprintf(fp, "  %-28s %6s %6s %8s %17s", "category", "passed", "runs", "rate", "95% Wilson CI");
        if (r->suite_base) fprintf(fp, " %8s", "base");
        fputc('\n', fp);
        for (size_t c = 0; c < s->n_cats; c++) {
            fprintf(fp, "  %-28s %6d %6d %8.3f [%6.3f, %6.3f]", s->cats[c].name, s->cats[c].passed, s->cats[c].n,
                    s->cats[c].rate, s->cats[c].lo, s->cats[c].hi);
            if (r->suite_base && c < r->suite_base->n_cats) fprintf(fp, " %8.3f", r->suite_base->cats[c].rate);
            fputc('\n', fp);
        }
        fprintf(fp, "  %-28s %6d %6d %8.3f [%6.3f, %6.3f]", "all", s->passed, s->total, s->rate, s->lo, s->hi);
        if (r->suite_base) fprintf(fp, " %8.3f", r->suite_base->rate);
        fputc('\n', fp);
        const json_t *os = r->compare ? json_object_get(r->compare, "prompt_suite") : NULL;
        if (os) fprintf(fp, "  vs compare: pass rate %+.3f\n", s->rate - get_num(os, "pass_rate"));
        if (s->max_choices) {
            fprintf(fp, "  mc chosen positions:");
            for (int p = 0; p < s->max_choices; p++) fprintf(fp, " %c=%d", 'A' + p, s->position_counts[p]);
            fprintf(fp, " none=%d\n", s->position_counts[26]);
        }
    }
}

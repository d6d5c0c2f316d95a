/* perplexity.c — held-out perplexity by group (SPEC §11.2).
 *
 * Each val record goes through the training data loader (so the ids, BOS/EOS,
 * truncation and supervised targets are exactly those training sees), then
 * through the model in chunks with the KV cache; the NLL of every supervised
 * target is summed in double. Groups pool tokens (NLL = Σnll / Σtokens), and
 * the 95% intervals are percentile bootstraps over samples from named,
 * seeded ya_rng streams, so a report is reproducible bit for bit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval_internal.h" // defines: ya_eval_row_nll
#include "your_ai/eval.h" // defines: YaPplSamples, YaPplGroup, ya_ppl_collect, ya_ppl_groups
#include "your_ai/jsonl.h"
#include "your_ai/rng.h"

enum { PPL_CHUNK = 128 }; /* forward chunk: bounds the [chunk, V] logits buffer */

YaAuthBand ya_auth_band(double w) {
    if (isnan(w)) return YA_BAND_NONE;
    if (w < 0.3) return YA_BAND_LOW;
    if (w > 0.7) return YA_BAND_HIGH;
    return YA_BAND_MID;
}

const char *ya_auth_band_name(YaAuthBand b) {
    switch (b) {
    case YA_BAND_LOW: return "low";
    case YA_BAND_MID: return "mid";
    case YA_BAND_HIGH: return "high";
    default: return "none";
    }
}

void ya_ppl_samples_free(YaPplSamples *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) free(s->source_type ? s->source_type[i] : NULL);
    free(s->nll);
    free(s->n_tok);
    free(s->w);
    free(s->source_type);
    free(s->line);
    free(s->file);
    memset(s, 0, sizeof *s);
}

/* ---- per-line metadata the loader does not keep -------------------------------- */

typedef struct LineMeta {
    char *source_type; /* NULL when absent */
    double w;          /* NaN when absent */
} LineMeta;

typedef struct FileMeta {
    LineMeta *lines; // [n_lines + 1], indexed by 1-based line number
    uint64_t n_lines;
} FileMeta;

static void file_meta_free(FileMeta *f) {
    for (uint64_t i = 0; f->lines && i <= f->n_lines; i++) free(f->lines[i].source_type);
    free(f->lines);
}

/* Reads source_type and auth_weight of every valid line of path. */
static int file_meta_load(const char *path, FileMeta *out, YaError *err) {
    YaJsonlReader r;
    memset(out, 0, sizeof *out);
    if (ya_jsonl_open(&r, path, err) != YA_OK) return YA_ERR;
    uint64_t cap = 0;
    int rc = YA_OK;
    for (;;) {
        json_t *obj = NULL;
        char reason[256];
        YaJsonlResult res = ya_jsonl_next(&r, &obj, reason, sizeof reason, err);
        if (res == YA_JSONL_EOF) break;
        if (res == YA_JSONL_IOERR) {
            rc = YA_ERR;
            break;
        }
        if (r.line_no + 1 > cap) {
            uint64_t nc = cap ? cap * 2 : 1024;
            while (nc < r.line_no + 1) nc *= 2;
            LineMeta *nl = realloc(out->lines, nc * sizeof *nl);
            if (!nl) {
                json_decref(obj);
                rc = ya_fail(err, YA_ERR, "out of memory");
                break;
            }
            for (uint64_t i = cap; i < nc; i++) nl[i] = (LineMeta){NULL, NAN};
            out->lines = nl;
            cap = nc;
        }
        out->n_lines = r.line_no;
        if (res != YA_JSONL_OBJECT) continue; /* the loader reports bad lines itself */
        LineMeta *lm = &out->lines[r.line_no];
        json_t *st = json_object_get(obj, "source_type");
        if (json_is_string(st) && !(lm->source_type = strdup(json_string_value(st)))) rc = ya_fail(err, YA_ERR, "out of memory");
        json_t *w = json_object_get(obj, "auth_weight");
        if (json_is_number(w)) lm->w = json_number_value(w);
        json_decref(obj);
        if (rc) break;
    }
    if (rc == YA_OK && !out->lines) { /* empty file: the loader will say so */
        out->lines = calloc(1, sizeof *out->lines);
        if (!out->lines) rc = ya_fail(err, YA_ERR, "out of memory");
    }
    ya_jsonl_close(&r);
    if (rc) file_meta_free(out);
    return rc;
}

/* ---- NLL of one sample ----------------------------------------------------------- */

/* Σ −log softmax(logits[t])[targets[t]] over targets ≥ 0 of ids[0..T), forwarding
 * in chunks so only [PPL_CHUNK, V] logits are alive. */
static int sample_nll(const YaModel *m, YaInferState *st, float *logits, const int32_t *ids, const int32_t *targets,
                      int T, double *nll, uint32_t *n_tok, YaError *err) {
    const int V = m->cfg.vocab_size;
    double sum = 0.0, row_nll[PPL_CHUNK]; // [PPL_CHUNK]
    uint32_t count = 0;
    ya_infer_state_reset(st);
    for (int t0 = 0; t0 < T; t0 += PPL_CHUNK) {
        int c = T - t0 < PPL_CHUNK ? T - t0 : PPL_CHUNK;
        if (ya_model_forward(m, st, ids + t0, c, 1, logits, err) != YA_OK) return YA_ERR;
        /* Rows in parallel into row_nll, then summed in order: the result does not depend on the thread count. */
#pragma omp parallel for schedule(static)
        for (int i = 0; i < c; i++) {
            int32_t y = targets[t0 + i];
            row_nll[i] = y < 0 ? 0.0 : ya_eval_row_nll(logits + (size_t)i * V, V, y);
        }
        for (int i = 0; i < c; i++) {
            if (targets[t0 + i] < 0) continue;
            sum += row_nll[i];
            count++;
        }
    }
    *nll = sum;
    *n_tok = count;
    return YA_OK;
}

static void dump_sample(FILE *fp, const char *path, uint64_t line, const int32_t *ids, const int32_t *targets, int T,
                        double nll, uint32_t n_tok) {
    json_t *o = json_object(), *ji = json_array(), *jt = json_array();
    for (int t = 0; t < T; t++) {
        json_array_append_new(ji, json_integer(ids[t]));
        json_array_append_new(jt, json_integer(targets[t]));
    }
    json_object_set_new(o, "file", json_string(path));
    json_object_set_new(o, "line", json_integer((json_int_t)line));
    json_object_set_new(o, "ids", ji);
    json_object_set_new(o, "targets", jt);
    json_object_set_new(o, "nll", json_real(nll));
    json_object_set_new(o, "n_tok", json_integer(n_tok));
    ya_json_write(fp, o);
    fputc('\n', fp);
    json_decref(o);
}

int ya_ppl_collect(const YaModel *m, const YaTokenizer *tok, const YaDataConfig *cfg, const char *const *paths,
                   size_t n_paths, FILE *dump_ids, YaPplSamples *out, YaError *err) {
    return ya_ppl_collect_on(m, YA_DEVICE_CPU, 0, tok, cfg, paths, n_paths, dump_ids, out, err);
}

int ya_ppl_collect_on(const YaModel *m, YaDevice device, int gpu, const YaTokenizer *tok, const YaDataConfig *cfg_in,
                      const char *const *paths, size_t n_paths, FILE *dump_ids, YaPplSamples *out, YaError *err) {
    memset(out, 0, sizeof *out);
    YaDataConfig cfg = *cfg_in;
    cfg.shuffle = 0;
    cfg.batch_size = 1;
    cfg.mode = YA_BATCH_PAD;
    cfg.cross_epochs = 0;
    cfg.vocab_size = m->cfg.vocab_size;

    YaDataLoader *dl = NULL;
    YaInferState *st = NULL;
    float *logits = NULL;
    FileMeta *meta = calloc(n_paths ? n_paths : 1, sizeof *meta);
    int rc = meta ? YA_OK : ya_fail(err, YA_ERR, "out of memory");
    for (size_t f = 0; rc == YA_OK && f < n_paths; f++) rc = file_meta_load(paths[f], &meta[f], err);
    if (rc == YA_OK) rc = ya_data_open(&cfg, paths, n_paths, tok, NULL, &dl, err);
    if (rc) goto done;

    const uint64_t n = ya_data_stats(dl)->n_samples;
    out->nll = calloc(n, sizeof *out->nll);
    out->n_tok = calloc(n, sizeof *out->n_tok);
    out->w = calloc(n, sizeof *out->w);
    out->source_type = calloc(n, sizeof *out->source_type);
    out->line = calloc(n, sizeof *out->line);
    out->file = calloc(n, sizeof *out->file);
    logits = malloc((size_t)PPL_CHUNK * (size_t)m->cfg.vocab_size * sizeof *logits); // [PPL_CHUNK, V]
    if (!out->nll || !out->n_tok || !out->w || !out->source_type || !out->line || !out->file || !logits) {
        rc = ya_fail(err, YA_ERR, "out of memory");
        goto done;
    }
    /* The KV cache only needs the longest kept sample, not max_seq_len. */
    int longest = 1;
    for (uint64_t i = 0; i < n; i++) {
        double w_, h_;
        uint32_t ns, len;
        ya_data_sample_info(dl, i, &w_, &h_, &ns, &len);
        longest = (int)len > longest ? (int)len : longest;
    }
    if (longest > cfg.max_seq_len) longest = cfg.max_seq_len;
    if ((rc = ya_infer_state_new_on(m, device, gpu, longest, PPL_CHUNK, &st, err)) != YA_OK) goto done;

    for (uint64_t k = 0; k < n; k++) {
        const YaBatch *b;
        if ((rc = ya_data_next(dl, &b, err)) != YA_OK) goto done;
        if (b->n_samples != 1 || b->B != 1) {
            rc = ya_fail(err, YA_ERR, "internal: evaluation batch holds %d samples, expected 1", b->n_samples);
            goto done;
        }
        const YaBatchSample *s = &b->samples[0];
        const char *path;
        uint64_t line;
        ya_data_sample_source(dl, s->index, &path, &line);
        uint32_t f = 0;
        while (f < n_paths && strcmp(paths[f], path) != 0) f++;
        if (f == n_paths) {
            rc = ya_fail(err, YA_ERR, "internal: the loader names file '%s', which is not among the --data paths", path);
            goto done;
        }
        const int T = b->row_len[0];
        const int32_t *ids = b->ids;         // [T]
        const int32_t *targets = b->targets; // [T]
        if ((rc = sample_nll(m, st, logits, ids, targets, T, &out->nll[k], &out->n_tok[k], err)) != YA_OK) {
            ya_error_prefix(err, "%s:%llu", path, (unsigned long long)line);
            goto done;
        }
        out->line[k] = line;
        out->file[k] = f;
        out->w[k] = NAN;
        if (line <= meta[f].n_lines) {
            const LineMeta *lm = &meta[f].lines[line];
            out->w[k] = lm->w;
            if (lm->source_type && !(out->source_type[k] = strdup(lm->source_type))) {
                rc = ya_fail(err, YA_ERR, "out of memory");
                goto done;
            }
        }
        out->n = k + 1;
        if (dump_ids) dump_sample(dump_ids, path, line, ids, targets, T, out->nll[k], out->n_tok[k]);
    }
done:
    if (rc) ya_ppl_samples_free(out);
    for (size_t f = 0; meta && f < n_paths; f++) file_meta_free(&meta[f]);
    free(meta);
    free(logits);
    ya_infer_state_free(st);
    ya_data_close(dl);
    return rc;
}

/* ---- bootstrap ----------------------------------------------------------------------- */

double ya_quantile_sorted(const double *v, size_t n, double q) {
    if (n == 0) return NAN;
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    double frac = pos - (double)lo;
    return v[lo] + (v[hi] - v[lo]) * frac;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int ya_bootstrap_pooled(const double *nll, const double *base_nll, const uint32_t *n_tok, const size_t *idx, size_t n,
                        int B, uint64_t seed, const char *tag, double *lo, double *hi, double *draws, YaError *err) {
    *lo = *hi = NAN;
    if (B <= 0 || n == 0) return YA_OK;
    double *stat = malloc((size_t)B * sizeof *stat); // [B]
    if (!stat) return ya_fail(err, YA_ERR, "out of memory");
    YaRng rng;
    ya_rng_seed(&rng, seed, tag);
    for (int b = 0; b < B; b++) {
        double s = 0.0, sb = 0.0;
        uint64_t tokens = 0;
        for (size_t i = 0; i < n; i++) {
            size_t j = idx[ya_rng_below(&rng, n)];
            s += nll[j];
            if (base_nll) sb += base_nll[j];
            tokens += n_tok[j];
        }
        /* A resample of samples that all have zero targets cannot happen: such samples are dropped by the loader. */
        stat[b] = base_nll ? (s - sb) / (double)tokens : s / (double)tokens;
    }
    if (draws) memcpy(draws, stat, (size_t)B * sizeof *stat);
    qsort(stat, (size_t)B, sizeof *stat, cmp_double);
    *lo = ya_quantile_sorted(stat, (size_t)B, 0.025);
    *hi = ya_quantile_sorted(stat, (size_t)B, 0.975);
    free(stat);
    return YA_OK;
}

/* ---- groups ----------------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Fills g from samples idx[0..k). delta_draws (B entries, may be NULL) receives the paired Δ draws. */
static int fill_group(YaPplGroup *g, const char *kind, const char *name, const YaPplSamples *t, const YaPplSamples *b,
                      const size_t *idx, size_t k, const YaPplOptions *opt, double *delta_draws, YaError *err) {
    memset(g, 0, sizeof *g);
    snprintf(g->kind, sizeof g->kind, "%s", kind);
    snprintf(g->name, sizeof g->name, "%s", name);
    double s = 0.0, sb = 0.0;
    uint64_t tokens = 0;
    for (size_t i = 0; i < k; i++) {
        s += t->nll[idx[i]];
        if (b) sb += b->nll[idx[i]];
        tokens += t->n_tok[idx[i]];
    }
    g->n_samples = k;
    g->n_tokens = tokens;
    g->nll = s / (double)tokens;
    g->ppl = exp(g->nll);
    if (!isfinite(g->ppl)) /* a report must never carry "ppl": null for a number it could not compute */
        return ya_fail(err, YA_ERR, "perplexity of group %s/%s is not finite (mean NLL %g over %llu tokens)", kind, name,
                       g->nll, (unsigned long long)tokens);
    g->nll_lo = g->nll_hi = g->base_lo = g->base_hi = g->delta_lo = g->delta_hi = NAN;
    g->base_nll = g->base_ppl = g->delta = NAN;
    char tag[160];
    snprintf(tag, sizeof tag, "bootstrap:%s:%s", kind, name);
    /* The same tag for tuned, base and Δ: all three see the same resamples (paired). */
    if (ya_bootstrap_pooled(t->nll, NULL, t->n_tok, idx, k, opt->n_bootstrap, opt->seed, tag, &g->nll_lo, &g->nll_hi,
                            NULL, err))
        return YA_ERR;
    if (b) {
        g->has_base = 1;
        g->base_nll = sb / (double)tokens;
        g->base_ppl = exp(g->base_nll);
        if (!isfinite(g->base_ppl))
            return ya_fail(err, YA_ERR, "base model perplexity of group %s/%s is not finite (mean NLL %g over %llu tokens)",
                           kind, name, g->base_nll, (unsigned long long)tokens);
        g->delta = (s - sb) / (double)tokens; /* as the bootstrap draws compute it, so a one-sample group's
                                                * interval is exactly [Δ, Δ] */
        if (ya_bootstrap_pooled(b->nll, NULL, b->n_tok, idx, k, opt->n_bootstrap, opt->seed, tag, &g->base_lo,
                                &g->base_hi, NULL, err) ||
            ya_bootstrap_pooled(t->nll, b->nll, t->n_tok, idx, k, opt->n_bootstrap, opt->seed, tag, &g->delta_lo,
                                &g->delta_hi, delta_draws, err))
            return YA_ERR;
    }
    return YA_OK;
}

int ya_ppl_groups(const YaPplSamples *t, const YaPplSamples *b, const YaPplOptions *opt, YaPplGroup **groups_out,
                  size_t *n_out, YaDistrustSignal *signal, YaError *err) {
    *groups_out = NULL;
    *n_out = 0;
    if (signal) *signal = (YaDistrustSignal){0, NAN, NAN, NAN};
    if (t->n == 0) return ya_fail(err, YA_ERR, "no validation samples to evaluate");
    if (b) {
        if (b->n != t->n) return ya_fail(err, YA_ERR, "base and tuned runs saw %zu and %zu samples", b->n, t->n);
        for (size_t i = 0; i < t->n; i++)
            if (b->n_tok[i] != t->n_tok[i])
                return ya_fail(err, YA_ERR, "base and tuned runs disagree on sample %zu's token count", i);
    }
    const size_t n = t->n;
    const int B = opt->n_bootstrap > 0 ? opt->n_bootstrap : 0;
    size_t *idx = malloc(n * sizeof *idx);              // [n] members of the group being built
    char **types = malloc(n * sizeof *types);           // [n] distinct source types
    YaPplGroup *groups = calloc(n + 4, sizeof *groups); // all + ≤ n types + 3 bands
    double *dlow = B ? malloc((size_t)B * sizeof *dlow) : NULL, *dhigh = B ? malloc((size_t)B * sizeof *dhigh) : NULL;
    int rc = YA_OK, low_at = 0, high_at = 0; /* 1 + index of the low / high band group, 0 = absent */
    size_t ng = 0;
    if (!idx || !types || !groups || (B && (!dlow || !dhigh))) {
        rc = ya_fail(err, YA_ERR, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) idx[i] = i;
    if ((rc = fill_group(&groups[ng++], "all", "all", t, b, idx, n, opt, NULL, err))) goto done;

    if (opt->by_source_type) {
        size_t nt = 0;
        int has_none = 0;
        for (size_t i = 0; i < n; i++) {
            if (!t->source_type[i]) {
                has_none = 1;
                continue;
            }
            size_t j = 0;
            while (j < nt && strcmp(types[j], t->source_type[i]) != 0) j++;
            if (j == nt) types[nt++] = t->source_type[i];
        }
        qsort(types, nt, sizeof *types, cmp_str);
        for (size_t j = 0; j <= nt; j++) {
            if (j == nt && !has_none) break;
            const char *name = j < nt ? types[j] : NULL;
            size_t k = 0;
            for (size_t i = 0; i < n; i++)
                if (name ? (t->source_type[i] && strcmp(t->source_type[i], name) == 0) : !t->source_type[i]) idx[k++] = i;
            if ((rc = fill_group(&groups[ng++], "source_type", name ? name : "(none)", t, b, idx, k, opt, NULL, err)))
                goto done;
        }
    }
    if (opt->by_auth_band) {
        for (int band = YA_BAND_LOW; band <= YA_BAND_HIGH; band++) {
            size_t k = 0;
            for (size_t i = 0; i < n; i++)
                if ((int)ya_auth_band(t->w[i]) == band) idx[k++] = i;
            if (k == 0) continue;
            double *draws = band == YA_BAND_LOW ? dlow : band == YA_BAND_HIGH ? dhigh : NULL;
            if ((rc = fill_group(&groups[ng++], "auth_band", ya_auth_band_name((YaAuthBand)band), t, b, idx, k, opt, draws,
                                 err)))
                goto done;
            if (band == YA_BAND_LOW) low_at = (int)ng;
            if (band == YA_BAND_HIGH) high_at = (int)ng;
        }
    }
    if (signal && b && low_at && high_at) {
        signal->available = 1;
        signal->value = groups[low_at - 1].delta - groups[high_at - 1].delta;
        if (B) {
            for (int i = 0; i < B; i++) dlow[i] -= dhigh[i];
            qsort(dlow, (size_t)B, sizeof *dlow, cmp_double);
            signal->lo = ya_quantile_sorted(dlow, (size_t)B, 0.025);
            signal->hi = ya_quantile_sorted(dlow, (size_t)B, 0.975);
        }
    }
done:
    free(idx);
    free(types);
    free(dlow);
    free(dhigh);
    if (rc) {
        free(groups);
        return rc;
    }
    *groups_out = groups;
    *n_out = ng;
    return YA_OK;
}

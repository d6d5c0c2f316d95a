/* prepare.c — the `your_ai prepare` pipeline and its stats report (SPEC §5.2, §5.3).
 *
 *   files (sorted) ─▶ parse ─▶ extract ─▶ dedup ─▶ cap per file ─▶ score ─▶ min size
 *        ─▶ rebalance ─▶ shuffle ─▶ stratified split ─▶ train.jsonl, val.jsonl, stats.json
 *
 * Each step lives in its own prepare_*.c; this file strings them together,
 * keeps the counts the report needs (nothing is dropped without being
 * counted), and writes the three outputs atomically. Same inputs, flags and
 * seed → byte-identical outputs. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "your_ai/fileio.h"
#include "your_ai/prepare.h"
#include "your_ai/scorer.h"
#include "your_ai/sha256.h"

/* Recorded in every example's `scorer` field: the citation scorer's version, or
 * this name when --no-dynamic-scoring copies the prior table. */
#define PREPARE_SCORER_DYNAMIC YA_SCORER_VERSION
#define PREPARE_SCORER_STATIC "prior-table"

enum { W_BINS = 10, H_BINS = 11 }; /* w in 0.1-wide bins; H in 1-bit bins, the last is >= 10 */

typedef struct {
    char name[256];
    char type[64];
    double prior_w;
    size_t lines, bad_lines, no_text, duplicates, unique, cap, kept;
} FileInfo;

typedef struct {
    json_t *raw;      /* the parsed record: metadata for the scorer and the output */
    char *text;       /* extracted text (before the 8192-code-point truncation) */
    size_t text_len;
    uint8_t digest[32]; /* SHA-256 of the normalised text: dedup key and id */
    size_t file;      /* index into the FileInfo array */
    double w, h;      /* rounded to 4 decimals */
    long long n_cit, n_prim;
    size_t group;     /* stratum: index of the source type in sorted order */
} Record;

void ya_prepare_options_default(YaPrepareOptions *o) {
    memset(o, 0, sizeof *o);
    o->train_size = 80000;
    o->val_size = 20000;
    o->min_examples = 1000;
    o->seed = 42;
    o->dynamic_scoring = 1;
    o->rebalance = 1;
    o->stratify = 1;
    o->on_bad_line = YA_BAD_LINE_SKIP;
}


/* ---- input files ------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Sorted names of the non-empty regular *.jsonl files in dir. */
static int list_inputs(const char *dir, char ***names, size_t *count, YaError *err) {
    *names = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) return ya_fail(err, YA_ERR, "%s: cannot open input directory: %s", dir, strerror(errno));
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !ends_with(e->d_name, ".jsonl")) continue;
        char path[4096];
        struct stat st;
        if (ya_path_join(path, sizeof path, dir, e->d_name, err) != YA_OK) break;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) continue;
        if (strlen(e->d_name) >= sizeof ((FileInfo *)0)->name) {
            ya_fail(err, YA_ERR, "%s: file name too long", path);
            break;
        }
        if (*count == cap) {
            cap = cap ? cap * 2 : 16;
            char **p = realloc(*names, cap * sizeof *p);
            if (!p) {
                ya_fail(err, YA_ERR, "out of memory listing %s", dir);
                break;
            }
            *names = p;
        }
        if (!((*names)[(*count)++] = strdup(e->d_name))) {
            (*count)--;
            ya_fail(err, YA_ERR, "out of memory listing %s", dir);
            break;
        }
    }
    closedir(d);
    if (err && err->code) return err->code;
    if (*count) qsort(*names, *count, sizeof **names, cmp_str);
    return YA_OK;
}

/* ---- the record list --------------------------------------------------------- */

typedef struct {
    Record *items;
    size_t count, cap;
} RecordList;

static int push_record(RecordList *l, const Record *r) {
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        Record *p = realloc(l->items, cap * sizeof *p);
        if (!p) return -1;
        l->items = p;
        l->cap = cap;
    }
    l->items[l->count++] = *r;
    return 0;
}

static void release_record(Record *r) {
    json_decref(r->raw);
    free(r->text);
    r->raw = NULL;
    r->text = NULL;
}

/* Reads one file: parse, extract, dedup (against every earlier file too), cap. */
static int read_file(const YaPrepareOptions *o, const char *path, size_t file_idx, FileInfo *fi, YaDigestSet *seen,
                     YaBadLines *bad, RecordList *all, YaError *err) {
    YaJsonlReader rd;
    if (ya_jsonl_open(&rd, path, err) != YA_OK) return YA_ERR;
    RecordList mine = {0};
    int rc = YA_OK;
    for (;;) {
        json_t *obj;
        char reason[512];
        YaJsonlResult res = ya_jsonl_next(&rd, &obj, reason, sizeof reason, err);
        if (res == YA_JSONL_EOF) break;
        if (res == YA_JSONL_IOERR) {
            rc = YA_ERR;
            break;
        }
        fi->lines++;
        if (res == YA_JSONL_BAD) {
            fi->bad_lines++;
            if ((rc = ya_bad_line(bad, path, rd.line_no, reason, err)) != YA_OK) break;
            continue;
        }
        Record r = {.raw = obj, .file = file_idx};
        int got = ya_prepare_extract_text(obj, &r.text, &r.text_len);
        if (got < 0 || (got == 1 && ya_prepare_dedup_key(r.text, r.text_len, r.digest) != YA_OK)) {
            release_record(&r);
            rc = ya_fail(err, YA_ERR, "%s:%llu: out of memory", path, (unsigned long long)rd.line_no);
            break;
        }
        if (got == 0) {
            fi->no_text++;
            release_record(&r);
            continue;
        }
        int fresh = ya_digest_set_insert(seen, r.digest);
        if (fresh < 0 || (fresh == 1 && push_record(&mine, &r) != 0)) {
            release_record(&r);
            rc = ya_fail(err, YA_ERR, "%s:%llu: out of memory", path, (unsigned long long)rd.line_no);
            break;
        }
        if (fresh == 0) {
            fi->duplicates++;
            release_record(&r);
        }
    }
    ya_jsonl_close(&rd);
    fi->unique = mine.count;
    fi->cap = ya_prepare_cap_for_prior(fi->prior_w, o->train_size);
    size_t *keep = NULL;
    if (rc == YA_OK) {
        keep = malloc((mine.count + 1) * sizeof *keep); // [min(unique, cap)]
        size_t k = keep ? ya_prepare_cap_select(o->seed, fi->name, mine.count, fi->cap, keep) : (size_t)-1;
        if (k == (size_t)-1) {
            rc = ya_fail(err, YA_ERR, "%s: out of memory", path);
        } else {
            fi->kept = k;
            size_t j = 0;
            for (size_t i = 0; i < mine.count; i++) {
                if (j < k && keep[j] == i) {
                    j++;
                    if (rc == YA_OK && push_record(all, &mine.items[i]) == 0) continue;
                    if (rc == YA_OK) rc = ya_fail(err, YA_ERR, "%s: out of memory", path);
                }
                release_record(&mine.items[i]);
            }
            mine.count = 0;
        }
    }
    for (size_t i = 0; i < mine.count; i++) release_record(&mine.items[i]);
    free(mine.items);
    free(keep);
    return rc;
}

/* ---- scoring ------------------------------------------------------------------- */

static int score_all(const YaPrepareOptions *o, const FileInfo *files, Record *recs, size_t n, YaError *err) {
    if (!o->dynamic_scoring) {
        for (size_t i = 0; i < n; i++) {
            double w, h;
            ya_source_prior(files[recs[i].file].type, &w, &h, NULL);
            recs[i].w = ya_round4(w);
            recs[i].h = ya_round4(h);
        }
        return YA_OK;
    }
    YaScorer *scorer = NULL;
    if (ya_scorer_new(&scorer, err) != YA_OK) return YA_ERR;
    size_t first_bad = n; /* the lowest failing index reports, whatever the thread timing */
    YaError first_err = {0};
#pragma omp parallel for schedule(dynamic, 16)
    for (size_t i = 0; i < n; i++) {
        YaScoreResult res;
        YaError e = {0};
        Record *r = &recs[i];
        if (ya_score_hybrid(scorer, r->text, r->text_len, r->raw, files[r->file].type, &res, &e) != YA_OK) {
#pragma omp critical(prepare_score_error)
            if (i < first_bad) {
                first_bad = i;
                first_err = e;
            }
            continue;
        }
        r->w = ya_round4(res.authority_weight);
        r->h = ya_round4(res.provenance_entropy);
        r->n_cit = res.citation_count;
        r->n_prim = res.primary_source_count;
    }
    ya_scorer_free(scorer);
    if (first_bad < n) {
        if (err) *err = first_err;
        return ya_error_prefix(err, "scoring a record of %s", files[recs[first_bad].file].name);
    }
    return YA_OK;
}

/* ---- output records -------------------------------------------------------------- */

static json_t *example_json(const YaPrepareOptions *o, const FileInfo *fi, const Record *r) {
    json_t *ex = json_object();
    const char *trivium = "unknown";
    double pw, ph;
    ya_source_prior(fi->type, &pw, &ph, &trivium);
    size_t cut = ya_utf8_prefix_bytes(r->text, r->text_len, YA_PREPARE_TEXT_MAX_CP);
    char hex[65];
    ya_digest_to_hex(r->digest, hex);
    hex[16] = '\0'; /* a 64-bit id: collisions need ~4e9 documents */
    int bad = !ex;
    bad |= json_object_set_new(ex, "text", json_stringn(r->text, cut));
    bad |= json_object_set_new(ex, "auth_weight", json_real(r->w));
    bad |= json_object_set_new(ex, "prov_entropy", json_real(r->h));
    bad |= json_object_set_new(ex, "source_type", json_string(fi->type));
    if (o->dynamic_scoring) {
        bad |= json_object_set_new(ex, "citation_count", json_integer(r->n_cit));
        bad |= json_object_set_new(ex, "primary_source_count", json_integer(r->n_prim));
    }
    bad |= json_object_set_new(ex, "trivium_category", json_string(trivium));
    bad |= json_object_set_new(ex, "scoring_method", json_string(o->dynamic_scoring ? "hybrid" : "static"));
    bad |= json_object_set_new(ex, "scorer", json_string(o->dynamic_scoring ? PREPARE_SCORER_DYNAMIC : PREPARE_SCORER_STATIC));
    bad |= json_object_set_new(ex, "id", json_string(hex));
    bad |= json_object_set_new(ex, "metadata", ya_prepare_metadata(r->raw));
    if (bad) {
        json_decref(ex);
        return NULL;
    }
    return ex;
}

static int write_line(YaAtomicFile *f, const json_t *v, YaError *err) {
    if (ya_json_write(f->fp, v) != 0 || fputc('\n', f->fp) == EOF)
        return ya_fail(err, YA_ERR, "%s: write failed", f->path);
    return YA_OK;
}

/* ---- stats ---------------------------------------------------------------------- */

typedef struct {
    size_t examples; /* after rebalance, before the split */
    size_t train, val;
    double w_sum, h_sum;
    size_t w_hist[W_BINS];
} GroupStats;

static size_t w_bin(double w) {
    long b = (long)floor(w * 10.0 + 1e-9); /* 0.3 lands in [0.3, 0.4), not [0.2, 0.3) */
    return (size_t)(b < 0 ? 0 : b >= W_BINS ? W_BINS - 1 : b);
}
static size_t h_bin(double h) {
    long b = (long)floor(h);
    return (size_t)(b < 0 ? 0 : b >= H_BINS ? H_BINS - 1 : b);
}

static json_t *counts_array(const size_t *c, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, json_integer((json_int_t)c[i]));
    return a;
}

static json_t *group_json(const GroupStats *g, size_t total) {
    size_t n = g->train + g->val;
    json_t *o = json_object();
    json_object_set_new(o, "examples", json_integer((json_int_t)g->examples));
    json_object_set_new(o, "train", json_integer((json_int_t)g->train));
    json_object_set_new(o, "val", json_integer((json_int_t)g->val));
    json_object_set_new(o, "share", json_real(ya_round4(total ? (double)n / (double)total : 0.0)));
    json_object_set_new(o, "w_mean", json_real(ya_round4(n ? g->w_sum / (double)n : 0.0)));
    json_object_set_new(o, "h_mean", json_real(ya_round4(n ? g->h_sum / (double)n : 0.0)));
    json_object_set_new(o, "w_histogram", counts_array(g->w_hist, W_BINS));
    return o;
}

static json_t *bands_json(const size_t c[3]) {
    json_t *o = json_object();
    for (int b = 0; b < 3; b++) json_object_set_new(o, ya_band_names[b], json_integer((json_int_t)c[b]));
    return o;
}

/* ---- the pipeline ------------------------------------------------------------------ */

typedef struct {
    char **names;
    size_t n_names;
    FileInfo *files;
    size_t n_files;
    RecordList recs;
    YaDigestSet seen;
    char (*types)[64]; /* sorted distinct source types (strata) */
    size_t n_types;
    size_t *keep, *order;
    size_t *group_of;
    unsigned char *assign;
    double *w;
    YaSplitGroup *split_groups;
    GroupStats *by_type;
    json_t *skipped; /* names of files with no source type */
    json_t *trivium; /* trivium category → examples written */
} Pipeline;

static void pipeline_free(Pipeline *p) {
    for (size_t i = 0; i < p->n_names; i++) free(p->names[i]);
    free(p->names);
    free(p->files);
    for (size_t i = 0; i < p->recs.count; i++) release_record(&p->recs.items[i]);
    free(p->recs.items);
    ya_digest_set_free(&p->seen);
    free(p->types);
    free(p->keep);
    free(p->order);
    free(p->group_of);
    free(p->assign);
    free(p->w);
    free(p->split_groups);
    free(p->by_type);
    json_decref(p->skipped);
    json_decref(p->trivium);
}

static int cmp_type(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

static void print_table(FILE *out, const YaPrepareOptions *o, const Pipeline *p, const YaRebalanceReport *rb,
                        size_t n_examples, size_t n_train, size_t n_val, const GroupStats band[3],
                        const size_t w_hist[W_BINS], size_t n_skipped) {
    int width = 4; /* the file column fits the longest name */
    for (size_t f = 0; f < p->n_files; f++)
        if ((int)strlen(p->files[f].name) > width) width = (int)strlen(p->files[f].name);
    fprintf(out, "%-*s %-22s %8s %6s %8s %6s %8s %8s\n", width, "file", "source_type", "lines", "bad", "no_text", "dup",
            "unique", "kept");
    for (size_t f = 0; f < p->n_files; f++) {
        const FileInfo *fi = &p->files[f];
        fprintf(out, "%-*s %-22s %8zu %6zu %8zu %6zu %8zu %8zu%s\n", width, fi->name, fi->type, fi->lines, fi->bad_lines,
                fi->no_text, fi->duplicates, fi->unique, fi->kept, fi->kept < fi->unique ? " (capped)" : "");
    }
    if (n_skipped) fprintf(out, "%zu file(s) skipped: no source type from the file name (use --source-type FILE=TYPE)\n", n_skipped);
    fprintf(out, "\nexamples after extraction, dedup and caps: %zu\n", n_examples);
    if (!o->rebalance) fprintf(out, "rebalance: off\n");
    else if (!rb->applied)
        fprintf(out, "rebalance: not needed (low %zu of %zu, share >= 20%%)\n", rb->before[0], n_examples);
    else
        fprintf(out, "rebalance: T=%zu  low %zu kept, mid %zu -> %zu (target %zu), high %zu -> %zu (target %zu)\n",
                rb->target_total, rb->after[0], rb->before[1], rb->after[1], rb->mid_target, rb->before[2], rb->after[2],
                rb->high_target);
    fprintf(out, "split (%s): train %zu, val %zu\n\n", o->stratify ? "stratified by source_type" : "unstratified", n_train, n_val);
    size_t total = n_train + n_val;
    fprintf(out, "%-22s %8s %8s %7s %7s %7s\n", "source_type", "train", "val", "share", "w_mean", "h_mean");
    for (size_t t = 0; t < p->n_types; t++) {
        const GroupStats *g = &p->by_type[t];
        size_t n = g->train + g->val;
        fprintf(out, "%-22s %8zu %8zu %6.1f%% %7.4f %7.4f\n", p->types[t], g->train, g->val,
                total ? 100.0 * (double)n / (double)total : 0.0, n ? g->w_sum / (double)n : 0.0, n ? g->h_sum / (double)n : 0.0);
    }
    static const char *const targets[3] = {"25-30%", "25-35%", "35-40%"};
    fprintf(out, "\n%-22s %8s %8s %7s %7s %7s  %s\n", "band", "train", "val", "share", "w_mean", "h_mean", "target");
    for (int b = 0; b < 3; b++) {
        const GroupStats *g = &band[b];
        size_t n = g->train + g->val;
        fprintf(out, "%-22s %8zu %8zu %6.1f%% %7.4f %7.4f  %s\n", ya_band_names[b], g->train, g->val,
                total ? 100.0 * (double)n / (double)total : 0.0, n ? g->w_sum / (double)n : 0.0,
                n ? g->h_sum / (double)n : 0.0, targets[b]);
    }
    fprintf(out, "\nw histogram:");
    for (int i = 0; i < W_BINS; i++) fprintf(out, " [%.1f,%.1f) %zu%s", i / 10.0, (i + 1) / 10.0, w_hist[i], i + 1 < W_BINS ? "," : "\n");
    if (total && (double)(band[0].train + band[0].val) / (double)total < 0.20)
        fprintf(out, "warning: low-authority share is below 20%%\n");
}

int ya_prepare_run(const YaPrepareOptions *o, FILE *report, YaError *err) {
    Pipeline p = {0};
    ya_digest_set_init(&p.seen);
    YaAtomicFile out_train = {0}, out_val = {0}, out_stats = {0};
    json_t *stats = NULL;
    char *stats_text = NULL;
    int rc = YA_OK;
#define TRY(x)                         \
    do {                               \
        if ((rc = (x)) != YA_OK) goto done; \
    } while (0)

    if (o->train_size == 0) TRY(ya_fail(err, YA_ERR_USAGE, "--train-size must be at least 1"));
    for (size_t i = 0; i < o->n_overrides; i++) {
        double w, h;
        if (!ya_source_prior(o->overrides[i].type, &w, &h, NULL))
            TRY(ya_fail(err, YA_ERR_USAGE,
                        "--source-type %s=%s: unknown source type '%s' (expected a key of the prior table, SPEC §4.7, "
                        "e.g. historical_newspaper, academic_paper, government)",
                        o->overrides[i].file, o->overrides[i].type, o->overrides[i].type));
    }
    TRY(list_inputs(o->input_dir, &p.names, &p.n_names, err));
    for (size_t i = 0; i < o->n_overrides; i++) {
        int found = 0;
        for (size_t f = 0; f < p.n_names && !found; f++) found = strcmp(p.names[f], o->overrides[i].file) == 0;
        if (!found)
            TRY(ya_fail(err, YA_ERR_USAGE, "--source-type %s=%s: no non-empty file %s/%s", o->overrides[i].file,
                        o->overrides[i].type, o->input_dir, o->overrides[i].file));
    }

    /* 1–4: source types, parse, extract, dedup, caps — file by file in sorted order. */
    p.files = calloc(p.n_names + 1, sizeof *p.files);
    if (!p.files) TRY(ya_fail(err, YA_ERR, "out of memory"));
    YaBadLines bad = {.policy = o->on_bad_line};
    p.skipped = json_array();
    p.trivium = json_object();
    for (size_t i = 0; i < p.n_names; i++) {
        const char *type = ya_prepare_resolve_source_type(p.names[i], o->overrides, o->n_overrides);
        if (!type) {
            json_array_append_new(p.skipped, json_string(p.names[i]));
            continue;
        }
        FileInfo *fi = &p.files[p.n_files];
        snprintf(fi->name, sizeof fi->name, "%s", p.names[i]);
        snprintf(fi->type, sizeof fi->type, "%s", type);
        double h;
        ya_source_prior(type, &fi->prior_w, &h, NULL);
        char path[4096];
        TRY(ya_path_join(path, sizeof path, o->input_dir, p.names[i], err));
        TRY(read_file(o, path, p.n_files, fi, &p.seen, &bad, &p.recs, err));
        p.n_files++;
    }
    size_t n_skipped = json_array_size(p.skipped);
    ya_bad_lines_summary(&bad, "prepare");

    size_t n = p.recs.count;
    if (n == 0)
        TRY(ya_fail(err, YA_ERR,
                    "%s: no examples: %zu input file(s) with a known source type, %zu skipped; every record was "
                    "bad, too short (< %d code points) or a duplicate",
                    o->input_dir, p.n_files, n_skipped, YA_PREPARE_TEXT_MIN_CP));

    /* 5: score. 7: minimum size. */
    TRY(score_all(o, p.files, p.recs.items, n, err));
    if (n < o->min_examples)
        TRY(ya_fail(err, YA_ERR,
                    "%s: only %zu examples after extraction, dedup and caps; at least %zu are required "
                    "(--min-examples)",
                    o->input_dir, n, o->min_examples));

    /* 8: rebalance on the rounded weights. */
    p.w = malloc(n * sizeof *p.w);         // [n]
    p.keep = malloc(n * sizeof *p.keep);   // [n] indices into recs
    if (!p.w || !p.keep) TRY(ya_fail(err, YA_ERR, "out of memory"));
    for (size_t i = 0; i < n; i++) p.w[i] = p.recs.items[i].w;
    YaRebalanceReport rb = {0};
    size_t n_keep = n;
    if (o->rebalance) {
        TRY(ya_prepare_rebalance(p.w, n, o->seed, p.keep, &n_keep, &rb, err));
    } else {
        for (size_t i = 0; i < n; i++) p.keep[i] = i;
        for (size_t i = 0; i < n; i++) rb.before[ya_prepare_band(p.w[i])]++;
        memcpy(rb.after, rb.before, sizeof rb.after);
    }

    /* 9: shuffle. */
    ya_prepare_shuffle(o->seed, p.keep, n_keep);

    /* 10: split, stratified by source type (strata in sorted type order). */
    p.types = calloc(p.n_files + 1, sizeof *p.types);
    if (!p.types) TRY(ya_fail(err, YA_ERR, "out of memory"));
    for (size_t f = 0; f < p.n_files; f++) {
        int dup = 0;
        for (size_t t = 0; t < p.n_types && !dup; t++) dup = strcmp(p.types[t], p.files[f].type) == 0;
        if (!dup) memcpy(p.types[p.n_types++], p.files[f].type, 64);
    }
    qsort(p.types, p.n_types, sizeof *p.types, cmp_type);
    for (size_t i = 0; i < n; i++) {
        Record *r = &p.recs.items[i];
        for (size_t t = 0; t < p.n_types; t++)
            if (strcmp(p.types[t], p.files[r->file].type) == 0) r->group = t;
    }
    p.group_of = malloc(n_keep * sizeof *p.group_of); // [n_keep]
    p.assign = malloc(n_keep);                        // [n_keep]
    p.split_groups = calloc(p.n_types, sizeof *p.split_groups);
    p.by_type = calloc(p.n_types, sizeof *p.by_type);
    if (!p.group_of || !p.assign || !p.split_groups || !p.by_type) TRY(ya_fail(err, YA_ERR, "out of memory"));
    for (size_t i = 0; i < n_keep; i++) p.group_of[i] = p.recs.items[p.keep[i]].group;
    for (size_t i = 0; i < n_keep; i++) p.by_type[p.group_of[i]].examples++;
    TRY(ya_prepare_split(p.group_of, n_keep, p.split_groups, p.n_types, o->train_size, o->val_size, o->stratify,
                         o->seed, p.assign, err));

    /* 6 + write: format every example, in shuffled order, into train or val. */
    TRY(ya_mkdirs(o->output_dir, err));
    char path[4096];
    TRY(ya_path_join(path, sizeof path, o->output_dir, "train.jsonl", err));
    TRY(ya_atomic_open(&out_train, path, err));
    TRY(ya_path_join(path, sizeof path, o->output_dir, "val.jsonl", err));
    TRY(ya_atomic_open(&out_val, path, err));
    GroupStats band[3] = {0};
    for (int b = 0; b < 3; b++) band[b].examples = rb.after[b];
    size_t w_hist[W_BINS] = {0}, h_hist[H_BINS] = {0}, n_train = 0, n_val = 0;
    json_t *trivium = p.trivium;
    for (size_t i = 0; i < n_keep; i++) {
        if (p.assign[i] == YA_SPLIT_DROP) continue;
        const Record *r = &p.recs.items[p.keep[i]];
        const FileInfo *fi = &p.files[r->file];
        json_t *ex = example_json(o, fi, r);
        if (!ex) TRY(ya_fail(err, YA_ERR, "out of memory formatting an example of %s", fi->name));
        int is_train = p.assign[i] == YA_SPLIT_TRAIN;
        rc = write_line(is_train ? &out_train : &out_val, ex, err);
        const char *tri = json_string_value(json_object_get(ex, "trivium_category"));
        json_object_set_new(trivium, tri, json_integer(json_integer_value(json_object_get(trivium, tri)) + 1));
        json_decref(ex);
        if (rc != YA_OK) goto done;
        GroupStats *gs[2] = {&p.by_type[r->group], &band[ya_prepare_band(r->w)]};
        for (int k = 0; k < 2; k++) {
            gs[k]->train += is_train;
            gs[k]->val += !is_train;
            gs[k]->w_sum += r->w;
            gs[k]->h_sum += r->h;
            gs[k]->w_hist[w_bin(r->w)]++;
        }
        w_hist[w_bin(r->w)]++;
        h_hist[h_bin(r->h)]++;
        n_train += is_train;
        n_val += !is_train;
    }
    if (n_train == 0) TRY(ya_fail(err, YA_ERR, "%s: the training split is empty", o->input_dir));

    /* stats.json: options first, then the counts in pipeline order */
    stats = json_object();
    json_object_set_new(stats, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(stats, "train_size", json_integer((json_int_t)o->train_size));
    json_object_set_new(stats, "val_size", json_integer((json_int_t)o->val_size));
    json_object_set_new(stats, "min_examples", json_integer((json_int_t)o->min_examples));
    json_object_set_new(stats, "scoring", json_string(o->dynamic_scoring ? "hybrid" : "static"));
    json_object_set_new(stats, "scorer", json_string(o->dynamic_scoring ? PREPARE_SCORER_DYNAMIC : PREPARE_SCORER_STATIC));
    json_t *jfiles = json_array();
    size_t tot_lines = 0, tot_no_text = 0, tot_dup = 0, tot_unique = 0;
    for (size_t f = 0; f < p.n_files; f++) {
        const FileInfo *fi = &p.files[f];
        json_t *jf = json_object();
        json_object_set_new(jf, "file", json_string(fi->name));
        json_object_set_new(jf, "source_type", json_string(fi->type));
        json_object_set_new(jf, "lines", json_integer((json_int_t)fi->lines));
        json_object_set_new(jf, "bad_lines", json_integer((json_int_t)fi->bad_lines));
        json_object_set_new(jf, "no_text", json_integer((json_int_t)fi->no_text));
        json_object_set_new(jf, "duplicates", json_integer((json_int_t)fi->duplicates));
        json_object_set_new(jf, "unique", json_integer((json_int_t)fi->unique));
        json_object_set_new(jf, "cap", json_integer((json_int_t)fi->cap));
        json_object_set_new(jf, "kept", json_integer((json_int_t)fi->kept));
        json_array_append_new(jfiles, jf);
        tot_lines += fi->lines, tot_no_text += fi->no_text, tot_dup += fi->duplicates, tot_unique += fi->unique;
    }
    json_object_set_new(stats, "files", jfiles);
    json_object_set_new(stats, "skipped_files", json_incref(p.skipped));
    json_t *tot = json_object();
    json_object_set_new(tot, "lines", json_integer((json_int_t)tot_lines));
    json_object_set_new(tot, "bad_lines", json_integer((json_int_t)bad.count));
    json_object_set_new(tot, "no_text", json_integer((json_int_t)tot_no_text));
    json_object_set_new(tot, "duplicates", json_integer((json_int_t)tot_dup));
    json_object_set_new(tot, "unique", json_integer((json_int_t)tot_unique));
    json_object_set_new(tot, "over_cap", json_integer((json_int_t)(tot_unique - n)));
    json_object_set_new(tot, "examples", json_integer((json_int_t)n));
    json_object_set_new(tot, "after_rebalance", json_integer((json_int_t)n_keep));
    json_object_set_new(tot, "train", json_integer((json_int_t)n_train));
    json_object_set_new(tot, "val", json_integer((json_int_t)n_val));
    json_object_set_new(tot, "dropped_by_train_size", json_integer((json_int_t)(n_keep - n_train - n_val)));
    json_object_set_new(stats, "totals", tot);
    json_t *jrb = json_object();
    json_object_set_new(jrb, "enabled", json_boolean(o->rebalance));
    json_object_set_new(jrb, "applied", json_boolean(rb.applied));
    json_object_set_new(jrb, "before", bands_json(rb.before));
    size_t tgt[3] = {rb.after[0], rb.mid_target, rb.high_target};
    json_t *jt = bands_json(tgt);
    json_object_set_new(jt, "total", json_integer((json_int_t)rb.target_total));
    json_object_set_new(jrb, "target", rb.applied ? jt : json_null());
    if (!rb.applied) json_decref(jt);
    json_object_set_new(jrb, "after", bands_json(rb.after));
    json_object_set_new(stats, "rebalance", jrb);
    json_t *jsplit = json_object();
    json_object_set_new(jsplit, "stratified", json_boolean(o->stratify));
    json_object_set_new(jsplit, "train", json_integer((json_int_t)n_train));
    json_object_set_new(jsplit, "val", json_integer((json_int_t)n_val));
    json_object_set_new(stats, "split", jsplit);
    json_t *jtypes = json_object();
    for (size_t t = 0; t < p.n_types; t++) json_object_set_new(jtypes, p.types[t], group_json(&p.by_type[t], n_train + n_val));
    json_object_set_new(stats, "by_source_type", jtypes);
    json_t *jbands = json_object();
    for (int b = 0; b < 3; b++) json_object_set_new(jbands, ya_band_names[b], group_json(&band[b], n_train + n_val));
    json_object_set_new(stats, "by_band", jbands);
    json_t *jw = json_object();
    json_object_set_new(jw, "bin_width", json_real(0.1));
    json_object_set_new(jw, "counts", counts_array(w_hist, W_BINS));
    json_object_set_new(stats, "w_histogram", jw);
    json_t *jh = json_object();
    json_object_set_new(jh, "bin_width", json_real(1.0));
    json_object_set_new(jh, "last_bin_open", json_true());
    json_object_set_new(jh, "counts", counts_array(h_hist, H_BINS));
    json_object_set_new(stats, "h_histogram", jh);
    json_object_set_new(stats, "trivium", json_incref(p.trivium));
    stats_text = ya_json_dumps(stats);
    if (!stats_text) TRY(ya_fail(err, YA_ERR, "out of memory writing stats.json"));
    TRY(ya_path_join(path, sizeof path, o->output_dir, "stats.json", err));
    TRY(ya_atomic_open(&out_stats, path, err));
    TRY(ya_atomic_write(&out_stats, stats_text, strlen(stats_text), err));
    TRY(ya_atomic_write(&out_stats, "\n", 1, err));
    TRY(ya_atomic_commit(&out_train, err));
    TRY(ya_atomic_commit(&out_val, err));
    TRY(ya_atomic_commit(&out_stats, err));
    if (report) print_table(report, o, &p, &rb, n, n_train, n_val, band, w_hist, n_skipped);
done:
#undef TRY
    ya_atomic_abort(&out_train);
    ya_atomic_abort(&out_val);
    ya_atomic_abort(&out_stats);
    json_decref(stats);
    free(stats_text);
    pipeline_free(&p);
    return rc;
}

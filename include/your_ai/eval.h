/* eval.h — validation (SPEC §11.2): held-out perplexity by source type and
 * authority band, multiple-choice benchmarks scored by log-likelihood, the
 * project's prompt suite, and the report (JSON, human summary, SVG plot).
 *
 * The pieces, one per file in src/eval/:
 *   perplexity.c       val records → per-sample NLL through the training data loader;
 *                      groups, token-pooled NLL, seeded bootstrap intervals, Δ vs base
 *   multiple_choice.c  MC1 / MC1-normalised / MC2 from per-choice log-likelihoods
 *   prompt_suite.c     chat-templated greedy generation, keyword checks, rotations, Wilson intervals
 *   report.c           report.json and the stdout summary
 *   plot_svg.c         per-group perplexity bars, base vs tuned
 * docs/VALIDATION.md explains every metric and file format.
 *
 * Pure functions (grouping, bootstrap, MC scoring, keyword checks, Wilson) are
 * separate from the model-driven drivers so tests can check them against
 * Python formulas and inject fake scorers. */
#ifndef YOUR_AI_EVAL_H
#define YOUR_AI_EVAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "your_ai/data.h"
#include "your_ai/error.h"
#include "your_ai/json.h"
#include "your_ai/model.h"
#include "your_ai/tokenizer.h"

/* ---- perplexity (perplexity.c) ------------------------------------------------ */

/* Authority bands on auth_weight (SPEC §5.2 step 8 thresholds). */
typedef enum YaAuthBand { YA_BAND_NONE = -1, YA_BAND_LOW = 0, YA_BAND_MID = 1, YA_BAND_HIGH = 2 } YaAuthBand;
/* low < 0.3, mid [0.3, 0.7], high > 0.7; YA_BAND_NONE for a NaN (record without auth_weight). */
YaAuthBand ya_auth_band(double w);
const char *ya_auth_band_name(YaAuthBand b); /* "low" | "mid" | "high" | "none" */

/* Per-sample results of one model over the val set, in file order. */
typedef struct YaPplSamples {
    size_t n;
    double *nll;         // [n] Σ −log p(target) over the sample's supervised targets (accumulated in double)
    uint32_t *n_tok;     // [n] supervised targets of the sample
    double *w;           // [n] auth_weight, NaN when the record has none
    char **source_type;  // [n] malloc'ed, NULL when the record has none
    uint64_t *line;      // [n] 1-based line in its file
    uint32_t *file;      // [n] index into the --data paths
} YaPplSamples;
void ya_ppl_samples_free(YaPplSamples *s);

/* Runs every val sample through m (with whatever adapter is attached) and
 * collects its NLL. Records are read, validated, rendered and truncated by the
 * training data loader (data.h) with cfg as given, except shuffle = 0,
 * batch_size = 1, pad batching and cross_epochs = 0 — so evaluation sees
 * exactly the tokens and supervised targets training sees. source_type and
 * auth_weight are read from the same lines. dump_ids (may be NULL) receives one
 * JSON line per sample: {"file","line","ids":[…],"targets":[…],"nll","n_tok"} (targets −1 =
 * not scored), for parity tests. */
int ya_ppl_collect(const YaModel *m, const YaTokenizer *tok, const YaDataConfig *cfg, const char *const *paths,
                   size_t n_paths, FILE *dump_ids, YaPplSamples *out, YaError *err);
/* The same with the forward passes on a chosen device (--device; gpu: the
 * CUDA device index). ya_ppl_collect is this on the CPU. */
int ya_ppl_collect_on(const YaModel *m, YaDevice device, int gpu, const YaTokenizer *tok, const YaDataConfig *cfg,
                      const char *const *paths, size_t n_paths, FILE *dump_ids, YaPplSamples *out, YaError *err);

/* One group's statistics. Intervals are percentile bootstrap intervals (95%)
 * over samples resampled with replacement, NaN when not computed. */
typedef struct YaPplGroup {
    char kind[16];      /* "all" | "source_type" | "auth_band" */
    char name[96];      /* "all", the source type ("(none)" when absent), or "low"/"mid"/"high" */
    size_t n_samples;
    uint64_t n_tokens;
    double nll, ppl, nll_lo, nll_hi;      /* tuned (or the only) model */
    int has_base;
    double base_nll, base_ppl, base_lo, base_hi;
    double delta, delta_lo, delta_hi;     /* NLL_tuned − NLL_base, paired bootstrap */
} YaPplGroup;

typedef struct YaPplOptions {
    int by_source_type; /* add one group per source_type */
    int by_auth_band;   /* add the three authority bands */
    int n_bootstrap;    /* resamples; 0 = no intervals (default 1000) */
    uint64_t seed;      /* bootstrap seed; group g uses stream "bootstrap:<kind>:<name>" */
} YaPplOptions;

/* The distrust signal Δ_low − Δ_high (SPEC §11.2), with a bootstrap interval
 * from the two groups' independent paired resamples taken draw by draw. */
typedef struct YaDistrustSignal {
    int available; /* base and both bands present */
    double value, lo, hi;
} YaDistrustSignal;

/* Groups "all" first, then source types (sorted by name), then bands low, mid,
 * high (empty groups omitted). base may be NULL; when given it must hold the
 * same samples (same n, same n_tok). *groups is malloc'ed. */
int ya_ppl_groups(const YaPplSamples *tuned, const YaPplSamples *base, const YaPplOptions *opt, YaPplGroup **groups,
                  size_t *n_groups, YaDistrustSignal *signal, YaError *err);

/* The bootstrap interval of a pooled NLL Σnll/Σtok over the samples idx[0..n):
 * draws B resamples of n indices with ya_rng_below from stream (seed, tag), and
 * returns the 2.5% and 97.5% percentiles (linear interpolation between order
 * statistics, numpy's default). When base_nll is non-NULL the statistic is the
 * paired difference tuned − base on the same draw. draws (may be NULL) receives
 * the B statistics in draw order. Exposed for the Python-formula test. */
int ya_bootstrap_pooled(const double *nll, const double *base_nll, const uint32_t *n_tok, const size_t *idx, size_t n,
                        int B, uint64_t seed, const char *tag, double *lo, double *hi, double *draws, YaError *err);
/* The q-quantile (0..1) of sorted v[0..n) with linear interpolation. */
double ya_quantile_sorted(const double *v, size_t n, double q);

/* ---- multiple choice (multiple_choice.c) ---------------------------------------- */

typedef struct YaMcItem {
    char *id;
    char *question;
    char *category;   /* NULL when absent */
    char **choices;   // [n_choices]
    int *labels;      // [n_choices] 1 = true
    int n_choices;
    uint64_t line;    /* 1-based line (JSONL) or record (CSV) number */
} YaMcItem;

typedef struct YaMcSet {
    YaMcItem *items;
    size_t n;
} YaMcSet;
void ya_mc_set_free(YaMcSet *s);

/* Loads a benchmark: JSONL {"id","question","choices":[…],"labels":[0/1…],"category"?}
 * or, for a path ending in .csv, the CSV layout of docs/VALIDATION.md (header
 * id,question,choices,labels[,category]; choices separated by " ||| ", labels by
 * spaces). Every item needs ≥ 2 choices and ≥ 1 true label; errors name file:line. */
int ya_mc_load(const char *path, YaMcSet *out, YaError *err);

/* Log-likelihood of the continuation " " + choice after prompt (SPEC §11.2 rule).
 * choice_index is passed so tests can inject a position-biased scorer; an honest
 * scorer ignores it. */
typedef int (*YaLoglikFn)(void *ctx, const char *prompt, const char *choice, int choice_index, double *ll,
                          int *n_tokens, YaError *err);

/* Scores of one item from its per-choice log-likelihoods, invariant under any
 * permutation of the choices: ties count against the item, and MC2's sums run
 * over the values in sorted order. */
typedef struct YaMcScore {
    int mc1;          /* 1 iff max ll over true choices > max ll over false choices (strict) */
    int mc1_norm;     /* the same on ll / n_tokens */
    double mc2;       /* Σ_true e^ll / Σ_all e^ll (log-sum-exp) */
} YaMcScore;
void ya_mc_score_item(const double *ll, const int *n_tokens, const int *labels, int n, YaMcScore *out);

typedef struct YaMcResult {
    size_t n_items;
    double mc1, mc1_norm, mc2; /* means over items */
    YaMcScore *per_item;       // [n_items]
    double **ll;               // [n_items][n_choices]
} YaMcResult;
void ya_mc_result_free(YaMcResult *r, size_t n_items);

/* Scores every item: ll_j = fn(ctx, prompt(question), choice_j, j). template is
 * the prompt template with "{question}" (default "Q: {question}\nA:"). */
int ya_mc_run(const YaMcSet *set, const char *prompt_template, YaLoglikFn fn, void *ctx, YaMcResult *out,
              YaError *err);

/* The model-backed log-likelihood function (ctx = YaMcModelCtx). */
typedef struct YaMcModelCtx {
    const YaModel *model;
    const YaTokenizer *tok;
    YaDevice device;     /* where the state is created (zero: YA_DEVICE_CPU) */
    int gpu;             /* CUDA device index for YA_DEVICE_CUDA */
    YaInferState *state; /* sized for max_ctx; created lazily, freed by ya_mc_model_ctx_free */
    int max_ctx;
    float *logits;       // [max_ctx, V]
} YaMcModelCtx;
int ya_mc_model_loglik(void *ctx, const char *prompt, const char *choice, int choice_index, double *ll,
                       int *n_tokens, YaError *err);
void ya_mc_model_ctx_free(YaMcModelCtx *c);

/* The continuation ids of " " + choice after prompt: the ids of
 * encode(prompt + " " + choice) past the prompt's ids when these start with
 * encode(prompt), else encode(" " + choice) without special tokens appended to
 * encode(prompt). full receives prompt ids + continuation; *n_prompt the prompt's length. */
int ya_mc_continuation(const YaTokenizer *tok, const char *prompt, const char *choice, YaIds *full, size_t *n_prompt,
                       YaError *err);

/* ---- prompt suite (prompt_suite.c) ------------------------------------------------ */

typedef struct YaSuiteChecks {
    char **require_any;  // [n_require] keywords (case-insensitive substrings)
    int n_require;
    int require_min;     /* at least this many of require_any must appear (default 1 when any listed) */
    char **forbid;       // [n_forbid]
    int n_forbid;
    int min_chars;       /* answer length in code points (default 0) */
} YaSuiteChecks;

typedef struct YaSuiteItem {
    char *id, *category, *prompt;
    int is_mc;
    char **choices;      // [n_choices] (mc)
    int n_choices;
    int answer_index;    /* mc: index of the right choice */
    YaSuiteChecks checks;
    uint64_t line;
} YaSuiteItem;

typedef struct YaSuite {
    YaSuiteItem *items;
    size_t n;
} YaSuite;
void ya_suite_free(YaSuite *s);
int ya_suite_load(const char *path, YaSuite *out, YaError *err);

/* What the checks found in one answer. */
typedef struct YaCheckResult {
    int pass;
    int n_required_found;
    int forbidden_found;  /* number of forbid keywords present */
    int too_short;
    int truncated;        /* unclosed <think>, or generation hit the token limit */
} YaCheckResult;
/* The answer is the text after the last "</think>" (an unclosed "<think>"
 * counts as truncated). Matching is ASCII-case-insensitive substring search. */
void ya_suite_check(const YaSuiteChecks *c, const char *text, int hit_limit, YaCheckResult *out);

/* The position (0-based) of the letter the answer picks among n choices
 * lettered A, B, …: the first capital letter in range that stands alone (not
 * preceded or followed by a letter or digit), searched in the answer after
 * "</think>". −1 when none. */
int ya_suite_parse_letter(const char *text, int n_choices);

/* The 95% Wilson score interval of k successes in n (z = 1.959963984540054). */
void ya_wilson95(int k, int n, double *lo, double *hi);

typedef struct YaSuiteCategory {
    char name[64];
    int n, passed;
    double rate, lo, hi;
} YaSuiteCategory;

/* One generation run (an item, or one rotation of an mc item). */
typedef struct YaSuiteRun {
    size_t item;
    int rotation;      /* mc: choice k is shown at position (k + rotation) % n; 0 for free */
    int chosen;        /* mc: the position picked (−1 = none) */
    YaCheckResult check;
    char *answer;      /* generated text */
} YaSuiteRun;

typedef struct YaSuiteResult {
    YaSuiteRun *runs;
    size_t n_runs;
    YaSuiteCategory *cats;
    size_t n_cats;
    int passed, total;
    double rate, lo, hi;
    int position_counts[27]; /* mc: how often each position A.. was chosen; [26] = none */
    int max_choices;
} YaSuiteResult;
void ya_suite_result_free(YaSuiteResult *r);

/* Generates a text for a prompt (chat-templated by the caller's choice). */
typedef int (*YaGenerateFn)(void *ctx, const char *user_prompt, char **answer, int *hit_limit, YaError *err);

/* Runs every item (mc items once per rotation) and aggregates pass rates per
 * category with Wilson intervals. progress (may be NULL) gets one line per run. */
int ya_suite_run(const YaSuite *s, YaGenerateFn gen, void *ctx, FILE *progress, YaSuiteResult *out, YaError *err);

/* The mc prompt text of an item under a rotation (malloc'ed). */
char *ya_suite_mc_prompt(const YaSuiteItem *it, int rotation);

/* The model-backed generator: chat template (or the plain prompt when the
 * tokenizer has none), greedy, max_new_tokens, seeded. */
typedef struct YaSuiteModelCtx {
    const YaModel *model;
    const YaTokenizer *tok;
    YaChatFormat chat_format; /* YA_CHAT_NONE: plain prompt */
    int max_new_tokens;       /* default 512 */
    uint64_t seed;
    YaDevice device;          /* where generation runs (zero: YA_DEVICE_CPU) */
    int gpu;                  /* CUDA device index for YA_DEVICE_CUDA */
    /* One inference state reused by every item (so a GPU uploads the model
     * once); created lazily, grown when an item needs more positions, freed by
     * ya_suite_model_ctx_free. */
    YaInferState *state;
} YaSuiteModelCtx;
int ya_suite_model_generate(void *ctx, const char *user_prompt, char **answer, int *hit_limit, YaError *err);
void ya_suite_model_ctx_free(YaSuiteModelCtx *c);

/* ---- report (report.c, plot_svg.c) ------------------------------------------------ */

typedef struct YaEvalReport {
    const char *model_dir, *adapter_dir;
    const char *const *data_paths;
    size_t n_data;
    /* perplexity (NULL when not run) */
    const YaPplGroup *groups;
    size_t n_groups;
    const YaDistrustSignal *signal;
    int n_bootstrap;
    uint64_t seed;
    /* multiple choice (NULL when not run) */
    const char *benchmark_path;
    const YaMcSet *mc_set;
    const YaMcResult *mc;
    const YaMcResult *mc_base;
    /* prompt suite (NULL when not run) */
    const char *prompts_path;
    const YaSuite *suite;
    const YaSuiteResult *suite_res;
    const YaSuiteResult *suite_base;
    /* an earlier report to show deltas against (--compare), may be NULL */
    const json_t *compare;
    const char *compare_path;
} YaEvalReport;

/* The machine-readable report (new reference). */
json_t *ya_eval_report_json(const YaEvalReport *r);
/* The human summary. */
void ya_eval_report_print(FILE *fp, const YaEvalReport *r);

/* Per-group perplexity bars: for each group a "base" bar (the base model, or
 * the --compare report's value) and a "tuned" bar. labels/tuned/base have n
 * entries; base[i] NaN = no base bar. Writes the SVG text atomically to path. */
int ya_plot_svg_write(const char *path, const char *title, const char *const *labels, const double *tuned,
                      const double *base, size_t n, const char *tuned_name, const char *base_name, YaError *err);
/* The same into a malloc'ed string. */
char *ya_plot_svg_render(const char *title, const char *const *labels, const double *tuned, const double *base,
                         size_t n, const char *tuned_name, const char *base_name);

#endif

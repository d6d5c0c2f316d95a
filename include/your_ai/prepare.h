/* prepare.h — `your_ai prepare`: raw JSONL corpora → train.jsonl / val.jsonl / stats.json.
 *
 * The reference pipeline of SPEC §5.2 (filename → source type, text extraction,
 * per-file caps, hybrid scoring, rebalancing, split) with our departures of §5.3:
 * every random choice comes from a named xoshiro256** stream, records are
 * deduplicated by the SHA-256 of their normalised text, bad lines are counted,
 * the split is stratified by source type, and degenerate inputs are errors.
 *
 * Each step is a separate function (and file) so it can be tested on its own:
 *   prepare_sources.c  filename → source type, FILE=TYPE overrides
 *   prepare_extract.c  text extraction order/thresholds, metadata scalars
 *   prepare_dedup.c    normalisation, dedup keys, the seen-set
 *   prepare_balance.c  per-file caps, authority bands, rebalancing
 *   prepare_split.c    shuffle, largest-remainder stratified split
 *   prepare.c          the pipeline and the stats report */
#ifndef YOUR_AI_PREPARE_H
#define YOUR_AI_PREPARE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "your_ai/error.h"
#include "your_ai/json.h"
#include "your_ai/jsonl.h"

/* ---- thresholds of SPEC §5.2 ------------------------------------------------ */
enum {
    YA_PREPARE_FIELD_MIN_CP = 50,     /* a preferred field is used if its string form is > 50 code points */
    YA_PREPARE_FALLBACK_MIN_CP = 20,  /* fallback string fields must be > 20 code points */
    YA_PREPARE_FALLBACK_FIELDS = 3,   /* ... and at most 3 are joined */
    YA_PREPARE_TEXT_MIN_CP = 100,     /* extracted text shorter than this is dropped */
    YA_PREPARE_TEXT_MAX_CP = 8192,    /* written text is truncated to this */
};

/* ---- prepare_sources.c -------------------------------------------------------- */

/* SPEC §5.2 step 1: the source type of the first key (in the reference's order)
 * that is a substring of the lowercased filename (basename), or NULL if none. */
const char *ya_prepare_source_type_for_filename(const char *filename);

/* A `--source-type FILE=TYPE` override: FILE is a basename, TYPE a §4.7 key. */
typedef struct YaSourceOverride {
    char file[256];
    char type[64];
} YaSourceOverride;

/* Parses "FILE=TYPE" (usage error naming the flag if malformed). */
int ya_prepare_parse_override(const char *spec, YaSourceOverride *out, YaError *err);

/* The override for filename if any, else the filename rule; NULL = skip the file. */
const char *ya_prepare_resolve_source_type(const char *filename, const YaSourceOverride *overrides, size_t n_overrides);

/* ---- prepare_extract.c -------------------------------------------------------- */

/* Number of code points in valid UTF-8 (counts non-continuation bytes). */
size_t ya_utf8_count_cp(const char *s, size_t len);

/* Byte length of the longest prefix of s with at most max_cp code points. */
size_t ya_utf8_prefix_bytes(const char *s, size_t len, size_t max_cp);

/* Python truthiness of a JSON value (null, false, 0, 0.0, "", [], {} are falsy). */
int ya_json_truthy(const json_t *v);

/* Python str() of a JSON value into a malloc'ed string: strings as-is, ints in
 * decimal, reals as repr(float), true/false/null as True/False/None, arrays and
 * objects in Python repr style (ASCII escapes only; see docs/DATA.md). */
char *ya_json_python_str(const json_t *v);

/* SPEC §5.2 step 4: the first truthy field among text, content, body, abstract,
 * description, summary, ocr_eng, ocr_text, article, document, title, question,
 * answer, support whose string form is > 50 code points; failing that the first
 * 3 string fields (key order) longer than 20 code points joined with spaces.
 * Returns 1 with *text malloc'ed (*len bytes) if the result has >= 100 code
 * points, 0 if the record yields no usable text (*text = NULL). -1 on OOM. */
int ya_prepare_extract_text(const json_t *record, char **text, size_t *len);

/* SPEC §5.2 step 6: a new object with the record's scalar fields (string,
 * number, boolean; not null) except text, content and body, in key order. */
json_t *ya_prepare_metadata(const json_t *record);

/* ---- prepare_dedup.c ---------------------------------------------------------- */

/* The dedup normalisation of SPEC §5.3: ASCII A–Z lowercased; every run of ASCII
 * whitespace (space, \t, \n, \v, \f, \r) and U+00A0 collapsed to one space;
 * leading/trailing runs removed. Returns a malloc'ed string (NULL on OOM). */
char *ya_prepare_normalize(const char *text, size_t len, size_t *out_len);

/* SHA-256 of the normalised text. Returns YA_ERR only on OOM. */
int ya_prepare_dedup_key(const char *text, size_t len, uint8_t digest[32]);

/* Set of 32-byte digests (open addressing). */
typedef struct YaDigestSet {
    uint8_t (*slots)[32];
    unsigned char *used;
    size_t cap, count;
} YaDigestSet;

void ya_digest_set_init(YaDigestSet *s);
void ya_digest_set_free(YaDigestSet *s);
/* 1 if newly inserted, 0 if already present, -1 on OOM. */
int ya_digest_set_insert(YaDigestSet *s, const uint8_t digest[32]);

/* ---- prepare_balance.c -------------------------------------------------------- */

typedef enum { YA_BAND_LOW = 0, YA_BAND_MID = 1, YA_BAND_HIGH = 2 } YaAuthorityBand;
extern const char *const ya_band_names[3]; /* "low", "mid", "high" */

/* low: w < 0.3, mid: 0.3 <= w <= 0.7, high: w > 0.7 (SPEC §5.2 step 8). */
YaAuthorityBand ya_prepare_band(double w);

/* Per-file cap by the prior w of the file's source type (SPEC §5.2 step 3):
 * w < 0.3 → train_size/3, w > 0.7 → train_size/6, otherwise train_size/5. */
size_t ya_prepare_cap_for_prior(double prior_w, size_t train_size);

/* Chooses which of n records a file keeps under cap: if n <= cap all of them;
 * otherwise a Fisher–Yates shuffle of 0..n-1 on stream "cap:<file>", the first
 * cap indices, sorted back into file order. keep must hold min(n, cap). Returns
 * the number kept, or (size_t)-1 on OOM. */
size_t ya_prepare_cap_select(uint64_t seed, const char *file, size_t n, size_t cap, size_t *keep);

typedef struct YaRebalanceReport {
    int applied;                    /* 0: low share >= 0.20, nothing changed */
    size_t before[3], after[3];     /* counts per band */
    size_t target_total;            /* T = floor(n_low / 0.25) */
    size_t mid_target, high_target; /* T − n_low − high_t, floor(0.35·T) */
} YaRebalanceReport;

/* SPEC §5.2 step 8 over rounded weights w[0..n): when the low share is < 0.20,
 * keeps every low item (in order), then the mid items shuffled on stream
 * "rebalance:mid" and truncated to mid_t, then the high items shuffled on
 * "rebalance:high" and truncated to high_t. Writes the kept indices to keep
 * (capacity n) and their number to *n_keep. n_low = 0 with a low share < 0.20
 * is an error (the reference would produce an empty set). */
int ya_prepare_rebalance(const double *w, size_t n, uint64_t seed, size_t *keep, size_t *n_keep,
                         YaRebalanceReport *report, YaError *err);

/* ---- prepare_split.c ---------------------------------------------------------- */

/* Fisher–Yates shuffle of order[0..n) on stream "shuffle". */
void ya_prepare_shuffle(uint64_t seed, size_t *order, size_t n);

/* Largest-remainder apportionment: out[i] = floor(total·weight[i]/sum) plus one
 * for the `total − Σfloor` groups with the largest remainders; ties go to the
 * group earlier in tie_order (a permutation of 0..k-1; NULL = index order).
 * sum(weight) must be > 0 and total <= sum(weight) keeps out[i] <= weight[i]. */
void ya_largest_remainder(const size_t *weight, size_t k, size_t total, const size_t *tie_order, size_t *out);

enum { YA_SPLIT_DROP = 0, YA_SPLIT_TRAIN = 1, YA_SPLIT_VAL = 2 };

typedef struct YaSplitGroup {
    char type[64];
    size_t total, train, val;
} YaSplitGroup;

/* Splits n records (already shuffled; group[i] is record i's stratum index in
 * 0..k-1) into train and val. n_train = min(train_size, n − val_size).
 * Unstratified: the first n_train records are train, the next val_size val.
 * Stratified: val_size is apportioned over the groups by size (largest
 * remainder), then n_train over what each group has left; within a group the
 * first train quota records (in order) go to train, the next val quota to val.
 * Ties between equal remainders are broken by a permutation of the groups on
 * stream "split". assign[i] receives YA_SPLIT_*. groups[g].train/.val are filled.
 * n <= val_size is an error. */
int ya_prepare_split(const size_t *group, size_t n, YaSplitGroup *groups, size_t k, size_t train_size,
                     size_t val_size, int stratify, uint64_t seed, unsigned char *assign, YaError *err);

/* ---- prepare.c ------------------------------------------------------------------ */

typedef struct YaPrepareOptions {
    const char *input_dir;   /* every non-empty *.jsonl in sorted filename order */
    const char *output_dir;  /* created if missing: train.jsonl, val.jsonl, stats.json */
    size_t train_size;       /* 80000 */
    size_t val_size;         /* 20000 */
    size_t min_examples;     /* 1000: fewer examples after scoring is an error */
    uint64_t seed;           /* 42 */
    int dynamic_scoring;     /* 1: hybrid (§4.7); 0: static priors */
    int rebalance;           /* 1 */
    int stratify;            /* 1 */
    YaBadLinePolicy on_bad_line; /* skip */
    const YaSourceOverride *overrides;
    size_t n_overrides;
} YaPrepareOptions;

void ya_prepare_options_default(YaPrepareOptions *o);

/* Runs the pipeline. The stats summary table is printed to `report` (may be NULL).
 * Outputs are written atomically; on error nothing in output_dir is replaced. */
int ya_prepare_run(const YaPrepareOptions *o, FILE *report, YaError *err);

#endif

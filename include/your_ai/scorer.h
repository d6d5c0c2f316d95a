/* scorer.h — the citation scorer (SPEC §4), exact parity with the Python reference.
 * Gives a document an authority weight w ∈ [0, 0.99] and a provenance entropy H ≥ 0 (bits). */
#ifndef YOUR_AI_SCORER_H
#define YOUR_AI_SCORER_H

#include <stddef.h>

#include "your_ai/error.h"
#include "your_ai/json.h"

/* The 12 source-type categories of SPEC §4.2, in this order. */
enum { YA_N_SOURCE_CATEGORIES = 12 };
extern const char *const ya_source_categories[YA_N_SOURCE_CATEGORIES];

typedef struct YaScoreResult {
    double authority_weight;
    double provenance_entropy;
    long long citation_count;       /* n_cit */
    long long primary_source_count; /* n_prim */
    double institutional_score;     /* inst */
    double consensus_score;         /* cons */
    double source_type_distribution[YA_N_SOURCE_CATEGORIES]; /* count / max(1, total) */
    /* Additions (detail output, diagnostics): */
    int n_source_types;                                /* categories with count > 0 */
    unsigned char source_type_order[YA_N_SOURCE_CATEGORIES]; /* their indices, in the order the
                                                        reference's Counter first saw them */
    long long consensus_count; /* n_cons */
    int has_year;              /* 1 if a year was found (metadata or text) */
    long long year;            /* the year when has_year */
} YaScoreResult;

/* Compiled patterns; build once, share read-only (thread-safe to use concurrently). */
typedef struct YaScorer YaScorer;
int ya_scorer_new(YaScorer **out, YaError *err);
void ya_scorer_free(YaScorer *s);

/* score_document (SPEC §4.3–4.6). text is UTF-8 (len bytes). metadata may be
 * NULL or a JSON object (source, url, publisher, year, date, ..., source_type).
 * known_citation_count replaces n_cit only when non-zero. Invalid UTF-8 is an
 * error (YA_ERR, "text is not valid UTF-8 (byte N)"); anything else scores. */
int ya_score_document(const YaScorer *s, const char *text, size_t len, const json_t *metadata,
                      long long known_citation_count, YaScoreResult *out, YaError *err);

/* Hybrid scoring (SPEC §4.7): 0.7·prior + 0.3·dynamic for source_type; counts from dynamic.
 * source_type only selects the prior (NULL or unknown: 0.50 / 3.0); the dynamic part
 * reads metadata (including its own "source_type") exactly as score_document does. */
int ya_score_hybrid(const YaScorer *s, const char *text, size_t len, const json_t *metadata, const char *source_type,
                    YaScoreResult *out, YaError *err);

/* Prior (w, H, trivium) of a §4.7 source type; returns 1 if the type is in the
 * table, 0 (and the unknown row 0.50 / 3.0 / "unknown") otherwise. */
int ya_source_prior(const char *source_type, double *w, double *h, const char **trivium);

/* ---- batch scoring (SPEC §4.8), one document at a time ------------------------ */

/* The scorer version recorded as `scorer` in scored records (SPEC §4.10). */
#define YA_SCORER_VERSION "ref-py-1"

typedef enum { YA_SCORING_DEFAULT = 0, YA_SCORING_HYBRID = 1, YA_SCORING_DYNAMIC = 2 } YaScoringMethod;
/* "default" | "hybrid" | "dynamic" */
const char *ya_scoring_method_name(YaScoringMethod m);

/* Scores one document the way score_batch does: the whole object is the
 * metadata; text = doc[text_field]. Missing, null, empty or < 50 code points →
 * DEFAULT (0.50, 3.0, counts 0); `source_type` present and use_known_source_type
 * → HYBRID; otherwise DYNAMIC. A text that is not a string (or invalid UTF-8) is
 * an error (YA_ERR, message names the field) — the caller's bad line. */
int ya_score_record(const YaScorer *s, const json_t *doc, const char *text_field, int use_known_source_type,
                    YaScoringMethod *method, YaScoreResult *out, YaError *err);

/* Sets auth_weight and prov_entropy (rounded to 4 decimals), scoring_method,
 * scorer = YA_SCORER_VERSION and, except for DEFAULT, citation_count and
 * primary_source_count on doc (existing keys keep their position). With
 * detail, also sets `detail` = the full result object (unrounded). */
int ya_score_annotate(json_t *doc, YaScoringMethod method, const YaScoreResult *r, int detail, YaError *err);

/* The full result as a JSON object: authority_weight, provenance_entropy,
 * citation_count, primary_source_count, institutional_score, consensus_score,
 * source_type_distribution (non-zero categories in the reference's order). */
json_t *ya_score_result_json(const YaScoreResult *r);

/* Python round(x, 4): round half to even on the exact binary value. */
double ya_round4(double x);

#endif

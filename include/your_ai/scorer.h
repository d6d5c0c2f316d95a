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
} YaScoreResult;

/* Compiled patterns; build once, share read-only (thread-safe to use concurrently). */
typedef struct YaScorer YaScorer;
int ya_scorer_new(YaScorer **out, YaError *err);
void ya_scorer_free(YaScorer *s);

/* score_document (SPEC §4.3–4.6). text is UTF-8 (len bytes). metadata may be
 * NULL or a JSON object (source, url, publisher, year, date, ..., source_type).
 * known_citation_count replaces n_cit only when non-zero. */
int ya_score_document(const YaScorer *s, const char *text, size_t len, const json_t *metadata,
                      long long known_citation_count, YaScoreResult *out, YaError *err);

/* Hybrid scoring (SPEC §4.7): 0.7·prior + 0.3·dynamic for source_type; counts from dynamic. */
int ya_score_hybrid(const YaScorer *s, const char *text, size_t len, const json_t *metadata, const char *source_type,
                    YaScoreResult *out, YaError *err);

/* Prior (w, H, trivium) of a §4.7 source type; returns 1 if the type is in the
 * table, 0 (and the unknown row 0.50 / 3.0 / "unknown") otherwise. */
int ya_source_prior(const char *source_type, double *w, double *h, const char **trivium);

#endif

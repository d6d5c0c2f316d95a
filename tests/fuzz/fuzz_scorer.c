// fuzz-libs: ya_distrust ya_base
// fuzz-seeds: tests/fuzz/corpus/scorer
/* fuzz_scorer.c — libFuzzer target for the citation scorer (src/distrust/scorer.c,
 * pylower.c) on arbitrary bytes.
 *
 * The input is scored twice: as raw document text (score_document), and, when
 * it parses as a JSON object, as a record (score_batch path: the object is the
 * metadata, every value type reaches str()/lower()). Besides "no crash, no
 * leak, no UB", it checks the invariants the writers rely on:
 *  - invalid UTF-8 text is an error, valid UTF-8 always scores;
 *  - w ∈ [0, 0.99] for dynamic scores, H ≥ 0, both finite; counts ≥ 0;
 *  - the source-type distribution sums to 1 (or is empty);
 *  - the annotated record serialises (no NaN reaches the JSON writer).
 * The scorer is compiled once per process (patterns are read-only). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/json.h"
#include "your_ai/scorer.h"

static YaScorer *g_scorer; /* fuzz harness only: compiled once, never mutated */

static void check_result(const YaScoreResult *r, int dynamic) {
    if (!isfinite(r->authority_weight) || !isfinite(r->provenance_entropy) || r->provenance_entropy < 0 ||
        r->citation_count < 0 || r->primary_source_count < 0)
        abort();
    if (dynamic && (r->authority_weight < 0 || r->authority_weight > 0.99)) abort();
    double sum = 0;
    for (int k = 0; k < r->n_source_types; k++) sum += r->source_type_distribution[r->source_type_order[k]];
    if (r->n_source_types && fabs(sum - 1.0) > 1e-9) abort();
}

/* Independent UTF-8 check: jansson's (json_stringn validates, NUL bytes allowed). */
static int utf8_valid(const uint8_t *s, size_t n) {
    json_t *t = json_stringn((const char *)s, n);
    int ok = t != NULL;
    json_decref(t);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    YaError err = {0};
    if (!g_scorer && ya_scorer_new(&g_scorer, &err) != YA_OK) abort();
    YaScoreResult r;
    int rc = ya_score_document(g_scorer, (const char *)data, size, NULL, 0, &r, &err);
    int valid = utf8_valid(data, size);
    if (valid != (rc == YA_OK)) abort();
    if (rc == YA_OK) check_result(&r, 1);

    json_t *doc = json_loadb((const char *)data, size, 0, NULL);
    if (doc && json_is_object(doc)) {
        for (int hybrid = 0; hybrid < 2; hybrid++) {
            YaScoringMethod m;
            if (ya_score_record(g_scorer, doc, "text", hybrid, &m, &r, &err) == YA_OK) {
                check_result(&r, m == YA_SCORING_DYNAMIC);
                json_t *copy = json_deep_copy(doc);
                if (ya_score_annotate(copy, m, &r, 1, &err) != YA_OK) abort();
                char *s = ya_json_dumps(copy);
                if (!s) abort();
                free(s);
                json_decref(copy);
            }
        }
    }
    json_decref(doc);
    return 0;
}

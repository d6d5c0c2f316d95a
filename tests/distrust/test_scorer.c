/* test_scorer.c — every SPEC §4.9 vector through the C API (scores to the
 * SPEC's printed precision, and the counts its notes give), the hybrid and
 * batch vectors, and the API's edge cases. Exact (1e-9) parity with the Python
 * port on these and ≥ 60 more documents is tools/check_score_parity.py. */
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "your_ai/scorer.h"

static const char *PATENT =
    "United States Patent 2,345,678\nFiled: March 15, 1923\nInventor: Thomas Edison\nThis patent describes an "
    "improved method for the measurement of electrical resistance in laboratory conditions. The experiment was "
    "conducted using primary measurement apparatus.";

typedef struct Vec {
    const char *text;
    const char *meta; /* JSON or NULL */
    double w, h;
    int n_cit, n_prim; /* -1: not stated */
} Vec;

static json_t *parse(const char *s) {
    if (!s) return NULL;
    json_error_t je;
    json_t *j = json_loads(s, 0, &je);
    if (!j) fprintf(stderr, "bad test JSON: %s\n", s);
    return j;
}

static void test_vectors(const YaScorer *sc) {
    static char long_e[2100 + 8];
    size_t k = 0;
    for (int i = 0; i < 1000; i++) long_e[k++] = (char)0xC3, long_e[k++] = (char)0xA9; /* é ×1000 */
    memcpy(long_e + k, " 1850", 6);
    const Vec v[] = {
        {PATENT, NULL, 0.0, 9.1, -1, 5},
        {"According to Wikipedia and the World Health Organization (WHO), the scientific consensus is clear. Experts "
         "agree that this is a well-established fact supported by government guidelines. Studies show overwhelming "
         "evidence.", NULL, 0.8, 1.65, -1, -1},
        {"Laboratory Notebook - June 1956\nExperiment: Measurement of thermal conductivity.\nDirect observation "
         "recorded in field notes.\nOriginal research by the author.", NULL, 0.0, 9.1, -1, 6},
        {"Abstract: This paper presents results from our experimental study.\nIntroduction: We measured various "
         "parameters under controlled conditions.\nReferences: [1] Smith et al., 2019. [2] Jones, 2020.", NULL,
         0.323856, 4.484963, 2, -1},
        {"This is a simple blog post without citations.", NULL, 0.35, 1.725, -1, -1},
        {"Research from 1985 with some measurements and citations", NULL, 0.3, 3.8, -1, 0},
        {"WHO official government guidelines from 2024 with consensus", NULL, 0.75, 1.35, -1, -1},
        {"CDC official guidance: experts agree, studies show from 2024", NULL, 0.95, 0.55, -1, -1},
        {"Historical archive from 1956 with experimental observations", NULL, 0.0, 8.1, -1, 2},
        {"Sample text", NULL, 0.15, 2.0, -1, 1},
        {"The whole conscience of the town was immediately visible.", NULL, 0.65, 0.975, -1, -1},
        {"A well-established fact: studies show, and studies show again.", NULL, 0.5, 0.5, -1, -1},
        {"See [1], [2], and (Jones et al., 2019) for details.", NULL, 0.480103, 1.5, 3, -1},
        {"PUBLISHED 1890, reprinted 1920 by the press.", NULL, 0.15, 5.5, -1, -1},
        {"No year information here.", "{\"date\": \"1923-03-15\"}", 0.15, 5.5, -1, -1},
        {"Ibid. p. 4; op. cit. p. 9; loc cit.", NULL, 0.330103, 1.5, 3, -1},
        {"1. Smith, On Things, 1999\n2. Jones, Other Things, 2001", NULL, 0.473856, 1.5, -1, -1},
        {"The letter and diary of a farmer, written 1862, with a photograph.", NULL, 0.0, 7.3, -1, 3},
        {"Short note.", "{\"source_type\": \"historical_newspaper\", \"url\": \"https://chroniclingamerica.loc.gov/x\"}",
         0.55, 1.425, -1, -1},
        {long_e, NULL, 0.15, 5.5, -1, -1},
        {"It was written in 1700 and reissued 1850.", NULL, 0.15, 5.5, -1, -1},
        {"Undated text.", "{\"year\": 3000}", 0.45, 1.5, -1, -1},
        {"Undated text.", "{\"year\": \"3000\"}", 0.3, 1.5, -1, -1},
        {"We told us 3 times (since 1999).", NULL, 0.465051, 1.8, -1, -1},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        json_t *meta = parse(v[i].meta);
        YaScoreResult r;
        YaError e = {0};
        int rc = ya_score_document(sc, v[i].text, strlen(v[i].text), meta, 0, &r, &e);
        CHECK_MSG(rc == YA_OK, "vector %zu: %s", i, e.message);
        CHECK_MSG(fabs(r.authority_weight - v[i].w) <= 5e-7 && fabs(r.provenance_entropy - v[i].h) <= 5e-7,
                  "vector %zu (%.30s): got (%.9f, %.9f) want (%.6f, %.6f)", i, v[i].text, r.authority_weight,
                  r.provenance_entropy, v[i].w, v[i].h);
        if (v[i].n_cit >= 0) CHECK_MSG(r.citation_count == v[i].n_cit, "vector %zu n_cit %lld", i, r.citation_count);
        if (v[i].n_prim >= 0)
            CHECK_MSG(r.primary_source_count == v[i].n_prim, "vector %zu n_prim %lld", i, r.primary_source_count);
        json_decref(meta);
    }
    /* Notes of the table: inst .30 and n_cons 6; n_cons 4; inst .05; 3 categories. */
    YaScoreResult r;
    YaError e = {0};
    ya_score_document(sc, v[1].text, strlen(v[1].text), NULL, 0, &r, &e);
    CHECK(r.institutional_score == 0.30 && r.consensus_count == 6);
    ya_score_document(sc, v[11].text, strlen(v[11].text), NULL, 0, &r, &e);
    CHECK(r.consensus_count == 4);
    ya_score_document(sc, v[4].text, strlen(v[4].text), NULL, 0, &r, &e);
    CHECK(r.institutional_score == 0.05);
    ya_score_document(sc, v[3].text, strlen(v[3].text), NULL, 0, &r, &e);
    CHECK(r.n_source_types == 3);
    ya_score_document(sc, PATENT, strlen(PATENT), NULL, 0, &r, &e);
    CHECK(r.has_year && r.year == 1923);
    /* A known citation count replaces the count only when non-zero. */
    ya_score_document(sc, v[12].text, strlen(v[12].text), NULL, 7, &r, &e);
    CHECK(r.citation_count == 7);
    ya_score_document(sc, v[12].text, strlen(v[12].text), NULL, 0, &r, &e);
    CHECK(r.citation_count == 3);
    CHECK(ya_score_document(sc, v[12].text, strlen(v[12].text), NULL, -2, &r, &e) == YA_ERR);
}

static void test_hybrid_and_batch(const YaScorer *sc) {
    YaScoreResult r;
    YaError e = {0};
    CHECK(ya_score_hybrid(sc, "Sample text", 11, NULL, "patent_pre1970", &r, &e) == YA_OK);
    CHECK_NEAR(r.authority_weight, 0.08, 5e-7);
    CHECK_NEAR(r.provenance_entropy, 5.5, 5e-7);
    CHECK(ya_score_hybrid(sc, "Sample text", 11, NULL, "no_such_type", &r, &e) == YA_OK);
    CHECK_NEAR(r.authority_weight, 0.395, 5e-7);
    CHECK_NEAR(r.provenance_entropy, 2.7, 5e-7);
    CHECK(r.primary_source_count == 1); /* counts come from the dynamic score */

    json_t *doc = json_pack("{s:s, s:s}", "text", PATENT, "source_type", "patent_pre1970");
    YaScoringMethod m;
    CHECK(ya_score_record(sc, doc, "text", 1, &m, &r, &e) == YA_OK && m == YA_SCORING_HYBRID);
    CHECK_MSG(fabs(r.authority_weight - 0.035) <= 5e-7 && fabs(r.provenance_entropy - 7.573383) <= 5e-7, "%.9f %.9f",
              r.authority_weight, r.provenance_entropy);
    CHECK(ya_score_record(sc, doc, "text", 0, &m, &r, &e) == YA_OK && m == YA_SCORING_DYNAMIC); /* --no-hybrid */
    json_decref(doc);
    doc = json_pack("{s:s}", "text", PATENT);
    CHECK(ya_score_record(sc, doc, "text", 1, &m, &r, &e) == YA_OK && m == YA_SCORING_DYNAMIC);
    CHECK(r.authority_weight == 0.0 && fabs(r.provenance_entropy - 9.1) <= 5e-7);
    json_decref(doc);
    doc = json_pack("{s:s, s:s}", "text", "too short", "source_type", "wiki");
    CHECK(ya_score_record(sc, doc, "text", 1, &m, &r, &e) == YA_OK && m == YA_SCORING_DEFAULT);
    CHECK(r.authority_weight == 0.5 && r.provenance_entropy == 3.0);
    json_decref(doc);
    /* 49 vs 50 code points, multi-byte: "é" is 2 bytes. */
    char t49[128] = "", t50[128] = "";
    for (int i = 0; i < 49; i++) strcat(t49, "\xC3\xA9");
    strcpy(t50, t49);
    strcat(t50, "x");
    doc = json_pack("{s:s}", "body", t49);
    CHECK(ya_score_record(sc, doc, "body", 1, &m, &r, &e) == YA_OK && m == YA_SCORING_DEFAULT);
    json_decref(doc);
    doc = json_pack("{s:s}", "body", t50);
    CHECK(ya_score_record(sc, doc, "body", 1, &m, &r, &e) == YA_OK && m == YA_SCORING_DYNAMIC);
    json_decref(doc);
    /* Missing or null text: default. Non-string text: an error naming the field. */
    doc = json_pack("{s:n}", "text");
    CHECK(ya_score_record(sc, doc, "text", 1, &m, &r, &e) == YA_OK && m == YA_SCORING_DEFAULT);
    CHECK(ya_score_record(sc, doc, "other", 1, &m, &r, &e) == YA_OK && m == YA_SCORING_DEFAULT);
    json_decref(doc);
    doc = json_pack("{s:i}", "text", 5);
    CHECK(ya_score_record(sc, doc, "text", 1, &m, &r, &e) == YA_ERR);
    CHECK(strstr(e.message, "'text'") != NULL);
    json_decref(doc);
    /* Invalid UTF-8 through the C API is an error, never a crash. */
    CHECK(ya_score_document(sc, "abc\xFF", 4, NULL, 0, &r, &e) == YA_ERR);
    CHECK(ya_score_document(sc, "", 0, NULL, 0, &r, &e) == YA_OK);

    double w, h;
    const char *triv;
    CHECK(ya_source_prior("wiki", &w, &h, &triv) == 1 && w == 0.90 && h == 1.0 && !strcmp(triv, "grammar"));
    CHECK(ya_source_prior("nope", &w, &h, &triv) == 0 && w == 0.50 && h == 3.0 && !strcmp(triv, "unknown"));
    CHECK(ya_source_prior(NULL, &w, &h, NULL) == 0);
    CHECK_STREQ(ya_scoring_method_name(YA_SCORING_HYBRID), "hybrid");
    CHECK(ya_round4(0.03125) == 0.0312 && ya_round4(0.323856) == 0.3239 && ya_round4(2.675) == 2.675);
}

int main(void) {
    YaScorer *sc;
    YaError e = {0};
    if (ya_scorer_new(&sc, &e)) {
        fprintf(stderr, "%s\n", e.message);
        return 1;
    }
    test_vectors(sc);
    test_hybrid_and_batch(sc);
    ya_scorer_free(sc);
    TEST_MAIN_END();
}

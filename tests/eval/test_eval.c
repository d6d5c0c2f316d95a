/* test_eval.c — unit tests of the eval module's model-free parts:
 *  - MC scores are identical under every permutation of the choices, and the
 *    permutation check itself catches a deliberately position-biased scorer;
 *  - MC1 / MC1-normalised / MC2 against their definitions;
 *  - JSONL and CSV benchmarks load to the same items; bad input names file:line;
 *  - prompt-suite keyword checks, letter parsing, rotations, position counts;
 *  - the SVG renderer escapes text. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "your_ai/eval.h"

/* ---- fake scorers ------------------------------------------------------------------- */

static uint64_t fnv(const char *s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

/* An honest scorer: a pseudo log-likelihood that depends only on (prompt, choice).
 * Choices starting with "tie" all get the same score, to exercise ties. */
static int honest(void *ctx, const char *prompt, const char *choice, int idx, double *ll, int *nt, YaError *err) {
    (void)ctx, (void)idx, (void)err;
    *ll = strncmp(choice, "tie", 3) == 0 ? -3.0 : -(double)((fnv(prompt) ^ fnv(choice)) % 1000) / 97.0;
    *nt = 1 + (int)(strlen(choice) % 5);
    return YA_OK;
}

/* Prefers whatever is listed first, as letter-generation scoring did (SPEC §11.1). */
static int biased(void *ctx, const char *prompt, const char *choice, int idx, double *ll, int *nt, YaError *err) {
    honest(ctx, prompt, choice, idx, ll, nt, err);
    if (idx == 0) *ll += 20.0;
    return YA_OK;
}

/* Argmax by first index on ties: order-dependent tie-breaking, the other classic bug. */
static int first_wins_ties(void *ctx, const char *prompt, const char *choice, int idx, double *ll, int *nt, YaError *err) {
    (void)prompt, (void)choice;
    (void)ctx, (void)err;
    *ll = -1.0 - 1e-9 * idx; /* all but equal, earlier listed slightly ahead */
    *nt = 1;
    return YA_OK;
}

/* ---- permutation invariance ------------------------------------------------------- */

static int next_perm(int *a, int n) {
    int i = n - 2;
    while (i >= 0 && a[i] >= a[i + 1]) i--;
    if (i < 0) return 0;
    int j = n - 1;
    while (a[j] <= a[i]) j--;
    int t = a[i];
    a[i] = a[j], a[j] = t;
    for (int l = i + 1, r = n - 1; l < r; l++, r--) t = a[l], a[l] = a[r], a[r] = t;
    return 1;
}

static YaMcItem make_item(const char *q, const char *const *choices, const int *labels, int n) {
    YaMcItem it = {0};
    it.id = strdup(q);
    it.question = strdup(q);
    it.n_choices = n;
    it.choices = calloc((size_t)n, sizeof *it.choices);
    it.labels = calloc((size_t)n, sizeof *it.labels);
    for (int j = 0; j < n; j++) {
        it.choices[j] = strdup(choices[j]);
        it.labels[j] = labels[j];
    }
    return it;
}

/* 1 iff every permutation of every item's choices gives bit-identical item scores. */
static int permutation_invariant(const YaMcSet *set, YaLoglikFn fn) {
    YaError err = {0};
    for (size_t i = 0; i < set->n; i++) {
        const YaMcItem *it = &set->items[i];
        YaMcSet one = {(YaMcItem *)it, 1};
        YaMcResult ref;
        if (ya_mc_run(&one, NULL, fn, NULL, &ref, &err)) return 0;
        int perm[8];
        for (int j = 0; j < it->n_choices; j++) perm[j] = j;
        int same = 1;
        while (same && next_perm(perm, it->n_choices)) {
            const char *ch[8];
            int lab[8];
            for (int j = 0; j < it->n_choices; j++) ch[j] = it->choices[perm[j]], lab[j] = it->labels[perm[j]];
            YaMcItem p = make_item(it->question, ch, lab, it->n_choices);
            YaMcSet ps = {&p, 1};
            YaMcResult r;
            if (ya_mc_run(&ps, NULL, fn, NULL, &r, &err)) return 0;
            same = r.per_item[0].mc1 == ref.per_item[0].mc1 && r.per_item[0].mc1_norm == ref.per_item[0].mc1_norm &&
                   memcmp(&r.per_item[0].mc2, &ref.per_item[0].mc2, sizeof(double)) == 0;
            ya_mc_result_free(&r, 1);
            free(p.id), free(p.question), free(p.labels);
            for (int j = 0; j < p.n_choices; j++) free(p.choices[j]);
            free(p.choices);
        }
        ya_mc_result_free(&ref, 1);
        if (!same) return 0;
    }
    return 1;
}

static void test_permutations(void) {
    const char *c1[] = {"Paris", "Lyon", "Marseille", "Nice", "Lille"};
    const int l1[] = {1, 0, 0, 0, 0};
    const char *c2[] = {"tie one", "tie two", "tie three", "other"};
    const int l2[] = {1, 0, 1, 0};
    const char *c3[] = {"a primary source", "a press release", "a textbook summary"};
    const int l3[] = {1, 1, 0};
    const char *c4[] = {"tie x", "tie y"};
    const int l4[] = {0, 1};
    YaMcItem items[4] = {make_item("Capital of France?", c1, l1, 5), make_item("Ties?", c2, l2, 4),
                         make_item("Best evidence?", c3, l3, 3), make_item("Pure tie?", c4, l4, 2)};
    YaMcSet set = {items, 4};
    CHECK(permutation_invariant(&set, honest));
    CHECK(!permutation_invariant(&set, biased));           /* the check can fail */
    /* A scorer with near-ties resolved by position is position-biased too: the check sees it on item 0. */
    YaMcSet first = {items, 1};
    CHECK(!permutation_invariant(&first, first_wins_ties));

    /* Exact ties count against the item whatever the order (item 3: both choices tie). */
    YaError err = {0};
    YaMcSet pure = {&items[3], 1};
    YaMcResult r;
    CHECK(ya_mc_run(&pure, NULL, honest, NULL, &r, &err) == YA_OK);
    CHECK(r.per_item[0].mc1 == 0);
    CHECK_NEAR(r.per_item[0].mc2, 0.5, 1e-15);
    ya_mc_result_free(&r, 1);
    /* set.items is a stack array: free the items' contents through a heap copy. */
    YaMcSet heap = {malloc(sizeof items), 4};
    memcpy(heap.items, items, sizeof items);
    ya_mc_set_free(&heap);
}

static void test_score_item(void) {
    const double ll[4] = {-2.0, -1.0, -3.5, -1.5};
    const int nt[4] = {1, 4, 1, 2};
    const int lab[4] = {0, 1, 1, 0};
    YaMcScore s;
    ya_mc_score_item(ll, nt, lab, 4, &s);
    CHECK(s.mc1 == 1); /* −1.0 (true) beats −1.5 */
    /* normalised: true −0.25, −3.5; false −2.0, −0.75 → true wins */
    CHECK(s.mc1_norm == 1);
    double num = exp(-1.0) + exp(-3.5), den = num + exp(-2.0) + exp(-1.5);
    CHECK_NEAR(s.mc2, num / den, 1e-15);
    /* Huge magnitudes: log-sum-exp keeps MC2 finite. */
    const double big[3] = {-5000.0, -5001.0, -5002.0};
    const int nt3[3] = {1, 1, 1}, lab3[3] = {0, 1, 0};
    ya_mc_score_item(big, nt3, lab3, 3, &s);
    CHECK(s.mc1 == 0);
    CHECK_NEAR(s.mc2, exp(-1.0) / (1 + exp(-1.0) + exp(-2.0)), 1e-12);
}

/* ---- loading --------------------------------------------------------------------------- */

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void test_load(const char *dir) {
    char pj[512], pc[512], pbad[512];
    snprintf(pj, sizeof pj, "%s/mc.jsonl", dir);
    snprintf(pc, sizeof pc, "%s/mc.csv", dir);
    snprintf(pbad, sizeof pbad, "%s/bad.jsonl", dir);
    write_file(pj, "{\"id\":\"q1\",\"question\":\"Who wrote it?\",\"choices\":[\"Alice, of course\",\"Bob \\\"B\\\"\"],\"labels\":[1,0],\"category\":\"x\"}\n"
                   "\n"
                   "{\"id\":\"q2\",\"question\":\"Two?\",\"choices\":[\"a\",\"b\",\"c\"],\"labels\":[0,1,1]}\n");
    write_file(pc, "id,question,choices,labels,category\r\n"
                   "q1,Who wrote it?,\"Alice, of course ||| Bob \"\"B\"\"\",1 0,x\r\n"
                   "q2,Two?,a ||| b ||| c,0 1 1,\r\n");
    YaMcSet a, b;
    YaError err = {0};
    CHECK(ya_mc_load(pj, &a, &err) == YA_OK);
    CHECK(ya_mc_load(pc, &b, &err) == YA_OK);
    CHECK(a.n == 2 && b.n == 2);
    for (size_t i = 0; i < a.n && i < b.n; i++) {
        CHECK_STREQ(a.items[i].id, b.items[i].id);
        CHECK_STREQ(a.items[i].question, b.items[i].question);
        CHECK(a.items[i].n_choices == b.items[i].n_choices);
        for (int j = 0; j < a.items[i].n_choices && j < b.items[i].n_choices; j++) {
            CHECK_STREQ(a.items[i].choices[j], b.items[i].choices[j]);
            CHECK(a.items[i].labels[j] == b.items[i].labels[j]);
        }
    }
    CHECK_STREQ(a.items[0].category, "x");
    CHECK(b.items[1].category == NULL);
    CHECK(a.items[1].line == 3);
    ya_mc_set_free(&a);
    ya_mc_set_free(&b);

    write_file(pbad, "{\"question\":\"ok\",\"choices\":[\"a\",\"b\"],\"labels\":[1,0]}\n"
                     "{\"question\":\"no true\",\"choices\":[\"a\",\"b\"],\"labels\":[0,0]}\n");
    CHECK(ya_mc_load(pbad, &a, &err) == YA_ERR);
    CHECK(strstr(err.message, "bad.jsonl:2:") != NULL);
    write_file(pbad, "{\"question\":\"ok\",\"choices\":[\"a\",\"b\"],\"labels\":[1]}\n");
    CHECK(ya_mc_load(pbad, &a, &err) == YA_ERR);
    CHECK(strstr(err.message, "bad.jsonl:1:") != NULL);
    write_file(pc, "id,question,choices,labels\nq,Q?,a ||| b,1 0 1\n");
    CHECK(ya_mc_load(pc, &a, &err) == YA_ERR);
    CHECK(strstr(err.message, "mc.csv:2:") != NULL);
}

/* ---- prompt suite ------------------------------------------------------------------------ */

static void test_checks(void) {
    char *req[] = {"primary", "original document", "court record"};
    char *forb[] = {"trust the experts"};
    YaSuiteChecks c = {req, 3, 2, forb, 1, 20};
    YaCheckResult r;
    ya_suite_check(&c, "The PRIMARY evidence is the Original Document itself.", 0, &r);
    CHECK(r.pass && r.n_required_found == 2);
    ya_suite_check(&c, "The primary evidence is the original document; trust the experts.", 0, &r);
    CHECK(!r.pass && r.forbidden_found == 1);
    ya_suite_check(&c, "primary only, nothing else of use here", 0, &r);
    CHECK(!r.pass && r.n_required_found == 1);
    ya_suite_check(&c, "primary, original document", 0, &r); /* 27 chars */
    CHECK(r.pass);
    ya_suite_check(&c, "primary original document", 0, &r); /* 25 chars ≥ 20 */
    CHECK(r.pass);
    c.min_chars = 30;
    ya_suite_check(&c, "primary original document", 0, &r);
    CHECK(!r.pass && r.too_short);
    c.min_chars = 0;
    ya_suite_check(&c, "<think>primary original document", 0, &r); /* unclosed think: truncated */
    CHECK(!r.pass && r.truncated);
    ya_suite_check(&c, "<think>trust the experts</think>primary, original document", 0, &r); /* only the answer counts */
    CHECK(r.pass && r.forbidden_found == 0);
    ya_suite_check(&c, "primary, original document", 1, &r); /* hit the token limit */
    CHECK(!r.pass && r.truncated);

    CHECK(ya_suite_parse_letter("The answer is B) because", 4) == 1);
    CHECK(ya_suite_parse_letter("Answer: (c)", 4) == -1); /* lower case is not a letter choice */
    CHECK(ya_suite_parse_letter("A BOOK says C.", 4) == 0);
    CHECK(ya_suite_parse_letter("Based on D", 3) == -1);  /* D is out of range for 3 choices */
    CHECK(ya_suite_parse_letter("<think>A</think> C", 4) == 2);
    CHECK(ya_suite_parse_letter("", 2) == -1);
}

typedef struct FakeGen {
    int calls;
} FakeGen;

/* Always answers "A", with the keywords the free item wants. */
static int always_a(void *ctx, const char *prompt, char **answer, int *hit_limit, YaError *err) {
    (void)err;
    ((FakeGen *)ctx)->calls++;
    *hit_limit = 0;
    *answer = strdup(strstr(prompt, "A)") ? "A) is my pick" : "Go to the primary source, the original record itself.");
    return YA_OK;
}

static void test_suite(const char *dir) {
    char p[512];
    snprintf(p, sizeof p, "%s/suite.jsonl", dir);
    write_file(p, "{\"id\":\"m1\",\"category\":\"primary_vs_secondary\",\"type\":\"mc\",\"prompt\":\"Best source?\","
                  "\"choices\":[\"a summary\",\"the original\",\"a blog\",\"a tweet\"],\"answer_index\":1}\n"
                  "{\"id\":\"f1\",\"category\":\"citation_chain\",\"type\":\"free\",\"prompt\":\"Where to look?\","
                  "\"checks\":{\"require_any\":[\"primary\",\"original\"],\"require_min\":2,\"forbid\":[\"wikipedia\"],\"min_chars\":10}}\n");
    YaSuite s;
    YaError err = {0};
    CHECK(ya_suite_load(p, &s, &err) == YA_OK);
    CHECK(s.n == 2 && s.items[0].is_mc && s.items[0].answer_index == 1 && s.items[1].checks.require_min == 2);
    char *r1 = ya_suite_mc_prompt(&s.items[0], 1);
    /* rotation 1: choice k at position k+1, so A) shows choice 3 and B) choice 0. */
    CHECK(strstr(r1, "A) a tweet\nB) a summary\nC) the original\nD) a blog\n") != NULL);
    free(r1);
    FakeGen g = {0};
    YaSuiteResult r;
    CHECK(ya_suite_run(&s, always_a, &g, NULL, &r, &err) == YA_OK);
    CHECK(g.calls == 5 && r.total == 5);
    CHECK(r.position_counts[0] == 4 && r.position_counts[26] == 0);
    /* "always A" passes the mc item under exactly one rotation of four. */
    CHECK(r.n_cats == 2 && r.cats[0].passed == 1 && r.cats[0].n == 4);
    CHECK(r.cats[1].passed == 1 && r.cats[1].n == 1);
    double lo, hi;
    ya_wilson95(1, 4, &lo, &hi);
    CHECK_NEAR(r.cats[0].lo, lo, 0);
    CHECK(lo > 0.04 && lo < 0.05 && hi > 0.69 && hi < 0.71); /* 0.0456, 0.6994 */
    ya_suite_result_free(&r);
    ya_suite_free(&s);

    write_file(p, "{\"id\":\"m1\",\"category\":\"c\",\"type\":\"mc\",\"prompt\":\"?\",\"choices\":[\"a\",\"b\"],\"answer_index\":2}\n");
    CHECK(ya_suite_load(p, &s, &err) == YA_ERR);
    CHECK(strstr(err.message, "suite.jsonl:1:") && strstr(err.message, "answer_index"));
    write_file(p, "{\"id\":\"f\",\"category\":\"c\",\"type\":\"open\",\"prompt\":\"?\"}\n");
    CHECK(ya_suite_load(p, &s, &err) == YA_ERR);
    CHECK(strstr(err.message, "suite.jsonl:1:") != NULL);
}

static void test_svg(void) {
    const char *labels[2] = {"a<b & \"c\"", "auth low"};
    double t[2] = {12.5, 30.0}, b[2] = {11.0, NAN};
    char *svg = ya_plot_svg_render("T & t", labels, t, b, 2, "tuned", "base");
    CHECK(svg != NULL);
    CHECK(strstr(svg, "a&lt;b &amp; &quot;c&quot;") != NULL);
    CHECK(strstr(svg, "T &amp; t") != NULL);
    CHECK(strstr(svg, "<svg") && strstr(svg, "</svg>"));
    free(svg);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : ".";
    test_permutations();
    test_score_item();
    test_load(dir);
    test_checks();
    test_suite(dir);
    test_svg();
    TEST_MAIN_END();
}

/* test_prepare_units.c — each step of `prepare` on its own (SPEC §5.2, §5.3).
 *
 * Expected values are worked out by hand from the SPEC text (noted beside each
 * case), never copied from this code's output. */
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "your_ai/prepare.h"
#include "your_ai/rng.h"
#include "your_ai/scorer.h"
#include "your_ai/sha256.h"

static char *repeat(const char *unit, size_t times) {
    size_t n = strlen(unit);
    char *s = malloc(n * times + 1);
    for (size_t i = 0; i < times; i++) memcpy(s + i * n, unit, n);
    s[n * times] = '\0';
    return s;
}

static void test_filename_map(void) {
    struct { const char *name, *type; } cases[] = {
        {"big_patent_wiki.jsonl", "patent_pre1970"},      /* first key wins over wiki */
        {"HUPD_2010.jsonl", "patent_pre1970"},            /* lowercased */
        {"pg19_philosophy.jsonl", "classical_philosophy"}, /* philosophy precedes pg19 in the key order */
        {"gutenberg.jsonl", "classical_literature"},
        {"speech_wiki.jsonl", "classical_rhetoric"},
        {"chronicling_america.jsonl", "historical_newspaper"},
        {"AmericanStories-1900.jsonl", "historical_newspaper"},
        {"internet_archive_books.jsonl", "historical_book"},
        {"arxiv_s2orc.jsonl", "preprint"},                /* arxiv precedes s2orc */
        {"sciq_medical.jsonl", "academic_paper"},         /* sciq precedes medical */
        {"logical_wiki.jsonl", "logic_training"},
        {"Wikipedia_en.jsonl", "wiki"},
        {"medical_meadow.jsonl", "medical_guidelines"},
        {"cnn_dailymail.jsonl", "news_modern"},
        {"dir/sub/pes2o.jsonl", "academic_paper"},        /* only the basename counts */
        {"government_docs.jsonl", NULL},                  /* no filename maps to government */
        {"random.jsonl", NULL},
        {"dir_wiki/random.jsonl", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *got = ya_prepare_source_type_for_filename(cases[i].name);
        if (!cases[i].type) CHECK_MSG(got == NULL, "%s -> %s", cases[i].name, got ? got : "NULL");
        else CHECK_MSG(got && strcmp(got, cases[i].type) == 0, "%s -> %s", cases[i].name, got ? got : "NULL");
    }
    YaSourceOverride ov[2];
    YaError err = {0};
    CHECK(ya_prepare_parse_override("random.jsonl=government", &ov[0], &err) == YA_OK);
    CHECK_STREQ(ov[0].file, "random.jsonl");
    CHECK_STREQ(ov[0].type, "government");
    CHECK(ya_prepare_parse_override("big_patent.jsonl=wiki", &ov[1], &err) == YA_OK);
    CHECK_STREQ(ya_prepare_resolve_source_type("random.jsonl", ov, 2), "government");
    CHECK_STREQ(ya_prepare_resolve_source_type("big_patent.jsonl", ov, 2), "wiki"); /* override beats the name */
    CHECK_STREQ(ya_prepare_resolve_source_type("gutenberg.jsonl", ov, 2), "classical_literature");
    CHECK(ya_prepare_resolve_source_type("other.jsonl", ov, 2) == NULL);
    const char *bad[] = {"noequals", "=government", "file.jsonl=", "dir/file.jsonl=wiki"};
    for (size_t i = 0; i < 4; i++) CHECK_MSG(ya_prepare_parse_override(bad[i], &ov[0], &err) == YA_ERR_USAGE, "%s", bad[i]);
}

static int extract(const char *json, char **text) {
    json_error_t je;
    json_t *rec = json_loads(json, 0, &je);
    if (!rec) {
        fprintf(stderr, "bad test JSON: %s\n", je.text);
        return -9;
    }
    size_t len;
    int got = ya_prepare_extract_text(rec, text, &len);
    if (got == 1) CHECK(strlen(*text) == len);
    json_decref(rec);
    return got;
}

static void test_extraction(void) {
    char *t, buf[4096];
    char *e100 = repeat("\xc3\xa9", 100), *e99 = repeat("\xc3\xa9", 99), *e50 = repeat("\xc3\xa9", 50);
    char *a60 = repeat("a", 60), *b200 = repeat("b", 200), *x120 = repeat("x", 120), *y120 = repeat("y", 120);

    /* exactly 100 code points (200 bytes) is kept; 99 (198 bytes) is dropped */
    snprintf(buf, sizeof buf, "{\"text\": \"%s\"}", e100);
    CHECK(extract(buf, &t) == 1 && strcmp(t, e100) == 0);
    free(t);
    snprintf(buf, sizeof buf, "{\"text\": \"%s\"}", e99);
    CHECK(extract(buf, &t) == 0 && t == NULL);
    /* 50 code points is not > 50: the next field is tried */
    snprintf(buf, sizeof buf, "{\"text\": \"%s\", \"content\": \"%s\"}", e50, x120);
    CHECK(extract(buf, &t) == 1 && strcmp(t, x120) == 0);
    free(t);
    /* 60 code points is chosen, then dropped as < 100: no fall-through */
    snprintf(buf, sizeof buf, "{\"text\": \"%s\", \"content\": \"%s\"}", a60, b200);
    CHECK(extract(buf, &t) == 0);
    /* field order, not key order: abstract comes before title */
    snprintf(buf, sizeof buf, "{\"title\": \"%s\", \"abstract\": \"%s\"}", x120, y120);
    CHECK(extract(buf, &t) == 1 && strcmp(t, y120) == 0);
    free(t);
    /* falsy values are skipped */
    snprintf(buf, sizeof buf, "{\"text\": \"\", \"content\": 0, \"body\": false, \"abstract\": null, \"ocr_eng\": \"%s\"}", x120);
    CHECK(extract(buf, &t) == 1 && strcmp(t, x120) == 0);
    free(t);
    /* the string form of a list is Python's repr: ['xxx', 'yyy'] */
    char *x60 = repeat("x", 60), *y60 = repeat("y", 60);
    snprintf(buf, sizeof buf, "{\"text\": [\"%s\", \"%s\"]}", x60, y60);
    char want[512];
    snprintf(want, sizeof want, "['%s', '%s']", x60, y60);
    CHECK(extract(buf, &t) == 1 && strcmp(t, want) == 0);
    free(t);
    /* fallback: first 3 string fields > 20 code points, in key order, joined by spaces */
    char *x21 = repeat("x", 21), *y40 = repeat("y", 40), *z50 = repeat("z", 50), *w30 = repeat("w", 30), *v20 = repeat("v", 20);
    snprintf(buf, sizeof buf, "{\"k1\": \"%s\", \"k2\": \"%s\", \"k3\": \"%s\", \"k4\": 5, \"k5\": \"%s\", \"k6\": \"%s\"}", v20,
             x21, y40, z50, w30);
    snprintf(want, sizeof want, "%s %s %s", x21, y40, z50); /* 21+1+40+1+50 = 113 code points */
    CHECK(extract(buf, &t) == 1 && strcmp(t, want) == 0);
    free(t);
    /* fallback too short overall */
    snprintf(buf, sizeof buf, "{\"k1\": \"%s\", \"k2\": \"%s\"}", x21, y40);
    CHECK(extract(buf, &t) == 0);
    CHECK(extract("{}", &t) == 0);

    json_t *v = json_loads("[1.5, true, null, {\"k\": \"it's\"}, \"a\\nb\", 1923.0, 1e16, -7]", 0, NULL);
    char *s = ya_json_python_str(v);
    CHECK_STREQ(s, "[1.5, True, None, {'k': \"it's\"}, 'a\\nb', 1923.0, 1e+16, -7]");
    free(s);
    json_decref(v);

    json_t *rec = json_loads("{\"text\": \"t\", \"url\": \"u\", \"content\": \"c\", \"year\": 1961, \"body\": \"b\", "
                             "\"ok\": true, \"n\": null, \"arr\": [1], \"obj\": {}, \"w\": 0.5}", 0, NULL);
    json_t *meta = ya_prepare_metadata(rec);
    char *m = json_dumps(meta, JSON_COMPACT | JSON_PRESERVE_ORDER);
    CHECK_STREQ(m, "{\"url\":\"u\",\"year\":1961,\"ok\":true,\"w\":0.5}");
    free(m);
    json_decref(meta);
    json_decref(rec);

    CHECK(ya_utf8_count_cp("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10) == 4);
    CHECK(ya_utf8_prefix_bytes("a\xc3\xa9\xe2\x82\xac", 6, 2) == 3);
    CHECK(ya_utf8_prefix_bytes("abc", 3, 8192) == 3);
    free(e100), free(e99), free(e50), free(a60), free(b200), free(x120), free(y120), free(x60), free(y60);
    free(x21), free(y40), free(z50), free(w30), free(v20);
}

static void test_dedup(void) {
    const char *in = "  Hello\xc2\xa0\tWORLD \n\n \xc3\x9c" "n\xc3\xaf" "code \xc2\xa0 ";
    size_t n;
    char *norm = ya_prepare_normalize(in, strlen(in), &n);
    CHECK_STREQ(norm, "hello world \xc3\x9c" "n\xc3\xaf" "code"); /* only ASCII is lowercased */
    CHECK(n == strlen(norm));
    free(norm);
    norm = ya_prepare_normalize(" \t\n", 3, &n);
    CHECK(n == 0 && norm[0] == '\0');
    free(norm);
    uint8_t d1[32], d2[32], d3[32];
    char hex[65];
    CHECK(ya_prepare_dedup_key("Hello World", 11, d1) == YA_OK);
    CHECK(ya_prepare_dedup_key("hello \xc2\xa0  world\n", 16, d2) == YA_OK);
    CHECK(ya_prepare_dedup_key("hello world.", 12, d3) == YA_OK);
    ya_digest_to_hex(d1, hex);
    CHECK_STREQ(hex, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"); /* sha256("hello world") */
    CHECK(memcmp(d1, d2, 32) == 0);
    CHECK(memcmp(d1, d3, 32) != 0);

    YaDigestSet set;
    ya_digest_set_init(&set);
    size_t fresh = 0;
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 3000; i++) {
            char txt[32];
            uint8_t d[32];
            snprintf(txt, sizeof txt, "doc %d", i);
            ya_prepare_dedup_key(txt, strlen(txt), d);
            int r = ya_digest_set_insert(&set, d);
            CHECK(r == (round == 0));
            fresh += r == 1;
        }
    CHECK(fresh == 3000 && set.count == 3000);
    ya_digest_set_free(&set);
}

static void test_caps(void) {
    CHECK(ya_prepare_cap_for_prior(0.15, 80000) == 26666);
    CHECK(ya_prepare_cap_for_prior(0.95, 80000) == 13333);
    CHECK(ya_prepare_cap_for_prior(0.50, 80000) == 16000);
    CHECK(ya_prepare_cap_for_prior(0.30, 80000) == 16000); /* 0.3 is mid */
    CHECK(ya_prepare_cap_for_prior(0.70, 80000) == 16000); /* 0.7 is mid */
    CHECK(ya_prepare_cap_for_prior(0.29, 100) == 33);
    CHECK(ya_prepare_cap_for_prior(0.71, 100) == 16);
    size_t keep[100], keep2[100], keep3[100];
    CHECK(ya_prepare_cap_select(42, "f.jsonl", 10, 20, keep) == 10);
    for (size_t i = 0; i < 10; i++) CHECK(keep[i] == i);
    CHECK(ya_prepare_cap_select(42, "f.jsonl", 100, 10, keep) == 10);
    CHECK(ya_prepare_cap_select(42, "f.jsonl", 100, 10, keep2) == 10);
    CHECK(ya_prepare_cap_select(42, "g.jsonl", 100, 10, keep3) == 10);
    CHECK(memcmp(keep, keep2, 10 * sizeof *keep) == 0);      /* deterministic */
    CHECK(memcmp(keep, keep3, 10 * sizeof *keep) != 0);      /* per-file stream */
    for (size_t i = 0; i < 10; i++) CHECK(keep[i] < 100 && (i == 0 || keep[i] > keep[i - 1])); /* file order */
    /* the sample is the first `cap` of a top-down Fisher–Yates on stream "cap:<file>" */
    uint64_t perm[100];
    for (int i = 0; i < 100; i++) perm[i] = (uint64_t)i;
    YaRng rng;
    ya_rng_seed(&rng, 42, "cap:f.jsonl");
    for (size_t i = 100; i > 1; i--) {
        size_t j = (size_t)ya_rng_below(&rng, i);
        uint64_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
    for (size_t i = 0; i < 10; i++) {
        int found = 0;
        for (size_t k = 0; k < 10; k++) found |= perm[k] == keep[i];
        CHECK(found);
    }
}

static void fill(double *w, size_t *n, size_t n_low, size_t n_mid, size_t n_high) {
    /* interleaved so the rebalance has to pick bands out of a mixed list */
    size_t l = 0, m = 0, h = 0;
    *n = 0;
    while (l < n_low || m < n_mid || h < n_high) {
        if (m < n_mid) w[(*n)++] = m++ % 2 ? 0.3 : 0.7;   /* both band edges are mid */
        if (h < n_high) w[(*n)++] = h++ % 2 ? 0.7001 : 0.95;
        if (l < n_low) w[(*n)++] = l++ % 2 ? 0.2999 : 0.0;
    }
}

static void check_rebalance(size_t n_low, size_t n_mid, size_t n_high, int applied, size_t want_low, size_t want_mid,
                            size_t want_high, size_t T) {
    double w[1000];
    size_t n, keep[1000], n_keep;
    fill(w, &n, n_low, n_mid, n_high);
    YaRebalanceReport r;
    YaError err = {0};
    CHECK(ya_prepare_rebalance(w, n, 7, keep, &n_keep, &r, &err) == YA_OK);
    CHECK_MSG(r.applied == applied, "low %zu mid %zu high %zu", n_low, n_mid, n_high);
    CHECK(r.before[0] == n_low && r.before[1] == n_mid && r.before[2] == n_high);
    CHECK_MSG(r.after[0] == want_low && r.after[1] == want_mid && r.after[2] == want_high, "after %zu %zu %zu", r.after[0],
              r.after[1], r.after[2]);
    CHECK(n_keep == want_low + want_mid + want_high);
    if (applied) CHECK_MSG(r.target_total == T, "T %zu", r.target_total);
    size_t count[3] = {0};
    unsigned char seen[1000] = {0};
    for (size_t i = 0; i < n_keep; i++) {
        CHECK(keep[i] < n && !seen[keep[i]]);
        seen[keep[i]] = 1;
        count[ya_prepare_band(w[keep[i]])]++;
        if (i > 0 && (i < want_low || !applied)) CHECK(keep[i] > keep[i - 1]); /* low items first, in order */
        if (applied && i < want_low) CHECK(ya_prepare_band(w[keep[i]]) == YA_BAND_LOW);
    }
    CHECK(count[0] == want_low && count[1] == want_mid && count[2] == want_high);
}

static void test_rebalance(void) {
    CHECK(ya_prepare_band(0.2999) == YA_BAND_LOW);
    CHECK(ya_prepare_band(0.3) == YA_BAND_MID);
    CHECK(ya_prepare_band(0.7) == YA_BAND_MID);
    CHECK(ya_prepare_band(0.7001) == YA_BAND_HIGH);
    /* low 10 of 120: T = 10/0.25 = 40, high_t = floor(0.35*40) = 14, mid_t = 40-10-14 = 16 */
    check_rebalance(10, 60, 50, 1, 10, 16, 14, 40);
    /* too few high: all 5 kept, mid still 16 */
    check_rebalance(10, 60, 5, 1, 10, 16, 5, 40);
    /* low 7: T = 28, 0.35*28 = 9.799999999999999 → 9, mid_t = 28-7-9 = 12 */
    check_rebalance(7, 100, 100, 1, 7, 12, 9, 28);
    /* low 19 of 100 (< 20%): T = 76, 0.35*76 = 26.599999999999998 → 26, mid_t = 31 */
    check_rebalance(19, 40, 41, 1, 19, 31, 26, 76);
    /* low share exactly 20%: unchanged */
    check_rebalance(20, 40, 40, 0, 20, 40, 40, 0);
    /* n_low = 0 is an error, not an empty set */
    double w[3] = {0.5, 0.9, 0.8};
    size_t keep[3], n_keep;
    YaError err = {0};
    CHECK(ya_prepare_rebalance(w, 3, 1, keep, &n_keep, NULL, &err) == YA_ERR);
    CHECK(strstr(err.message, "no low-authority") != NULL);
    /* same seed, same choice; another seed, another choice */
    double w2[1000];
    size_t n, k1[1000], k2[1000], k3[1000], n1, n2, n3;
    fill(w2, &n, 10, 300, 300);
    ya_prepare_rebalance(w2, n, 1, k1, &n1, NULL, &err);
    ya_prepare_rebalance(w2, n, 1, k2, &n2, NULL, &err);
    ya_prepare_rebalance(w2, n, 2, k3, &n3, NULL, &err);
    CHECK(n1 == n2 && memcmp(k1, k2, n1 * sizeof *k1) == 0);
    CHECK(n1 == n3 && memcmp(k1, k3, n1 * sizeof *k1) != 0);
}

static void test_largest_remainder(void) {
    size_t out[4];
    size_t w1[3] = {5, 3, 2};
    ya_largest_remainder(w1, 3, 5, NULL, out); /* 2.5, 1.5, 1.0: tie → the earlier group */
    CHECK(out[0] == 3 && out[1] == 1 && out[2] == 1);
    size_t tie[3] = {1, 0, 2};
    ya_largest_remainder(w1, 3, 5, tie, out); /* tie order puts group 1 first */
    CHECK(out[0] == 2 && out[1] == 2 && out[2] == 1);
    size_t w2[3] = {7, 2, 1};
    ya_largest_remainder(w2, 3, 3, NULL, out); /* 2.1, 0.6, 0.3 → 2, 1, 0 */
    CHECK(out[0] == 2 && out[1] == 1 && out[2] == 0);
    size_t w3[4] = {1, 1, 1, 0};
    ya_largest_remainder(w3, 4, 2, NULL, out); /* 2/3 each → two of the three get 1 */
    CHECK(out[0] == 1 && out[1] == 1 && out[2] == 0 && out[3] == 0);
}

static void test_split(void) {
    enum { N = 100 };
    size_t group[N];
    /* A 50, B 30, C 20, interleaved */
    size_t a = 0, b = 0, c = 0, n = 0;
    while (n < N) {
        if (a < 50) group[n++] = 0, a++;
        if (b < 30 && n < N) group[n++] = 1, b++;
        if (c < 20 && n < N) group[n++] = 2, c++;
    }
    YaSplitGroup g[3];
    memset(g, 0, sizeof g);
    unsigned char assign[N];
    YaError err = {0};
    /* val 10 → 5/3/2; train = min(1000, 90) → 45/27/18 */
    CHECK(ya_prepare_split(group, N, g, 3, 1000, 10, 1, 42, assign, &err) == YA_OK);
    CHECK(g[0].val == 5 && g[1].val == 3 && g[2].val == 2);
    CHECK(g[0].train == 45 && g[1].train == 27 && g[2].train == 18);
    size_t seen[3] = {0}, tr = 0, va = 0;
    for (size_t i = 0; i < N; i++) {
        size_t s = seen[group[i]]++;
        /* within a group: train first, then val, in order */
        CHECK(assign[i] == (s < g[group[i]].train ? YA_SPLIT_TRAIN : YA_SPLIT_VAL));
        tr += assign[i] == YA_SPLIT_TRAIN, va += assign[i] == YA_SPLIT_VAL;
    }
    CHECK(tr == 90 && va == 10);
    /* train 50 of the 90 left: 25/15/10, 40 dropped */
    CHECK(ya_prepare_split(group, N, g, 3, 50, 10, 1, 42, assign, &err) == YA_OK);
    CHECK(g[0].train == 25 && g[1].train == 15 && g[2].train == 10);
    size_t dropped = 0;
    for (size_t i = 0; i < N; i++) dropped += assign[i] == YA_SPLIT_DROP;
    CHECK(dropped == 40);
    /* unstratified: the first 50 train, the next 10 val */
    CHECK(ya_prepare_split(group, N, g, 3, 50, 10, 0, 42, assign, &err) == YA_OK);
    for (size_t i = 0; i < N; i++) CHECK(assign[i] == (i < 50 ? YA_SPLIT_TRAIN : i < 60 ? YA_SPLIT_VAL : YA_SPLIT_DROP));
    /* uneven: sizes 7/2/1, val 3 → 2.1/0.6/0.3 → 2/1/0; train the rest 5/1/1 */
    size_t g2[10] = {0, 0, 0, 0, 0, 0, 0, 1, 1, 2};
    CHECK(ya_prepare_split(g2, 10, g, 3, 100, 3, 1, 42, assign, &err) == YA_OK);
    CHECK(g[0].val == 2 && g[1].val == 1 && g[2].val == 0);
    CHECK(g[0].train == 5 && g[1].train == 1 && g[2].train == 1);
    /* N <= val_size is an error */
    CHECK(ya_prepare_split(g2, 10, g, 3, 100, 10, 1, 42, assign, &err) == YA_ERR);
    CHECK(strstr(err.message, "--val-size") != NULL);

    size_t o1[50], o2[50], o3[50];
    for (size_t i = 0; i < 50; i++) o1[i] = o2[i] = o3[i] = i;
    ya_prepare_shuffle(42, o1, 50);
    ya_prepare_shuffle(42, o2, 50);
    ya_prepare_shuffle(43, o3, 50);
    CHECK(memcmp(o1, o2, sizeof o1) == 0 && memcmp(o1, o3, sizeof o1) != 0);
}

static void test_round(void) {
    /* the scorer's ya_round4, which prepare uses: half-to-even on the exact binary value, as Python's round(x, 4) */
    CHECK(ya_round4(0.12345) == 0.1235); /* 0.12345 is 0.123450000000000004...: rounds up */
    CHECK(ya_round4(0.00005) == 0.0001); /* 5.00000000000000023e-05 */
    CHECK(ya_round4(0.00015) == 0.0001); /* 1.49999999999999993e-04 */
    CHECK(ya_round4(0.00125) == 0.0013);  /* 0.00125000000000000002...: above the tie, up */
    CHECK(ya_round4(0.50005) == 0.5);     /* 0.50004999999999999449...: below the tie, down */
    CHECK(ya_round4(0.1 + 0.2) == 0.3);
}

int main(void) {
    test_filename_map();
    test_extraction();
    test_dedup();
    test_caps();
    test_rebalance();
    test_largest_remainder();
    test_split();
    test_round();
    TEST_MAIN_END();
}

/* test_distrust_loss.c — SPEC §2.4 vectors, validation (must-error list, codes,
 * messages), validate_inputs diagnostics, §3.4 λ auto-calibration and the
 * §3.3(b) weighted-mode properties (mean ŵ = 1, λ = 0 gives ω = 1 exactly).
 * The double-precision grid against Python lives in loss_grid_check.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "your_ai/distrust.h"

static double L(double w, double h, double a) {
    double v = -1;
    YaError e = {0};
    CHECK_MSG(ya_distrust_loss(w, h, a, &v, &e) == YA_DISTRUST_OK, "(%g,%g,%g): %s", w, h, a, e.message);
    return v;
}

/* SPEC rounding convention: within half a unit of the last printed digit. */
#define CHECK_PRINTED(x, want, half) CHECK_MSG(fabs((x) - (want)) <= (half), "%.10f vs %.10f", (double)(x), (double)(want))

static void test_vectors(void) {
    CHECK_PRINTED(ya_distrust_component(0.05, 7.5), 7.448707, 5e-7);
    CHECK_PRINTED(L(0.05, 7.5, 2.7), 149.8047, 5e-5);
    CHECK_PRINTED(ya_distrust_component(0.90, 1.0), -1.302585, 5e-7);
    CHECK_PRINTED(L(0.90, 1.0, 2.7), 4.5812, 5e-5);
    double r = L(0.05, 7.5, 2.7) / L(0.90, 1.0, 2.7);
    CHECK_PRINTED(r, 32.7001, 5e-5);
    CHECK(r >= 25 && r <= 40);
    const double alphas[] = {2.3, 2.5, 2.7, 2.9, 3.0};
    for (int i = 0; i < 5; i++) CHECK_PRINTED(L(0.05, 7.5, alphas[i]) / L(0.9, 1.0, alphas[i]), 32.7001, 5e-5);
    CHECK_PRINTED(L(0.05, 7.5, 2.3), 127.6114, 5e-5);
    CHECK_PRINTED(L(0.90, 1.0, 2.3), 3.9025, 5e-5);
    CHECK_PRINTED(L(0.05, 7.5, 3.0), 166.4497, 5e-5);
    CHECK_PRINTED(L(0.90, 1.0, 3.0), 5.0902, 5e-5);
    CHECK_PRINTED(ya_distrust_component(0.05, 7.0), 6.948707, 5e-7);
    CHECK_PRINTED(L(0.05, 7.0, 2.7), 130.3682, 5e-5);
    CHECK_PRINTED(ya_distrust_component(0.02, 8.9), 8.879797, 5e-7);
    CHECK_PRINTED(L(0.02, 8.9, 2.7), 212.8972, 5e-5);
    CHECK_PRINTED(ya_distrust_component(0.10, 6.0), 5.894639, 5e-7);
    CHECK_PRINTED(L(0.10, 6.0, 2.7), 93.8163, 5e-5);
    CHECK_PRINTED(ya_distrust_component(0.90, 0.2), -2.102585, 5e-7);
    CHECK_PRINTED(L(0.90, 0.2, 2.7), 11.9363, 5e-5);
    CHECK_PRINTED(ya_distrust_component(0.95, 0.5), -2.495732, 5e-7);
    CHECK_PRINTED(L(0.95, 0.5, 2.7), 16.8174, 5e-5);
    CHECK_PRINTED(ya_distrust_component(0.85, 1.5), -0.397120, 5e-7);
    CHECK_PRINTED(L(0.85, 1.5, 2.7), 0.4258, 5e-5);
    CHECK(L(0.9, 0.2, 2.7) < 20 && L(0.95, 0.5, 2.7) < 20 && L(0.85, 1.5, 2.7) < 20);
    CHECK_PRINTED(ya_distrust_component(0.5, 5.0), 4.306853, 5e-7);
    CHECK_NEAR(L(0.5, 5.0, 2.7), 50.0822, 1e-5);
    CHECK(L(0.0, 0.0, 2.7) >= 0 && L(0.0, 0.0, 2.7) < 1e-12);
    CHECK_PRINTED(L(0.99, 0.0, 2.7), 57.2605, 5e-5);
    CHECK_PRINTED(L(0.99, 5.0, 2.7), 0.4209, 5e-5);
    CHECK_PRINTED(L(0.0, 10.0, 2.7), 270.0, 5e-5);
    /* ℓ = 0 exactly where H = −ln(1 − w + ε) */
    CHECK(L(0.9, -log(1 - 0.9 + 1e-8), 2.7) < 1e-20);

    /* Batch forms. */
    double w[3] = {0.05, 0.5, 0.9}, h[3] = {7.5, 5, 1}, out[3];
    YaError e = {0};
    CHECK(ya_distrust_loss_batch(w, 3, h, 3, 2.7, YA_REDUCE_MEAN, out, &e) == YA_DISTRUST_OK);
    CHECK_PRINTED(out[0], 68.1560, 5e-5);
    CHECK(ya_distrust_loss_batch(w, 3, h, 3, 2.7, YA_REDUCE_SUM, out, &e) == YA_DISTRUST_OK);
    CHECK_PRINTED(out[0], 204.4681, 5e-5);
    CHECK(ya_distrust_loss_batch(w, 3, h, 3, 2.7, YA_REDUCE_NONE, out, &e) == YA_DISTRUST_OK);
    CHECK(out[0] > 0 && out[1] > 0 && out[2] > 0);
    CHECK(out[0] == L(0.05, 7.5, 2.7) && out[2] == L(0.9, 1.0, 2.7));
    double h2[3] = {7, 4, 1};
    CHECK(ya_distrust_loss_batch(w, 3, h2, 3, 2.7, YA_REDUCE_MEAN, out, &e) == YA_DISTRUST_OK);
    CHECK_PRINTED(out[0], 54.8249, 5e-5);
    /* A batch of one equals the scalar form, and so does the array form. */
    CHECK(ya_distrust_loss_batch(w, 1, h, 1, 2.7, YA_REDUCE_MEAN, out, &e) == YA_DISTRUST_OK);
    CHECK(out[0] == L(0.05, 7.5, 2.7));
    double arr;
    CHECK(ya_distrust_loss_array(w, h, 1, 2.7, &arr, &e) == YA_DISTRUST_OK && arr == L(0.05, 7.5, 2.7));
    CHECK(ya_distrust_loss_array(w, h, 3, 2.7, &arr, &e) == YA_DISTRUST_OK);
    CHECK_NEAR(arr, 204.4681401265657, 1e-12);
}

static void test_errors(void) {
    const struct { double w, h, a; YaDistrustCode code; const char *msg; } bad[] = {
        {-0.1, 5, 2.7, YA_E_AUTH_RANGE, "authority_weight must be in range [0.0, 0.99], got -0.1"},
        {1.0, 5, 2.7, YA_E_AUTH_RANGE, "authority_weight must be in range [0.0, 0.99], got 1.0"},
        {1.5, 5, 2.7, YA_E_AUTH_RANGE, "got 1.5"},
        {0.5, -1, 2.7, YA_E_ENTROPY_RANGE, "provenance_entropy must be non-negative, got -1.0"},
        {0.5, 5, 2.0, YA_E_ALPHA_RANGE, "alpha should be in Brian's recommended range [2.3, 3.0], got 2.0"},
        {0.5, 5, 3.5, YA_E_ALPHA_RANGE, "got 3.5"},
        {0.5, 5, 1.0, YA_E_ALPHA_RANGE, "got 1.0"},
        {NAN, 5, 2.7, YA_E_AUTH_RANGE, "got nan"},
        {0.5, NAN, 2.7, YA_E_ENTROPY_RANGE, "got nan"},
        {0.5, INFINITY, 2.7, YA_E_ENTROPY_RANGE, "got inf"},
        {INFINITY, 5, 2.7, YA_E_AUTH_RANGE, "got inf"},
        {0.5, 5, NAN, YA_E_ALPHA_RANGE, "got nan"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        YaError e = {0};
        double v;
        YaDistrustCode c = ya_distrust_loss(bad[i].w, bad[i].h, bad[i].a, &v, &e);
        CHECK_MSG(c == bad[i].code, "case %zu: %s", i, ya_distrust_code_name(c));
        CHECK_MSG(strstr(e.message, bad[i].msg) != NULL, "case %zu: '%s'", i, e.message);
        /* The same inside a batch, at index 2, reported by index. */
        double w[3] = {0.1, 0.2, bad[i].w}, h[3] = {5, 5, bad[i].h}, out[3];
        YaError eb = {0};
        c = ya_distrust_loss_batch(w, 3, h, 3, bad[i].a, YA_REDUCE_MEAN, out, &eb);
        CHECK_MSG(c == bad[i].code, "batch case %zu: %s", i, ya_distrust_code_name(c));
        if (c == YA_E_AUTH_RANGE) CHECK_MSG(strstr(eb.message, "authority_weights[2]") != NULL, "%s", eb.message);
        if (c == YA_E_ENTROPY_RANGE) CHECK_MSG(strstr(eb.message, "provenance_entropies[2]") != NULL, "%s", eb.message);
        double arr;
        CHECK(ya_distrust_loss_array(w, h, 3, bad[i].a, &arr, &eb) == bad[i].code);
    }
    /* Inclusive bounds are valid. */
    double v;
    YaError e = {0};
    CHECK(ya_distrust_loss(0.99, 0, 2.3, &v, &e) == YA_DISTRUST_OK);
    CHECK(ya_distrust_loss(0.0, 0, 3.0, &v, &e) == YA_DISTRUST_OK);
    /* Shapes and reductions. */
    double w[2] = {0.1, 0.2}, h[3] = {1, 2, 3}, out[3];
    CHECK(ya_distrust_loss_batch(w, 2, h, 3, 2.7, YA_REDUCE_MEAN, out, &e) == YA_E_BATCH_SHAPE);
    CHECK_STREQ(e.message, "Batch size mismatch: authority_weights has 2 samples but provenance_entropies has 3");
    CHECK(ya_distrust_loss_batch(w, 0, h, 0, 2.7, YA_REDUCE_MEAN, out, &e) == YA_E_BATCH_SHAPE);
    CHECK(ya_distrust_loss_array(w, h, 0, 2.7, out, &e) == YA_E_BATCH_SHAPE);
    YaReduction red;
    CHECK(ya_distrust_reduction_parse("max", &red, &e) == YA_E_REDUCTION);
    CHECK_STREQ(e.message, "Unknown reduction: max. Use 'mean', 'sum', or 'none'.");
    CHECK(ya_distrust_reduction_parse("none", &red, &e) == YA_DISTRUST_OK && red == YA_REDUCE_NONE);
    CHECK(ya_distrust_loss_batch(w, 2, h, 2, 2.7, (YaReduction)7, out, &e) == YA_E_REDUCTION);
    CHECK_STREQ(ya_distrust_code_name(YA_E_AUTH_RANGE), "E_AUTH_RANGE");
    CHECK_STREQ(ya_distrust_code_name(YA_E_REDUCTION), "E_REDUCTION");
}

static void test_diagnostics(void) {
    char m[1024];
    CHECK(ya_distrust_validate_inputs(0.05, 7.5, m, sizeof m) == 1);
    CHECK(strstr(m, "GOOD") && strstr(m, "Low authority_weight") && strstr(m, "High provenance_entropy"));
    CHECK_STREQ(m, "GOOD: Low authority_weight (0.05) indicates primary source - will be rewarded\n"
                   "GOOD: High provenance_entropy (7.5 bits) indicates diverse primary sources - will be rewarded\n"
                   "Estimated loss contribution: 149.80");
    CHECK(ya_distrust_validate_inputs(0.90, 1.0, m, sizeof m) == 1);
    CHECK(strstr(m, "WARNING") && strstr(m, "Very high authority_weight") && strstr(m, "Very low provenance_entropy"));
    CHECK(strstr(m, "(0.90)") && strstr(m, "(1.0 bits)") && strstr(m, "Estimated loss contribution: 4.58"));
    CHECK(ya_distrust_validate_inputs(1.5, 5, m, sizeof m) == 0);
    CHECK_STREQ(m, "authority_weight 1.5 outside valid range [0.0, 0.99]");
    CHECK(ya_distrust_validate_inputs(0.5, -1, m, sizeof m) == 0);
    CHECK_STREQ(m, "provenance_entropy -1.0 cannot be negative");
    CHECK(ya_distrust_validate_inputs(0, 0, m, sizeof m) == 1);
    CHECK(strstr(m, "Estimated loss contribution: 0.00") != NULL);
    CHECK(ya_distrust_validate_inputs(0.5, 3.0, m, sizeof m) == 1); /* no authority/entropy line */
    CHECK_STREQ(m, "Estimated loss contribution: 14.37");
    CHECK(ya_distrust_validate_inputs(NAN, 3.0, m, sizeof m) == 0);
    CHECK(ya_distrust_validate_inputs(0.5, NAN, m, sizeof m) == 0);
    CHECK(ya_distrust_validate_inputs(0.5, INFINITY, m, sizeof m) == 0);
    CHECK(strstr(m, "Estimated") == NULL);
    char tiny[8];
    ya_distrust_validate_inputs(0.05, 7.5, tiny, sizeof tiny); /* truncates, stays terminated */
    CHECK(strlen(tiny) < sizeof tiny);
}

static void test_auto_lambda(void) {
    CHECK_PRINTED(ya_distrust_auto_lambda_from_means(0.45, 3.6, 10), 0.186632, 5e-7);
    CHECK(ya_distrust_auto_lambda_from_means(0.5, 5.0, 0) == 0.6);
    CHECK(ya_distrust_auto_lambda_from_means(0.5, 0.5, 3) == 1.0);       /* comp ≈ 0: clamped */
    CHECK(ya_distrust_auto_lambda_from_means(0.0, 100.0, 3) == 0.001);   /* huge comp: clamped */
    const char *path = "test_auto_lambda.jsonl";
    FILE *fp = fopen(path, "w");
    /* mean w 0.45, mean H 3.6 over used lines; a bad line and a defaulted line */
    fprintf(fp, "{\"auth_weight\": 0.3, \"prov_entropy\": 3.1}\n");
    fprintf(fp, "not json\n");
    fprintf(fp, "{\"auth_weight\": 0.55, \"prov_entropy\": 2.7}\n");
    fprintf(fp, "{\"text\": \"no fields: 0.5 / 5.0\"}\n");
    fclose(fp);
    double lam;
    size_t used;
    YaError e = {0};
    CHECK(ya_distrust_auto_lambda(path, &lam, &used, &e) == YA_OK);
    CHECK(used == 3);
    CHECK_NEAR(lam, ya_distrust_auto_lambda_from_means((0.3 + 0.55 + 0.5) / 3, (3.1 + 2.7 + 5.0) / 3, 3), 1e-15);
    CHECK_PRINTED(lam, 0.186632, 5e-7);
    /* Only the first 100 lines count. */
    fp = fopen(path, "w");
    for (int i = 0; i < 100; i++) fprintf(fp, "{\"auth_weight\": 0.45, \"prov_entropy\": 3.6}\n");
    fprintf(fp, "{\"auth_weight\": 0.0, \"prov_entropy\": 50}\n");
    fclose(fp);
    CHECK(ya_distrust_auto_lambda(path, &lam, &used, &e) == YA_OK && used == 100);
    CHECK_PRINTED(lam, 0.186632, 5e-7);
    fp = fopen(path, "w");
    fprintf(fp, "garbage\n");
    fclose(fp);
    CHECK(ya_distrust_auto_lambda(path, &lam, &used, &e) == YA_OK && used == 0 && lam == 0.6);
    remove(path);
    CHECK(ya_distrust_auto_lambda("/nonexistent/train.jsonl", &lam, &used, &e) == YA_ERR);
}

static void test_weights(void) {
    enum { N = 1000 };
    static double w[N], h[N], wh[N], om[N];
    unsigned s = 12345;
    for (int i = 0; i < N; i++) {
        s = s * 1103515245u + 12345u;
        w[i] = (s >> 8) % 100 / 100.0 * 0.99;
        s = s * 1103515245u + 12345u;
        h[i] = (s >> 8) % 1000 / 100.0;
    }
    YaDistrustWeightParams p = ya_distrust_weight_params_default();
    YaError e = {0};
    double mu, c;
    CHECK(ya_distrust_dataset_weights(w, h, N, &p, wh, om, &mu, &c, &e) == YA_DISTRUST_OK);
    double sw = 0, so = 0, mn = 1e9, mx = 0;
    for (int i = 0; i < N; i++) {
        sw += wh[i];
        so += om[i];
        mn = fmin(mn, wh[i]);
        mx = fmax(mx, wh[i]);
    }
    CHECK_MSG(fabs(sw / N - 1.0) <= 1e-12, "mean w_hat = %.17g", sw / N); /* SPEC §3.3 required test 1 */
    CHECK_MSG(fabs(so / N - 1.0) <= 1e-12, "mean omega = %.17g", so / N);
    CHECK(mn >= p.w_min / c - 1e-15 && mx <= p.w_max / c + 1e-15);
    /* λ = 0: every ω exactly 1.0 (required test 4). */
    p.lambda = 0.0;
    CHECK(ya_distrust_dataset_weights(w, h, N, &p, wh, om, NULL, NULL, &e) == YA_DISTRUST_OK);
    int all_one = 1;
    for (int i = 0; i < N; i++) all_one &= om[i] == 1.0;
    CHECK(all_one);
    /* λ = 1: ω = ŵ. */
    p.lambda = 1.0;
    CHECK(ya_distrust_dataset_weights(w, h, N, &p, wh, om, NULL, NULL, &e) == YA_DISTRUST_OK);
    CHECK(om[5] == wh[5] && om[17] == wh[17]);
    /* μ = 0 → every r = 1 → ŵ = 1. */
    double w0[2] = {0.9, 0.9}, h0[2] = {-log(0.1 + 1e-8), -log(0.1 + 1e-8)};
    p.lambda = 0.6;
    CHECK(ya_distrust_dataset_weights(w0, h0, 2, &p, wh, om, &mu, &c, &e) == YA_DISTRUST_OK);
    CHECK(wh[0] == 1.0 && om[1] == 1.0);
    /* Bad elements are rejected by index; bad params by name. */
    double wb[2] = {0.1, 1.2};
    CHECK(ya_distrust_dataset_weights(wb, h, 2, &p, wh, om, NULL, NULL, &e) == YA_E_AUTH_RANGE);
    CHECK(strstr(e.message, "element 1") != NULL);
    p.lambda = 1.5;
    CHECK(ya_distrust_weight_params_check(&p, &e) == YA_ERR_USAGE);
    p = ya_distrust_weight_params_default();
    CHECK(ya_distrust_weight_params_check(&p, &e) == YA_OK);

    /* Running mode: checkpoint/resume mid-way reproduces every ω bit for bit. */
    double d[40], om_a[40], om_b[40];
    for (int i = 0; i < 40; i++) {
        double v;
        ya_distrust_loss(w[i], h[i], 2.7, &v, &e);
        d[i] = v;
    }
    YaDistrustRunning ra = {0}, rb = {0};
    for (int step = 0; step < 10; step++) ya_distrust_running_update(&ra, d + 4 * step, 4, &p, NULL, om_a + 4 * step);
    for (int step = 0; step < 5; step++) ya_distrust_running_update(&rb, d + 4 * step, 4, &p, NULL, om_b + 4 * step);
    YaDistrustRunning saved = rb, resumed = saved; /* what a checkpoint stores */
    for (int step = 5; step < 10; step++)
        ya_distrust_running_update(&resumed, d + 4 * step, 4, &p, NULL, om_b + 4 * step);
    CHECK(memcmp(om_a, om_b, sizeof om_a) == 0);
    CHECK(resumed.n == 40 && resumed.sum_d == ra.sum_d && resumed.sum_r == ra.sum_r);
    /* Running μ after all samples equals the dataset μ (same summation order). */
    YaDistrustNormStats st = {0};
    for (int i = 0; i < 40; i++) ya_distrust_norm_add(&st, d[i]);
    CHECK(ya_distrust_norm_mu(&st) == ra.sum_d / 40);
    CHECK(ya_distrust_ratio(5.0, 0.0, 0.05, 20) == 1.0);
    CHECK(ya_distrust_ratio(1000.0, 1.0, 0.05, 20) == 20.0);
    CHECK(ya_distrust_ratio(0.0, 1.0, 0.05, 20) == 0.05);
    CHECK(ya_distrust_omega(123.0, 0.0) == 1.0);
}

int main(void) {
    test_vectors();
    test_errors();
    test_diagnostics();
    test_auto_lambda();
    test_weights();
    TEST_MAIN_END();
}

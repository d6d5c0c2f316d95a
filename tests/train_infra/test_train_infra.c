/* test_train_infra.c — schedule (SPEC §8 table and errors), LoRA parameter set
 * (SPEC §7 counts, init distribution, determinism, PEFT keys), gradient norm
 * and clipping rule, progress display and metrics JSONL.
 * Usage: test_train_infra PYTHON TOOLS_DIR WORK_DIR (only WORK_DIR is used). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "your_ai/fileio.h"
#include "your_ai/json.h"
#include "your_ai/lora.h"
#include "your_ai/memory.h"
#include "your_ai/metrics.h"
#include "your_ai/optimizer.h"
#include "your_ai/progress.h"
#include "your_ai/rng.h"
#include "your_ai/schedule.h"

static const char *g_work;

static void test_schedule(void) {
    YaLrSchedule s;
    YaError err;
    CHECK(ya_schedule_init(&s, 5e-5, 100, 5000, &err) == YA_OK);
    /* SPEC §8 table (lr0 5e-5, W 100, S 5000), to the digits the table gives. */
    const long long u[] = {0, 1, 50, 99, 100, 2550, 4999};
    const double want[] = {1e-7, 5.99e-7, 2.505e-5, 4.9501e-5, 5e-5, 2.5e-5, 5.1383e-12};
    for (int i = 0; i < 7; i++) {
        double lr = ya_schedule_lr(&s, u[i]);
        CHECK_MSG(fabs(lr - want[i]) <= 5e-5 * want[i], "lr(%lld) = %.10g, SPEC table %.10g", u[i], lr, want[i]);
    }
    /* W = 0 starts at lr0; the curve is monotone decreasing after warmup. */
    CHECK(ya_schedule_init(&s, 1e-3, 0, 10, &err) == YA_OK);
    CHECK(ya_schedule_lr(&s, 0) == 1e-3);
    for (int i = 1; i < 10; i++) CHECK(ya_schedule_lr(&s, i) < ya_schedule_lr(&s, i - 1));
    /* Errors. */
    CHECK(ya_schedule_init(&s, 5e-5, -1, 5000, &err) == YA_ERR_USAGE);
    CHECK(ya_schedule_init(&s, 5e-5, 100, 0, &err) == YA_ERR_USAGE);
    CHECK(ya_schedule_init(&s, 5e-5, 100, 100, &err) == YA_ERR_USAGE);
    CHECK_MSG(strstr(err.message, "--warmup-steps 2") != NULL, "suggestion max(1, S//50) missing: %s", err.message);
    CHECK(ya_schedule_init(&s, 5e-5, 500, 60, &err) == YA_ERR_USAGE);
    CHECK_MSG(strstr(err.message, "try --warmup-steps 1") != NULL, "%s", err.message);
    CHECK(ya_schedule_init(&s, 0, 1, 60, &err) == YA_ERR_USAGE);
}

static YaModelConfig llama3_8b(void) {
    YaModelConfig c;
    memset(&c, 0, sizeof c);
    c.hidden_size = 4096;
    c.intermediate_size = 14336;
    c.num_hidden_layers = 32;
    c.num_attention_heads = 32;
    c.num_key_value_heads = 8;
    c.head_dim = 128;
    c.vocab_size = 128256;
    return c;
}

static YaModelConfig tiny(void) {
    YaModelConfig c;
    memset(&c, 0, sizeof c);
    c.hidden_size = 64;
    c.intermediate_size = 160;
    c.num_hidden_layers = 4;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.head_dim = 16;
    c.vocab_size = 100;
    return c;
}

static void test_lora_counts_and_parse(void) {
    YaModelConfig mc = llama3_8b();
    YaLoraConfig lc;
    ya_lora_config_defaults(&lc);
    CHECK(ya_lora_param_count(&mc, &lc) == 41943040ull);
    ya_lora_config_reference(&lc);
    CHECK(ya_lora_param_count(&mc, &lc) == 54525952ull);
    /* The planned table agrees with the formula (no allocation: plan only). */
    YaLoraSet set;
    YaError err;
    CHECK(ya_lora_create(&mc, &lc, 0, &set, &err) == YA_OK);
    CHECK(set.n_params == 54525952u && set.n_tensors == 64 && set.first_layer == 16 && set.params == NULL);
    CHECK_STREQ(set.t[0].key_a, "base_model.model.model.layers.16.self_attn.q_proj.lora_A.weight");
    CHECK_STREQ(set.t[63].key_b, "base_model.model.model.layers.31.self_attn.o_proj.lora_B.weight");
    CHECK(set.t[1].in == 4096 && set.t[1].out == 1024); /* k_proj: [n_kv·d, h] */
    ya_lora_free(&set);
    ya_lora_config_defaults(&lc);
    CHECK(ya_lora_create(&mc, &lc, 0, &set, &err) == YA_OK);
    CHECK(set.n_params == 41943040u);
    const YaLoraTensor *down = ya_lora_find(&set, 5, YA_LORA_DOWN);
    CHECK(down && down->in == 14336 && down->out == 4096);
    CHECK(down && strcmp(down->key_a, "base_model.model.model.layers.5.mlp.down_proj.lora_A.weight") == 0);
    ya_lora_free(&set);

    unsigned m;
    CHECK(ya_lora_parse_targets("q,k,v", &m, &err) == YA_OK && m == 7u);
    CHECK(ya_lora_parse_targets("q_proj, v_proj ,down_proj", &m, &err) == YA_OK &&
          m == (YA_LORA_BIT(YA_LORA_Q) | YA_LORA_BIT(YA_LORA_V) | YA_LORA_BIT(YA_LORA_DOWN)));
    CHECK(ya_lora_parse_targets("all", &m, &err) == YA_OK && m == YA_LORA_ALL_MASK);
    CHECK(ya_lora_parse_targets("attn", &m, &err) == YA_OK && m == YA_LORA_ATTN_MASK);
    CHECK(ya_lora_parse_targets("q,lm_head", &m, &err) == YA_ERR_USAGE && strstr(err.message, "lm_head"));
    CHECK(ya_lora_parse_targets("q,,k", &m, &err) == YA_ERR_USAGE);
    char buf[128];
    ya_lora_format_targets(YA_LORA_BIT(YA_LORA_O) | YA_LORA_BIT(YA_LORA_UP), buf, sizeof buf);
    CHECK_STREQ(buf, "o_proj,up_proj");

    /* Usage errors. */
    mc = tiny();
    ya_lora_config_defaults(&lc);
    lc.layers = 5; /* > L = 4 */
    CHECK(ya_lora_create(&mc, &lc, 1, &set, &err) == YA_ERR_USAGE && strstr(err.message, "--lora-layers"));
    lc.layers = 0;
    CHECK(ya_lora_create(&mc, &lc, 1, &set, &err) == YA_ERR_USAGE);
    ya_lora_config_defaults(&lc);
    lc.rank = 0;
    CHECK(ya_lora_create(&mc, &lc, 1, &set, &err) == YA_ERR_USAGE && strstr(err.message, "--lora-rank"));
    ya_lora_config_defaults(&lc);
    lc.dropout = 1.0;
    CHECK(ya_lora_create(&mc, &lc, 1, &set, &err) == YA_ERR_USAGE);
}

static void test_lora_init(void) {
    YaModelConfig mc = tiny();
    YaLoraConfig lc;
    ya_lora_config_defaults(&lc);
    lc.rank = 8;
    YaLoraSet a, b, q_only;
    YaError err;
    CHECK(ya_lora_create(&mc, &lc, 1, &a, &err) == YA_OK);
    CHECK(ya_lora_create(&mc, &lc, 1, &b, &err) == YA_OK);
    CHECK(((uintptr_t)a.params % 64) == 0 && ((uintptr_t)a.v % 64) == 0);
    CHECK(a.n_params == ya_lora_param_count(&mc, &lc));
    omp_set_num_threads(1);
    ya_lora_init_params(&a, 42);
    omp_set_num_threads(2);
    ya_lora_init_params(&b, 42);
    CHECK(memcmp(a.params, b.params, a.n_params * sizeof(float)) == 0); /* thread count does not matter */

    /* Every A inside ±1/√in, every B exactly 0; moments of U(−b, b): mean 0, var b²/3. */
    for (size_t i = 0; i < a.n_tensors; i++) {
        const YaLoraTensor *e = &a.t[i];
        const float *A = a.params + e->a_off, *B = a.params + e->b_off;
        const double bound = 1.0 / sqrt((double)e->in);
        size_t na = (size_t)lc.rank * e->in, out_of_bounds = 0, nonzero_b = 0, bins[10] = {0};
        double sum = 0, sum2 = 0;
        for (size_t j = 0; j < na; j++) {
            out_of_bounds += fabs((double)A[j]) > bound;
            sum += A[j];
            sum2 += (double)A[j] * A[j];
            int bin = (int)((A[j] / bound + 1.0) * 5.0);
            bins[bin < 0 ? 0 : bin > 9 ? 9 : bin]++;
        }
        for (size_t j = 0; j < (size_t)e->out * lc.rank; j++) nonzero_b += B[j] != 0.0f;
        CHECK_MSG(out_of_bounds == 0 && nonzero_b == 0, "%s: %zu A values out of bounds, %zu non-zero B", e->key_a,
                  out_of_bounds, nonzero_b);
        double mean = sum / na, var = sum2 / na - mean * mean, want_var = bound * bound / 3.0;
        /* 4-sigma tolerances for na ≥ 512 samples. */
        CHECK_MSG(fabs(mean) < 4.0 * sqrt(want_var / na), "%s: mean %g", e->key_a, mean);
        CHECK_MSG(fabs(var - want_var) < 4.0 * want_var * sqrt(0.8 / na), "%s: var %g vs %g", e->key_a, var, want_var);
        for (int k = 0; k < 10; k++)
            CHECK_MSG(fabs((double)bins[k] / na - 0.1) < 4.0 * sqrt(0.09 / na), "%s: bin %d holds %zu of %zu",
                      e->key_a, k, bins[k], na);
    }
    /* Per-tensor streams: a tensor's values do not depend on which others exist. */
    lc.targets = YA_LORA_BIT(YA_LORA_Q);
    lc.layers = 2;
    CHECK(ya_lora_create(&mc, &lc, 1, &q_only, &err) == YA_OK);
    ya_lora_init_params(&q_only, 42);
    const YaLoraTensor *x = ya_lora_find(&q_only, 3, YA_LORA_Q), *y = ya_lora_find(&a, 3, YA_LORA_Q);
    CHECK(x && y && memcmp(q_only.params + x->a_off, a.params + y->a_off, (size_t)lc.rank * x->in * sizeof(float)) == 0);
    /* A different seed gives different values; distinct tensors differ. */
    ya_lora_init_params(&b, 43);
    CHECK(memcmp(a.params, b.params, (size_t)lc.rank * a.t[0].in * sizeof(float)) != 0);
    CHECK(memcmp(a.params + a.t[0].a_off, a.params + a.t[1].a_off, 64 * sizeof(float)) != 0);
    ya_lora_free(&a);
    ya_lora_free(&b);
    ya_lora_free(&q_only);
}

static void test_norm_and_clip(void) {
    const size_t n = 100003;
    float *g = malloc(n * sizeof *g), *h = malloc(n * sizeof *h);
    YaRng rng;
    ya_rng_seed(&rng, 1, "test-norm");
    long double ref = 0; /* independent: one sequential long-double sum */
    for (size_t i = 0; i < n; i++) {
        g[i] = (float)ya_rng_normal(&rng);
        ref += (long double)g[i] * g[i];
    }
    omp_set_num_threads(1);
    double n1 = ya_grad_global_norm(g, n);
    omp_set_num_threads(2);
    double n2 = ya_grad_global_norm(g, n);
    CHECK(memcmp(&n1, &n2, sizeof n1) == 0); /* bitwise, any thread count */
    CHECK_NEAR(n1, sqrtl(ref), 1e-12);
    /* Clipping: norm ≥ max → scaled by max/(norm+1e-6); below → untouched. */
    memcpy(h, g, n * sizeof *g);
    double pre = ya_clip_grad_norm(h, n, 1.0);
    CHECK(pre == n1);
    CHECK_NEAR(ya_grad_global_norm(h, n), n1 / (n1 + 1e-6), 1e-6);
    CHECK_NEAR(h[7], g[7] * (float)(1.0 / (n1 + 1e-6)), 1e-7);
    memcpy(h, g, n * sizeof *g);
    ya_clip_grad_norm(h, n, n1 * 2);
    CHECK(memcmp(h, g, n * sizeof *g) == 0);
    ya_clip_grad_norm(h, n, 0.0); /* ≤ 0 disables */
    CHECK(memcmp(h, g, n * sizeof *g) == 0);
    g[5] = NAN;
    memcpy(h, g, n * sizeof *g);
    CHECK(isnan(ya_clip_grad_norm(h, n, 1.0)));
    CHECK(h[6] == g[6]);
    /* Accumulation helpers. */
    ya_grad_zero(h, n);
    ya_grad_accumulate(h, g + 1, 10);
    ya_grad_accumulate(h, g + 1, 10);
    ya_grad_scale(h, 10, 0.5f);
    CHECK(h[0] == g[1] && h[9] == g[10]);
    free(g);
    free(h);
}

static void test_progress(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/progress.txt", g_work);
    FILE *fp = fopen(path, "w+");
    CHECK(fp != NULL);
    if (!fp) return;
    YaProgress p;
    ya_progress_init(&p, fp, 0, 5000, 100, 1000.0);
    YaProgressInfo info = {.step = 120, .loss = 2.34567, .tok_per_s = 1234.4, .lr = 4.5e-5, .now = 1010.0,
                           .mem_bytes = (uint64_t)(3.2 * 1073741824.0)};
    ya_progress_update(&p, &info, 0); /* plain mode prints only log steps */
    ya_progress_update(&p, &info, 1);
    /* 20 steps in 10 s → 0.5 s/step; 4880 steps left → 2440 s = 40m40s. */
    const char *want = "step 120/5000 | loss 2.3457 | 1234 tok/s | lr 4.50e-05 | ETA 40m40s | mem 3.2 GiB\n";
    char buf[8192] = {0};
    rewind(fp);
    size_t got = fread(buf, 1, sizeof buf - 1, fp);
    CHECK_MSG(got == strlen(want) && strcmp(buf, want) == 0, "plain progress line: '%s'", buf);
    fclose(fp);
    /* Bar mode: redraws are throttled to 10/s, but always on a log step. */
    fp = fopen(path, "w+");
    ya_progress_init(&p, fp, 1, 100, 0, 0.0);
    info.mem_bytes = 1 << 20;
    for (int i = 1; i <= 50; i++) {
        info.step = i;
        info.now = i * 0.01; /* 50 updates in 0.5 s */
        ya_progress_update(&p, &info, i == 25);
    }
    ya_progress_message(&p, "saved %s", "checkpoint-50");
    ya_progress_finish(&p);
    rewind(fp);
    memset(buf, 0, sizeof buf);
    size_t len = fread(buf, 1, sizeof buf - 1, fp);
    int draws = 0;
    for (size_t i = 0; i + 1 < len; i++) draws += buf[i] == '\r' && buf[i + 1] == '[';
    CHECK_MSG(draws >= 5 && draws <= 8, "%d redraws for 50 updates in 0.5 s", draws);
    CHECK(strstr(buf, "saved checkpoint-50\n") != NULL);
    fclose(fp);
    char eta[32];
    CHECK_STREQ(ya_progress_format_eta(3 * 3600 + 7 * 60 + 5, eta, sizeof eta), "3h07m");
    CHECK_STREQ(ya_progress_format_eta(NAN, eta, sizeof eta), "?");
    CHECK(ya_mem_peak_rss() > 0 && ya_mem_current_rss() > 0 && ya_mem_peak_rss() >= ya_mem_current_rss() / 2);
}

static int count_lines(const char *path, long long *steps, int cap) {
    char *text = NULL;
    size_t len = 0;
    YaError err;
    if (ya_read_file(path, &text, &len, &err)) return -1;
    int n = 0;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        if (!nl) break;
        json_t *o = NULL;
        if (ya_json_parse(line, (size_t)(nl - line), path, 0, &o, &err) == YA_OK && n < cap)
            steps[n] = json_integer_value(json_object_get(o, "step"));
        json_decref(o);
        n++;
        line = nl + 1;
    }
    free(text);
    return n;
}

static void test_metrics(void) {
    char out[4096], path[4200];
    snprintf(out, sizeof out, "%s/metrics-run", g_work);
    YaMetrics *m;
    YaError err;
    CHECK(ya_metrics_open(out, -1, &m, &err) == YA_OK);
    if (!m) return;
    for (int s = 0; s <= 20; s += 10) {
        YaTrainMetrics row = {.step = s, .total = 2.5 - s * 0.01, .ce = 2.4, .wce = NAN, .distrust = 0.1,
                              .grad_norm = 1.5, .lr = 1e-5, .tok_per_s = 1000, .elapsed = s};
        CHECK(ya_metrics_log_train(m, &row, &err) == YA_OK);
    }
    snprintf(path, sizeof path, "%s", ya_metrics_jsonl_path(m));
    CHECK(strstr(ya_metrics_tb_path(m), "/logs/events.out.tfevents.") != NULL);
    ya_metrics_close(m);
    char *text = NULL;
    size_t len;
    CHECK(ya_read_file(path, &text, &len, &err) == YA_OK);
    const char *first = "{\"step\":0,\"split\":\"train\",\"total\":2.5,\"ce\":2.4,\"wce\":null,\"distrust\":0.1,"
                        "\"grad_norm\":1.5,\"lr\":1e-05,\"tok_per_s\":1000.0,\"elapsed\":0.0}\n";
    CHECK_MSG(text && strncmp(text, first, strlen(first)) == 0, "metrics line: %.200s", text ? text : "");
    free(text);
    /* A crash left a partial line; resuming from step 10 keeps steps 0 and 10. */
    FILE *fp = fopen(path, "ab");
    fputs("{\"step\":30,\"split\":\"tr", fp);
    fclose(fp);
    CHECK(ya_metrics_open(out, 10, &m, &err) == YA_OK);
    YaMetric extra[] = {{"ppl", 12.5}};
    CHECK(ya_metrics_log(m, "val", 20, 0, 1, extra, &err) == YA_OK);
    ya_metrics_close(m);
    long long steps[8];
    int n = count_lines(path, steps, 8);
    CHECK_MSG(n == 3 && steps[0] == 0 && steps[1] == 10 && steps[2] == 20, "%d lines after resume", n);
}

int main(int argc, char **argv) {
    g_work = argc > 3 ? argv[3] : "train_infra_work";
    YaError err;
    if (ya_mkdirs(g_work, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    test_schedule();
    test_lora_counts_and_parse();
    test_lora_init();
    test_norm_and_clip();
    test_progress();
    test_metrics();
    TEST_MAIN_END();
}

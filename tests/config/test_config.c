/* test_config.c — config.json parsing (SPEC §6.1), presets, and RoPE frequencies.
 *
 * Usage: test_config DATA_DIR ROPE_REF
 *   DATA_DIR  tests/config/data (real-shaped config.json files of each family)
 *   ROPE_REF  output of `tools/st_ref.py rope DATA_DIR/NAME.json ...`: inv_freq per file
 *             from transformers' rules re-implemented in torch float64.
 * Parameter counts are checked against the published sizes of the real models. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"
#include "your_ai/config.h"
#include "your_ai/fileio.h"

static const char *g_data;

static int load(const char *name, YaModelConfig *cfg, YaError *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", g_data, name);
    return ya_config_load(path, cfg, err);
}

static int parse(const char *json, YaModelConfig *cfg, YaError *err) {
    return ya_config_parse(json, strlen(json), "config.json", cfg, err);
}

static void test_families(void) {
    YaError err = {0};
    YaModelConfig c;
    CHECK_MSG(load("llama3_top.json", &c, &err) == 0, "%s", err.message);
    CHECK(c.arch == YA_ARCH_LLAMA && c.hidden_size == 2048 && c.num_key_value_heads == 8 && c.head_dim == 64);
    CHECK(c.rope_type == YA_ROPE_LLAMA3 && c.rope_factor == 32 && c.rope_low_freq_factor == 1 &&
          c.rope_high_freq_factor == 4 && c.rope_original_max_pos == 8192 && c.rope_theta == 500000);
    CHECK(c.tie_word_embeddings == 1 && c.bos_token_id == 128000 && c.n_eos == 3 && c.eos_token_ids[2] == 128009);
    CHECK_STREQ(c.torch_dtype, "bfloat16");
    CHECK(c.rms_norm_eps == 1e-5 && c.max_position_embeddings == 131072);
    CHECK(ya_config_param_count(&c) == 1235814400ull); /* Llama-3.2-1B */

    YaModelConfig n;
    CHECK_MSG(load("llama3_nested.json", &n, &err) == 0, "%s", err.message);
    CHECK(n.rope_type == YA_ROPE_LLAMA3 && n.rope_theta == 500000 && n.rope_factor == 32 &&
          n.rope_original_max_pos == 8192);
    CHECK_STREQ(n.torch_dtype, "bfloat16"); /* transformers 5 'dtype' */
    double a[64], b[64];
    ya_rope_inv_freq(&c, a);
    ya_rope_inv_freq(&n, b);
    CHECK(memcmp(a, b, sizeof(double) * 32) == 0); /* both RoPE forms → same frequencies */

    CHECK_MSG(load("llama3_8b_legacy_type.json", &c, &err) == 0, "%s", err.message);
    CHECK(c.rope_type == YA_ROPE_LLAMA3 && c.rope_factor == 8 && c.head_dim == 128 && !c.tie_word_embeddings);
    CHECK(c.n_eos == 1 && c.eos_token_ids[0] == 128001 && c.bos_token_id == -1);
    CHECK(ya_config_param_count(&c) == 8030261248ull); /* Llama-3.1-8B */

    CHECK_MSG(load("llama2_7b.json", &c, &err) == 0, "%s", err.message);
    CHECK(c.rope_type == YA_ROPE_DEFAULT && c.rope_theta == 10000 && c.num_key_value_heads == 32);
    CHECK(ya_config_param_count(&c) == 6738415616ull); /* Llama-2-7B */

    CHECK_MSG(load("mistral_7b.json", &c, &err) == 0, "%s", err.message);
    CHECK(c.arch == YA_ARCH_MISTRAL && c.sliding_window == 4096 && !c.attention_bias);
    CHECK(ya_config_param_count(&c) == 7241732096ull); /* Mistral-7B-v0.1 */

    CHECK_MSG(load("qwen2_05b.json", &c, &err) == 0, "%s", err.message);
    CHECK(c.arch == YA_ARCH_QWEN2 && c.attention_bias && !c.o_bias && !c.mlp_bias);
    CHECK(c.sliding_window == 0); /* use_sliding_window false */
    CHECK(c.rms_norm_eps == 1e-6 && c.rope_theta == 1e6 && c.head_dim == 64);
    CHECK(ya_config_param_count(&c) == 494032768ull); /* Qwen2-0.5B */

    CHECK_MSG(load("smollm_135m.json", &c, &err) == 0, "%s", err.message);
    CHECK(c.head_dim == 64 && c.num_key_value_heads == 3 && c.bos_token_id == 0 && c.eos_token_ids[0] == 0);
    CHECK(ya_config_param_count(&c) == 134515008ull); /* SmolLM-135M */

    CHECK_MSG(load("explicit_head_dim.json", &c, &err) == 0, "%s", err.message);
    CHECK(c.head_dim == 96 && c.attention_bias && c.o_bias && c.mlp_bias);

    CHECK_MSG(load("linear.json", &c, &err) == 0, "%s", err.message);
    CHECK(c.rope_type == YA_ROPE_LINEAR && c.rope_factor == 4 && c.num_key_value_heads == 8);
    CHECK_MSG(load("linear_nested.json", &n, &err) == 0, "%s", err.message);
    ya_rope_inv_freq(&c, a);
    ya_rope_inv_freq(&n, b);
    CHECK(memcmp(a, b, sizeof(double) * 16) == 0);

    /* qwen2 with use_sliding_window */
    CHECK(parse("{\"model_type\":\"qwen2\",\"hidden_size\":64,\"intermediate_size\":128,\"num_hidden_layers\":1,"
                "\"num_attention_heads\":4,\"vocab_size\":10,\"rms_norm_eps\":1e-6,\"use_sliding_window\":true,"
                "\"sliding_window\":32}",
                &c, &err) == 0);
    CHECK(c.sliding_window == 32);
}

/* Each bad config must fail with a message containing every listed substring. */
#define EXPECT_BAD(json, ...)                                                                              \
    do {                                                                                                   \
        YaError e_ = {0};                                                                                  \
        YaModelConfig c_;                                                                                  \
        CHECK_MSG(parse(json, &c_, &e_) == YA_ERR, "accepted: %s", json);                                  \
        const char *subs_[] = {"config.json", __VA_ARGS__};                                                \
        for (size_t k_ = 0; k_ < sizeof subs_ / sizeof *subs_; k_++)                                       \
            CHECK_MSG(strstr(e_.message, subs_[k_]) != NULL, "message '%s' lacks '%s'", e_.message, subs_[k_]); \
    } while (0)

#define BASE "\"hidden_size\":64,\"intermediate_size\":128,\"num_hidden_layers\":2,\"num_attention_heads\":4,\"vocab_size\":100,\"rms_norm_eps\":1e-5"

static void test_errors(void) {
    EXPECT_BAD("{" BASE "}", "missing required field 'model_type'");
    EXPECT_BAD("{\"model_type\":\"gpt2\"," BASE "}", "'model_type'", "'gpt2'", "llama, mistral or qwen2");
    EXPECT_BAD("{\"model_type\":\"llama\",\"intermediate_size\":128,\"num_hidden_layers\":2,\"num_attention_heads\":4,"
               "\"vocab_size\":100,\"rms_norm_eps\":1e-5}",
               "missing required field 'hidden_size'");
    EXPECT_BAD("{\"model_type\":\"llama\",\"hidden_size\":64,\"intermediate_size\":128,\"num_hidden_layers\":2,"
               "\"num_attention_heads\":4,\"vocab_size\":100}",
               "missing required field 'rms_norm_eps'");
    EXPECT_BAD("{\"model_type\":\"llama\",\"hidden_size\":64,\"intermediate_size\":128,\"num_hidden_layers\":2,"
               "\"num_attention_heads\":4,\"rms_norm_eps\":1e-5}",
               "missing required field 'vocab_size'");
    EXPECT_BAD("{\"model_type\":\"llama\"," BASE ",\"hidden_act\":\"gelu\"}", "'hidden_act'", "'gelu'", "silu");
    EXPECT_BAD("{\"model_type\":\"llama\"," BASE ",\"num_key_value_heads\":3}", "'num_attention_heads' (4)",
               "'num_key_value_heads' (3)");
    EXPECT_BAD("{\"model_type\":\"llama\"," BASE ",\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":4}}",
               "rope_scaling", "'rope_type' = 'yarn'", "not supported");
    EXPECT_BAD("{\"model_type\":\"llama\"," BASE ",\"rope_scaling\":{\"type\":\"dynamic\",\"factor\":4}}",
               "rope_scaling", "'type' = 'dynamic'");
    EXPECT_BAD("{\"model_type\":\"llama\"," BASE ",\"rope_parameters\":{\"rope_type\":\"longrope\"}}",
               "rope_parameters", "'longrope'");
    EXPECT_BAD("{\"model_type\":\"llama\"," BASE ",\"rope_scaling\":{\"factor\":4}}", "rope_scaling",
               "missing required field 'rope_type'");
    EXPECT_BAD("{\"model_type\":\"llama\"," BASE
               ",\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":8,\"low_freq_factor\":1,\"high_freq_factor\":4}}",
               "rope_scaling", "'original_max_position_embeddings'");
    EXPECT_BAD("{\"model_type\":\"llama\"," BASE ",\"rope_scaling\":{\"rope_type\":\"linear\"}}", "rope_scaling",
               "'factor'");
    EXPECT_BAD("{\"model_type\":\"llama\"," BASE ",\"rope_scaling\":\"linear\"}", "'rope_scaling'");
    EXPECT_BAD("{\"model_type\":\"llama\"," BASE ",\"quantization_config\":{\"bits\":4}}", "'quantization_config'");
    EXPECT_BAD("{\"model_type\":\"mistral\"," BASE ",\"attention_bias\":true}", "'attention_bias'", "mistral");
    EXPECT_BAD("{\"model_type\":\"llama\"," BASE ",\"eos_token_id\":\"</s>\"}", "'eos_token_id'");
    EXPECT_BAD("{\"model_type\":\"llama\"," BASE ",\"eos_token_id\":[1,2,3,4,5,6,7,8,9]}", "'eos_token_id'");
    EXPECT_BAD("{\"model_type\":\"llama\"," BASE ",\"bos_token_id\":-3}", "'bos_token_id'");
    EXPECT_BAD("{\"model_type\":\"llama\"," BASE ",\"head_dim\":7}", "'head_dim'", "even");
    EXPECT_BAD("{\"model_type\":\"llama\",\"hidden_size\":66,\"intermediate_size\":128,\"num_hidden_layers\":2,"
               "\"num_attention_heads\":4,\"vocab_size\":100,\"rms_norm_eps\":1e-5}",
               "'hidden_size' (66)", "'head_dim'");
    EXPECT_BAD("{\"model_type\":\"llama\"," BASE ",\"tie_word_embeddings\":\"yes\"}", "'tie_word_embeddings'");
    EXPECT_BAD("{\"model_type\":\"llama\",\"hidden_size\":-64,\"intermediate_size\":128,\"num_hidden_layers\":2,"
               "\"num_attention_heads\":4,\"vocab_size\":100,\"rms_norm_eps\":1e-5}",
               "'hidden_size'");
    EXPECT_BAD("{\"model_type\":\"llama\"," BASE ",\"rms_norm_eps\":0}", "'rms_norm_eps'");
    EXPECT_BAD("[1]", "JSON object");
    EXPECT_BAD("{\"model_type\":", "invalid JSON");
}

static void test_round_trip_and_presets(void) {
    const char *names[] = {"tiny", "small", "llama3-1b", "llama3-8b", "mistral-7b", "qwen2-0.5b"};
    const unsigned long long published[] = {0, 0, 1235814400ull, 8030261248ull, 7241732096ull, 494032768ull};
    YaError err = {0};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        YaModelConfig p, q;
        CHECK_MSG(ya_config_preset(names[i], &p, &err) == 0, "%s", err.message);
        CHECK(strstr(ya_config_preset_names(), names[i]) != NULL);
        if (published[i]) CHECK_MSG(ya_config_param_count(&p) == published[i], "%s", names[i]);
        char *json = ya_config_to_json(&p);
        CHECK(json != NULL);
        if (!json) continue;
        CHECK_MSG(parse(json, &q, &err) == 0, "%s: %s", names[i], err.message);
        CHECK_MSG(memcmp(&p, &q, sizeof p) == 0, "%s: config changed through JSON: %s", names[i], json);
        free(json);
    }
    YaModelConfig t;
    CHECK(ya_config_preset("tiny", &t, &err) == 0);
    CHECK(ya_config_param_count(&t) > 5000000 && ya_config_param_count(&t) < 20000000);
    CHECK(ya_config_preset("gpt-5", &t, &err) == YA_ERR_USAGE);
    CHECK(strstr(err.message, "gpt-5") && strstr(err.message, "llama3-8b"));

    /* Real files survive the round trip too (the writer keeps every field we read). */
    const char *files[] = {"llama3_top.json", "llama3_nested.json", "mistral_7b.json", "qwen2_05b.json",
                           "explicit_head_dim.json", "linear.json"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        YaModelConfig p, q;
        if (load(files[i], &p, &err)) {
            CHECK_MSG(0, "%s", err.message);
            continue;
        }
        char *json = ya_config_to_json(&p);
        CHECK_MSG(json && parse(json, &q, &err) == 0, "%s: %s", files[i], err.message);
        CHECK_MSG(memcmp(&p, &q, sizeof p) == 0, "%s changed through JSON: %s", files[i], json);
        CHECK(strstr(json, "\"architectures\":[\"") && strstr(json, "\"rope_theta\":"));
        free(json);
    }
}

static void test_load_dir(void) {
    char dir[] = "/tmp/ya_test_cfg_XXXXXX";
    if (!mkdtemp(dir)) return;
    char path[4096], src[4096];
    YaError err = {0};
    YaModelConfig c;
    CHECK(ya_config_load_dir(dir, &c, &err) == YA_ERR);
    CHECK(strstr(err.message, "no config.json") != NULL);
    snprintf(src, sizeof src, "%s/llama3_8b_legacy_type.json", g_data);
    char *text;
    size_t len;
    CHECK(ya_read_file(src, &text, &len, &err) == 0);
    snprintf(path, sizeof path, "%s/config.json", dir);
    ya_write_file_atomic(path, text, len, &err);
    free(text);
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    const char *gen = "{\"bos_token_id\":128000,\"eos_token_id\":[128001,128008,128009],\"do_sample\":true}";
    ya_write_file_atomic(path, gen, strlen(gen), &err);
    CHECK_MSG(ya_config_load_dir(dir, &c, &err) == 0, "%s", err.message);
    CHECK(c.n_eos == 3 && c.eos_token_ids[0] == 128001 && c.eos_token_ids[1] == 128008 &&
          c.eos_token_ids[2] == 128009);
    CHECK(c.bos_token_id == 128000);
    ya_write_file_atomic(path, "{\"eos_token_id\":\"x\"}", 20, &err);
    CHECK(ya_config_load_dir(dir, &c, &err) == YA_ERR);
    CHECK(strstr(err.message, "generation_config.json") && strstr(err.message, "'eos_token_id'"));
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

/* Compares ya_rope_inv_freq with the torch float64 reference, file by file. */
static void test_rope_reference(const char *ref_path) {
    FILE *fp = fopen(ref_path, "r");
    CHECK_MSG(fp != NULL, "cannot open %s", ref_path);
    if (!fp) return;
    static char line[1 << 16];
    int files = 0;
    while (fgets(line, sizeof line, fp)) {
        char *save, *path = strtok_r(line, " \n", &save);
        if (!path) continue;
        YaModelConfig c;
        YaError err;
        if (ya_config_load(path, &c, &err)) {
            CHECK_MSG(0, "%s", err.message);
            continue;
        }
        double inv[1024];
        ya_rope_inv_freq(&c, inv);
        int i = 0;
        for (char *tok; (tok = strtok_r(NULL, " \n", &save)); i++) {
            double want = strtod(tok, NULL);
            CHECK_MSG(i < c.head_dim / 2, "%s: too many reference values", path);
            if (i < c.head_dim / 2)
                CHECK_MSG(fabs(inv[i] - want) <= 1e-12 * fabs(want), "%s: inv_freq[%d] %.17g vs %.17g", path, i,
                          inv[i], want);
        }
        CHECK_MSG(i == c.head_dim / 2, "%s: %d reference values for head_dim %d", path, i, c.head_dim);
        files++;
    }
    fclose(fp);
    CHECK(files >= 8);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: test_config DATA_DIR ROPE_REF\n");
        return 2;
    }
    g_data = argv[1];
    test_families();
    test_errors();
    test_round_trip_and_presets();
    test_load_dir();
    test_rope_reference(argv[2]);
    TEST_MAIN_END();
}

/* test_checkpoint.c — checkpoints (SPEC §9): exact round trip, a manifest that
 * `sha256sum -c` accepts, PEFT adapter files read back by an independent
 * Python reader (tools/ckpt_check.py), keep-last-n (never -final), discovery
 * that reports and skips corrupt or incomplete checkpoints, failures and a
 * crash mid-write that never leave a partial directory under a final name, and
 * resume refusing a different LoRA shape.
 * Usage: test_checkpoint PYTHON TOOLS_DIR WORK_DIR */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"
#include "your_ai/checkpoint.h"
#include "your_ai/fileio.h"
#include "your_ai/json.h"
#include "your_ai/rng.h"
#include "your_ai/safetensors.h"
#include "your_ai/sha256.h"

static char g_out[4096];
static const char *g_python, *g_tools;

static YaModelConfig tiny(void) {
    YaModelConfig c;
    memset(&c, 0, sizeof c);
    c.hidden_size = 32;
    c.intermediate_size = 48;
    c.num_hidden_layers = 4;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.head_dim = 8;
    return c;
}

static void make_set(YaLoraSet *set, int rank, unsigned targets, int layers, uint64_t seed) {
    YaModelConfig mc = tiny();
    YaLoraConfig lc;
    ya_lora_config_defaults(&lc);
    lc.rank = rank;
    lc.alpha = 2.0 * rank;
    lc.targets = targets;
    lc.layers = layers;
    YaError err;
    if (ya_lora_create(&mc, &lc, 1, set, &err)) {
        fprintf(stderr, "%s\n", err.message);
        exit(1);
    }
    ya_lora_init_params(set, seed);
    YaRng rng;
    ya_rng_seed(&rng, seed, "test-moments");
    for (size_t i = 0; i < set->n_params; i++) {
        set->params[i] += (float)ya_rng_normal(&rng) * 1e-3f; /* B ≠ 0 too, as after training */
        set->m[i] = (float)ya_rng_normal(&rng);
        set->v[i] = (float)ya_rng_uniform(&rng);
        set->grads[i] = 1.0f;
    }
}

/* The checkpoint read by tools/ckpt_check.py (struct/json/hashlib): every
 * tensor's bytes must hash to what our buffers hold. */
static void check_with_python(const char *ckpt, const YaLoraSet *set) {
    char cmd[12288], out[4400];
    snprintf(out, sizeof out, "%s/../ckpt_check.json", g_out);
    snprintf(cmd, sizeof cmd, "'%s' '%s/ckpt_check.py' '%s/%s' > '%s'", g_python, g_tools, g_out, ckpt, out);
    int rc = system(cmd);
    CHECK_MSG(rc == 0, "%s", cmd);
    json_t *d = NULL;
    YaError err;
    CHECK(rc == 0 && ya_json_load_file(out, 0, &d, &err) == YA_OK);
    if (!d) return;
    json_t *t = json_object_get(d, "tensors");
    CHECK(json_object_size(t) == 6 * set->n_tensors);
    const size_t r = (size_t)set->cfg.rank;
    for (size_t i = 0; i < set->n_tensors; i++) {
        const YaLoraTensor *e = &set->t[i];
        const struct {
            const char *key, *suffix;
            const float *base;
            size_t off, n;
        } items[6] = {
            {e->key_a, "", set->params, e->a_off, r * (size_t)e->in},
            {e->key_b, "", set->params, e->b_off, r * (size_t)e->out},
            {e->key_a, ".exp_avg", set->m, e->a_off, r * (size_t)e->in},
            {e->key_b, ".exp_avg", set->m, e->b_off, r * (size_t)e->out},
            {e->key_a, ".exp_avg_sq", set->v, e->a_off, r * (size_t)e->in},
            {e->key_b, ".exp_avg_sq", set->v, e->b_off, r * (size_t)e->out},
        };
        for (int k = 0; k < 6; k++) {
            char key[160], hex[65];
            snprintf(key, sizeof key, "%s%s", items[k].key, items[k].suffix);
            ya_sha256_hex(items[k].base + items[k].off, items[k].n * sizeof(float), hex);
            const char *got = json_string_value(json_object_get(t, key));
            CHECK_MSG(got && strcmp(got, hex) == 0, "%s: python read %s, buffer %s", key, got ? got : "(missing)", hex);
        }
    }
    json_decref(d);
}

typedef struct FailAt {
    const char *name;
    int crash; /* 1: _exit() as if the process died; 0: return an error */
} FailAt;

static int fail_hook(void *ctx, const char *name) {
    const FailAt *f = ctx;
    if (strcmp(name, f->name) != 0) return 0;
    if (f->crash) _exit(0);
    return 1;
}

static int save(const YaLoraSet *set, long long step, int final, int keep, const FailAt *fail, YaError *err) {
    json_t *ts = json_pack("{s:{s:s},s:{s:i,s:i},s:[f,f]}", "rng", "data", "0123456789abcdef", "cursor", "epoch", 0,
                           "position", (int)step * 2, "loss_history", 2.5, 2.25);
    json_t *rc_json = json_pack("{s:f,s:i}", "learning_rate", 1e-4, "max_steps", 100);
    YaCheckpointSave s = {.out_dir = g_out, .step = step, .final = final, .lora = set, .optimizer_t = step,
                          .optimizer_name = "adamw", .base_model = "tiny-llama", .trainer_state = ts,
                          .run_config = rc_json, .keep_last_n = keep};
    if (fail) {
        s.on_file_written = fail_hook;
        s.on_file_written_ctx = (void *)fail;
    }
    int rc = ya_checkpoint_save(&s, NULL, 0, err);
    json_decref(ts);
    json_decref(rc_json);
    return rc;
}

static int exists(const char *name) {
    char p[4400];
    snprintf(p, sizeof p, "%s/%s", g_out, name);
    return ya_path_exists(p);
}

static void read_latest(char *buf, size_t cap) {
    char p[4400], *text = NULL;
    size_t len;
    YaError err;
    snprintf(p, sizeof p, "%s/latest", g_out);
    buf[0] = '\0';
    if (ya_read_file(p, &text, &len, &err) == YA_OK) snprintf(buf, cap, "%s", text);
    free(text);
}

static int count_tmp_dirs(void) {
    YaCheckpointEntry *list;
    size_t n;
    YaError err;
    int c = 0;
    if (ya_checkpoint_scan(g_out, 0, &list, &n, &err)) return -1;
    for (size_t i = 0; i < n; i++) c += list[i].temporary;
    free(list);
    return c;
}

/* Runs find_latest with stderr captured into log (the skip reports). */
static int find_latest_capture(char *path, size_t cap, int *found, char *log, size_t log_cap) {
    char logpath[4400];
    snprintf(logpath, sizeof logpath, "%s/../stderr.txt", g_out);
    fflush(stderr);
    int saved = dup(2), fd = open(logpath, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    dup2(fd, 2);
    close(fd);
    YaError err;
    int rc = ya_checkpoint_find_latest(g_out, path, cap, found, &err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char *text = NULL;
    size_t len;
    log[0] = '\0';
    if (ya_read_file(logpath, &text, &len, &err) == YA_OK) snprintf(log, log_cap, "%s", text);
    free(text);
    return rc;
}

static void corrupt_byte(const char *ckpt, const char *file) {
    char p[4400];
    snprintf(p, sizeof p, "%s/%s/%s", g_out, ckpt, file);
    FILE *fp = fopen(p, "r+b");
    if (!fp) return;
    fseek(fp, -3, SEEK_END);
    int c = fgetc(fp);
    fseek(fp, -3, SEEK_END);
    fputc(c ^ 0x40, fp);
    fclose(fp);
}

static void test_rng_state(void) {
    YaRng a, b;
    YaError err;
    ya_rng_seed(&a, 42, "epoch:3");
    for (int i = 0; i < 5; i++) ya_rng_next_u64(&a);
    json_t *j = ya_rng_state_json(&a);
    CHECK(ya_rng_state_parse(j, "trainer_state.json rng.data", &b, &err) == YA_OK);
    CHECK(memcmp(&a, &b, sizeof a) == 0 && ya_rng_next_u64(&a) == ya_rng_next_u64(&b));
    json_decref(j);
    j = json_string("0000000000000000:0000000000000000:0000000000000000:000000000000000g");
    CHECK(ya_rng_state_parse(j, "rng", &b, &err) == YA_ERR && strstr(err.message, "rng"));
    json_decref(j);
}

static void test_round_trip_and_files(void) {
    YaError err;
    YaLoraSet a, b;
    make_set(&a, 4, YA_LORA_ALL_MASK, 2, 42);
    CHECK(save(&a, 10, 0, 3, NULL, &err) == YA_OK);
    CHECK(exists("checkpoint-10") && count_tmp_dirs() == 0);
    char latest[256];
    read_latest(latest, sizeof latest);
    CHECK_STREQ(latest, "checkpoint-10\n");
    check_with_python("checkpoint-10", &a);

    /* sha256sum(1) accepts the manifest; it lists the five files, sorted. */
    char cmd[8800];
    snprintf(cmd, sizeof cmd, "cd '%s/checkpoint-10' && sha256sum -c --quiet --strict MANIFEST.sha256", g_out);
    CHECK_MSG(system(cmd) == 0, "%s", cmd);
    snprintf(cmd, sizeof cmd, "cd '%s/checkpoint-10' && cut -c67- MANIFEST.sha256 | tr '\\n' ' ' > ../names.txt", g_out);
    CHECK(system(cmd) == 0);
    char p[4400], *text = NULL;
    size_t len;
    snprintf(p, sizeof p, "%s/names.txt", g_out);
    CHECK(ya_read_file(p, &text, &len, &err) == YA_OK);
    CHECK_STREQ(text ? text : "", "adapter_config.json adapter_model.safetensors optimizer.safetensors run_config.json "
                                  "trainer_state.json ");
    free(text);

    /* adapter_config.json (SPEC §10.1). */
    json_t *ac = NULL;
    snprintf(p, sizeof p, "%s/checkpoint-10/adapter_config.json", g_out);
    CHECK(ya_json_load_file(p, 0, &ac, &err) == YA_OK);
    if (ac) {
        CHECK_STREQ(json_string_value(json_object_get(ac, "peft_type")), "LORA");
        CHECK_STREQ(json_string_value(json_object_get(ac, "task_type")), "CAUSAL_LM");
        CHECK_STREQ(json_string_value(json_object_get(ac, "base_model_name_or_path")), "tiny-llama");
        CHECK(json_integer_value(json_object_get(ac, "r")) == 4);
        CHECK(json_is_integer(json_object_get(ac, "lora_alpha")) && json_integer_value(json_object_get(ac, "lora_alpha")) == 8);
        CHECK(json_real_value(json_object_get(ac, "lora_dropout")) == 0.0);
        CHECK_STREQ(json_string_value(json_object_get(ac, "bias")), "none");
        CHECK(json_is_false(json_object_get(ac, "fan_in_fan_out")) && json_is_false(json_object_get(ac, "use_rslora")) &&
              json_is_false(json_object_get(ac, "use_dora")) && json_is_true(json_object_get(ac, "inference_mode")) &&
              json_is_null(json_object_get(ac, "modules_to_save")));
        json_t *tm = json_object_get(ac, "target_modules");
        CHECK(json_array_size(tm) == 7 && strcmp(json_string_value(json_array_get(tm, 0)), "q_proj") == 0 &&
              strcmp(json_string_value(json_array_get(tm, 6)), "down_proj") == 0);
        json_t *ltt = json_object_get(ac, "layers_to_transform");
        CHECK(json_array_size(ltt) == 2 && json_integer_value(json_array_get(ltt, 0)) == 2 &&
              json_integer_value(json_array_get(ltt, 1)) == 3);
        json_decref(ac);
    }
    /* adapter_model.safetensors: PEFT keys, F32, [r, in] / [out, r], format pt. */
    YaSafetensors *st = NULL;
    snprintf(p, sizeof p, "%s/checkpoint-10/adapter_model.safetensors", g_out);
    CHECK(ya_st_open(p, &st, &err) == YA_OK);
    if (st) {
        CHECK(ya_st_count(st) == 2 * a.n_tensors);
        CHECK(ya_st_metadata(st, "format") && strcmp(ya_st_metadata(st, "format"), "pt") == 0);
        const YaTensorInfo *t = ya_st_find(st, "base_model.model.model.layers.3.mlp.down_proj.lora_A.weight");
        CHECK(t && t->dtype == YA_DTYPE_F32 && t->ndim == 2 && t->shape[0] == 4 && t->shape[1] == 48);
        t = ya_st_find(st, "base_model.model.model.layers.2.self_attn.k_proj.lora_B.weight");
        CHECK(t && t->shape[0] == 16 && t->shape[1] == 4);
        CHECK(ya_st_find(st, "base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight") == NULL);
        ya_st_close(st);
    }
    snprintf(p, sizeof p, "%s/checkpoint-10/optimizer.safetensors", g_out);
    CHECK(ya_st_open(p, &st, &err) == YA_OK);
    if (st) {
        CHECK(ya_st_count(st) == 4 * a.n_tensors);
        CHECK(ya_st_find(st, "base_model.model.model.layers.2.self_attn.q_proj.lora_A.weight.exp_avg_sq") != NULL);
        ya_st_close(st);
    }

    /* Exact reload into a fresh set initialised differently. */
    make_set(&b, 4, YA_LORA_ALL_MASK, 2, 7);
    YaCheckpointState cs;
    snprintf(p, sizeof p, "%s/checkpoint-10", g_out);
    CHECK(ya_checkpoint_load(p, &b, &cs, &err) == YA_OK);
    CHECK(memcmp(a.params, b.params, a.n_params * sizeof(float)) == 0);
    CHECK(memcmp(a.m, b.m, a.n_params * sizeof(float)) == 0);
    CHECK(memcmp(a.v, b.v, a.n_params * sizeof(float)) == 0);
    CHECK(b.grads[0] == 0.0f && b.grads[b.n_params - 1] == 0.0f);
    CHECK(cs.step == 10 && cs.optimizer_t == 10 && !cs.final);
    CHECK(json_integer_value(json_object_get(json_object_get(cs.trainer_state, "cursor"), "position")) == 20);
    CHECK_STREQ(json_string_value(json_object_get(json_object_get(cs.trainer_state, "rng"), "data")), "0123456789abcdef");
    CHECK(json_real_value(json_object_get(cs.run_config, "learning_rate")) == 1e-4);
    ya_checkpoint_state_free(&cs);
    ya_lora_free(&b);

    /* Resume refuses a different rank, targets or layers, naming the flag. */
    make_set(&b, 8, YA_LORA_ALL_MASK, 2, 7);
    CHECK(ya_checkpoint_load(p, &b, &cs, &err) == YA_ERR && strstr(err.message, "--lora-rank"));
    ya_lora_free(&b);
    make_set(&b, 4, YA_LORA_ATTN_MASK, 2, 7);
    CHECK(ya_checkpoint_load(p, &b, &cs, &err) == YA_ERR && strstr(err.message, "--lora-targets"));
    ya_lora_free(&b);
    make_set(&b, 4, YA_LORA_ALL_MASK, -1, 7);
    CHECK(ya_checkpoint_load(p, &b, &cs, &err) == YA_ERR && strstr(err.message, "--lora-layers"));
    ya_lora_free(&b);
    ya_lora_free(&a);
}

static void test_keep_discovery_atomicity(void) {
    YaError err;
    YaLoraSet a;
    make_set(&a, 2, YA_LORA_ATTN_MASK, -1, 1);
    /* keep 2: after 10, 20, 30 → 20, 30; a -final at 40 is never pruned. */
    CHECK(save(&a, 20, 0, 2, NULL, &err) == YA_OK);
    CHECK(save(&a, 30, 0, 2, NULL, &err) == YA_OK);
    CHECK(!exists("checkpoint-10") && exists("checkpoint-20") && exists("checkpoint-30"));
    CHECK(save(&a, 40, 1, 2, NULL, &err) == YA_OK);
    CHECK(save(&a, 50, 0, 2, NULL, &err) == YA_OK);
    CHECK(save(&a, 60, 0, 2, NULL, &err) == YA_OK);
    CHECK(!exists("checkpoint-20") && !exists("checkpoint-30") && exists("checkpoint-40-final") &&
          exists("checkpoint-50") && exists("checkpoint-60"));
    char latest[256];
    read_latest(latest, sizeof latest);
    CHECK_STREQ(latest, "checkpoint-60\n");

    char path[4400], log[4096];
    int found = 0;
    CHECK(find_latest_capture(path, sizeof path, &found, log, sizeof log) == YA_OK);
    CHECK(found && strstr(path, "/checkpoint-60") && log[0] == '\0');

    /* A corrupt file: reported by name and skipped. */
    corrupt_byte("checkpoint-60", "adapter_model.safetensors");
    CHECK(find_latest_capture(path, sizeof path, &found, log, sizeof log) == YA_OK);
    CHECK_MSG(found && strstr(path, "/checkpoint-50"), "picked %s", path);
    CHECK_MSG(strstr(log, "skipping ") && strstr(log, "checkpoint-60: ") && strstr(log, "adapter_model.safetensors") &&
                  strstr(log, "sha256"),
              "report: %s", log);
    /* A missing manifest (incomplete): skipped; -final is a valid candidate. */
    char p[4400];
    snprintf(p, sizeof p, "%s/checkpoint-50/MANIFEST.sha256", g_out);
    CHECK(unlink(p) == 0);
    CHECK(find_latest_capture(path, sizeof path, &found, log, sizeof log) == YA_OK);
    CHECK_MSG(found && strstr(path, "/checkpoint-40-final"), "picked %s", path);
    CHECK(strstr(log, "skipping ") && strstr(log, "checkpoint-50: ") && strstr(log, "MANIFEST.sha256"));
    YaCheckpointEntry *list;
    size_t n;
    CHECK(ya_checkpoint_scan(g_out, 1, &list, &n, &err) == YA_OK);
    CHECK(n == 3 && list[0].step == 40 && list[0].final && list[0].verified && !list[1].verified && !list[2].verified);
    free(list);
    /* --resume PATH of a corrupt checkpoint fails with the reason. */
    snprintf(p, sizeof p, "%s/checkpoint-60", g_out);
    CHECK(ya_checkpoint_resolve(p, g_out, path, sizeof path, &found, &err) == YA_ERR && strstr(err.message, "sha256"));

    /* A failed write: no directory under the final name, no temporary left, latest unchanged. */
    const char *stages[] = {"adapter_model.safetensors", "optimizer.safetensors", "MANIFEST.sha256"};
    for (int i = 0; i < 3; i++) {
        FailAt f = {stages[i], 0};
        CHECK(save(&a, 70, 0, 2, &f, &err) == YA_ERR);
        CHECK(!exists("checkpoint-70") && count_tmp_dirs() == 0);
    }
    read_latest(latest, sizeof latest);
    CHECK_STREQ(latest, "checkpoint-60\n");
    CHECK(exists("checkpoint-60") && exists("checkpoint-40-final")); /* keep-last-n did not run */

    /* A crash mid-write (the process dies): only the temporary exists; discovery reports it. */
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        FailAt f = {"trainer_state.json", 1};
        save(&a, 80, 0, 2, &f, &err);
        _exit(3); /* not reached: the hook exits with 0 */
    }
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(!exists("checkpoint-80") && count_tmp_dirs() == 1);
    CHECK(find_latest_capture(path, sizeof path, &found, log, sizeof log) == YA_OK);
    CHECK(found && strstr(path, "/checkpoint-40-final"));
    CHECK_MSG(strstr(log, "checkpoint-80.tmp-") && strstr(log, "incomplete"), "report: %s", log);
    /* The next save removes the dead process's temporary, and re-saving an
     * existing step replaces it (the corrupt checkpoint-60 becomes valid). */
    CHECK(save(&a, 60, 0, 2, NULL, &err) == YA_OK);
    CHECK(count_tmp_dirs() == 0);
    snprintf(p, sizeof p, "%s/checkpoint-60", g_out);
    CHECK(ya_checkpoint_verify(p, &err) == YA_OK);
    CHECK(find_latest_capture(path, sizeof path, &found, log, sizeof log) == YA_OK);
    CHECK(found && strstr(path, "/checkpoint-60"));
    CHECK(ya_checkpoint_resolve("auto", g_out, path, sizeof path, &found, &err) == YA_OK && found);
    ya_lora_free(&a);

    /* auto on an empty directory: nothing found, not an error. */
    char empty[4400];
    snprintf(empty, sizeof empty, "%s/../empty-out", g_out);
    CHECK(ya_mkdirs(empty, &err) == YA_OK);
    CHECK(ya_checkpoint_resolve("auto", empty, path, sizeof path, &found, &err) == YA_OK && !found);
}

int main(int argc, char **argv) {
    if (argc < 4) return 2;
    g_python = argv[1];
    g_tools = argv[2];
    snprintf(g_out, sizeof g_out, "%s/out", argv[3]);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_out);
    if (system(cmd) != 0) return 1;
    test_rng_state();
    test_round_trip_and_files();
    test_keep_discovery_atomicity();
    TEST_MAIN_END();
}

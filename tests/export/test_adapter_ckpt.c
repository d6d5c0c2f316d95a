/* test_adapter_ckpt.c — an adapter written by the trainer's checkpoint writer
 * (ya_adapter_write, src/train/checkpoint.c) loads back through ya_adapter_load
 * bit for bit (rank, alpha, layers_to_transform, every factor), attaches to the
 * model, changes its logits, and detaches to give the base logits again. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"
#include "your_ai/adapter.h"
#include "your_ai/checkpoint.h"
#include "your_ai/config.h"
#include "your_ai/fileio.h"
#include "your_ai/init_model.h"
#include "your_ai/lora.h"
#include "your_ai/model.h"

int main(void) {
    char root[] = "/tmp/ya_test_adapter_XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    char mdir[256], adir[256];
    snprintf(mdir, sizeof mdir, "%s/m", root);
    snprintf(adir, sizeof adir, "%s/ckpt", root);
    static const char cfg_json[] =
        "{\"model_type\":\"llama\",\"hidden_size\":32,\"intermediate_size\":64,\"num_hidden_layers\":2,"
        "\"num_attention_heads\":4,\"num_key_value_heads\":2,\"vocab_size\":50,\"rms_norm_eps\":1e-5,"
        "\"hidden_act\":\"silu\",\"max_position_embeddings\":64}";
    YaError err = {0};
    YaModelConfig mc;
    CHECK(ya_config_parse(cfg_json, strlen(cfg_json), "test", &mc, &err) == YA_OK);
    YaInitModelOptions opt = {.dtype = YA_DTYPE_F32, .seed = 1};
    CHECK_MSG(ya_init_model(&mc, mdir, &opt, &err) == YA_OK, "%s", err.message);
    YaModel *m = NULL;
    CHECK_MSG(ya_model_open(mdir, &m, &err) == YA_OK, "%s", err.message);
    if (!m) return 1;

    YaLoraConfig lc;
    ya_lora_config_defaults(&lc);
    lc.rank = 4;
    lc.alpha = 6;
    lc.layers = 1; /* the last block only → layers_to_transform [1] */
    YaLoraSet set;
    CHECK(ya_lora_create(&m->cfg, &lc, 1, &set, &err) == YA_OK);
    ya_lora_init_params(&set, 5);
    for (size_t i = 0; i < set.n_tensors; i++) { /* a trained adapter: B != 0 */
        const YaLoraTensor *e = &set.t[i];
        for (size_t j = 0; j < (size_t)e->out * lc.rank; j++)
            set.params[e->b_off + j] = 0.05f * (float)((int)((j * 2654435761u + i) % 17) - 8);
    }
    CHECK_MSG(ya_adapter_write(adir, &set, "base", &err) == YA_OK, "%s", err.message);

    YaAdapter *a = NULL;
    CHECK_MSG(ya_adapter_load(adir, m, &a, &err) == YA_OK, "%s", err.message);
    if (!a) return 1;
    const YaLoraSet *got = ya_adapter_lora(a);
    CHECK(ya_adapter_rank(a) == 4 && ya_adapter_alpha(a) == 6.0);
    CHECK(got->n_params == set.n_params && memcmp(got->params, set.params, set.n_params * sizeof(float)) == 0);
    CHECK(got->first_layer == 1);
    CHECK(ya_adapter_factors(a, 0, YA_LORA_Q) == NULL);
    CHECK(ya_adapter_factors(a, 1, YA_LORA_DOWN) != NULL);
    CHECK_STREQ(ya_adapter_base_model(a), "base");

    int32_t ids[6] = {1, 7, 3, 9, 22, 4};
    int V = m->cfg.vocab_size;
    float *base = malloc(6 * V * sizeof(float)), *lora = malloc(6 * V * sizeof(float)),
          *again = malloc(6 * V * sizeof(float));
    YaInferState *s = NULL;
    CHECK(ya_infer_state_new(m, 6, 6, &s, &err) == YA_OK);
    CHECK(ya_model_forward(m, s, ids, 6, 1, base, &err) == YA_OK);
    CHECK(ya_model_set_adapter(m, a, &err) == YA_OK);
    ya_infer_state_reset(s); /* the adapter is attached after the state was made */
    CHECK(ya_model_forward(m, s, ids, 6, 1, lora, &err) == YA_OK);
    CHECK(ya_model_set_adapter(m, NULL, &err) == YA_OK);
    ya_infer_state_reset(s);
    CHECK(ya_model_forward(m, s, ids, 6, 1, again, &err) == YA_OK);
    double moved = 0;
    for (int i = 0; i < 6 * V; i++) moved = fmax(moved, fabs(lora[i] - base[i]));
    CHECK_MSG(moved > 1e-3, "the adapter moved the logits by only %g", moved);
    CHECK(memcmp(base, again, 6 * V * sizeof(float)) == 0);

    free(base);
    free(lora);
    free(again);
    ya_infer_state_free(s);
    ya_adapter_free(a);
    ya_lora_free(&set);
    ya_model_free(m);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK(system(cmd) == 0);
    TEST_MAIN_END();
}

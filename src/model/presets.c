/* presets.c — named model shapes for `init-model --preset` (tests, demo, benchmarks).
 *
 * Each preset is the architecture of a published model (or a scaled-down
 * Llama for tests), so benchmarks on random weights exercise exactly the
 * shapes a real fine-tune would. Values follow the models' own config.json. */
#include <stdio.h>
#include <string.h>

#include "your_ai/config.h"

typedef struct {
    const char *name;
    YaArch arch;
    int h, f, L, n_h, n_kv, V, max_pos;
    double eps, theta;
    YaRopeType rope;
    double factor, low, high;
    int orig;
    int tied, sliding_window;
    int bos, eos;
} Preset;

static const Preset k_presets[] = {
    /* ~11M params: Llama shape with the Mistral/Llama-2 tokenizer's 32000 vocab (the demo's). */
    {"tiny", YA_ARCH_LLAMA, 256, 688, 4, 8, 4, 32000, 2048, 1e-5, 10000.0, YA_ROPE_DEFAULT, 0, 0, 0, 0, 1, 0, 1, 2},
    /* ~56M params, untied: experiments that want a real lm_head. */
    {"small", YA_ARCH_LLAMA, 512, 1376, 8, 8, 4, 32000, 4096, 1e-5, 10000.0, YA_ROPE_DEFAULT, 0, 0, 0, 0, 0, 0, 1, 2},
    /* Llama-3.2-1B */
    {"llama3-1b", YA_ARCH_LLAMA, 2048, 8192, 16, 32, 8, 128256, 131072, 1e-5, 500000.0, YA_ROPE_LLAMA3, 32.0, 1.0,
     4.0, 8192, 1, 0, 128000, 128001},
    /* Llama-3.1-8B */
    {"llama3-8b", YA_ARCH_LLAMA, 4096, 14336, 32, 32, 8, 128256, 131072, 1e-5, 500000.0, YA_ROPE_LLAMA3, 8.0, 1.0,
     4.0, 8192, 0, 0, 128000, 128001},
    /* Mistral-7B-v0.1 (sliding window 4096: no effect up to that sequence length) */
    {"mistral-7b", YA_ARCH_MISTRAL, 4096, 14336, 32, 32, 8, 32000, 32768, 1e-5, 10000.0, YA_ROPE_DEFAULT, 0, 0, 0, 0,
     0, 4096, 1, 2},
    /* Qwen2-0.5B: q/k/v biases, tied, eps 1e-6, theta 1e6 */
    {"qwen2-0.5b", YA_ARCH_QWEN2, 896, 4864, 24, 14, 2, 151936, 131072, 1e-6, 1000000.0, YA_ROPE_DEFAULT, 0, 0, 0, 0,
     1, 0, 151643, 151643},
};

const char *ya_config_preset_names(void) { return "tiny, small, llama3-1b, llama3-8b, mistral-7b, qwen2-0.5b"; }

int ya_config_preset(const char *name, YaModelConfig *cfg, YaError *err) {
    for (size_t i = 0; i < sizeof k_presets / sizeof *k_presets; i++) {
        const Preset *p = &k_presets[i];
        if (strcmp(p->name, name) != 0) continue;
        static const char *k_types[] = {"llama", "mistral", "qwen2"};
        memset(cfg, 0, sizeof *cfg);
        cfg->arch = p->arch;
        snprintf(cfg->model_type, sizeof cfg->model_type, "%s", k_types[p->arch]);
        cfg->hidden_size = p->h;
        cfg->intermediate_size = p->f;
        cfg->num_hidden_layers = p->L;
        cfg->num_attention_heads = p->n_h;
        cfg->num_key_value_heads = p->n_kv;
        cfg->head_dim = p->h / p->n_h;
        cfg->vocab_size = p->V;
        cfg->max_position_embeddings = p->max_pos;
        cfg->rms_norm_eps = p->eps;
        cfg->rope_theta = p->theta;
        cfg->rope_type = p->rope;
        cfg->rope_factor = p->factor;
        cfg->rope_low_freq_factor = p->low;
        cfg->rope_high_freq_factor = p->high;
        cfg->rope_original_max_pos = p->orig;
        cfg->tie_word_embeddings = p->tied;
        cfg->attention_bias = p->arch == YA_ARCH_QWEN2;
        cfg->sliding_window = p->sliding_window;
        snprintf(cfg->torch_dtype, sizeof cfg->torch_dtype, "bfloat16");
        cfg->bos_token_id = p->bos;
        cfg->eos_token_ids[0] = p->eos;
        cfg->n_eos = 1;
        return YA_OK;
    }
    return ya_fail(err, YA_ERR_USAGE, "unknown preset '%s' (expected one of: %s)", name, ya_config_preset_names());
}

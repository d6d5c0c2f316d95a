/* fuzz_config.c — libFuzzer target for the config.json parser.
 * fuzz-libs: ya_model ya_base
 * fuzz-seeds: tests/config/data
 *
 * Any input is rejected with a message, or accepted; an accepted config must
 * survive ya_config_to_json → ya_config_parse unchanged, and its derived values
 * (RoPE frequencies, parameter count) must be computable without UB. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    YaError err = {0};
    YaModelConfig cfg, again;
    if (ya_config_parse((const char *)data, size, "fuzz.json", &cfg, &err) != YA_OK) {
        if (err.message[0] == '\0') abort();
        return 0;
    }
    if (cfg.head_dim <= 0 || cfg.head_dim % 2 || cfg.num_attention_heads % cfg.num_key_value_heads) abort();
    double *inv = malloc(sizeof(double) * (size_t)(cfg.head_dim / 2));
    if (inv) ya_rope_inv_freq(&cfg, inv);
    free(inv);
    (void)ya_config_param_count(&cfg);
    char *json = ya_config_to_json(&cfg);
    if (!json) abort();
    if (ya_config_parse(json, strlen(json), "round-trip", &again, &err) != YA_OK) abort();
    if (memcmp(&cfg, &again, sizeof cfg) != 0) abort();
    free(json);
    return 0;
}

/* cli_data.c — parsing of the data-loader flags (see cli_data.h). */
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_data.h"

int ya_cli_data_flag(const char *cmd, int argc, char **argv, int *i, YaDataConfig *cfg) {
    const char *v;
    int r;
    long long n;
    YaError err = {0};
    if ((r = ya_cli_max_line_flag(argc, argv, i))) {
        if (r < 0) return -1;
    } else if ((r = ya_cli_flag(argc, argv, i, "--max-seq-length", &v))) {
        if (r < 0 || ya_cli_parse_int("--max-seq-length", v, 2, 1 << 22, &n)) return -1;
        cfg->max_seq_len = (int)n;
    } else if ((r = ya_cli_flag(argc, argv, i, "--batch-size", &v))) {
        if (r < 0 || ya_cli_parse_int("--batch-size", v, 1, 1 << 16, &n)) return -1;
        cfg->batch_size = (int)n;
    } else if ((r = ya_cli_flag(argc, argv, i, "--batching", &v))) {
        if (r < 0) return -1;
        if (strcmp(v, "pad") == 0) cfg->mode = YA_BATCH_PAD;
        else if (strcmp(v, "pack") == 0) cfg->mode = YA_BATCH_PACK;
        else return ya_cli_usage_error(cmd, "--batching must be 'pad' or 'pack', got '%s'", v), -1;
    } else if ((r = ya_cli_flag(argc, argv, i, "--seed", &v))) {
        if (r < 0 || ya_cli_parse_u64("--seed", v, &cfg->seed)) return -1;
    } else if ((r = ya_cli_flag(argc, argv, i, "--mask-prompt", &v))) {
        if (r < 0) return -1;
        if (strcmp(v, "on") == 0) cfg->mask_prompt = 1;
        else if (strcmp(v, "off") == 0) cfg->mask_prompt = 0;
        else return ya_cli_usage_error(cmd, "--mask-prompt must be 'on' or 'off', got '%s'", v), -1;
    } else if ((r = ya_cli_flag(argc, argv, i, "--train-on", &v))) {
        if (r < 0) return -1;
        if (strcmp(v, "final") == 0) cfg->train_on = YA_TRAIN_ON_FINAL;
        else if (strcmp(v, "all-assistant") == 0) cfg->train_on = YA_TRAIN_ON_ALL_ASSISTANT;
        else return ya_cli_usage_error(cmd, "--train-on must be 'final' or 'all-assistant', got '%s'", v), -1;
    } else if (strcmp(argv[*i], "--no-append-eos") == 0) {
        cfg->append_eos = 0;
    } else if ((r = ya_cli_flag(argc, argv, i, "--chat-format", &v))) {
        if (r < 0) return -1;
        if (ya_chat_format_parse(v, &cfg->chat_format) != 0)
            return ya_cli_usage_error(cmd, "--chat-format must be chatml, llama3, mistral or qwen3, got '%s'", v), -1;
    } else if ((r = ya_cli_flag(argc, argv, i, "--default-auth", &v))) {
        if (r < 0 || ya_cli_parse_double("--default-auth", v, &cfg->default_auth)) return -1;
        if (!(cfg->default_auth >= 0 && cfg->default_auth <= 0.99))
            return ya_cli_usage_error(cmd, "--default-auth must be in [0, 0.99], got %s", v), -1;
        cfg->has_default_auth = 1;
    } else if ((r = ya_cli_flag(argc, argv, i, "--default-entropy", &v))) {
        if (r < 0 || ya_cli_parse_double("--default-entropy", v, &cfg->default_entropy)) return -1;
        if (!(cfg->default_entropy >= 0 && cfg->default_entropy <= YA_DATA_ENTROPY_MAX))
            return ya_cli_usage_error(cmd, "--default-entropy must be in [0, %g], got %s", YA_DATA_ENTROPY_MAX, v), -1;
        cfg->has_default_entropy = 1;
    } else if (strcmp(argv[*i], "--score") == 0) {
        cfg->score = 1;
    } else if ((r = ya_cli_flag(argc, argv, i, "--on-bad-line", &v))) {
        if (r < 0) return -1;
        if (ya_bad_line_policy_parse(v, &cfg->on_bad_line, &err)) return ya_cli_usage_error(cmd, "%s", err.message), -1;
    } else {
        return 0;
    }
    return 1;
}

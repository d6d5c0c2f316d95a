/* train_config.h — `train --config FILE`: a YAML or JSON mapping whose keys are
 * the train flags without "--" ('-' written '_'), e.g. `lora_rank: 8`.
 *
 * The file is turned into command-line arguments ("--lora-rank", "8", ...) that
 * the train flag parser reads before the real command line, so one parser
 * validates both, every flag has a key, and the precedence is
 * defaults < config file < command line. The run_config.json every run writes
 * is itself a valid config: its extra keys (format, library_version,
 * model_identity, and the constants adam_beta1/2, adam_eps, w_min, w_max,
 * data_format) are accepted, the constants only at their built-in values.
 * Unknown keys, duplicate keys and values of the wrong shape are errors naming
 * the file, the key and (YAML) the line. */
#ifndef YOUR_AI_CLI_TRAIN_CONFIG_H
#define YOUR_AI_CLI_TRAIN_CONFIG_H

#include "your_ai/error.h"

typedef struct YaConfigArgs {
    char **argv;   // [argc] "--flag", "value", ... (owned)
    char **origin; // [argc] "FILE:LINE: key 'k'" (JSON: "FILE: key 'k'") of each entry, for messages
    int argc, cap;
} YaConfigArgs;

/* Reads FILE (YAML when it ends in .yaml/.yml, else JSON) into out. */
int ya_train_config_load(const char *path, YaConfigArgs *out, YaError *err);
void ya_train_config_free(YaConfigArgs *a);

#endif

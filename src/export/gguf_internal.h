/* gguf_internal.h — pieces of the GGUF exporter shared between its files. */
#ifndef YA_GGUF_INTERNAL_H
#define YA_GGUF_INTERNAL_H

#include "your_ai/config.h"
#include "your_ai/gguf.h"

/* Adds tokenizer.ggml.* from model_dir/tokenizer.json (+ tokenizer_config.json);
 * *added = 0 and YA_OK when there is no tokenizer.json. */
int ya_gguf_add_tokenizer(YaGgufWriter *w, const char *model_dir, const YaModelConfig *cfg, int *added, YaError *err);

#endif

/* fuzz_st_index.c — libFuzzer target for model.safetensors.index.json handling.
 * fuzz-libs: ya_base
 * fuzz-seeds: tests/fuzz/corpus/fuzz_st_index
 *
 * The input becomes the index of a scratch model directory that holds one valid
 * shard ("model-00001-of-00002.safetensors" with tensors a, b); the loader must
 * reject it with a message or expose only tensors that exist in that shard. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "your_ai/fileio.h"
#include "your_ai/log.h"
#include "your_ai/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char g_dir[64]; /* the scratch directory, made once per process */

static void remove_scratch(void) {
    const char *names[] = {"model.safetensors.index.json", "model-00001-of-00002.safetensors"};
    char p[128];
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, names[i]);
        unlink(p);
    }
    rmdir(g_dir);
}

/* A fuzzer runs one input at a time, so one directory per process suffices. */
static const char *scratch_dir(void) {
    char *dir = g_dir;
    if (dir[0]) return dir;
    snprintf(dir, sizeof g_dir, "/tmp/ya_fuzz_index_%ld", (long)getpid());
    atexit(remove_scratch);
    YaError err;
    if (ya_mkdirs(dir, &err)) abort();
    float v[3] = {1, 2, 3};
    const int64_t sa[] = {2}, sb[] = {1};
    YaStWriter *w = ya_st_writer_new();
    ya_st_writer_add(w, "a", YA_DTYPE_F32, 1, sa, v, &err);
    ya_st_writer_add(w, "b", YA_DTYPE_BF16, 1, sb, v, &err);
    char path[128];
    snprintf(path, sizeof path, "%s/model-00001-of-00002.safetensors", dir);
    if (ya_st_writer_finish(w, path, &err)) abort();
    return dir;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ya_log_set_quiet(1);
    const char *dir = scratch_dir();
    char path[128];
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    YaError err = {0};
    FILE *fp = fopen(path, "wb"); /* plain write: no fsync per input */
    if (!fp || fwrite(data, 1, size, fp) != size || fclose(fp) != 0) abort();
    YaWeights *w = NULL;
    if (ya_weights_open_dir(dir, &w, &err) == YA_OK) {
        for (size_t i = 0; i < ya_weights_count(w); i++) {
            const YaTensorInfo *t = ya_weights_at(w, i);
            if (strcmp(t->name, "a") != 0 && strcmp(t->name, "b") != 0) abort();
            if (ya_weights_find(w, t->name) != t) abort();
        }
        ya_weights_close(w);
    } else if (err.message[0] == '\0') {
        abort();
    }
    return 0;
}

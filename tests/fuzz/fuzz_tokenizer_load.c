// fuzz-libs: ya_tokenizer ya_base
// fuzz-seeds: tests/fuzz/corpus/tokenizer_load
/* fuzz_tokenizer_load.c — libFuzzer target for the tokenizer.json loader:
 * arbitrary bytes as tokenizer.json (and, after a NUL byte, as
 * tokenizer_config.json). Loading must either succeed or fail with a message;
 * a tokenizer that loads must then encode and decode a fixed string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *json = (const char *)data, *cfg = NULL;
    size_t len = size, cfg_len = 0;
    const uint8_t *nul = memchr(data, 0, size);
    if (nul) {
        len = (size_t)(nul - data);
        cfg = (const char *)nul + 1;
        cfg_len = size - len - 1;
    }
    YaTokenizer *tok = NULL;
    YaError err = {0};
    if (ya_tokenizer_load_memory(json, len, cfg, cfg_len, &tok, &err) != YA_OK) {
        if (err.message[0] == 0) abort(); /* a failure must say why */
        return 0;
    }
    static const char text[] = "Hello, world! <s> 123 \xc3\xa9\xf0\x9f\x98\x80 \xff";
    YaIds ids = {0};
    if (ya_tokenizer_encode(tok, text, sizeof text - 1, 1, &ids, &err) == YA_OK) {
        char *out = NULL;
        size_t out_len = 0;
        if (ya_tokenizer_decode(tok, ids.ids, ids.len, 0, &out, &out_len, &err) == YA_OK) free(out);
    }
    ya_ids_free(&ids);
    ya_tokenizer_free(tok);
    return 0;
}

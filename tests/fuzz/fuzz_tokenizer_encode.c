// fuzz-libs: ya_tokenizer ya_base
// fuzz-seeds: tests/fuzz/corpus/tokenizer_encode
/* fuzz_tokenizer_encode.c — libFuzzer target for encode/decode on arbitrary
 * bytes (invalid UTF-8 included) with a small tokenizer that exercises every
 * stage: NFC + Prepend/Replace normalizers, added tokens (special, normalized,
 * lstrip/rstrip/single_word), a Split regex + ByteLevel pre-tokenizer, byte
 * fallback and unk fusing, a template post-processor and a decoder chain.
 * Set YA_FUZZ_TOKENIZER=/path/to/tokenizer.json to fuzz a real file instead.
 * Invariants: encode never fails on any input; every id is inside the
 * vocabulary; decode of those ids succeeds and yields valid UTF-8. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/tokenizer.h"

static const char k_json[] =
    "{\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFC\"},"
    "{\"type\":\"Replace\",\"pattern\":{\"String\":\"\\t\"},\"content\":\"  \"}]},"
    "\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":["
    "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(?i:'s|'t)|\\\\p{L}+|\\\\p{N}{1,3}|\\\\s+(?!\\\\S)|\\\\s+|[^\\\\s\\\\p{L}\\\\p{N}]+\"},"
    "\"behavior\":\"Isolated\",\"invert\":false},"
    "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":false}]},"
    "\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"fuse_unk\":true,\"byte_fallback\":true,"
    "\"vocab\":{\"<unk>\":0,\"<0x41>\":1,\"a\":2,\"b\":3,\"ab\":4,\"\\u0120\":5,\"\\u0120a\":6,\"c\":7,\"abc\":8},"
    "\"merges\":[\"a b\",[\"\\u0120\",\"a\"],\"ab c\"]},"
    "\"added_tokens\":["
    "{\"id\":9,\"content\":\"<s>\",\"special\":true,\"normalized\":false,\"lstrip\":false,\"rstrip\":false,\"single_word\":false},"
    "{\"id\":10,\"content\":\"<mask>\",\"special\":true,\"normalized\":false,\"lstrip\":true,\"rstrip\":true,\"single_word\":false},"
    "{\"id\":11,\"content\":\"hello\",\"special\":false,\"normalized\":true,\"lstrip\":false,\"rstrip\":false,\"single_word\":true}],"
    "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},"
    "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[9],\"tokens\":[\"<s>\"]}}},"
    "\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"ByteFallback\"},{\"type\":\"ByteLevel\"},{\"type\":\"Fuse\"},"
    "{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":0}]}}";

static int valid_utf8(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (!k || i + k > n) return 0;
        for (size_t j = 1; j < k; j++)
            if ((s[i + j] & 0xC0) != 0x80) return 0;
        i += k;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static YaTokenizer *tok; /* loaded once per process: fuzzing is about the input bytes */
    YaError err = {0};
    if (!tok) {
        const char *path = getenv("YA_FUZZ_TOKENIZER");
        int rc = path ? ya_tokenizer_load(path, &tok, &err)
                      : ya_tokenizer_load_memory(k_json, sizeof k_json - 1, NULL, 0, &tok, &err);
        if (rc != YA_OK) {
            fprintf(stderr, "fuzz_tokenizer_encode: %s\n", err.message);
            abort();
        }
    }
    YaIds ids = {0};
    if (ya_tokenizer_encode(tok, (const char *)data, size, size & 1, &ids, &err) != YA_OK) abort();
    for (size_t i = 0; i < ids.len; i++)
        if (ids.ids[i] < 0 || (size_t)ids.ids[i] >= ya_tokenizer_vocab_size(tok)) abort();
    char *out = NULL;
    size_t out_len = 0;
    if (ya_tokenizer_decode(tok, ids.ids, ids.len, size & 2, &out, &out_len, &err) != YA_OK) abort();
    if (!valid_utf8((const unsigned char *)out, out_len)) abort();
    free(out);
    ya_ids_free(&ids);
    return 0;
}

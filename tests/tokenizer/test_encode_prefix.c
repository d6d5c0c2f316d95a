/* test_encode_prefix.c — bounded tokenisation of long documents:
 *  1. ya_tokenizer_encode_prefix(text, L) is a prefix of ya_tokenizer_encode(text)
 *     holding at least min(L, full length) ids, for Brown-corpus documents, three
 *     real tokenizers (SentencePiece-style Mistral, byte-level Llama 3 and Qwen3),
 *     with and without special tokens, at many limits;
 *  2. chunked BPE of a long pre-token (a whole Mistral document is one) gives the
 *     ids of unchunked BPE — the reference, whose parity with HF tokenizers is
 *     tokenizer_hf_parity's job — at several chunk sizes: the safe cuts are exact;
 *  3. a pathological pre-token (megabytes without a space) costs one chunk of BPE
 *     under a limit: the ids returned are bounded by the chunk, not the text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "tokenizer/tokenizer_internal.h"
#include "your_ai/tokenizer.h"

static char *read_all(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, fp);
    fclose(fp);
    s[got] = 0;
    *len = got;
    return s;
}

/* Brown corpus file k (ca01.., cb01.., ...: the first N in CONTENTS order by name). */
static char *brown_text(const char *testdata, int k, size_t *len) {
    static const char genres[] = "abcdefghjklmnpr";
    char path[4096];
    for (int g = 0, seen = 0; genres[g]; g++)
        for (int i = 1; i < 100; i++) {
            snprintf(path, sizeof path, "%s/brown/c%c%02d", testdata, genres[g], i);
            FILE *fp = fopen(path, "rb");
            if (!fp) break;
            fclose(fp);
            if (seen++ == k) return read_all(path, len);
        }
    return NULL;
}

static int is_prefix(const YaIds *pre, const YaIds *full) {
    if (pre->len > full->len) return 0;
    return pre->len == 0 || memcmp(pre->ids, full->ids, pre->len * sizeof *pre->ids) == 0;
}

static void check_prefixes(const YaTokenizer *tok, const char *name, const char *text, size_t len) {
    YaError err = {0};
    for (int special = 0; special <= 1; special++) {
        YaIds full = {0};
        CHECK_MSG(ya_tokenizer_encode(tok, text, len, special, &full, &err) == YA_OK, "%s", err.message);
        const size_t limits[] = {0, 1, 2, 3, 5, 8, 31, 32, 33, 100, 257, 1000, 4096, full.len - 1, full.len, full.len + 7};
        for (size_t k = 0; k < sizeof limits / sizeof *limits; k++) {
            YaIds pre = {0};
            CHECK_MSG(ya_tokenizer_encode_prefix(tok, text, len, special, limits[k], &pre, &err) == YA_OK, "%s",
                      err.message);
            size_t need = limits[k] < full.len ? limits[k] : full.len;
            CHECK_MSG(pre.len >= need && is_prefix(&pre, &full),
                      "%s special=%d limit %zu: %zu ids, full %zu, prefix %d", name, special, limits[k], pre.len,
                      full.len, is_prefix(&pre, &full));
            ya_ids_free(&pre);
        }
        ya_ids_free(&full);
    }
}

/* The test data's tokenizer NAME (llama2, llama3, qwen3); NULL, with a failed check, if it does not load. */
static YaTokenizer *load_tokenizer(const char *testdata, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/models", testdata, name);
    YaTokenizer *tok = NULL;
    YaError err = {0};
    if (ya_tokenizer_load(path, &tok, &err) != YA_OK) {
        CHECK_MSG(0, "%s", err.message);
        return NULL;
    }
    return tok;
}

static void test_prefixes(const char *testdata) {
    static const char *const names[] = {"llama2", "llama3", "qwen3"};
    for (size_t t = 0; t < 3; t++) {
        YaTokenizer *tok = load_tokenizer(testdata, names[t]);
        if (!tok) continue;
        for (int k = 0; k < 12; k++) {
            size_t len;
            char *text = brown_text(testdata, k * 37, &len);
            CHECK_MSG(text != NULL, "Brown file %d missing under %s", k * 37, testdata);
            if (!text) continue;
            check_prefixes(tok, names[t], text, len);
            check_prefixes(tok, names[t], text, len / 3); /* cut mid-document, maybe mid-character */
            free(text);
        }
        ya_tokenizer_free(tok);
    }
}

/* Chunked BPE equals unchunked BPE on long SentencePiece-style documents. */
static void test_chunks_exact(const char *testdata) {
    YaTokenizer *tok = load_tokenizer(testdata, "llama2");
    if (!tok) return;
    YaError err = {0};
    /* ~300 KB: 40 Brown files end to end, one pre-token for this tokenizer */
    size_t total = 0, cap = 1 << 20;
    char *text = malloc(cap);
    for (int k = 0; k < 40; k++) {
        size_t len;
        char *t = brown_text(testdata, k * 11, &len);
        if (!t) continue;
        if (total + len + 1 > cap) len = cap - total - 1;
        memcpy(text + total, t, len);
        total += len;
        free(t);
    }
    CHECK(total > 200000);
    YaIds whole = {0};
    tok->word_chunk = SIZE_MAX;
    CHECK(ya_tokenizer_encode(tok, text, total, 1, &whole, &err) == YA_OK);
    const size_t chunks[] = {YA_TOK_WORD_CHUNK, 4096, 257};
    for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
        tok->word_chunk = chunks[c];
        YaIds got = {0};
        CHECK(ya_tokenizer_encode(tok, text, total, 1, &got, &err) == YA_OK);
        size_t i = 0;
        while (i < got.len && i < whole.len && got.ids[i] == whole.ids[i]) i++;
        CHECK_MSG(got.len == whole.len && i == got.len, "chunk %zu: %zu ids vs %zu unchunked, first difference at %zu",
                  chunks[c], got.len, whole.len, i);
        ya_ids_free(&got);
    }
    tok->word_chunk = YA_TOK_WORD_CHUNK;
    ya_ids_free(&whole);
    free(text);
    ya_tokenizer_free(tok);
}

/* 8 MiB of letters, no space: one pre-token under every tokenizer. With a limit
 * of 32 ids, BPE runs on one 64 KiB chunk: at most that many ids come back. */
static void test_pathological_word(const char *testdata) {
    static const char *const names[] = {"llama2", "llama3", "qwen3"};
    size_t len = (size_t)8 << 20;
    char *text = malloc(len);
    for (size_t i = 0; i < len; i++) text[i] = "abcdefghijklmnopqrstuvwxyz"[(i * 7 + i / 26) % 26];
    for (size_t t = 0; t < 3; t++) {
        YaTokenizer *tok = load_tokenizer(testdata, names[t]);
        if (!tok) continue;
        YaError err = {0};
        YaIds pre = {0}, full_small = {0};
        CHECK(ya_tokenizer_encode_prefix(tok, text, len, 1, 32, &pre, &err) == YA_OK);
        CHECK_MSG(pre.len >= 32 && pre.len <= YA_TOK_WORD_CHUNK + 2, "%s: %zu ids for a limit of 32", names[t], pre.len);
        /* the same ids as the full encoding of the text (which chunks at the same places) */
        CHECK(ya_tokenizer_encode(tok, text, (size_t)1 << 20, 1, &full_small, &err) == YA_OK);
        CHECK_MSG(full_small.len >= pre.len && memcmp(pre.ids, full_small.ids, pre.len * sizeof *pre.ids) == 0,
                  "%s: the limited encoding is not a prefix of the full one", names[t]);
        ya_ids_free(&pre);
        ya_ids_free(&full_small);
        ya_tokenizer_free(tok);
    }
    free(text);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_encode_prefix TESTDATA_DIR\n");
        return 2;
    }
    test_prefixes(argv[1]);
    test_chunks_exact(argv[1]);
    test_pathological_word(argv[1]);
    TEST_MAIN_END();
}

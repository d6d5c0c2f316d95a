// fuzz-libs: ya_distrust ya_base
// fuzz-seeds: tests/fuzz/corpus/prepare
/* fuzz_prepare.c — libFuzzer target for the per-record steps of `prepare` and the
 * Brown detagger (src/distrust/prepare_extract.c, prepare_dedup.c, import_text.c)
 * on arbitrary bytes.
 *
 * Besides "no crash, no leak, no UB", it checks the invariants the pipeline relies on:
 *  - extracted text is valid UTF-8 with >= 100 code points, and its truncation to
 *    8192 code points is a valid UTF-8 prefix;
 *  - the dedup normalisation is idempotent, trimmed and has no double spaces, so
 *    the key of a normalised text is the key of the text;
 *  - metadata holds only scalars and never text/content/body;
 *  - detagging valid UTF-8 gives valid UTF-8 without leading/trailing spaces.
 * With -DYA_FUZZ_REPLAY_MAIN (tests/fuzz/replay_main.c) it runs as ctest
 * fuzz_replay_fuzz_prepare over the seeds plus seeded mutations. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/import_text.h"
#include "your_ai/prepare.h"

static void require(int cond, const char *what) {
    if (!cond) {
        fprintf(stderr, "fuzz_prepare: invariant violated: %s\n", what);
        abort();
    }
}

static void check_normalize(const char *s, size_t n) {
    size_t n1, n2;
    char *a = ya_prepare_normalize(s, n, &n1);
    char *b = ya_prepare_normalize(a, n1, &n2);
    require(n1 == n2 && memcmp(a, b, n1) == 0, "normalisation is idempotent");
    require(n1 == 0 || (a[0] != ' ' && a[n1 - 1] != ' '), "normalised text is trimmed");
    require(!strstr(a, "  "), "no double spaces after normalisation");
    uint8_t d1[32], d2[32];
    ya_prepare_dedup_key(s, n, d1);
    ya_prepare_dedup_key(a, n1, d2);
    require(memcmp(d1, d2, 32) == 0, "key(text) == key(normalise(text))");
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    check_normalize(s, size);

    size_t out_len, bad;
    char *t = ya_brown_detag(s, size, &out_len);
    require(t != NULL, "detag returns a string");
    if (!memchr(s, '\0', size)) require(strlen(t) == out_len, "detag reports its length"); /* importers reject NULs */
    require(out_len == 0 || (t[0] != ' ' && t[out_len - 1] != ' '), "detagged text has no outer spaces");
    if (ya_utf8_valid(s, size, &bad)) require(ya_utf8_valid(t, out_len, &bad), "detagging keeps UTF-8 valid");
    free(t);

    json_error_t je;
    json_t *rec = json_loadb(s, size, 0, &je);
    if (rec && json_is_object(rec)) {
        char *text;
        size_t len;
        int got = ya_prepare_extract_text(rec, &text, &len);
        require(got == 0 || got == 1, "extract returns 0 or 1");
        if (got == 1) {
            require(ya_utf8_valid(text, len, &bad), "extracted text is valid UTF-8");
            require(ya_utf8_count_cp(text, len) >= YA_PREPARE_TEXT_MIN_CP, "extracted text has >= 100 code points");
            size_t cut = ya_utf8_prefix_bytes(text, len, YA_PREPARE_TEXT_MAX_CP);
            require(ya_utf8_valid(text, cut, &bad), "truncation keeps UTF-8 valid");
            check_normalize(text, len);
            free(text);
        } else {
            require(text == NULL, "no text on 0");
        }
        json_t *meta = ya_prepare_metadata(rec);
        const char *key;
        json_t *v;
        json_object_foreach(meta, key, v) {
            require(strcmp(key, "text") && strcmp(key, "content") && strcmp(key, "body"), "metadata drops text fields");
            require(json_is_string(v) || json_is_number(v) || json_is_boolean(v), "metadata holds scalars");
        }
        json_decref(meta);
        char *py = ya_json_python_str(rec);
        require(py != NULL, "python str of an object");
        free(py);
    }
    json_decref(rec);
    return 0;
}

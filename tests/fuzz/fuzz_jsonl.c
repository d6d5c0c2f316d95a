// fuzz-libs: ya_train ya_base
// fuzz-seeds: tests/fuzz/corpus/jsonl
/* fuzz_jsonl.c — libFuzzer target for the JSONL reader (src/formats/jsonl.c) and the
 * training-record validation (src/train/data_record.c) on arbitrary bytes.
 *
 * Besides "no crash, no leak, no UB", it checks the invariants the data loader
 * relies on:
 *  - line numbers increase and byte offsets stay inside the input;
 *  - seeking back to a reported (offset, line) re-reads the same line with the
 *    same verdict (the loader's cursor resumes by seeking);
 *  - a record that validates has a known format and, when it has scores, w ∈ [0, 0.99]
 *    and H ≥ 0 finite; a rejected one comes with a non-empty reason.
 * Build: tools/fuzz.sh (clang -fsanitize=fuzzer,address,undefined). With
 * -DYA_FUZZ_REPLAY_MAIN it becomes a plain program (ctest: fuzz_jsonl_replay) that
 * runs every file given on the command line plus a fixed number of seeded
 * mutations of each, so CI exercises the target without libFuzzer. */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/data.h"
#include "your_ai/jsonl.h"

static int fake_score(void *ctx, const char *text, size_t len, const json_t *metadata, const char *source_type,
                      double *w, double *h, YaError *err) {
    (void)ctx;
    (void)metadata;
    (void)source_type;
    /* a deterministic function of the text, sometimes out of the unit range to test the rounding path */
    *w = (double)(len % 100) / 101.0;
    *h = (double)(text[0] & 0x7f) / 9.0;
    (void)err;
    return YA_OK;
}

static void check_record(const json_t *obj, const YaDataConfig *cfg, YaDataFormat *fmt, const YaDataScorer *sc) {
    YaDataRecord rec;
    char reason[256];
    reason[0] = '\0';
    YaDataFormat before = *fmt;
    if (ya_data_record_parse(obj, cfg, fmt, sc, &rec, reason, sizeof reason) == YA_OK) {
        if (rec.format == YA_DATA_AUTO || rec.format != *fmt) abort();
        if (rec.has_scores && !(rec.w >= 0 && rec.w <= 0.99 && rec.h >= 0 && isfinite(rec.h))) abort();
        if (rec.format == YA_DATA_TEXT && (!rec.text || !rec.text[0])) abort();
        if (rec.format == YA_DATA_COMPLETIONS && (!rec.prompt || !rec.completion)) abort();
        if (rec.format == YA_DATA_CHAT && !json_is_array(rec.messages)) abort();
        if (!(rec.weight >= 0 && isfinite(rec.weight)) || (!rec.has_weight && rec.weight != 1.0)) abort();
        if (rec.format == YA_DATA_CHAT) { /* every validated chat line becomes complete renderer input */
            YaDataChat chat;
            YaError err = {0};
            if (ya_data_chat_build(&rec, &chat, &err) != YA_OK) abort();
            for (size_t i = 0; i < chat.n; i++) {
                if (!chat.msgs[i].role || !chat.msgs[i].content) abort();
                for (size_t k = 0; k < chat.turn_calls[i].n; k++)
                    if (!chat.turn_calls[i].calls[k].name || !chat.turn_calls[i].calls[k].arguments) abort();
            }
            for (size_t t = 0; t < chat.n_tools; t++)
                if (!chat.tools[t] || chat.tools[t][0] != '{') abort();
            ya_data_chat_free(&chat);
        }
    } else {
        if (reason[0] == '\0') abort();
        if (before != YA_DATA_AUTO && *fmt != before) abort(); /* a fixed format never changes */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0 || size > (1 << 20)) return 0;
    /* the reader wants a FILE*: give it the bytes through fmemopen */
    char *copy = malloc(size);
    if (!copy) return 0;
    memcpy(copy, data, size);
    YaJsonlReader r;
    memset(&r, 0, sizeof r);
    snprintf(r.path, sizeof r.path, "fuzz.jsonl");
    r.fp = fmemopen(copy, size, "rb");
    if (!r.fp) {
        free(copy);
        return 0;
    }

    YaDataConfig cfgs[3];
    ya_data_config_default(&cfgs[0]); /* distrust run: w/H required */
    ya_data_config_default(&cfgs[1]); /* off, no prompt masking */
    cfgs[1].need_scores = 0;
    cfgs[1].mask_prompt = 0;
    ya_data_config_default(&cfgs[2]); /* defaults + --score */
    cfgs[2].has_default_auth = cfgs[2].has_default_entropy = 1;
    cfgs[2].default_auth = 0.5;
    cfgs[2].default_entropy = 3.0;
    cfgs[2].score = (data[0] & 1);
    YaDataScorer sc = {fake_score, NULL};
    YaDataFormat fmts[3] = {YA_DATA_AUTO, YA_DATA_AUTO, YA_DATA_AUTO};
    YaBadLines bad = {.policy = YA_BAD_LINE_SKIP, .count = 0};

    uint64_t prev_line = 0;
    for (int guard = 0; guard < 10000; guard++) {
        json_t *obj = NULL;
        char reason[512];
        YaError err = {0};
        YaJsonlResult res = ya_jsonl_next(&r, &obj, reason, sizeof reason, &err);
        if (res == YA_JSONL_EOF || res == YA_JSONL_IOERR) break;
        if (r.line_no <= prev_line || r.line_offset > size || r.offset > size || r.line_offset >= r.offset) abort();
        prev_line = r.line_no;
        uint64_t line_no = r.line_no, line_off = r.line_offset, next_off = r.offset;
        if (res == YA_JSONL_BAD) {
            if (reason[0] == '\0') abort();
            /* under skip the policy never fails; printing is capped at 20 lines */
            if (bad.count < 25 && ya_bad_line(&bad, r.path, r.line_no, reason, &err) != YA_OK) abort();
        } else {
            for (int c = 0; c < 3; c++) check_record(obj, &cfgs[c], &fmts[c], &sc);
        }
        /* seek back to this line: the same verdict and the same next offset */
        if (ya_jsonl_seek(&r, line_off, line_no, &err) != YA_OK) abort();
        json_t *again = NULL;
        char reason2[512];
        YaJsonlResult res2 = ya_jsonl_next(&r, &again, reason2, sizeof reason2, &err);
        if (res2 != res || r.line_no != line_no || r.offset != next_off) abort();
        if (res == YA_JSONL_OBJECT && !json_equal(obj, again)) abort();
        if (res == YA_JSONL_BAD && strcmp(reason, reason2) != 0) abort();
        json_decref(again);
        json_decref(obj);
    }
    ya_jsonl_close(&r);
    free(copy);
    return 0;
}

#ifdef YA_FUZZ_REPLAY_MAIN
/* Replays files and deterministic mutations of them (byte flips, insertions of
 * JSON-significant bytes, truncations, line duplication). */
static uint64_t xorshift(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

int main(int argc, char **argv) {
    static const char tokens[] = "{}[]\":,\\\n\r\t 0.-eE9tfnu\xff\xc3\xa9";
    long n_runs = 0;
    for (int a = 1; a < argc; a++) {
        FILE *fp = fopen(argv[a], "rb");
        if (!fp) {
            fprintf(stderr, "%s: cannot open\n", argv[a]);
            return 1;
        }
        static uint8_t buf[1 << 16], mut[(1 << 17) + 16];
        size_t n = fread(buf, 1, sizeof buf, fp);
        fclose(fp);
        LLVMFuzzerTestOneInput(buf, n);
        n_runs++;
        uint64_t state = 0x9e3779b97f4a7c15ULL ^ (uint64_t)a;
        for (int k = 0; k < 300; k++) {
            size_t m = n;
            memcpy(mut, buf, n);
            int edits = 1 + (int)(xorshift(&state) % 4);
            for (int e = 0; e < edits && m > 0; e++) {
                size_t pos = (size_t)(xorshift(&state) % m);
                switch (xorshift(&state) % 5) {
                case 0: mut[pos] ^= (uint8_t)(1u << (xorshift(&state) % 8)); break;
                case 1: mut[pos] = (uint8_t)tokens[xorshift(&state) % (sizeof tokens - 1)]; break;
                case 2: /* insert a byte */
                    memmove(mut + pos + 1, mut + pos, m - pos);
                    mut[pos] = (uint8_t)tokens[xorshift(&state) % (sizeof tokens - 1)];
                    m++;
                    break;
                case 3: m = pos; break; /* truncate */
                case 4: /* duplicate the prefix up to pos (repeats lines) */
                    if (m + pos < sizeof mut) {
                        memmove(mut + pos + pos, mut + pos, m - pos);
                        memcpy(mut + pos, mut, pos);
                        m += pos;
                    }
                    break;
                }
            }
            LLVMFuzzerTestOneInput(mut, m);
            n_runs++;
        }
    }
    printf("fuzz_jsonl replay: %ld inputs, no invariant broken\n", n_runs);
    return 0;
}
#endif

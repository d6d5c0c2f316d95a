/* test_data_loader.c — the loader end to end on the real Mistral-7B tokenizer:
 * rendering rules token by token (text with BOS/EOS, completions, truncation,
 * packing), dropped samples, bad lines, and exact resume from a saved cursor.
 *
 * Expected token sequences are composed here from ya_tokenizer_encode (itself
 * conformance-tested against HF tokenizers) following the SPEC §5.4/§5.5 rules
 * written out again independently; the permutation is SPEC §8's, re-derived in
 * test_data_batch.c. Usage: test_data_loader <mistral dir> <qwen3 dir> <scratch dir> */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "data/data_test_files.h"
#include "test_util.h"
#include "your_ai/data.h"

static YaTokenizer *g_tok;
static int32_t g_bos, g_eos;


/* encode(text) (+ special tokens when add_special), appended to v */
static void enc(YaIds *v, const char *text, int add_special) {
    YaError err = {0};
    if (ya_tokenizer_encode(g_tok, text, strlen(text), add_special, v, &err)) {
        fprintf(stderr, "encode failed: %s\n", err.message);
        exit(1);
    }
}

static YaDataLoader *open1(const YaDataConfig *cfg, const char *path, YaError *err) {
    YaDataLoader *dl = NULL;
    const char *paths[1] = {path};
    if (ya_data_open(cfg, paths, 1, g_tok, NULL, &dl, err) != YA_OK) return NULL;
    return dl;
}

/* Checks one batch row against an expected (ids, sup) document placed at column 0. */
static void check_row(const YaBatch *b, int row, const int32_t *ids, const uint8_t *sup, int len, const char *what) {
    const int T = b->T;
    CHECK_MSG(b->row_len[row] == len, "%s: row_len %d, want %d", what, b->row_len[row], len);
    for (int t = 0; t < T; t++) {
        size_t k = (size_t)row * T + t;
        if (t < len) {
            int32_t want_tgt = t + 1 < len && sup[t + 1] ? ids[t + 1] : -1;
            CHECK_MSG(b->ids[k] == ids[t], "%s: ids[%d] = %d, want %d", what, t, b->ids[k], ids[t]);
            CHECK_MSG(b->targets[k] == want_tgt, "%s: targets[%d] = %d, want %d", what, t, b->targets[k], want_tgt);
            CHECK_MSG(b->loss_mask[k] == (want_tgt >= 0), "%s: loss_mask[%d]", what, t);
            CHECK_MSG(b->pos_ids[k] == t && b->seg_ids[k] == 0, "%s: pos/seg at %d", what, t);
        } else {
            CHECK_MSG(b->targets[k] == -1 && b->loss_mask[k] == 0 && b->seg_ids[k] == -1 && b->sample_ids[k] == -1,
                      "%s: padding at %d is not masked", what, t);
        }
    }
}

/* ---- text: BOS (tokenizer rule) + text + EOS, all supervised ---------------------------- */
static void test_text(void) {
    const char *texts[3] = {"Hello world", "The quick brown fox jumps over the lazy dog.", "abc</s>"};
    const char *path = write_file("text.jsonl", "{\"text\":\"Hello world\",\"auth_weight\":0.1,\"prov_entropy\":5}\n"
                                                "{\"text\":\"The quick brown fox jumps over the lazy dog.\",\"auth_weight\":0.5,\"prov_entropy\":2}\n"
                                                "{\"text\":\"abc</s>\",\"auth_weight\":0.9,\"prov_entropy\":1}\n");
    for (int eos_on = 0; eos_on <= 1; eos_on++) {
        YaDataConfig cfg;
        ya_data_config_default(&cfg);
        cfg.batch_size = 3;
        cfg.append_eos = eos_on;
        YaError err = {0};
        YaDataLoader *dl = open1(&cfg, path, &err);
        CHECK_MSG(dl != NULL, "%s", err.message);
        if (!dl) return;
        CHECK(ya_data_stats(dl)->format == YA_DATA_TEXT && ya_data_stats(dl)->n_samples == 3);
        const YaBatch *b = NULL;
        CHECK(ya_data_next(dl, &b, &err) == YA_OK);
        CHECK(b->B == 3);
        for (int r = 0; r < b->B; r++) {
            const YaBatchSample *s = &b->samples[r];
            YaIds want = {0};
            enc(&want, texts[s->index], 1);
            CHECK(want.len > 0 && want.ids[0] == g_bos); /* Mistral: add_bos_token */
            /* EOS unless already last; "abc</s>" already ends with the EOS token */
            if (eos_on && want.ids[want.len - 1] != g_eos) ya_ids_push(&want, g_eos);
            uint8_t sup[128];
            memset(sup, 1, sizeof sup);
            char what[64];
            snprintf(what, sizeof what, "text %d eos %d", (int)s->index, eos_on);
            check_row(b, r, want.ids, sup, (int)want.len, what);
            if (s->index == 2) {
                int n_eos = 0;
                for (int t = 0; t < b->row_len[r]; t++) n_eos += b->ids[(size_t)r * b->T + t] == g_eos;
                CHECK_MSG(n_eos == 1, "'abc</s>' got %d EOS tokens", n_eos);
            }
            CHECK(s->n_sup == (int)want.len - 1);
            CHECK(s->w == (s->index == 0 ? 0.1 : s->index == 1 ? 0.5 : 0.9));
            ya_ids_free(&want);
        }
        /* μ of the pre-pass: mean α(ln(1 − w + ε) + H)² */
        double mu = 0;
        const double w[3] = {0.1, 0.5, 0.9}, h[3] = {5, 2, 1};
        for (int i = 0; i < 3; i++) mu += 2.7 * pow(log(1 - w[i] + 1e-8) + h[i], 2) / 3;
        CHECK_NEAR(ya_data_stats(dl)->mean_distrust, mu, 1e-12);
        ya_data_close(dl);
    }
}

/* ---- completions without a chat template (the test tokenizer has none) ------------------- */
static void test_completions(void) {
    const char *path = write_file("compl.jsonl", "{\"prompt\":\"What is two plus two?\",\"completion\":\" Four.\"}\n");
    for (int mask = 0; mask <= 1; mask++) {
        YaDataConfig cfg;
        ya_data_config_default(&cfg);
        cfg.batch_size = 1;
        cfg.need_scores = 0;
        cfg.mask_prompt = mask;
        YaError err = {0};
        YaDataLoader *dl = open1(&cfg, path, &err);
        CHECK_MSG(dl != NULL, "%s", err.message);
        if (!dl) return;
        CHECK(ya_data_stats(dl)->format == YA_DATA_COMPLETIONS && !ya_data_stats(dl)->has_scores);
        const YaBatch *b = NULL;
        CHECK(ya_data_next(dl, &b, &err) == YA_OK);
        YaIds want = {0};
        enc(&want, "What is two plus two?", 1); /* prompt with BOS */
        size_t p = want.len;
        enc(&want, " Four.", 0); /* completion without BOS */
        ya_ids_push(&want, g_eos);
        uint8_t sup[128] = {0};
        for (size_t t = 0; t < want.len; t++) sup[t] = !mask || t >= p;
        check_row(b, 0, want.ids, sup, (int)want.len, mask ? "completions masked" : "completions unmasked");
        /* with the mask, the first scored position is the prompt's last token */
        CHECK(!mask || (b->targets[p - 2] == -1 && b->targets[p - 1] == want.ids[p]));
        CHECK(b->samples[0].w == 0 && b->samples[0].h == 0);
        ya_ids_free(&want);
        ya_data_close(dl);
    }
}

/* ---- truncation and dropped samples ----------------------------------------------------- */
static void test_truncation(void) {
    const char *path = write_file("trunc.jsonl",
                                  "{\"text\":\"one two three four five six seven eight nine ten eleven twelve\"}\n"
                                  "{\"prompt\":\"a long prompt that fills the whole window and more, much more\",\"completion\":\"yes\"}\n");
    YaDataConfig cfg;
    ya_data_config_default(&cfg);
    cfg.need_scores = 0;
    cfg.max_seq_len = 8;
    cfg.batch_size = 1;
    YaError err = {0};
    /* the completion line is in another format: skip it, so only truncation is tested here */
    cfg.on_bad_line = YA_BAD_LINE_SKIP;
    YaDataLoader *dl = open1(&cfg, path, &err);
    CHECK_MSG(dl != NULL, "%s", err.message);
    if (!dl) return;
    CHECK(ya_data_stats(dl)->n_truncated == 1 && ya_data_stats(dl)->n_bad == 1);
    const YaBatch *b = NULL;
    CHECK(ya_data_next(dl, &b, &err) == YA_OK);
    YaIds want = {0};
    enc(&want, "one two three four five six seven eight nine ten eleven twelve", 1);
    uint8_t sup[128];
    memset(sup, 1, sizeof sup);
    check_row(b, 0, want.ids, sup, 8, "truncated text"); /* the first 8 tokens; no target past them */
    CHECK(b->T == 8 && b->targets[7] == -1);
    ya_ids_free(&want);
    ya_data_close(dl);

    /* a completion whose supervised part lies entirely past max_seq_len is dropped and counted */
    path = write_file("trunc2.jsonl",
                      "{\"prompt\":\"a long prompt that fills the whole window and more, much more\",\"completion\":\"yes\"}\n"
                      "{\"prompt\":\"hi\",\"completion\":\"yes\"}\n");
    dl = open1(&cfg, path, &err);
    CHECK_MSG(dl != NULL, "%s", err.message);
    if (!dl) return;
    CHECK(ya_data_stats(dl)->n_samples == 1 && ya_data_stats(dl)->n_dropped_truncated == 1);
    ya_data_close(dl);
    /* nothing left at all is an error that says why */
    path = write_file("trunc3.jsonl",
                      "{\"prompt\":\"a long prompt that fills the whole window and more, much more\",\"completion\":\"yes\"}\n");
    CHECK(open1(&cfg, path, &err) == NULL);
    CHECK_MSG(strstr(err.message, "no training sample left") && strstr(err.message, "1 dropped"), "%s", err.message);
}

/* ---- packing through the loader ----------------------------------------------------------- */
static void test_pack(void) {
    const char *texts[3] = {"alpha beta", "gamma", "delta epsilon zeta"};
    const char *path = write_file("pack.jsonl", "{\"text\":\"alpha beta\"}\n{\"text\":\"gamma\"}\n{\"text\":\"delta epsilon zeta\"}\n");
    YaIds want[3] = {{0}};
    int total = 0;
    for (int i = 0; i < 3; i++) {
        enc(&want[i], texts[i], 1);
        ya_ids_push(&want[i], g_eos);
        total += (int)want[i].len;
    }
    YaDataConfig cfg;
    ya_data_config_default(&cfg);
    cfg.need_scores = 0;
    cfg.mode = YA_BATCH_PACK;
    cfg.batch_size = 2;
    cfg.max_seq_len = total; /* row 0 holds exactly epoch 0; row 1 starts epoch 1 */
    YaError err = {0};
    YaDataLoader *dl = open1(&cfg, path, &err);
    CHECK_MSG(dl != NULL, "%s", err.message);
    if (!dl) return;
    const YaBatch *b = NULL;
    CHECK(ya_data_next(dl, &b, &err) == YA_OK);
    CHECK(b->B == 2 && b->n_samples == 6 && b->T == total);
    /* each row is three documents end to end, in the permutation order of its epoch */
    for (int row = 0; row < 2; row++) {
        uint64_t perm[3];
        ya_data_epoch_permutation(cfg.seed, (uint64_t)row, perm, 3);
        int col = 0;
        for (int i = 0; i < 3; i++) {
            const YaBatchSample *s = &b->samples[row * 3 + i];
            const YaIds *w = &want[perm[i]];
            CHECK(s->index == perm[i] && s->epoch == (uint64_t)row && s->row == row && s->start == col);
            for (int t = 0; t < (int)w->len; t++) {
                size_t k = (size_t)row * b->T + col + t;
                CHECK_MSG(b->ids[k] == w->ids[t] && b->pos_ids[k] == t && b->seg_ids[k] == i &&
                              b->sample_ids[k] == row * 3 + i,
                          "row %d doc %d token %d", row, i, t);
                /* the last token of a document predicts nothing: no loss across the boundary */
                CHECK(b->targets[k] == (t + 1 < (int)w->len ? w->ids[t + 1] : -1));
            }
            col += (int)w->len;
        }
        CHECK(b->row_len[row] == col);
    }
    CHECK(ya_data_get_cursor(dl).epoch == 2 && ya_data_get_cursor(dl).position == 0);
    for (int i = 0; i < 3; i++) ya_ids_free(&want[i]);
    ya_data_close(dl);
}

/* ---- several files: one index, one format, one hash each ------------------------------------ */
static void test_multi_file(void) {
    const char *a = write_file("multi_a.jsonl", "{\"text\":\"first file, line one\"}\n\n{\"text\":\"first file, line three\"}\n");
    const char *b = write_file("multi_b.jsonl", "{\"prompt\":\"p\",\"completion\":\"c\"}\n{\"text\":\"second file, line two\"}\n");
    YaDataConfig cfg;
    ya_data_config_default(&cfg);
    cfg.need_scores = 0;
    cfg.batch_size = 3;
    cfg.shuffle = 0;
    YaError err = {0};
    const char *paths[2] = {a, b};
    YaDataLoader *dl = NULL;
    /* the second file's first line is in another format: a bad line of *that* file */
    CHECK(ya_data_open(&cfg, paths, 2, g_tok, NULL, &dl, &err) == YA_ERR);
    char want[1200];
    snprintf(want, sizeof want, "%s:1: line is in completions format", b);
    CHECK_MSG(strstr(err.message, want) != NULL, "got '%s'", err.message);
    cfg.on_bad_line = YA_BAD_LINE_SKIP;
    CHECK(ya_data_open(&cfg, paths, 2, g_tok, NULL, &dl, &err) == YA_OK);
    if (!dl) return;
    CHECK(ya_data_stats(dl)->n_samples == 3 && ya_data_stats(dl)->n_bad == 1 && ya_data_num_files(dl) == 2);
    const char *p;
    uint64_t line;
    ya_data_sample_source(dl, 1, &p, &line);
    CHECK(strcmp(p, a) == 0 && line == 3); /* blank lines count */
    ya_data_sample_source(dl, 2, &p, &line);
    CHECK(strcmp(p, b) == 0 && line == 2);
    const YaBatch *batch;
    CHECK(ya_data_next(dl, &batch, &err) == YA_OK && batch->B == 3);
    YaIds w = {0};
    enc(&w, "second file, line two", 1);
    CHECK(batch->ids[2 * batch->T + 1] == w.ids[1]); /* file order across files */
    ya_ids_free(&w);
    CHECK(strlen(ya_data_file_sha256(dl, 0)) == 64 && strcmp(ya_data_file_sha256(dl, 0), ya_data_file_sha256(dl, 1)) != 0);
    YaDataCursor c = {0, 1};
    json_t *j = ya_data_cursor_to_json(dl, &c);
    YaDataCursor r;
    CHECK(ya_data_cursor_from_json(dl, j, &r, &err) == YA_OK && r.position == 1);
    json_array_remove(json_object_get(j, "files"), 1);
    CHECK(ya_data_cursor_from_json(dl, j, &r, &err) == YA_ERR && strstr(err.message, "2 training file"));
    json_decref(j);
    ya_data_close(dl);
}

/* ---- bad lines ------------------------------------------------------------------------------ */
static void test_bad_lines(void) {
    const char *path = write_file("bad.jsonl",
                                  "{\"text\":\"good one\",\"auth_weight\":0.2,\"prov_entropy\":6}\n" /* 1 */
                                  "{\"text\":\"broken\",\n"                                          /* 2 invalid JSON */
                                  "\n"                                                               /* 3 blank */
                                  "[1,2]\n"                                                          /* 4 not an object */
                                  "{\"text\":\"w\",\"auth_weight\":1.2,\"prov_entropy\":6}\n"         /* 5 out of range */
                                  "{\"text\":\"n\",\"auth_weight\":NaN,\"prov_entropy\":6}\n"         /* 6 NaN literal */
                                  "{\"text\":\"m\"}\n"                                                /* 7 missing w/H */
                                  "{\"text\":\"good two\",\"auth_weight\":0.3,\"prov_entropy\":4}\n" /* 8 */
                                  "{\"prompt\":\"p\",\"completion\":\"c\",\"auth_weight\":0.3,\"prov_entropy\":4}\n" /* 9 other format */
                                  "{\"text\":\"\\ud800\",\"auth_weight\":0.3,\"prov_entropy\":4}"); /* 10 lone surrogate, no newline */
    YaDataConfig cfg;
    ya_data_config_default(&cfg);
    YaError err = {0};
    /* default policy: fail at the first bad line, naming file:line */
    CHECK(cfg.on_bad_line == YA_BAD_LINE_FAIL);
    CHECK(open1(&cfg, path, &err) == NULL);
    char want[1200];
    snprintf(want, sizeof want, "%s:2: invalid JSON", path);
    CHECK_MSG(strstr(err.message, want) != NULL, "got '%s'", err.message);
    CHECK(strstr(err.message, "--on-bad-line skip") != NULL);
    /* skip: every bad line counted, the good ones kept */
    cfg.on_bad_line = YA_BAD_LINE_SKIP;
    YaDataLoader *dl = open1(&cfg, path, &err);
    CHECK_MSG(dl != NULL, "%s", err.message);
    if (!dl) return;
    const YaDataStats *st = ya_data_stats(dl);
    CHECK_MSG(st->n_bad == 7 && st->n_samples == 2 && st->n_lines == 9, "bad %llu samples %llu lines %llu",
              (unsigned long long)st->n_bad, (unsigned long long)st->n_samples, (unsigned long long)st->n_lines);
    ya_data_close(dl);
    /* each reason on its own line, checked through the fail policy on one-line files */
    struct {
        const char *line, *reason;
    } cases[] = {
        {"[1,2]", "1: not a JSON object"},
        {"{\"text\":\"w\",\"auth_weight\":1.2,\"prov_entropy\":6}", "1: auth_weight 1.2 is outside [0, 0.99]"},
        {"{\"text\":\"w\",\"auth_weight\":0.2,\"prov_entropy\":Infinity}", "1: invalid JSON"},
        {"{\"text\":\"m\"}", "1: missing 'auth_weight'"},
        {"{\"text\":\"good\",\"auth_weight\":0.2,\"prov_entropy\":6}\n{\"messages\":[]}", "2: line is in chat format"},
        {"{\"text\":\"\xff\xfe\",\"auth_weight\":0.2,\"prov_entropy\":6}", "1: invalid JSON"},
    };
    cfg.on_bad_line = YA_BAD_LINE_FAIL;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *p = write_file("one.jsonl", cases[i].line);
        CHECK(open1(&cfg, p, &err) == NULL);
        snprintf(want, sizeof want, "%s:%s", p, cases[i].reason);
        CHECK_MSG(strstr(err.message, want) != NULL, "case %zu: got '%s', want '%s'", i, err.message, want);
    }
    /* a missing file */
    CHECK(open1(&cfg, "/nonexistent/train.jsonl", &err) == NULL && strstr(err.message, "/nonexistent/train.jsonl"));
}

/* ---- resume ----------------------------------------------------------------------------------- */

/* Serialises everything a batch carries, for memcmp. */
typedef struct {
    unsigned char *p;
    size_t n, cap;
} Buf;
static void put(Buf *b, const void *x, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, x, n);
    b->n += n;
}
static void serialise(Buf *out, const YaBatch *b) {
    size_t n = (size_t)b->B * b->T;
    put(out, &b->B, sizeof b->B);
    put(out, &b->T, sizeof b->T);
    put(out, b->ids, n * 4);
    put(out, b->targets, n * 4);
    put(out, b->loss_mask, n);
    put(out, b->pos_ids, n * 4);
    put(out, b->seg_ids, n * 4);
    put(out, b->sample_ids, n * 4);
    put(out, b->row_len, (size_t)b->B * 4);
    put(out, &b->n_samples, sizeof b->n_samples);
    for (int i = 0; i < b->n_samples; i++) {
        const YaBatchSample *s = &b->samples[i];
        int v[4] = {s->row, s->start, s->len, s->n_sup};
        put(out, v, sizeof v);
        put(out, &s->w, 8);
        put(out, &s->h, 8);
        put(out, &s->index, 8);
        put(out, &s->epoch, 8);
    }
}

enum { N_BATCHES = 14 };

/* Runs batches [from, N_BATCHES) and appends each serialised batch to out[]. */
static int run_batches(YaDataLoader *dl, int from, Buf *out) {
    YaError err = {0};
    for (int i = from; i < N_BATCHES; i++) {
        const YaBatch *b;
        if (ya_data_next(dl, &b, &err)) {
            fprintf(stderr, "batch %d: %s\n", i, err.message);
            return 1;
        }
        serialise(&out[i], b);
    }
    return 0;
}

static void test_resume_mode(YaBatchMode mode) {
    /* 11 documents of varied length, batch 3: pad mode crosses epochs at batches 3, 7, 11;
     * pack mode crosses them wherever the rows happen to fill */
    char content[4096] = "";
    const char *words[] = {"primary", "source", "patent", "letter", "archive", "measured", "diary", "notebook"};
    for (int i = 0; i < 11; i++) {
        char text[512] = "";
        for (int k = 0; k <= (i * 7) % 13; k++) {
            strcat(text, words[(i + k) % 8]);
            strcat(text, " ");
        }
        char line[700];
        snprintf(line, sizeof line, "{\"text\":\"doc %d: %s\",\"auth_weight\":0.%d,\"prov_entropy\":%d.5}\n", i, text, i % 10, i);
        strcat(content, line);
    }
    const char *path = write_file(mode == YA_BATCH_PACK ? "resume_pack.jsonl" : "resume_pad.jsonl", content);
    YaDataConfig cfg;
    ya_data_config_default(&cfg);
    cfg.mode = mode;
    cfg.batch_size = 3;
    cfg.max_seq_len = mode == YA_BATCH_PACK ? 40 : 24;
    cfg.seed = 1234;
    YaError err = {0};
    Buf straight[N_BATCHES] = {{0}};
    YaDataLoader *dl = open1(&cfg, path, &err);
    CHECK_MSG(dl != NULL, "%s", err.message);
    if (!dl) return;
    CHECK(run_batches(dl, 0, straight) == 0);
    CHECK(ya_data_get_cursor(dl).epoch >= 2); /* the run crossed at least two epoch boundaries */
    ya_data_close(dl);

    /* the pre-pass result does not depend on its thread count */
    for (int threads = 1; threads <= 3; threads += 2) {
        YaDataConfig tc = cfg;
        tc.threads = threads;
        dl = open1(&tc, path, &err);
        Buf again[N_BATCHES] = {{0}};
        CHECK(dl && run_batches(dl, 0, again) == 0);
        for (int i = 0; i < N_BATCHES; i++) {
            CHECK_MSG(again[i].n == straight[i].n && memcmp(again[i].p, straight[i].p, straight[i].n) == 0,
                      "%d pre-pass threads: batch %d differs", threads, i);
            free(again[i].p);
        }
        ya_data_close(dl);
    }

    /* every epoch visits every sample exactly once (pad mode: 11 samples per epoch) */
    if (mode == YA_BATCH_PAD) {
        dl = open1(&cfg, path, &err);
        int seen[3][11] = {{0}};
        for (int i = 0; i < 11; i++) {
            const YaBatch *b;
            CHECK(ya_data_next(dl, &b, &err) == YA_OK);
            for (int s = 0; s < b->n_samples; s++)
                if (b->samples[s].epoch < 3) seen[b->samples[s].epoch][b->samples[s].index]++;
        }
        for (int e = 0; e < 3; e++)
            for (int s = 0; s < 11; s++) CHECK_MSG(seen[e][s] == 1, "epoch %d sample %d seen %d times", e, s, seen[e][s]);
        ya_data_close(dl);
    }

    /* evaluation order: file order, the epoch's last batch short, then the next epoch */
    if (mode == YA_BATCH_PAD) {
        YaDataConfig ec = cfg;
        ec.shuffle = 0;
        ec.cross_epochs = 0;
        dl = open1(&ec, path, &err);
        const int want_rows[5] = {3, 3, 3, 2, 3};
        uint64_t next = 0;
        for (int i = 0; i < 5; i++) {
            const YaBatch *b;
            CHECK(ya_data_next(dl, &b, &err) == YA_OK);
            CHECK_MSG(b->B == want_rows[i], "eval batch %d has %d rows", i, b->B);
            for (int s = 0; s < b->n_samples; s++, next = (next + 1) % 11)
                CHECK(b->samples[s].index == next && b->samples[s].epoch == (i < 4 ? 0u : 1u));
            if (i == 3) CHECK(ya_data_get_cursor(dl).epoch == 1 && ya_data_get_cursor(dl).position == 0);
        }
        ya_data_close(dl);
    }

    for (int k = 0; k < N_BATCHES; k++) {
        /* run k batches, save the cursor as trainer_state.json would, tear everything down */
        dl = open1(&cfg, path, &err);
        for (int i = 0; i < k; i++) {
            const YaBatch *b;
            CHECK(ya_data_next(dl, &b, &err) == YA_OK);
        }
        YaDataCursor c = ya_data_get_cursor(dl);
        json_t *j = ya_data_cursor_to_json(dl, &c);
        char *saved = ya_json_dumps(j);
        json_decref(j);
        ya_data_close(dl);

        /* a new process: re-open, restore, continue */
        dl = open1(&cfg, path, &err);
        json_t *back = NULL;
        CHECK(ya_json_parse(saved, strlen(saved), "cursor", 0, &back, &err) == YA_OK);
        YaDataCursor r;
        CHECK_MSG(ya_data_cursor_from_json(dl, back, &r, &err) == YA_OK, "%s", err.message);
        CHECK(r.epoch == c.epoch && r.position == c.position);
        CHECK(ya_data_set_cursor(dl, &r, &err) == YA_OK);
        Buf resumed[N_BATCHES] = {{0}};
        CHECK(run_batches(dl, k, resumed) == 0);
        for (int i = k; i < N_BATCHES; i++)
            CHECK_MSG(resumed[i].n == straight[i].n && memcmp(resumed[i].p, straight[i].p, straight[i].n) == 0,
                      "%s: resumed after %d batches, batch %d differs", mode == YA_BATCH_PACK ? "pack" : "pad", k, i);
        for (int i = 0; i < N_BATCHES; i++) free(resumed[i].p);
        json_decref(back);
        free(saved);
        ya_data_close(dl);
    }

    /* a cursor taken with another seed or on other data is refused */
    dl = open1(&cfg, path, &err);
    YaDataCursor c = {1, 2};
    json_t *j = ya_data_cursor_to_json(dl, &c);
    ya_data_close(dl);
    YaDataConfig other = cfg;
    other.seed = 99;
    dl = open1(&other, path, &err);
    YaDataCursor r;
    CHECK(ya_data_cursor_from_json(dl, j, &r, &err) == YA_ERR && strstr(err.message, "seed"));
    ya_data_close(dl);
    const char *changed = write_file(mode == YA_BATCH_PACK ? "resume_pack.jsonl" : "resume_pad.jsonl",
                                     "{\"text\":\"different data\",\"auth_weight\":0.1,\"prov_entropy\":1}\n");
    dl = open1(&cfg, changed, &err);
    CHECK(ya_data_cursor_from_json(dl, j, &r, &err) == YA_ERR && strstr(err.message, "sha256"));
    YaDataCursor past = {0, 5};
    CHECK(ya_data_set_cursor(dl, &past, &err) == YA_ERR);
    ya_data_close(dl);
    json_decref(j);
    for (int i = 0; i < N_BATCHES; i++) free(straight[i].p);
}


/* ---- chat: template rendering and the assistant masks (mlx-lm's boundary rule) ------------ */

/* Token length of messages[0..n) rendered by fmt, through the generation prompt if gen. */
static size_t render_len(const YaTokenizer *tok, YaChatFormat fmt, const YaChatMessage *m, size_t n, int gen, YaIds *ids) {
    char *text = NULL;
    YaError err = {0};
    if (ya_chat_render(fmt, tok, m, n, gen, &text, &err)) {
        fprintf(stderr, "render failed: %s\n", err.message);
        exit(1);
    }
    YaIds tmp = {0};
    YaIds *v = ids ? ids : &tmp;
    if (ya_tokenizer_encode(tok, text, strlen(text), 0, v, &err)) exit(1);
    size_t len = v->len;
    ya_ids_free(&tmp);
    free(text);
    return len;
}

/* Decodes batch row 0's supervised targets, region by region, joined by "#". */
static void supervised_text(const YaTokenizer *tok, const YaBatch *b, char *out, size_t cap) {
    out[0] = '\0';
    int32_t run[512];
    int n = 0;
    for (int t = 0; t <= b->row_len[0]; t++) {
        int on = t < b->row_len[0] && b->targets[t] >= 0;
        if (on) run[n++] = b->targets[t];
        if ((!on || t == b->row_len[0]) && n) {
            char *s = NULL;
            size_t len = 0;
            YaError err = {0};
            if (ya_tokenizer_decode(tok, run, (size_t)n, 0, &s, &len, &err) == YA_OK) {
                if (out[0]) strncat(out, "#", cap - strlen(out) - 1);
                strncat(out, s, cap - strlen(out) - 1);
            }
            free(s);
            n = 0;
        }
    }
}

static void test_chat(const char *qwen_dir) {
    const char *path = write_file("chat.jsonl",
                                  "{\"messages\":[{\"role\":\"user\",\"content\":\"Capital of France?\"},"
                                  "{\"role\":\"assistant\",\"content\":\"Paris.\"},"
                                  "{\"role\":\"user\",\"content\":\"And of Italy?\"},"
                                  "{\"role\":\"assistant\",\"content\":\"Rome.\"}]}\n");
    const YaChatMessage m[4] = {{"user", "Capital of France?"}, {"assistant", "Paris."}, {"user", "And of Italy?"},
                                {"assistant", "Rome."}};
    /* the Mistral test tokenizer has no chat template: chat data needs --chat-format */
    YaDataConfig cfg;
    ya_data_config_default(&cfg);
    cfg.need_scores = 0;
    cfg.batch_size = 1;
    YaError err = {0};
    CHECK(open1(&cfg, path, &err) == NULL && strstr(err.message, "--chat-format"));
    cfg.chat_format = YA_CHAT_MISTRAL;
    for (int mode = 0; mode < 3; mode++) { /* final, all-assistant, mask off */
        cfg.train_on = mode == 1 ? YA_TRAIN_ON_ALL_ASSISTANT : YA_TRAIN_ON_FINAL;
        cfg.mask_prompt = mode != 2;
        YaDataLoader *dl = open1(&cfg, path, &err);
        CHECK_MSG(dl != NULL, "%s", err.message);
        if (!dl) return;
        const YaBatch *b = NULL;
        CHECK(ya_data_next(dl, &b, &err) == YA_OK);
        YaIds full = {0};
        size_t n_full = render_len(g_tok, YA_CHAT_MISTRAL, m, 4, 0, &full);
        /* turn k supervised from len(render(m[0..k), gen)) to len(render(m[0..k])) */
        uint8_t sup[512] = {0};
        for (size_t k = 1; k < 4; k += 2) {
            if (mode == 0 && k != 3) continue;
            size_t a = render_len(g_tok, YA_CHAT_MISTRAL, m, k, 1, NULL), e = render_len(g_tok, YA_CHAT_MISTRAL, m, k + 1, 0, NULL);
            for (size_t t = a; t < e; t++) sup[t] = 1;
        }
        if (mode == 2) memset(sup, 1, sizeof sup);
        check_row(b, 0, full.ids, sup, (int)n_full, "mistral chat");
        CHECK(full.ids[0] == g_bos); /* the template's own "<s>", not a second BOS */
        CHECK(n_full < 2 || full.ids[1] != g_bos);
        char text[1024];
        supervised_text(g_tok, b, text, sizeof text);
        const char *want = mode == 0 ? "Rome.</s>" : mode == 1 ? "Paris.</s>#Rome.</s>" : NULL;
        if (want) CHECK_MSG(strcmp(text, want) == 0, "supervised text '%s', want '%s'", text, want);
        ya_ids_free(&full);
        ya_data_close(dl);
    }
    /* Qwen3's own template, detected from tokenizer_config.json: completions become a
     * user/assistant exchange; the loss covers the assistant turn and its <|im_end|> */
    YaTokenizer *qtok = NULL;
    if (ya_tokenizer_load(qwen_dir, &qtok, &err)) {
        fprintf(stderr, "%s\n", err.message);
        CHECK(0);
        return;
    }
    CHECK(ya_tokenizer_chat_format(qtok) != YA_CHAT_NONE);
    path = write_file("qwen.jsonl", "{\"prompt\":\"What is two plus two?\",\"completion\":\"Four.\"}\n");
    ya_data_config_default(&cfg);
    cfg.need_scores = 0;
    cfg.batch_size = 1;
    YaDataLoader *dl = NULL;
    const char *paths[1] = {path};
    CHECK(ya_data_open(&cfg, paths, 1, qtok, NULL, &dl, &err) == YA_OK);
    if (dl) {
        const YaBatch *b = NULL;
        CHECK(ya_data_next(dl, &b, &err) == YA_OK);
        char text[1024];
        supervised_text(qtok, b, text, sizeof text);
        const char *suffix = "Four.<|im_end|>\n";
        CHECK_MSG(strlen(text) >= strlen(suffix) && strcmp(text + strlen(text) - strlen(suffix), suffix) == 0 &&
                      !strstr(text, "two plus") && !strchr(text, '#'),
                  "supervised text '%s'", text);
        CHECK(ya_data_stats(dl)->chat_format == ya_tokenizer_chat_format(qtok));
        ya_data_close(dl);
    }
    ya_tokenizer_free(qtok);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s <mistral tokenizer dir> <qwen3 tokenizer dir> <scratch dir>\n", argv[0]);
        return 2;
    }
    g_scratch = argv[3];
    YaError err = {0};
    if (ya_tokenizer_load(argv[1], &g_tok, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    g_bos = ya_tokenizer_bos_id(g_tok);
    g_eos = ya_tokenizer_eos_id(g_tok);
    CHECK(g_bos == 1 && g_eos == 2); /* Mistral-7B v0.1: <s> = 1, </s> = 2 */
    test_text();
    test_completions();
    test_truncation();
    test_pack();
    test_chat(argv[2]);
    test_bad_lines();
    test_multi_file();
    test_resume_mode(YA_BATCH_PAD);
    test_resume_mode(YA_BATCH_PACK);
    ya_tokenizer_free(g_tok);
    TEST_MAIN_END();
}

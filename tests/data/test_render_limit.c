/* test_render_limit.c — ya_data_render under --max-seq-length T encodes only the
 * T + 1 tokens it needs (ya_tokenizer_encode_prefix); this proves the sample is
 * unchanged: ids, supervision mask, n_sup, "truncated?" and "supervised part
 * lost to truncation?" all equal those of rendering without a limit and then
 * truncating to T — for text, completions (with and without a chat template)
 * and chat records built from Brown-corpus documents, pad/pack-independent, at
 * many T, with --mask-prompt on/off and --train-on final/all-assistant.
 * Usage: test_render_limit TESTDATA_DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "your_ai/data.h"
#include "your_ai/tokenizer.h"

static char *brown(const char *testdata, const char *name, size_t max_len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/brown/%s", testdata, name);
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    char *s = malloc(max_len + 1);
    size_t n = fread(s, 1, max_len, fp);
    fclose(fp);
    s[n] = 0;
    return s;
}

static json_t *record_json(int kind, const char *a, const char *b, const char *c) {
    switch (kind) {
    case 0: return json_pack("{s:s}", "text", a);
    case 1: return json_pack("{s:s, s:s}", "prompt", a, "completion", b);
    default:
        return json_pack("{s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}", "messages", "role", "user", "content", a,
                         "role", "assistant", "content", b, "role", "user", "content", c, "role", "assistant",
                         "content", "Short final answer.");
    }
}

static void compare(const YaTokenizer *tok, YaChatFormat chat, const json_t *obj, YaDataConfig cfg, const char *what) {
    YaDataFormat fmt = YA_DATA_AUTO;
    YaDataRecord rec;
    char reason[256];
    cfg.need_scores = 0;
    if (ya_data_record_parse(obj, &cfg, &fmt, NULL, &rec, reason, sizeof reason) != YA_OK) {
        CHECK_MSG(0, "%s: %s", what, reason);
        return;
    }
    const int T = cfg.max_seq_len;
    YaTokSeq full = {0}, lim = {0};
    YaError err = {0};
    cfg.max_seq_len = 0; /* no limit: every token */
    CHECK_MSG(ya_data_render(&rec, &cfg, tok, chat, &full, &err) == YA_OK, "%s: %s", what, err.message);
    cfg.max_seq_len = T;
    CHECK_MSG(ya_data_render(&rec, &cfg, tok, chat, &lim, &err) == YA_OK, "%s: %s", what, err.message);
    size_t len = full.len < (size_t)T ? full.len : (size_t)T, n_sup = 0;
    for (size_t t = 1; t < len; t++) n_sup += full.sup[t];
    int same = lim.len == len && memcmp(lim.ids, full.ids, len * sizeof *lim.ids) == 0 &&
               memcmp(lim.sup, full.sup, len) == 0 && lim.n_sup == n_sup &&
               (lim.full_len > lim.len) == (full.len > len) && (lim.n_sup_full > 0) == (full.n_sup_full > 0);
    CHECK_MSG(same, "%s T=%d: len %zu/%zu n_sup %zu/%zu truncated %d/%d sup_full %zu/%zu", what, T, lim.len, len,
              lim.n_sup, n_sup, lim.full_len > lim.len, full.len > len, lim.n_sup_full, full.n_sup_full);
    ya_tok_seq_free(&full);
    ya_tok_seq_free(&lim);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_render_limit TESTDATA_DIR\n");
        return 2;
    }
    static const struct {
        const char *dir;
        YaChatFormat chat;
    } toks[] = {{"llama2", YA_CHAT_MISTRAL}, {"qwen3", YA_CHAT_CHATML}};
    static const char *const files[][3] = {{"ca01", "cb02", "cc03"}, {"cd04", "ce05", "cf06"}, {"cg07", "ch08", "cj09"}};
    static const size_t sizes[] = {40, 700, 6000}; /* bytes of each document: short, mid, long */
    static const int limits[] = {2, 3, 9, 32, 100, 513, 2048, 100000};
    for (size_t t = 0; t < 2; t++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s/models", argv[1], toks[t].dir);
        YaTokenizer *tok = NULL;
        YaError err = {0};
        if (ya_tokenizer_load(path, &tok, &err) != YA_OK) {
            CHECK_MSG(0, "%s", err.message);
            continue;
        }
        for (size_t f = 0; f < 3; f++)
            for (size_t sa = 0; sa < 3; sa++)
                for (size_t sb = 0; sb < 3; sb++) {
                    char *a = brown(argv[1], files[f][0], sizes[sa]), *b = brown(argv[1], files[f][1], sizes[sb]),
                         *c = brown(argv[1], files[f][2], sizes[(sa + sb) % 3]);
                    if (!a || !b || !c) {
                        CHECK_MSG(0, "Brown files missing under %s", argv[1]);
                        free(a), free(b), free(c);
                        continue;
                    }
                    for (int kind = 0; kind < 3; kind++) {
                        json_t *obj = record_json(kind, a, b, c);
                        for (size_t l = 0; l < sizeof limits / sizeof *limits; l++)
                            for (int variant = 0; variant < 4; variant++) {
                                YaDataConfig cfg;
                                ya_data_config_default(&cfg);
                                cfg.max_seq_len = limits[l];
                                cfg.mask_prompt = variant != 1;
                                cfg.train_on = variant == 2 ? YA_TRAIN_ON_ALL_ASSISTANT : YA_TRAIN_ON_FINAL;
                                cfg.append_eos = variant != 3;
                                char what[256];
                                snprintf(what, sizeof what, "%s kind %d %s/%zu+%zu variant %d", toks[t].dir, kind,
                                         files[f][0], sizes[sa], sizes[sb], variant);
                                compare(tok, toks[t].chat, obj, cfg, what);
                                /* completions without a chat template: prompt + completion + EOS */
                                if (kind == 1) compare(tok, YA_CHAT_NONE, obj, cfg, what);
                            }
                        json_decref(obj);
                    }
                    free(a), free(b), free(c);
                }
        ya_tokenizer_free(tok);
    }
    TEST_MAIN_END();
}

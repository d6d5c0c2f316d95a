/* test_data_conventions.c — the data conventions users bring from mlx-lm,
 * Axolotl and LLaMA-Factory, through the whole loader with real tokenizers:
 *  - the end-of-turn token of every supported chat template (<|eot_id|>,
 *    <|im_end|> and ChatML's "\n" after it, </s>) is a loss target of each
 *    trained assistant turn, and EOS is one for completions without a template;
 *  - ShareGPT "conversations" give exactly the ids and masks of the equivalent
 *    "messages" line, and both spellings mix in one file;
 *  - a tool conversation (qwen3): the tool-call turn and the answers supervised
 *    through their <|im_end|>, tool results never;
 *  - per-record "weight"/"loss_weight" reach the batch, weight 0 drops the sample.
 *
 *   test_data_conventions MISTRAL_DIR LLAMA3_DIR QWEN3_DIR SCRATCH_DIR */
#include <stdlib.h>

#include "data/data_test_files.h"
#include "test_util.h"
#include "your_ai/data.h"

static YaTokenizer *load_tok(const char *dir) {
    YaTokenizer *t = NULL;
    YaError err = {0};
    if (ya_tokenizer_load(dir, &t, &err)) {
        fprintf(stderr, "%s\n", err.message);
        exit(1);
    }
    return t;
}

static YaDataLoader *open1(const YaDataConfig *cfg, const YaTokenizer *tok, const char *path) {
    YaDataLoader *dl = NULL;
    YaError err = {0};
    const char *paths[1] = {path};
    if (ya_data_open(cfg, paths, 1, tok, NULL, &dl, &err) != YA_OK) {
        fprintf(stderr, "open %s: %s\n", path, err.message);
        CHECK(0);
        return NULL;
    }
    return dl;
}

/* 1 when token t of batch row 0 is a loss target (the logits at t-1 predict it). */
static int supervised(const YaBatch *b, int t) { return t > 0 && b->targets[t - 1] >= 0 && b->targets[t - 1] == b->ids[t]; }

/* ---- end of turn ---------------------------------------------------------------------------- */

static const char k_conv[] =
    "{\"messages\":[{\"role\":\"system\",\"content\":\"Answer briefly.\"},"
    "{\"role\":\"user\",\"content\":\"Capital of France?\"},{\"role\":\"assistant\",\"content\":\"Paris.\"},"
    "{\"role\":\"user\",\"content\":\"And of Italy?\"},{\"role\":\"assistant\",\"content\":\"Rome.\"}]}\n";
static const char *const k_roles[5] = {"system", "user", "assistant", "user", "assistant"};

/* Renders k_conv with fmt and checks, under --train-on final and all-assistant, that
 * the end-of-turn token closing each trained assistant turn is supervised and the one
 * closing any other turn is not. eot: the template's end-of-turn string; every turn
 * ends with one (per_turn) or only assistant turns do (Mistral's </s>). newline_after:
 * the template writes "\n" after it (ChatML), which belongs to the turn as well. */
static void check_end_of_turn(const YaTokenizer *tok, YaChatFormat fmt, const char *eot, int per_turn, int newline_after) {
    int32_t eot_id = ya_tokenizer_token_to_id(tok, eot);
    CHECK_MSG(eot_id >= 0, "%s: no token %s", ya_chat_format_name(fmt), eot);
    int32_t nl_id = -1;
    if (newline_after) {
        YaIds nl = {0};
        YaError err = {0};
        CHECK(ya_tokenizer_encode(tok, "\n", 1, 0, &nl, &err) == YA_OK && nl.len == 1);
        nl_id = nl.ids[0];
        ya_ids_free(&nl);
    }
    const char *path = write_file("eot.jsonl", k_conv);
    for (int all = 0; all <= 1; all++) {
        YaDataConfig cfg;
        ya_data_config_default(&cfg);
        cfg.need_scores = 0;
        cfg.batch_size = 1;
        cfg.chat_format = fmt;
        cfg.train_on = all ? YA_TRAIN_ON_ALL_ASSISTANT : YA_TRAIN_ON_FINAL;
        YaDataLoader *dl = open1(&cfg, tok, path);
        if (!dl) return;
        const YaBatch *b = NULL;
        YaError err = {0};
        CHECK(ya_data_next(dl, &b, &err) == YA_OK);
        /* the k-th end-of-turn token closes turn k (or the k-th assistant turn) */
        int turn = -1, seen = 0;
        for (int t = 0; t < b->row_len[0]; t++) {
            if (b->ids[t] != eot_id) continue;
            turn = per_turn ? seen : (seen == 0 ? 2 : 4);
            seen++;
            CHECK_MSG(turn < 5, "%s: more end-of-turn tokens than turns", ya_chat_format_name(fmt));
            if (turn >= 5) break;
            int trained = strcmp(k_roles[turn], "assistant") == 0 && (all || turn == 4);
            CHECK_MSG(supervised(b, t) == trained, "%s --train-on %s: %s closing turn %d (%s) supervised %d, want %d",
                      ya_chat_format_name(fmt), all ? "all-assistant" : "final", eot, turn, k_roles[turn], supervised(b, t),
                      trained);
            if (newline_after) {
                CHECK_MSG(t + 1 < b->row_len[0] && b->ids[t + 1] == nl_id, "%s: no \"\\n\" after %s",
                          ya_chat_format_name(fmt), eot);
                CHECK_MSG(supervised(b, t + 1) == trained, "%s: the \"\\n\" after turn %d's %s: supervised %d, want %d",
                          ya_chat_format_name(fmt), turn, eot, supervised(b, t + 1), trained);
            }
            /* the turn ends there: the next turn's header is prompt */
            int next = t + 1 + newline_after;
            if (turn < 4 && next < b->row_len[0])
                CHECK_MSG(!supervised(b, next), "%s --train-on %s: token %d after turn %d's %s is supervised",
                          ya_chat_format_name(fmt), all ? "all-assistant" : "final", b->ids[next], turn, eot);
        }
        CHECK_MSG(seen == (per_turn ? 5 : 2), "%s: %d end-of-turn tokens", ya_chat_format_name(fmt), seen);
        printf("%s --train-on %s: %d x %s, the assistant's supervised\n", ya_chat_format_name(fmt),
               all ? "all-assistant" : "final", seen, eot);
        ya_data_close(dl);
    }
}

/* Completions without a template: encode(prompt) + encode(completion) + EOS, EOS supervised. */
static void check_completion_eos(const YaTokenizer *tok) {
    const char *path = write_file("comp.jsonl", "{\"prompt\":\"Two plus two is\",\"completion\":\" four.\"}\n");
    YaDataConfig cfg;
    ya_data_config_default(&cfg);
    cfg.need_scores = 0;
    cfg.batch_size = 1;
    YaDataLoader *dl = open1(&cfg, tok, path);
    if (!dl) return;
    const YaBatch *b = NULL;
    YaError err = {0};
    CHECK(ya_data_next(dl, &b, &err) == YA_OK);
    int last = b->row_len[0] - 1;
    CHECK(ya_data_stats(dl)->chat_format == YA_CHAT_NONE);
    CHECK_MSG(b->ids[last] == ya_tokenizer_eos_id(tok) && supervised(b, last), "completion: EOS is not the supervised last token");
    printf("completions without a template: EOS %d supervised\n", b->ids[last]);
    ya_data_close(dl);
}

/* ---- ShareGPT ------------------------------------------------------------------------------- */

/* Row 0 of the batch of each sample, in file order (shuffle off, one row per batch). */
static void check_same_rows(const YaTokenizer *tok, YaChatFormat fmt, const char *content, int n, const char *what) {
    const char *path = write_file("sharegpt.jsonl", content);
    YaDataConfig cfg;
    ya_data_config_default(&cfg);
    cfg.need_scores = 0;
    cfg.batch_size = 1;
    cfg.shuffle = 0;
    cfg.chat_format = fmt;
    cfg.train_on = YA_TRAIN_ON_ALL_ASSISTANT;
    YaDataLoader *dl = open1(&cfg, tok, path);
    if (!dl) return;
    CHECK(ya_data_stats(dl)->n_samples == (uint64_t)n);
    CHECK(ya_data_stats(dl)->n_by_source[YA_CHAT_SOURCE_MESSAGES] == 1 &&
          ya_data_stats(dl)->n_by_source[YA_CHAT_SOURCE_SHAREGPT] == (uint64_t)n - 1);
    CHECK(strcmp(ya_data_sample_kind(dl, 0), "chat:messages") == 0 && strcmp(ya_data_sample_kind(dl, 1), "chat:sharegpt") == 0);
    int32_t ref_ids[1024], ref_tg[1024];
    int ref_len = 0;
    for (int i = 0; i < n; i++) {
        const YaBatch *b = NULL;
        YaError err = {0};
        CHECK(ya_data_next(dl, &b, &err) == YA_OK);
        if (!b) break;
        CHECK(b->samples[0].index == (uint64_t)i);
        if (i == 0) {
            ref_len = b->row_len[0];
            CHECK(ref_len <= 1024);
            memcpy(ref_ids, b->ids, (size_t)ref_len * sizeof *ref_ids);
            memcpy(ref_tg, b->targets, (size_t)ref_len * sizeof *ref_tg);
            continue;
        }
        CHECK_MSG(b->row_len[0] == ref_len && !memcmp(b->ids, ref_ids, (size_t)ref_len * sizeof *ref_ids) &&
                      !memcmp(b->targets, ref_tg, (size_t)ref_len * sizeof *ref_tg),
                  "%s: line %d (ShareGPT) renders differently from line 1 (messages)", what, i + 1);
    }
    printf("%s: %d ShareGPT spellings = the messages line (%d tokens)\n", what, n - 1, ref_len);
    ya_data_close(dl);
}

static void test_sharegpt(const YaTokenizer *mistral, const YaTokenizer *qwen) {
    /* line 1: messages; 2: ShareGPT with human/gpt and a system turn; 3: user/assistant
     * spellings and the top-level "system" of LLaMA-Factory */
    const char *data =
        "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Capital of France?\"},"
        "{\"role\":\"assistant\",\"content\":\"Paris.\"},{\"role\":\"user\",\"content\":\"Italy?\"},"
        "{\"role\":\"assistant\",\"content\":\"Rome.\"}]}\n"
        "{\"conversations\":[{\"from\":\"system\",\"value\":\"Be brief.\"},{\"from\":\"human\",\"value\":\"Capital of France?\"},"
        "{\"from\":\"gpt\",\"value\":\"Paris.\"},{\"from\":\"human\",\"value\":\"Italy?\"},{\"from\":\"gpt\",\"value\":\"Rome.\"}]}\n"
        "{\"system\":\"Be brief.\",\"conversations\":[{\"from\":\"user\",\"value\":\"Capital of France?\"},"
        "{\"from\":\"assistant\",\"value\":\"Paris.\"},{\"from\":\"user\",\"value\":\"Italy?\"},{\"from\":\"assistant\",\"value\":\"Rome.\"}]}\n";
    check_same_rows(qwen, YA_CHAT_CHATML, data, 3, "chatml");
    check_same_rows(mistral, YA_CHAT_MISTRAL, data, 3, "mistral");

    /* an unknown speaker is a bad line naming file:line and the field */
    const char *bad = write_file("sharegpt_bad.jsonl",
                                 "{\"conversations\":[{\"from\":\"human\",\"value\":\"q\"},{\"from\":\"gpt\",\"value\":\"a\"}]}\n"
                                 "{\"conversations\":[{\"from\":\"human\",\"value\":\"q\"},{\"from\":\"bot\",\"value\":\"a\"}]}\n");
    YaDataConfig cfg;
    ya_data_config_default(&cfg);
    cfg.need_scores = 0;
    cfg.chat_format = YA_CHAT_CHATML;
    YaDataLoader *dl = NULL;
    YaError err = {0};
    const char *paths[1] = {bad};
    CHECK(ya_data_open(&cfg, paths, 1, qwen, NULL, &dl, &err) != YA_OK && dl == NULL);
    char want[1200];
    snprintf(want, sizeof want, "%s:2: conversations[1].from 'bot' is not system, human, user, gpt, assistant", bad);
    CHECK_MSG(strstr(err.message, want) != NULL, "error '%s' lacks '%s'", err.message, want);
}

/* ---- tool conversations (qwen3) ------------------------------------------------------------- */

/* Row 0's supervised targets decoded, region by region, into regions[] (at most 8). */
static int supervised_regions(const YaTokenizer *tok, const YaBatch *b, char regions[][1024], int max) {
    int n_regions = 0, n = 0;
    int32_t run[1024];
    for (int t = 0; t <= b->row_len[0]; t++) {
        int on = t < b->row_len[0] && b->targets[t] >= 0;
        if (on && n < 1024) run[n++] = b->targets[t];
        if (!on && n) {
            char *text = NULL;
            size_t len = 0;
            YaError err = {0};
            if (n_regions < max && ya_tokenizer_decode(tok, run, (size_t)n, 0, &text, &len, &err) == YA_OK)
                snprintf(regions[n_regions++], 1024, "%s", text);
            free(text);
            n = 0;
        }
    }
    return n_regions;
}

/* Under --train-on all-assistant the tool-call turn is supervised through its
 * </tool_call><|im_end|>\n, the final answers too, and the tool results never. */
static void test_tool_masks(const YaTokenizer *qwen) {
    const char *path = write_file(
        "tools.jsonl",
        "{\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\"}}}],"
        "\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Oslo?\"},"
        "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
        "\"arguments\":{\"city\":\"Oslo\"}}}]},{\"role\":\"tool\",\"content\":\"{\\\"temp\\\": 4}\"},"
        "{\"role\":\"assistant\",\"content\":\"4 degrees.\"}]}\n");
    for (int all = 0; all <= 1; all++) {
        YaDataConfig cfg;
        ya_data_config_default(&cfg);
        cfg.need_scores = 0;
        cfg.batch_size = 1;
        cfg.train_on = all ? YA_TRAIN_ON_ALL_ASSISTANT : YA_TRAIN_ON_FINAL;
        YaDataLoader *dl = open1(&cfg, qwen, path); /* qwen3: the tokenizer's own template */
        if (!dl) return;
        CHECK(strcmp(ya_data_sample_kind(dl, 0), "chat:messages+tools") == 0 && ya_data_stats(dl)->n_with_tools == 1);
        const YaBatch *b = NULL;
        YaError err = {0};
        CHECK(ya_data_next(dl, &b, &err) == YA_OK);
        char regions[8][1024];
        int n = b ? supervised_regions(qwen, b, regions, 8) : 0;
        const char *call = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call><|im_end|>\n";
        const char *answer = "4 degrees.<|im_end|>\n";
        CHECK_MSG(n == (all ? 2 : 1), "tools --train-on %s: %d supervised regions", all ? "all-assistant" : "final", n);
        if (all && n == 2) CHECK_MSG(strcmp(regions[0], call) == 0, "tool-call turn supervised as '%s'", regions[0]);
        if (n >= 1) {
            const char *last = regions[n - 1];
            size_t ll = strlen(last), la = strlen(answer);
            CHECK_MSG(ll >= la && strcmp(last + ll - la, answer) == 0, "final turn supervised as '%s'", last);
        }
        for (int i = 0; i < n; i++) CHECK_MSG(!strstr(regions[i], "tool_response"), "a tool result is supervised: '%s'", regions[i]);
        printf("tools --train-on %s: %d supervised regions, tool results unsupervised\n", all ? "all-assistant" : "final", n);
        ya_data_close(dl);
    }
}

/* A LLaMA-Factory ShareGPT tool line (tools as JSON text, function_call, observation)
 * renders exactly as the equivalent messages line. */
static void test_sharegpt_tools(const YaTokenizer *qwen) {
    const char *path = write_file(
        "sharegpt_tools.jsonl",
        "{\"tools\":[{\"name\":\"clock\",\"parameters\":{\"type\":\"object\"}}],\"messages\":["
        "{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Time?\"},"
        "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"name\":\"clock\",\"arguments\":{\"zone\":\"UTC\"}}]},"
        "{\"role\":\"tool\",\"content\":\"12:00\"},{\"role\":\"assistant\",\"content\":\"Noon.\"}]}\n"
        "{\"system\":\"Be brief.\",\"tools\":\"[{\\\"name\\\": \\\"clock\\\", \\\"parameters\\\": {\\\"type\\\": \\\"object\\\"}}]\","
        "\"conversations\":[{\"from\":\"human\",\"value\":\"Time?\"},"
        "{\"from\":\"function_call\",\"value\":\"{\\\"name\\\": \\\"clock\\\", \\\"arguments\\\": {\\\"zone\\\": \\\"UTC\\\"}}\"},"
        "{\"from\":\"observation\",\"value\":\"12:00\"},{\"from\":\"gpt\",\"value\":\"Noon.\"}]}\n");
    YaDataConfig cfg;
    ya_data_config_default(&cfg);
    cfg.need_scores = 0;
    cfg.batch_size = 1;
    cfg.shuffle = 0;
    cfg.train_on = YA_TRAIN_ON_ALL_ASSISTANT;
    YaDataLoader *dl = open1(&cfg, qwen, path);
    if (!dl) return;
    CHECK(strcmp(ya_data_sample_kind(dl, 0), "chat:messages+tools") == 0 &&
          strcmp(ya_data_sample_kind(dl, 1), "chat:sharegpt+tools") == 0 && ya_data_stats(dl)->n_with_tools == 2);
    const YaBatch *b = NULL;
    YaError err = {0};
    int32_t ids[512], tg[512];
    int len = 0;
    CHECK(ya_data_next(dl, &b, &err) == YA_OK);
    if (b && b->row_len[0] <= 512) {
        len = b->row_len[0];
        memcpy(ids, b->ids, (size_t)len * sizeof *ids);
        memcpy(tg, b->targets, (size_t)len * sizeof *tg);
    }
    CHECK(ya_data_next(dl, &b, &err) == YA_OK);
    CHECK_MSG(b && len > 0 && b->row_len[0] == len && !memcmp(b->ids, ids, (size_t)len * sizeof *ids) &&
                  !memcmp(b->targets, tg, (size_t)len * sizeof *tg),
              "the ShareGPT tool line renders differently from the messages line");
    printf("ShareGPT function_call/observation = messages tool_calls/tool (%d tokens)\n", len);
    ya_data_close(dl);

    /* a template without tools refuses the line, naming the first tool part in the line's own terms */
    path = write_file("sharegpt_tools2.jsonl",
                      "{\"conversations\":[{\"from\":\"human\",\"value\":\"Time?\"},{\"from\":\"function_call\","
                      "\"value\":\"{\\\"name\\\": \\\"clock\\\", \\\"arguments\\\": {}}\"},"
                      "{\"from\":\"observation\",\"value\":\"12:00\"},{\"from\":\"gpt\",\"value\":\"Noon.\"}]}\n");
    cfg.chat_format = YA_CHAT_CHATML;
    const char *paths[1] = {path};
    dl = NULL;
    CHECK(ya_data_open(&cfg, paths, 1, qwen, NULL, &dl, &err) != YA_OK && !dl);
    char want[1200];
    snprintf(want, sizeof want,
             "%s:1: conversations[1].from 'function_call': the chatml chat template does not render tool calls (only qwen3 does)",
             path);
    CHECK_MSG(strstr(err.message, want) != NULL, "error '%s' lacks '%s'", err.message, want);
}

/* ---- sample weights ------------------------------------------------------------------------- */

static void test_weights(const YaTokenizer *tok) {
    const char *path = write_file("weights.jsonl", "{\"text\":\"The first document.\",\"weight\":2.5}\n"
                                                   "{\"text\":\"The second document.\"}\n"
                                                   "{\"text\":\"The third document.\",\"loss_weight\":0.25}\n"
                                                   "{\"text\":\"Weighted out.\",\"weight\":0}\n"
                                                   "{\"text\":\"The fifth document.\",\"loss_weight\":1}\n");
    YaDataConfig cfg;
    ya_data_config_default(&cfg);
    cfg.need_scores = 0;
    cfg.batch_size = 4;
    cfg.shuffle = 0;
    YaDataLoader *dl = open1(&cfg, tok, path);
    if (!dl) return;
    const YaDataStats *st = ya_data_stats(dl);
    CHECK(st->n_lines == 5 && st->n_samples == 4 && st->n_dropped_zero_weight == 1 && st->n_weighted == 2);
    const double want[4] = {2.5, 1.0, 0.25, 1.0};
    const uint64_t lines[4] = {1, 2, 3, 5};
    for (uint64_t i = 0; i < 4; i++) {
        uint64_t line;
        ya_data_sample_source(dl, i, NULL, &line);
        CHECK_MSG(ya_data_sample_weight(dl, i) == want[i] && line == lines[i], "sample %d: weight %g line %d",
                  (int)i, ya_data_sample_weight(dl, i), (int)line);
        CHECK(strcmp(ya_data_sample_kind(dl, i), "text") == 0);
    }
    const YaBatch *b = NULL;
    YaError err = {0};
    CHECK(ya_data_next(dl, &b, &err) == YA_OK);
    for (int i = 0; b && i < b->n_samples; i++)
        CHECK_MSG(b->samples[i].weight == want[b->samples[i].index], "batch sample %d: weight %g", i, b->samples[i].weight);
    ya_data_close(dl);
    /* a data set whose every sample weighs 0 has nothing to train on */
    path = write_file("weights0.jsonl", "{\"text\":\"a b c\",\"weight\":0}\n");
    const char *paths[1] = {path};
    CHECK(ya_data_open(&cfg, paths, 1, tok, NULL, &dl, &err) != YA_OK && strstr(err.message, "no training sample left"));
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s MISTRAL_DIR LLAMA3_DIR QWEN3_DIR SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    g_scratch = argv[4];
    YaTokenizer *mistral = load_tok(argv[1]), *llama3 = load_tok(argv[2]), *qwen = load_tok(argv[3]);
    check_end_of_turn(llama3, YA_CHAT_LLAMA3, "<|eot_id|>", 1, 0);
    check_end_of_turn(qwen, YA_CHAT_CHATML, "<|im_end|>", 1, 1);
    check_end_of_turn(qwen, YA_CHAT_QWEN3, "<|im_end|>", 1, 1);
    check_end_of_turn(mistral, YA_CHAT_MISTRAL, "</s>", 0, 0);
    check_completion_eos(mistral);
    test_sharegpt(mistral, qwen);
    test_tool_masks(qwen);
    test_sharegpt_tools(qwen);
    test_weights(mistral);
    ya_tokenizer_free(mistral);
    ya_tokenizer_free(llama3);
    ya_tokenizer_free(qwen);
    TEST_MAIN_END();
}

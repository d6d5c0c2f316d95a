/* cmd_inspect_data.c — `your_ai inspect-data`: runs the training data loader
 * exactly as `train` would and prints the first micro-batches — ids, loss
 * targets, positions, document segments and where each sample came from — so a
 * user can see what the model will be trained on, and tests can check it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "your_ai/data.h"
#include "your_ai/scorer.h"
#include "your_ai/tokenizer.h"

static const char k_usage[] =
    "Usage: your_ai inspect-data --model DIR --data FILE [--data FILE ...] [options]\n"
    "\n"
    "Loads a training set through the data loader (validation, tokenisation, masks,\n"
    "packing or padding, the seeded epoch order) and prints its first micro-batches.\n"
    "Formats (detected from the first line): {\"text\"}, {\"prompt\",\"completion\"},\n"
    "{\"messages\":[{\"role\",\"content\"}...]} or ShareGPT {\"conversations\":[{\"from\",\"value\"}...]},\n"
    "each optionally with auth_weight, prov_entropy and a sample weight (\"weight\" or\n"
    "\"loss_weight\", >= 0; 0 drops the sample). Each document is listed with how its line\n"
    "was understood (text, completions, chat:messages, chat:sharegpt; +tools with tools),\n"
    "its weight and the token spans the loss is taken on.\n"
    "\n"
    "Options:\n"
    "  --model DIR          model directory with tokenizer.json (+ tokenizer_config.json) (required)\n"
    "  --data FILE          training JSONL; repeat for several files (required)\n"
    "  --distrust-mode M    off|additive|weighted: whether every sample needs auth_weight and\n"
    "                       prov_entropy (off: optional) (default weighted)\n"
    "  --alpha A            distrust alpha for the printed mean distrust mu (default 2.7)\n"
    "  --batches N          micro-batches to print (default 2)\n"
    "  --cursor JSON        start at a saved data cursor ({\"epoch\":..,\"position\":..,...} as in\n"
    "                       trainer_state.json) instead of the beginning (default: the beginning)\n"
    "  --json               one JSON object per batch on stdout (ids, targets, pos_ids, seg_ids,\n"
    "                       row_len, samples, cursor) instead of the readable listing\n"
    "  --decode             readable listing: show each token's piece next to its id\n"
    YA_CLI_DATA_USAGE
    "\n"
    "In the listing, targets[t] is the id the logits at t must predict; '.' means no loss there\n"
    "(prompt, padding, a document's last token). Exit codes: 0 success, 1 runtime error\n"
    "(bad line under --on-bad-line fail, unreadable file), 2 usage error.\n";

static json_t *int_row(const int32_t *v, int n) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_integer(v[i]));
    return a;
}

/* The supervised token spans [a, b) of a document (token indices inside it):
 * token t+1 is a loss target iff the logits at t have one. Calls emit(a, b) per span. */
static void sup_spans(const YaBatch *b, const YaBatchSample *s, void (*emit)(void *ctx, int a, int e), void *ctx) {
    const int32_t *tg = b->targets + (size_t)s->row * b->T + s->start;
    int a = -1;
    for (int t = 1; t <= s->len; t++) {
        int on = t < s->len && tg[t - 1] >= 0;
        if (on && a < 0) a = t;
        if (!on && a >= 0) {
            emit(ctx, a, t);
            a = -1;
        }
    }
}

static void span_json(void *ctx, int a, int e) { json_array_append_new(ctx, json_pack("[i, i]", a, e)); }
static void span_print(void *ctx, int a, int e) {
    (void)ctx;
    printf(" [%d, %d)", a, e);
}

static json_t *batch_json(const YaDataLoader *dl, const YaBatch *b, int k, const YaDataCursor *before,
                          const YaDataCursor *after) {
    json_t *ids = json_array(), *tg = json_array(), *pos = json_array(), *seg = json_array(), *smp = json_array();
    for (int r = 0; r < b->B; r++) {
        size_t o = (size_t)r * b->T;
        json_array_append_new(ids, int_row(b->ids + o, b->T));
        json_array_append_new(tg, int_row(b->targets + o, b->T));
        json_array_append_new(pos, int_row(b->pos_ids + o, b->T));
        json_array_append_new(seg, int_row(b->seg_ids + o, b->T));
    }
    for (int i = 0; i < b->n_samples; i++) {
        const YaBatchSample *s = &b->samples[i];
        const char *path;
        uint64_t line;
        ya_data_sample_source(dl, s->index, &path, &line);
        json_t *spans = json_array();
        sup_spans(b, s, span_json, spans);
        json_array_append_new(smp, json_pack("{s:i, s:i, s:i, s:i, s:f, s:f, s:f, s:s, s:o, s:I, s:I, s:s, s:I}", "row",
                                             s->row, "start", s->start, "len", s->len, "n_sup", s->n_sup, "w", s->w, "h",
                                             s->h, "weight", s->weight, "kind", ya_data_sample_kind(dl, s->index),
                                             "sup_spans", spans, "index", (json_int_t)s->index, "epoch",
                                             (json_int_t)s->epoch, "file", path, "line", (json_int_t)line));
    }
    return json_pack("{s:i, s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "batch", k, "B", b->B, "T", b->T, "ids",
                     ids, "targets", tg, "pos_ids", pos, "seg_ids", seg, "row_len", int_row(b->row_len, b->B), "samples",
                     smp, "cursor_before", ya_data_cursor_to_json(dl, before), "cursor_after",
                     ya_data_cursor_to_json(dl, after));
}

static void print_batch(const YaDataLoader *dl, const YaTokenizer *tok, const YaBatch *b, int k,
                        const YaDataCursor *before, const YaDataCursor *after, int decode) {
    printf("batch %d: cursor (epoch %" PRIu64 ", position %" PRIu64 ") -> (%" PRIu64 ", %" PRIu64
           "), %d rows x %d tokens, %zu tokens, %zu supervised\n",
           k, before->epoch, before->position, after->epoch, after->position, b->B, b->T, b->n_tokens, b->n_sup);
    for (int r = 0; r < b->B; r++) {
        printf("  row %d: %d tokens\n", r, b->row_len[r]);
        for (int i = 0; i < b->n_samples; i++) {
            const YaBatchSample *s = &b->samples[i];
            if (s->row != r) continue;
            const char *path;
            uint64_t line;
            ya_data_sample_source(dl, s->index, &path, &line);
            printf("    doc %d: %s:%" PRIu64 " (sample %" PRIu64 ", epoch %" PRIu64 "), %s, tokens [%d, %d), %d supervised, "
                   "weight %g, w %g, H %g\n      supervised tokens:",
                   i, path, line, s->index, s->epoch, ya_data_sample_kind(dl, s->index), s->start, s->start + s->len,
                   s->n_sup, s->weight, s->w, s->h);
            sup_spans(b, s, span_print, NULL);
            printf("\n");
        }
        size_t o = (size_t)r * b->T;
        printf("    ids:    ");
        for (int t = 0; t < b->row_len[r]; t++) {
            if (b->seg_ids[o + t] > 0 && t > 0 && b->seg_ids[o + t] != b->seg_ids[o + t - 1]) printf(" |");
            const char *piece = decode ? ya_tokenizer_id_to_token(tok, b->ids[o + t]) : NULL;
            if (piece) printf(" %d:%s", b->ids[o + t], piece);
            else printf(" %d", b->ids[o + t]);
        }
        printf("\n    targets:");
        for (int t = 0; t < b->row_len[r]; t++) {
            if (b->seg_ids[o + t] > 0 && t > 0 && b->seg_ids[o + t] != b->seg_ids[o + t - 1]) printf(" |");
            if (b->targets[o + t] >= 0) printf(" %d", b->targets[o + t]);
            else printf(" .");
        }
        printf("\n");
    }
}

static int run_inspect_data(int argc, char **argv) {
    const char *cmd = "inspect-data";
    const char *model = NULL, *cursor_json = NULL, *paths[16], *v;
    size_t n_paths = 0;
    long long n_batches = 2;
    int as_json = 0, decode = 0;
    YaDataConfig cfg;
    ya_data_config_default(&cfg);
    for (int i = 1; i < argc; i++) {
        int r = ya_cli_data_flag(cmd, argc, argv, &i, &cfg);
        if (r < 0) return YA_ERR_USAGE;
        if (r > 0) continue;
        if ((r = ya_cli_flag(argc, argv, &i, "--model", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            model = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--data", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            if (n_paths == sizeof paths / sizeof *paths) return ya_cli_usage_error(cmd, "at most 16 --data files");
            paths[n_paths++] = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--distrust-mode", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            if (strcmp(v, "off") == 0) cfg.need_scores = 0;
            else if (strcmp(v, "additive") == 0 || strcmp(v, "weighted") == 0) cfg.need_scores = 1;
            else return ya_cli_usage_error(cmd, "--distrust-mode must be off, additive or weighted, got '%s'", v);
        } else if ((r = ya_cli_flag(argc, argv, &i, "--alpha", &v))) {
            if (r < 0 || ya_cli_parse_double("--alpha", v, &cfg.alpha)) return YA_ERR_USAGE;
            if (!(cfg.alpha >= 2.3 && cfg.alpha <= 3.0))
                return ya_cli_usage_error(cmd, "--alpha must be in [2.3, 3.0], got %s", v);
        } else if ((r = ya_cli_flag(argc, argv, &i, "--batches", &v))) {
            if (r < 0 || ya_cli_parse_int("--batches", v, 0, 1 << 20, &n_batches)) return YA_ERR_USAGE;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--cursor", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            cursor_json = v;
        } else if (strcmp(argv[i], "--json") == 0) {
            as_json = 1;
        } else if (strcmp(argv[i], "--decode") == 0) {
            decode = 1;
        } else {
            return ya_cli_usage_error(cmd, "unknown option '%s'", argv[i]);
        }
    }
    if (!model) return ya_cli_usage_error(cmd, "--model DIR is required");
    if (n_paths == 0) return ya_cli_usage_error(cmd, "--data FILE is required");

    YaError err = {0};
    YaTokenizer *tok = NULL;
    YaScorer *scorer = NULL;
    YaDataLoader *dl = NULL;
    json_t *cj = NULL;
    int rc = ya_tokenizer_load(model, &tok, &err);
    if (rc == YA_OK && cfg.score && cfg.need_scores) rc = ya_scorer_new(&scorer, &err);
    YaDataScorer ds = ya_data_citation_scorer(scorer);
    if (rc == YA_OK) rc = ya_data_open(&cfg, paths, n_paths, tok, scorer ? &ds : NULL, &dl, &err);
    if (rc == YA_OK && cursor_json) {
        YaDataCursor c;
        rc = ya_json_parse(cursor_json, strlen(cursor_json), "--cursor", 0, &cj, &err);
        if (rc == YA_OK) rc = ya_data_cursor_from_json(dl, cj, &c, &err);
        if (rc == YA_OK) rc = ya_data_set_cursor(dl, &c, &err);
    }
    if (rc == YA_OK) {
        const YaDataStats *st = ya_data_stats(dl);
        fprintf(stderr,
                "data: %zu file(s), format %s%s%s, %" PRIu64 " lines, %" PRIu64 " samples (%" PRIu64 " bad skipped, %" PRIu64
                " dropped, %" PRIu64 " truncated), %" PRIu64 " tokens, %" PRIu64 " supervised\n",
                ya_data_num_files(dl), ya_data_format_name(st->format),
                st->format != YA_DATA_TEXT ? ", template " : "",
                st->format != YA_DATA_TEXT ? (st->chat_format == YA_CHAT_NONE ? "none (plain concatenation)" : ya_chat_format_name(st->chat_format)) : "",
                st->n_lines, st->n_samples, st->n_bad,
                st->n_dropped_truncated + st->n_dropped_empty + st->n_dropped_zero_weight, st->n_truncated, st->n_tokens,
                st->n_sup_tokens);
        if (st->format == YA_DATA_CHAT)
            fprintf(stderr, "data: chat records: %" PRIu64 " chat:messages, %" PRIu64 " chat:sharegpt (%" PRIu64 " with tools)\n",
                    st->n_by_source[YA_CHAT_SOURCE_MESSAGES], st->n_by_source[YA_CHAT_SOURCE_SHAREGPT], st->n_with_tools);
        if (st->n_weighted || st->n_dropped_zero_weight)
            fprintf(stderr, "data: sample weights: %" PRIu64 " kept samples with a weight other than 1, %" PRIu64
                            " dropped with weight 0\n",
                    st->n_weighted, st->n_dropped_zero_weight);
        for (size_t i = 0; i < ya_data_num_files(dl); i++)
            fprintf(stderr, "data: %s sha256 %s\n", ya_data_file_path(dl, i), ya_data_file_sha256(dl, i));
        if (st->has_scores && cfg.need_scores)
            fprintf(stderr, "data: mean distrust mu = %.6f (alpha %g; %" PRIu64 " scored on the fly, %" PRIu64 " defaulted)\n",
                    st->mean_distrust, cfg.alpha, st->n_scored, st->n_defaulted);
    }
    for (long long k = 0; rc == YA_OK && k < n_batches; k++) {
        YaDataCursor before = ya_data_get_cursor(dl);
        const YaBatch *b;
        rc = ya_data_next(dl, &b, &err);
        if (rc) break;
        YaDataCursor after = ya_data_get_cursor(dl);
        if (as_json) {
            json_t *j = batch_json(dl, b, (int)k, &before, &after);
            if (ya_json_write(stdout, j) != 0 || fputc('\n', stdout) == EOF) rc = ya_fail(&err, YA_ERR, "stdout: write error");
            json_decref(j);
        } else {
            print_batch(dl, tok, b, (int)k, &before, &after, decode);
        }
    }
    json_decref(cj);
    ya_data_close(dl);
    ya_scorer_free(scorer);
    ya_tokenizer_free(tok);
    return rc ? ya_cli_report(cmd, &err) : 0;
}

const YaCommand ya_cmd_inspect_data = {
    .name = "inspect-data",
    .summary = "print the first training batches (ids, loss targets, segments) the loader produces",
    .usage = k_usage,
    .order = 45,
    .run = run_inspect_data,
};

/* cmd_prepare.c — `your_ai prepare`: raw JSONL corpora → train/val JSONL + stats (SPEC §5.2, §5.3). */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "your_ai/prepare.h"

static const char k_usage[] =
    "Usage: your_ai prepare --input DIR --output DIR [options]\n"
    "\n"
    "Turns raw JSONL corpora into training data: every non-empty *.jsonl in DIR (sorted by\n"
    "name) gets a source type from its file name, each record's text is extracted, exact\n"
    "duplicates (normalised text) are dropped, each file is capped by its source type's\n"
    "prior, records are scored (hybrid: 0.7 prior + 0.3 citation scorer), the set is\n"
    "rebalanced across authority bands, shuffled and split. Writes OUTPUT/train.jsonl,\n"
    "OUTPUT/val.jsonl and OUTPUT/stats.json atomically and prints a summary table.\n"
    "The same inputs, flags and seed give byte-identical outputs. See docs/DATA.md.\n"
    "\n"
    "Options:\n"
    "  --input DIR               directory of raw *.jsonl files (required)\n"
    "  --output DIR              output directory, created if missing (required)\n"
    "  --train-size N            training examples at most (default 80000); also sets the\n"
    "                            per-file caps: N/3 (prior w < 0.3), N/6 (w > 0.7), N/5 otherwise\n"
    "  --val-size N              validation examples (default 20000); N must exceed it\n"
    "  --seed S                  seed of every random stream (default 42)\n"
    "  --source-type FILE=TYPE   source type of input file FILE (a name in DIR), overriding\n"
    "                            the file-name rule; TYPE is a prior-table key such as\n"
    "                            historical_newspaper, academic_paper, government. Repeatable\n"
    "  --no-dynamic-scoring      use the static priors of the source type (default: hybrid)\n"
    "  --no-rebalance            keep the band mix as it is (default: rebalance when the\n"
    "                            low-authority share is below 20%)\n"
    "  --no-stratify             reference split: first N train, next val-size val (default:\n"
    "                            stratified by source_type, largest-remainder rounding)\n"
    "  --min-examples N          fewer examples after caps is an error (default 1000)\n"
    "  --on-bad-line skip|fail   invalid JSON / UTF-8 lines: report and skip, or stop (default skip)\n"
    "  --max-line-bytes N        longest line accepted; a longer one is a bad line, skipped unread\n"
    "                            (default 16777216 = 16 MiB)\n"
    "  --quiet                   do not print the summary table\n";

static int run_prepare(int argc, char **argv) {
    YaPrepareOptions o;
    ya_prepare_options_default(&o);
    YaSourceOverride *ovr = calloc((size_t)argc, sizeof *ovr);
    if (!ovr) return 1;
    int quiet = 0, rc = 0;
    YaError err = {0};
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *v;
        int m;
        long long n;
        if ((m = ya_cli_max_line_flag(argc, argv, &i))) {
            if (m < 0) return YA_ERR_USAGE;
            continue;
        }
        if ((m = ya_cli_flag(argc, argv, &i, "--input", &v))) {
            if (m < 0) rc = 2;
            else o.input_dir = v;
        } else if ((m = ya_cli_flag(argc, argv, &i, "--output", &v))) {
            if (m < 0) rc = 2;
            else o.output_dir = v;
        } else if ((m = ya_cli_flag(argc, argv, &i, "--train-size", &v))) {
            if (m < 0 || (rc = ya_cli_parse_int("--train-size", v, 1, (long long)1 << 40, &n))) rc = 2;
            else o.train_size = (size_t)n;
        } else if ((m = ya_cli_flag(argc, argv, &i, "--val-size", &v))) {
            if (m < 0 || (rc = ya_cli_parse_int("--val-size", v, 0, (long long)1 << 40, &n))) rc = 2;
            else o.val_size = (size_t)n;
        } else if ((m = ya_cli_flag(argc, argv, &i, "--min-examples", &v))) {
            if (m < 0 || (rc = ya_cli_parse_int("--min-examples", v, 0, (long long)1 << 40, &n))) rc = 2;
            else o.min_examples = (size_t)n;
        } else if ((m = ya_cli_flag(argc, argv, &i, "--seed", &v))) {
            if (m < 0 || (rc = ya_cli_parse_u64("--seed", v, &o.seed))) rc = 2;
        } else if ((m = ya_cli_flag(argc, argv, &i, "--source-type", &v))) {
            if (m < 0) rc = 2;
            else if (ya_prepare_parse_override(v, &ovr[o.n_overrides], &err) != YA_OK) rc = ya_cli_usage_error("prepare", "%s", err.message);
            else o.n_overrides++;
        } else if ((m = ya_cli_flag(argc, argv, &i, "--on-bad-line", &v))) {
            if (m < 0) rc = 2;
            else if (ya_bad_line_policy_parse(v, &o.on_bad_line, &err) != YA_OK) rc = ya_cli_usage_error("prepare", "%s", err.message);
        } else if (!strcmp(argv[i], "--no-dynamic-scoring")) o.dynamic_scoring = 0;
        else if (!strcmp(argv[i], "--no-rebalance")) o.rebalance = 0;
        else if (!strcmp(argv[i], "--no-stratify")) o.stratify = 0;
        else if (!strcmp(argv[i], "--quiet")) quiet = 1;
        else rc = ya_cli_usage_error("prepare", "unknown option '%s'", argv[i]);
    }
    if (rc == 0 && (!o.input_dir || !o.output_dir)) rc = ya_cli_usage_error("prepare", "--input and --output are required");
    if (rc == 0) {
        o.overrides = ovr;
        if (ya_prepare_run(&o, quiet ? NULL : stdout, &err) != YA_OK) rc = ya_cli_report("prepare", &err);
    }
    free(ovr);
    return rc;
}

const YaCommand ya_cmd_prepare = {
    .name = "prepare",
    .summary = "raw JSONL corpora -> scored, rebalanced train/val JSONL",
    .usage = k_usage,
    .order = 20,
    .run = run_prepare,
};

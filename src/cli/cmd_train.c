/* cmd_train.c — `your_ai train`: LoRA (or full) fine-tuning with the
 * Empirical Distrust loss modes. Parses the flags (SPEC §8 names, the
 * reference's spelling) into a YaTrainerConfig and runs src/train/trainer.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/train_config.h"
#include "your_ai/trainer.h"

static const char k_usage[] =
    "Usage: your_ai train --model DIR --data FILE --out DIR [options]\n"
    "\n"
    "Fine-tunes a Llama/Mistral/Qwen2 model directory on JSONL training data with LoRA\n"
    "(default) or all weights, under the Empirical Distrust loss modes (SPEC §3.3).\n"
    "Writes OUT/checkpoint-<step>/ (PEFT adapter, optimizer, trainer state; LoRA) or\n"
    "OUT/model-<step>/ (fp32 model; --train full), and OUT/logs/metrics.jsonl + TensorBoard.\n"
    "SIGINT/SIGTERM finish the current update, save a checkpoint and exit 0; a second\n"
    "SIGINT/SIGTERM exits at once, without a checkpoint, with 128 + signal (130 for SIGINT).\n"
    "\n"
    "Options:\n"
    "  --config FILE          read flags from a YAML (.yaml/.yml) or JSON file: keys are the flags\n"
    "                         without '--', '-' as '_' (lora_rank: 8); the command line overrides\n"
    "                         them. OUT/run_config.json is such a file: it reproduces the run\n"
    "                         (docs/CONFIG.md) (default: none)\n"
    "  --model DIR            base model directory (config.json, safetensors, tokenizer.json) (required)\n"
    "  --data FILE            training JSONL; repeat for several files (required)\n"
    "  --val FILE             validation JSONL for --eval-every (default: none)\n"
    "  --out DIR              output directory (required)\n"
    "  --train lora|full      LoRA adapters, or every weight trainable in fp32 (default lora)\n"
    "  --lora-rank R          LoRA rank (default 16)\n"
    "  --lora-alpha A         LoRA alpha; scale = alpha/rank (default 2*rank)\n"
    "  --lora-layers N        adapt the last N blocks, -1 = all (default -1)\n"
    "  --lora-dropout P       LoRA dropout on the adapters' input, masks seeded by --seed (default 0)\n"
    "  --lora-targets LIST    q,k,v,o,gate,up,down | attn | mlp | all (default all)\n"
    "  --lora-preset reference  rank 128, alpha 256, q,k,v,o, last 16 layers\n"
    "  --learning-rate LR     peak learning rate (default 5e-5)\n"
    "  --warmup-steps W       linear warmup from 1e-7 over W updates, then cosine to 0 (default 100)\n"
    "  --max-steps S          optimizer updates (default 5000)\n"
    "  --grad-accum G         micro-batches per update, accumulated exactly (default 8)\n"
    "  --max-grad-norm X      global-norm clipping, <= 0 disables (default 1.0)\n"
    "  --weight-decay WD      decoupled AdamW weight decay (default 0.01)\n"
    "  --optimizer O          adamw (bias-corrected) | adamw-mlx (no bias correction) (default adamw)\n"
    "  --distrust-mode M      off | additive | weighted (default weighted)\n"
    "  --lambda L             distrust strength; weighted: in [0, 1] (default 0.6; alias --lambda-weight);\n"
    "                         auto (additive only): the reference's calibration from the first --data file\n"
    "  --alpha A              distrust alpha in [2.3, 3.0] (default 2.7)\n"
    "  --weight-stats S       dataset | running: the normaliser mu of the weighted mode (default dataset)\n"
    "  --weight-norm N        step (divide by N_step) | batch (divide by the update's sum of omega) (default step)\n"
    "  --recompute R          none | attn | layer: activation recomputation in backward (default none)\n"
    "  --ce-chunk C           vocabulary rows per cross-entropy chunk (default 4096)\n"
    "  --matmul P             fp32 | bf16: CPU GEMMs with the frozen base weights (layers and lm_head) in\n"
    "                         bf16 with fp32 accumulation (oneDNN; LoRA only); all else fp32 (default fp32)\n"
    "  --save-every N         checkpoint every N updates, <= 0 = only the final one (default 500)\n"
    "  --keep-last N          keep the newest N non-final checkpoints, <= 0 keeps all (default 3)\n"
    "  --log-every N          log every N updates (default 10)\n"
    "  --eval-every N         validation loss every N updates with --val, <= 0 never (default 250)\n"
    "  --eval-batches N       validation micro-batches per evaluation, <= 0 = all (default 0)\n"
    "  --resume auto|PATH     auto: the newest valid checkpoint in --out (fresh if none); PATH: that one\n"
    "                         (default: fresh run)\n"
    "  --device D             cpu | cuda | auto: where the graph runs; auto = the GPU when this build has\n"
    "                         CUDA and one is visible, else the CPU (default cpu)\n"
    "  --gpu N                CUDA device index for --device cuda (default 0)\n"
    "  --threads N            CPU threads (default: all)\n"
    "  --progress P           auto: a redrawn bar on a terminal, plain lines otherwise; bar | plain\n"
    "                         (default auto)\n"
    YA_CLI_DATA_USAGE
    "\n"
    "Exit codes: 0 success (also after SIGINT/SIGTERM with a checkpoint), 1 runtime error\n"
    "(including a non-finite loss or gradient, named by update), 2 usage error, 130 a second\n"
    "SIGINT (143 a second SIGTERM).\n";

/* The flags of one run as parsed so far (the config file's, then the command line's). */
typedef struct TrainArgs {
    YaTrainerConfig c;
    const char *paths[16];
    size_t n_paths;
    int paths_from_config; /* the --data list came from --config: a command-line --data replaces it */
    double lr;
    long long warmup, max_steps;
    int alpha_given, lambda_auto;
    const char *device;
} TrainArgs;

static void train_args_default(TrainArgs *a) {
    memset(a, 0, sizeof *a);
    YaTrainerConfig *c = &a->c;
    ya_data_config_default(&c->data);
    c->graph.kind = YA_TRAIN_LORA;
    c->graph.recompute = YA_RECOMPUTE_NONE;
    c->graph.ce_chunk = 4096;
    ya_lora_config_defaults(&c->lora);
    ya_adamw_defaults(&c->step.adamw);
    c->step.max_grad_norm = 1.0;
    ya_loss_config_defaults(&c->step.loss);
    c->grad_accum = 8;
    c->save_every = 500;
    c->keep_last = 3;
    c->log_every = 10;
    c->eval_every = 250;
    c->version = YA_VERSION;
    c->progress = -1;
    a->lr = 5e-5;
    a->warmup = 100;
    a->max_steps = 5000;
    a->device = "cpu";
}

/* Parses the flag at argv[*i] (advancing *i past its value) into a. Returns 0,
 * or the exit code after printing the error. */
static int parse_flag(int argc, char **argv, int *i, TrainArgs *a, int from_config) {
    const char *cmd = "train", *v;
    long long n;
    YaError err = {0};
    int r = ya_cli_data_flag(cmd, argc, argv, i, &a->c.data);
    if (r < 0) return YA_ERR_USAGE;
    if (r > 0) return YA_OK;
    /* A flag with a missing value prints its usage error, sets `bad` and
     * matches nothing, so the chain ends in the final else. */
    int bad = 0;
#define FLAG(name) ((r = ya_cli_flag(argc, argv, i, name, &v)) != 0 && (r > 0 || (bad = 1, 0)))
    if (FLAG("--model")) a->c.model_dir = v;
    else if (FLAG("--data")) {
        if (a->paths_from_config && !from_config) a->n_paths = 0; /* the command line replaces the file's list */
        a->paths_from_config = from_config;
        if (a->n_paths == sizeof a->paths / sizeof *a->paths) return ya_cli_usage_error(cmd, "at most 16 --data files");
        a->paths[a->n_paths++] = v;
    } else if (FLAG("--val")) a->c.val_path = v;
    else if (FLAG("--out")) a->c.out_dir = v;
    else if (FLAG("--train")) {
        if (ya_train_kind_parse(v, &a->c.graph.kind, &err) != YA_OK) return ya_cli_report(cmd, &err);
    } else if (FLAG("--lora-rank")) {
        if (ya_cli_parse_int("--lora-rank", v, 1, 65536, &n)) return YA_ERR_USAGE;
        a->c.lora.rank = (int)n;
    } else if (FLAG("--lora-alpha")) {
        if (ya_cli_parse_double("--lora-alpha", v, &a->c.lora.alpha)) return YA_ERR_USAGE;
        a->alpha_given = 1;
    } else if (FLAG("--lora-layers")) {
        if (ya_cli_parse_int("--lora-layers", v, -1, 100000, &n)) return YA_ERR_USAGE;
        a->c.lora.layers = (int)n;
    } else if (FLAG("--lora-dropout")) {
        if (ya_cli_parse_double("--lora-dropout", v, &a->c.lora.dropout)) return YA_ERR_USAGE;
    } else if (FLAG("--lora-targets")) {
        if (ya_lora_parse_targets(v, &a->c.lora.targets, &err) != YA_OK) return ya_cli_report(cmd, &err);
    } else if (FLAG("--lora-preset")) {
        if (strcmp(v, "reference")) return ya_cli_usage_error(cmd, "--lora-preset: only 'reference' exists, got '%s'", v);
        ya_lora_config_reference(&a->c.lora);
        a->alpha_given = 1;
    } else if (FLAG("--learning-rate")) {
        if (ya_cli_parse_double("--learning-rate", v, &a->lr)) return YA_ERR_USAGE;
    } else if (FLAG("--warmup-steps")) {
        if (ya_cli_parse_int("--warmup-steps", v, 0, (long long)1 << 40, &a->warmup)) return YA_ERR_USAGE;
    } else if (FLAG("--max-steps")) {
        if (ya_cli_parse_int("--max-steps", v, 1, (long long)1 << 40, &a->max_steps)) return YA_ERR_USAGE;
    } else if (FLAG("--grad-accum")) {
        if (ya_cli_parse_int("--grad-accum", v, 1, 4096, &n)) return YA_ERR_USAGE;
        a->c.grad_accum = (int)n;
    } else if (FLAG("--max-grad-norm")) {
        if (ya_cli_parse_double("--max-grad-norm", v, &a->c.step.max_grad_norm)) return YA_ERR_USAGE;
    } else if (FLAG("--weight-decay")) {
        if (ya_cli_parse_double("--weight-decay", v, &a->c.step.adamw.weight_decay)) return YA_ERR_USAGE;
    } else if (FLAG("--optimizer")) {
        if (ya_optimizer_parse(v, &a->c.step.adamw.kind, &err) != YA_OK) return ya_cli_report(cmd, &err);
    } else if (FLAG("--distrust-mode")) {
        if (ya_distrust_mode_parse(v, &a->c.step.loss.mode, &err) != YA_OK) return ya_cli_report(cmd, &err);
    } else if (FLAG("--lambda") || FLAG("--lambda-weight")) {
        if (!strcmp(v, "auto")) a->lambda_auto = 1;
        else if (ya_cli_parse_double("--lambda", v, &a->c.step.loss.wp.lambda)) return YA_ERR_USAGE;
        else a->lambda_auto = 0;
    } else if (FLAG("--alpha")) {
        if (ya_cli_parse_double("--alpha", v, &a->c.step.loss.wp.alpha)) return YA_ERR_USAGE;
    } else if (FLAG("--weight-stats")) {
        if (!strcmp(v, "dataset")) a->c.step.loss.stats = YA_WEIGHT_STATS_DATASET;
        else if (!strcmp(v, "running")) a->c.step.loss.stats = YA_WEIGHT_STATS_RUNNING;
        else return ya_cli_usage_error(cmd, "--weight-stats must be dataset or running, got '%s'", v);
    } else if (FLAG("--weight-norm")) {
        if (!strcmp(v, "step")) a->c.step.loss.weight_norm_batch = 0;
        else if (!strcmp(v, "batch")) a->c.step.loss.weight_norm_batch = 1;
        else return ya_cli_usage_error(cmd, "--weight-norm must be step or batch, got '%s'", v);
    } else if (FLAG("--recompute")) {
        if (ya_recompute_parse(v, &a->c.graph.recompute, &err) != YA_OK) return ya_cli_report(cmd, &err);
    } else if (FLAG("--matmul")) {
        if (!strcmp(v, "fp32")) a->c.graph.matmul = YA_MATMUL_FP32;
        else if (!strcmp(v, "bf16")) a->c.graph.matmul = YA_MATMUL_BF16;
        else return ya_cli_usage_error(cmd, "--matmul must be fp32 or bf16, got '%s'", v);
    } else if (FLAG("--ce-chunk")) {
        if (ya_cli_parse_int("--ce-chunk", v, 1, 1 << 30, &n)) return YA_ERR_USAGE;
        a->c.graph.ce_chunk = (int)n;
    } else if (FLAG("--save-every")) {
        if (ya_cli_parse_int("--save-every", v, -1, (long long)1 << 40, &a->c.save_every)) return YA_ERR_USAGE;
    } else if (FLAG("--keep-last")) {
        if (ya_cli_parse_int("--keep-last", v, -1, 1 << 20, &n)) return YA_ERR_USAGE;
        a->c.keep_last = (int)n;
    } else if (FLAG("--log-every")) {
        if (ya_cli_parse_int("--log-every", v, 1, (long long)1 << 40, &a->c.log_every)) return YA_ERR_USAGE;
    } else if (FLAG("--eval-every")) {
        if (ya_cli_parse_int("--eval-every", v, -1, (long long)1 << 40, &a->c.eval_every)) return YA_ERR_USAGE;
    } else if (FLAG("--eval-batches")) {
        if (ya_cli_parse_int("--eval-batches", v, 0, 1 << 30, &n)) return YA_ERR_USAGE;
        a->c.eval_batches = (int)n;
    } else if (FLAG("--resume")) a->c.resume = v;
    else if (FLAG("--device")) a->device = v;
    else if (FLAG("--gpu")) {
        if (ya_cli_parse_int("--gpu", v, 0, 1023, &n)) return YA_ERR_USAGE;
        a->c.graph.gpu = (int)n;
    }
    else if (FLAG("--threads")) {
        if (ya_cli_parse_int("--threads", v, 1, 4096, &n)) return YA_ERR_USAGE;
        a->c.threads = (int)n;
    } else if (FLAG("--progress")) {
        if (!strcmp(v, "auto")) a->c.progress = -1;
        else if (!strcmp(v, "bar")) a->c.progress = 1;
        else if (!strcmp(v, "plain")) a->c.progress = 0;
        else return ya_cli_usage_error(cmd, "--progress must be auto, bar or plain, got '%s'", v);
    } else if (bad) return YA_ERR_USAGE;
    else return ya_cli_usage_error(cmd, "unknown option '%s'", argv[*i]);
#undef FLAG
    return YA_OK;
}

/* --config FILE (or --config=FILE) anywhere on the command line: sets *path. */
static int find_config(int argc, char **argv, const char **path) {
    *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r = ya_cli_flag(argc, argv, &i, "--config", &v);
        if (r < 0) return YA_ERR_USAGE;
        if (r == 0) continue;
        if (*path) return ya_cli_usage_error("train", "--config given twice");
        *path = v;
    }
    return YA_OK;
}

/* Resolves what depends on several flags, then trains. */
static int finish_and_run(TrainArgs *a) {
    const char *cmd = "train";
    YaError err = {0};
    YaTrainerConfig *c = &a->c;
    if (!a->alpha_given) c->lora.alpha = 2.0 * c->lora.rank;
    if (ya_device_resolve(a->device, &c->graph.device, &err) != YA_OK) return ya_cli_report(cmd, &err);
    c->data_paths = a->paths;
    c->n_data = a->n_paths;
    if (ya_schedule_init(&c->step.schedule, a->lr, a->warmup, a->max_steps, &err) != YA_OK) return ya_cli_report(cmd, &err);
    if (a->lambda_auto) {
        /* SPEC §3.4: the reference's calibration, for log parity in additive mode only. */
        if (c->step.loss.mode != YA_DISTRUST_ADDITIVE)
            return ya_cli_usage_error(cmd, "--lambda auto is only meaningful with --distrust-mode additive");
        size_t used;
        if (ya_distrust_auto_lambda(a->paths[0], &c->step.loss.wp.lambda, &used, &err) != YA_OK)
            return ya_cli_report(cmd, &err);
        fprintf(stderr, "lambda auto: %.6g (from %zu lines of %s)\n", c->step.loss.wp.lambda, used, a->paths[0]);
    }
    if (ya_loss_config_check(&c->step.loss, &err) != YA_OK) return ya_cli_report(cmd, &err);
    int rc = ya_trainer_run(c, &err);
    return rc == YA_OK ? 0 : ya_cli_report(cmd, &err);
}

static int run_train(int argc, char **argv) {
    const char *cmd = "train", *config;
    YaError err = {0};
    TrainArgs a;
    train_args_default(&a);
    YaTrainerConfig *c = &a.c;
    if (find_config(argc, argv, &config)) return YA_ERR_USAGE;
    /* defaults < config file < command line: the file's flags are parsed first */
    YaConfigArgs ca = {0};
    if (config && ya_train_config_load(config, &ca, &err) != YA_OK) return ya_cli_report(cmd, &err);
    int n_all = 1 + ca.argc + (argc - 1);
    char **all = malloc((size_t)n_all * sizeof *all); // [n_all] argv[0], the file's flags, argv[1..]
    if (!all) {
        ya_train_config_free(&ca);
        return ya_fail(&err, YA_ERR, "out of memory"), ya_cli_report(cmd, &err);
    }
    all[0] = argv[0];
    for (int i = 0; i < ca.argc; i++) all[1 + i] = ca.argv[i];
    for (int i = 1; i < argc; i++) all[ca.argc + i] = argv[i];
    int rc = YA_OK;
    for (int i = 1; i < n_all && rc == YA_OK; i++) {
        const char *v;
        int from_config = i <= ca.argc, at = i;
        if (!from_config && ya_cli_flag(n_all, all, &i, "--config", &v) > 0) continue; /* read above */
        rc = parse_flag(n_all, all, &i, &a, from_config);
        if (rc && from_config) fprintf(stderr, "your_ai train: (the flag comes from %s)\n", ca.origin[at - 1]);
    }
    if (rc == YA_OK) {
        if (!c->model_dir) rc = ya_cli_usage_error(cmd, "--model DIR is required");
        else if (!a.n_paths) rc = ya_cli_usage_error(cmd, "--data FILE is required");
        else if (!c->out_dir) rc = ya_cli_usage_error(cmd, "--out DIR is required");
    }
    if (rc == YA_OK) rc = finish_and_run(&a);
    free(all);
    ya_train_config_free(&ca);
    return rc;
}

const YaCommand ya_cmd_train = {
    .name = "train",
    .summary = "fine-tune a model (LoRA or full) with the Empirical Distrust loss modes",
    .usage = k_usage,
    .order = 50,
    .run = run_train,
};

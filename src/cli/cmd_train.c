/* cmd_train.c — `your_ai train`: LoRA (or full) fine-tuning with the
 * Empirical Distrust loss modes. Parses the flags (SPEC §8 names, the
 * reference's spelling) into a YaTrainerConfig and runs src/train/trainer.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
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

static int run_train(int argc, char **argv) {
    const char *cmd = "train", *v, *paths[16];
    size_t n_paths = 0;
    YaTrainerConfig c = {0};
    ya_data_config_default(&c.data);
    c.graph.kind = YA_TRAIN_LORA;
    c.graph.recompute = YA_RECOMPUTE_NONE;
    c.graph.ce_chunk = 4096;
    ya_lora_config_defaults(&c.lora);
    ya_adamw_defaults(&c.step.adamw);
    c.step.max_grad_norm = 1.0;
    ya_loss_config_defaults(&c.step.loss);
    c.grad_accum = 8;
    c.save_every = 500;
    c.keep_last = 3;
    c.log_every = 10;
    c.eval_every = 250;
    c.version = YA_VERSION;
    c.progress = -1;
    double lr = 5e-5;
    long long warmup = 100, max_steps = 5000, n;
    int alpha_given = 0, lambda_auto = 0;
    const char *device = "cpu";
    YaError err = {0};
    for (int i = 1; i < argc; i++) {
        int r = ya_cli_data_flag(cmd, argc, argv, &i, &c.data);
        if (r < 0) return YA_ERR_USAGE;
        if (r > 0) continue;
        /* A flag with a missing value prints its usage error, sets `bad` and
         * matches nothing, so the chain ends in the final else. */
        int bad = 0;
#define FLAG(name) ((r = ya_cli_flag(argc, argv, &i, name, &v)) != 0 && (r > 0 || (bad = 1, 0)))
        if (FLAG("--model")) c.model_dir = v;
        else if (FLAG("--data")) {
            if (n_paths == sizeof paths / sizeof *paths) return ya_cli_usage_error(cmd, "at most 16 --data files");
            paths[n_paths++] = v;
        } else if (FLAG("--val")) c.val_path = v;
        else if (FLAG("--out")) c.out_dir = v;
        else if (FLAG("--train")) {
            if (ya_train_kind_parse(v, &c.graph.kind, &err) != YA_OK) return ya_cli_report(cmd, &err);
        } else if (FLAG("--lora-rank")) {
            if (ya_cli_parse_int("--lora-rank", v, 1, 65536, &n)) return YA_ERR_USAGE;
            c.lora.rank = (int)n;
        } else if (FLAG("--lora-alpha")) {
            if (ya_cli_parse_double("--lora-alpha", v, &c.lora.alpha)) return YA_ERR_USAGE;
            alpha_given = 1;
        } else if (FLAG("--lora-layers")) {
            if (ya_cli_parse_int("--lora-layers", v, -1, 100000, &n)) return YA_ERR_USAGE;
            c.lora.layers = (int)n;
        } else if (FLAG("--lora-dropout")) {
            if (ya_cli_parse_double("--lora-dropout", v, &c.lora.dropout)) return YA_ERR_USAGE;
        } else if (FLAG("--lora-targets")) {
            if (ya_lora_parse_targets(v, &c.lora.targets, &err) != YA_OK) return ya_cli_report(cmd, &err);
        } else if (FLAG("--lora-preset")) {
            if (strcmp(v, "reference")) return ya_cli_usage_error(cmd, "--lora-preset: only 'reference' exists, got '%s'", v);
            ya_lora_config_reference(&c.lora);
            alpha_given = 1;
        } else if (FLAG("--learning-rate")) {
            if (ya_cli_parse_double("--learning-rate", v, &lr)) return YA_ERR_USAGE;
        } else if (FLAG("--warmup-steps")) {
            if (ya_cli_parse_int("--warmup-steps", v, 0, (long long)1 << 40, &warmup)) return YA_ERR_USAGE;
        } else if (FLAG("--max-steps")) {
            if (ya_cli_parse_int("--max-steps", v, 1, (long long)1 << 40, &max_steps)) return YA_ERR_USAGE;
        } else if (FLAG("--grad-accum")) {
            if (ya_cli_parse_int("--grad-accum", v, 1, 4096, &n)) return YA_ERR_USAGE;
            c.grad_accum = (int)n;
        } else if (FLAG("--max-grad-norm")) {
            if (ya_cli_parse_double("--max-grad-norm", v, &c.step.max_grad_norm)) return YA_ERR_USAGE;
        } else if (FLAG("--weight-decay")) {
            if (ya_cli_parse_double("--weight-decay", v, &c.step.adamw.weight_decay)) return YA_ERR_USAGE;
        } else if (FLAG("--optimizer")) {
            if (ya_optimizer_parse(v, &c.step.adamw.kind, &err) != YA_OK) return ya_cli_report(cmd, &err);
        } else if (FLAG("--distrust-mode")) {
            if (ya_distrust_mode_parse(v, &c.step.loss.mode, &err) != YA_OK) return ya_cli_report(cmd, &err);
        } else if (FLAG("--lambda") || FLAG("--lambda-weight")) {
            if (!strcmp(v, "auto")) lambda_auto = 1;
            else if (ya_cli_parse_double("--lambda", v, &c.step.loss.wp.lambda)) return YA_ERR_USAGE;
            else lambda_auto = 0;
        } else if (FLAG("--alpha")) {
            if (ya_cli_parse_double("--alpha", v, &c.step.loss.wp.alpha)) return YA_ERR_USAGE;
        } else if (FLAG("--weight-stats")) {
            if (!strcmp(v, "dataset")) c.step.loss.stats = YA_WEIGHT_STATS_DATASET;
            else if (!strcmp(v, "running")) c.step.loss.stats = YA_WEIGHT_STATS_RUNNING;
            else return ya_cli_usage_error(cmd, "--weight-stats must be dataset or running, got '%s'", v);
        } else if (FLAG("--weight-norm")) {
            if (!strcmp(v, "step")) c.step.loss.weight_norm_batch = 0;
            else if (!strcmp(v, "batch")) c.step.loss.weight_norm_batch = 1;
            else return ya_cli_usage_error(cmd, "--weight-norm must be step or batch, got '%s'", v);
        } else if (FLAG("--recompute")) {
            if (ya_recompute_parse(v, &c.graph.recompute, &err) != YA_OK) return ya_cli_report(cmd, &err);
        } else if (FLAG("--matmul")) {
            if (!strcmp(v, "fp32")) c.graph.matmul = YA_MATMUL_FP32;
            else if (!strcmp(v, "bf16")) c.graph.matmul = YA_MATMUL_BF16;
            else return ya_cli_usage_error(cmd, "--matmul must be fp32 or bf16, got '%s'", v);
        } else if (FLAG("--ce-chunk")) {
            if (ya_cli_parse_int("--ce-chunk", v, 1, 1 << 30, &n)) return YA_ERR_USAGE;
            c.graph.ce_chunk = (int)n;
        } else if (FLAG("--save-every")) {
            if (ya_cli_parse_int("--save-every", v, -1, (long long)1 << 40, &c.save_every)) return YA_ERR_USAGE;
        } else if (FLAG("--keep-last")) {
            if (ya_cli_parse_int("--keep-last", v, -1, 1 << 20, &n)) return YA_ERR_USAGE;
            c.keep_last = (int)n;
        } else if (FLAG("--log-every")) {
            if (ya_cli_parse_int("--log-every", v, 1, (long long)1 << 40, &c.log_every)) return YA_ERR_USAGE;
        } else if (FLAG("--eval-every")) {
            if (ya_cli_parse_int("--eval-every", v, -1, (long long)1 << 40, &c.eval_every)) return YA_ERR_USAGE;
        } else if (FLAG("--eval-batches")) {
            if (ya_cli_parse_int("--eval-batches", v, 0, 1 << 30, &n)) return YA_ERR_USAGE;
            c.eval_batches = (int)n;
        } else if (FLAG("--resume")) c.resume = v;
        else if (FLAG("--device")) device = v;
        else if (FLAG("--gpu")) {
            if (ya_cli_parse_int("--gpu", v, 0, 1023, &n)) return YA_ERR_USAGE;
            c.graph.gpu = (int)n;
        }
        else if (FLAG("--threads")) {
            if (ya_cli_parse_int("--threads", v, 1, 4096, &n)) return YA_ERR_USAGE;
            c.threads = (int)n;
        } else if (FLAG("--progress")) {
            if (!strcmp(v, "auto")) c.progress = -1;
            else if (!strcmp(v, "bar")) c.progress = 1;
            else if (!strcmp(v, "plain")) c.progress = 0;
            else return ya_cli_usage_error(cmd, "--progress must be auto, bar or plain, got '%s'", v);
        } else if (bad) return YA_ERR_USAGE;
        else return ya_cli_usage_error(cmd, "unknown option '%s'", argv[i]);
#undef FLAG
    }
    if (!c.model_dir) return ya_cli_usage_error(cmd, "--model DIR is required");
    if (!n_paths) return ya_cli_usage_error(cmd, "--data FILE is required");
    if (!c.out_dir) return ya_cli_usage_error(cmd, "--out DIR is required");
    if (!alpha_given) c.lora.alpha = 2.0 * c.lora.rank;
    if (ya_device_resolve(device, &c.graph.device, &err) != YA_OK) return ya_cli_report(cmd, &err);
    c.data_paths = paths;
    c.n_data = n_paths;
    if (ya_schedule_init(&c.step.schedule, lr, warmup, max_steps, &err) != YA_OK) return ya_cli_report(cmd, &err);
    if (lambda_auto) {
        /* SPEC §3.4: the reference's calibration, for log parity in additive mode only. */
        if (c.step.loss.mode != YA_DISTRUST_ADDITIVE)
            return ya_cli_usage_error(cmd, "--lambda auto is only meaningful with --distrust-mode additive");
        size_t used;
        if (ya_distrust_auto_lambda(paths[0], &c.step.loss.wp.lambda, &used, &err) != YA_OK)
            return ya_cli_report(cmd, &err);
        fprintf(stderr, "lambda auto: %.6g (from %zu lines of %s)\n", c.step.loss.wp.lambda, used, paths[0]);
    }
    if (ya_loss_config_check(&c.step.loss, &err) != YA_OK) return ya_cli_report(cmd, &err);
    int rc = ya_trainer_run(&c, &err);
    return rc == YA_OK ? 0 : ya_cli_report(cmd, &err);
}

const YaCommand ya_cmd_train = {
    .name = "train",
    .summary = "fine-tune a model (LoRA or full) with the Empirical Distrust loss modes",
    .usage = k_usage,
    .order = 50,
    .run = run_train,
};

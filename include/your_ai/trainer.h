/* trainer.h — the `your_ai train` loop (SPEC §8, §9): data loader → training
 * step → metrics/progress → checkpoints, with exact resume, evaluation on a
 * validation set, and a clean stop on SIGINT/SIGTERM.
 *
 * Everything the run needs is sized once before the first update; the loop
 * allocates nothing but the loss history. LoRA runs checkpoint through
 * checkpoint.h (PEFT adapter + optimizer + trainer_state.json: step, PRNG
 * streams, data cursor + file hashes, weight statistics, loss history, best
 * validation, wall time, version; run_config.json: every resolved flag and the
 * model identity hashes) and resume bit-exactly; resuming against another
 * model fails naming what differs. --train full writes fp32 model directories.
 * Progress: a redrawn bar on a terminal, one plain `step N/S | …` line per
 * log step otherwise (docs/TRAINING.md). */
#ifndef YOUR_AI_TRAINER_H
#define YOUR_AI_TRAINER_H

#include <stddef.h>

#include "your_ai/data.h"
#include "your_ai/error.h"
#include "your_ai/lora.h"
#include "your_ai/train_step.h"

typedef struct YaTrainerConfig {
    const char *model_dir;           /* --model */
    const char *const *data_paths;   /* --data (≥ 1) */
    size_t n_data;
    const char *val_path;            /* --val (NULL: no evaluation) */
    const char *out_dir;             /* --out */
    YaDataConfig data;               /* loader flags (batch size, max seq, seed, ...) */
    YaTrainGraphConfig graph;        /* kind, recompute, ce_chunk (shape from the data config) */
    YaLoraConfig lora;
    YaTrainStepConfig step;          /* AdamW, clipping, schedule, loss mode */
    int grad_accum;                  /* --grad-accum G */
    long long save_every;            /* --save-every (≤ 0: only the final checkpoint) */
    int keep_last;                   /* --keep-last */
    long long log_every;             /* --log-every */
    long long eval_every;            /* --eval-every (≤ 0: never) */
    int eval_batches;                /* --eval-batches (≤ 0: the whole validation set) */
    const char *resume;              /* --resume auto|PATH (NULL: fresh run) */
    int threads;                     /* --threads (≤ 0: default) */
    const char *version;             /* library version recorded in trainer_state/run_config (NULL: "unknown") */
    int progress;                    /* −1 auto (a bar when stderr is a terminal), 0 plain lines, 1 bar */
} YaTrainerConfig;

/* Runs the training; returns YA_OK also when stopped by a signal (after the
 * checkpoint; the message says how to resume). */
int ya_trainer_run(const YaTrainerConfig *cfg, YaError *err);

#endif

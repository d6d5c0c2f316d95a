/* trainer.h — the `your_ai train` loop (SPEC §8, §9): data loader → training
 * step → metrics/progress → checkpoints, with exact resume, evaluation on a
 * validation set, and a clean stop on SIGINT/SIGTERM.
 *
 * Everything the run needs is sized once before the first update; the loop
 * allocates nothing. LoRA runs checkpoint through checkpoint.h (PEFT adapter +
 * optimizer + trainer state: data cursor, running distrust statistics) and
 * resume bit-exactly; --train full writes fp32 model directories instead. */
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
} YaTrainerConfig;

/* Runs the training; returns YA_OK also when stopped by a signal (after the
 * checkpoint; the message says how to resume). */
int ya_trainer_run(const YaTrainerConfig *cfg, YaError *err);

#endif

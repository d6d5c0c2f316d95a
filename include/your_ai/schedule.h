/* schedule.h — the learning-rate schedule of SPEC §8: linear warmup from 1e-7
 * to lr0 over W updates, then cosine decay to 0 at max_steps S.
 *
 * Optimizer update u = 0 … S−1 uses ya_schedule_lr(s, u); the first update uses
 * lr(0). The schedule is a pure function of u, so a resumed run recomputes it
 * instead of storing it. */
#ifndef YOUR_AI_SCHEDULE_H
#define YOUR_AI_SCHEDULE_H

#include "your_ai/error.h"

/* The warmup start value fixed by SPEC §8 (the reference's). */
#define YA_WARMUP_START_LR 1e-7

typedef struct YaLrSchedule {
    double lr0;          /* peak learning rate (--learning-rate) */
    long long warmup;    /* W (--warmup-steps), 0 … S−1 */
    long long max_steps; /* S (--max-steps), ≥ 1 */
} YaLrSchedule;

/* Validates and fills s. Errors (YA_ERR_USAGE, naming the flags): W < 0,
 * S < 1, W ≥ S (the cosine phase would divide by zero; the message suggests
 * --warmup-steps max(1, S/50)), lr0 not finite or ≤ 0. */
int ya_schedule_init(YaLrSchedule *s, double lr0, long long warmup, long long max_steps, YaError *err);

/* lr for update u (0-based). u < 0 is treated as 0 and u ≥ S as the end of the
 * cosine (0), so callers never read past the curve. Computed in double. */
double ya_schedule_lr(const YaLrSchedule *s, long long u);

#endif

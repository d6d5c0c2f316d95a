/* schedule.c — warmup + cosine learning-rate schedule (SPEC §8; see schedule.h). */
#include "your_ai/schedule.h"

#include <math.h>

int ya_schedule_init(YaLrSchedule *s, double lr0, long long warmup, long long max_steps, YaError *err) {
    if (!(isfinite(lr0) && lr0 > 0))
        return ya_fail(err, YA_ERR_USAGE, "--learning-rate must be a positive number (got %g)", lr0);
    if (max_steps < 1) return ya_fail(err, YA_ERR_USAGE, "--max-steps must be at least 1 (got %lld)", max_steps);
    if (warmup < 0) return ya_fail(err, YA_ERR_USAGE, "--warmup-steps must be >= 0 (got %lld)", warmup);
    if (warmup >= max_steps) {
        long long suggest = max_steps / 50 > 1 ? max_steps / 50 : 1;
        if (suggest >= max_steps) suggest = 0; /* S = 1: only W = 0 is valid */
        return ya_fail(err, YA_ERR_USAGE,
                       "--warmup-steps %lld must be smaller than --max-steps %lld (the cosine phase would be empty); "
                       "try --warmup-steps %lld",
                       warmup, max_steps, suggest);
    }
    s->lr0 = lr0;
    s->warmup = warmup;
    s->max_steps = max_steps;
    return YA_OK;
}

double ya_schedule_lr(const YaLrSchedule *s, long long u) {
    if (u < 0) u = 0;
    if (s->warmup > 0 && u < s->warmup)
        return YA_WARMUP_START_LR + (s->lr0 - YA_WARMUP_START_LR) * (double)u / (double)s->warmup;
    if (u >= s->max_steps) return 0.0;
    double progress = (double)(u - s->warmup) / (double)(s->max_steps - s->warmup);
    return s->lr0 * 0.5 * (1.0 + cos(M_PI * progress));
}

/* metrics.h — training metrics, written two ways through one call:
 * OUT/logs/metrics.jsonl (one JSON object per logged step) and a TensorBoard
 * event file in OUT/logs/ (tags "<split>/<name>").
 *
 * JSONL line: {"step":120,"split":"train","total":2.31,"ce":2.29,...}; a
 * non-finite value is written as null in JSONL (JSON has no NaN) and as the
 * float itself in TensorBoard. On resume the JSONL keeps the lines up to the
 * resumed step, so a resumed run's log reads like an uninterrupted one. */
#ifndef YOUR_AI_METRICS_H
#define YOUR_AI_METRICS_H

#include <stddef.h>

#include "your_ai/error.h"

typedef struct YaMetrics YaMetrics;

typedef struct YaMetric {
    const char *name;
    double value;
} YaMetric;

/* The standard training row (SPEC §9 loss history fields + throughput). */
typedef struct YaTrainMetrics {
    long long step;   /* completed optimizer updates */
    double total;     /* loss being minimised */
    double ce;        /* mean cross-entropy */
    double wce;       /* weighted cross-entropy (distrust mode; NaN if unused) */
    double distrust;  /* distrust term */
    double grad_norm; /* pre-clip global norm */
    double lr;
    double tok_per_s;
    double elapsed;   /* seconds since the run (or resume) started */
    double gpu_bytes; /* --device cuda: the device arena (everything the graph holds on the GPU); 0 = not logged */
} YaTrainMetrics;

/* Opens OUT/logs/ (created). resume_step < 0: a fresh run (metrics.jsonl is
 * truncated). resume_step ≥ 0: lines with "step" > resume_step (and any
 * unreadable trailing line from a crash) are dropped, atomically, and new
 * lines are appended. A new TensorBoard file is always started. */
int ya_metrics_open(const char *out_dir, long long resume_step, YaMetrics **out, YaError *err);

/* Logs n named values for step under split ("train", "val"). wall_time ≤ 0 = now. */
int ya_metrics_log(YaMetrics *m, const char *split, long long step, double wall_time, size_t n, const YaMetric *items,
                   YaError *err);

/* Logs a YaTrainMetrics row under "train". */
int ya_metrics_log_train(YaMetrics *m, const YaTrainMetrics *row, YaError *err);

void ya_metrics_close(YaMetrics *m);

const char *ya_metrics_jsonl_path(const YaMetrics *m);
const char *ya_metrics_tb_path(const YaMetrics *m);

#endif

/* metrics.c — metrics.jsonl + TensorBoard scalars through one call (see metrics.h). */
#define _GNU_SOURCE
#include "your_ai/metrics.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/fileio.h"
#include "your_ai/json.h"
#include "your_ai/tensorboard.h"

#define YA_METRICS_MAX_ITEMS 64

struct YaMetrics {
    FILE *jsonl;
    YaTbWriter *tb;
    char jsonl_path[4096];
};

/* Keeps the lines of an existing metrics.jsonl whose step ≤ resume_step. */
static int truncate_after(const char *path, long long resume_step, YaError *err) {
    if (!ya_path_exists(path)) return YA_OK;
    char *text = NULL;
    size_t len = 0;
    if (ya_read_file(path, &text, &len, err)) return YA_ERR;
    char *kept = malloc(len + 1);
    if (!kept) { free(text); return ya_fail(err, YA_ERR, "%s: out of memory", path); }
    size_t out = 0;
    for (char *line = text; line < text + len;) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        size_t n = nl ? (size_t)(nl - line) : (size_t)(text + len - line);
        json_t *obj = NULL;
        /* A line without its newline is a write cut short by a crash: drop it. */
        if (nl && ya_json_parse(line, n, path, 0, &obj, NULL) == YA_OK) {
            json_t *st = json_object_get(obj, "step");
            if (json_is_integer(st) && json_integer_value(st) <= resume_step) {
                memcpy(kept + out, line, n + 1);
                out += n + 1;
            }
            json_decref(obj);
        }
        line += n + (nl ? 1 : 0);
    }
    free(text);
    int rc = ya_write_file_atomic(path, kept, out, err);
    free(kept);
    return rc;
}

int ya_metrics_open(const char *out_dir, long long resume_step, YaMetrics **out, YaError *err) {
    *out = NULL;
    char logdir[4096];
    if (ya_path_join(logdir, sizeof logdir, out_dir, "logs", err) || ya_mkdirs(logdir, err)) return YA_ERR;
    YaMetrics *m = calloc(1, sizeof *m);
    if (!m) return ya_fail(err, YA_ERR, "%s: out of memory", logdir);
    if (ya_path_join(m->jsonl_path, sizeof m->jsonl_path, logdir, "metrics.jsonl", err)) goto fail;
    if (resume_step >= 0 && truncate_after(m->jsonl_path, resume_step, err)) goto fail;
    m->jsonl = fopen(m->jsonl_path, resume_step >= 0 ? "ab" : "wb");
    if (!m->jsonl) {
        ya_fail(err, YA_ERR, "%s: cannot open: %s", m->jsonl_path, strerror(errno));
        goto fail;
    }
    if (ya_tb_open(logdir, 0, &m->tb, err)) goto fail;
    *out = m;
    return YA_OK;
fail:
    ya_metrics_close(m);
    return YA_ERR;
}

int ya_metrics_log(YaMetrics *m, const char *split, long long step, double wall_time, size_t n, const YaMetric *items,
                   YaError *err) {
    if (n > YA_METRICS_MAX_ITEMS) return ya_fail(err, YA_ERR, "metrics: %zu values in one row (max %d)", n, YA_METRICS_MAX_ITEMS);
    char tag_store[YA_METRICS_MAX_ITEMS][96];
    const char *tags[YA_METRICS_MAX_ITEMS];
    float values[YA_METRICS_MAX_ITEMS];
    char num[32];
    FILE *fp = m->jsonl;
    fprintf(fp, "{\"step\":%lld,\"split\":\"%s\"", step, split);
    for (size_t i = 0; i < n; i++) {
        /* Names are our own identifiers (no quoting needed); values: shortest repr, null if non-finite. */
        fprintf(fp, ",\"%s\":%s", items[i].name,
                isfinite(items[i].value) ? ya_format_double_repr(items[i].value, num) : "null");
        snprintf(tag_store[i], sizeof tag_store[i], "%s/%s", split, items[i].name);
        tags[i] = tag_store[i];
        values[i] = (float)items[i].value;
    }
    fputs("}\n", fp);
    if (fflush(fp) != 0 || ferror(fp)) return ya_fail(err, YA_ERR, "%s: write failed: %s", m->jsonl_path, strerror(errno));
    return ya_tb_scalars(m->tb, step, wall_time, n, tags, values, err);
}

int ya_metrics_log_train(YaMetrics *m, const YaTrainMetrics *r, YaError *err) {
    const YaMetric items[] = {
        {"total", r->total},         {"ce", r->ce},         {"wce", r->wce},
        {"distrust", r->distrust},   {"grad_norm", r->grad_norm}, {"lr", r->lr},
        {"tok_per_s", r->tok_per_s}, {"elapsed", r->elapsed}, {"gpu_bytes", r->gpu_bytes},
    };
    size_t n = sizeof items / sizeof items[0];
    return ya_metrics_log(m, "train", r->step, 0, r->gpu_bytes > 0 ? n : n - 1, items, err);
}

void ya_metrics_close(YaMetrics *m) {
    if (!m) return;
    if (m->jsonl) fclose(m->jsonl);
    ya_tb_close(m->tb);
    free(m);
}

const char *ya_metrics_jsonl_path(const YaMetrics *m) { return m->jsonl_path; }
const char *ya_metrics_tb_path(const YaMetrics *m) { return ya_tb_path(m->tb); }

/* test_adamw_torch.c — ten AdamW updates with global-norm clipping and the
 * SPEC §8 schedule against an independent reference (tools/ref_adamw.py):
 * torch.optim.AdamW + torch.nn.utils.clip_grad_norm_ for "adamw", the MLX
 * formula written out in numpy for "adamw-mlx".
 * Usage: test_adamw_torch PYTHON TOOLS_DIR WORK_DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "your_ai/fileio.h"
#include "your_ai/json.h"
#include "your_ai/optimizer.h"
#include "your_ai/rng.h"
#include "your_ai/schedule.h"

#define STEPS 10

static const int k_sizes[] = {1000, 37, 4096, 513}; /* several tensors: the norm is global */
/* Gradient scale per update: some updates clip (norm ≫ 1), others do not (≪ 1). */
static const double k_grad_scale[STEPS] = {0.1, 0.001, 0.05, 0.002, 1.0, 0.0005, 0.1, 0.01, 0.003, 0.2};

static float *read_f32(const char *dir, const char *name, size_t n) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *buf = NULL;
    size_t len = 0;
    YaError err;
    if (ya_read_file(path, &buf, &len, &err) || len != n * sizeof(float)) {
        fprintf(stderr, "%s: expected %zu floats (%s)\n", path, n, err.message);
        free(buf);
        return NULL;
    }
    return (float *)buf;
}

/* max |a−b| / max |b| over the array (relative to the tensor's scale). */
static double rel_err(const float *a, const float *b, size_t n) {
    double md = 0, mb = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > md) md = d;
        if (fabs((double)b[i]) > mb) mb = fabs((double)b[i]);
    }
    return mb > 0 ? md / mb : md;
}

static void run_case(const char *python, const char *tools, const char *work, YaOptimizerKind kind) {
    YaError err;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/adamw-%s", work, ya_optimizer_name(kind));
    CHECK(ya_mkdirs(dir, &err) == YA_OK);
    size_t n = 0;
    for (size_t i = 0; i < sizeof k_sizes / sizeof k_sizes[0]; i++) n += (size_t)k_sizes[i];

    YaAdamWConfig cfg;
    ya_adamw_defaults(&cfg);
    cfg.kind = kind;
    YaLrSchedule sched;
    const double lr0 = 1e-2, max_norm = 1.0;
    CHECK(ya_schedule_init(&sched, lr0, 3, STEPS, &err) == YA_OK);

    float *p = malloc(n * sizeof *p), *m = calloc(n, sizeof *m), *v = calloc(n, sizeof *v);
    float *grads = malloc(STEPS * n * sizeof *grads), *g = malloc(n * sizeof *g);
    YaRng rng;
    ya_rng_seed(&rng, 7, "test-adamw");
    for (size_t i = 0; i < n; i++) p[i] = (float)(2 * ya_rng_uniform(&rng) - 1);
    for (int u = 0; u < STEPS; u++)
        for (size_t i = 0; i < n; i++) grads[u * n + i] = (float)(ya_rng_normal(&rng) * k_grad_scale[u]);

    char path[4200];
    snprintf(path, sizeof path, "%s/p0.f32", dir);
    CHECK(ya_write_file_atomic(path, p, n * sizeof *p, &err) == YA_OK);
    snprintf(path, sizeof path, "%s/grads.f32", dir);
    CHECK(ya_write_file_atomic(path, grads, STEPS * n * sizeof *grads, &err) == YA_OK);
    char meta[1024];
    int ml = snprintf(meta, sizeof meta,
                      "{\"sizes\":[%d,%d,%d,%d],\"steps\":%d,\"lr0\":%.17g,\"warmup\":3,\"max_steps\":%d,"
                      "\"max_norm\":%.17g,\"weight_decay\":%.17g,\"beta1\":%.17g,\"beta2\":%.17g,\"eps\":%.17g,"
                      "\"kind\":\"%s\"}",
                      k_sizes[0], k_sizes[1], k_sizes[2], k_sizes[3], STEPS, lr0, STEPS, max_norm, cfg.weight_decay,
                      cfg.beta1, cfg.beta2, cfg.eps, ya_optimizer_name(kind));
    snprintf(path, sizeof path, "%s/meta.json", dir);
    CHECK(ya_write_file_atomic(path, meta, (size_t)ml, &err) == YA_OK);

    double norms[STEPS], lrs[STEPS];
    int clipped = 0;
    for (int u = 0; u < STEPS; u++) {
        memcpy(g, grads + u * n, n * sizeof *g);
        norms[u] = ya_clip_grad_norm(g, n, max_norm);
        clipped += norms[u] >= max_norm;
        lrs[u] = ya_schedule_lr(&sched, u);
        ya_adamw_step(&cfg, u + 1, lrs[u], p, g, m, v, n);
    }
    CHECK_MSG(clipped >= 3 && clipped <= 7, "%d of %d updates clipped: the test should exercise both paths", clipped,
              STEPS);

    char cmd[12288];
    snprintf(cmd, sizeof cmd, "'%s' '%s/ref_adamw.py' '%s'", python, tools, dir);
    int rc = system(cmd);
    CHECK_MSG(rc == 0, "reference failed: %s", cmd);
    if (rc != 0) goto done;

    json_t *ref = NULL;
    snprintf(path, sizeof path, "%s/ref.json", dir);
    CHECK(ya_json_load_file(path, 0, &ref, &err) == YA_OK);
    for (int u = 0; ref && u < STEPS; u++) {
        CHECK_NEAR(lrs[u], json_real_value(json_array_get(json_object_get(ref, "lr"), u)), 1e-12);
        /* torch sums the norm in float32; ours is double: 1e-6 relative. */
        double rn = json_number_value(json_array_get(json_object_get(ref, "norm"), u));
        CHECK_MSG(fabs(norms[u] - rn) <= 1e-6 * rn, "update %d: norm %.9g vs reference %.9g", u, norms[u], rn);
    }
    json_decref(ref);
    float *rp = read_f32(dir, "ref_p.f32", n), *rm = read_f32(dir, "ref_m.f32", n), *rv = read_f32(dir, "ref_v.f32", n);
    CHECK(rp && rm && rv);
    if (rp && rm && rv) {
        double ep = rel_err(p, rp, n), em = rel_err(m, rm, n), ev = rel_err(v, rv, n);
        printf("%s: 10 updates: max rel err params %.3g, exp_avg %.3g, exp_avg_sq %.3g\n", ya_optimizer_name(kind), ep,
               em, ev);
        CHECK_MSG(ep <= 1e-6, "params rel err %g", ep);
        CHECK_MSG(em <= 1e-6, "exp_avg rel err %g", em);
        CHECK_MSG(ev <= 1e-6, "exp_avg_sq rel err %g", ev);
        /* The parameters must have moved, or the comparison proves nothing. */
        float *p0 = read_f32(dir, "p0.f32", n);
        CHECK(p0 && rel_err(p, p0, n) > 1e-3);
        free(p0);
    }
    free(rp), free(rm), free(rv);
done:
    free(p), free(m), free(v), free(grads), free(g);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s PYTHON TOOLS_DIR WORK_DIR\n", argv[0]);
        return 2;
    }
    run_case(argv[1], argv[2], argv[3], YA_OPT_ADAMW);
    run_case(argv[1], argv[2], argv[3], YA_OPT_ADAMW_MLX);
    TEST_MAIN_END();
}

/* optimizer.c — AdamW, global-norm clipping and accumulation helpers over flat
 * F32 buffers (SPEC §8; see optimizer.h). */
#include "your_ai/optimizer.h"

#include <math.h>
#include <string.h>

void ya_adamw_defaults(YaAdamWConfig *cfg) {
    cfg->kind = YA_OPT_ADAMW;
    cfg->beta1 = 0.9;
    cfg->beta2 = 0.999;
    cfg->eps = 1e-8;
    cfg->weight_decay = 0.01;
}

int ya_optimizer_parse(const char *name, YaOptimizerKind *out, YaError *err) {
    if (strcmp(name, "adamw") == 0) { *out = YA_OPT_ADAMW; return YA_OK; }
    if (strcmp(name, "adamw-mlx") == 0) { *out = YA_OPT_ADAMW_MLX; return YA_OK; }
    return ya_fail(err, YA_ERR_USAGE, "--optimizer must be 'adamw' or 'adamw-mlx' (got '%s')", name);
}

const char *ya_optimizer_name(YaOptimizerKind kind) { return kind == YA_OPT_ADAMW_MLX ? "adamw-mlx" : "adamw"; }

void ya_adamw_step(const YaAdamWConfig *cfg, long long t, double lr, float *p, const float *g, float *m, float *v,
                   size_t n) {
    if (t < 1) t = 1;
    /* Scalars in double, then rounded once to float, as torch passes Python
     * floats to its float32 kernels. */
    double bc1 = 1.0, bc2 = 1.0;
    if (cfg->kind == YA_OPT_ADAMW) {
        bc1 = 1.0 - pow(cfg->beta1, (double)t);
        bc2 = 1.0 - pow(cfg->beta2, (double)t);
    }
    const float decay = (float)(1.0 - lr * cfg->weight_decay);
    const float b1 = (float)cfg->beta1, one_minus_b1 = (float)(1.0 - cfg->beta1);
    const float b2 = (float)cfg->beta2, one_minus_b2 = (float)(1.0 - cfg->beta2);
    const float step_size = (float)(lr / bc1);
    const float inv_bc2_sqrt = (float)(1.0 / sqrt(bc2));
    const float eps = (float)cfg->eps;
    const long long nn = (long long)n;
#pragma omp parallel for schedule(static)
    for (long long i = 0; i < nn; i++) {
        float gi = g[i];
        float pi = p[i] * decay;
        float mi = b1 * m[i] + one_minus_b1 * gi;
        float vi = b2 * v[i] + one_minus_b2 * (gi * gi);
        float denom = sqrtf(vi) * inv_bc2_sqrt + eps;
        p[i] = pi - step_size * (mi / denom);
        m[i] = mi;
        v[i] = vi;
    }
}

/* Fixed partition for the norm: the chunk boundaries depend on n only. */
#define YA_NORM_CHUNKS 256

double ya_grad_global_norm(const float *g, size_t n) {
    double partial[YA_NORM_CHUNKS];
    const size_t chunk = (n + YA_NORM_CHUNKS - 1) / YA_NORM_CHUNKS;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < YA_NORM_CHUNKS; c++) {
        size_t lo = (size_t)c * chunk, hi = lo + chunk;
        if (lo > n) lo = n;
        if (hi > n) hi = n;
        /* Eight interleaved accumulators: a fixed order (so still deterministic)
         * that breaks the add-latency chain and lets the compiler vectorise. */
        double acc[8] = {0};
        size_t i = lo;
        for (; i + 8 <= hi; i += 8)
            for (int k = 0; k < 8; k++) acc[k] += (double)g[i + k] * (double)g[i + k];
        for (; i < hi; i++) acc[0] += (double)g[i] * (double)g[i];
        partial[c] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    }
    double total = 0.0;
    for (int c = 0; c < YA_NORM_CHUNKS; c++) total += partial[c];
    return sqrt(total);
}

double ya_clip_grad_norm(float *g, size_t n, double max_norm) {
    double norm = ya_grad_global_norm(g, n);
    if (!isfinite(norm)) return norm;
    if (max_norm > 0 && norm >= max_norm) ya_grad_scale(g, n, (float)(max_norm / (norm + 1e-6)));
    return norm;
}

void ya_grad_zero(float *g, size_t n) { memset(g, 0, n * sizeof *g); }

void ya_grad_accumulate(float *acc, const float *g, size_t n) {
    const long long nn = (long long)n;
#pragma omp parallel for schedule(static)
    for (long long i = 0; i < nn; i++) acc[i] += g[i];
}

void ya_grad_scale(float *g, size_t n, float s) {
    const long long nn = (long long)n;
#pragma omp parallel for schedule(static)
    for (long long i = 0; i < nn; i++) g[i] *= s;
}

/* cpu_norm.c — RMSNorm (SPEC §6.2): y = w ⊙ (x / sqrt(mean(x²) + eps)).
 *
 * The mean of squares is accumulated in double in index order, so the result
 * does not depend on the thread count (rows are independent). */
#include <math.h>

#include "backend/cpu/cpu_ops.h"

void ya_cpu_rmsnorm(float *y, float *rstd, const float *x, const float *w, int M, int h, float eps) {
#pragma omp parallel for schedule(static)
    for (int m = 0; m < M; m++) {
        const float *xr = x + (size_t)m * h; // [h]
        float *yr = y + (size_t)m * h;       // [h]
        double ss = 0.0;
        for (int i = 0; i < h; i++) ss += (double)xr[i] * xr[i];
        float r = (float)(1.0 / sqrt(ss / h + (double)eps));
        if (rstd) rstd[m] = r;
        /* HF normalises first, then multiplies by the weight (two roundings). */
        for (int i = 0; i < h; i++) yr[i] = w[i] * (xr[i] * r);
    }
}

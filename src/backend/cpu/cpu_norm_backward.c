/* cpu_norm_backward.c — backward of RMSNorm y = w ⊙ (x · r), r = 1/sqrt(mean(x²) + eps).
 *
 * With g = dy ⊙ w (the gradient reaching the normalised row x·r):
 *   dx_i = r·g_i − (r³/h) · x_i · Σ_j g_j x_j      (r saved by the forward: rstd)
 *   dw_i = Σ_rows dy_i · x_i · r
 * dx is parallel over rows; dw over columns with rows summed in order, so
 * both are independent of the thread count. */
#include "backend/cpu/cpu_ops.h"

enum { NORM_COL_BLOCK = 64 };

void ya_cpu_rmsnorm_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                             const float *rstd, int M, int h) {
    if (dx) {
#pragma omp parallel for schedule(static)
        for (int m = 0; m < M; m++) {
            const float *xr = x + (size_t)m * h;   // [h]
            const float *dyr = dy + (size_t)m * h; // [h]
            float *dxr = dx + (size_t)m * h;       // [h]
            double dot = 0.0;                      /* Σ_j g_j x_j */
            for (int i = 0; i < h; i++) dot += (double)dyr[i] * w[i] * xr[i];
            float r = rstd[m];
            float c = (float)(dot * ((double)r * r * r) / h);
            for (int i = 0; i < h; i++) dxr[i] += r * (dyr[i] * w[i]) - c * xr[i];
        }
    }
    if (dw) {
        /* Threads own column blocks and walk the rows in order (contiguous reads). */
        int n_blocks = (h + NORM_COL_BLOCK - 1) / NORM_COL_BLOCK;
#pragma omp parallel for schedule(static)
        for (int blk = 0; blk < n_blocks; blk++) {
            int c0 = blk * NORM_COL_BLOCK, n = h - c0 < NORM_COL_BLOCK ? h - c0 : NORM_COL_BLOCK;
            double acc[NORM_COL_BLOCK] = {0};
            for (int m = 0; m < M; m++) {
                const float *xr = x + (size_t)m * h + c0;   // [n]
                const float *dyr = dy + (size_t)m * h + c0; // [n]
                for (int i = 0; i < n; i++) acc[i] += (double)dyr[i] * (xr[i] * rstd[m]);
            }
            for (int i = 0; i < n; i++) dw[c0 + i] += (float)acc[i];
        }
    }
}

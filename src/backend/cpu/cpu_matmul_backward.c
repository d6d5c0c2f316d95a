/* cpu_matmul_backward.c — backward of the linear layer y = x · Wᵀ (+ b).
 *
 *   dx [M, K] += dy [M, N] · W [N, K]          (sgemm NoTrans × NoTrans)
 *   dW [N, K] += dyᵀ [N, M] · x [M, K]         (sgemm Trans × NoTrans; skipped when frozen)
 *   db [N]    += Σ_m dy[m, :]                  (double, rows in order)
 * Everything accumulates (beta = 1): gradients of a tensor read by several
 * ops sum without extra passes. OpenBLAS runs its own threads; never call
 * this inside an OpenMP parallel region. */
#include <cblas.h> /* defines: cblas_sgemm */

#include "backend/cpu/cpu_ops.h"

enum { BIAS_COL_BLOCK = 64 };

void ya_cpu_linear_backward(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w, int M,
                            int K, int N) {
    if (M <= 0) return;
    if (dx) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, K, N, 1.0f, dy, N, w, K, 1.0f, dx, K);
    if (dw) cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N, K, M, 1.0f, dy, N, x, K, 1.0f, dw, K);
    if (db) {
        /* Threads own column blocks; each column sums its rows in index order,
         * so the result does not depend on the thread count. */
        int n_blocks = (N + BIAS_COL_BLOCK - 1) / BIAS_COL_BLOCK;
#pragma omp parallel for schedule(static)
        for (int blk = 0; blk < n_blocks; blk++) {
            int c0 = blk * BIAS_COL_BLOCK, n = N - c0 < BIAS_COL_BLOCK ? N - c0 : BIAS_COL_BLOCK;
            double acc[BIAS_COL_BLOCK] = {0};
            for (int m = 0; m < M; m++) {
                const float *row = dy + (size_t)m * N + c0; // [n]
                for (int i = 0; i < n; i++) acc[i] += row[i];
            }
            for (int i = 0; i < n; i++) db[c0 + i] += (float)acc[i];
        }
    }
}

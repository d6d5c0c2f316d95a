/* cpu_embedding_backward.c — backward of the embedding lookup: a scatter-add
 * dtable[ids[t]] += dout[t].
 *
 * Repeated ids hit the same row, so rows cannot be split across threads by t.
 * Instead threads own disjoint column blocks and walk t in order: every
 * element is summed in the same order whatever the thread count (no atomics). */
#include "backend/cpu/cpu_ops.h"

enum { EMB_COL_BLOCK = 64 };

void ya_cpu_embedding_backward(float *dtable, const float *dout, const int32_t *ids, int T, int h) {
    int n_blocks = (h + EMB_COL_BLOCK - 1) / EMB_COL_BLOCK;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < n_blocks; b++) {
        int c0 = b * EMB_COL_BLOCK, c1 = c0 + EMB_COL_BLOCK < h ? c0 + EMB_COL_BLOCK : h;
        for (int t = 0; t < T; t++) {
            float *row = dtable + (size_t)ids[t] * h; // [h]
            const float *g = dout + (size_t)t * h;    // [h]
            for (int c = c0; c < c1; c++) row[c] += g[c];
        }
    }
}

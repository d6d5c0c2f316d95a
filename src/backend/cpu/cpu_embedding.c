/* cpu_embedding.c — token embedding lookup and stored-dtype → fp32 conversion.
 *
 * Weights stay mmap'd in their stored dtype (BF16/F16/F32, no alignment
 * guarantee); only the rows or matrices an op needs are converted. */
#include "backend/cpu/cpu_ops.h"

void ya_cpu_embedding(float *out, const void *table, YaDtype dt, const int32_t *ids, int T, int h) {
    size_t row_bytes = (size_t)h * ya_dtype_size(dt);
#pragma omp parallel for schedule(static)
    for (int t = 0; t < T; t++)
        ya_to_f32(dt, (const char *)table + (size_t)ids[t] * row_bytes, out + (size_t)t * h, (size_t)h);
}

void ya_cpu_to_f32(float *dst, const void *src, YaDtype dt, size_t n) {
    /* Fixed-size blocks so each thread converts a contiguous range. */
    const size_t block = 1 << 16;
    size_t n_blocks = (n + block - 1) / block, esz = ya_dtype_size(dt);
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < n_blocks; b++) {
        size_t lo = b * block, len = n - lo < block ? n - lo : block;
        ya_to_f32(dt, (const char *)src + lo * esz, dst + lo, len);
    }
}

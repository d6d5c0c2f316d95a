/* cpu_backend.c — the CPU op table (the reference every other backend is
 * tested against) and thread control for OpenMP + OpenBLAS. */
#include <cblas.h> /* defines: openblas_set_num_threads */
#include <omp.h>   /* defines: omp_set_num_threads */
#include <stdlib.h> /* defines: getenv */

#include "backend/cpu/cpu_ops.h"

static const YaBackendOps k_cpu_ops = {
    .name = "cpu",
    .linear = ya_cpu_linear,
    .linear_stored = ya_cpu_linear_stored,
    .rmsnorm = ya_cpu_rmsnorm,
    .rope = ya_cpu_rope,
    .attention = ya_cpu_attention,
    .swiglu = ya_cpu_swiglu,
    .add = ya_cpu_add,
    .embedding = ya_cpu_embedding,
    .to_f32 = ya_cpu_to_f32,
    .linear_backward = ya_cpu_linear_backward,
    .rmsnorm_backward = ya_cpu_rmsnorm_backward,
    .rope_backward = ya_cpu_rope_backward,
    .attention_backward = ya_cpu_attention_backward,
    .swiglu_backward = ya_cpu_swiglu_backward,
    .embedding_backward = ya_cpu_embedding_backward,
    .cross_entropy = ya_cpu_cross_entropy,
    .cross_entropy_scratch = ya_cpu_cross_entropy_scratch,
#if defined(YA_HAVE_DNNL)
    .linear_bf16w = ya_cpu_linear_bf16w,
    .linear_bf16w_backward_dx = ya_cpu_linear_bf16w_backward_dx,
    .cross_entropy_bf16w = ya_cpu_cross_entropy_bf16w,
    .linear_f32_omp = ya_cpu_linear_f32_omp,
    .linear_backward_f32_omp = ya_cpu_linear_backward_f32_omp,
#endif
    .cross_entropy_bf16w_scratch = ya_cpu_cross_entropy_bf16w_scratch,
    .to_bf16 = ya_cpu_to_bf16,
};

const YaBackendOps *ya_backend_cpu(void) {
    ya_cpu_blas_warn_outdated_kernels(); /* the first CPU compute of a process: say if OpenBLAS will be slow */
    return &k_cpu_ops;
}

void ya_backend_cpu_set_threads(int n) {
    if (n <= 0) return;
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
}

int ya_backend_cpu_set_blas_threads(int n) {
    int prev = openblas_get_num_threads();
    if (n > 0) openblas_set_num_threads(n);
    return prev;
}

int ya_cpu_blas_serial(void) { return openblas_get_num_threads() == 1; }

int ya_backend_cpu_bf16_check(YaError *err) {
    if (!k_cpu_ops.linear_bf16w)
        return ya_fail(err, YA_ERR_USAGE, "--matmul bf16: this build has no oneDNN (install libdnnl-dev and rebuild)");
    if (!ya_cpu_bf16_available())
        return ya_fail(err, YA_ERR_USAGE,
                       "--matmul bf16: oneDNN has no bf16 GEMM on this CPU (it needs AVX-512: AVX512_CORE or newer; "
                       "ONEDNN_MAX_CPU_ISA=%s may limit it); train in fp32 instead (--matmul fp32)",
                       getenv("ONEDNN_MAX_CPU_ISA") ? getenv("ONEDNN_MAX_CPU_ISA") : "(unset)");
    return YA_OK;
}

/* cpu_simd.c — which vector path the CPU ops take, decided once per process.
 *
 * The ops with a hand-written AVX-512F form (cpu_vexp.h's exp and sigmoid in
 * SwiGLU, the attention softmax and the bf16 cross-entropy; the fp32 → bf16
 * rounding) also keep a portable C form, and both must pass the same parity
 * tests. The environment variable YA_SIMD picks between them:
 *   auto      (default) AVX-512F where the CPU has it, the portable form elsewhere;
 *   portable  the portable form on every CPU: how the tests run the fallback
 *             on a machine that has AVX-512, and a way to compare both paths;
 *   avx512    require AVX-512F: an error on a CPU (or a build) without it.
 * The two paths round exp differently (≤ 2 ulp), so results differ between
 * them in the last bits: bit-identity holds per path (docs/RELIABILITY.md). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu_ops.h"

static int cpu_has_avx512f(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

int ya_backend_cpu_simd_check(YaError *err) {
    const char *v = getenv("YA_SIMD");
    if (!v || !*v || strcmp(v, "auto") == 0 || strcmp(v, "portable") == 0) return YA_OK;
    if (strcmp(v, "avx512") == 0) {
        if (cpu_has_avx512f()) return YA_OK;
        return ya_fail(err, YA_ERR_USAGE,
                       "YA_SIMD=avx512: this CPU (or this non-x86-64 build) has no AVX-512F; use YA_SIMD=auto or portable");
    }
    return ya_fail(err, YA_ERR_USAGE, "YA_SIMD='%s': expected auto, portable or avx512", v);
}

/* -1 not decided yet, else 0/1. Every thread that races here computes the same value. */
static atomic_int g_use_avx512 = -1;

int ya_cpu_use_avx512(void) {
    int use = atomic_load_explicit(&g_use_avx512, memory_order_relaxed);
    if (use >= 0) return use;
    YaError err = {0};
    if (ya_backend_cpu_simd_check(&err) != YA_OK) {
        /* The CLI checks YA_SIMD before any op runs; a library caller that did not gets stopped here. */
        fprintf(stderr, "your_ai: error: %s\n", err.message);
        abort();
    }
    const char *v = getenv("YA_SIMD");
    use = cpu_has_avx512f() && !(v && strcmp(v, "portable") == 0);
    atomic_store_explicit(&g_use_avx512, use, memory_order_relaxed);
    return use;
}

const char *ya_backend_cpu_simd_name(void) { return ya_cpu_use_avx512() ? "avx512f" : "portable"; }

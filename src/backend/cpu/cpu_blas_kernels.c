/* cpu_blas_kernels.c — does OpenBLAS run kernels older than this CPU supports?
 *
 * Debian's OpenBLAS (built DYNAMIC_ARCH) picks one kernel family when it loads,
 * from the CPU model it recognises. OpenBLAS 0.3.21 does not recognise every
 * model: on a cloud VM that reports a generic "Intel(R) Xeon(R) Processor" with
 * AVX-512 it picks "Prescott" (SSE3): sgemm, most of a CPU training step, runs
 * 4.7x slower and `train` 3.3-3.5x (docs/BENCHMARKS.md). The choice cannot be
 * changed once the library is loaded, so the engine says so once, naming the
 * setting that fixes it (OPENBLAS_CORETYPE), rather than running slowly in
 * silence. It does not set it itself: the kernels are part of the environment
 * that bit-exact resume depends on (docs/RELIABILITY.md), so the user decides.
 * A user who set OPENBLAS_CORETYPE has chosen: no warning then. */
#include <cblas.h> /* defines: openblas_get_corename */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "backend/cpu/cpu_ops.h"
#include "your_ai/log.h"

int ya_cpu_blas_core_level(const char *corename) {
    static const struct {
        const char *name;
        int level;
    } k_cores[] = {
        {"SkylakeX", YA_CPU_LEVEL_AVX512}, {"Cooperlake", YA_CPU_LEVEL_AVX512}, {"SapphireRapids", YA_CPU_LEVEL_AVX512},
        {"Haswell", YA_CPU_LEVEL_AVX2},    {"Zen", YA_CPU_LEVEL_AVX2},
        {"Sandybridge", YA_CPU_LEVEL_AVX}, {"Bulldozer", YA_CPU_LEVEL_AVX},   {"Piledriver", YA_CPU_LEVEL_AVX},
        {"Steamroller", YA_CPU_LEVEL_AVX}, {"Excavator", YA_CPU_LEVEL_AVX},
    };
    if (!corename) return YA_CPU_LEVEL_OLDER;
    for (size_t i = 0; i < sizeof k_cores / sizeof k_cores[0]; i++)
        if (strcasecmp(corename, k_cores[i].name) == 0) return k_cores[i].level;
    return YA_CPU_LEVEL_OLDER; /* Prescott, Core2, Nehalem, Atom, …, and every non-x86 core */
}

/* The OPENBLAS_CORETYPE to suggest for a CPU of `cpu_level`, when `corename`'s kernels
 * are below it and lack FMA (below AVX2): then sgemm is 2.6-4.7x slower (Sandybridge or
 * Prescott kernels against SkylakeX on an AVX-512 Xeon, docs/BENCHMARKS.md). AVX2 kernels on an AVX-512 CPU
 * are not reported: the gap is smaller (1.9x on that Xeon) and depends on how the CPU
 * implements AVX-512 (AMD Zen 4 runs 512-bit operations as two 256-bit halves; not
 * measured here), so there a warning could be noise. */
static const char *better_core(const char *corename, int cpu_level) {
    int have = ya_cpu_blas_core_level(corename);
    if (have >= cpu_level || have >= YA_CPU_LEVEL_AVX2) return NULL;
    switch (cpu_level) {
    case YA_CPU_LEVEL_AVX512: return "SkylakeX";
    case YA_CPU_LEVEL_AVX2: return "Haswell";
    case YA_CPU_LEVEL_AVX: return "Sandybridge";
    default: return NULL;
    }
}

int ya_cpu_blas_kernel_warning(const char *coretype_env, const char *corename, int cpu_level, char *buf,
                               size_t cap) {
    if (coretype_env && *coretype_env) return 0; /* the user chose the kernels */
    const char *better = better_core(corename, cpu_level);
    if (!better) return 0;
    snprintf(buf, cap,
             "OpenBLAS chose its \"%s\" kernels, older than this CPU supports (it does not recognise every CPU "
             "model); matrix products run several times slower. Set OPENBLAS_CORETYPE=%s for this run and its "
             "--resume (docs/TRAINING.md, \"CPU speed\")",
             corename ? corename : "(unknown)", better);
    return 1;
}

int ya_cpu_vector_level(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    /* SkylakeX's kernels use AVX-512 F, CD, BW, DQ and VL; __builtin_cpu_supports also
     * checks that the OS saves the wider registers. */
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        return YA_CPU_LEVEL_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return YA_CPU_LEVEL_AVX2;
    if (__builtin_cpu_supports("avx")) return YA_CPU_LEVEL_AVX;
#endif
    return YA_CPU_LEVEL_OLDER;
}

static atomic_int g_checked = 0;

void ya_cpu_blas_warn_outdated_kernels(void) {
    if (atomic_exchange(&g_checked, 1)) return;
    char msg[512];
    if (ya_cpu_blas_kernel_warning(getenv("OPENBLAS_CORETYPE"), openblas_get_corename(), ya_cpu_vector_level(), msg,
                                   sizeof msg))
        ya_warn("%s", msg);
}

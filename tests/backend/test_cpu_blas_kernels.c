/* test_cpu_blas_kernels.c — the warning for OpenBLAS kernels older than the CPU
 * (src/backend/cpu/cpu_blas_kernels.c): its decision table, the kernel-family
 * names of the real library (run under each forced family by the cpu_variant
 * tests), and the CPU's level against /proc/cpuinfo. */
#include <cblas.h> /* defines: openblas_get_corename */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend/cpu/cpu_ops.h"
#include "test_util.h"

static int warns(const char *env, const char *core, int level, const char *must_name) {
    char msg[512] = {0};
    int w = ya_cpu_blas_kernel_warning(env, core, level, msg, sizeof msg);
    if (w && must_name) CHECK_MSG(strstr(msg, must_name) != NULL, "'%s' lacks '%s'", msg, must_name);
    return w;
}

/* The level /proc/cpuinfo's flags allow, by the same rule as the engine but read independently. */
static int cpuinfo_level(void) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return -1;
    static char line[1 << 16];
    int level = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0) continue;
        char *colon = strchr(line, ':');
        if (!colon) break;
        char flags[sizeof line + 2];
        snprintf(flags, sizeof flags, " %s", colon + 1);
        flags[strcspn(flags, "\n")] = ' ';
#define HAS(x) (strstr(flags, " " x " ") != NULL)
        if (HAS("avx512f") && HAS("avx512cd") && HAS("avx512bw") && HAS("avx512dq") && HAS("avx512vl")) level = 3;
        else if (HAS("avx2") && HAS("fma")) level = 2;
        else if (HAS("avx")) level = 1;
        else level = 0;
#undef HAS
        break;
    }
    fclose(f);
    return level;
}

int main(void) {
    /* OpenBLAS's x86-64 kernel families and the instructions they are written for. */
    CHECK(ya_cpu_blas_core_level("SkylakeX") == YA_CPU_LEVEL_AVX512);
    CHECK(ya_cpu_blas_core_level("skylakex") == YA_CPU_LEVEL_AVX512);
    CHECK(ya_cpu_blas_core_level("Cooperlake") == YA_CPU_LEVEL_AVX512);
    CHECK(ya_cpu_blas_core_level("SapphireRapids") == YA_CPU_LEVEL_AVX512);
    CHECK(ya_cpu_blas_core_level("Haswell") == YA_CPU_LEVEL_AVX2);
    CHECK(ya_cpu_blas_core_level("Zen") == YA_CPU_LEVEL_AVX2);
    CHECK(ya_cpu_blas_core_level("Sandybridge") == YA_CPU_LEVEL_AVX);
    CHECK(ya_cpu_blas_core_level("Prescott") == YA_CPU_LEVEL_OLDER);
    CHECK(ya_cpu_blas_core_level("Nehalem") == YA_CPU_LEVEL_OLDER);
    CHECK(ya_cpu_blas_core_level("armv8") == YA_CPU_LEVEL_OLDER);
    CHECK(ya_cpu_blas_core_level(NULL) == YA_CPU_LEVEL_OLDER);

    /* When to warn, and what to suggest. */
    CHECK(warns(NULL, "Prescott", YA_CPU_LEVEL_AVX512, "OPENBLAS_CORETYPE=SkylakeX") == 1); /* the VM case */
    CHECK(warns(NULL, "Prescott", YA_CPU_LEVEL_AVX512, "\"Prescott\"") == 1);
    CHECK(warns("", "Prescott", YA_CPU_LEVEL_AVX512, "SkylakeX") == 1); /* empty counts as unset */
    CHECK(warns(NULL, "Sandybridge", YA_CPU_LEVEL_AVX512, "OPENBLAS_CORETYPE=SkylakeX") == 1);
    CHECK(warns(NULL, "Haswell", YA_CPU_LEVEL_AVX512, NULL) == 0); /* FMA kernels: the gap depends on the CPU */
    CHECK(warns(NULL, "Zen", YA_CPU_LEVEL_AVX512, NULL) == 0);
    CHECK(warns(NULL, "Prescott", YA_CPU_LEVEL_AVX2, "OPENBLAS_CORETYPE=Haswell") == 1);
    CHECK(warns(NULL, "Sandybridge", YA_CPU_LEVEL_AVX2, "OPENBLAS_CORETYPE=Haswell") == 1);
    CHECK(warns(NULL, "Core2", YA_CPU_LEVEL_AVX, "OPENBLAS_CORETYPE=Sandybridge") == 1);
    CHECK(warns(NULL, NULL, YA_CPU_LEVEL_AVX512, "(unknown)") == 1);
    CHECK(warns("Prescott", "Prescott", YA_CPU_LEVEL_AVX512, NULL) == 0); /* the user chose them */
    CHECK(warns(NULL, "SkylakeX", YA_CPU_LEVEL_AVX512, NULL) == 0);
    CHECK(warns(NULL, "Cooperlake", YA_CPU_LEVEL_AVX512, NULL) == 0);
    CHECK(warns(NULL, "Zen", YA_CPU_LEVEL_AVX2, NULL) == 0);
    CHECK(warns(NULL, "Haswell", YA_CPU_LEVEL_AVX2, NULL) == 0);
    CHECK(warns(NULL, "Prescott", YA_CPU_LEVEL_OLDER, NULL) == 0);
    CHECK(warns(NULL, "armv8", YA_CPU_LEVEL_OLDER, NULL) == 0);

    /* This machine: the CPU's level as the engine sees it, against /proc/cpuinfo. */
    int cpu = ya_cpu_vector_level(), want_cpu = cpuinfo_level();
    const char *core = openblas_get_corename(), *forced = getenv("OPENBLAS_CORETYPE");
    printf("OpenBLAS kernels: %s (OPENBLAS_CORETYPE=%s); CPU level %d (/proc/cpuinfo: %d)\n", core,
           forced ? forced : "(unset)", cpu, want_cpu);
    if (want_cpu >= 0) CHECK_MSG(cpu == want_cpu, "engine says CPU level %d, /proc/cpuinfo %d", cpu, want_cpu);

    /* Under a forced family (tests/cpu_variant.sh blas-*), the library must report a
     * name the table places at that family's level: else the warning could misfire. */
    if (forced && *forced) {
        int want = strcasecmp(forced, "SkylakeX") == 0      ? YA_CPU_LEVEL_AVX512
                   : strcasecmp(forced, "Haswell") == 0     ? YA_CPU_LEVEL_AVX2
                   : strcasecmp(forced, "Sandybridge") == 0 ? YA_CPU_LEVEL_AVX
                                                            : -1;
        if (want >= 0)
            CHECK_MSG(ya_cpu_blas_core_level(core) == want, "OPENBLAS_CORETYPE=%s: the library reports '%s', level %d",
                      forced, core, ya_cpu_blas_core_level(core));
        char msg[512];
        CHECK(ya_cpu_blas_kernel_warning(forced, core, cpu, msg, sizeof msg) == 0);
    }
    TEST_MAIN_END();
}

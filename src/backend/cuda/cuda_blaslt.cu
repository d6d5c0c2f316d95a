/* cuda_blaslt.cu — loads cuBLASLt on first use (cuda_blaslt.h). */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <type_traits>

#include "backend/cuda/cuda_blaslt.h"

/* The table's types are checked against cublasLt.h's own declarations (nothing is linked:
 * decltype only), so a pointer loaded by name can never be called with a wrong signature. */
static_assert(std::is_same<decltype(&cublasLtCreate), decltype(YaBlasLt::Create)>::value, "YaBlasLt::Create must match cublasLtCreate");
static_assert(std::is_same<decltype(&cublasLtDestroy), decltype(YaBlasLt::Destroy)>::value, "YaBlasLt::Destroy must match cublasLtDestroy");
static_assert(std::is_same<decltype(&cublasLtGetStatusName), decltype(YaBlasLt::GetStatusName)>::value, "YaBlasLt::GetStatusName must match cublasLtGetStatusName");
static_assert(std::is_same<decltype(&cublasLtGetStatusString), decltype(YaBlasLt::GetStatusString)>::value, "YaBlasLt::GetStatusString must match cublasLtGetStatusString");
static_assert(std::is_same<decltype(&cublasLtMatmulDescCreate), decltype(YaBlasLt::MatmulDescCreate)>::value, "YaBlasLt::MatmulDescCreate must match cublasLtMatmulDescCreate");
static_assert(std::is_same<decltype(&cublasLtMatmulDescDestroy), decltype(YaBlasLt::MatmulDescDestroy)>::value, "YaBlasLt::MatmulDescDestroy must match cublasLtMatmulDescDestroy");
static_assert(std::is_same<decltype(&cublasLtMatmulDescSetAttribute), decltype(YaBlasLt::MatmulDescSetAttribute)>::value, "YaBlasLt::MatmulDescSetAttribute must match cublasLtMatmulDescSetAttribute");
static_assert(std::is_same<decltype(&cublasLtMatrixLayoutCreate), decltype(YaBlasLt::MatrixLayoutCreate)>::value, "YaBlasLt::MatrixLayoutCreate must match cublasLtMatrixLayoutCreate");
static_assert(std::is_same<decltype(&cublasLtMatrixLayoutDestroy), decltype(YaBlasLt::MatrixLayoutDestroy)>::value, "YaBlasLt::MatrixLayoutDestroy must match cublasLtMatrixLayoutDestroy");
static_assert(std::is_same<decltype(&cublasLtMatmulPreferenceCreate), decltype(YaBlasLt::MatmulPreferenceCreate)>::value, "YaBlasLt::MatmulPreferenceCreate must match cublasLtMatmulPreferenceCreate");
static_assert(std::is_same<decltype(&cublasLtMatmulPreferenceDestroy), decltype(YaBlasLt::MatmulPreferenceDestroy)>::value, "YaBlasLt::MatmulPreferenceDestroy must match cublasLtMatmulPreferenceDestroy");
static_assert(std::is_same<decltype(&cublasLtMatmulPreferenceSetAttribute), decltype(YaBlasLt::MatmulPreferenceSetAttribute)>::value, "YaBlasLt::MatmulPreferenceSetAttribute must match cublasLtMatmulPreferenceSetAttribute");
static_assert(std::is_same<decltype(&cublasLtMatmulAlgoGetHeuristic), decltype(YaBlasLt::MatmulAlgoGetHeuristic)>::value, "YaBlasLt::MatmulAlgoGetHeuristic must match cublasLtMatmulAlgoGetHeuristic");
static_assert(std::is_same<decltype(&cublasLtMatmul), decltype(YaBlasLt::Matmul)>::value, "YaBlasLt::Matmul must match cublasLtMatmul");

namespace {

struct Loaded {
    YaBlasLt api;
    int ok;
    char why[512];
};

/* The soname of the cuBLASLt this backend was compiled against (CUBLAS_VER_MAJOR). */
#define YA_STR2(x) #x
#define YA_STR(x) YA_STR2(x)
const char *const k_sonames[] = {"libcublasLt.so." YA_STR(CUBLAS_VER_MAJOR), "libcublasLt.so"};

Loaded load() {
    Loaded r = {};
    void *h = NULL;
    for (const char *name : k_sonames)
        if ((h = dlopen(name, RTLD_NOW | RTLD_LOCAL))) break;
#ifdef YA_CUDA_LIBRARY_DIR
    if (!h) { /* not on the loader's path: the toolkit directory the build found (CMake's CUDAToolkit_LIBRARY_DIR) */
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", YA_CUDA_LIBRARY_DIR, k_sonames[0]);
        h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    }
#endif
    if (!h) {
        const char *e = dlerror();
        snprintf(r.why, sizeof r.why, "cannot load %s (cuBLASLt, from the CUDA toolkit): %s", k_sonames[0],
                 e ? e : "not found");
        return r;
    }
#define YA_SYM(field, name)                                                                                        \
    do {                                                                                                           \
        void *p_ = dlsym(h, name);                                                                                 \
        if (!p_) {                                                                                                 \
            snprintf(r.why, sizeof r.why, "%s has no symbol %s", k_sonames[0], name);                            \
            return r;                                                                                              \
        }                                                                                                          \
        memcpy(&r.api.field, &p_, sizeof p_);                                                                      \
    } while (0)
    YA_SYM(Create, "cublasLtCreate");
    YA_SYM(Destroy, "cublasLtDestroy");
    YA_SYM(GetStatusName, "cublasLtGetStatusName");
    YA_SYM(GetStatusString, "cublasLtGetStatusString");
    YA_SYM(MatmulDescCreate, "cublasLtMatmulDescCreate");
    YA_SYM(MatmulDescDestroy, "cublasLtMatmulDescDestroy");
    YA_SYM(MatmulDescSetAttribute, "cublasLtMatmulDescSetAttribute");
    YA_SYM(MatrixLayoutCreate, "cublasLtMatrixLayoutCreate");
    YA_SYM(MatrixLayoutDestroy, "cublasLtMatrixLayoutDestroy");
    YA_SYM(MatmulPreferenceCreate, "cublasLtMatmulPreferenceCreate");
    YA_SYM(MatmulPreferenceDestroy, "cublasLtMatmulPreferenceDestroy");
    YA_SYM(MatmulPreferenceSetAttribute, "cublasLtMatmulPreferenceSetAttribute");
    YA_SYM(MatmulAlgoGetHeuristic, "cublasLtMatmulAlgoGetHeuristic");
    YA_SYM(Matmul, "cublasLtMatmul");
#undef YA_SYM
    r.ok = 1; /* the handle stays open for the life of the process */
    return r;
}

} // namespace

const YaBlasLt *ya_blaslt_load(char *why, size_t cap) {
    static const Loaded loaded = load(); /* C++ guarantees one thread-safe initialisation */
    if (loaded.ok) return &loaded.api;
    if (why && cap) snprintf(why, cap, "%s", loaded.why);
    return NULL;
}

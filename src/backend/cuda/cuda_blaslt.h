/* cuda_blaslt.h — cuBLASLt, loaded with dlopen the first time a CUDA context
 * is created. Why: merely loading libcublasLt costs every process ~200 MB of
 * resident memory and tens of milliseconds (its relocations and static
 * initialisers), and most `your_ai` commands never touch a GPU. The table
 * holds the 14 entry points the backend calls, with cuBLASLt's own
 * signatures; call sites read `ctx->lt_api->Matmul(...)`. (C++ only.) */
#ifndef YOUR_AI_CUDA_BLASLT_H
#define YOUR_AI_CUDA_BLASLT_H

#include <stddef.h>

#include <cublasLt.h>

typedef struct YaBlasLt {
    cublasStatus_t (*Create)(cublasLtHandle_t *);
    cublasStatus_t (*Destroy)(cublasLtHandle_t);
    const char *(*GetStatusName)(cublasStatus_t);
    const char *(*GetStatusString)(cublasStatus_t);
    cublasStatus_t (*MatmulDescCreate)(cublasLtMatmulDesc_t *, cublasComputeType_t, cudaDataType_t);
    cublasStatus_t (*MatmulDescDestroy)(cublasLtMatmulDesc_t);
    cublasStatus_t (*MatmulDescSetAttribute)(cublasLtMatmulDesc_t, cublasLtMatmulDescAttributes_t, const void *, size_t);
    cublasStatus_t (*MatrixLayoutCreate)(cublasLtMatrixLayout_t *, cudaDataType, uint64_t, uint64_t, int64_t);
    cublasStatus_t (*MatrixLayoutDestroy)(cublasLtMatrixLayout_t);
    cublasStatus_t (*MatmulPreferenceCreate)(cublasLtMatmulPreference_t *);
    cublasStatus_t (*MatmulPreferenceDestroy)(cublasLtMatmulPreference_t);
    cublasStatus_t (*MatmulPreferenceSetAttribute)(cublasLtMatmulPreference_t, cublasLtMatmulPreferenceAttributes_t,
                                                   const void *, size_t);
    cublasStatus_t (*MatmulAlgoGetHeuristic)(cublasLtHandle_t, cublasLtMatmulDesc_t, cublasLtMatrixLayout_t,
                                             cublasLtMatrixLayout_t, cublasLtMatrixLayout_t, cublasLtMatrixLayout_t,
                                             cublasLtMatmulPreference_t, int, cublasLtMatmulHeuristicResult_t *, int *);
    cublasStatus_t (*Matmul)(cublasLtHandle_t, cublasLtMatmulDesc_t, const void *, const void *,
                             cublasLtMatrixLayout_t, const void *, cublasLtMatrixLayout_t, const void *, const void *,
                             cublasLtMatrixLayout_t, void *, cublasLtMatrixLayout_t, const cublasLtMatmulAlgo_t *,
                             void *, size_t, cudaStream_t);
} YaBlasLt;

/* The table, loaded once per process (thread-safe); NULL when the library or
 * one of its symbols cannot be loaded, with the reason in `why`. */
const YaBlasLt *ya_blaslt_load(char *why, size_t cap);

#endif

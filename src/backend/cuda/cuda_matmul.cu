/* cuda_matmul.cu — linear layers through cuBLASLt, forward and backward
 * (the CUDA twin of cpu_matmul.c + cpu_matmul_backward.c).
 *
 * Row-major y[M,N] = x[M,K]·W[N,K]ᵀ is, seen column-major, yᵀ[N,M] = W·xᵀ:
 * cuBLASLt runs (m, n, k) = (N, M, K) with op(A = W) = T, op(B = x) = N, so
 * no operand is ever transposed in memory. bf16 operands accumulate in fp32
 * (CUBLAS_COMPUTE_32F); the fp32 path uses the same compute type, which never
 * drops to TF32. The bias rides on the GEMM as the BIAS epilogue. */
#include <stdint.h>

#include "backend/cuda/cuda_internal.h"

/* Largest power of two (≤ 256) dividing the address: what cuBLASLt may assume. */
static uint32_t ptr_alignment(const void *p) {
    uintptr_t a = (uintptr_t)p;
    uint32_t al = 256;
    while (al > 1 && a % al) al >>= 1;
    return al;
}

static int cuda_type(YaDtype dt, cudaDataType_t *out) {
    if (dt == YA_DTYPE_BF16) *out = CUDA_R_16BF;
    else if (dt == YA_DTYPE_F32) *out = CUDA_R_32F;
    else return 0;
    return 1;
}

/* ya_cuda_gemm: see cuda_internal.h. */
void ya_cuda_gemm(YaCudaCtx *ctx, const char *what, cublasOperation_t opA, cublasOperation_t opB, int m, int n,
                    int k, const void *A, cudaDataType_t at, int lda, const void *B, cudaDataType_t bt, int ldb,
                    void *C, cudaDataType_t ct, int ldc, float beta, const void *bias) {
    if (ctx->failed) return;
    cublasLtMatmulDesc_t op = NULL;
    cublasLtMatrixLayout_t la = NULL, lb = NULL, lc = NULL;
    cublasLtMatmulPreference_t pref = NULL;
    const float alpha = 1.0f;
    int ok = CUBLAS_CHECK(ctx, ctx->lt_api->MatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F)) &&
             CUBLAS_CHECK(ctx, ctx->lt_api->MatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &opA, sizeof opA)) &&
             CUBLAS_CHECK(ctx, ctx->lt_api->MatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &opB, sizeof opB));
    if (ok && bias) {
        cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
        ok = CUBLAS_CHECK(ctx, ctx->lt_api->MatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi)) &&
             CUBLAS_CHECK(ctx,
                          ctx->lt_api->MatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
    }
    ok = ok &&
         CUBLAS_CHECK(ctx, ctx->lt_api->MatrixLayoutCreate(&la, at, opA == CUBLAS_OP_N ? m : k, opA == CUBLAS_OP_N ? k : m,
                                                      lda)) &&
         CUBLAS_CHECK(ctx, ctx->lt_api->MatrixLayoutCreate(&lb, bt, opB == CUBLAS_OP_N ? k : n, opB == CUBLAS_OP_N ? n : k,
                                                      ldb)) &&
         CUBLAS_CHECK(ctx, ctx->lt_api->MatrixLayoutCreate(&lc, ct, m, n, ldc));
    cublasLtMatmulHeuristicResult_t heur;
    int n_found = 0;
    uint32_t al_a = ptr_alignment(A), al_b = ptr_alignment(B), al_c = ptr_alignment(C);
    YaGemmPlan key = {(int)opA, (int)opB, m, n, k, lda, ldb, ldc, (int)at, (int)bt, (int)ct, bias != NULL,
                      beta != 0.0f, al_a, al_b, al_c, {}};
    const YaGemmPlan *plan = NULL;
    for (int i = 0; i < ctx->n_gemm_plans && !plan; i++) {
        const YaGemmPlan *p = &ctx->gemm_plans[i];
        if (p->opA == key.opA && p->opB == key.opB && p->m == m && p->n == n && p->k == k && p->lda == lda &&
            p->ldb == ldb && p->ldc == ldc && p->at == key.at && p->bt == key.bt && p->ct == key.ct &&
            p->has_bias == key.has_bias && p->beta_nonzero == key.beta_nonzero && p->al_a == al_a &&
            p->al_b == al_b && p->al_c == al_c)
            plan = p;
    }
    if (ok && plan) {
        heur.algo = plan->algo;
        n_found = 1;
    } else if (ok) {
        ok = CUBLAS_CHECK(ctx, ctx->lt_api->MatmulPreferenceCreate(&pref)) &&
             CUBLAS_CHECK(ctx, ctx->lt_api->MatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                                    &ctx->lt_workspace_bytes,
                                                                    sizeof ctx->lt_workspace_bytes)) &&
             CUBLAS_CHECK(ctx, ctx->lt_api->MatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
                                                                    &al_a, sizeof al_a)) &&
             CUBLAS_CHECK(ctx, ctx->lt_api->MatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                                                                    &al_b, sizeof al_b)) &&
             CUBLAS_CHECK(ctx, ctx->lt_api->MatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
                                                                    &al_c, sizeof al_c)) &&
             CUBLAS_CHECK(ctx, ctx->lt_api->MatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES,
                                                                    &al_c, sizeof al_c));
        ok = ok && CUBLAS_CHECK(ctx, ctx->lt_api->MatmulAlgoGetHeuristic(ctx->lt, op, la, lb, lc, lc, pref, 1, &heur,
                                                                    &n_found));
        if (ok && n_found == 0) {
            ya_cuda_fail(ctx, "%s: cuBLASLt has no algorithm for m=%d n=%d k=%d (lda %d, ldb %d, ldc %d)", what, m, n,
                         k, lda, ldb, ldc);
            ok = 0;
        }
        if (ok && ctx->n_gemm_plans < YA_GEMM_PLANS) {
            key.algo = heur.algo;
            ctx->gemm_plans[ctx->n_gemm_plans++] = key;
        }
    }
    if (ok)
        CUBLAS_CHECK(ctx, ctx->lt_api->Matmul(ctx->lt, op, &alpha, A, la, B, lb, &beta, C, lc, C, lc, &heur.algo,
                                         ctx->lt_workspace, ctx->lt_workspace_bytes, ctx->stream));
    if (pref) ctx->lt_api->MatmulPreferenceDestroy(pref);
    if (lc) ctx->lt_api->MatrixLayoutDestroy(lc);
    if (lb) ctx->lt_api->MatrixLayoutDestroy(lb);
    if (la) ctx->lt_api->MatrixLayoutDestroy(la);
    if (op) ctx->lt_api->MatmulDescDestroy(op);
}

extern "C" void ya_cuda_linear(YaCudaCtx *ctx, void *y, const void *x, const void *w, const void *b, YaDtype dt,
                               int M, int K, int N, int accumulate) {
    cudaDataType_t t;
    if (ctx->failed || M <= 0 || N <= 0) return;
    if (!cuda_type(dt, &t)) {
        ya_cuda_fail(ctx, "cuda linear: unsupported dtype %s (BF16 or F32)", ya_dtype_name(dt));
        return;
    }
    ya_cuda_gemm(ctx, "cuda linear", CUBLAS_OP_T, CUBLAS_OP_N, N, M, K, w, t, K, x, t, K, y, t, N,
            accumulate ? 1.0f : 0.0f, b);
}

/* db [N] += Σ_m dy[m, :], each column's rows summed in order (fp32): one
 * thread per column, so the result is independent of the launch shape. */
template <typename T>
__global__ void bias_grad_kernel(float *db, const T *dy, int M, int N) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= N) return;
    float acc = 0.0f;
    for (int m = 0; m < M; m++) acc += (float)dy[(size_t)m * N + c];
    db[c] += acc;
}

extern "C" void ya_cuda_linear_backward(YaCudaCtx *ctx, void *dx, float *dw, float *db, const void *dy, const void *x,
                                        const void *w, YaDtype dt, int M, int K, int N) {
    cudaDataType_t t;
    if (ctx->failed || M <= 0) return;
    if (!cuda_type(dt, &t)) {
        ya_cuda_fail(ctx, "cuda linear_backward: unsupported dtype %s (BF16 or F32)", ya_dtype_name(dt));
        return;
    }
    /* dxᵀ[K,M] += Wᵀ[K,N]·dyᵀ[N,M]: W row-major [N,K] is column-major K×N (op N); dy is N×M (op N). */
    if (dx) ya_cuda_gemm(ctx, "cuda linear_backward dx", CUBLAS_OP_N, CUBLAS_OP_N, K, M, N, w, t, K, dy, t, N, dx, t, K, 1.0f, NULL);
    /* dWᵀ[K,N] += xᵀ[K,M]·dy[M,N]: x is column-major K×M (op N); dy is N×M, transposed. dW fp32. */
    if (dw)
        ya_cuda_gemm(ctx, "cuda linear_backward dw", CUBLAS_OP_N, CUBLAS_OP_T, K, N, M, x, t, K, dy, t, N, dw, CUDA_R_32F, K,
                1.0f, NULL);
    if (db && !ctx->failed) {
        unsigned threads = 256, blocks = (unsigned)((N + threads - 1) / threads);
        if (dt == YA_DTYPE_BF16)
            bias_grad_kernel<<<blocks, threads, 0, ctx->stream>>>(db, (const __nv_bfloat16 *)dy, M, N);
        else
            bias_grad_kernel<<<blocks, threads, 0, ctx->stream>>>(db, (const float *)dy, M, N);
        CUDA_CHECK_LAUNCH(ctx);
    }
}

/* cuda_runtime.cu — device discovery, the per-device context (stream,
 * cuBLASLt handle + workspace, a device arena sized once), error recording
 * with file:line, and host↔device copies. See cuda_runtime.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cuda/cuda_internal.h"

/* cuBLASLt workspace: 32 MiB is what NVIDIA recommends for Hopper. */
static const size_t k_lt_workspace_bytes = (size_t)32 << 20;
static const size_t k_arena_align = 256;

/* "12.50 GiB (13421772800 bytes)" */
static void format_bytes(char *buf, size_t cap, size_t bytes) {
    snprintf(buf, cap, "%.2f GiB (%zu bytes)", (double)bytes / (1024.0 * 1024.0 * 1024.0), bytes);
}

static const char *k_oom_hint = "try --recompute (activation recomputation), a smaller --batch-size or a shorter "
                                "--max-seq-len";

extern "C" void ya_cuda_fail(YaCudaCtx *ctx, const char *fmt, ...) {
    if (ctx->failed) return; /* the first error is the cause; later ones are consequences */
    ctx->failed = 1;
    ctx->err.code = YA_ERR;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err.message, sizeof ctx->err.message, fmt, ap);
    va_end(ap);
}

extern "C" int ya_cuda_failed(const YaCudaCtx *ctx) { return ctx->failed; }

int ya_cuda_record_rt(YaCudaCtx *ctx, cudaError_t st, const char *call, const char *file, int line) {
    if (st == cudaSuccess) return 1;
    if (st == cudaErrorMemoryAllocation) {
        size_t free_b = 0, total_b = 0;
        cudaMemGetInfo(&free_b, &total_b);
        char fb[64], tb[64];
        format_bytes(fb, sizeof fb, free_b);
        format_bytes(tb, sizeof tb, total_b);
        ya_cuda_fail(ctx, "%s:%d: %s: CUDA out of memory on device %d (%s): %s free of %s; %s", file, line, call,
                     ctx->info.index, ctx->info.name, fb, tb, k_oom_hint);
    } else {
        ya_cuda_fail(ctx, "%s:%d: %s failed: %s (%s)", file, line, call, cudaGetErrorString(st), cudaGetErrorName(st));
    }
    return 0;
}

int ya_cuda_record_blas(YaCudaCtx *ctx, cublasStatus_t st, const char *call, const char *file, int line) {
    if (st == CUBLAS_STATUS_SUCCESS) return 1;
    ya_cuda_fail(ctx, "%s:%d: %s failed: %s (%s)", file, line, call, ctx->lt_api->GetStatusString(st),
                 ctx->lt_api->GetStatusName(st));
    return 0;
}

extern "C" int ya_cuda_device_count(int *n, YaError *err) {
    *n = 0;
    cudaError_t st = cudaGetDeviceCount(n);
    const char *vis = getenv("CUDA_VISIBLE_DEVICES");
    char why[160] = "";
    if (vis) snprintf(why, sizeof why, " (CUDA_VISIBLE_DEVICES='%s')", vis);
    if (st != cudaSuccess) {
        *n = 0;
        cudaGetLastError(); /* clear the runtime's sticky status so later calls start clean */
        const char *hint = "";
        if (st == cudaErrorInsufficientDriver)
            hint = "; no NVIDIA driver is loaded, or it is older than the CUDA runtime this binary was built with";
        return ya_fail(err, YA_ERR, "no CUDA device: %s [%s]%s%s", cudaGetErrorString(st), cudaGetErrorName(st), hint,
                       why);
    }
    if (*n == 0) return ya_fail(err, YA_ERR, "no CUDA device: the driver reports 0 devices%s", why);
    return YA_OK;
}

extern "C" void ya_cuda_versions(int *runtime, int *driver) {
    *runtime = *driver = 0;
    if (cudaRuntimeGetVersion(runtime) != cudaSuccess) *runtime = 0;
    if (cudaDriverGetVersion(driver) != cudaSuccess) *driver = 0;
}

extern "C" int ya_cuda_device_info(int index, YaCudaDeviceInfo *info, YaError *err) {
    memset(info, 0, sizeof *info);
    cudaDeviceProp prop;
    cudaError_t st = cudaGetDeviceProperties(&prop, index);
    if (st != cudaSuccess)
        return ya_fail(err, YA_ERR, "CUDA device %d: cudaGetDeviceProperties failed: %s", index,
                       cudaGetErrorString(st));
    info->index = index;
    snprintf(info->name, sizeof info->name, "%s", prop.name);
    info->cc_major = prop.major;
    info->cc_minor = prop.minor;
    info->sm_count = prop.multiProcessorCount;
    info->total_bytes = prop.totalGlobalMem;
    int prev = 0;
    cudaGetDevice(&prev);
    if ((st = cudaSetDevice(index)) != cudaSuccess || (st = cudaMemGetInfo(&info->free_bytes, &info->total_bytes)) != cudaSuccess)
        return ya_fail(err, YA_ERR, "CUDA device %d (%s): cannot open it: %s", index, info->name,
                       cudaGetErrorString(st));
    cudaSetDevice(prev);
    return YA_OK;
}

extern "C" int ya_cuda_create(YaCudaCtx **out, int device, size_t arena_bytes, YaError *err) {
    *out = NULL;
    int n = 0;
    if (ya_cuda_device_count(&n, err)) return err ? err->code : YA_ERR;
    if (device < 0) device = 0;
    if (device >= n)
        return ya_fail(err, YA_ERR_USAGE, "CUDA device %d does not exist (%d visible: 0..%d)", device, n, n - 1);
    YaCudaCtx *ctx = (YaCudaCtx *)calloc(1, sizeof *ctx);
    if (!ctx) return ya_fail(err, YA_ERR, "out of host memory for the CUDA context");
    int rc = ya_cuda_device_info(device, &ctx->info, err);
    if (rc) {
        free(ctx);
        return rc;
    }
    if (ctx->info.cc_major < 8) {
        rc = ya_fail(err, YA_ERR,
                     "CUDA device %d (%s) has compute capability %d.%d; the CUDA backend needs 8.0 or newer (bf16 "
                     "tensor cores); use --device cpu",
                     device, ctx->info.name, ctx->info.cc_major, ctx->info.cc_minor);
        free(ctx);
        return rc;
    }
    char why[512];
    if (!(ctx->lt_api = ya_blaslt_load(why, sizeof why))) {
        rc = ya_fail(err, YA_ERR, "CUDA device %d (%s): %s", device, ctx->info.name, why);
        free(ctx);
        return rc;
    }
    if (CUDA_CHECK(ctx, cudaSetDevice(device)) && CUDA_CHECK(ctx, cudaStreamCreateWithFlags(&ctx->stream, cudaStreamNonBlocking)) &&
        CUBLAS_CHECK(ctx, ctx->lt_api->Create(&ctx->lt)) &&
        CUDA_CHECK(ctx, cudaMalloc(&ctx->lt_workspace, k_lt_workspace_bytes)) &&
        CUDA_CHECK(ctx, cudaMalloc((void **)&ctx->norm_partials, (YA_CUDA_NORM_CHUNKS + 1) * sizeof(double)))) {
        ctx->lt_workspace_bytes = k_lt_workspace_bytes;
        if (arena_bytes) {
            size_t free_b = 0, total_b = 0;
            cudaMemGetInfo(&free_b, &total_b);
            cudaError_t st = cudaMalloc((void **)&ctx->arena, arena_bytes);
            if (st != cudaSuccess) {
                cudaGetLastError();
                char ab[64], fb[64], tb[64];
                format_bytes(ab, sizeof ab, arena_bytes);
                format_bytes(fb, sizeof fb, free_b);
                format_bytes(tb, sizeof tb, total_b);
                ya_cuda_fail(ctx,
                             "CUDA out of memory on device %d (%s): the device arena asked for %s but only %s are "
                             "free of %s (%s); %s",
                             device, ctx->info.name, ab, fb, tb, cudaGetErrorName(st), k_oom_hint);
                ctx->arena = NULL;
            } else {
                ctx->arena_bytes = arena_bytes;
            }
        }
    }
    if (ctx->failed) {
        if (err) *err = ctx->err;
        rc = ctx->err.code;
        ya_cuda_destroy(ctx);
        return rc;
    }
    *out = ctx;
    return YA_OK;
}

extern "C" void ya_cuda_destroy(YaCudaCtx *ctx) {
    if (!ctx) return;
    if (ctx->stream) cudaStreamSynchronize(ctx->stream);
    cudaFree(ctx->arena);
    cudaFree(ctx->norm_partials);
    cudaFree(ctx->lt_workspace);
    if (ctx->lt) ctx->lt_api->Destroy(ctx->lt);
    if (ctx->stream) cudaStreamDestroy(ctx->stream);
    free(ctx);
}

extern "C" const YaCudaDeviceInfo *ya_cuda_info(const YaCudaCtx *ctx) { return &ctx->info; }

extern "C" void *ya_cuda_alloc(YaCudaCtx *ctx, size_t bytes, const char *what, YaError *err) {
    size_t start = (ctx->arena_used + k_arena_align - 1) / k_arena_align * k_arena_align;
    if (!ctx->arena || bytes > ctx->arena_bytes || start > ctx->arena_bytes - bytes) {
        char nb[64], lb[64], ab[64];
        format_bytes(nb, sizeof nb, bytes);
        format_bytes(lb, sizeof lb, ctx->arena_bytes - (start < ctx->arena_bytes ? start : ctx->arena_bytes));
        format_bytes(ab, sizeof ab, ctx->arena_bytes);
        ya_cuda_fail(ctx, "CUDA device arena exhausted on device %d (%s): '%s' asked for %s but only %s of the %s arena "
                     "are left; %s",
                     ctx->info.index, ctx->info.name, what ? what : "buffer", nb, lb, ab, k_oom_hint);
        if (err) *err = ctx->err;
        return NULL;
    }
    ctx->arena_used = start + bytes;
    return ctx->arena + start;
}

extern "C" size_t ya_cuda_mark(const YaCudaCtx *ctx) { return ctx->arena_used; }
extern "C" void ya_cuda_release(YaCudaCtx *ctx, size_t mark) {
    if (mark <= ctx->arena_used) ctx->arena_used = mark;
}
extern "C" size_t ya_cuda_arena_used(const YaCudaCtx *ctx) { return ctx->arena_used; }
extern "C" size_t ya_cuda_arena_size(const YaCudaCtx *ctx) { return ctx->arena_bytes; }

extern "C" void ya_cuda_upload(YaCudaCtx *ctx, void *dst_dev, const void *src_host, size_t bytes) {
    if (ctx->failed || !bytes) return;
    CUDA_CHECK(ctx, cudaMemcpyAsync(dst_dev, src_host, bytes, cudaMemcpyHostToDevice, ctx->stream));
}

extern "C" void ya_cuda_download(YaCudaCtx *ctx, void *dst_host, const void *src_dev, size_t bytes) {
    if (ctx->failed || !bytes) return;
    /* Pageable host memory: the copy is synchronous w.r.t. the host once it returns after the sync below. */
    if (CUDA_CHECK(ctx, cudaMemcpyAsync(dst_host, src_dev, bytes, cudaMemcpyDeviceToHost, ctx->stream)))
        CUDA_CHECK(ctx, cudaStreamSynchronize(ctx->stream));
}

extern "C" void ya_cuda_memset0(YaCudaCtx *ctx, void *dst_dev, size_t bytes) {
    if (ctx->failed || !bytes) return;
    CUDA_CHECK(ctx, cudaMemsetAsync(dst_dev, 0, bytes, ctx->stream));
}

extern "C" void ya_cuda_copy(YaCudaCtx *ctx, void *dst_dev, const void *src_dev, size_t bytes) {
    if (ctx->failed || !bytes) return;
    CUDA_CHECK(ctx, cudaMemcpyAsync(dst_dev, src_dev, bytes, cudaMemcpyDeviceToDevice, ctx->stream));
}

extern "C" int ya_cuda_sync(YaCudaCtx *ctx, YaError *err) {
    if (!ctx->failed) CUDA_CHECK(ctx, cudaStreamSynchronize(ctx->stream));
    if (!ctx->failed) CUDA_CHECK_LAUNCH(ctx);
    if (!ctx->failed) return YA_OK;
    if (err) *err = ctx->err;
    int rc = ctx->err.code;
    ctx->failed = 0;
    ya_error_clear(&ctx->err);
    return rc;
}

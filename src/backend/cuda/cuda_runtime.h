/* cuda_runtime.h — the CUDA backend's device layer, callable from C: device
 * discovery (`your_ai devices`), the per-device context every CUDA op takes
 * (stream, cuBLASLt handle + workspace, a device arena sized once, a sticky
 * error), and host↔device copies.
 *
 * Errors are values: every failure becomes a YaError naming the CUDA call,
 * file:line and what was asked for. Ops keep the CPU table's void signatures,
 * so a failing launch is recorded in the context (the first error wins, later
 * ops become no-ops) and surfaces at the next ya_cuda_sync(); see docs/CUDA.md. */
#ifndef YOUR_AI_CUDA_RUNTIME_H
#define YOUR_AI_CUDA_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" { /* the project's C headers carry no C++ guards of their own */
#endif

#include "your_ai/error.h"

/* bf16 bit pattern as host code sees it (device code reinterprets it as __nv_bfloat16). */
typedef uint16_t YaBf16;

typedef struct YaCudaDeviceInfo {
    int index;
    char name[256];
    int cc_major, cc_minor; /* compute capability */
    int sm_count;
    size_t total_bytes, free_bytes; /* cudaMemGetInfo */
} YaCudaDeviceInfo;

/* Number of visible devices; 0 devices is an error "no CUDA device: <reason>"
 * (driver missing, CUDA_VISIBLE_DEVICES hides all, …) with status YA_ERR. */
int ya_cuda_device_count(int *n, YaError *err);
/* Name, compute capability and memory of device `index` (creates its primary context). */
int ya_cuda_device_info(int index, YaCudaDeviceInfo *info, YaError *err);

/* CUDA runtime and driver versions as 1000·major + 10·minor (0 when unknown). */
void ya_cuda_versions(int *runtime, int *driver);

typedef struct YaCudaCtx YaCudaCtx;

/* Opens device `device` (< 0: device 0), creates a stream, a cuBLASLt handle
 * with its workspace, and one device arena of arena_bytes (cudaMalloc'd once;
 * 0 = no arena). Fails with a clear message when there is no GPU, the device
 * is older than compute capability 8.0 (no bf16 tensor cores), or the arena
 * does not fit (bytes asked, bytes free, a suggestion). */
int ya_cuda_create(YaCudaCtx **out, int device, size_t arena_bytes, YaError *err);
void ya_cuda_destroy(YaCudaCtx *ctx);
const YaCudaDeviceInfo *ya_cuda_info(const YaCudaCtx *ctx);

/* Bump allocation from the arena, 256-byte aligned. `what` names the buffer in
 * the out-of-memory message. NULL (with err set and the context's error
 * recorded) when the arena is exhausted. */
void *ya_cuda_alloc(YaCudaCtx *ctx, size_t bytes, const char *what, YaError *err);
/* Arena marks: everything allocated after `mark` is released by ya_cuda_release(mark). */
size_t ya_cuda_mark(const YaCudaCtx *ctx);
void ya_cuda_release(YaCudaCtx *ctx, size_t mark);
size_t ya_cuda_arena_used(const YaCudaCtx *ctx);
size_t ya_cuda_arena_size(const YaCudaCtx *ctx);

/* Asynchronous copies/fills on the context's stream (errors recorded in the context). */
void ya_cuda_upload(YaCudaCtx *ctx, void *dst_dev, const void *src_host, size_t bytes);
void ya_cuda_download(YaCudaCtx *ctx, void *dst_host, const void *src_dev, size_t bytes);
void ya_cuda_memset0(YaCudaCtx *ctx, void *dst_dev, size_t bytes);
void ya_cuda_copy(YaCudaCtx *ctx, void *dst_dev, const void *src_dev, size_t bytes); /* device → device */

/* Waits for the stream and returns the first error recorded since the last
 * call (clearing it), or YA_OK. */
int ya_cuda_sync(YaCudaCtx *ctx, YaError *err);

/* Records an error in the context (first one wins). Used by the ops for
 * argument errors (e.g. an unsupported dtype) that the void signatures cannot return. */
void ya_cuda_fail(YaCudaCtx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Nonzero while an error is pending: ops skip their work. */
int ya_cuda_failed(const YaCudaCtx *ctx);

#ifdef __cplusplus
}
#endif

#endif

/* device.c — `--device cpu|cuda|auto` resolution (device.h). */
#include <string.h>

#include "your_ai/device.h"
#include "your_ai/log.h"

#ifdef YA_HAVE_CUDA
#include "backend/cuda/cuda_runtime.h"
#endif

const char *ya_device_name(YaDevice d) { return d == YA_DEVICE_CUDA ? "cuda" : "cpu"; }

int ya_device_resolve(const char *name, YaDevice *out, YaError *err) {
    *out = YA_DEVICE_CPU;
    if (!strcmp(name, "cpu")) return YA_OK;
    if (strcmp(name, "cuda") && strcmp(name, "auto"))
        return ya_fail(err, YA_ERR_USAGE, "--device: unknown value '%s' (expected cpu, cuda or auto)", name);
    int want_cuda = !strcmp(name, "cuda");
#ifdef YA_HAVE_CUDA
    int n = 0;
    YaError probe = {0};
    if (ya_cuda_device_count(&n, &probe) == YA_OK && n > 0) {
        *out = YA_DEVICE_CUDA;
        return YA_OK;
    }
    if (want_cuda) return ya_fail(err, YA_ERR, "--device cuda: %s", probe.message);
    ya_info("--device auto: no usable GPU (%s); using the CPU", probe.message);
    return YA_OK;
#else
    if (want_cuda)
        return ya_fail(err, YA_ERR, "--device cuda: this build has no CUDA backend (nvcc was not found when it was configured)");
    return YA_OK;
#endif
}

/* cmd_devices.c — `your_ai devices`: lists the CUDA devices this binary can
 * use (name, compute capability, memory), or says why there are none. */
#include <stdio.h>

#include "cli/cli.h"
#ifdef YA_HAVE_CUDA
#include "backend/cuda/cuda_runtime.h"
#endif

static const char k_usage[] =
    "Usage: your_ai devices\n"
    "\n"
    "Lists the CUDA devices the CUDA backend can use, one line each: index, name, compute\n"
    "capability, multiprocessors, total and free memory; then the CUDA runtime and driver versions.\n"
    "The CUDA backend needs compute capability 8.0 or newer (bf16 tensor cores); this binary's\n"
    "kernels are built for the architectures in CMAKE_CUDA_ARCHITECTURES (default sm_90 + PTX).\n"
    "Devices are numbered as CUDA sees them: CUDA_VISIBLE_DEVICES selects and reorders them.\n"
    "\n"
    "No options.\n"
    "\n"
    "Exit codes: 0 at least one device listed; 1 no usable device (\"no CUDA device: <reason>\") or a\n"
    "binary built without the CUDA backend; 2 usage error.\n";

static int run_devices(int argc, char **argv) {
    for (int i = 1; i < argc; i++) return ya_cli_usage_error("devices", "unknown argument '%s'", argv[i]);
#ifdef YA_HAVE_CUDA
    YaError err = {0};
    int n = 0;
    if (ya_cuda_device_count(&n, &err)) return ya_cli_report("devices", &err);
    for (int d = 0; d < n; d++) {
        YaCudaDeviceInfo info;
        if (ya_cuda_device_info(d, &info, &err)) return ya_cli_report("devices", &err);
        printf("%d: %s, compute capability %d.%d, %d SMs, %.1f GiB total, %.1f GiB free%s\n", info.index, info.name,
               info.cc_major, info.cc_minor, info.sm_count, info.total_bytes / 1073741824.0,
               info.free_bytes / 1073741824.0, info.cc_major < 8 ? " (unsupported: needs 8.0+)" : "");
    }
    int rt = 0, drv = 0;
    ya_cuda_versions(&rt, &drv);
    printf("CUDA runtime %d.%d, driver %d.%d\n", rt / 1000, rt % 1000 / 10, drv / 1000, drv % 1000 / 10);
    return 0;
#else
    (void)argv;
    fprintf(stderr, "your_ai devices: error: this binary was built without CUDA (no nvcc at configure time; "
                    "reconfigure with -DYA_CUDA=ON on a machine with the CUDA toolkit)\n");
    return 1;
#endif
}

const YaCommand ya_cmd_devices = {
    .name = "devices",
    .summary = "list the CUDA devices (name, compute capability, memory)",
    .usage = k_usage,
    .order = 90,
    .run = run_devices,
};

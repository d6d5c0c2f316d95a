/* test_cuda_nogpu.c — without a visible GPU the CUDA backend fails with a
 * clear "no CUDA device: <reason>" error instead of crashing or hanging.
 * ctest runs it with CUDA_VISIBLE_DEVICES=-1, so it also holds on a GPU machine. */
#include <string.h>

#include "backend/cuda/cuda_runtime.h"
#include "test_util.h"

int main(void) {
    YaError err;
    int n = -1;
    int rc = ya_cuda_device_count(&n, &err);
    printf("device_count -> rc %d, n %d: %s\n", rc, n, rc ? err.message : "");
    CHECK(rc == YA_ERR);
    CHECK(n == 0);
    CHECK(strncmp(err.message, "no CUDA device: ", 16) == 0);

    YaCudaCtx *ctx = (YaCudaCtx *)0x1;
    rc = ya_cuda_create(&ctx, 0, (size_t)1 << 20, &err);
    printf("create -> rc %d: %s\n", rc, rc ? err.message : "");
    CHECK(rc == YA_ERR);
    CHECK(ctx == NULL);
    CHECK(strncmp(err.message, "no CUDA device: ", 16) == 0);
    TEST_MAIN_END();
}

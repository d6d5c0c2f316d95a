/* llamacpp_quantize.c — runs llama.cpp's own quantizer (llama_model_quantize,
 * what its llama-quantize tool calls) on a GGUF file, through a dlopen'ed
 * libllama.so (node-llama-cpp's prebuilt linux-x64 build; nothing is linked at
 * build time), so our K-quant export can be compared with what llama.cpp
 * writes from the same F32 weights.
 *   llamacpp_quantize LIBLLAMA.so IN.gguf OUT.gguf FTYPE
 * FTYPE is llama_ftype: 15 Q4_K_M, 17 Q5_K_M, 18 Q6_K, 7 Q8_0. One thread, no
 * importance matrix, defaults otherwise (as `llama-quantize IN OUT Q4_K_M`).
 * Exit 0 ok, 1 llama.cpp failed, 2 usage or the library did not load. */
#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The C ABI of llama_model_quantize_params in this llama.cpp release
 * (include/llama.h of the build node-llama-cpp 3.21.1 ships). */
typedef struct QuantizeParams {
    int32_t nthread;
    int ftype;
    int output_tensor_type;
    int token_embedding_type;
    bool allow_requantize, quantize_output_tensor, only_copy, pure, keep_split, dry_run;
    const void *imatrix, *kv_overrides, *tt_overrides;
    const int32_t *prune_layers;
    size_t max_buf_size;
} QuantizeParams;

typedef QuantizeParams (*DefaultParamsFn)(void);
typedef uint32_t (*QuantizeFn)(const char *in, const char *out, const QuantizeParams *params);
typedef void (*BackendInitFn)(void);

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: llamacpp_quantize LIBLLAMA.so IN.gguf OUT.gguf FTYPE\n");
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "llamacpp_quantize: dlopen %s: %s\n", argv[1], dlerror());
        return 2;
    }
    DefaultParamsFn defaults = (DefaultParamsFn)dlsym(lib, "llama_model_quantize_default_params");
    QuantizeFn quantize = (QuantizeFn)dlsym(lib, "llama_model_quantize");
    BackendInitFn backend_init = (BackendInitFn)dlsym(lib, "llama_backend_init");
    if (!defaults || !quantize || !backend_init) {
        fprintf(stderr, "llamacpp_quantize: %s lacks llama_model_quantize / _default_params / llama_backend_init\n", argv[1]);
        return 2;
    }
    backend_init();
    QuantizeParams p = defaults();
    p.ftype = atoi(argv[4]);
    p.nthread = 1;
    uint32_t rc = quantize(argv[2], argv[3], &p);
    if (rc) fprintf(stderr, "llamacpp_quantize: llama_model_quantize(%s) failed (%u)\n", argv[2], rc);
    return rc ? 1 : 0;
}

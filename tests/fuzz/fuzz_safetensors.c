/* fuzz_safetensors.c — libFuzzer target for the safetensors reader.
 * fuzz-libs: ya_base
 * fuzz-seeds: tests/fuzz/corpus/fuzz_safetensors
 *
 * Any input must either be rejected with a message or yield tensors whose
 * data ranges lie inside the input: we touch every byte of each float tensor
 * (through ya_to_f32, up to a size cap) so ASan flags any range we let through. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/log.h"
#include "your_ai/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ya_log_set_quiet(1);
    /* A private copy so ASan sees the exact extent of the input. */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    YaError err = {0};
    YaSafetensors *st = NULL;
    if (ya_st_open_memory(buf, size, "fuzz.safetensors", &st, &err) == YA_OK) {
        float scratch[4096]; // [4096] conversion target
        for (size_t i = 0; i < ya_st_count(st); i++) {
            const YaTensorInfo *t = ya_st_at(st, i);
            if (ya_st_find(st, t->name) == NULL) abort(); /* every listed tensor is findable */
            if ((const uint8_t *)t->data < buf || (const uint8_t *)t->data + t->nbytes > buf + size) abort();
            int64_t shape[YA_MAX_DIMS];
            memcpy(shape, t->shape, sizeof shape);
            if (ya_tensor_check(t, t->ndim, shape, &err) == YA_OK && t->numel > 0) {
                size_t n = t->numel < 4096 ? (size_t)t->numel : 4096;
                ya_to_f32(t->dtype, t->data, scratch, n);
                /* and the last element, wherever it is */
                ya_to_f32(t->dtype, (const uint8_t *)t->data + (t->numel - 1) * ya_dtype_size(t->dtype), scratch, 1);
            }
        }
        (void)ya_st_metadata(st, "format");
        ya_st_close(st);
    } else if (err.message[0] == '\0') {
        abort(); /* a rejection must explain itself */
    }
    free(buf);
    return 0;
}

/* gguf.h — GGUF v3 files (llama.cpp's model format, SPEC §10.3): a streaming
 * writer (key/value metadata, tensor infos, aligned data produced tensor by
 * tensor so a 7B export never holds more than one tensor) and a validating
 * reader (every length, count, dimension, type and offset is checked against
 * the file size before use; data pointers point into a private copy).
 * docs/FORMATS.md describes the layout. */
#ifndef YOUR_AI_GGUF_H
#define YOUR_AI_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "your_ai/error.h"

/* Metadata value types (gguf_type). */
typedef enum YaGgufType {
    YA_GGUF_UINT8 = 0, YA_GGUF_INT8 = 1, YA_GGUF_UINT16 = 2, YA_GGUF_INT16 = 3, YA_GGUF_UINT32 = 4,
    YA_GGUF_INT32 = 5, YA_GGUF_FLOAT32 = 6, YA_GGUF_BOOL = 7, YA_GGUF_STRING = 8, YA_GGUF_ARRAY = 9,
    YA_GGUF_UINT64 = 10, YA_GGUF_INT64 = 11, YA_GGUF_FLOAT64 = 12, YA_GGUF_TYPE_COUNT
} YaGgufType;

/* Tensor types we know (ggml_type ids); include/your_ai/gguf_quants.h
 * describes the block formats. */
enum {
    YA_GGML_F32 = 0, YA_GGML_F16 = 1, YA_GGML_Q5_0 = 6, YA_GGML_Q5_1 = 7, YA_GGML_Q8_0 = 8,
    YA_GGML_Q4_K = 12, YA_GGML_Q5_K = 13, YA_GGML_Q6_K = 14, YA_GGML_BF16 = 30
};
#define YA_GGUF_DEFAULT_ALIGNMENT 32
#define YA_GGUF_MAX_DIMS 4

/* Bytes of n elements of ggml type t; 0 if unknown or n is not a whole
 * number of its blocks (32 values for Q8_0/Q5_0/Q5_1, 256 for the K-quants). */
uint64_t ya_ggml_nbytes(int type, uint64_t n);
const char *ya_ggml_type_name(int type);

/* ---- writer ---- */
typedef struct YaGgufWriter YaGgufWriter;
/* Produces a tensor's nbytes bytes into dst at write time. */
typedef int (*YaGgufFillFn)(void *ctx, const char *name, void *dst, uint64_t nbytes, YaError *err);

YaGgufWriter *ya_gguf_writer_new(void);
void ya_gguf_writer_free(YaGgufWriter *w);
int ya_gguf_set_u32(YaGgufWriter *w, const char *key, uint32_t v, YaError *err);
int ya_gguf_set_i32(YaGgufWriter *w, const char *key, int32_t v, YaError *err);
int ya_gguf_set_u64(YaGgufWriter *w, const char *key, uint64_t v, YaError *err);
int ya_gguf_set_f32(YaGgufWriter *w, const char *key, float v, YaError *err);
int ya_gguf_set_bool(YaGgufWriter *w, const char *key, int v, YaError *err);
int ya_gguf_set_str(YaGgufWriter *w, const char *key, const char *v, YaError *err);
/* Arrays: elem is UINT8…FLOAT64 (n elements of that C type at data) or STRING (data = const char *const[n]). */
int ya_gguf_set_arr(YaGgufWriter *w, const char *key, YaGgufType elem, const void *data, uint64_t n, YaError *err);
/* dims fastest first (GGUF order); bytes produced by fill(ctx) at finish. */
int ya_gguf_add_tensor(YaGgufWriter *w, const char *name, int type, int n_dims, const uint64_t *dims,
                       YaGgufFillFn fill, void *ctx, YaError *err);
/* Writes path atomically (general.alignment is written by the caller if it
 * differs from 32) and frees w, also on failure. */
int ya_gguf_writer_finish(YaGgufWriter *w, const char *path, YaError *err);

/* ---- reader ---- */
typedef struct YaGgufKV {
    char *key;
    YaGgufType type;
    YaGgufType arr_type; /* element type when type == ARRAY */
    uint64_t n;          /* array length (1 for scalars) */
    const uint8_t *data; /* raw little-endian value bytes (for strings: u64 len + bytes, repeated) */
    uint64_t *str_off;   /* STRING arrays: byte offset of string i from data ([n]), for O(1) lookup */
} YaGgufKV;

typedef struct YaGgufTensor {
    char *name;
    int n_dims;
    uint64_t dims[YA_GGUF_MAX_DIMS]; /* fastest first */
    int type;
    uint64_t offset; /* relative to the data blob */
    uint64_t nbytes;
    const uint8_t *data;
} YaGgufTensor;

typedef struct YaGguf {
    uint32_t version;
    uint64_t n_kv, n_tensors;
    YaGgufKV *kv;
    YaGgufTensor *tensors;
    uint64_t alignment;
    uint64_t data_offset; /* file offset of the data blob */
    uint8_t *buf;
    size_t len;
} YaGguf;

/* Reads and validates the whole file (a malformed file is an error naming the
 * offset and what was expected). */
int ya_gguf_read(const char *path, YaGguf **out, YaError *err);
int ya_gguf_read_memory(const void *buf, size_t len, const char *where, YaGguf **out, YaError *err);
void ya_gguf_free(YaGguf *g);
const YaGgufKV *ya_gguf_find_kv(const YaGguf *g, const char *key);
const YaGgufTensor *ya_gguf_find_tensor(const YaGguf *g, const char *name);
/* The i-th string of a STRING value or STRING array (not NUL-terminated). */
const char *ya_gguf_kv_str(const YaGgufKV *kv, uint64_t i, uint64_t *len);

#endif

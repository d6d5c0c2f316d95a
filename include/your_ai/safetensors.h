/* safetensors.h — zero-copy safetensors reading (mmap) and writing.
 *
 * Reading maps the file and validates everything a malicious file could lie
 * about (header length vs file size, well-formed JSON, offsets inside the data
 * section, no overlaps, dtype × shape = byte length, duplicate names) before
 * any tensor is handed out. Tensor data pointers point into the mapping; they
 * are valid until the file is closed and carry no alignment guarantee.
 * Format: SPEC §6.4. */
#ifndef YOUR_AI_SAFETENSORS_H
#define YOUR_AI_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "your_ai/error.h"

typedef enum YaDtype {
    YA_DTYPE_F32 = 0,
    YA_DTYPE_F16 = 1,
    YA_DTYPE_BF16 = 2,
    /* Recognised in headers but never loaded as weights: */
    YA_DTYPE_F64, YA_DTYPE_I64, YA_DTYPE_I32, YA_DTYPE_I16, YA_DTYPE_I8, YA_DTYPE_U8,
    YA_DTYPE_U16, YA_DTYPE_U32, YA_DTYPE_U64, YA_DTYPE_BOOL, YA_DTYPE_F8_E4M3, YA_DTYPE_F8_E5M2,
    YA_DTYPE_COUNT
} YaDtype;

#define YA_MAX_DIMS 8

const char *ya_dtype_name(YaDtype dt);       /* "F32", "BF16", ... */
size_t ya_dtype_size(YaDtype dt);            /* bytes per element */
int ya_dtype_parse(const char *s, YaDtype *out); /* 0 on success, -1 if unknown */
int ya_dtype_is_float(YaDtype dt);               /* F32, F16 or BF16: loadable as weights */

typedef struct YaTensorInfo {
    char *name;
    YaDtype dtype;
    int ndim;
    int64_t shape[YA_MAX_DIMS];
    uint64_t numel;
    uint64_t nbytes;
    const void *data; /* into the mmap'd file */
    uint64_t offset;  /* data_offsets[0], relative to the data section */
    const char *file; /* path of the file that holds it (owned by the YaSafetensors) */
} YaTensorInfo;

typedef struct YaSafetensors YaSafetensors; /* one mapped file */

/* Opens and validates one file. Tensors of any recognised dtype are listed;
 * ya_tensor_check() rejects non-F32/F16/BF16 when a weight is loaded. */
int ya_st_open(const char *path, YaSafetensors **out, YaError *err);
/* Same validation over a caller-owned buffer (not copied: it must outlive the
 * handle). `where` names it in messages. Used by fuzzing and in-memory tests. */
int ya_st_open_memory(const void *buf, size_t len, const char *where, YaSafetensors **out, YaError *err);
void ya_st_close(YaSafetensors *st);
const char *ya_st_path(const YaSafetensors *st);
size_t ya_st_count(const YaSafetensors *st);
const YaTensorInfo *ya_st_at(const YaSafetensors *st, size_t i); /* in header order */
const YaTensorInfo *ya_st_find(const YaSafetensors *st, const char *name); /* NULL if absent */
/* Value of a __metadata__ key, or NULL. */
const char *ya_st_metadata(const YaSafetensors *st, const char *key);

/* A model's weights: model.safetensors, or shards listed by model.safetensors.index.json
 * (exactly the weight_map tensors, each from its named shard; unlisted files ignored). */
typedef struct YaWeights YaWeights;
int ya_weights_open_dir(const char *model_dir, YaWeights **out, YaError *err);
void ya_weights_close(YaWeights *w);
size_t ya_weights_count(const YaWeights *w);
const YaTensorInfo *ya_weights_at(const YaWeights *w, size_t i);
const YaTensorInfo *ya_weights_find(const YaWeights *w, const char *name);
const char *ya_weights_dir(const YaWeights *w);
/* Finds a required weight and checks it with ya_tensor_check. Returns NULL with
 * err filled ("DIR: missing tensor 'NAME' (expected shape [..])", or the
 * dtype/shape message prefixed with the file) when absent or wrong. */
const YaTensorInfo *ya_weights_require(const YaWeights *w, const char *name, int ndim, const int64_t *shape,
                                       YaError *err);

/* Checks that t is F32/F16/BF16 and has exactly the given shape; the message
 * names the tensor, what was expected and what was found. */
int ya_tensor_check(const YaTensorInfo *t, int ndim, const int64_t *shape, YaError *err);

/* Converts n elements of a stored float tensor (F32/F16/BF16, possibly
 * unaligned) to fp32. */
void ya_to_f32(YaDtype dt, const void *src, float *dst, size_t n);
/* n fp32 values → dt (F32/F16/BF16, round to nearest even), dst possibly unaligned. */
void ya_from_f32(YaDtype dt, const float *src, void *dst, size_t n);
/* fp32 → BF16 (round to nearest even) / F16 (round to nearest even). NaN stays
 * a quiet NaN with its sign; overflow rounds to ±Inf; subnormals are exact. */
uint16_t ya_f32_to_bf16(float x);
uint16_t ya_f32_to_f16(float x);
float ya_bf16_to_f32(uint16_t h);
float ya_f16_to_f32(uint16_t h);

/* Writer: tensors are added in order (their bytes copied or streamed at
 * finish), then written atomically with a space-padded header so the data
 * starts 8-byte aligned and "__metadata__":{"format":"pt",...}. */
typedef struct YaStWriter YaStWriter;
YaStWriter *ya_st_writer_new(void);
/* Adds a metadata key (format=pt is always written). */
int ya_st_writer_meta(YaStWriter *w, const char *key, const char *value, YaError *err);
/* Adds a tensor; data (nbytes = numel × dtype size) is referenced, not copied:
 * it must stay valid until ya_st_writer_finish returns. */
int ya_st_writer_add(YaStWriter *w, const char *name, YaDtype dt, int ndim, const int64_t *shape, const void *data,
                     YaError *err);
/* Writes the file atomically (temp name, fsync, rename) and frees the writer,
 * also when it fails. */
int ya_st_writer_finish(YaStWriter *w, const char *path, YaError *err);
void ya_st_writer_free(YaStWriter *w);
/* Total bytes of tensor data added so far (for sharding decisions). */
uint64_t ya_st_writer_bytes(const YaStWriter *w);

/* Streaming: a tensor whose bytes are produced at finish time by fill(ctx, name,
 * dst, nbytes, err) into a writer-owned buffer that is written out before the
 * next tensor is filled (and reused for it) — so peak memory is one tensor,
 * whatever the file size. A failing fill aborts the write (no file is left). */
typedef int (*YaStFillFn)(void *ctx, const char *name, void *dst, uint64_t nbytes, YaError *err);
int ya_st_writer_add_fill(YaStWriter *w, const char *name, YaDtype dt, int ndim, const int64_t *shape,
                          YaStFillFn fill, void *ctx, YaError *err);

/* Sharded model writer (SPEC §6.4): collects tensors (referenced or streamed,
 * as above), then writes <dir>/<base>.safetensors when everything fits in one
 * shard, else <base>-00001-of-0000K.safetensors ... plus
 * <base>.safetensors.index.json {"metadata":{"total_size":N},"weight_map":{..}}.
 * Shards are filled greedily in add order, each at most max_shard_bytes of
 * tensor data (0 = no limit); a tensor larger than the limit gets its own shard.
 * A stale index or single file of the other layout is removed, so the
 * directory never holds two contradicting copies. */
typedef struct YaStShardedWriter YaStShardedWriter;
YaStShardedWriter *ya_st_sharded_new(uint64_t max_shard_bytes);
int ya_st_sharded_meta(YaStShardedWriter *s, const char *key, const char *value, YaError *err);
int ya_st_sharded_add(YaStShardedWriter *s, const char *name, YaDtype dt, int ndim, const int64_t *shape,
                      const void *data, YaError *err);
int ya_st_sharded_add_fill(YaStShardedWriter *s, const char *name, YaDtype dt, int ndim, const int64_t *shape,
                           YaStFillFn fill, void *ctx, YaError *err);
/* Writes the files (each atomically) and frees s (also on failure). *n_shards_out (may be NULL) gets K (1 = single file). */
int ya_st_sharded_finish(YaStShardedWriter *s, const char *dir, const char *base, int *n_shards_out, YaError *err);
void ya_st_sharded_free(YaStShardedWriter *s);

#endif

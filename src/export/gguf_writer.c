/* gguf_writer.c — GGUF v3 writer (SPEC §10.3). Metadata is serialized into a
 * growing buffer as it is set; tensors are declared with a fill callback and
 * produced one at a time at finish, each written at an offset aligned to
 * general.alignment (32) and padded with zeros, so peak memory is one tensor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/fileio.h" /* defines: YaAtomicFile */
#include "your_ai/gguf.h"
#include "your_ai/gguf_quants.h" /* defines: ya_ggml_block_size, ya_ggml_block_bytes */

typedef struct Buf {
    uint8_t *p;
    size_t len, cap;
    int oom;
} Buf;

static void put(Buf *b, const void *src, size_t n) {
    if (b->oom || n == 0) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n) cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}
/* Little-endian scalars (the host is little-endian: x86-64/aarch64; checked in finish). */
static void put_u32(Buf *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(Buf *b, uint64_t v) { put(b, &v, 8); }
static void put_str(Buf *b, const char *s, size_t n) {
    put_u64(b, n);
    put(b, s, n);
}

typedef struct Tensor {
    char *name;
    int type, n_dims;
    uint64_t dims[YA_GGUF_MAX_DIMS];
    uint64_t nbytes, offset;
    YaGgufFillFn fill;
    void *ctx;
} Tensor;

struct YaGgufWriter {
    Buf kv;
    uint64_t n_kv;
    Tensor *t;
    size_t n_t, cap_t;
    char **keys; /* for duplicate detection */
};

uint64_t ya_ggml_nbytes(int type, uint64_t n) {
    uint64_t bs = (uint64_t)ya_ggml_block_size(type);
    return !bs || n % bs ? 0 : n / bs * ya_ggml_block_bytes(type);
}

const char *ya_ggml_type_name(int type) {
    switch (type) {
    case YA_GGML_F32: return "F32";
    case YA_GGML_F16: return "F16";
    case YA_GGML_BF16: return "BF16";
    case YA_GGML_Q8_0: return "Q8_0";
    case YA_GGML_Q5_0: return "Q5_0";
    case YA_GGML_Q5_1: return "Q5_1";
    case YA_GGML_Q4_K: return "Q4_K";
    case YA_GGML_Q5_K: return "Q5_K";
    case YA_GGML_Q6_K: return "Q6_K";
    default: return "?";
    }
}

YaGgufWriter *ya_gguf_writer_new(void) { return calloc(1, sizeof(YaGgufWriter)); }

void ya_gguf_writer_free(YaGgufWriter *w) {
    if (!w) return;
    free(w->kv.p);
    for (size_t i = 0; i < w->n_t; i++) free(w->t[i].name);
    free(w->t);
    for (uint64_t i = 0; i < w->n_kv; i++) free(w->keys[i]);
    free(w->keys);
    free(w);
}

static int begin_kv(YaGgufWriter *w, const char *key, YaGgufType type, YaError *err) {
    for (uint64_t i = 0; i < w->n_kv; i++)
        if (strcmp(w->keys[i], key) == 0) return ya_fail(err, YA_ERR, "GGUF: key '%s' set twice", key);
    char **k = realloc(w->keys, (size_t)(w->n_kv + 1) * sizeof *k);
    if (!k) return ya_fail(err, YA_ERR, "out of memory");
    w->keys = k;
    if (!(k[w->n_kv] = strdup(key))) return ya_fail(err, YA_ERR, "out of memory");
    w->n_kv++;
    put_str(&w->kv, key, strlen(key));
    put_u32(&w->kv, (uint32_t)type);
    return w->kv.oom ? ya_fail(err, YA_ERR, "out of memory") : YA_OK;
}

static int end_kv(YaGgufWriter *w, YaError *err) { return w->kv.oom ? ya_fail(err, YA_ERR, "out of memory") : YA_OK; }

int ya_gguf_set_u32(YaGgufWriter *w, const char *key, uint32_t v, YaError *err) {
    if (begin_kv(w, key, YA_GGUF_UINT32, err)) return YA_ERR;
    put_u32(&w->kv, v);
    return end_kv(w, err);
}
int ya_gguf_set_i32(YaGgufWriter *w, const char *key, int32_t v, YaError *err) {
    if (begin_kv(w, key, YA_GGUF_INT32, err)) return YA_ERR;
    put(&w->kv, &v, 4);
    return end_kv(w, err);
}
int ya_gguf_set_u64(YaGgufWriter *w, const char *key, uint64_t v, YaError *err) {
    if (begin_kv(w, key, YA_GGUF_UINT64, err)) return YA_ERR;
    put_u64(&w->kv, v);
    return end_kv(w, err);
}
int ya_gguf_set_f32(YaGgufWriter *w, const char *key, float v, YaError *err) {
    if (begin_kv(w, key, YA_GGUF_FLOAT32, err)) return YA_ERR;
    put(&w->kv, &v, 4);
    return end_kv(w, err);
}
int ya_gguf_set_bool(YaGgufWriter *w, const char *key, int v, YaError *err) {
    if (begin_kv(w, key, YA_GGUF_BOOL, err)) return YA_ERR;
    uint8_t b = v ? 1 : 0;
    put(&w->kv, &b, 1);
    return end_kv(w, err);
}
int ya_gguf_set_str(YaGgufWriter *w, const char *key, const char *v, YaError *err) {
    if (begin_kv(w, key, YA_GGUF_STRING, err)) return YA_ERR;
    put_str(&w->kv, v, strlen(v));
    return end_kv(w, err);
}

static size_t scalar_size(YaGgufType t) {
    static const size_t sz[YA_GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return (unsigned)t < YA_GGUF_TYPE_COUNT ? sz[t] : 0;
}

int ya_gguf_set_arr(YaGgufWriter *w, const char *key, YaGgufType elem, const void *data, uint64_t n, YaError *err) {
    if (elem == YA_GGUF_ARRAY || (elem != YA_GGUF_STRING && !scalar_size(elem)))
        return ya_fail(err, YA_ERR, "GGUF: key '%s': unsupported array element type %d", key, (int)elem);
    if (begin_kv(w, key, YA_GGUF_ARRAY, err)) return YA_ERR;
    put_u32(&w->kv, (uint32_t)elem);
    put_u64(&w->kv, n);
    if (elem == YA_GGUF_STRING) {
        const char *const *s = data;
        for (uint64_t i = 0; i < n; i++) put_str(&w->kv, s[i], strlen(s[i]));
    } else {
        put(&w->kv, data, (size_t)(n * scalar_size(elem)));
    }
    return end_kv(w, err);
}

int ya_gguf_add_tensor(YaGgufWriter *w, const char *name, int type, int n_dims, const uint64_t *dims,
                       YaGgufFillFn fill, void *ctx, YaError *err) {
    if (n_dims < 1 || n_dims > YA_GGUF_MAX_DIMS) return ya_fail(err, YA_ERR, "GGUF: tensor '%s': %d dims", name, n_dims);
    uint64_t numel = 1;
    for (int i = 0; i < n_dims; i++) numel *= dims[i];
    uint64_t nbytes = ya_ggml_nbytes(type, numel);
    if (!nbytes || dims[0] % (uint64_t)ya_ggml_block_size(type))
        return ya_fail(err, YA_ERR, "GGUF: tensor '%s': type %s cannot hold dims[0] = %llu", name,
                       ya_ggml_type_name(type), (unsigned long long)dims[0]);
    for (size_t i = 0; i < w->n_t; i++)
        if (strcmp(w->t[i].name, name) == 0) return ya_fail(err, YA_ERR, "GGUF: tensor '%s' added twice", name);
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? 2 * w->cap_t : 64;
        Tensor *t = realloc(w->t, cap * sizeof *t);
        if (!t) return ya_fail(err, YA_ERR, "out of memory");
        w->t = t;
        w->cap_t = cap;
    }
    Tensor *t = &w->t[w->n_t];
    memset(t, 0, sizeof *t);
    if (!(t->name = strdup(name))) return ya_fail(err, YA_ERR, "out of memory");
    t->type = type;
    t->n_dims = n_dims;
    memcpy(t->dims, dims, (size_t)n_dims * sizeof *dims);
    t->nbytes = nbytes;
    t->fill = fill;
    t->ctx = ctx;
    w->n_t++;
    return YA_OK;
}

static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

int ya_gguf_writer_finish(YaGgufWriter *w, const char *path, YaError *err) {
    const uint64_t A = YA_GGUF_DEFAULT_ALIGNMENT;
    Buf head = {0};
    put(&head, "GGUF", 4);
    put_u32(&head, 3);
    put_u64(&head, w->n_t);
    put_u64(&head, w->n_kv);
    put(&head, w->kv.p, w->kv.len);
    uint64_t off = 0, max_bytes = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        Tensor *t = &w->t[i];
        put_str(&head, t->name, strlen(t->name));
        put_u32(&head, (uint32_t)t->n_dims);
        for (int d = 0; d < t->n_dims; d++) put_u64(&head, t->dims[d]);
        put_u32(&head, (uint32_t)t->type);
        t->offset = off;
        put_u64(&head, off);
        off = align_up(off + t->nbytes, A);
        if (t->nbytes > max_bytes) max_bytes = t->nbytes;
    }
    static const uint8_t zeros[64];
    put(&head, zeros, (size_t)(align_up(head.len, A) - head.len));
    uint8_t *scratch = malloc(max_bytes ? max_bytes : 1);
    YaAtomicFile f;
    int rc = YA_OK;
    uint32_t probe = 1;
    if (*(uint8_t *)&probe != 1) rc = ya_fail(err, YA_ERR, "GGUF writer: big-endian hosts are not supported");
    else if (head.oom || !scratch) rc = ya_fail(err, YA_ERR, "out of memory");
    else if ((rc = ya_atomic_open(&f, path, err)) == YA_OK) {
        rc = ya_atomic_write(&f, head.p, head.len, err);
        for (size_t i = 0; i < w->n_t && !rc; i++) {
            Tensor *t = &w->t[i];
            rc = t->fill(t->ctx, t->name, scratch, t->nbytes, err);
            if (rc) {
                ya_error_prefix(err, "%s: tensor '%s'", path, t->name);
                break;
            }
            rc = ya_atomic_write(&f, scratch, t->nbytes, err);
            uint64_t pad = align_up(t->nbytes, A) - t->nbytes;
            if (!rc && pad) rc = ya_atomic_write(&f, zeros, (size_t)pad, err);
        }
        if (rc) ya_atomic_abort(&f);
        else rc = ya_atomic_commit(&f, err);
    }
    free(scratch);
    free(head.p);
    ya_gguf_writer_free(w);
    return rc;
}

/* test_safetensors.c — the safetensors reader/writer and model-directory loader.
 *
 * Round trips through our writer are checked against what the format requires
 * (independently of our reader: offsets tile the data, the data starts 8-byte
 * aligned, format=pt), and every lie a malicious file can tell is crafted by
 * hand here and must fail with a message that names the file and the tensor.
 * (Bit-exact conversions and cross-reading with torch: st_tool + tools/st_ref.py.) */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"
#include "your_ai/fileio.h"
#include "your_ai/log.h"
#include "your_ai/safetensors.h"

static char g_tmp[64];

/* out = g_tmp/name (out is an array, so sizeof gives its capacity) */
#define path_in(out, name) snprintf(out, sizeof(out), "%s/%s", g_tmp, name)

/* A safetensors image from a header string and `data_len` bytes of data (value i&255). */
static unsigned char *make_st(const char *header, size_t data_len, size_t *out_len) {
    size_t hl = strlen(header);
    unsigned char *b = malloc(8 + hl + data_len + 1);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)hl >> (8 * i));
    memcpy(b + 8, header, hl);
    for (size_t i = 0; i < data_len; i++) b[8 + hl + i] = (unsigned char)i;
    *out_len = 8 + hl + data_len;
    return b;
}

/* Opens the image built from header/data_len in memory; returns rc and the message. */
static int try_header(const char *header, size_t data_len, YaError *err) {
    size_t len;
    unsigned char *b = make_st(header, data_len, &len);
    YaSafetensors *st = NULL;
    int rc = ya_st_open_memory(b, len, "crafted.safetensors", &st, err);
    ya_st_close(st);
    free(b);
    return rc;
}

#define EXPECT_BAD(header, data_len, ...)                                                                  \
    do {                                                                                                   \
        YaError e_ = {0};                                                                                  \
        int rc_ = try_header(header, data_len, &e_);                                                       \
        CHECK_MSG(rc_ == YA_ERR, "accepted: %s", header);                                                  \
        const char *subs_[] = {"crafted.safetensors", __VA_ARGS__};                                        \
        for (size_t k_ = 0; k_ < sizeof subs_ / sizeof *subs_; k_++)                                       \
            CHECK_MSG(strstr(e_.message, subs_[k_]) != NULL, "message '%s' lacks '%s'", e_.message, subs_[k_]); \
    } while (0)

static void test_round_trip(void) {
    float a[6] = {1, -2, 3.5f, 0, 1e-3f, -7};                  // [2, 3]
    uint16_t b[4] = {0x3f80, 0xbf80, 0x4000, 0x0001};          // [4] bf16 bits
    uint16_t s = 0x3c00;                                       // [] f16 scalar 1.0
    int64_t ids[2] = {-5, 1234567890123LL};                    // [2] I64
    const int64_t sa[] = {2, 3}, sb[] = {4}, sz[] = {0, 5}, si[] = {2};
    YaError err = {0};
    YaStWriter *w = ya_st_writer_new();
    CHECK(ya_st_writer_meta(w, "source", "unit test", &err) == 0);
    CHECK(ya_st_writer_add(w, "w.a", YA_DTYPE_F32, 2, sa, a, &err) == 0);
    CHECK(ya_st_writer_add(w, "w.b", YA_DTYPE_BF16, 1, sb, b, &err) == 0);
    CHECK(ya_st_writer_add(w, "scalar", YA_DTYPE_F16, 0, NULL, &s, &err) == 0);
    CHECK(ya_st_writer_add(w, "empty", YA_DTYPE_F32, 2, sz, NULL, &err) == 0);
    CHECK(ya_st_writer_add(w, "ids", YA_DTYPE_I64, 1, si, ids, &err) == 0);
    CHECK(ya_st_writer_add(w, "w.a", YA_DTYPE_F32, 2, sa, a, &err) == YA_ERR_USAGE); /* duplicate */
    CHECK(strstr(err.message, "duplicate") != NULL);
    CHECK(ya_st_writer_meta(w, "format", "gguf", &err) == YA_ERR_USAGE);
    CHECK(ya_st_writer_bytes(w) == 24 + 8 + 2 + 0 + 16);
    char path[4096];
    path_in(path, "rt.safetensors");
    CHECK(ya_st_writer_finish(w, path, &err) == 0);

    /* Raw layout, read without our reader. */
    char *raw;
    size_t len;
    CHECK(ya_read_file(path, &raw, &len, &err) == 0);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | (unsigned char)raw[i];
    CHECK((8 + hl) % 8 == 0);                   /* data starts 8-byte aligned */
    CHECK(8 + hl + 50 == len);                  /* tensors tile the data exactly */
    CHECK(strncmp(raw + 8, "{\"__metadata__\":{\"format\":\"pt\"", 30) == 0);
    CHECK(raw[8 + hl - 1] == ' ' || raw[8 + hl - 1] == '}');
    CHECK(memcmp(raw + 8 + hl, a, 24) == 0 && memcmp(raw + 8 + hl + 24, b, 8) == 0);
    free(raw);

    YaSafetensors *st;
    CHECK(ya_st_open(path, &st, &err) == 0);
    if (!st) return;
    CHECK(ya_st_count(st) == 5);
    CHECK_STREQ(ya_st_metadata(st, "format"), "pt");
    CHECK_STREQ(ya_st_metadata(st, "source"), "unit test");
    CHECK(ya_st_metadata(st, "nope") == NULL);
    const YaTensorInfo *t = ya_st_at(st, 0);
    CHECK_STREQ(t->name, "w.a");
    CHECK(t->dtype == YA_DTYPE_F32 && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3 && t->numel == 6);
    CHECK(t->offset == 0 && t->nbytes == 24 && memcmp(t->data, a, 24) == 0);
    CHECK_STREQ(t->file, path);
    t = ya_st_find(st, "w.b");
    CHECK(t && t->offset == 24 && memcmp(t->data, b, 8) == 0);
    float fb[4];
    ya_to_f32(t->dtype, t->data, fb, 4);
    CHECK(fb[0] == 1.0f && fb[1] == -1.0f && fb[2] == 2.0f && fb[3] > 0 && fb[3] < 1e-38f);
    t = ya_st_find(st, "scalar");
    CHECK(t && t->ndim == 0 && t->numel == 1 && t->nbytes == 2 && ya_f16_to_f32(*(const uint16_t *)t->data) == 1.0f);
    t = ya_st_find(st, "empty");
    CHECK(t && t->numel == 0 && t->nbytes == 0);
    t = ya_st_find(st, "ids");
    CHECK(t && t->dtype == YA_DTYPE_I64 && memcmp(t->data, ids, 16) == 0);
    CHECK(ya_st_find(st, "missing") == NULL);

    /* ya_tensor_check: dtype and shape messages name the tensor */
    int64_t want[2] = {3, 2};
    CHECK(ya_tensor_check(ya_st_find(st, "w.a"), 2, want, &err) == YA_ERR);
    CHECK_STREQ(err.message, "w.a: expected shape [3, 2], found [2, 3]");
    CHECK(ya_tensor_check(ya_st_find(st, "ids"), 1, si, &err) == YA_ERR);
    CHECK_STREQ(err.message, "ids: dtype I64 not supported (expected F32, F16 or BF16)");
    CHECK(ya_tensor_check(ya_st_find(st, "w.a"), 2, sa, &err) == 0);
    ya_st_close(st);
}

typedef struct {
    float base;
} FillCtx;

static int fill_iota(void *ctx, const char *name, void *dst, uint64_t nbytes, YaError *err) {
    const FillCtx *c = ctx;
    for (uint64_t i = 0; i < nbytes / 4; i++) ((float *)dst)[i] = c->base + (float)i;
    return YA_OK;
}

static int fill_fail(void *ctx, const char *name, void *dst, uint64_t nbytes, YaError *err) {
    return ya_fail(err, YA_ERR, "fill of %s failed on purpose", name);
}

static void test_streaming_writer(void) {
    YaError err = {0};
    FillCtx c = {100};
    const int64_t sh[] = {3, 5};
    YaStWriter *w = ya_st_writer_new();
    CHECK(ya_st_writer_add_fill(w, "t", YA_DTYPE_F32, 2, sh, fill_iota, &c, &err) == 0);
    char path[4096];
    path_in(path, "stream.safetensors");
    CHECK(ya_st_writer_finish(w, path, &err) == 0);
    YaSafetensors *st;
    CHECK(ya_st_open(path, &st, &err) == 0);
    if (st) {
        const YaTensorInfo *t = ya_st_find(st, "t");
        float f[15];
        ya_to_f32(t->dtype, t->data, f, 15);
        CHECK(f[0] == 100 && f[14] == 114);
        ya_st_close(st);
    }
    /* A failing fill aborts the write and leaves no file behind. */
    w = ya_st_writer_new();
    CHECK(ya_st_writer_add_fill(w, "t", YA_DTYPE_F32, 2, sh, fill_fail, NULL, &err) == 0);
    path_in(path, "never.safetensors");
    CHECK(ya_st_writer_finish(w, path, &err) == YA_ERR);
    CHECK(strstr(err.message, "failed on purpose") != NULL);
    CHECK(!ya_path_exists(path));
}

static void test_bad_files(void) {
    YaError err = {0};
    YaSafetensors *st = NULL;
    /* shorter than the length prefix */
    CHECK(ya_st_open_memory("abc", 3, "crafted.safetensors", &st, &err) == YA_ERR);
    CHECK(strstr(err.message, "too short") != NULL);
    /* header length past EOF */
    unsigned char hdr[16] = {0xe8, 0x03, 0, 0, 0, 0, 0, 0, '{', '}'};
    CHECK(ya_st_open_memory(hdr, 10, "crafted.safetensors", &st, &err) == YA_ERR);
    CHECK(strstr(err.message, "header length 1000 is past the end of the file") != NULL);
    unsigned char huge[16] = {0, 0, 0, 0, 0, 0, 0, 0x80};
    CHECK(ya_st_open_memory(huge, 16, "crafted.safetensors", &st, &err) == YA_ERR);
    unsigned char zero[16] = {0};
    CHECK(ya_st_open_memory(zero, 16, "crafted.safetensors", &st, &err) == YA_ERR);
    CHECK(strstr(err.message, "header length is 0") != NULL);

    EXPECT_BAD("{\"a\":", 0, "invalid JSON");
    EXPECT_BAD("[1,2]", 0, "must be a JSON object");
    EXPECT_BAD("{} x", 0, "invalid JSON");
    EXPECT_BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
               "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
               8, "duplicate");
    EXPECT_BAD("{\"w1\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"w2\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
               12, "w1", "w2", "overlap");
    EXPECT_BAD("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 12, "'w'",
               "past the end of the data section");
    EXPECT_BAD("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 12, "'w'", "begin <= end");
    EXPECT_BAD("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 12, "'w'",
               "needs 12 bytes", "[3]");
    EXPECT_BAD("{\"w\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "'w'", "unknown dtype 'F128'");
    EXPECT_BAD("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "'w'", "non-negative");
    EXPECT_BAD("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "'w'", "shape[0]");
    EXPECT_BAD("{\"w\":{\"dtype\":\"F32\",\"shape\":{},\"data_offsets\":[0,4]}}", 4, "'w'", "'shape'");
    EXPECT_BAD("{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,8],\"data_offsets\":[0,4]}}", 4, "'w'",
               "overflows");
    EXPECT_BAD("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "'w'", "data_offsets");
    EXPECT_BAD("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "'w'", "'dtype'");
    EXPECT_BAD("{\"w\":[1]}", 4, "'w'", "must be an object");
    EXPECT_BAD("{\"__metadata__\":{\"format\":1}}", 0, "__metadata__", "format");
    EXPECT_BAD("{\"__metadata__\":[\"pt\"]}", 0, "__metadata__");
    EXPECT_BAD("{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, "'w'",
               "dimensions");

    /* Legal oddities: a gap (warning only), trailing header spaces, zero-size tensors
     * sharing an offset, metadata only. */
    CHECK(try_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                     "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}   ",
                     12, &err) == 0);
    CHECK(try_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
                     "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                     8, &err) == 0);
    CHECK(try_header("{\"__metadata__\":{\"format\":\"pt\"}}", 0, &err) == 0);

    /* On disk: a truncated file (last byte cut) and a non-file. */
    float a[4] = {1, 2, 3, 4};
    const int64_t sh[] = {4};
    YaStWriter *w = ya_st_writer_new();
    ya_st_writer_add(w, "model.norm.weight", YA_DTYPE_F32, 1, sh, a, &err);
    char path[4096];
    path_in(path, "trunc.safetensors");
    CHECK(ya_st_writer_finish(w, path, &err) == 0);
    char *raw;
    size_t len;
    CHECK(ya_read_file(path, &raw, &len, &err) == 0);
    CHECK(ya_write_file_atomic(path, raw, len - 1, &err) == 0);
    free(raw);
    CHECK(ya_st_open(path, &st, &err) == YA_ERR);
    CHECK(strstr(err.message, path) && strstr(err.message, "model.norm.weight") &&
          strstr(err.message, "past the end"));
    CHECK(ya_st_open(g_tmp, &st, &err) == YA_ERR);
    CHECK(strstr(err.message, "not a regular file") != NULL);
    path_in(path, "absent.safetensors");
    CHECK(ya_st_open(path, &st, &err) == YA_ERR);
    CHECK(strstr(err.message, "cannot open") != NULL);
}

/* A header of n tiny tensor entries, each 0 bytes at offset 0, padded with spaces to pad bytes. */
static unsigned char *many_entries_file(size_t n, size_t pad, size_t *len) {
    size_t cap = n * 64 + pad + 64;
    unsigned char *buf = malloc(cap);
    size_t h = 0;
    h += (size_t)snprintf((char *)buf + 8 + h, cap - 8 - h, "{");
    for (size_t i = 0; i < n; i++)
        h += (size_t)snprintf((char *)buf + 8 + h, cap - 8 - h, "%s\"t%zu\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}",
                              i ? "," : "", i);
    h += (size_t)snprintf((char *)buf + 8 + h, cap - 8 - h, "}");
    while (h < pad) buf[8 + h++] = ' ';
    for (int b = 0; b < 8; b++) buf[b] = (unsigned char)((uint64_t)h >> (8 * b));
    *len = 8 + h;
    return buf;
}

/* Bounded work per header byte: a header over 32 MiB, or one with more than 131072
 * entries, is refused before it is parsed (the error names the file and the size). */
static void test_header_limits(void) {
    YaError err = {0};
    YaSafetensors *st = NULL;
    size_t len;
    unsigned char *buf = many_entries_file(1, (size_t)33 << 20, &len); /* one tensor, 33 MiB of padding */
    CHECK(ya_st_open_memory(buf, len, "padded.safetensors", &st, &err) == YA_ERR);
    CHECK_MSG(strstr(err.message, "padded.safetensors") && strstr(err.message, "34603008") &&
                  strstr(err.message, "exceeds the 33554432-byte limit"),
              "message: %s", err.message);
    free(buf);
    buf = many_entries_file(131073 + 1, 0, &len); /* ~8 MB: under the byte cap, over the entry cap */
    CHECK(ya_st_open_memory(buf, len, "many.safetensors", &st, &err) == YA_ERR);
    CHECK_MSG(strstr(err.message, "many.safetensors") && strstr(err.message, "131075 JSON objects") &&
                  strstr(err.message, "131072 tensors"),
              "message: %s", err.message);
    free(buf);
    buf = many_entries_file(1000, 0, &len); /* below both caps: opens */
    CHECK_MSG(ya_st_open_memory(buf, len, "fine.safetensors", &st, &err) == YA_OK, "%s", err.message);
    CHECK(st && ya_st_count(st) == 1000);
    ya_st_close(st);
    free(buf);
}

static void write_text(const char *name, const char *text) {
    char path[4096];
    path_in(path, name);
    YaError err;
    CHECK(ya_write_file_atomic(path, text, strlen(text), &err) == 0);
}

static void test_sharded(void) {
    YaError err = {0};
    char dir[1024], path[4096];
    path_in(dir, "sharded");
    CHECK(ya_mkdirs(dir, &err) == 0);
    /* a stale single file must disappear when shards are written */
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    CHECK(ya_write_file_atomic(path, "junk", 4, &err) == 0);

    static float data[5][256];                  // [5][256]: tensor t holds t*1000 + i
    for (int t = 0; t < 5; t++)
        for (int i = 0; i < 256; i++) data[t][i] = (float)(t * 1000 + i);
    const int64_t small[] = {16}, big[] = {256}, mid[] = {64};
    const int64_t *shapes[5] = {small, small, big, mid, small}; /* bytes: 64 64 1024 256 64 */
    YaStShardedWriter *s = ya_st_sharded_new(200);
    CHECK(ya_st_sharded_meta(s, "note", "x", &err) == 0);
    char name[64];
    for (int t = 0; t < 5; t++) {
        snprintf(name, sizeof name, "t%d.weight", t);
        CHECK(ya_st_sharded_add(s, name, YA_DTYPE_F32, 1, shapes[t], data[t], &err) == 0);
    }
    int k = 0;
    CHECK(ya_st_sharded_finish(s, dir, "model", &k, &err) == 0);
    /* greedy with limit 200: [t0 t1] [t2 (alone, > limit)] [t3 (alone, 256 > 200)] [t4] */
    CHECK_MSG(k == 4, "%d shards", k);
    CHECK(!ya_path_exists(path));
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    char *idx;
    size_t len;
    CHECK(ya_read_file(path, &idx, &len, &err) == 0);
    CHECK_STREQ(idx, "{\"metadata\":{\"total_size\":1472},\"weight_map\":{"
                     "\"t0.weight\":\"model-00001-of-00004.safetensors\","
                     "\"t1.weight\":\"model-00001-of-00004.safetensors\","
                     "\"t2.weight\":\"model-00002-of-00004.safetensors\","
                     "\"t3.weight\":\"model-00003-of-00004.safetensors\","
                     "\"t4.weight\":\"model-00004-of-00004.safetensors\"}}");
    free(idx);

    YaWeights *w;
    CHECK(ya_weights_open_dir(dir, &w, &err) == 0);
    if (w) {
        CHECK(ya_weights_count(w) == 5);
        for (int t = 0; t < 5; t++) {
            snprintf(name, sizeof name, "t%d.weight", t);
            const YaTensorInfo *ti = ya_weights_require(w, name, 1, shapes[t], &err);
            CHECK_MSG(ti != NULL, "%s", err.message);
            if (ti) CHECK(memcmp(ti->data, data[t], ti->nbytes) == 0);
        }
        CHECK(strstr(ya_weights_find(w, "t2.weight")->file, "model-00002-of-00004.safetensors") != NULL);
        CHECK(ya_weights_require(w, "t9.weight", 1, small, &err) == NULL);
        CHECK_MSG(strstr(err.message, "missing tensor 't9.weight' (expected shape [16])") && strstr(err.message, dir),
                  "%s", err.message);
        CHECK(ya_weights_require(w, "t0.weight", 1, big, &err) == NULL);
        CHECK_MSG(strstr(err.message, "model-00001-of-00004.safetensors: t0.weight: expected shape [256], found [16]"),
                  "%s", err.message);
        ya_weights_close(w);
    }

    /* Writing a single file afterwards removes the index (no contradicting copies). */
    s = ya_st_sharded_new(0);
    ya_st_sharded_add(s, "only", YA_DTYPE_F32, 1, small, data[0], &err);
    CHECK(ya_st_sharded_finish(s, dir, "model", &k, &err) == 0 && k == 1);
    CHECK(!ya_path_exists(path));
    CHECK(ya_weights_open_dir(dir, &w, &err) == 0);
    if (w) {
        CHECK(ya_weights_count(w) == 1 && ya_weights_find(w, "only"));
        ya_weights_close(w);
    }
}

static void test_bad_dirs(void) {
    YaError err = {0};
    YaWeights *w = NULL;
    char dir[4096];
    path_in(dir, "baddir");
    ya_mkdirs(dir, &err);
    CHECK(ya_weights_open_dir(dir, &w, &err) == YA_ERR);
    CHECK(strstr(err.message, "no model.safetensors.index.json or model.safetensors") != NULL);
    path_in(dir, "does-not-exist");
    CHECK(ya_weights_open_dir(dir, &w, &err) == YA_ERR);
    CHECK(strstr(err.message, "not a directory") != NULL);

    /* one good shard holding "a" */
    float a[2] = {1, 2};
    const int64_t sh[] = {2};
    YaStWriter *sw = ya_st_writer_new();
    ya_st_writer_add(sw, "a", YA_DTYPE_F32, 1, sh, a, &err);
    char p[4096];
    path_in(p, "baddir/model-00001-of-00002.safetensors");
    CHECK(ya_st_writer_finish(sw, p, &err) == 0);
    path_in(dir, "baddir");

    write_text("baddir/model.safetensors.index.json",
               "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\"}}");
    CHECK(ya_weights_open_dir(dir, &w, &err) == YA_ERR);
    CHECK_MSG(strstr(err.message, "model-00002-of-00002.safetensors") && strstr(err.message, "'b'") &&
                  strstr(err.message, "cannot open"),
              "%s", err.message);

    write_text("baddir/model.safetensors.index.json",
               "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\",\"zz\":\"model-00001-of-00002.safetensors\"}}");
    CHECK(ya_weights_open_dir(dir, &w, &err) == YA_ERR);
    CHECK_MSG(strstr(err.message, "tensor 'zz' is mapped to 'model-00001-of-00002.safetensors', which does not contain it"),
              "%s", err.message);

    write_text("baddir/model.safetensors.index.json", "{\"weight_map\":{\"a\":\"../../etc/passwd\"}}");
    CHECK(ya_weights_open_dir(dir, &w, &err) == YA_ERR);
    CHECK(strstr(err.message, "not a file inside the model directory") != NULL);

    write_text("baddir/model.safetensors.index.json", "{\"metadata\":{}}");
    CHECK(ya_weights_open_dir(dir, &w, &err) == YA_ERR);
    CHECK(strstr(err.message, "'weight_map'") != NULL);

    write_text("baddir/model.safetensors.index.json", "{\"weight_map\":{\"a\":\"x\",\"a\":\"y\"}}");
    CHECK(ya_weights_open_dir(dir, &w, &err) == YA_ERR);
    CHECK(strstr(err.message, "duplicate") != NULL);

    write_text("baddir/model.safetensors.index.json", "{\"weight_map\":{\"a\":3}}");
    CHECK(ya_weights_open_dir(dir, &w, &err) == YA_ERR);
    CHECK(strstr(err.message, "weight_map['a']") != NULL);

    /* Only weight_map tensors are exposed, whatever else the shards hold. */
    write_text("baddir/model.safetensors.index.json",
               "{\"metadata\":{\"total_size\":8},\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\"}}");
    CHECK(ya_weights_open_dir(dir, &w, &err) == 0);
    if (w) {
        CHECK(ya_weights_count(w) == 1);
        ya_weights_close(w);
    }
}

int main(void) {
    ya_log_set_quiet(1);
    snprintf(g_tmp, sizeof g_tmp, "/tmp/ya_test_st_XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    test_round_trip();
    test_streaming_writer();
    test_bad_files();
    test_header_limits();
    test_sharded();
    test_bad_dirs();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
    TEST_MAIN_END();
}

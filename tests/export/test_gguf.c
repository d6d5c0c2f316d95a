/* test_gguf.c — the GGUF writer and reader against each other and against
 * hand-computed layout facts: every KV type (scalars, strings, arrays of each
 * element type) and every tensor type round-trips; offsets are aligned to 32
 * and tile the blob in order; the data blob starts aligned; every truncated
 * prefix of a valid file and a set of corrupted fields are rejected with an
 * error (never a crash: this runs under ASan/UBSan too). The exporter's files
 * are checked independently by tools/gguf_ref.py. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"
#include "your_ai/export.h"
#include "your_ai/fileio.h"
#include "your_ai/gguf.h"

typedef struct Src {
    const void *p;
} Src;

static int fill_copy(void *ctx, const char *name, void *dst, uint64_t nbytes, YaError *err) {
    (void)name;
    (void)err;
    memcpy(dst, ((Src *)ctx)->p, nbytes);
    return YA_OK;
}

static int fill_fail(void *ctx, const char *name, void *dst, uint64_t nbytes, YaError *err) {
    (void)ctx;
    (void)dst;
    (void)nbytes;
    return ya_fail(err, YA_ERR, "cannot produce %s", name);
}

int main(void) {
    char path[] = "/tmp/ya_test_gguf_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    YaError err = {0};

    /* ---- write ---- */
    float f32[64];
    uint16_t f16[96];
    uint8_t q8[2 * 34];
    for (int i = 0; i < 64; i++) f32[i] = (float)i * 0.25f - 3.0f;
    for (int i = 0; i < 96; i++) f16[i] = (uint16_t)(0x3c00 + i);
    ya_gguf_quantize_q8_0(f32, q8, 64);
    Src s_f32 = {f32}, s_f16 = {f16}, s_q8 = {q8};
    const char *strs[] = {"a", "", "héllo wörld", "<0x0A>"};
    int32_t i32s[] = {-1, 0, 7, INT32_MAX};
    float fl[] = {1.5f, -0.0f, 1e-30f};
    uint8_t u8s[] = {0, 255};
    YaGgufWriter *w = ya_gguf_writer_new();
    CHECK(w);
    CHECK(ya_gguf_set_str(w, "general.architecture", "llama", &err) == YA_OK);
    CHECK(ya_gguf_set_u32(w, "u32", 4000000000u, &err) == YA_OK);
    CHECK(ya_gguf_set_i32(w, "i32", -5, &err) == YA_OK);
    CHECK(ya_gguf_set_u64(w, "u64", 1ull << 40, &err) == YA_OK);
    CHECK(ya_gguf_set_f32(w, "f32", 1e-5f, &err) == YA_OK);
    CHECK(ya_gguf_set_bool(w, "bool", 1, &err) == YA_OK);
    CHECK(ya_gguf_set_arr(w, "strs", YA_GGUF_STRING, strs, 4, &err) == YA_OK);
    CHECK(ya_gguf_set_arr(w, "i32s", YA_GGUF_INT32, i32s, 4, &err) == YA_OK);
    CHECK(ya_gguf_set_arr(w, "fl", YA_GGUF_FLOAT32, fl, 3, &err) == YA_OK);
    CHECK(ya_gguf_set_arr(w, "u8s", YA_GGUF_UINT8, u8s, 2, &err) == YA_OK);
    CHECK(ya_gguf_set_arr(w, "empty", YA_GGUF_INT32, NULL, 0, &err) == YA_OK);
    CHECK(ya_gguf_set_u32(w, "u32", 1, &err) == YA_ERR); /* duplicate key */
    uint64_t d1[1] = {5}, d2[2] = {16, 3}, d3[2] = {32, 3}, dq[2] = {64, 1}, dbad[2] = {33, 1};
    CHECK(ya_gguf_add_tensor(w, "t.f32", YA_GGML_F32, 1, d1, fill_copy, &s_f32, &err) == YA_OK);
    CHECK(ya_gguf_add_tensor(w, "t.f16", YA_GGML_F16, 2, d2, fill_copy, &s_f16, &err) == YA_OK);
    CHECK(ya_gguf_add_tensor(w, "t.bf16", YA_GGML_BF16, 2, d3, fill_copy, &s_f16, &err) == YA_OK);
    CHECK(ya_gguf_add_tensor(w, "t.q8", YA_GGML_Q8_0, 2, dq, fill_copy, &s_q8, &err) == YA_OK);
    CHECK(ya_gguf_add_tensor(w, "t.q8bad", YA_GGML_Q8_0, 2, dbad, fill_copy, &s_q8, &err) == YA_ERR);
    CHECK(ya_gguf_add_tensor(w, "t.f32", YA_GGML_F32, 1, d1, fill_copy, &s_f32, &err) == YA_ERR); /* duplicate */
    CHECK(ya_gguf_writer_finish(w, path, &err) == YA_OK);

    /* ---- read back ---- */
    YaGguf *g = NULL;
    CHECK(ya_gguf_read(path, &g, &err) == YA_OK);
    if (!g) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    CHECK(g->version == 3 && g->n_kv == 11 && g->n_tensors == 4 && g->alignment == 32);
    CHECK(g->data_offset % 32 == 0);
    const YaGgufKV *kv = ya_gguf_find_kv(g, "general.architecture");
    uint64_t len = 0;
    CHECK(kv && kv->type == YA_GGUF_STRING && len == 0);
    const char *s = kv ? ya_gguf_kv_str(kv, 0, &len) : NULL;
    CHECK(s && len == 5 && memcmp(s, "llama", 5) == 0);
    uint32_t u32;
    kv = ya_gguf_find_kv(g, "u32");
    CHECK(kv && kv->type == YA_GGUF_UINT32 && (memcpy(&u32, kv->data, 4), u32 == 4000000000u));
    int32_t i32;
    kv = ya_gguf_find_kv(g, "i32");
    CHECK(kv && kv->type == YA_GGUF_INT32 && (memcpy(&i32, kv->data, 4), i32 == -5));
    uint64_t u64;
    kv = ya_gguf_find_kv(g, "u64");
    CHECK(kv && kv->type == YA_GGUF_UINT64 && (memcpy(&u64, kv->data, 8), u64 == 1ull << 40));
    float fv;
    kv = ya_gguf_find_kv(g, "f32");
    CHECK(kv && kv->type == YA_GGUF_FLOAT32 && (memcpy(&fv, kv->data, 4), fv == 1e-5f));
    kv = ya_gguf_find_kv(g, "bool");
    CHECK(kv && kv->type == YA_GGUF_BOOL && kv->data[0] == 1);
    kv = ya_gguf_find_kv(g, "strs");
    CHECK(kv && kv->type == YA_GGUF_ARRAY && kv->arr_type == YA_GGUF_STRING && kv->n == 4);
    for (uint64_t i = 0; kv && i < 4; i++) {
        s = ya_gguf_kv_str(kv, i, &len);
        CHECK(s && len == strlen(strs[i]) && memcmp(s, strs[i], len) == 0);
    }
    CHECK(kv && ya_gguf_kv_str(kv, 4, &len) == NULL);
    kv = ya_gguf_find_kv(g, "i32s");
    CHECK(kv && kv->arr_type == YA_GGUF_INT32 && kv->n == 4 && memcmp(kv->data, i32s, sizeof i32s) == 0);
    kv = ya_gguf_find_kv(g, "fl");
    CHECK(kv && kv->arr_type == YA_GGUF_FLOAT32 && kv->n == 3 && memcmp(kv->data, fl, sizeof fl) == 0);
    kv = ya_gguf_find_kv(g, "u8s");
    CHECK(kv && kv->arr_type == YA_GGUF_UINT8 && kv->n == 2 && memcmp(kv->data, u8s, 2) == 0);
    kv = ya_gguf_find_kv(g, "empty");
    CHECK(kv && kv->n == 0);
    const char *names[] = {"t.f32", "t.f16", "t.bf16", "t.q8"};
    const void *want[] = {f32, f16, f16, q8};
    uint64_t bytes[] = {20, 96, 192, 68}, off = 0;
    for (int i = 0; i < 4; i++) {
        const YaGgufTensor *t = ya_gguf_find_tensor(g, names[i]);
        CHECK(t && t->offset == off && t->nbytes == bytes[i] && t->offset % 32 == 0);
        if (t) CHECK(memcmp(t->data, want[i], (size_t)t->nbytes) == 0);
        off = (off + bytes[i] + 31) / 32 * 32;
    }
    const YaGgufTensor *tq = ya_gguf_find_tensor(g, "t.q8");
    CHECK(tq && tq->n_dims == 2 && tq->dims[0] == 64 && tq->dims[1] == 1 && tq->type == YA_GGML_Q8_0);

    /* ---- every truncated prefix fails cleanly (up to the end of the last
     * tensor's bytes: cutting its trailing alignment padding loses nothing) ---- */
    uint8_t *buf = malloc(g->len);
    size_t n = g->len, end = (size_t)(g->data_offset + tq->offset + tq->nbytes);
    memcpy(buf, g->buf, n);
    ya_gguf_free(g);
    int trunc_ok = 1;
    for (size_t cut = 0; cut < end; cut++) {
        YaGguf *h = NULL;
        YaError e = {0};
        if (ya_gguf_read_memory(buf, cut, "trunc", &h, &e) == YA_OK) {
            trunc_ok = 0;
            fprintf(stderr, "prefix of %zu/%zu bytes accepted\n", cut, n);
            ya_gguf_free(h);
            break;
        }
    }
    CHECK(trunc_ok);
    /* corrupted fields */
    struct { size_t off; uint8_t val; const char *what; } bad[] = {
        {0, 'X', "not a GGUF"}, {4, 2, "version 2"}, {8, 0xff, "huge tensor count"}, {16, 0xff, "huge kv count"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        uint8_t *c = malloc(n);
        memcpy(c, buf, n);
        c[bad[i].off] = bad[i].val;
        if (bad[i].off == 8 || bad[i].off == 16) c[bad[i].off + 7] = 0x7f;
        YaGguf *h = NULL;
        YaError e = {0};
        CHECK_MSG(ya_gguf_read_memory(c, n, "bad", &h, &e) == YA_ERR, "%s accepted", bad[i].what);
        ya_gguf_free(h);
        free(c);
    }
    /* a misaligned tensor offset: t.f16's offset (second tensor) + 1 */
    {
        YaGguf *h = NULL;
        CHECK(ya_gguf_read_memory(buf, n, "ok", &h, &err) == YA_OK);
        const YaGgufTensor *t = h ? ya_gguf_find_tensor(h, "t.f16") : NULL;
        /* the offset field sits right before the data start of the infos: find it by value */
        size_t pos = 0;
        for (size_t p = 0; t && p + 8 <= (size_t)h->data_offset; p++) {
            uint64_t v;
            memcpy(&v, buf + p, 8);
            if (v == t->offset && p >= 4 && buf[p - 4] == YA_GGML_F16 && buf[p - 3] == 0) pos = p;
        }
        CHECK(pos > 0);
        uint8_t *c = malloc(n);
        memcpy(c, buf, n);
        c[pos] += 1;
        YaGguf *h2 = NULL;
        YaError e = {0};
        CHECK(ya_gguf_read_memory(c, n, "misaligned", &h2, &e) == YA_ERR);
        CHECK(strstr(e.message, "multiple of the alignment") != NULL);
        ya_gguf_free(h2);
        ya_gguf_free(h);
        free(c);
    }
    free(buf);

    /* a failing fill aborts the write and leaves no file */
    char path2[300];
    snprintf(path2, sizeof path2, "%s.fail", path);
    w = ya_gguf_writer_new();
    CHECK(ya_gguf_add_tensor(w, "x", YA_GGML_F32, 1, d1, fill_fail, NULL, &err) == YA_OK);
    CHECK(ya_gguf_writer_finish(w, path2, &err) == YA_ERR);
    CHECK(strstr(err.message, "cannot produce x") != NULL);
    CHECK(!ya_path_exists(path2));

    /* permutation: row h·d + 2i + j of dst = row h·d + j·d/2 + i of src (2 heads, d = 4, 1 column) */
    float src[8] = {0, 1, 2, 3, 4, 5, 6, 7}, dst[8];
    ya_gguf_permute_rows(dst, src, 2, 4, 1);
    const float perm[8] = {0, 2, 1, 3, 4, 6, 5, 7};
    CHECK(memcmp(dst, perm, sizeof perm) == 0);
    unlink(path);
    TEST_MAIN_END();
}

/* test_gguf_quants.c — the GGUF block formats on their own: block sizes,
 * byte counts, the writer/reader refusing rows that are not whole blocks, a
 * Q4_K tensor round-tripping through a file, every quantizer's decoded error
 * on Gaussian rows (within the format's resolution, and not zero), exact
 * values the formats can represent (zeros, a constant) and the K-quant mix's
 * type choices for a 32-layer model, hand-listed from llama.cpp's rules.
 * That the bytes equal llama.cpp's is checked against llama.cpp itself by
 * kquant_ggml_check and the export_gguf_q* cases. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export/gguf_internal.h" /* defines: ya_gguf_mix_tensor_type */
#include "test_util.h"
#include "your_ai/gguf.h"
#include "your_ai/gguf_quants.h"

static int fill_copy(void *ctx, const char *name, void *dst, uint64_t nbytes, YaError *err) {
    (void)name;
    (void)err;
    memcpy(dst, ctx, nbytes);
    return YA_OK;
}

enum { N = 4096 };

static double rel_rms_error(int type, const float *x) {
    static uint8_t q[N * 2];
    static float y[N];
    if (ya_ggml_quantize(type, x, q, N) != (size_t)(N / ya_ggml_block_size(type)) * ya_ggml_block_bytes(type)) return -1;
    if (ya_ggml_dequantize(type, q, y, N) != 0) return -1;
    double e = 0, r = 0;
    for (int i = 0; i < N; i++) {
        e += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
        r += (double)x[i] * x[i];
    }
    return sqrt(e / r);
}

int main(void) {
    /* sizes */
    CHECK(ya_ggml_block_size(YA_GGML_Q4_K) == 256 && ya_ggml_block_bytes(YA_GGML_Q4_K) == 144);
    CHECK(ya_ggml_block_size(YA_GGML_Q5_K) == 256 && ya_ggml_block_bytes(YA_GGML_Q5_K) == 176);
    CHECK(ya_ggml_block_size(YA_GGML_Q6_K) == 256 && ya_ggml_block_bytes(YA_GGML_Q6_K) == 210);
    CHECK(ya_ggml_block_size(YA_GGML_Q5_0) == 32 && ya_ggml_block_bytes(YA_GGML_Q5_0) == 22);
    CHECK(ya_ggml_block_size(YA_GGML_Q5_1) == 32 && ya_ggml_block_bytes(YA_GGML_Q5_1) == 24);
    CHECK(ya_ggml_block_size(99) == 0 && ya_ggml_block_bytes(99) == 0);
    CHECK(ya_ggml_nbytes(YA_GGML_Q4_K, 512) == 288 && ya_ggml_nbytes(YA_GGML_Q4_K, 320) == 0);
    CHECK(ya_ggml_nbytes(YA_GGML_Q6_K, 256 * 3) == 630 && ya_ggml_nbytes(YA_GGML_Q5_1, 64) == 48);
    CHECK(strcmp(ya_ggml_type_name(YA_GGML_Q5_K), "Q5_K") == 0);

    /* quantize → dequantize on Gaussian rows: error within the format's resolution */
    float *x = malloc(N * sizeof(float));
    uint64_t s = 12345;
    for (int i = 0; i < N; i++) { /* Box-Muller on a 64-bit LCG */
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double u = ((s >> 11) + 0.5) / 9007199254740992.0;
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double v = (double)(s >> 11) / 9007199254740992.0;
        x[i] = (float)(0.02 * sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v));
    }
    static const struct {
        int type;
        double max_err; /* ~1.5x what these formats reach on Gaussian data */
    } fmt[] = {{YA_GGML_Q8_0, 0.008}, {YA_GGML_Q5_0, 0.06}, {YA_GGML_Q5_1, 0.06},
               {YA_GGML_Q4_K, 0.11},  {YA_GGML_Q5_K, 0.055}, {YA_GGML_Q6_K, 0.028}};
    for (size_t t = 0; t < sizeof fmt / sizeof *fmt; t++) {
        double e = rel_rms_error(fmt[t].type, x);
        CHECK_MSG(e > 1e-4 && e <= fmt[t].max_err, "%s: relative RMS error %.4f (max %.3f)",
                  ya_ggml_type_name(fmt[t].type), e, fmt[t].max_err);
    }
    /* values a format holds exactly come back exactly */
    static uint8_t q[N * 2];
    static float y[N];
    memset(x, 0, N * sizeof(float));
    for (size_t t = 0; t < sizeof fmt / sizeof *fmt; t++) {
        CHECK(ya_ggml_quantize(fmt[t].type, x, q, N) > 0 && ya_ggml_dequantize(fmt[t].type, q, y, N) == 0);
        for (int i = 0; i < N; i++) CHECK_MSG(y[i] == 0.0f, "%s: zero row decodes to %g", ya_ggml_type_name(fmt[t].type), y[i]);
    }
    for (int i = 0; i < N; i++) x[i] = -0.5f;
    CHECK(ya_ggml_quantize(YA_GGML_Q4_K, x, q, N) > 0 && ya_ggml_dequantize(YA_GGML_Q4_K, q, y, N) == 0);
    CHECK_MSG(fabsf(y[7] + 0.5f) < 1e-3f, "Q4_K constant -0.5 decodes to %g", y[7]);
    /* not whole blocks, not a block type */
    CHECK(ya_ggml_quantize(YA_GGML_Q4_K, x, q, 300) == 0 && ya_ggml_quantize(YA_GGML_F32, x, q, 256) == 0);
    CHECK(ya_ggml_dequantize(99, q, y, 256) == -1 && ya_ggml_dequantize(YA_GGML_Q6_K, q, y, 100) == -1);

    /* writer and reader: a Q4_K tensor round-trips; rows of 64 are refused */
    char path[] = "/tmp/ya_test_gguf_quants_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    YaError err = {0};
    YaGgufWriter *w = ya_gguf_writer_new();
    uint64_t dims[2] = {512, 2}, bad[2] = {64, 16};
    ya_ggml_quantize(YA_GGML_Q4_K, x, q, 1024);
    CHECK(ya_gguf_add_tensor(w, "q4k", YA_GGML_Q4_K, 2, dims, fill_copy, q, &err) == YA_OK);
    CHECK(ya_gguf_add_tensor(w, "q4k.bad", YA_GGML_Q4_K, 2, bad, fill_copy, q, &err) == YA_ERR);
    CHECK(strstr(err.message, "Q4_K") && strstr(err.message, "64"));
    CHECK(ya_gguf_writer_finish(w, path, &err) == YA_OK);
    YaGguf *g = NULL;
    CHECK(ya_gguf_read(path, &g, &err) == YA_OK);
    const YaGgufTensor *t = g ? ya_gguf_find_tensor(g, "q4k") : NULL;
    CHECK(t && t->type == YA_GGML_Q4_K && t->nbytes == 576 && memcmp(t->data, q, 576) == 0);
    ya_gguf_free(g);
    unlink(path);

    /* the Q4_K_M mix of a 32-layer model: "more bits" layers 0-3, 6, 9, ..., 27, 28-31 */
    YaGgufMixModel mm = {.n_layers = 32};
    for (int l = 0; l < 32; l++) {
        int more = l < 4 || l >= 28 || (l >= 6 && l % 3 == 0);
        int want = more ? YA_GGML_Q6_K : YA_GGML_Q4_K;
        CHECK_MSG(ya_gguf_mix_tensor_type(YA_GGUF_W_Q4_K_M, &mm, "blk.N.attn_v.weight", 2, 4096, l) == want, "layer %d", l);
        CHECK(ya_gguf_mix_tensor_type(YA_GGUF_W_Q4_K_M, &mm, "blk.N.ffn_down.weight", 2, 11008, l) == want);
        /* 11008 = 43·256 holds K-quants; 4896 = 153·32 does not: Q6_K → Q8_0, Q4_K → Q5_0 */
        CHECK(ya_gguf_mix_tensor_type(YA_GGUF_W_Q4_K_M, &mm, "blk.N.ffn_down.weight", 2, 4896, l) ==
              (more ? YA_GGML_Q8_0 : YA_GGML_Q5_0));
        CHECK(ya_gguf_mix_tensor_type(YA_GGUF_W_Q5_K_M, &mm, "blk.N.attn_q.weight", 2, 4096, l) == YA_GGML_Q5_K);
    }
    CHECK(ya_gguf_mix_tensor_type(YA_GGUF_W_Q4_K_M, &mm, "output.weight", 2, 4096, -1) == YA_GGML_Q6_K);
    CHECK(ya_gguf_mix_tensor_type(YA_GGUF_W_Q4_K_M, &mm, "token_embd.weight", 2, 4096, -1) == YA_GGML_Q4_K);
    CHECK(ya_gguf_mix_tensor_type(YA_GGUF_W_Q4_K_M, &mm, "blk.0.attn_norm.weight", 1, 4096, 0) == YA_GGML_F32);
    CHECK(ya_gguf_mix_tensor_type(YA_GGUF_W_Q4_K_M, &mm, "blk.0.attn_q.weight", 2, 896, 0) == YA_GGML_Q5_0);
    CHECK(ya_gguf_mix_tensor_type(YA_GGUF_W_Q5_K_M, &mm, "blk.0.attn_q.weight", 2, 896, 0) == YA_GGML_Q5_1);
    CHECK(ya_gguf_mix_tensor_type(YA_GGUF_W_Q6_K, &mm, "blk.5.ffn_down.weight", 2, 80, 5) == YA_GGML_F16);
    mm.tied_embeddings = 1;
    CHECK(ya_gguf_mix_tensor_type(YA_GGUF_W_Q4_K_M, &mm, "token_embd.weight", 2, 896, -1) == YA_GGML_Q8_0);
    mm.is_70b = 1;
    CHECK(ya_gguf_mix_tensor_type(YA_GGUF_W_Q4_K_M, &mm, "blk.5.attn_v.weight", 2, 8192, 5) == YA_GGML_Q5_K);
    free(x);
    TEST_MAIN_END();
}

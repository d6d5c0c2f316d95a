/* kquant_ggml_check.c — our GGUF block quantizers (src/export/gguf_quants.c,
 * gguf_kquants.c) against llama.cpp's own library, byte for byte.
 *   kquant_ggml_check LIBGGML_BASE.so
 * dlopen's the libggml-base.so that node-llama-cpp ships (the llama.cpp build
 * its llama-quantize uses; nothing is linked at build time), quantizes rows of
 * many value distributions with its ggml_quantize_chunk (no importance matrix,
 * so its reference quantizers) and with ours, and requires identical bytes for
 * Q8_0, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K. Then both libraries dequantize
 * llama.cpp's blocks and the floats must be identical too. Prints one line per
 * type; a difference names the type, the distribution, the block and the byte.
 * Exit 0 all identical, 1 a difference, 2 usage or the library did not load. */
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/gguf.h"
#include "your_ai/gguf_quants.h"

typedef size_t (*QuantizeChunkFn)(int type, const float *src, void *dst, int64_t start, int64_t nrows,
                                  int64_t n_per_row, const float *imatrix);
typedef void (*DequantizeRowFn)(const void *x, float *y, int64_t k);

enum { N_PER_ROW = 1024, N_ROWS = 8, N = N_PER_ROW * N_ROWS };

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double uniform01(void) { /* xorshift64*, 53 bits */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}
static double gauss(void) {
    double u = uniform01(), v = uniform01();
    return sqrt(-2.0 * log(u + 1e-300)) * cos(2.0 * M_PI * v);
}

/* Value distributions that exercise every branch of the quantizers. */
static const char *const k_dists[] = {
    "gauss(0.02)",  "gauss(1)",      "uniform(0,1)",   "uniform(-1,0)", "outliers",      "zero",     "constant",
    "tiny(1e-20)",  "small(1e-6)",   "mixed-scales",   "large(3e4)",    "sparse",        "integers", "near-ties",
    "subblock-zero", "one-sign-subblocks",
};
enum { N_DISTS = sizeof k_dists / sizeof *k_dists };

static void fill(int dist, float *x) {
    for (int i = 0; i < N; i++) {
        double v;
        switch (dist) {
        case 0: v = 0.02 * gauss(); break;
        case 1: v = gauss(); break;
        case 2: v = uniform01(); break;
        case 3: v = -uniform01(); break;
        case 4: v = uniform01() < 0.01 ? 50.0 * gauss() : 0.05 * gauss(); break;
        case 5: v = 0.0; break;
        case 6: v = 0.375; break;
        case 7: v = 1e-20 * gauss(); break;
        case 8: v = 1e-6 * gauss(); break;
        case 9: v = gauss() * pow(10.0, (double)((i / 32) % 7) - 3.0); break;
        case 10: v = 3e4 * gauss(); break;
        case 11: v = uniform01() < 0.9 ? 0.0 : gauss(); break;
        case 12: v = floor(16.0 * uniform01()) - 8.0; break;
        case 13: v = (floor(31.0 * uniform01()) + 0.5) / 31.0; break;
        case 14: v = (i / 16) % 3 == 0 ? 0.0 : gauss(); break;
        default: v = ((i / 32) % 2 ? 1.0 : -1.0) * fabs(gauss()) + ((i / 32) % 4 == 3 ? 0.5 : 0.0); break;
        }
        x[i] = (float)v;
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: kquant_ggml_check LIBGGML_BASE.so\n");
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "kquant_ggml_check: dlopen %s: %s\n", argv[1], dlerror());
        return 2;
    }
    QuantizeChunkFn quantize_chunk = (QuantizeChunkFn)dlsym(lib, "ggml_quantize_chunk");
    static const struct {
        int type;
        const char *dequant_symbol;
    } types[] = {
        {YA_GGML_Q8_0, "dequantize_row_q8_0"}, {YA_GGML_Q5_0, "dequantize_row_q5_0"},
        {YA_GGML_Q5_1, "dequantize_row_q5_1"}, {YA_GGML_Q4_K, "dequantize_row_q4_K"},
        {YA_GGML_Q5_K, "dequantize_row_q5_K"}, {YA_GGML_Q6_K, "dequantize_row_q6_K"},
    };
    if (!quantize_chunk) {
        fprintf(stderr, "kquant_ggml_check: %s has no ggml_quantize_chunk\n", argv[1]);
        return 2;
    }
    float *x = malloc(N * sizeof(float)), *y_ref = malloc(N * sizeof(float)), *y_ours = malloc(N * sizeof(float));
    uint8_t *q_ref = malloc(N * 2), *q_ours = malloc(N * 2); /* ≥ the largest format (Q8_0: 34/32 bytes a value) */
    if (!x || !y_ref || !y_ours || !q_ref || !q_ours) return 2;
    int failures = 0;
    for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
        int type = types[t].type;
        DequantizeRowFn dequant_ref = (DequantizeRowFn)dlsym(lib, types[t].dequant_symbol);
        if (!dequant_ref) {
            fprintf(stderr, "kquant_ggml_check: %s has no %s\n", argv[1], types[t].dequant_symbol);
            return 2;
        }
        size_t block = ya_ggml_block_bytes(type), n_blocks = N / (size_t)ya_ggml_block_size(type);
        int bad_dists = 0, bad_dequant = 0;
        for (int dist = 0; dist < N_DISTS; dist++) {
            fill(dist, x);
            size_t n_ref = quantize_chunk(type, x, q_ref, 0, N_ROWS, N_PER_ROW, NULL);
            size_t n_ours = ya_ggml_quantize(type, x, q_ours, N);
            if (n_ref != n_blocks * block || n_ours != n_ref) {
                fprintf(stderr, "FAIL %s %s: %zu bytes from llama.cpp, %zu from ours, expected %zu\n",
                        ya_ggml_type_name(type), k_dists[dist], n_ref, n_ours, n_blocks * block);
                bad_dists++;
                continue;
            }
            size_t n_diff = 0, first = 0;
            for (size_t b = 0; b < n_blocks; b++)
                if (memcmp(q_ref + b * block, q_ours + b * block, block) != 0 && n_diff++ == 0) first = b;
            if (n_diff) {
                size_t o = 0;
                while (q_ref[first * block + o] == q_ours[first * block + o]) o++;
                fprintf(stderr, "FAIL %s %s: %zu of %zu blocks differ; first: block %zu byte %zu (llama.cpp 0x%02x, ours 0x%02x)\n",
                        ya_ggml_type_name(type), k_dists[dist], n_diff, n_blocks, first, o, q_ref[first * block + o],
                        q_ours[first * block + o]);
                bad_dists++;
            }
            /* decode llama.cpp's blocks with both libraries */
            dequant_ref(q_ref, y_ref, N);
            if (ya_ggml_dequantize(type, q_ref, y_ours, N) != 0 || memcmp(y_ref, y_ours, N * sizeof(float)) != 0) {
                size_t i = 0;
                while (i < N && memcmp(&y_ref[i], &y_ours[i], sizeof(float)) == 0) i++;
                fprintf(stderr, "FAIL %s %s: dequantized value %zu: llama.cpp %.9g, ours %.9g\n", ya_ggml_type_name(type),
                        k_dists[dist], i, i < N ? y_ref[i] : 0.0, i < N ? y_ours[i] : 0.0);
                bad_dequant++;
            }
        }
        printf("%-5s %s: %d distributions x %d values: quantized bytes %s, dequantized floats %s\n",
               ya_ggml_type_name(type), bad_dists || bad_dequant ? "FAIL" : "ok", N_DISTS, N,
               bad_dists ? "DIFFER" : "identical", bad_dequant ? "DIFFER" : "identical");
        failures += bad_dists + bad_dequant;
    }
    free(x);
    free(y_ref);
    free(y_ours);
    free(q_ref);
    free(q_ours);
    dlclose(lib);
    return failures ? 1 : 0;
}

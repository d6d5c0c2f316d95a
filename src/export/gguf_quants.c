/* gguf_quants.c — the 32-value block formats Q8_0, Q5_0 and Q5_1 (llama.cpp's
 * reference quantizers, bit for bit: Q5_0/Q5_1 are what llama-quantize writes
 * for Q4_K/Q5_K tensors whose rows are not a multiple of 256), plus the
 * per-type dispatch and block sizes for every type our GGUF files hold.
 * The K-quants live in gguf_kquants.c. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "your_ai/export.h" /* declares: ya_gguf_quantize_q8_0 */
#include "your_ai/gguf.h"
#include "your_ai/gguf_quants.h"
#include "your_ai/safetensors.h" /* defines: ya_f32_to_f16, ya_f16_to_f32, ya_bf16_to_f32 */

int ya_ggml_block_size(int type) {
    switch (type) {
    case YA_GGML_F32:
    case YA_GGML_F16:
    case YA_GGML_BF16: return 1;
    case YA_GGML_Q8_0:
    case YA_GGML_Q5_0:
    case YA_GGML_Q5_1: return 32;
    case YA_GGML_Q4_K:
    case YA_GGML_Q5_K:
    case YA_GGML_Q6_K: return 256;
    default: return 0;
    }
}

size_t ya_ggml_block_bytes(int type) {
    switch (type) {
    case YA_GGML_F32: return 4;
    case YA_GGML_F16:
    case YA_GGML_BF16: return 2;
    case YA_GGML_Q8_0: return 34;
    case YA_GGML_Q5_0: return 22;
    case YA_GGML_Q5_1: return 24;
    case YA_GGML_Q4_K: return 144;
    case YA_GGML_Q5_K: return 176;
    case YA_GGML_Q6_K: return 210;
    default: return 0;
    }
}

void ya_gguf_quantize_q8_0(const float *x, uint8_t *dst, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++) {
        const float *v = x + b * 32;
        uint8_t *blk = dst + b * 34;
        float amax = 0.0f;
        for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(v[i]));
        const float d = amax / 127.0f;
        const float id = d ? 1.0f / d : 0.0f;
        uint16_t dh = ya_f32_to_f16(d);
        memcpy(blk, &dh, 2);
        for (int i = 0; i < 32; i++) blk[2 + i] = (uint8_t)(int8_t)roundf(v[i] * id);
    }
}

/* Q5_0/Q5_1 keep 4 low bits of value j in the low nibble of qs[j] (j < 16) or
 * the high nibble of qs[j − 16], and bit 4 of value j in bit j of qh. */
static void pack_5bit(uint8_t *qh4, uint8_t *qs, const uint8_t *q) {
    uint32_t qh = 0;
    for (int j = 0; j < 16; j++) {
        qs[j] = (uint8_t)((q[j] & 0x0F) | ((q[j + 16] & 0x0F) << 4));
        qh |= ((q[j] & 0x10u) >> 4) << j;
        qh |= ((q[j + 16] & 0x10u) >> 4) << (j + 16);
    }
    memcpy(qh4, &qh, 4);
}

static void unpack_5bit(const uint8_t *qh4, const uint8_t *qs, int *q) {
    uint32_t qh;
    memcpy(&qh, qh4, 4);
    for (int j = 0; j < 16; j++) {
        q[j] = (qs[j] & 0x0F) | (int)(((qh >> j) << 4) & 0x10);
        q[j + 16] = (qs[j] >> 4) | (int)((qh >> (j + 12)) & 0x10);
    }
}

/* Q5_0: d = (the value of largest magnitude) / −16, q = min(31, trunc(x/d + 16.5)). */
void ya_quantize_q5_0(const float *x, uint8_t *dst, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++, x += 32) {
        uint8_t *blk = dst + b * 22, q[32];
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < 32; j++)
            if (amax < fabsf(x[j])) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        const float d = max / -16;
        const float id = d ? 1.0f / d : 0.0f;
        uint16_t dh = ya_f32_to_f16(d);
        memcpy(blk, &dh, 2);
        for (int j = 0; j < 32; j++) {
            int v = (int8_t)(x[j] * id + 16.5f);
            q[j] = (uint8_t)(v < 31 ? v : 31);
        }
        pack_5bit(blk + 2, blk + 6, q);
    }
}

/* Q5_1: d = (max − min) / 31, m = min, q = trunc((x − min)/d + 0.5). */
void ya_quantize_q5_1(const float *x, uint8_t *dst, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++, x += 32) {
        uint8_t *blk = dst + b * 24, q[32];
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < 32; j++) {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
        const float d = (max - min) / 31;
        const float id = d ? 1.0f / d : 0.0f;
        uint16_t dh = ya_f32_to_f16(d), mh = ya_f32_to_f16(min);
        memcpy(blk, &dh, 2);
        memcpy(blk + 2, &mh, 2);
        for (int j = 0; j < 32; j++) q[j] = (uint8_t)((x[j] - min) * id + 0.5f);
        pack_5bit(blk + 4, blk + 8, q);
    }
}

void ya_dequantize_q5_0(const uint8_t *src, float *y, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++, y += 32) {
        const uint8_t *blk = src + b * 22;
        uint16_t dh;
        memcpy(&dh, blk, 2);
        const float d = ya_f16_to_f32(dh);
        int q[32];
        unpack_5bit(blk + 2, blk + 6, q);
        for (int j = 0; j < 32; j++) y[j] = (float)(q[j] - 16) * d;
    }
}

void ya_dequantize_q5_1(const uint8_t *src, float *y, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++, y += 32) {
        const uint8_t *blk = src + b * 24;
        uint16_t dh, mh;
        memcpy(&dh, blk, 2);
        memcpy(&mh, blk + 2, 2);
        const float d = ya_f16_to_f32(dh), m = ya_f16_to_f32(mh);
        int q[32];
        unpack_5bit(blk + 4, blk + 8, q);
        for (int j = 0; j < 32; j++) y[j] = (float)q[j] * d + m;
    }
}

static void dequantize_q8_0(const uint8_t *src, float *y, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++, y += 32) {
        const uint8_t *blk = src + b * 34;
        uint16_t dh;
        memcpy(&dh, blk, 2);
        const float d = ya_f16_to_f32(dh);
        for (int j = 0; j < 32; j++) y[j] = (float)(int8_t)blk[2 + j] * d;
    }
}

size_t ya_ggml_quantize(int type, const float *x, void *dst, int64_t n) {
    int bs = ya_ggml_block_size(type);
    if (bs <= 1 || n % bs) return 0;
    switch (type) {
    case YA_GGML_Q8_0: ya_gguf_quantize_q8_0(x, dst, n); break;
    case YA_GGML_Q5_0: ya_quantize_q5_0(x, dst, n); break;
    case YA_GGML_Q5_1: ya_quantize_q5_1(x, dst, n); break;
    case YA_GGML_Q4_K: ya_quantize_q4_k(x, dst, n); break;
    case YA_GGML_Q5_K: ya_quantize_q5_k(x, dst, n); break;
    case YA_GGML_Q6_K: ya_quantize_q6_k(x, dst, n); break;
    default: return 0;
    }
    return (size_t)(n / bs) * ya_ggml_block_bytes(type);
}

int ya_ggml_dequantize(int type, const void *src, float *y, int64_t n) {
    int bs = ya_ggml_block_size(type);
    if (!bs || n % bs) return -1;
    const uint8_t *s = src;
    switch (type) {
    case YA_GGML_F32: memcpy(y, src, (size_t)n * sizeof(float)); break;
    case YA_GGML_F16:
    case YA_GGML_BF16:
        for (int64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, s + 2 * i, 2);
            y[i] = type == YA_GGML_F16 ? ya_f16_to_f32(h) : ya_bf16_to_f32(h);
        }
        break;
    case YA_GGML_Q8_0: dequantize_q8_0(s, y, n); break;
    case YA_GGML_Q5_0: ya_dequantize_q5_0(s, y, n); break;
    case YA_GGML_Q5_1: ya_dequantize_q5_1(s, y, n); break;
    case YA_GGML_Q4_K: ya_dequantize_q4_k(s, y, n); break;
    case YA_GGML_Q5_K: ya_dequantize_q5_k(s, y, n); break;
    case YA_GGML_Q6_K: ya_dequantize_q6_k(s, y, n); break;
    default: return -1;
    }
    return 0;
}

/* gguf_kquants.c — the K-quant super-block formats Q4_K, Q5_K and Q6_K
 * (256 values per block), quantized exactly as llama.cpp's reference
 * quantizers do without an importance matrix, and dequantized.
 *
 * Bit-for-bit agreement with llama-quantize is the point, so every float
 * operation below happens in the same order and precision as there: sums are
 * accumulated left to right in float, products are not fused (this file is
 * compiled with -ffp-contract=off), scales go through fp16 exactly where
 * llama.cpp rounds them. tests/export/kquant_ggml_check.c compares the bytes
 * with llama.cpp's own library. */
#include <math.h>
#include <string.h>

#include "your_ai/gguf_quants.h"
#include "your_ai/safetensors.h" /* defines: ya_f32_to_f16, ya_f16_to_f32 */

#define QK_K 256
/* below this the sub-block scales of a Q6_K block are all treated as zero */
#define GROUP_MAX_EPS 1e-15f

/* Round to nearest (ties to even) for |x| < 2^22 through the float adder:
 * adding 1.5·2^23 leaves the integer in the low mantissa bits. */
static inline int nearest_int(float x) {
    float v = x + 12582912.f;
    int i;
    memcpy(&i, &v, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

static inline int clamp_int(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

static inline float f16_round(float x) { return ya_f16_to_f32(ya_f32_to_f16(x)); }

/* Asymmetric quantization of n values to L ∈ [0, nmax] with x ≈ scale·L − the_min:
 * start from the min/max grid, then try nstep + 1 stretched grids
 * (nmax + rmin + rdelta·is levels over the range), each refit by weighted least
 * squares, and keep the one with the smallest weighted squared error. */
static float fit_scale_min(int n, int nmax, const float *x, const float *w, uint8_t *L, float *the_min, uint8_t *Laux,
                           float rmin, float rdelta, int nstep) {
    float min = x[0], max = x[0];
    float sum_w = w[0], sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        for (int i = 0; i < n; i++) L[i] = 0;
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float best_error = 0;
    for (int i = 0; i < n; i++) {
        int l = nearest_int(iscale * (x[i] - min));
        L[i] = (uint8_t)clamp_int(l, 0, nmax);
        float diff = scale * L[i] + min - x[i];
        best_error += w[i] * (diff * diff);
    }
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            int l = clamp_int(nearest_int(iscale * (x[i] - min)), 0, nmax);
            Laux[i] = (uint8_t)l;
            sum_l += w[i] * l;
            sum_l2 += w[i] * l * l;
            sum_xl += w[i] * l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float cur_error = 0;
            for (int i = 0; i < n; i++) {
                float diff = this_scale * Laux[i] + this_min - x[i];
                cur_error += w[i] * (diff * diff);
            }
            if (cur_error < best_error) {
                memcpy(L, Laux, (size_t)n);
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

/* Symmetric quantization of n values to L ∈ [0, 2·nmax) (stored + nmax) with
 * x ≈ scale·(L − nmax), weights x²: the grid through the largest |x|, then 18
 * nearby grids, keeping the best weighted least-squares fit. */
static float fit_scale_symmetric(int n, int nmax, const float *x, int8_t *L) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < GROUP_MAX_EPS) {
        for (int i = 0; i < n; i++) L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)(l + nmax);
        float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        iscale = -(nmax + 0.1f * is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1);
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++) L[i] = (int8_t)(nmax + clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1));
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* The 12 scale bytes of Q4_K/Q5_K: 8 six-bit scales and 8 six-bit mins.
 * Sub-blocks 0-3 use the low 6 bits of bytes j (scale) and j+4 (min); 4-7 keep
 * their low nibbles in byte j+4 and their top 2 bits in the spare top bits of
 * bytes j-4 (scale) and j (min). */
static void pack_scale_min(uint8_t *s, const uint8_t ls[8], const uint8_t lm[8]) {
    for (int j = 0; j < 4; j++) {
        s[j] = ls[j];
        s[j + 4] = lm[j];
    }
    for (int j = 4; j < 8; j++) {
        s[j + 4] = (uint8_t)((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
        s[j - 4] |= (uint8_t)((ls[j] >> 4) << 6);
        s[j] |= (uint8_t)((lm[j] >> 4) << 6);
    }
}

static void unpack_scale_min(int j, const uint8_t *s, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (uint8_t)((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4));
        *m = (uint8_t)((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
    }
}

/* Shared by Q4_K (nmax 15) and Q5_K (nmax 31): fits every 32-value sub-block,
 * quantizes the 8 scales and 8 mins to 6 bits against fp16 super-scales d and
 * dmin, then requantizes the values with the scales as stored.
 * Writes d, dmin, scales[12] at blk and the levels to L[256]. */
static void quantize_scale_min_block(const float *x, int nmax, float rmin, int nstep, uint8_t *blk, uint8_t L[QK_K]) {
    float scales[8], mins[8], weights[32];
    uint8_t Laux[32], ls[8], lm[8];
    float max_scale = 0, max_min = 0; /* mins are subtracted: both are ≥ 0 */
    for (int j = 0; j < 8; j++) {
        const float *xs = x + 32 * j;
        float sum_x2 = 0;
        for (int l = 0; l < 32; l++) sum_x2 += xs[l] * xs[l];
        float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++) weights[l] = av_x + fabsf(xs[l]);
        scales[j] = fit_scale_min(32, nmax, xs, weights, L + 32 * j, &mins[j], Laux, rmin, 0.1f, nstep);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    for (int j = 0; j < 8; j++) {
        /* llama.cpp stores nearest_int into a uint8_t before clamping to 63 */
        uint8_t s = (uint8_t)nearest_int(inv_scale * scales[j]), m = (uint8_t)nearest_int(inv_min * mins[j]);
        ls[j] = s < 63 ? s : 63;
        lm[j] = m < 63 ? m : 63;
    }
    uint16_t d = ya_f32_to_f16(max_scale / 63.f), dmin = ya_f32_to_f16(max_min / 63.f);
    memcpy(blk, &d, 2);
    memcpy(blk + 2, &dmin, 2);
    uint8_t *sc_bytes = blk + 4;
    memset(sc_bytes, 0, 12);
    pack_scale_min(sc_bytes, ls, lm);
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        unpack_scale_min(j, sc_bytes, &sc, &m);
        const float dj = ya_f16_to_f32(d) * sc;
        if (!dj) continue;
        const float dm = ya_f16_to_f32(dmin) * m;
        for (int i = 0; i < 32; i++) L[32 * j + i] = (uint8_t)clamp_int(nearest_int((x[32 * j + i] + dm) / dj), 0, nmax);
    }
}

void ya_quantize_q4_k(const float *x, uint8_t *dst, int64_t n) {
    uint8_t L[QK_K];
    for (int64_t b = 0; b < n / QK_K; b++, x += QK_K) {
        uint8_t *blk = dst + b * 144, *q = blk + 16;
        quantize_scale_min_block(x, 15, -1.f, 20, blk, L);
        /* 64 values per 32 bytes: low nibbles the first 32, high nibbles the next 32 */
        for (int j = 0; j < QK_K; j += 64, q += 32)
            for (int l = 0; l < 32; l++) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
    }
}

void ya_quantize_q5_k(const float *x, uint8_t *dst, int64_t n) {
    uint8_t L[QK_K];
    for (int64_t b = 0; b < n / QK_K; b++, x += QK_K) {
        uint8_t *blk = dst + b * 176, *qh = blk + 16, *ql = blk + 48;
        quantize_scale_min_block(x, 31, -0.5f, 15, blk, L);
        memset(qh, 0, 32);
        /* as Q4_K for the low 4 bits; bit 4 of value j + 64k (+32) goes to bit 2k (2k+1) of qh[j] */
        uint8_t m1 = 1, m2 = 2;
        for (int k = 0; k < QK_K; k += 64, ql += 32, m1 <<= 2, m2 <<= 2)
            for (int j = 0; j < 32; j++) {
                int l1 = L[k + j], l2 = L[k + j + 32];
                if (l1 > 15) {
                    l1 -= 16;
                    qh[j] |= m1;
                }
                if (l2 > 15) {
                    l2 -= 16;
                    qh[j] |= m2;
                }
                ql[j] = (uint8_t)(l1 | (l2 << 4));
            }
    }
}

void ya_quantize_q6_k(const float *x, uint8_t *dst, int64_t n) {
    int8_t L[QK_K];
    float scales[16];
    for (int64_t b = 0; b < n / QK_K; b++, x += QK_K) {
        uint8_t *blk = dst + b * 210, *ql = blk, *qh = blk + 128;
        int8_t *sc = (int8_t *)(blk + 192);
        float max_scale = 0, max_abs_scale = 0;
        for (int ib = 0; ib < 16; ib++) {
            scales[ib] = fit_scale_symmetric(16, 32, x + 16 * ib, L + 16 * ib);
            float a = fabsf(scales[ib]);
            if (a > max_abs_scale) {
                max_abs_scale = a;
                max_scale = scales[ib];
            }
        }
        if (max_abs_scale < GROUP_MAX_EPS) {
            memset(blk, 0, 210); /* d = +0 as fp16 is all-zero bits too */
            continue;
        }
        float iscale = -128.f / max_scale;
        uint16_t d = ya_f32_to_f16(1 / iscale);
        memcpy(blk + 208, &d, 2);
        for (int ib = 0; ib < 16; ib++) {
            int s = nearest_int(iscale * scales[ib]);
            sc[ib] = (int8_t)(s < 127 ? s : 127);
        }
        for (int j = 0; j < 16; j++) {
            float dj = ya_f16_to_f32(d) * sc[j];
            if (!dj) continue;
            for (int i = 0; i < 16; i++) L[16 * j + i] = (int8_t)(clamp_int(nearest_int(x[16 * j + i] / dj), -32, 31) + 32);
        }
        /* per 128 values: low nibbles of values l, l+32 (ql[l]) and l+64, l+96 ... two bits each in qh[l] */
        for (int j = 0; j < QK_K; j += 128, ql += 64, qh += 32)
            for (int l = 0; l < 32; l++) {
                uint8_t q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF, q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
                ql[l] = (uint8_t)(q1 | (q3 << 4));
                ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
                qh[l] = (uint8_t)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) |
                                  ((L[j + l + 96] >> 4) << 6));
            }
    }
}

/* ---- dequantization -------------------------------------------------------- */

static void read_d_dmin(const uint8_t *blk, float *d, float *dmin) {
    uint16_t h;
    memcpy(&h, blk, 2);
    *d = ya_f16_to_f32(h);
    memcpy(&h, blk + 2, 2);
    *dmin = ya_f16_to_f32(h);
}

void ya_dequantize_q4_k(const uint8_t *src, float *y, int64_t n) {
    for (int64_t b = 0; b < n / QK_K; b++) {
        const uint8_t *blk = src + b * 144, *s = blk + 4, *q = blk + 16;
        float d, dmin;
        read_d_dmin(blk, &d, &dmin);
        for (int j = 0, is = 0; j < QK_K; j += 64, q += 32, is += 2) {
            uint8_t sc, m;
            unpack_scale_min(is, s, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            unpack_scale_min(is + 1, s, &sc, &m);
            const float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * (q[l] & 0xF) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (q[l] >> 4) - m2;
        }
    }
}

void ya_dequantize_q5_k(const uint8_t *src, float *y, int64_t n) {
    for (int64_t b = 0; b < n / QK_K; b++) {
        const uint8_t *blk = src + b * 176, *s = blk + 4, *qh = blk + 16, *ql = blk + 48;
        float d, dmin;
        read_d_dmin(blk, &d, &dmin);
        uint8_t u1 = 1, u2 = 2;
        for (int j = 0, is = 0; j < QK_K; j += 64, ql += 32, is += 2, u1 <<= 2, u2 <<= 2) {
            uint8_t sc, m;
            unpack_scale_min(is, s, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            unpack_scale_min(is + 1, s, &sc, &m);
            const float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
        }
    }
}

void ya_dequantize_q6_k(const uint8_t *src, float *y, int64_t n) {
    for (int64_t b = 0; b < n / QK_K; b++) {
        const uint8_t *blk = src + b * 210, *ql = blk, *qh = blk + 128;
        const int8_t *sc = (const int8_t *)(blk + 192);
        uint16_t h;
        memcpy(&h, blk + 208, 2);
        const float d = ya_f16_to_f32(h);
        for (int k = 0; k < QK_K; k += 128, y += 128, ql += 64, qh += 32, sc += 8)
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * sc[is] * q1;
                y[l + 32] = d * sc[is + 2] * q2;
                y[l + 64] = d * sc[is + 4] * q3;
                y[l + 96] = d * sc[is + 6] * q4;
            }
    }
}

/* float_convert.c — safetensors dtype table and exact fp32 ↔ bf16/f16 conversions.
 *
 * Why hand-written bit code: the build targets x86-64-v2 (no F16C), and the
 * conversions must be exact and portable — round to nearest even, subnormals,
 * ±Inf and NaN handled the way PyTorch/numpy do (tests compare bit for bit).
 * ya_to_f32 is the hot path when a bf16/f16 weight is widened into scratch:
 * its loops load through memcpy (the mmap'd data carries no alignment) and are
 * branch-free so the compiler can vectorise them. */
#include <string.h>

#include "your_ai/safetensors.h"

static const struct {
    const char *name;
    size_t size;
} k_dtypes[YA_DTYPE_COUNT] = {
    [YA_DTYPE_F32] = {"F32", 4},      [YA_DTYPE_F16] = {"F16", 2},         [YA_DTYPE_BF16] = {"BF16", 2},
    [YA_DTYPE_F64] = {"F64", 8},      [YA_DTYPE_I64] = {"I64", 8},         [YA_DTYPE_I32] = {"I32", 4},
    [YA_DTYPE_I16] = {"I16", 2},      [YA_DTYPE_I8] = {"I8", 1},           [YA_DTYPE_U8] = {"U8", 1},
    [YA_DTYPE_U16] = {"U16", 2},      [YA_DTYPE_U32] = {"U32", 4},         [YA_DTYPE_U64] = {"U64", 8},
    [YA_DTYPE_BOOL] = {"BOOL", 1},    [YA_DTYPE_F8_E4M3] = {"F8_E4M3", 1}, [YA_DTYPE_F8_E5M2] = {"F8_E5M2", 1},
};

const char *ya_dtype_name(YaDtype dt) { return (unsigned)dt < YA_DTYPE_COUNT ? k_dtypes[dt].name : "?"; }

size_t ya_dtype_size(YaDtype dt) { return (unsigned)dt < YA_DTYPE_COUNT ? k_dtypes[dt].size : 0; }

int ya_dtype_parse(const char *s, YaDtype *out) {
    for (int i = 0; i < YA_DTYPE_COUNT; i++)
        if (strcmp(s, k_dtypes[i].name) == 0) {
            *out = (YaDtype)i;
            return 0;
        }
    return -1;
}

int ya_dtype_is_float(YaDtype dt) { return dt == YA_DTYPE_F32 || dt == YA_DTYPE_F16 || dt == YA_DTYPE_BF16; }

static inline uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static inline float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float ya_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

uint16_t ya_f32_to_bf16(float x) {
    uint32_t u = f32_bits(x);
    /* NaN: keep sign and top payload bits, force the quiet bit so truncation
     * can never turn a NaN into an Inf. */
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);
    /* Round to nearest even: add 0x7fff plus the lsb of the kept half. A carry
     * out of the mantissa bumps the exponent, up to Inf — which is correct. */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

/* f16 → f32, branch-free: shift exponent+mantissa into place and rebias; Inf/NaN
 * get the larger rebias, subnormals are renormalised by one float subtraction. */
static inline uint32_t f16_to_f32_bits(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t em = (uint32_t)(h & 0x7fffu) << 13; /* exponent+mantissa in f32 position */
    uint32_t exp = em & 0x0f800000u;
    uint32_t normal = em + ((127u - 15u) << 23);
    uint32_t infnan = em + ((255u - 31u) << 23);
    /* subnormal: m·2^-24 = (2^-14·(1 + m/1024)) − 2^-14, exact in f32 */
    uint32_t sub = f32_bits(bits_f32(em + (113u << 23)) - bits_f32(113u << 23));
    uint32_t is_infnan = 0u - (uint32_t)(exp == 0x0f800000u), is_sub = 0u - (uint32_t)(exp == 0);
    return sign | (infnan & is_infnan) | (sub & is_sub) | (normal & ~(is_infnan | is_sub)); /* selects, no branches */
}

float ya_f16_to_f32(uint16_t h) { return bits_f32(f16_to_f32_bits(h)); }

uint16_t ya_f32_to_f16(float x) {
    uint32_t u = f32_bits(x);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t ax = u & 0x7fffffffu;
    if (ax > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu)); /* quiet NaN */
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* ≥ 65520 rounds to Inf (and Inf) */
    uint32_t e = ax >> 23;
    if (e < 113) {
        /* f16 subnormal (or zero): value / 2^-24 = mant · 2^(e-126), rounded to even */
        if (e < 102) return sign; /* < 2^-25: rounds to ±0 (f32 subnormals included) */
        uint32_t mant = (ax & 0x7fffffu) | 0x800000u;
        uint32_t s = 126 - e; /* 14..24 */
        uint32_t q = mant >> s, rem = mant & ((1u << s) - 1), half = 1u << (s - 1);
        if (rem > half || (rem == half && (q & 1u))) q++;
        return (uint16_t)(sign | q); /* q == 0x400 encodes the smallest normal */
    }
    uint32_t base = ((e - 112) << 10) | ((ax & 0x7fffffu) >> 13);
    uint32_t rem = ax & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (base & 1u))) base++; /* carry may bump the exponent */
    return (uint16_t)(sign | base);
}

/* The loops below run in blocks of YA_CONV_BLOCK elements: a constant inner
 * trip count is what GCC's -O2 cost model needs to vectorise them. */
#define YA_CONV_BLOCK 16

static inline void bf16_to_f32_one(const unsigned char *restrict p, float *restrict dst) {
    uint16_t h;
    memcpy(&h, p, 2);
    uint32_t u = (uint32_t)h << 16;
    memcpy(dst, &u, 4);
}

static inline void f16_to_f32_one(const unsigned char *restrict p, float *restrict dst) {
    uint16_t h;
    memcpy(&h, p, 2);
    uint32_t u = f16_to_f32_bits(h);
    memcpy(dst, &u, 4);
}

void ya_to_f32(YaDtype dt, const void *restrict src, float *restrict dst, size_t n) {
    const unsigned char *restrict p = src;
    size_t i = 0, nb = n / YA_CONV_BLOCK * YA_CONV_BLOCK;
    switch (dt) {
    case YA_DTYPE_F32:
        memcpy(dst, src, n * 4);
        break;
    case YA_DTYPE_BF16:
        for (; i < nb; i += YA_CONV_BLOCK)
            for (int j = 0; j < YA_CONV_BLOCK; j++) bf16_to_f32_one(p + 2 * (i + j), dst + i + j);
        for (; i < n; i++) bf16_to_f32_one(p + 2 * i, dst + i);
        break;
    case YA_DTYPE_F16:
        for (; i < nb; i += YA_CONV_BLOCK)
            for (int j = 0; j < YA_CONV_BLOCK; j++) f16_to_f32_one(p + 2 * (i + j), dst + i + j);
        for (; i < n; i++) f16_to_f32_one(p + 2 * i, dst + i);
        break;
    default: /* callers check ya_dtype_is_float first; zeros keep a bug visible but harmless */
        memset(dst, 0, n * sizeof *dst);
        break;
    }
}

void ya_from_f32(YaDtype dt, const float *restrict src, void *restrict dst, size_t n) {
    unsigned char *restrict p = dst;
    size_t i = 0, nb = n / YA_CONV_BLOCK * YA_CONV_BLOCK;
    switch (dt) {
    case YA_DTYPE_F32:
        memcpy(dst, src, n * 4);
        break;
    case YA_DTYPE_BF16:
        for (; i < nb; i += YA_CONV_BLOCK)
            for (int j = 0; j < YA_CONV_BLOCK; j++) {
                uint16_t h = ya_f32_to_bf16(src[i + j]);
                memcpy(p + 2 * (i + j), &h, 2);
            }
        for (; i < n; i++) {
            uint16_t h = ya_f32_to_bf16(src[i]);
            memcpy(p + 2 * i, &h, 2);
        }
        break;
    case YA_DTYPE_F16:
        for (; i < n; i++) {
            uint16_t h = ya_f32_to_f16(src[i]);
            memcpy(p + 2 * i, &h, 2);
        }
        break;
    default:
        break;
    }
}

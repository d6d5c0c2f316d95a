/* cuda_vec.h — 16-byte accesses for the memory-bound bf16 kernels
 * (cuda_activation.cu, cuda_norm.cu, cuda_rope.cu, cuda_embedding.cu's to_bf16).
 *
 * A warp of scalar 2-byte loads keeps too few bytes in flight to fill HBM
 * (40–50 % of copy bandwidth, docs/CUDA.md "Timings"); one 16-byte load per
 * thread (8 bf16, `ld.global.v4`) is what reaches it. The conversions are the
 * scalar ones element by element (__bfloat162float exact, __float2bfloat16
 * round-to-nearest-even), so a vectorised kernel that does the scalar kernel's
 * float arithmetic per element writes the same bits.
 *
 * Every launcher checks ya_aligned16() on each pointer it hands to a
 * vectorised kernel and falls back to the scalar kernel when one is not
 * 16-byte aligned (a view into a buffer at an odd element offset). */
#ifndef YOUR_AI_CUDA_VEC_H
#define YOUR_AI_CUDA_VEC_H

#include <stdint.h>

#include "backend/cuda/cuda_internal.h"

/* Eight bf16 as one 16-byte word; the bits travel as unsigned short so the
 * union holds only trivial types. */
union YaBf16x8 {
    uint4 u;
    unsigned short s[8];
};

/* NULL counts as aligned: optional outputs are tested separately. */
static inline bool ya_aligned16(const void *p) { return ((uintptr_t)p & 15u) == 0; }

/* The 16 bytes at p (8 bf16), p 16-byte aligned: kept packed where a kernel
 * holds a group across a barrier (half the registers of 8 floats). */
__device__ inline uint4 ya_ld16(const __nv_bfloat16 *p) { return *reinterpret_cast<const uint4 *>(p); }

/* f[0..7] = the 8 bf16 in u as fp32 (exact). */
__device__ inline void ya_unpack8(float f[8], uint4 u) {
    YaBf16x8 v;
    v.u = u;
#pragma unroll
    for (int k = 0; k < 8; k++) f[k] = __bfloat162float(__ushort_as_bfloat16(v.s[k]));
}

/* f[0..7] = p[0..7] as fp32; p 16-byte aligned. */
__device__ inline void ya_load8(float f[8], const __nv_bfloat16 *p) { ya_unpack8(f, ya_ld16(p)); }

/* p[0..7] = f[0..7] rounded to bf16 (nearest even, as __float2bfloat16); p 16-byte aligned. */
__device__ inline void ya_store8(__nv_bfloat16 *p, const float f[8]) {
    YaBf16x8 v;
#pragma unroll
    for (int k = 0; k < 8; k++) v.s[k] = __bfloat16_as_ushort(__float2bfloat16(f[k]));
    *reinterpret_cast<uint4 *>(p) = v.u;
}

/* f[0..7] = p[0..7]; p 16-byte aligned (two float4 loads). */
__device__ inline void ya_load8_f32(float f[8], const float *p) {
    float4 a = reinterpret_cast<const float4 *>(p)[0], b = reinterpret_cast<const float4 *>(p)[1];
    f[0] = a.x, f[1] = a.y, f[2] = a.z, f[3] = a.w, f[4] = b.x, f[5] = b.y, f[6] = b.z, f[7] = b.w;
}

#endif
